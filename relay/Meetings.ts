/**
 * The meetings in progress and how connections get into them: the passcode (with its guessing
 * limits), a join that makes a {@link Participant} in a {@link Room}, a resume that gives a held
 * participant its new connection, the `welcome`, and what happens when a connection closes (held for a
 * resume, or gone).
 * @module
 * @internal
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ErrorCode, RelayError } from '../sdk/errors.js';
import { PEER_TIMEOUT_MS, PING_INTERVAL_MS, PROTOCOL_VERSION, randomId, randomToken, type ClientMessageOf, type Limits } from '../sdk/protocol/index.js';
import { AttemptLimiter, type AttemptLimits } from './AttemptLimiter.js';
import type { Connection } from './Connection.js';
import type { FileService } from './files/FileService.js';
import { Participant } from './Participant.js';
import { Room, type RoomHost } from './Room.js';
import type { Store } from './store/Store.js';
import type { UdpEndpoint } from './UdpEndpoint.js';
import type { LogFields, RelayLog } from './options.js';

/** What the meetings need of the relay. @internal */
export interface MeetingsHost {
  readonly limits: Limits;
  readonly passcode: string | undefined;
  readonly hostKey: string | undefined;
  readonly passcodeAttempts: Partial<AttemptLimits> | undefined;
  /** How long a participant whose connection dropped is held for a resume (ms); 0: not at all. */
  readonly resumeGraceMs: number;
  /** A joined client that sends nothing for this long is timed out (ms); pings are asked for well within it. */
  readonly peerTimeoutMs: number;
  /** UDP payload size for native subscribers that do not choose one. */
  readonly udpPayloadSize: number | undefined;
  readonly udp: UdpEndpoint;
  readonly files: FileService | undefined;
  readonly store: Store | undefined;
  readonly roomHost: RoomHost;
  /** `true` once the relay is closing: nobody is held any more. */
  readonly closing: boolean;
  log: RelayLog;
  joined(meeting: string, participantId: string, name: string): void;
  left(meeting: string, participantId: string, reason: string): void;
}

/** The rooms, the participants held for a resume, and admission. @internal */
export class Meetings {
  readonly #host: MeetingsHost;
  readonly #rooms = new Map<string, Room>();
  /** Wrong passcodes per source address. */
  readonly #attempts: AttemptLimiter;
  /** Joined participants (those held for a resume included) by their current resume token. */
  readonly #byResumeToken = new Map<string, Participant>();
  readonly #resumeToken = new WeakMap<Participant, string>();
  /** Participants whose connection dropped, held for a resume: until when (ms). */
  readonly #held = new Map<Participant, number>();

  constructor(host: MeetingsHost) {
    this.#host = host;
    this.#attempts = new AttemptLimiter(host.passcodeAttempts);
  }

  /** Meetings in progress, by meeting id. */
  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
  }

  /** A room emptied: it goes. */
  roomEmpty(room: Room): void {
    if (this.#rooms.get(room.id) === room) this.#rooms.delete(room.id);
  }

  /** Handles `join` on a connection that has not joined: passcode, then a resume or a new participant. */
  join(connection: Connection, message: ClientMessageOf<'join'>): void {
    const passcode = this.#host.passcode;
    if (passcode !== undefined && !this.#checkSecret('passcode', passcode, message.passcode, connection, message.meeting)) return;
    // A host key, when given, must be the relay's: it makes the joiner a host whoever came first.
    if (message.hostKey !== undefined) {
      const hostKey = this.#host.hostKey;
      if (hostKey === undefined) {
        connection.sendError(new RelayError(ErrorCode.Forbidden, 'this relay has no host key'), { fatal: true });
        return;
      }
      if (!this.#checkSecret('host key', hostKey, message.hostKey, connection, message.meeting)) return;
    }
    if (message.transport !== connection.link.transport) {
      connection.sendError(new RelayError(ErrorCode.InvalidMessage, `join says transport "${message.transport}" on a ${connection.link.transport} connection`), { fatal: true });
      return;
    }
    const previous = message.resume !== undefined ? this.#byResumeToken.get(message.resume) : undefined;
    if (previous && previous.room.id === message.meeting && previous.room.participants.get(previous.id) === previous) {
      // Held after a drop, or still thought alive (the client saw the drop first): the new connection takes over.
      this.#resume(connection, previous, message);
      return;
    }
    const limits = this.#host.limits;
    let room = this.#rooms.get(message.meeting);
    if (room?.blocks(connection.link.remoteAddress)) {
      connection.sendError(new RelayError(ErrorCode.Removed, `a host removed this computer from "${message.meeting}"`), { fatal: true });
      return;
    }
    if (room?.locked && message.hostKey === undefined) {
      connection.sendError(new RelayError(ErrorCode.Locked, `meeting "${message.meeting}" is locked: a host must unlock it before anyone new can join`), { fatal: true });
      return;
    }
    if (room && room.participants.size >= limits.maxParticipants) {
      connection.sendError(new RelayError(ErrorCode.RoomFull, `meeting "${message.meeting}" is full (${limits.maxParticipants} participants)`), { fatal: true });
      return;
    }
    if (!room) {
      this.#rooms.set(message.meeting, (room = new Room(message.meeting, this.#host.roomHost)));
      this.#host.store?.meetingActive(room.id);
    }
    const participant = new Participant({
      id: randomId(), name: message.name, role: room.participants.size === 0 || message.hostKey !== undefined ? 'host' : 'guest', room,
      limits,
    });
    participant.attach(connection, [...new Set(message.decode)]);
    connection.joined(participant);
    this.#welcome(connection, participant, message, false);
    room.add(participant);
    this.#host.log('info', `${participant.name} (${participant.id}) joined "${room.id}" over ${connection.link.transport} from ${connection.link.remoteAddress}`, who(connection));
    this.#host.joined(room.id, participant.id, participant.name);
  }

  /** A connection closed: its participant is held for a resume when the network dropped it, else it leaves. */
  connectionClosed(connection: Connection): void {
    this.#host.udp.forget(connection);
    this.#host.files?.peerGone(connection);
    const participant = connection.participant;
    if (!participant || participant.connection !== connection) return;
    const reason = connection.closeReason;
    participant.detach(connection, reason);
    if (participant.room.participants.get(participant.id) !== participant) return;
    const grace = this.#host.resumeGraceMs;
    const dropped = reason === 'disconnected' || reason === ErrorCode.Timeout;
    if (dropped && grace > 0 && !this.#host.closing) {
      // Held: the others keep seeing the participant; its client may come back with the resume token.
      this.#held.set(participant, Date.now() + grace);
      this.#host.log('info', `${participant.name} (${participant.id}) lost its connection to "${participant.room.id}"; held ${grace} ms for a reconnect`, who(connection));
      return;
    }
    this.#leave(participant, reason, connection);
  }

  /**
   * Takes `participant` out for good on a host's word (`reason`: LAN_ERR_REMOVED, LAN_ERR_ENDED): its
   * connection is told and closed, and it leaves (a held one leaves at once).
   */
  expel(participant: Participant, reason: ErrorCode, message: string): void {
    this.#held.delete(participant);
    const connection = participant.connection;
    if (connection && !connection.closed) connection.sendError(new RelayError(reason, message), { fatal: true });
    // A fatal error closes the connection, and connectionClosed makes it leave; a held one has no connection.
    if (participant.room.participants.get(participant.id) === participant) this.#leave(participant, reason, connection);
  }

  /** Lets go of participants held past their grace. */
  sweep(now: number): void {
    for (const [participant, until] of [...this.#held]) {
      if (now < until) continue;
      this.#held.delete(participant);
      this.#leave(participant, 'disconnected');
    }
  }

  /** The relay is closing: every room tells its participants and closes their connections. */
  close(reason: string): void {
    this.#held.clear();
    for (const room of [...this.#rooms.values()]) room.close(reason);
  }

  /**
   * Checks a secret a join gives (`given`) against `expected`, slowing down guessing per source address: an
   * address that must wait is refused (LAN_ERR_RATE_LIMITED, with the wait) without its secret being looked at,
   * and each wrong one is logged with the address, the meeting and the count. `true` when it may go on.
   */
  #checkSecret(what: 'passcode' | 'host key', expected: string, given: string | undefined, connection: Connection, meeting: string): boolean {
    const address = connection.link.remoteAddress;
    const now = Date.now();
    const wait = this.#attempts.wait(address, now);
    if (wait > 0) {
      connection.sendError(new RelayError(ErrorCode.RateLimited, `too many wrong ${what}s from ${address}: try again in ${Math.ceil(wait / 1000)} s`), { fatal: true });
      return false;
    }
    if (sameSecret(expected, given ?? '')) {
      this.#attempts.succeeded(address);
      return true;
    }
    const { failures, waitMs } = this.#attempts.failed(address, now);
    this.#host.log('warn', `wrong ${what} from ${address} for "${meeting}" (${failures} in a row${waitMs ? `; next try in ${Math.ceil(waitMs / 1000)} s` : ''})`, { address, meeting });
    const why = given ? `wrong ${what}` : `this relay needs a ${what}`;
    const code = what === 'passcode' ? ErrorCode.BadPasscode : ErrorCode.Forbidden;
    connection.sendError(new RelayError(code, waitMs ? `${why}; try again in ${Math.ceil(waitMs / 1000)} s` : why), { fatal: true });
    return false;
  }

  /** Sends `welcome`: UDP binding for native clients, the others, chat history, files, a resume token. */
  #welcome(connection: Connection, participant: Participant, message: ClientMessageOf<'join'>, resumed: boolean): void {
    const udp = connection.link.transport === 'native'
      ? this.#host.udp.offer(connection, message.udp?.payloadSize ?? this.#host.udpPayloadSize) : undefined;
    const old = this.#resumeToken.get(participant);
    if (old) this.#byResumeToken.delete(old);
    const resumeToken = randomToken(24);
    this.#resumeToken.set(participant, resumeToken);
    this.#byResumeToken.set(resumeToken, participant);
    const room = participant.room;
    const others = [...room.participants.values()].filter((p) => p !== participant).map((p) => p.info());
    connection.send({
      type: 'welcome', v: PROTOCOL_VERSION, meeting: room.id, you: participant.info(), participants: others,
      chat: room.chatLog, resumeToken, ...(resumed ? { resumed: true } : {}),
      files: this.#host.files?.list(room.id) ?? [], ...(udp ? { udp } : {}), limits: this.#host.limits, serverTime: Date.now(),
      // Three pings fit in the silence a client is allowed, so one lost or late ping never removes it.
      pingIntervalMs: Math.max(100, Math.min(PING_INTERVAL_MS, Math.floor(this.#host.peerTimeoutMs / 3))),
      ...(room.locked ? { locked: true } : {}),
      ...(room.hands.length ? { hands: room.hands.map((p) => p.id) } : {}),
      ...(room.unmuteRestricted ? { unmuteRestricted: true } : {}),
    });
  }

  /** A reconnecting client takes back its participant: same id and tracks; the others see nothing. */
  #resume(connection: Connection, participant: Participant, message: ClientMessageOf<'join'>): void {
    this.#held.delete(participant);
    const old = participant.connection;
    participant.attach(connection, [...new Set(message.decode)]);
    connection.joined(participant);
    this.#welcome(connection, participant, message, true);
    participant.room.resumed(participant);
    // An old connection still open is dropped now; being replaced, it leaves nothing behind.
    if (old && !old.closed) old.close('goingAway', 'replaced');
    this.#host.log('info', `${participant.name} (${participant.id}) is back in "${participant.room.id}" over ${connection.link.transport} from ${connection.link.remoteAddress}`, who(connection));
  }

  #leave(participant: Participant, reason: string, connection?: Connection): void {
    const room = participant.room;
    const token = this.#resumeToken.get(participant);
    if (token) this.#byResumeToken.delete(token);
    room.remove(participant, reason);
    this.#host.files?.participantLeft(room.id, participant.id);
    this.#host.log('info', `${participant.name} (${participant.id}) left "${room.id}" (${reason})`, {
      meeting: room.id, participant: participant.id, name: participant.name, ...(connection ? { address: connection.link.remoteAddress } : {}),
    });
    this.#host.left(room.id, participant.id, reason);
  }
}

/** The log fields of a connection's participant. */
export function who(connection: Connection): LogFields {
  return { meeting: connection.meeting, participant: connection.id, name: connection.name, address: connection.link.remoteAddress };
}

function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The default silence allowed of a joined client (ms). */
export const DEFAULT_PEER_TIMEOUT_MS = PEER_TIMEOUT_MS;
