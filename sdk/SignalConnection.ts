/**
 * A session's signalling connection: the join handshake, pings and liveness, and getting the connection
 * back after a drop (a resume as the same participant). The meeting model is {@link Session}'s; it owns
 * one of these and hears from it through typed events.
 * @module
 * @internal
 */
import { Backoff } from './backoff.js';
import { ConnectionError, ErrorCode, LanError, RelayError, isErrorCode } from './errors.js';
import {
  CODECS, PING_INTERVAL_MS, PEER_TIMEOUT_MS, type ClientMessage, type MediaPacket, type RelayMessage, type RelayMessageOf,
} from './protocol/index.js';
import type { JoinOptions } from './Session.js';
import type { Transport, TransportEvents, TransportKind } from './transport/Transport.js';
import { TypedEmitter } from './TypedEmitter.js';

/** What the signalling connection reads of the join options. */
export type SignalOptions = Pick<JoinOptions, 'meeting' | 'name' | 'passcode' | 'hostKey' | 'decode' | 'timeoutMs' | 'signal' | 'reconnectTimeoutMs'>;

/** The relay's answer to a `join`. */
export type Welcome = RelayMessageOf<'welcome'>;

/** What arrived after `welcome`, before the transport was handed over: replayed in order. */
type Early = Array<{ control: RelayMessage } | { media: MediaPacket } | { file: Uint8Array }>;

/** What a successful join gives. */
interface Joined {
  transport: Transport;
  welcome: Welcome;
  early: Early;
}

/**
 * Events of a {@link SignalConnection}: what the current transport receives (`control`, `media`, `file`,
 * `protocolError`), and the connection's own life. A resume comes as `reconnecting`, then `resuming`, what
 * the relay sent after its new welcome, and `resumed`; or as `closed`.
 */
export type SignalEvents = Pick<TransportEvents, 'control' | 'media' | 'file' | 'protocolError'> & {
  /** Each ping interval while connected, once the ping is out: housekeeping on the same beat. */
  heartbeat: [];
  /** The connection dropped and is being got back: nothing can be sent meanwhile. */
  reconnecting: [cause: LanError];
  /**
   * Back in as the same participant: catch up on the new `welcome` here (sending works again). What the
   * relay sent after it follows as events, then `resumed`.
   */
  resuming: [welcome: Welcome];
  /** The resume is done: the connection is live and pinging again. */
  resumed: [welcome: Welcome];
  /** The connection is gone for good; `error` says why when it was not a leave. */
  closed: [error: LanError | undefined];
};

/** Error codes after which reconnecting is pointless: the relay refused this client, not the network. */
const FINAL_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCode.BadPasscode, ErrorCode.RoomFull, ErrorCode.BadVersion, ErrorCode.InvalidMessage, ErrorCode.UnknownType,
  ErrorCode.BadJson, ErrorCode.NotJoined, ErrorCode.AlreadyJoined, ErrorCode.ForgedSender, ErrorCode.RateLimited,
  ErrorCode.TooLarge, ErrorCode.SlowConsumer,
  // A host's decision: removed, the meeting ended or locked against newcomers.
  ErrorCode.Removed, ErrorCode.Ended, ErrorCode.Locked,
  // A relay shutting down forgets its participants: there is nothing to resume (`lanconf-relay join` joins anew).
  ErrorCode.Shutdown,
]);

/**
 * Connects a new transport from `connect`, joins (or, with `resume`, takes back a participant), and
 * resolves once the relay welcomed it.
 */
async function handshake(connect: () => Transport, options: SignalOptions, resume: string | undefined,
  timeoutMs: number, signal?: AbortSignal): Promise<Joined> {
  const transport = connect();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(ConnectionError.timeout('joining the meeting', timeoutMs)), timeoutMs);
  const onAbort = () => controller.abort(signal?.reason ?? ConnectionError.closed('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await transport.connect(controller.signal);
    // What arrives after `welcome` and before the session takes the transport (in the same read as
    // `welcome`, or while a native client binds UDP) is kept for the session, in order.
    const early: Early = [];
    const keepControl = (message: RelayMessage) => early.push({ control: message });
    const keepMedia = (packet: MediaPacket) => early.push({ media: packet });
    const keepFile = (bytes: Uint8Array) => early.push({ file: bytes });
    const welcome = await new Promise<Welcome>((resolve, reject) => {
      const cleanup = () => {
        transport.off('control', onControl);
        transport.off('closed', onClosed);
        controller.signal.removeEventListener('abort', onAbortJoin);
      };
      const onControl = (message: RelayMessage) => {
        if (message.type === 'welcome') {
          cleanup();
          transport.on('control', keepControl).on('media', keepMedia).on('file', keepFile);
          resolve(message);
        } else if (message.type === 'error') {
          cleanup();
          reject(new RelayError(isErrorCode(message.code) ? message.code : ErrorCode.Internal, message.message));
        }
      };
      const onClosed = (error: LanError | undefined) => {
        cleanup();
        reject(error ?? ConnectionError.closed('the relay closed the connection before welcoming us'));
      };
      const onAbortJoin = () => {
        cleanup();
        reject(controller.signal.reason);
      };
      transport.on('control', onControl);
      transport.on('closed', onClosed);
      controller.signal.addEventListener('abort', onAbortJoin, { once: true });
      transport.sendControl({
        type: 'join', v: 1, meeting: options.meeting, name: options.name, transport: transport.kind,
        decode: options.decode ?? [...CODECS], ...(options.passcode !== undefined ? { passcode: options.passcode } : {}),
        ...(options.hostKey !== undefined ? { hostKey: options.hostKey } : {}),
        ...(resume !== undefined ? { resume } : {}),
        ...transport.joinExtras(),
      });
    });
    let lost: LanError | undefined;
    const onLost = (error: LanError | undefined) => {
      lost = error ?? ConnectionError.closed('the connection closed while joining');
    };
    transport.on('closed', onLost);
    try {
      await transport.ready(welcome);
    } finally {
      transport.off('control', keepControl).off('media', keepMedia).off('file', keepFile).off('closed', onLost);
    }
    if (controller.signal.aborted) throw controller.signal.reason;
    if (lost) throw lost;
    return { transport, welcome, early };
  } catch (error) {
    transport.close();
    throw error;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The link to the relay under a session: one transport at a time, pinged, watched for silence, and
 * replaced after a drop by a new one that resumes the same participant. Sending is the owner's to gate:
 * what is sent goes to the current transport.
 */
export class SignalConnection extends TypedEmitter<SignalEvents> {
  #transport: Transport;
  #welcome: Welcome;
  #early: Early;
  readonly #connect: () => Transport;
  readonly #options: SignalOptions;
  readonly #participantId: string;
  #state: 'connected' | 'reconnecting' | 'closed' = 'connected';
  #leaving = false;
  #lastHeard = Date.now();
  #ping: ReturnType<typeof setInterval> | undefined;
  /** Aborted as the connection stops: ends a reconnection's pause at once. */
  readonly #closing = new AbortController();

  /**
   * Joins with a transport made by `connect` and resolves once the relay welcomed this client; `connect`
   * is called again for each reconnection attempt.
   */
  static async join(connect: () => Transport, options: SignalOptions): Promise<SignalConnection> {
    return new SignalConnection(await handshake(connect, options, undefined, options.timeoutMs ?? 10_000, options.signal), connect, options);
  }

  private constructor(joined: Joined, connect: () => Transport, options: SignalOptions) {
    super();
    this.#transport = joined.transport;
    this.#welcome = joined.welcome;
    this.#early = joined.early;
    this.#connect = connect;
    this.#options = options;
    this.#participantId = joined.welcome.you.id;
  }

  /** The relay's latest `welcome`: the join's, then each resume's. */
  get welcome(): Welcome {
    return this.#welcome;
  }

  /** Which wire the current transport is. */
  get kind(): TransportKind {
    return this.#transport.kind;
  }

  /** Replays what came with the welcome as events, then takes the transport's own, and starts pinging. */
  start(): void {
    const early = this.#early;
    this.#early = [];
    this.#attach(this.#transport, early);
    this.#startPing();
  }

  /** Sends a control message on the current transport. */
  send(message: ClientMessage): void {
    this.#transport.sendControl(message);
  }

  /** Sends a media packet on the current transport; `false` when a video frame was dropped. */
  sendMedia(packet: Uint8Array, droppable: boolean): boolean {
    return this.#transport.sendMedia(packet, droppable);
  }

  /** Sends a file chunk packet on the current transport. */
  sendFile(header: Uint8Array, data: Uint8Array): void {
    this.#transport.sendFile(header, data);
  }

  /** Says `leave` and closes the transport; `closed` follows, with no error. */
  leave(): void {
    this.#leaving = true;
    this.#transport.sendControl({ type: 'leave' });
    this.#transport.close();
  }

  /**
   * The connection is lost for `error` (a fatal error the relay sent, or its silence): reconnects or
   * closes as after a drop, the relay's reason first (the transport's own close event carries none).
   */
  drop(error: LanError): void {
    const transport = this.#transport;
    this.#onClosed(error);
    transport.close();
  }

  /** Stops pinging and reconnecting (a pause under way ends at once). Idempotent; emits nothing. */
  stop(): void {
    this.#state = 'closed';
    this.#closing.abort();
    clearInterval(this.#ping);
  }

  #attach(transport: Transport, early: Early): void {
    for (const item of early) {
      if ('control' in item) this.emit('control', item.control);
      else if ('media' in item) this.emit('media', item.media);
      else this.emit('file', item.file);
    }
    const heard = () => {
      if (transport !== this.#transport) return false;
      this.#lastHeard = Date.now();
      return true;
    };
    transport.on('control', (message) => heard() && this.emit('control', message));
    transport.on('media', (packet) => heard() && this.emit('media', packet));
    transport.on('file', (bytes) => heard() && this.emit('file', bytes));
    transport.on('protocolError', (error) => transport === this.#transport && this.emit('protocolError', error));
    transport.on('closed', (error) => transport === this.#transport && this.#onClosed(error));
  }

  #startPing(): void {
    clearInterval(this.#ping);
    this.#lastHeard = Date.now();
    this.#ping = setInterval(() => this.#tick(), this.#welcome.pingIntervalMs ?? PING_INTERVAL_MS);
    (this.#ping as { unref?: () => void }).unref?.();
  }

  #tick(): void {
    if (this.#state !== 'connected') return;
    if (Date.now() - this.#lastHeard > PEER_TIMEOUT_MS + PING_INTERVAL_MS) {
      this.drop(ConnectionError.timeout('hearing from the relay', PEER_TIMEOUT_MS));
      return;
    }
    this.send({ type: 'ping', t: Date.now() });
    this.emit('heartbeat');
  }

  /** The connection ended: reconnect when it dropped, else close. */
  #onClosed(error: LanError | undefined): void {
    if (this.#state !== 'connected') return;
    const reconnectMs = this.#options.reconnectTimeoutMs ?? 30_000;
    if (this.#leaving || !error || FINAL_CODES.has(error.code) || reconnectMs <= 0) {
      this.#close(error);
      return;
    }
    void this.#reconnect(error, reconnectMs);
  }

  #close(error: LanError | undefined): void {
    this.stop();
    this.emit('closed', error);
  }

  /**
   * Gets the connection back: new transports until the relay welcomes us again, with the resume token
   * so we stay the same participant, 100 ms after the drop, then pauses doubling up to 2 s. Gives up once
   * the reconnection window (`budgetMs`) has passed, or at once on a refusal that will not change
   * (`FINAL_CODES`); a `stop()` meanwhile ends it. A relay that no longer knows us (it restarted, or the
   * grace time passed) welcomes a new participant: that one leaves again and the connection closes with the reason.
   */
  async #reconnect(cause: LanError, budgetMs: number): Promise<void> {
    clearInterval(this.#ping);
    this.#state = 'reconnecting';
    this.emit('reconnecting', cause);
    const deadline = Date.now() + budgetMs;
    const backoff = new Backoff({ initialMs: 100, maxMs: 2000, signal: this.#closing.signal });
    let last: LanError = cause;
    while (Date.now() < deadline && this.#state === 'reconnecting' && !this.#leaving) {
      if (!(await backoff.wait()) || this.#state !== 'reconnecting' || this.#leaving) return;
      let joined: Joined;
      try {
        joined = await handshake(this.#connect, this.#options, this.#welcome.resumeToken, Math.min(5000, Math.max(1000, deadline - Date.now())));
      } catch (error) {
        last = error instanceof LanError ? error : ConnectionError.closed(String(error));
        if (FINAL_CODES.has(last.code)) break;
        continue;
      }
      if (this.#state !== 'reconnecting' || this.#leaving) {
        joined.transport.close();
        return;
      }
      if (!joined.welcome.resumed || joined.welcome.you.id !== this.#participantId) {
        joined.transport.sendControl({ type: 'leave' });
        joined.transport.close();
        this.#close(new ConnectionError(ErrorCode.Closed,
          'the relay no longer knows this participant (it restarted, or the connection was gone too long): join again'));
        return;
      }
      this.#resume(joined);
      return;
    }
    if (this.#state === 'reconnecting') this.#close(last);
  }

  /** Back in, as the same participant: the owner catches up, then what came after `welcome` follows. */
  #resume({ transport, welcome, early }: Joined): void {
    this.#transport = transport;
    this.#welcome = welcome;
    this.#state = 'connected';
    this.emit('resuming', welcome);
    this.#attach(transport, early);
    this.#startPing();
    this.emit('resumed', welcome);
  }
}
