/**
 * A session: this client's presence in one meeting.
 * @module
 */
import { Chat, type ChatMessage } from './Chat.js';
import { Files, type FileEvents } from './Files.js';
import { portableSha256, type Sha256Factory } from './files/sha256.js';
import { ConnectionError, ErrorCode, RelayError, isErrorCode, type LanError } from './errors.js';
import { LocalParticipant, type RemoteParticipant, type Role } from './Participant.js';
import { HostControls, type HostAction } from './HostControls.js';
import { Hands } from './Hands.js';
import { Roster } from './Roster.js';
import { codecFitsKind, randomToken, type ClientMessage, type Codec, type Limits, type Reaction, type RelayMessage, type TrackInfo, type TrackKind } from './protocol/index.js';
import { LocalTrack, type EncodedFrame, type LocalTrackHost, type RemoteTrack } from './Track.js';
import { MediaController, type AudioState, type CameraOptions, type MicrophoneOptions, type ScreenOptions } from './media/MediaController.js';
import type { LocalMediaTrack } from './media/LocalMediaTrack.js';
import type { MediaFallbacks } from './media/types.js';
import { SignalConnection, type Welcome } from './SignalConnection.js';
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
  /** A host did something (everyone hears it, before its effects): `session.host` has the actions. */
  hostAction: [action: HostAction];
  /** A participant (you included) became host or guest; `by`: the host who did it, absent when the relay named a new host. */
  roleChanged: [participantId: string, role: Role, by: string | undefined];
  /** A host muted one of your tracks (it stops sending here too); you may unmute it, unless hosts restricted that. */
  mutedByHost: [track: LocalTrack, by: string];
  /** A host asks you to turn your `kind` back on: show a prompt; nothing is unmuted for you. */
  unmuteRequested: [kind: TrackKind, by: string];
  /** Someone (you included) raised a hand: it is last in `hands.queue`. */
  handRaised: [participantId: string];
  /** A hand went down; `by`: the host who lowered it, when it was not its owner. */
  handLowered: [participantId: string, by: string | undefined];
  /** Someone reacted. */
  reaction: [participantId: string, emoji: Reaction];
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
  /**
   * The relay's host key (`lanconf-relay --host-key`): you join as a host, whoever came first, so a teacher
   * or chair runs the meeting even if someone else arrived before. A wrong one is refused (`LAN_ERR_FORBIDDEN`)
   * and counts, like a wrong passcode, against the guesses an address may make.
   */
  hostKey?: string;
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

/**
 * Joins with a transport made by `connect` and returns the session once the relay welcomed it. The
 * session calls `connect` again to reconnect after a dropped connection.
 * @internal
 */
export async function startSession(connect: () => Transport, options: JoinOptions): Promise<Session> {
  if (typeof options.meeting !== 'string' || options.meeting.trim() === '') throw new TypeError('meeting must be a non-empty string');
  if (typeof options.name !== 'string' || options.name.trim() === '') throw new TypeError('name must be a non-empty string');
  const session = new Session(await SignalConnection.join(connect, options), options);
  // A meeting with more files than one welcome carries: the rest are paged in before join resolves.
  await session.files.listed.catch(() => undefined);
  return session;
}

interface PendingRequest {
  resolve(track: TrackInfo): void;
  reject(error: LanError): void;
}

/** A request the relay does not answer within this time fails (ms). */
const REQUEST_TIMEOUT_MS = 10_000;

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
  /** What a host may do (the relay refuses a guest with `LAN_ERR_FORBIDDEN`): lock, remove, mute, end… */
  readonly host: HostControls;
  /** Raised hands (an ordered queue) and reactions. */
  readonly hands: Hands;
  /** The relay's limits, as told at join. */
  readonly limits: Limits;
  /** The link to the relay: handshake, pings, reconnects. */
  readonly #signal: SignalConnection;
  /** The other participants and their tracks. */
  readonly #roster: Roster;
  readonly #requests = new Map<string, PendingRequest>();
  readonly #trackHost: LocalTrackHost;
  readonly #media: MediaController;
  #state: SessionState = 'connecting';
  #leaving: Promise<void> | undefined;

  /** @internal */
  constructor(signal: SignalConnection, options: JoinOptions) {
    super();
    const welcome = signal.welcome;
    const fallbacks: MediaFallbacks = options.fallbacks ?? {};
    this.#signal = signal;
    // The managers emit the session's events by name (their own event types are checked where they declare them).
    const emitAny = (event: string, ...args: unknown[]) => (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
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
      sendFile: (header, data) => this.#signal.sendFile(header, data),
      emit: emitAny,
    }, welcome.files);
    this.host = new HostControls({
      send: (message) => this.#send(message),
      localTracks: () => this.local.tracks,
      setRole: (id, role) => (id === this.local.id ? this.local : this.#roster.participants.get(id))?.setRole(role),
      emit: emitAny,
    });
    this.hands = new Hands({
      send: (message) => this.#send(message),
      localId: this.local.id,
      emit: emitAny,
    }, welcome.hands);
    this.#trackHost = {
      senderId: this.local.id,
      sendMedia: (packet, droppable) => this.#state === 'connected' && this.#signal.sendMedia(packet, droppable),
      setMuted: async (track, muted) => this.#send({ type: 'mute', trackId: track.id, muted }),
      unpublish: async (track) => {
        this.local.tracks.delete(track.id);
        track.end();
        this.#send({ type: 'unpublish', trackId: track.id });
      },
    };
    this.#roster = new Roster({
      localId: this.local.id,
      trackHost: {
        requestKeyFrame: (trackId) => this.#send({ type: 'keyFrameRequest', trackId }),
        setPaused: (trackId, paused) => this.#send({ type: 'subscription', trackId, paused }),
        renderer: (track) => this.#media.renderer(track),
      },
      trackAdded: (track) => this.#media.remoteTrackAdded(track),
      trackRemoved: (track) => this.#media.remoteTrackRemoved(track),
      participantsChanged: () => this.#media.participantsChanged(),
      emit: emitAny,
    });
    this.#media = new MediaController({
      localId: this.local.id,
      participants: () => this.#roster.participants.values(),
      remoteTracks: () => this.#roster.tracks.values(),
      publishWith: (kind, codec, muted, make) => this.#publishWith(kind, codec, muted, make),
      activeSpeakerChanged: (id) => this.emit('activeSpeaker', id),
      audioStateChanged: (state) => this.emit('audioStateChanged', state),
    }, fallbacks, options.pauseUnseenVideo ?? typeof document !== 'undefined');
    const unannounced = this.#roster.joined(welcome.participants);
    signal.on('control', (message) => this.#onControl(message))
      .on('media', (packet) => this.#roster.handleMedia(packet))
      .on('file', (bytes) => this.files.handleChunk(bytes))
      .on('protocolError', (error) => this.emit('error', error))
      .on('heartbeat', () => this.#roster.dropStaleEarly())
      .on('reconnecting', () => this.#reconnecting())
      .on('resuming', (resumed) => this.#catchUp(resumed))
      .on('resumed', (resumed) => this.#resumed(resumed))
      .on('closed', (error) => this.#close(error));
    signal.start();
    this.#setState('connected');
    // The tracks already in the meeting are announced like those published later, once the caller's code
    // after `await joinMeeting(…)` has run and added its listeners (a macrotask runs after that continuation).
    // In a meeting with more files than a welcome carries, joinMeeting resolves once they are paged in: after that.
    if (unannounced) void this.files.listed.catch(() => undefined).then(() => setTimeout(() => this.#roster.announceExisting(), 0));
  }

  /** `connecting`, `connected`, `reconnecting` or `closed`. */
  get state(): SessionState {
    return this.#state;
  }

  /** Which wire this session uses. */
  get transport(): TransportKind {
    return this.#signal.kind;
  }

  /** The other participants, by id. */
  get participants(): ReadonlyMap<string, RemoteParticipant> {
    return this.#roster.participants;
  }

  /** Every remote track in the meeting, by id. */
  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return this.#roster.tracks;
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
      this.#signal.leave();
    })();
    return this.#leaving;
  }

  #assertOpen(): void {
    if (this.#state === 'closed') throw ConnectionError.closed('the session is closed');
  }

  #send(message: ClientMessage): void {
    if (this.#state === 'connected') this.#signal.send(message);
  }

  #setState(state: SessionState): void {
    const previous = this.#state;
    if (previous === state) return;
    this.#state = state;
    this.emit('stateChanged', state, previous);
  }

  /** The connection dropped and is being got back: media pauses, requests fail, chat waits. */
  #reconnecting(): void {
    this.#setState('reconnecting');
    for (const request of this.#requests.values()) request.reject(ConnectionError.closed('the connection dropped; publish again'));
    this.#requests.clear();
    this.host.close(ConnectionError.closed('the connection dropped; ask again'));
    this.chat.paused();
  }

  /** Back in, as the same participant: catch up on what changed while away (before what came after `welcome`). */
  #catchUp(welcome: Welcome): void {
    this.hands.reset(welcome.hands ?? []);
    this.#roster.resumed(welcome.participants);
    this.#setState('connected');
    // Missed chat first, then what came after `welcome`, so messages stay in relay order.
    this.chat.resumed(welcome.chat);
  }

  /** The connection is live again: transfers go on, and the relay's view of our tracks becomes ours again. */
  #resumed(welcome: Welcome): void {
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
    this.#roster.resyncPauses();
  }

  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  #resyncPausesSoon(): void {
    this.#resyncTimer ??= setTimeout(() => {
      this.#resyncTimer = undefined;
      if (this.#state === 'connected') this.#roster.resyncPauses();
    }, 1000);
  }

  #close(error: LanError | undefined): void {
    if (this.#state === 'closed') return;
    this.#signal.stop();
    clearTimeout(this.#resyncTimer);
    const reason = error ?? ConnectionError.closed('you left the meeting');
    for (const request of this.#requests.values()) request.reject(reason);
    this.#requests.clear();
    this.chat.close(reason);
    this.files.close(reason);
    this.host.close(reason);
    for (const track of this.local.tracks.values()) track.end();
    this.#roster.close();
    this.#media.close();
    this.#setState('closed');
    this.emit('disconnected', this.#leaving ? undefined : error);
  }

  #onControl(message: RelayMessage): void {
    if (message.type === 'participantLeft') this.hands.participantLeft(message.participantId);
    if (this.host.handleControl(message) || this.hands.handleControl(message) || this.#roster.handleControl(message)) return;
    switch (message.type) {
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
        else if (requestId?.startsWith('host:') && this.host.handleError(requestId, error)) return;
        else if (requestId && this.files.handleError(requestId, error)) return;
        else if (requestId && this.#requests.has(requestId)) {
          this.#requests.get(requestId)!.reject(error);
          this.#requests.delete(requestId);
        } else if (message.fatal) {
          this.#signal.drop(error);
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
}
