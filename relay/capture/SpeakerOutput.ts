/**
 * Speaker playback: every remote microphone track of a meeting, decoded (Opus with audify's decoder, or PCM),
 * each through its own adaptive jitter buffer, mixed, and played through RtAudio at 48 kHz mono.
 * @module
 */
import type { JitterBufferOptions } from '../../sdk/media/JitterBuffer.js';
import type { Session } from '../../sdk/Session.js';
import type { RemoteFrame, RemoteTrack } from '../../sdk/Track.js';
import { TypedEmitter } from '../../sdk/TypedEmitter.js';
import type { AudioApiName } from './audifyApi.js';
import { AudioEngine, audioApis, type AudioEngineOptions } from './AudioEngine.js';
import type { OutputStats } from './audioWorker.js';
import type { CaptureDevice } from './CaptureDevice.js';
import { CaptureError } from './CaptureError.js';
import type { CaptureState } from './CaptureSource.js';
import { StopOnce } from './StopOnce.js';

/** Options of a {@link SpeakerOutput}. */
export interface SpeakerOptions extends AudioEngineOptions {
  /** The output device: its id or (part of) its name, as `listDevices()` shows them. Default: the system's default output. */
  device?: string;
  /** The audio API. Default: PulseAudio then ALSA on Linux, the platform's default elsewhere. */
  api?: AudioApiName;
  /** 20 ms frames queued ahead in the device (latency against robustness). Default 3. */
  bufferFrames?: number;
  /** Tuning of each track's jitter buffer; the defaults suit a LAN. */
  jitter?: JitterBufferOptions;
}

/** Events of a {@link SpeakerOutput}. */
export type SpeakerEvents = {
  /** A track is being played. */
  trackAdded: [track: RemoteTrack];
  /** A track is no longer played (it ended, or was removed). */
  trackRemoved: [track: RemoteTrack];
  /** A problem the playback survives. */
  error: [error: CaptureError];
  /** Playback stopped: `error` is set when it stopped by itself (device gone), not by `stop()`. */
  ended: [error: CaptureError | undefined];
};

/** Playback counters: what was written to the device, and each track's decoding and jitter buffer. */
export type SpeakerStats = OutputStats;

/** One track being played. */
interface Playing {
  track: RemoteTrack;
  onFrame: (frame: RemoteFrame) => void;
  onEnded: () => void;
}

/**
 * Plays remote audio on this machine's speaker. {@link SpeakerOutput.attach} it to a session to play every
 * microphone track in the meeting, or add tracks one by one.
 *
 * @example
 * ```ts
 * const speaker = new SpeakerOutput({ device: 'HDMI' });
 * await speaker.start();
 * speaker.attach(session);
 * ```
 */
export class SpeakerOutput extends TypedEmitter<SpeakerEvents> {
  readonly #options: SpeakerOptions;
  readonly #playing = new Map<string, Playing>();
  #state: CaptureState = 'idle';
  #engine: AudioEngine | undefined;
  #stream: number | undefined;
  #device: { id: number; name: string; api: string } | undefined;
  #starting: Promise<void> | undefined;
  readonly #stopping = new StopOnce();
  readonly #detachers = new Set<() => void>();

  /** Makes a speaker; nothing is opened until {@link SpeakerOutput.start}. */
  constructor(options: SpeakerOptions = {}) {
    super();
    this.#options = options;
  }

  /**
   * The output devices of this machine (the default one flagged).
   * @throws {@link CaptureError} when audify is missing or no audio system answers.
   */
  static async listDevices(options: Pick<SpeakerOptions, 'api' | 'audifyModule'> = {}): Promise<CaptureDevice[]> {
    const engine = await AudioEngine.acquire('speaker', options);
    try {
      const { api, devices } = await engine.listDevices('speaker', audioApis(options.api));
      return devices.filter((d) => d.outputChannels > 0).map((d) => ({
        id: String(d.id), name: d.name, isDefault: d.isDefaultOutput, details: `${api}, ${d.outputChannels} channel${d.outputChannels === 1 ? '' : 's'}`,
      }));
    } finally {
      await engine.release();
    }
  }

  /** `idle`, `starting`, `running` or `stopped`. */
  get state(): CaptureState {
    return this.#state;
  }

  /** The device in use (after start): RtAudio id, name and audio API. */
  get device(): { id: number; name: string; api: string } | undefined {
    return this.#device;
  }

  /** The tracks being played, by id. */
  get tracks(): ReadonlyMap<string, RemoteTrack> {
    return new Map([...this.#playing].map(([id, p]) => [id, p.track]));
  }

  /**
   * Opens the output device. Calling it again returns the same promise.
   * @throws {@link CaptureError} when audify, the audio system or the device is missing.
   */
  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(CaptureError.unavailable('speaker', 'this speaker was stopped; make a new one'));
    this.#starting ??= (async () => {
      this.#state = 'starting';
      try {
        await this.#open();
      } catch (error) {
        if (this.#stopping.started) throw CaptureError.unavailable('speaker', 'stopped while starting', undefined, error);
        const failure = CaptureError.from('speaker', error, 'cannot start');
        await this.#stopping.run(() => this.#shutDown(failure));
        throw failure;
      }
      if (this.#state === 'starting') this.#state = 'running';
    })();
    return this.#starting;
  }

  /**
   * Plays `track` (a remote `microphone` track, Opus or PCM) until it ends or is removed.
   * @throws `TypeError` for a video track.
   */
  addTrack(track: RemoteTrack): void {
    if (track.kind !== 'microphone') throw new TypeError(`the speaker plays microphone tracks, not ${track.kind}`);
    if (this.#state === 'stopped' || track.ended || this.#playing.has(track.id)) return;
    const playing: Playing = {
      track,
      onFrame: (frame) => {
        if (this.#engine && this.#stream !== undefined) this.#engine.pushFrame(this.#stream, track.id, frame);
      },
      onEnded: () => this.removeTrack(track.id),
    };
    this.#playing.set(track.id, playing);
    track.on('frame', playing.onFrame).on('ended', playing.onEnded);
    this.emit('trackAdded', track);
  }

  /** Stops playing a track. */
  removeTrack(trackId: string): void {
    const playing = this.#playing.get(trackId);
    if (!playing) return;
    this.#playing.delete(trackId);
    playing.track.off('frame', playing.onFrame).off('ended', playing.onEnded);
    if (this.#engine && this.#stream !== undefined) this.#engine.removeTrack(this.#stream, trackId);
    this.emit('trackRemoved', playing.track);
  }

  /**
   * Plays every microphone track of `session`: those there now and those published later. The speaker stops when
   * the session closes.
   * @returns a function that stops following the session (its tracks are removed).
   */
  attach(session: Session): () => void {
    const onPublished = (track: RemoteTrack): void => {
      if (track.kind === 'microphone') this.addTrack(track);
    };
    const onState = (state: string): void => {
      if (state === 'closed') void this.stop();
    };
    for (const track of session.tracks.values()) onPublished(track);
    session.on('trackPublished', onPublished).on('stateChanged', onState);
    const detach = (): void => {
      if (!this.#detachers.delete(detach)) return;
      session.off('trackPublished', onPublished).off('stateChanged', onState);
      for (const track of session.tracks.values()) this.removeTrack(track.id);
    };
    this.#detachers.add(detach);
    return detach;
  }

  /** Playback counters (`undefined` before start or after stop). */
  async stats(): Promise<SpeakerStats | undefined> {
    if (!this.#engine || this.#stream === undefined) return undefined;
    return this.#engine.stats('speaker', this.#stream).catch(() => undefined);
  }

  /** Stops playback, forgets every track, releases the device. Idempotent. */
  stop(): Promise<void> {
    return this.#finish(undefined);
  }

  async #open(): Promise<void> {
    const engine = await AudioEngine.acquire('speaker', this.#options);
    this.#engine = engine;
    const opened = await engine.openOutput('speaker', {
      apis: audioApis(this.#options.api),
      ...(this.#options.device !== undefined ? { device: this.#options.device } : {}),
      name: 'lanconf speaker', bufferFrames: Math.max(1, Math.round(this.#options.bufferFrames ?? 3)), jitter: this.#options.jitter ?? {},
    }, {
      onProblem: (message, fatal) => {
        const error = CaptureError.unavailable('speaker', message);
        if (fatal) void this.#finish(error);
        else this.emit('error', error);
      },
    });
    this.#stream = opened.stream;
    this.#device = opened.device;
  }

  #finish(error: CaptureError | undefined): Promise<void> {
    const starting = this.#starting;
    // A start in progress is waited for, so the device it opens is closed too.
    return this.#stopping.run(async () => {
      await starting?.catch(() => undefined);
      await this.#shutDown(error);
    });
  }

  async #shutDown(error: CaptureError | undefined): Promise<void> {
    this.#state = 'stopped';
    for (const detach of [...this.#detachers]) detach();
    for (const id of [...this.#playing.keys()]) this.removeTrack(id);
    const engine = this.#engine;
    this.#engine = undefined;
    if (engine) {
      if (this.#stream !== undefined) await engine.close('speaker', this.#stream);
      this.#stream = undefined;
      await engine.release();
    }
    this.emit('ended', error);
  }
}
