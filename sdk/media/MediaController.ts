/**
 * The session's browser media manager: publishes camera, microphone and screen (capture → encode),
 * keeps every video publisher in a codec all subscribers can decode, plays remote audio, renders
 * remote video on demand, and names the active speaker.
 *
 * The pipelines a first screen does not need load on first use, as chunks of their own in the browser
 * bundles: the video publisher (with its JPEG and `<video>` + canvas fallbacks) when a camera or screen is
 * published, the microphone publisher (with its capture worklet and PCM) when a microphone is, the playout
 * (jitter buffers, mixer worklet, Opus/PCM decode) when the first remote microphone appears.
 * @module
 */
import { ConnectionError, ErrorCode, LanError } from '../errors.js';
import { isVideoKind, type Codec, type TrackKind } from '../protocol/index.js';
import type { RemoteParticipant } from '../Participant.js';
import type { LocalTrackHost, RemoteTrack } from '../Track.js';
import type { AudioPlayout, AudioPlayoutState } from './AudioPlayout.js';
import { canEncodeOpus, canEncodeVp8, chooseCodec } from './capabilities.js';
import { cameraConstraints, microphoneConstraints, screenConstraints } from './devices.js';
import { LocalMediaTrack, type TrackAcquirer } from './LocalMediaTrack.js';
import { SpeakerDetector } from './SpeakerDetector.js';
import type { MediaFallbacks, MediaPublisher } from './types.js';
import { VideoRenderer } from './VideoRenderer.js';

/** Options of `publishCamera`. Defaults: 640×480 at 25 fps, the default camera. */
export interface CameraOptions {
  deviceId?: string;
  width?: number;
  height?: number;
  fps?: number;
  /** Start muted. */
  muted?: boolean;
}

/** Options of `publishMicrophone`. Echo cancellation, noise suppression and auto gain are always asked for. */
export interface MicrophoneOptions {
  deviceId?: string;
  /** Start muted. */
  muted?: boolean;
}

/** Options of `publishScreen`. Defaults: up to 1920 wide at 15 fps. */
export interface ScreenOptions {
  maxWidth?: number;
  fps?: number;
  /** Share this track instead of asking the browser (e.g. a canvas's `captureStream()` track). */
  track?: MediaStreamTrack;
}

/** What the media manager needs from its session. @internal */
export interface MediaHost {
  readonly localId: string;
  participants(): Iterable<RemoteParticipant>;
  remoteTracks(): Iterable<RemoteTrack>;
  /** Publishes a track of `kind`/`codec` and builds it with `make` once the relay acknowledged it. */
  publishWith(kind: TrackKind, codec: Codec, muted: boolean,
    make: (host: LocalTrackHost, id: string) => LocalMediaTrack): Promise<LocalMediaTrack>;
  activeSpeakerChanged(participantId: string | undefined): void;
  audioStateChanged(state: AudioState): void;
}

/** Remote audio playback: `running`, or `blocked` until `session.startAudio()` runs from a user gesture. */
export type AudioState = AudioPlayoutState;

/** The video publisher's module (a chunk of its own in the browser bundles; the browser fetches it once). */
const loadVideoCapture = () => import('./videoCapture.js');
/** The microphone publisher's module (likewise). */
const loadAudioCapture = () => import('./audioCapture.js');
/** Starts fetching a pipeline while the browser opens the device (and maybe asks for permission). */
const prefetch = (load: () => Promise<unknown>) => void load().catch(() => { /* publishing reports it */ });

const VIDEO_PREFERENCE: readonly Codec[] = ['vp8', 'jpeg'];
const AUDIO_PREFERENCE: readonly Codec[] = ['opus', 'pcm16'];

/** @internal */
export class MediaController {
  readonly #host: MediaHost;
  readonly #fallbacks: MediaFallbacks;
  /** Pause remote videos that no element shows (JoinOptions.pauseUnseenVideo). */
  readonly #pauseUnseenVideo: boolean;
  readonly #tracks = new Set<LocalMediaTrack>();
  readonly #renderers = new Map<string, VideoRenderer>();
  readonly #speaker: SpeakerDetector;
  #encoders: Promise<Set<Codec>> | undefined;
  #playout: AudioPlayout | undefined;
  /** The playout being loaded (its chunk) and made; `undefined` once settled, or where there is no Web Audio. */
  #playoutLoading: Promise<AudioPlayout | undefined> | undefined;
  #audioState: AudioState = 'idle';
  #speakerTimer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(host: MediaHost, fallbacks: MediaFallbacks, pauseUnseenVideo = false) {
    this.#host = host;
    this.#fallbacks = fallbacks;
    this.#pauseUnseenVideo = pauseUnseenVideo;
    this.#speaker = new SpeakerDetector();
    this.#speaker.on('changed', (id) => host.activeSpeakerChanged(id));
  }

  /** Remote audio playback state. */
  get audioState(): AudioState {
    return this.#audioState;
  }

  /** The participant speaking now, by the audio levels of everyone's packets (yours included). */
  get activeSpeaker(): string | undefined {
    return this.#speaker.current();
  }

  /** RMS level (0..1) of the remote audio being played, over the last ~100 ms. */
  outputLevel(): number {
    return this.#playout?.level() ?? 0;
  }

  /** Starts (or unblocks) remote audio; call it from a click or key press. */
  async startAudio(): Promise<void> {
    const playout = await this.#ensurePlayout();
    if (!playout) throw new LanError(ErrorCode.Internal, 'this runtime has no Web Audio: remote audio cannot play here');
    await playout.start();
  }

  /** Plays remote audio through another output device (`listDevices().speakers`). */
  async setAudioOutput(deviceId: string): Promise<void> {
    const playout = await this.#ensurePlayout();
    if (!playout) throw new LanError(ErrorCode.Internal, 'this runtime has no Web Audio');
    await playout.setOutputDevice(deviceId);
  }

  async publishCamera(options: CameraOptions = {}): Promise<LocalMediaTrack> {
    const width = options.width ?? 640;
    const height = options.height ?? 480;
    const fps = options.fps ?? 25;
    prefetch(loadVideoCapture);
    const acquire: TrackAcquirer = async (deviceId) => {
      const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints({ ...(deviceId ? { deviceId } : {}), width, height, fps }));
      return stream.getVideoTracks()[0]!;
    };
    const track = await acquire(options.deviceId);
    return this.#publishVideo('camera', track, { width, height, fps }, options.muted ?? false, acquire);
  }

  async publishScreen(options: ScreenOptions = {}): Promise<LocalMediaTrack> {
    const fps = options.fps ?? 15;
    const maxWidth = options.maxWidth ?? 1920;
    let track = options.track;
    prefetch(loadVideoCapture);
    if (!track) {
      const stream = await navigator.mediaDevices.getDisplayMedia(screenConstraints({ maxWidth, fps }));
      track = stream.getVideoTracks()[0]!;
    }
    const settings = track.getSettings();
    const scale = Math.min(1, maxWidth / (settings.width ?? maxWidth));
    const width = Math.round((settings.width ?? 1280) * scale);
    const height = Math.round((settings.height ?? 720) * scale);
    return this.#publishVideo('screen', track, { width, height, fps }, false, undefined);
  }

  async publishMicrophone(options: MicrophoneOptions = {}): Promise<LocalMediaTrack> {
    prefetch(loadAudioCapture);
    const acquire: TrackAcquirer = async (deviceId) => {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(deviceId) });
      return stream.getAudioTracks()[0]!;
    };
    const track = await acquire(options.deviceId);
    return this.#publishAudio(track, options.muted ?? false, acquire);
  }

  /** Publishes any browser track as `kind`. */
  async publishMediaTrack(track: MediaStreamTrack, kind: TrackKind): Promise<LocalMediaTrack> {
    if ((track.kind === 'audio') !== (kind === 'microphone')) throw new TypeError(`a ${track.kind} track cannot be published as ${kind}`);
    if (kind === 'microphone') return this.#publishAudio(track, false, undefined);
    const s = track.getSettings();
    return this.#publishVideo(kind, track, { width: s.width ?? 640, height: s.height ?? 480, fps: s.frameRate ?? 25 }, false, undefined);
  }

  /** The renderer of a remote video track, made on first use. */
  renderer(track: RemoteTrack): VideoRenderer {
    let renderer = this.#renderers.get(track.id);
    if (!renderer) {
      renderer = new VideoRenderer(track, { fallbacks: this.#fallbacks });
      renderer.on('keyFrameNeeded', () => track.requestKeyFrame());
      // A video shown nowhere is paused at the relay, and received again once shown.
      if (this.#pauseUnseenVideo) renderer.on('targets', (count) => track.setUnseen(count === 0));
      track.once('ended', () => this.#dropRenderer(track.id));
      this.#renderers.set(track.id, renderer);
    }
    return renderer;
  }

  /** Re-chooses every local track's codec: someone joined or left. */
  participantsChanged(): void {
    void this.#rechoose();
  }

  /** A remote track appeared (published, or present at join). */
  remoteTrackAdded(track: RemoteTrack): void {
    if (track.kind !== 'microphone') {
      // Shown nowhere yet; a page attaching it soon (a `trackPublished` listener, a grid's next render) is in time:
      // the track tells the relay 100 ms after the first change, so nothing is sent.
      if (this.#pauseUnseenVideo) track.setUnseen(true);
      return;
    }
    track.on('frame', (frame) => this.#speaker.update(track.participantId, frame.audioLevel, frame.voice, performance.now()));
    track.once('ended', () => this.#speaker.remove(track.participantId));
    // A speaker who stops sending altogether (mute) must lose the floor without a packet to say so.
    this.#speakerTimer ??= setInterval(() => this.#speaker.tick(performance.now()), 250);
    // Once the playout is there it takes each new track; while it loads, it takes every remote microphone when made.
    if (this.#playout) this.#playout.addTrack(track);
    else void this.#ensurePlayout().catch(() => { /* its chunk did not load: the next microphone or startAudio() tries again */ });
  }

  /** A remote track went away. */
  remoteTrackRemoved(track: RemoteTrack): void {
    this.#playout?.removeTrack(track.id);
    this.#dropRenderer(track.id);
  }

  /** Stops every local track and closes audio and renderers. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#speakerTimer);
    for (const track of this.#tracks) track.end();
    for (const renderer of this.#renderers.values()) renderer.close();
    this.#renderers.clear();
    void this.#playout?.close();
  }

  #dropRenderer(id: string): void {
    this.#renderers.get(id)?.close();
    this.#renderers.delete(id);
  }

  /** The playout, loaded and made on first need; `undefined` where there is no Web Audio, or once closed. */
  async #ensurePlayout(): Promise<AudioPlayout | undefined> {
    if (this.#playout || this.#closed) return this.#playout;
    if (typeof (globalThis as { AudioContext?: unknown }).AudioContext !== 'function') return undefined;
    this.#playoutLoading ??= import('./AudioPlayout.js').then(({ AudioPlayout }) => {
      this.#playoutLoading = undefined;
      if (this.#closed) return undefined;
      const playout = new AudioPlayout({ fallbacks: this.#fallbacks });
      this.#playout = playout;
      playout.on('stateChanged', (state) => {
        this.#audioState = state;
        this.#host.audioStateChanged(state);
      });
      for (const track of this.#host.remoteTracks()) if (track.kind === 'microphone') playout.addTrack(track);
      void playout.start().catch(() => { /* blocked until a gesture: reported through stateChanged */ });
      return playout;
    }, (error: unknown) => {
      // The chunk did not load (the relay went away meanwhile…): the next need tries again.
      this.#playoutLoading = undefined;
      throw error;
    });
    return this.#playoutLoading;
  }

  #encoderSet(): Promise<Set<Codec>> {
    this.#encoders ??= (async () => {
      const set = new Set<Codec>(['jpeg', 'pcm16']);
      const [vp8, opus] = await Promise.all([canEncodeVp8(this.#fallbacks), canEncodeOpus(this.#fallbacks)]);
      if (vp8) set.add('vp8');
      if (opus) set.add('opus');
      return set;
    })();
    return this.#encoders;
  }

  async #codecFor(kind: TrackKind): Promise<Codec> {
    const decoders = [...this.#host.participants()].map((p) => p.decode);
    return chooseCodec(isVideoKind(kind) ? VIDEO_PREFERENCE : AUDIO_PREFERENCE, await this.#encoderSet(), decoders);
  }

  async #rechoose(): Promise<void> {
    for (const track of this.#tracks) {
      if (track.ended) continue;
      const codec = await this.#codecFor(track.kind);
      await track.setCodec(codec).catch(() => { /* the next change retries */ });
    }
  }

  async #publishVideo(kind: TrackKind, track: MediaStreamTrack, size: { width: number; height: number; fps: number },
    muted: boolean, acquire: TrackAcquirer | undefined): Promise<LocalMediaTrack> {
    const [codec, { createVideoPublisher }] = await Promise.all([this.#codecFor(kind), loadVideoCapture()])
      .catch((error: unknown) => {
        track.stop(); // as the publisher would have, had it been made
        throw error;
      });
    let local: LocalMediaTrack | undefined;
    const publisher = createVideoPublisher(track, {
      codec: codec as 'vp8' | 'jpeg', ...size, fallbacks: this.#fallbacks,
      output: { onFrame: (frame) => local?.send(frame), onError: (error) => local?.fail(error) },
    });
    return this.#finish(kind, codec, muted, publisher, acquire, (t) => (local = t));
  }

  async #publishAudio(track: MediaStreamTrack, muted: boolean, acquire: TrackAcquirer | undefined): Promise<LocalMediaTrack> {
    const [codec, { createAudioPublisher }] = await Promise.all([this.#codecFor('microphone'), loadAudioCapture()])
      .catch((error: unknown) => {
        track.stop(); // as the publisher would have, had it been made
        throw error;
      });
    let local: LocalMediaTrack | undefined;
    const publisher = createAudioPublisher(track, {
      codec: codec as 'opus' | 'pcm16', fallbacks: this.#fallbacks,
      output: {
        onFrame: (frame) => {
          if (!local || local.muted) return;
          this.#speaker.update(this.#host.localId, frame.audioLevel ?? 127, frame.voice ?? false, performance.now());
          local.send(frame);
        },
        onError: (error) => local?.fail(error),
      },
    });
    return this.#finish('microphone', codec, muted, publisher, acquire, (t) => (local = t));
  }

  async #finish(kind: TrackKind, codec: Codec, muted: boolean, publisher: MediaPublisher, acquire: TrackAcquirer | undefined,
    bind: (track: LocalMediaTrack) => void): Promise<LocalMediaTrack> {
    if (this.#closed) {
      publisher.stop();
      throw ConnectionError.closed('the session is closed');
    }
    let local: LocalMediaTrack;
    try {
      local = await this.#host.publishWith(kind, codec, muted,
        (host, id) => new LocalMediaTrack(host, id, kind, codec, muted, publisher, acquire));
    } catch (error) {
      publisher.stop();
      throw error;
    }
    bind(local);
    this.#tracks.add(local);
    local.once('ended', () => this.#tracks.delete(local));
    try {
      await publisher.start();
    } catch (error) {
      await local.unpublish();
      throw error;
    }
    // Someone may have joined while the track was being published.
    void this.#rechoose();
    return local;
  }
}
