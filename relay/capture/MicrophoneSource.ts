/**
 * Microphone capture: audify's RtAudio at 48 kHz mono 16-bit in 20 ms buffers, encoded to Opus 20 ms frames with
 * audify's encoder, each frame carrying its audio level and a voice flag.
 * @module
 */
import { audioLevelFromRms, type Codec, type TrackKind } from '../../sdk/protocol/index.js';
import type { AudioApiName } from './audifyApi.js';
import { AudioEngine, audioApis, type AudioEngineOptions } from './AudioEngine.js';
import type { CaptureDevice } from './CaptureDevice.js';
import { CaptureError } from './CaptureError.js';
import { CaptureSource } from './CaptureSource.js';
import { pushSample } from './samples.js';

/** Options of a {@link MicrophoneSource}. */
export interface MicrophoneOptions extends AudioEngineOptions {
  /** The input device: its id or (part of) its name, as `listDevices()` shows them. Default: the system's default input. */
  device?: string;
  /** The audio API. Default: PulseAudio then ALSA on Linux, the platform's default elsewhere. */
  api?: AudioApiName;
  /** Opus bit rate (bit/s). Default 32000. */
  bitrate?: number;
  /** Frames at or louder than this audio level (0..127, −dBov) are flagged as voice. Default 50 (−50 dBov), as in browsers. */
  voiceLevel?: number;
  /** Report (as an `error` event) when the device delivers nothing for this long (ms). Default 5000. */
  watchdogMs?: number;
}

/** Timing of the Opus encoder, for benchmarks. */
export interface EncodeTimes {
  /** Milliseconds each of the latest frames (up to 3000) took to encode. */
  encodeMs: number[];
}

/**
 * The local microphone as a source of Opus frames for a `microphone` track.
 *
 * audify is an optional dependency: when it is not installed, {@link MicrophoneSource.start} rejects with a
 * {@link CaptureError} that says how to install it, and nothing else is affected.
 *
 * @example
 * ```ts
 * const mic = new MicrophoneSource({ device: 'USB' });
 * await mic.start();
 * await session.publish({ kind: 'microphone', codec: 'opus', frames: mic });
 * ```
 */
export class MicrophoneSource extends CaptureSource {
  /** Always `microphone`. */
  readonly kind: TrackKind = 'microphone';
  /** Always `opus`. */
  readonly codec: Codec = 'opus';
  /** Encoder timing. */
  readonly timing: EncodeTimes = { encodeMs: [] };
  readonly #options: MicrophoneOptions;
  readonly #voiceLevel: number;
  #engine: AudioEngine | undefined;
  #stream: number | undefined;
  #device: { id: number; name: string; api: string } | undefined;
  #hangover = 0;

  /** Makes a microphone source; nothing is opened until {@link CaptureSource.start}. */
  constructor(options: MicrophoneOptions = {}) {
    super('microphone', 50);
    this.#options = options;
    this.#voiceLevel = options.voiceLevel ?? 50;
  }

  /**
   * The input devices of this machine (the default one flagged).
   * @throws {@link CaptureError} when audify is missing or no audio system answers.
   */
  static async listDevices(options: Pick<MicrophoneOptions, 'api' | 'audifyModule'> = {}): Promise<CaptureDevice[]> {
    const engine = await AudioEngine.acquire('microphone', options);
    try {
      const { api, devices } = await engine.listDevices('microphone', audioApis(options.api));
      return devices.filter((d) => d.inputChannels > 0).map((d) => ({
        id: String(d.id), name: d.name, isDefault: d.isDefaultInput, details: `${api}, ${d.inputChannels} channel${d.inputChannels === 1 ? '' : 's'}`,
      }));
    } finally {
      await engine.release();
    }
  }

  /** The device in use (after start): RtAudio id, name and audio API. */
  get device(): { id: number; name: string; api: string } | undefined {
    return this.#device;
  }

  /** @inheritDoc */
  protected override async open(signal: AbortSignal): Promise<void> {
    const engine = await AudioEngine.acquire('microphone', this.#options);
    this.#engine = engine;
    if (signal.aborted) return;
    const opened = await engine.openInput('microphone', {
      apis: audioApis(this.#options.api),
      ...(this.#options.device !== undefined ? { device: this.#options.device } : {}),
      bitrate: this.#options.bitrate ?? 32000, name: 'lanconf microphone', watchdogMs: this.#options.watchdogMs ?? 5000,
    }, {
      onPacket: (packet) => {
        const audioLevel = audioLevelFromRms(packet.rms);
        // A short hangover keeps the flag on between syllables, so speech is not chopped into bits.
        this.#hangover = audioLevel <= this.#voiceLevel ? 5 : Math.max(0, this.#hangover - 1);
        pushSample(this.timing.encodeMs, packet.encodeMs, 3000);
        this.deliver({ data: packet.data, timestamp: packet.ts, audioLevel, voice: this.#hangover > 0 });
      },
      onProblem: (message, fatal) => {
        const error = CaptureError.unavailable('microphone', message);
        if (fatal) this.fail(error);
        else this.warn(error);
      },
    });
    this.#stream = opened.stream;
    this.#device = opened.device;
  }

  /** @inheritDoc */
  protected override async close(): Promise<void> {
    const engine = this.#engine;
    this.#engine = undefined;
    if (!engine) return;
    if (this.#stream !== undefined) await engine.close('microphone', this.#stream);
    this.#stream = undefined;
    await engine.release();
  }
}
