/**
 * Host controls (`session.host`): what a host may do to the meeting and its people, and what everyone
 * hears of hosts' actions. The relay checks every action: from a guest it is refused with
 * `LAN_ERR_FORBIDDEN` and nothing changes (docs/protocol.md, `host`).
 * @module
 */
import { ErrorCode, LanError, RelayError, isErrorCode } from './errors.js';
import type { ClientMessage, HostActionName, RelayMessage, TrackKind } from './protocol/index.js';
import type { Role } from './Participant.js';
import type { LocalTrack } from './Track.js';

/** What a host did, as everyone is told. */
export interface HostAction {
  action: HostActionName;
  /** The host's participant id. */
  by: string;
  /** Who it was done to, for `remove`, `mute` and `makeHost`. */
  participantId?: string | undefined;
  /** `mute`: which kind of track. */
  kind?: TrackKind | undefined;
}

/** What the host controls need of their session. @internal */
export interface HostControlsHost {
  send(message: ClientMessage): void;
  /** This session's own tracks, by id. */
  localTracks(): ReadonlyMap<string, LocalTrack>;
  /** Records a participant's new role (this session's own, or a remote one). */
  setRole(participantId: string, role: Role): void;
  emit(event: 'hostAction', action: HostAction): void;
  emit(event: 'roleChanged', participantId: string, role: Role, by: string | undefined): void;
  emit(event: 'mutedByHost', track: LocalTrack, by: string): void;
  emit(event: 'unmuteRequested', kind: TrackKind, by: string): void;
}

/** How long a host request waits for the relay's answer (ms). */
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * A host's actions. Each resolves once the relay has done it (everyone is told with a `hostAction` event
 * first) and rejects with the relay's refusal: `LAN_ERR_FORBIDDEN` for a guest, `LAN_ERR_INVALID_MESSAGE`
 * for someone not in the meeting.
 *
 * @example
 * ```ts
 * session.on('roleChanged', (id, role) => console.log(id, 'is now', role));
 * if (session.local.role === 'host') {
 *   await session.host.lock();                       // nobody new may join
 *   await session.host.mute(someone.id);             // their microphone: they may unmute themselves
 *   await session.host.remove(troll.id, { block: true });
 * }
 * ```
 */
export class HostControls {
  readonly #host: HostControlsHost;
  readonly #pending = new Map<string, { resolve: () => void; reject: (error: LanError) => void; timer: ReturnType<typeof setTimeout> }>();
  #next = 0;

  /** @internal */
  constructor(host: HostControlsHost) {
    this.#host = host;
  }

  /** Locks the meeting: anyone new who tries to join gets `LAN_ERR_LOCKED`. */
  lock(): Promise<void> {
    return this.#act('lock');
  }

  /** Unlocks it. */
  unlock(): Promise<void> {
    return this.#act('unlock');
  }

  /** Removes someone (`LAN_ERR_REMOVED` ends their session); with `block`, their computer may not join this meeting again. */
  remove(participantId: string, options: { block?: boolean } = {}): Promise<void> {
    return this.#act('remove', { participantId, ...(options.block ? { block: true } : {}) });
  }

  /** Mutes someone's microphone (or stops their camera or screen with `kind`); they may turn it back on. */
  mute(participantId: string, kind: TrackKind = 'microphone'): Promise<void> {
    return this.#act('mute', { participantId, kind });
  }

  /** Mutes every microphone but the hosts'. */
  muteAll(): Promise<void> {
    return this.#act('muteAll');
  }

  /** Makes someone a host too. */
  makeHost(participantId: string): Promise<void> {
    return this.#act('makeHost', { participantId });
  }

  /** Stops being a host. When no host is left, the one in the meeting longest becomes host. */
  stepDown(): Promise<void> {
    return this.#act('stepDown');
  }

  /** Asks someone to turn their microphone (or `kind`) back on: a prompt they accept or ignore, never a remote unmute. */
  askToUnmute(participantId: string, kind: TrackKind = 'microphone'): Promise<void> {
    return this.#act('askToUnmute', { participantId, kind });
  }

  /** From now on, what a host muted comes back on only when a host asks (`askToUnmute`). */
  restrictUnmute(): Promise<void> {
    return this.#act('restrictUnmute');
  }

  /** Lets people turn back on what a host muted, by themselves (the default). */
  allowUnmute(): Promise<void> {
    return this.#act('allowUnmute');
  }

  /** Lowers someone's raised hand. */
  lowerHand(participantId: string): Promise<void> {
    return this.#act('lowerHand', { participantId });
  }

  /** Ends the meeting for everyone (`LAN_ERR_ENDED`). */
  end(): Promise<void> {
    return this.#act('end');
  }

  /** A relay message about host actions and roles: handled here (`true`) or not (`false`). @internal */
  handleControl(message: RelayMessage): boolean {
    switch (message.type) {
      case 'hostDone':
        this.#settle(message.requestId);
        return true;
      case 'hostAction':
        this.#host.emit('hostAction', {
          action: message.action, by: message.by,
          ...(message.participantId ? { participantId: message.participantId } : {}), ...(message.kind ? { kind: message.kind } : {}),
        });
        return true;
      case 'unmuteRequested':
        this.#host.emit('unmuteRequested', message.kind, message.by);
        return true;
      case 'roleChanged':
        this.#host.setRole(message.participantId, message.role);
        this.#host.emit('roleChanged', message.participantId, message.role, message.by);
        return true;
      case 'trackMuted': {
        // One of our own tracks, muted by a host: stop sending it here too, and say who did it.
        const track = this.#host.localTracks().get(message.trackId);
        if (!track) return false;
        if (message.muted && message.by && !track.muted) {
          void track.mute();
          this.#host.emit('mutedByHost', track, message.by);
        }
        return true;
      }
      default:
        return false;
    }
  }

  /** The relay refused request `requestId`; `false` when it is not one of ours. @internal */
  handleError(requestId: string, error: LanError): boolean {
    return this.#settle(requestId, error);
  }

  /** Fails every request still waiting (the session closed or its connection dropped). @internal */
  close(error: LanError): void {
    for (const requestId of [...this.#pending.keys()]) this.#settle(requestId, error);
  }

  #act(action: HostActionName, extra: { participantId?: string; kind?: TrackKind; block?: boolean } = {}): Promise<void> {
    const requestId = `host:${++this.#next}`;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => this.#settle(requestId, new RelayError(ErrorCode.Timeout, `the relay did not answer "${action}"`)), REQUEST_TIMEOUT_MS);
      this.#pending.set(requestId, { resolve, reject, timer });
      this.#host.send({ type: 'host', requestId, action, ...extra });
    });
  }

  #settle(requestId: string, error?: LanError): boolean {
    const pending = this.#pending.get(requestId);
    if (!pending) return false;
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    if (error) pending.reject(isErrorCode(error.code) ? error : new RelayError(ErrorCode.Internal, error.message));
    else pending.resolve();
    return true;
  }
}
