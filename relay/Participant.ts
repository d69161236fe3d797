/**
 * A participant in a meeting: who they are, what they publish, what they paused, their chat sequence.
 * Owned by its {@link Room}; it outlives connections. When its connection drops it is *held* (it has no
 * connection, the others still see it) until its client comes back with the resume token, which
 * {@link Participant.attach}es the new connection, or the hold runs out.
 * @module
 */
import type { LanError } from '../sdk/errors.js';
import { TypedEmitter } from '../sdk/TypedEmitter.js';
import { idToBytes, type Codec, type ParticipantInfo, type RelayMessage } from '../sdk/protocol/index.js';
import type { Connection, ForwardedFrame } from './Connection.js';
import type { RelayTrack } from './Room.js';
import type { Room } from './Room.js';

/** Counters of one participant over all its connections, for tests, the bench and the admin. */
export interface ParticipantStats {
  /** Whole frames received from it. */
  framesIn: number;
  /** Frames sent to it. */
  framesOut: number;
  bytesOut: number;
  /** Video frames not sent to it because it was behind (then until the next key frame). */
  videoDropped: number;
  /** Media packets it sent that named another sender. */
  forgedDropped: number;
  /** Video frames dropped on arrival because they had queued too long on the way (see docs/architecture.md). */
  staleDropped: number;
  /** UDP frames dropped in reassembly: incomplete in time, inconsistent, over a limit, or evicted to stay in budget. */
  reassemblyDropped: number;
}

/** What a participant tells: a connection taken (resumed, or the first) and one lost (held or leaving). */
export type ParticipantEvents = {
  attached: [connection: Connection];
  detached: [connection: Connection, reason: string];
};

/** The participant's part of the relay's limits. @internal */
export interface ParticipantLimits {
  readonly maxChatPerSecond: number;
}

/** Hand toggles and reactions a participant may send at once (then one a second). */
const GESTURE_BURST = 5;

/** Chat acks remembered per participant, so a resend is acked again without a lookup. */
const CHAT_ACKS_KEPT = 256;

/**
 * One participant. The relay makes it when a connection joins; its room keeps it until it leaves.
 */
export class Participant extends TypedEmitter<ParticipantEvents> {
  readonly id: string;
  /** The id as the 8 bytes of a media header's sender field. @internal */
  readonly idBytes: Uint8Array;
  readonly name: string;
  #role: 'host' | 'guest';
  readonly joinedAt: number;
  readonly room: Room;
  readonly stats: ParticipantStats;
  readonly #limits: ParticipantLimits;
  readonly #tracks = new Map<string, RelayTrack>();
  readonly #paused = new Set<string>();
  /** Set by {@link Participant.attach}, with its first connection. */
  #decode: Codec[] = [];
  #connection: Connection | undefined;
  /** UDP frames dropped in reassembly on its earlier connections. */
  #reassemblyDroppedEarlier = 0;
  #lastChatSeq = -1;
  readonly #chatAcks = new Map<number, string>();
  #chatTokens: number;
  #chatRefill = Date.now();
  /** Hand toggles and reactions: one a second, bursts of five. */
  #gestureTokens = GESTURE_BURST;
  #gestureRefill = Date.now();

  /** @internal */
  constructor(init: { id: string; name: string; role: 'host' | 'guest'; room: Room; limits: ParticipantLimits }) {
    super();
    this.id = init.id;
    this.idBytes = idToBytes(init.id);
    this.name = init.name;
    this.#role = init.role;
    this.room = init.room;
    this.joinedAt = Date.now();
    this.#limits = init.limits;
    this.#chatTokens = init.limits.maxChatPerSecond * 2;
    const reassemblyDropped = () => this.#reassemblyDroppedEarlier + (this.#connection?.reassemblyDropped ?? 0);
    this.stats = {
      framesIn: 0, framesOut: 0, bytesOut: 0, videoDropped: 0, forgedDropped: 0, staleDropped: 0,
      get reassemblyDropped() {
        return reassemblyDropped();
      },
    };
  }

  /** `host` (may run the meeting: docs/protocol.md, "Host actions") or `guest`. */
  get role(): 'host' | 'guest' {
    return this.#role;
  }

  /** Makes it a host or a guest (its room announces it). @internal */
  setRole(role: 'host' | 'guest'): void {
    this.#role = role;
  }

  /** Its connection now; `undefined` while held for a resume (or once it left). */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /** `true` while its connection is gone and it waits for a resume. */
  get held(): boolean {
    return this.#connection === undefined;
  }

  /** Codecs its current client decodes. */
  get decode(): readonly Codec[] {
    return this.#decode;
  }

  /** Its tracks by id. */
  get tracks(): ReadonlyMap<string, RelayTrack> {
    return this.#tracks;
  }

  /** Others' tracks it paused (`subscription`): none of their frames are sent to it. */
  get paused(): ReadonlySet<string> {
    return this.#paused;
  }

  /** The sequence number of the last chat message it sent that was delivered (−1 before the first). */
  get lastChatSeq(): number {
    return this.#lastChatSeq;
  }

  /**
   * Takes `connection` as its own (the first one, or a reconnect that resumed), with the codecs that
   * client decodes. Media the previous connection was in the middle of receiving is not carried over.
   * @internal
   */
  attach(connection: Connection, decode: Codec[]): void {
    this.#connection = connection;
    this.#decode = decode;
    this.emit('attached', connection);
  }

  /** Lets go of `connection` (it closed): the participant is held, or leaves if the room removes it. @internal */
  detach(connection: Connection, reason: string): void {
    if (this.#connection !== connection) return;
    this.#reassemblyDroppedEarlier += connection.reassemblyDropped;
    this.#connection = undefined;
    this.emit('detached', connection, reason);
  }

  /** Adds a track it published. @internal */
  addTrack(track: RelayTrack): void {
    this.#tracks.set(track.id, track);
  }

  /** Removes one of its tracks; `false` when it has none of that id. @internal */
  removeTrack(trackId: string): boolean {
    return this.#tracks.delete(trackId);
  }

  /** Removes all its tracks (it left). @internal */
  clearTracks(): void {
    this.#tracks.clear();
  }

  /** Pauses (`true`) or resumes someone else's track for it; `false` when that changed nothing. @internal */
  setPaused(trackId: string, paused: boolean): boolean {
    if (paused === this.#paused.has(trackId)) return false;
    if (paused) this.#paused.add(trackId);
    else this.#paused.delete(trackId);
    return true;
  }

  /** Takes one chat message from its budget (`maxChatPerSecond`, bursts of twice that). @internal */
  allowChat(): boolean {
    const now = Date.now();
    const rate = this.#limits.maxChatPerSecond;
    this.#chatTokens = Math.min(rate * 2, this.#chatTokens + ((now - this.#chatRefill) / 1000) * rate);
    this.#chatRefill = now;
    if (this.#chatTokens < 1) return false;
    this.#chatTokens -= 1;
    return true;
  }

  /** Takes one hand toggle or reaction from its budget (one a second, bursts of five). @internal */
  allowGesture(): boolean {
    const now = Date.now();
    this.#gestureTokens = Math.min(GESTURE_BURST, this.#gestureTokens + (now - this.#gestureRefill) / 1000);
    this.#gestureRefill = now;
    if (this.#gestureTokens < 1) return false;
    this.#gestureTokens -= 1;
    return true;
  }

  /** Records that its chat message `seq` was delivered as `id`. @internal */
  chatDelivered(seq: number, id: string): void {
    this.#lastChatSeq = seq;
    this.#chatAcks.set(seq, id);
    if (this.#chatAcks.size > CHAT_ACKS_KEPT) this.#chatAcks.delete(this.#chatAcks.keys().next().value as number);
  }

  /** The id its chat message `seq` was delivered as, when it is among the last ones remembered. @internal */
  recentChatId(seq: number): string | undefined {
    return this.#chatAcks.get(seq);
  }

  /** The participant as described on the wire. */
  info(): ParticipantInfo {
    return {
      id: this.id, name: this.name, role: this.role, joinedAt: this.joinedAt, decode: [...this.#decode],
      tracks: [...this.#tracks.values()].map(trackInfo),
    };
  }

  /** Sends a control message to its connection; a held participant gets nothing (its welcome will tell). @internal */
  send(message: RelayMessage): void {
    this.#connection?.send(message);
  }

  /** Sends an `error` to its connection. @internal */
  sendError(error: LanError, options: { requestId?: string; fatal?: boolean } = {}): void {
    this.#connection?.sendError(error, options);
  }

  /** Sends one frame of someone else's track, by its connection's send policy, and counts what became of it. @internal */
  sendMedia(frame: ForwardedFrame): void {
    const outcome = this.#connection?.sendMedia(frame);
    if (outcome === 'dropped') this.stats.videoDropped++;
    else if (outcome === 'sent') {
      this.stats.framesOut++;
      this.stats.bytesOut += frame.bytes.byteLength;
    }
  }

  /** Counts what its connection saw of it: frames in, forgeries and stale frames dropped, bytes out. @internal */
  count(stat: 'framesIn' | 'forgedDropped' | 'staleDropped' | 'bytesOut', n = 1): void {
    this.stats[stat] += n;
  }
}

/** A track as described on the wire. */
export function trackInfo(track: RelayTrack): import('../sdk/protocol/index.js').TrackInfo {
  return { id: track.id, participantId: track.owner.id, kind: track.kind, codec: track.codec, muted: track.muted };
}
