/**
 * A session: this client's presence in one meeting.
 * @module
 */
import { Backoff } from './backoff.js';
import { Chat, type ChatMessage } from './Chat.js';
import { Files, type FileEvents } from './Files.js';
import { portableSha256, type Sha256Factory } from './files/sha256.js';
import { ConnectionError, ErrorCode, LanError, RelayError, isErrorCode } from './errors.js';
import { LocalParticipant, RemoteParticipant } from './Participant.js';
import {
  CODECS, PING_INTERVAL_MS, PEER_TIMEOUT_MS, codecFitsKind, randomToken,
  type ClientMessage, type Codec, type Limits, type MediaPacket, type RelayMessage, type RelayMessageOf, type TrackInfo, type TrackKind,
} from './protocol/index.js';
import { LocalTrack, RemoteTrack, type EncodedFrame, type LocalTrackHost, type RemoteFrame, type RemoteTrackHost } from './Track.js';
import { MediaController, type AudioState, type CameraOptions, type MicrophoneOptions, type ScreenOptions } from './media/MediaController.js';
import type { LocalMediaTrack } from './media/LocalMediaTrack.js';
import type { MediaFallbacks } from './media/types.js';
import type { Transport, TransportKind } from './transport/Transport.js';
import { TypedEmitter } from './TypedEmitter.js';
import { relayUrls } from './url.js';

/**
 * The life of a session. `reconnecting`: the connection dropped and the session is getting it back
 * (same participant, tracks, chat and transfers) — media pauses, chat and files wait.
 */
export type SessionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Events of a {@link Session}. */
export type SessionEvents = {
  participantJoined: [participant: RemoteParticipant];
  participantLeft: [participant: RemoteParticipant, reason: string];
  /**
   * A remote track was published — or was already in the meeting when it was joined: those are in `tracks`
   * as `joinMeeting` resolves and are announced too, on the next turn, so a listener added right after
   * `await joinMeeting(…)` sees every track and gets all its frames (people already there get no
   * `participantJoined`; they are in `participants`).
   *
   * @example
   * ```ts
   * const s = await joinMeeting({ url, meeting: 'Room1', name: 'Ana' });
   * s.on('trackPublished', (track) => track.on('frame', (f) => console.log(track.kind, f.data.byteLength)));
   * ```
   */
  trackPublished: [track: RemoteTrack, participant: RemoteParticipant];
  trackUnpublished: [track: RemoteTrack, participant: RemoteParticipant];
  trackMuted: [track: RemoteTrack, muted: boolean];
  /**
   * One of your own tracks was published, by your code or by an element such as `<lan-controls>`
   * (it is in `local.tracks`; its mute state and end come as events of the track).
   */
  localTrackPublished: [track: LocalTrack];
  /** One of your own tracks was unpublished (by you, by the browser ending the capture, or as the session closed). */
  localTrackUnpublished: [track: LocalTrack];
  /** A chat message, from anyone (yours included), in relay order. */
  chat: [message: ChatMessage];
  stateChanged: [state: SessionState, previous: SessionState];
  /** The session ended; `error` says why when you did not call `leave()`. */
  disconnected: [error: LanError | undefined];
  /** A non-fatal error the relay reported (rate limit…) or a packet from the relay that could not be decoded. */
  error: [error: LanError];
  /** The participant speaking now changed (`undefined`: nobody); your own id when it is you. */
  activeSpeaker: [participantId: string | undefined];
  /** Remote audio: `blocked` means the browser waits for a user gesture: call `startAudio()` from one. */
  audioStateChanged: [state: AudioState];
} & FileEvents;

/** Options of `publish`. */
export interface PublishOptions {
  kind: TrackKind;
  codec: Codec;
  /** Start muted. */
  muted?: boolean;
  /** A source of encoded frames; the track sends each one until the source ends or the track is unpublished. */
  frames?: AsyncIterable<EncodedFrame> | Iterable<EncodedFrame>;
}

/** Options every `joinMeeting` takes. */
export interface JoinOptions {
  /** The relay's base URL: `ws://`, `wss://`, `http://` or `https://` host and port. */
  url: string | URL;
  /** Meeting id: 1–64 letters, digits, spaces or `_ . -`. */
  meeting: string;
  /** Display name, 1–64 characters. */
  name: string;
  /** The relay's passcode, if it has one. */
  passcode?: string;
  /** Codecs this client can decode (told to publishers). Default: every codec. */
  decode?: Codec[];
  /** Give up joining after this long (ms). Default 10000. */
  timeoutMs?: number;
  /** Abort the join. */
  signal?: AbortSignal;
  /**
   * Browser media: force the fallbacks a browser without WebCodecs or `MediaStreamTrackProcessor` would
   * use (JPEG video, PCM audio, canvas capture). For testing them; the defaults pick the best available.
   */
  fallbacks?: MediaFallbacks;
  /**
   * Receive a remote video only while it is shown: a camera or screen track attached to no element
   * (`remoteTrack.attach`) is paused at the relay, which then sends this client none of its frames, and
   * is received again, from a key frame, once attached. Saves the network and the decoding of videos
   * nobody sees (tiles on another page of a grid). Default `true` in a browser (where `attach` exists);
   * set `false` to get every track's `frame` events without attaching it. `remoteTrack.pause()` and
   * `resume()` work either way.
   */
  pauseUnseenVideo?: boolean;
  /**
   * After a dropped connection, keep trying to get back in (as the same participant) for this long (ms)
   * before the session closes. Default 30000; 0 closes at once. A relay that shut down or restarted ends
   * the session: join again.
   */
  reconnectTimeoutMs?: number;
  /** SHA-256 for files (`lanconf/node` plugs in `node:crypto`). @internal */
  sha256?: Sha256Factory;
}

/** What a successful join gives. @internal */
interface Joined {
  transport: Transport;
  welcome: RelayMessageOf<'welcome'>;
  early: Array<{ control: RelayMessage } | { media: MediaPacket } | { file: Uint8Array }>;
}

/**
 * Connects a new transport from `connect`, joins (or, with `resume`, takes back a participant), and
 * resolves once the relay welcomed it.
 */
async function handshake(connect: () => Transport, options: JoinOptions, resume: string | undefined,
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
    const early: Joined['early'] = [];
    const keepControl = (message: RelayMessage) => early.push({ control: message });
    const keepMedia = (packet: MediaPacket) => early.push({ media: packet });
    const keepFile = (bytes: Uint8Array) => early.push({ file: bytes });
    const welcome = await new Promise<RelayMessageOf<'welcome'>>((resolve, reject) => {
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
 * Joins with a transport made by `connect` and returns the session once the relay welcomed it. The
 * session calls `connect` again to reconnect after a dropped connection.
 * @internal
 */
export async function startSession(connect: () => Transport, options: JoinOptions): Promise<Session> {
  if (typeof options.meeting !== 'string' || options.meeting.trim() === '') throw new TypeError('meeting must be a non-empty string');
  if (typeof options.name !== 'string' || options.name.trim() === '') throw new TypeError('name must be a non-empty string');
  const joined = await handshake(connect, options, undefined, options.timeoutMs ?? 10_000, options.signal);
  const session = new Session(joined, connect, options);
  // A meeting with more files than one welcome carries: the rest are paged in before join resolves.
  await session.files.listed.catch(() => undefined);
  return session;
}

/** Error codes after which reconnecting is pointless: the relay refused this client, not the network. */
const FINAL_CODES: ReadonlySet<string> = new Set<string>([
  ErrorCode.BadPasscode, ErrorCode.RoomFull, ErrorCode.BadVersion, ErrorCode.InvalidMessage, ErrorCode.UnknownType,
  ErrorCode.BadJson, ErrorCode.NotJoined, ErrorCode.AlreadyJoined, ErrorCode.ForgedSender, ErrorCode.RateLimited,
  ErrorCode.TooLarge, ErrorCode.SlowConsumer,
  // A relay shutting down forgets its participants: there is nothing to resume (`lanconf-relay join` joins anew).
  ErrorCode.Shutdown,
]);

interface PendingRequest {
  resolve(track: TrackInfo): void;
  reject(error: LanError): void;
}

/** A request the relay does not answer within this time fails (ms). */
const REQUEST_TIMEOUT_MS = 10_000;

/** Frames that arrive before their track's announcement (UDP can overtake TCP) wait this long. */
const EARLY_FRAME_MS = 2000;
const EARLY_FRAME_MAX = 32;

/**
 * This client in one meeting. Made by `joinMeeting`.
 *
 * @example
 * ```ts
 * const s = await joinMeeting({ url: 'ws://127.0.0.1:8787', meeting: 'Room1', name: 'Ana' });
 * s.on('participantJoined', (p) => console.log(`${p.name} joined`));
 * s.on('chat', (m) => console.log(`${m.name}: ${m.text}`));
 * await s.chat.send('hello');
 * await s.leave();
 * ```
 */
export class Session extends TypedEmitter<SessionEvents> {
  /** The meeting id. */
  readonly meeting: string;
  /** This session's participant. */
  readonly local: LocalParticipant;
  /** Group chat. */
  readonly chat: Chat;
  /** Shared files. */
  readonly files: Files;
  /** The relay's limits, as told at join. */
  readonly limits: Limits;
  #transport: Transport;
  readonly #connect: () => Transport;
  readonly #options: JoinOptions;
  #resumeToken: string;
  #pingIntervalMs: number;
  #reconnecting: Promise<void> | undefined;
  readonly #participants = new Map<string, RemoteParticipant>();
  readonly #tracks = new Map<string, RemoteTrack>();
  readonly #requests = new Map<string, PendingRequest>();
  readonly #early = new Map<string, { at: number; sender: string; frames: RemoteFrame[] }>();
  /**
   * Tracks that were in the meeting when it was joined, until they are announced (`trackPublished`, on the
   * next turn after `joinMeeting` resolved); their frames wait here so the listener added then gets them all.
   */
  readonly #unannounced = new Map<string, RemoteFrame[]>();
  readonly #trackHost: LocalTrackHost;
  readonly #remoteTrackHost: RemoteTrackHost;
  readonly #media: MediaController;
  #state: SessionState = 'connecting';
  #lastHeard = Date.now();
  #ping: ReturnType<typeof setInterval> | undefined;
  #leaving: Promise<void> | undefined;
  /** Aborted as the session closes: ends a reconnection's pause at once. */
  readonly #closing = new AbortController();

  /** @internal */
  constructor(joined: Joined, connect: () => Transport, options: JoinOptions) {
    super();
    const { transport, welcome, early } = joined;
    const fallbacks: MediaFallbacks = options.fallbacks ?? {};
    this.#transport = transport;
    this.#connect = connect;
    this.#options = options;
    this.#resumeToken = welcome.resumeToken;
    this.#pingIntervalMs = welcome.pingIntervalMs ?? PING_INTERVAL_MS;
    this.meeting = welcome.meeting;
    this.limits = welcome.limits;
    this.local = new LocalParticipant(welcome.you);
    this.chat = new Chat({
      localId: this.local.id,
      maxChars: welcome.limits.maxChatChars,
      send: (message) => this.#send(message),
      deliver: (message) => this.emit('chat', message),
    }, welcome.chat);
    this.files = new Files({
      localId: () => this.local.id,
      localName: welcome.you.name,
      limits: welcome.limits,
      httpBase: relayUrls(options.url).http,
      sha256: options.sha256 ?? portableSha256,
      connected: () => this.#state === 'connected',
      send: (message) => this.#send(message),
      sendFile: (header, data) => this.#transport.sendFile(header, data),
      emit: (event, ...args) => (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
    }, welcome.files);
    this.#trackHost = {
      senderId: this.local.id,
      sendMedia: (packet, droppable) => this.#state === 'connected' && this.#transport.sendMedia(packet, droppable),
      setMuted: async (track, muted) => this.#send({ type: 'mute', trackId: track.id, muted }),
      unpublish: async (track) => {
        this.local.tracks.delete(track.id);
        track.end();
        this.#send({ type: 'unpublish', trackId: track.id });
      },
    };
    this.#media = new MediaController({
      localId: this.local.id,
      participants: () => this.#participants.values(),
      remoteTracks: () => this.#tracks.values(),
      publishWith: (kind, codec, muted, make) => this.#publishWith(kind, codec, muted, make),
      activeSpeakerChanged: (id) => this.emit('activeSpeaker', id),
      audioStateChanged: (state) => this.emit('audioStateChanged', state),
    }, fallbacks, options.pauseUnseenVideo ?? typeof document !== 'undefined');
    this.#remoteTrackHost = {
      requestKeyFrame: (trackId) => this.#send({ type: 'keyFrameRequest', trackId }),
      setPaused: (trackId, paused) => this.#send({ type: 'subscription', trackId, paused }),
      renderer: (track) => this.#media.renderer(track),
    };
    for (const info of welcome.participants) this.#addParticipant(info, false);
    for (const id of this.#tracks.keys()) this.#unannounced.set(id, []);
    this.#attach(transport, early);
    this.#setState('connected');
    this.#startPing();
    // The tracks already in the meeting are announced like those published later, once the caller's code
    // after `await joinMeeting(…)` has run and added its listeners (a macrotask runs after that continuation).
    // In a meeting with more files than a welcome carries, joinMeeting resolves once they are paged in: after that.
    if (this.#unannounced.size > 0) void this.files.listed.catch(() => undefined).then(() => setTimeout(() => this.#announceExisting(), 0));
  }

  /** `trackPublished` for each track that was in the meeting at join, then the frames that came meanwhile. */
  #announceExisting(): void {
    const waiting = [...this.#unannounced];
    this.#unannounced.clear();
    for (const [id, frames] of waiting) {
      const track = this.#tracks.get(id);
      const participant = track && this.#participants.get(track.participantId);
      if (!track || !participant || this.#state === 'closed') continue;
      this.emit('trackPublished', track, participant);
      for (const frame of frames) track.deliver(frame);
    }
  }

  /** Takes the transport's events, after replaying what came with `welcome`. */
  #attach(transport: Transport, early: Joined['early']): void {
    for (const item of early) {
      if ('control' in item) this.#onControl(item.control);
      else if ('media' in item) this.#onMedia(item.media);
      else this.files.handleChunk(item.file);
    }
    transport.on('control', (message) => transport === this.#transport && this.#onControl(message));
    transport.on('media', (packet) => transport === this.#transport && this.#onMedia(packet));
    transport.on('file', (bytes) => {
      if (transport !== this.#transport) return;
      this.#lastHeard = Date.now();
      this.files.handleChunk(bytes);
    });
    transport.on('protocolError', (error) => transport === this.#transport && this.emit('error', error));
    transport.on('closed', (error) => transport === this.#transport && this.#onClosed(error));
  }

  #startPing(): void {
    clearInterval(this.#ping);
    this.#lastHeard = Date.now();
    this.#ping = setInterval(() => this.#tick(), this.#pingIntervalMs);
    (this.#ping as { unref?: () => void }).unref?.();
  }

  /** `connecting`, `connected`, `reconnecting` or `closed`. */
  get state(): SessionState {
    return this.#state;
  }

  /** Which wire this session uses. */
  get transport(): TransportKind {
    return this.#transport.kind;
  }

  /** The other participants, by id. */
  get participants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#participants;
  }

  /** Every remote track in the meeting, by id. */
  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return this.#tracks;
  }

  /**
   * Publishes a track. Resolves once the relay has announced it to everyone, so the first frame
   * sent is never lost to that race.
   *
   * @example
   * ```ts
   * const track = await session.publish({ kind: 'camera', codec: 'jpeg', frames: jpegFrames() });
   * ```
   */
  async publish(options: PublishOptions): Promise<LocalTrack> {
    const track = await this.#publishWith(options.kind, options.codec, options.muted ?? false,
      (host, id) => new LocalTrack(host, id, options.kind, options.codec, options.muted ?? false));
    if (options.frames) void track.pump(options.frames);
    return track;
  }

  /**
   * Publishes the camera (browser): 640×480 at 25 fps by default, VP8 when every participant can decode it,
   * else JPEG (switching as people join and leave).
   * @throws the browser's `NotAllowedError` / `NotFoundError` when the camera cannot be opened.
   */
  publishCamera(options?: CameraOptions): Promise<LocalMediaTrack> {
    return this.#media.publishCamera(options);
  }

  /** Publishes the microphone (browser): Opus 48 kHz mono in 20 ms frames (PCM where Opus is missing). */
  publishMicrophone(options?: MicrophoneOptions): Promise<LocalMediaTrack> {
    return this.#media.publishMicrophone(options);
  }

  /** Shares the screen (browser, `getDisplayMedia`): up to 1920 wide at 15 fps, or the `track` given. */
  publishScreen(options?: ScreenOptions): Promise<LocalMediaTrack> {
    return this.#media.publishScreen(options);
  }

  /** Publishes any browser `MediaStreamTrack` as a track of `kind`. */
  publishMediaTrack(track: MediaStreamTrack, kind: TrackKind): Promise<LocalMediaTrack> {
    return this.#media.publishMediaTrack(track, kind);
  }

  /**
   * Starts remote audio. Browsers only play sound after a user gesture: call this from a click or key
   * handler (the `audioStateChanged` event says `blocked` when it is needed).
   */
  startAudio(): Promise<void> {
    return this.#media.startAudio();
  }

  /** Plays remote audio through another output device. */
  setAudioOutput(deviceId: string): Promise<void> {
    return this.#media.setAudioOutput(deviceId);
  }

  /** Remote audio playback: `idle` (none yet), `running`, or `blocked` (waiting for `startAudio()` from a gesture). */
  get audioState(): AudioState {
    return this.#media.audioState;
  }

  /** RMS level (0..1) of the remote audio being played now: for meters, and for tests. */
  get audioOutputLevel(): number {
    return this.#media.outputLevel();
  }

  /** The participant speaking now (your own id when it is you), or `undefined`. */
  get activeSpeaker(): string | undefined {
    return this.#media.activeSpeaker;
  }

  async #publishWith<T extends LocalTrack>(kind: TrackKind, codec: Codec, muted: boolean,
    make: (host: LocalTrackHost, id: string) => T): Promise<T> {
    if (!codecFitsKind(codec, kind)) {
      throw new TypeError(`a ${kind} track cannot carry ${codec}`);
    }
    this.#assertOpen();
    const requestId = randomToken(9);
    const info = await new Promise<TrackInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(requestId);
        reject(ConnectionError.timeout('publishing the track', REQUEST_TIMEOUT_MS));
      }, REQUEST_TIMEOUT_MS);
      const settle = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
        clearTimeout(timer);
        fn(...a);
      };
      this.#requests.set(requestId, { resolve: settle(resolve), reject: settle(reject) });
      this.#send({ type: 'publish', requestId, kind, codec, ...(muted ? { muted: true } : {}) });
    });
    const track = make(this.#trackHost, info.id);
    if (this.#state === 'closed') {
      // The answer and the end of the session came together: nothing may keep capturing for a closed session.
      track.end();
      throw ConnectionError.closed('the session closed while the track was being published');
    }
    this.local.tracks.set(track.id, track);
    track.once('ended', () => this.emit('localTrackUnpublished', track));
    this.emit('localTrackPublished', track);
    return track;
  }

  /** Leaves the meeting and closes the connection. Idempotent. */
  leave(): Promise<void> {
    this.#leaving ??= (async () => {
      if (this.#state === 'closed') return;
      if (this.#state === 'reconnecting') {
        this.#close(undefined);
        return;
      }
      this.#send({ type: 'leave' });
      this.#transport.close();
    })();
    return this.#leaving;
  }

  #assertOpen(): void {
    if (this.#state === 'closed') throw ConnectionError.closed('the session is closed');
  }

  #send(message: ClientMessage): void {
    if (this.#state === 'connected') this.#transport.sendControl(message);
  }

  #setState(state: SessionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.emit('stateChanged', state, previous);
  }

  #tick(): void {
    if (this.#state !== 'connected') return;
    if (Date.now() - this.#lastHeard > PEER_TIMEOUT_MS + PING_INTERVAL_MS) {
      const transport = this.#transport;
      this.#onClosed(ConnectionError.timeout('hearing from the relay', PEER_TIMEOUT_MS));
      transport.close();
      return;
    }
    this.#send({ type: 'ping', t: Date.now() });
    const limit = Date.now() - EARLY_FRAME_MS;
    for (const [id, entry] of this.#early) if (entry.at < limit) this.#early.delete(id);
  }

  /** The connection ended: reconnect when it dropped, else close the session. */
  #onClosed(error: LanError | undefined): void {
    if (this.#state === 'closed' || this.#state === 'reconnecting') return;
    const reconnectMs = this.#options.reconnectTimeoutMs ?? 30_000;
    if (this.#leaving || !error || FINAL_CODES.has(error.code) || reconnectMs <= 0) {
      this.#close(error);
      return;
    }
    this.#reconnecting = this.#reconnect(error, reconnectMs);
  }

  /**
   * Gets the connection back: new transports until the relay welcomes us again, with the resume token
   * so we stay the same participant, 100 ms after the drop, then pauses doubling up to 2 s. Gives up once
   * the reconnection window (`budgetMs`) has passed, or at once on a refusal that will not change
   * (`FINAL_CODES`); a `leave()` meanwhile stops it. A relay that no longer knows us (it restarted, or the
   * grace time passed) welcomes a new participant: that one leaves again and the session closes with the reason.
   */
  async #reconnect(cause: LanError, budgetMs: number): Promise<void> {
    clearInterval(this.#ping);
    this.#setState('reconnecting');
    for (const request of this.#requests.values()) request.reject(ConnectionError.closed('the connection dropped; publish again'));
    this.#requests.clear();
    this.chat.paused();
    const deadline = Date.now() + budgetMs;
    const backoff = new Backoff({ initialMs: 100, maxMs: 2000, signal: this.#closing.signal });
    let last: LanError = cause;
    while (Date.now() < deadline && this.#state === 'reconnecting' && !this.#leaving) {
      if (!(await backoff.wait()) || this.#state !== 'reconnecting' || this.#leaving) return;
      let joined: Joined;
      try {
        joined = await handshake(this.#connect, this.#options, this.#resumeToken, Math.min(5000, Math.max(1000, deadline - Date.now())));
      } catch (error) {
        last = error instanceof LanError ? error : ConnectionError.closed(String(error));
        if (FINAL_CODES.has(last.code)) break;
        continue;
      }
      if (this.#state !== 'reconnecting' || this.#leaving) {
        joined.transport.close();
        return;
      }
      if (!joined.welcome.resumed || joined.welcome.you.id !== this.local.id) {
        joined.transport.sendControl({ type: 'leave' });
        joined.transport.close();
        this.#close(new ConnectionError(ErrorCode.Closed,
          'the relay no longer knows this participant (it restarted, or the connection was gone too long): join again'));
        return;
      }
      this.#resumed(joined);
      return;
    }
    if (this.#state === 'reconnecting') this.#close(last);
  }

  /** Back in, as the same participant: catch up on what changed while away, then carry on. */
  #resumed(joined: Joined): void {
    const { transport, welcome } = joined;
    this.#transport = transport;
    this.#resumeToken = welcome.resumeToken;
    this.#pingIntervalMs = welcome.pingIntervalMs ?? PING_INTERVAL_MS;
    const present = new Set(welcome.participants.map((p) => p.id));
    for (const participant of [...this.#participants.values()]) {
      if (!present.has(participant.id)) this.#participantLeft(participant.id, 'left');
    }
    for (const info of welcome.participants) {
      const participant = this.#participants.get(info.id);
      if (!participant) {
        this.#addParticipant(info, true);
        continue;
      }
      const tracks = new Set(info.tracks.map((t) => t.id));
      for (const id of [...participant.tracks.keys()]) if (!tracks.has(id)) this.#removeTrack(id);
      for (const t of info.tracks) {
        const known = this.#tracks.get(t.id);
        if (!known) this.#addTrack(t, true);
        else if (known.muted !== t.muted) {
          known.setMuted(t.muted);
          this.emit('trackMuted', known, t.muted);
        }
      }
    }
    this.#setState('connected');
    // Missed chat first, then what came after `welcome`, so messages stay in relay order.
    this.chat.resumed(welcome.chat);
    this.#attach(transport, joined.early);
    this.#startPing();
    this.files.resumed(welcome.files ?? []);
    // Mute changes or unpublishes made while away never reached the relay: make its view ours again.
    const theirs = new Map(welcome.you.tracks.map((t) => [t.id, t]));
    for (const track of [...this.local.tracks.values()]) {
      const info = theirs.get(track.id);
      if (!info) {
        this.local.tracks.delete(track.id);
        track.end();
      } else if (info.muted !== track.muted) this.#send({ type: 'mute', trackId: track.id, muted: track.muted });
      theirs.delete(track.id);
    }
    for (const id of theirs.keys()) this.#send({ type: 'unpublish', trackId: id });
    for (const track of this.local.tracks.values()) track.requestKeyFrame();
    // The same for pauses of others' tracks (the relay keeps them over a resume, but one made meanwhile was lost).
    this.#resyncPauses();
  }

  #resyncPauses(): void {
    for (const track of this.#tracks.values()) track.resync();
  }

  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  #resyncPausesSoon(): void {
    this.#resyncTimer ??= setTimeout(() => {
      this.#resyncTimer = undefined;
      if (this.#state === 'connected') this.#resyncPauses();
    }, 1000);
  }

  #close(error: LanError | undefined): void {
    if (this.#state === 'closed') return;
    this.#closing.abort();
    clearInterval(this.#ping);
    clearTimeout(this.#resyncTimer);
    const reason = error ?? ConnectionError.closed('you left the meeting');
    for (const request of this.#requests.values()) request.reject(reason);
    this.#requests.clear();
    this.chat.close(reason);
    this.files.close(reason);
    for (const track of this.local.tracks.values()) track.end();
    for (const track of this.#tracks.values()) track.end();
    this.#media.close();
    this.#setState('closed');
    this.emit('disconnected', this.#leaving ? undefined : error);
  }

  #participantLeft(id: string, reason: string): void {
    const participant = this.#participants.get(id);
    if (!participant) return;
    for (const trackId of [...participant.tracks.keys()]) this.#removeTrack(trackId);
    this.#participants.delete(participant.id);
    this.#media.participantsChanged();
    participant.leave();
    this.emit('participantLeft', participant, reason);
  }

  #addParticipant(info: RelayMessageOf<'participantJoined'>['participant'], announce: boolean): void {
    if (info.id === this.local.id || this.#participants.has(info.id)) return;
    const participant = new RemoteParticipant(info);
    this.#participants.set(participant.id, participant);
    for (const t of info.tracks) this.#addTrack(t, false);
    this.#media?.participantsChanged();
    if (announce) this.emit('participantJoined', participant);
  }

  #addTrack(info: TrackInfo, announce: boolean): void {
    const participant = this.#participants.get(info.participantId);
    if (!participant || this.#tracks.has(info.id)) return;
    const track = new RemoteTrack(this.#remoteTrackHost, info);
    this.#tracks.set(track.id, track);
    participant.addTrack(track);
    this.#media.remoteTrackAdded(track);
    if (announce) this.emit('trackPublished', track, participant);
    // Frames that overtook the announcement (UDP vs TCP) are delivered now, on the next turn, so the
    // listener added in the `trackPublished` handler sees them.
    const early = this.#early.get(track.id);
    if (early && early.sender === track.participantId) {
      this.#early.delete(track.id);
      queueMicrotask(() => {
        for (const frame of early.frames) track.deliver(frame);
      });
    }
  }

  #removeTrack(trackId: string): void {
    const track = this.#tracks.get(trackId);
    if (!track) return;
    this.#tracks.delete(trackId);
    this.#unannounced.delete(trackId);
    const participant = this.#participants.get(track.participantId);
    // Ended first: its renderer closing must not tell the relay about a track the relay has forgotten.
    track.end();
    this.#media.remoteTrackRemoved(track);
    if (participant) {
      participant.removeTrack(track);
      this.emit('trackUnpublished', track, participant);
    }
  }

  #onControl(message: RelayMessage): void {
    this.#lastHeard = Date.now();
    switch (message.type) {
      case 'participantJoined':
        this.#addParticipant(message.participant, true);
        return;
      case 'participantLeft':
        this.#participantLeft(message.participantId, message.reason);
        return;
      case 'trackPublished':
        this.#addTrack(message.track, true);
        return;
      case 'trackUnpublished':
        this.#removeTrack(message.trackId);
        return;
      case 'trackMuted': {
        const track = this.#tracks.get(message.trackId);
        if (track) {
          track.setMuted(message.muted);
          this.emit('trackMuted', track, message.muted);
        }
        return;
      }
      case 'published': {
        const request = this.#requests.get(message.requestId);
        this.#requests.delete(message.requestId);
        request?.resolve(message.track);
        return;
      }
      case 'chat':
        this.chat.handleMessage(message.message);
        return;
      case 'chatAck':
        this.chat.handleAck(message.seq, message.id);
        return;
      case 'keyFrameRequest':
        this.local.tracks.get(message.trackId)?.requestKeyFrame();
        return;
      case 'error': {
        const code = isErrorCode(message.code) ? message.code : ErrorCode.Internal;
        const error = new RelayError(code, message.message);
        const requestId = message.requestId;
        if (requestId?.startsWith('chat:')) this.chat.handleError(Number(requestId.slice(5)), error);
        else if (requestId && this.files.handleError(requestId, error)) return;
        else if (requestId && this.#requests.has(requestId)) {
          this.#requests.get(requestId)!.reject(error);
          this.#requests.delete(requestId);
        } else if (message.fatal) {
          // Handled with the relay's reason first: the transport's own close event carries none.
          const transport = this.#transport;
          this.#onClosed(error);
          transport.close();
        } else {
          // Messages over the control rate were dropped, a pause or resume among them perhaps: tell the
          // relay every pause state again once the budget has refilled.
          if (code === ErrorCode.RateLimited) this.#resyncPausesSoon();
          this.emit('error', error);
        }
        return;
      }
      case 'pong':
      case 'welcome':
        return;
      default:
        this.files.handleControl(message);
    }
  }

  #onMedia(packet: MediaPacket): void {
    this.#lastHeard = Date.now();
    const frame: RemoteFrame = {
      data: packet.payload, codec: packet.codec, kind: packet.kind, keyFrame: packet.keyFrame, sequence: packet.sequence,
      timestamp: packet.timestamp, audioLevel: packet.audioLevel, voice: packet.voice, discontinuity: packet.discontinuity,
    };
    const track = this.#tracks.get(packet.track);
    if (track) {
      if (track.participantId !== packet.sender) return;
      const waiting = this.#unannounced.get(track.id);
      if (!waiting) track.deliver(frame);
      else if (waiting.length < EARLY_FRAME_MAX) waiting.push(frame);
      return;
    }
    let early = this.#early.get(packet.track);
    if (!early) {
      if (this.#early.size >= EARLY_FRAME_MAX) return;
      this.#early.set(packet.track, (early = { at: Date.now(), sender: packet.sender, frames: [] }));
    }
    if (early.sender === packet.sender && early.frames.length < EARLY_FRAME_MAX) early.frames.push(frame);
  }
}

