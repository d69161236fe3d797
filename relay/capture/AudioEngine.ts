/**
 * The main-thread side of the audio worker (see `audioWorker.ts`): one worker per process, shared by the
 * microphone and the speaker, started on first use and ended when the last user lets go.
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { JitterBufferOptions } from '../../sdk/media/JitterBuffer.js';
import type { RemoteFrame } from '../../sdk/Track.js';
import { RtAudioApi, type AudioApiName } from './audifyApi.js';
import { audioWorkerSource, type FromAudioWorker, type OutputStats, type ToAudioWorker, type WorkerDevice } from './audioWorker.js';
import { CaptureError, type CaptureAdapterName } from './CaptureError.js';

/** How to reach audify. @internal */
export interface AudioEngineOptions {
  /** The module to load: `audify` (default), or a path to an audify build. */
  audifyModule?: string;
}

/** Devices as one audio API lists them. @internal */
export interface AudioDeviceList {
  /** The API's name (`Pulse`, `ALSA`, `CoreAudio`…), empty when none listed anything. */
  api: string;
  devices: WorkerDevice[];
}

/** A stream opened in the worker. @internal */
export interface OpenedStream {
  stream: number;
  device: { id: number; name: string; api: string };
}

/** Packets and problems of one stream. @internal */
interface StreamListener {
  onPacket?: (packet: Extract<FromAudioWorker, { t: 'packet' }>) => void;
  onProblem: (message: string, fatal: boolean) => void;
}

const INSTALL_AUDIFY = 'install it with "npm install audify" (it builds RtAudio and Opus from source: it needs cmake and a C++ '
  + 'compiler, and on Linux the libasound2-dev and libpulse-dev packages)';
const NO_DEVICE_HINT = 'start the sound server (PulseAudio, or PipeWire with pipewire-pulse; "pactl info" shows whether it '
  + 'answers) or plug a device in';
const READY_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_MS = 10_000;

const engines = new Map<string, Promise<AudioEngine>>();
let nextStream = 1;

/** The audio APIs to try, in order: the one named, or the platform's usual ones. @internal */
export function audioApis(api: AudioApiName | undefined): number[] {
  if (api && api !== 'default') return [RtAudioApi[api]];
  if (process.platform === 'linux') return [RtAudioApi.pulse, RtAudioApi.alsa];
  return [RtAudioApi.unspecified];
}

/** Where audify's entry file is, or a `CaptureError` saying it is not installed. @internal */
export function resolveAudify(adapter: CaptureAdapterName, module = 'audify'): string {
  try {
    return createRequire(import.meta.url).resolve(module);
  } catch (error) {
    throw CaptureError.unavailable(adapter, `the optional dependency "${module}" is not installed`, INSTALL_AUDIFY, error);
  }
}

/**
 * One audio worker. Get it with {@link AudioEngine.acquire}, give it back with {@link AudioEngine.release}.
 * @internal
 */
export class AudioEngine {
  readonly #key: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void; adapter: CaptureAdapterName; timer: ReturnType<typeof setTimeout> }>();
  readonly #streams = new Map<number, StreamListener>();
  #users = 0;
  #nextId = 1;
  #dead: string | undefined;

  private constructor(key: string, worker: Worker) {
    this.#key = key;
    this.#worker = worker;
  }

  /**
   * The process's audio worker for `options.audifyModule`, started when needed.
   * @throws {@link CaptureError} when audify is not installed or does not load.
   */
  static async acquire(adapter: CaptureAdapterName, options: AudioEngineOptions = {}): Promise<AudioEngine> {
    const path = resolveAudify(adapter, options.audifyModule);
    let starting = engines.get(path);
    if (!starting) {
      starting = AudioEngine.#start(adapter, path);
      engines.set(path, starting);
      starting.catch(() => engines.delete(path));
    }
    const engine = await starting;
    // Released by its last user while this call waited: start a fresh one.
    if (engine.#dead || engines.get(path) !== starting) return AudioEngine.acquire(adapter, options);
    engine.#users++;
    return engine;
  }

  static #start(adapter: CaptureAdapterName, path: string): Promise<AudioEngine> {
    return new Promise((resolve, reject) => {
      let worker: Worker;
      try {
        worker = new Worker(audioWorkerSource(), { eval: true, workerData: { audifyPath: path } });
      } catch (error) {
        reject(CaptureError.from(adapter, error, 'cannot start the audio thread'));
        return;
      }
      const engine = new AudioEngine(path, worker);
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(CaptureError.unavailable(adapter, `audify did not load within ${READY_TIMEOUT_MS / 1000} s`));
      }, READY_TIMEOUT_MS);
      const early = (message: FromAudioWorker): void => {
        if (message.t === 'ready') {
          clearTimeout(timer);
          worker.off('message', early);
          worker.on('message', (m: FromAudioWorker) => engine.#onMessage(m));
          resolve(engine);
        } else if (message.t === 'loadFailed') {
          clearTimeout(timer);
          void worker.terminate();
          reject(CaptureError.unavailable(adapter, `audify is installed but does not load (${message.message})`,
            'rebuild it with "npm rebuild audify" on this machine'));
        }
      };
      worker.on('message', early);
      worker.on('error', (error) => {
        clearTimeout(timer);
        reject(CaptureError.from(adapter, error, 'the audio thread failed'));
        engine.#die(`the audio thread failed: ${error.message}`);
      });
      worker.on('exit', (code) => {
        clearTimeout(timer);
        reject(CaptureError.unavailable(adapter, `the audio thread exited (${code}) before audify loaded`));
        engine.#die(`the audio thread exited (${code})`);
      });
    });
  }

  /** Lists the devices of the first of `apis` that has any. */
  listDevices(adapter: CaptureAdapterName, apis: number[]): Promise<AudioDeviceList> {
    return this.#request(adapter, { t: 'devices', id: 0, apis }) as Promise<AudioDeviceList>;
  }

  /** Opens a capture stream that sends Opus packets to `listener.onPacket`. */
  openInput(adapter: CaptureAdapterName, options: { apis: number[]; device?: string; bitrate: number; name: string; watchdogMs: number },
    listener: StreamListener): Promise<OpenedStream> {
    return this.#open(adapter, (stream) => ({ t: 'openInput', id: 0, stream, ...options }), listener);
  }

  /** Opens a playback stream that mixes the frames given to {@link AudioEngine.pushFrame}. */
  openOutput(adapter: CaptureAdapterName, options: { apis: number[]; device?: string; name: string; bufferFrames: number; jitter: JitterBufferOptions },
    listener: StreamListener): Promise<OpenedStream> {
    return this.#open(adapter, (stream) => ({ t: 'openOutput', id: 0, stream, ...options }), listener);
  }

  /** Opens stream `message(stream)` describes, its events going to `listener` (forgotten if it fails). */
  async #open(adapter: CaptureAdapterName, message: (stream: number) => ToAudioWorker & { id: number },
    listener: StreamListener): Promise<OpenedStream> {
    const stream = nextStream++;
    this.#streams.set(stream, listener);
    try {
      const device = await this.#request(adapter, message(stream)) as OpenedStream['device'];
      return { stream, device };
    } catch (error) {
      this.#streams.delete(stream);
      throw error;
    }
  }

  /** Hands a remote audio frame to a playback stream. */
  pushFrame(stream: number, trackId: string, frame: RemoteFrame): void {
    if (this.#dead) return;
    const data = frame.data.slice();
    const message: ToAudioWorker = {
      t: 'frame', stream, track: trackId, seq: frame.sequence, ts: frame.timestamp, codec: frame.codec, data,
      at: performance.timeOrigin + performance.now(),
    };
    this.#worker.postMessage(message, [data.buffer]);
  }

  /** Forgets a track of a playback stream. */
  removeTrack(stream: number, trackId: string): void {
    if (!this.#dead) this.#worker.postMessage({ t: 'removeTrack', stream, track: trackId } satisfies ToAudioWorker);
  }

  /** Counters of a playback stream. */
  stats(adapter: CaptureAdapterName, stream: number): Promise<OutputStats | undefined> {
    return this.#request(adapter, { t: 'stats', id: 0, stream }) as Promise<OutputStats | undefined>;
  }

  /** Closes a stream (never rejects). */
  async close(adapter: CaptureAdapterName, stream: number): Promise<void> {
    this.#streams.delete(stream);
    await this.#request(adapter, { t: 'close', id: 0, stream }).catch(() => undefined);
  }

  /** Lets go of the engine; the last user ends the worker (which is what lets the process exit). */
  async release(): Promise<void> {
    if (--this.#users > 0) return;
    if (engines.get(this.#key) !== undefined) engines.delete(this.#key);
    if (!this.#dead) {
      await this.#request('speaker', { t: 'shutdown', id: 0 }).catch(() => undefined);
      this.#dead = 'the audio thread was stopped';
    }
    await this.#worker.terminate().catch(() => undefined);
  }

  #request(adapter: CaptureAdapterName, message: ToAudioWorker & { id: number }): Promise<unknown> {
    if (this.#dead) return Promise.reject(CaptureError.unavailable(adapter, this.#dead));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(CaptureError.unavailable(adapter, `the audio thread did not answer "${message.t}" within ${REQUEST_TIMEOUT_MS / 1000} s`));
      }, REQUEST_TIMEOUT_MS);
      this.#pending.set(id, { resolve, reject, adapter, timer });
      this.#worker.postMessage({ ...message, id });
    });
  }

  #onMessage(message: FromAudioWorker): void {
    switch (message.t) {
      case 'reply': {
        const pending = this.#pending.get(message.id);
        if (!pending) return;
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.ok) pending.resolve(message.value);
        else if (message.code === 'notfound') pending.reject(CaptureError.deviceNotFound(pending.adapter, message.device ?? '', message.available ?? []));
        else if (message.code === 'nodevice') pending.reject(CaptureError.unavailable(pending.adapter, message.message, NO_DEVICE_HINT));
        else pending.reject(CaptureError.unavailable(pending.adapter, message.message));
        return;
      }
      case 'packet':
        this.#streams.get(message.stream)?.onPacket?.(message);
        return;
      case 'problem':
        this.#streams.get(message.stream)?.onProblem(message.message, message.fatal);
        return;
      default:
    }
  }

  #die(reason: string): void {
    if (this.#dead) return;
    this.#dead = reason;
    if (engines.get(this.#key) !== undefined) engines.delete(this.#key);
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(CaptureError.unavailable(pending.adapter, reason));
      this.#pending.delete(id);
    }
    for (const listener of this.#streams.values()) listener.onProblem(reason, true);
    this.#streams.clear();
  }
}
