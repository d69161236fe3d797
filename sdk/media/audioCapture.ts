/**
 * Browser microphone capture → encode: a `MediaStreamTrack` in, 20 ms Opus (WebCodecs) or PCM 16-bit frames out.
 * Touches browser globals only when called. Loaded on first use: the session imports it when a microphone
 * is published, so the capture worklet's source and the PCM fallback never weigh on a first screen.
 * @module
 */
import { AUDIO_CODECS, type Codec } from '../protocol/index.js';
import { audioLevelFromRms } from '../protocol/media.js';
import { nowMicros } from '../Track.js';
import { TypedEmitter } from '../TypedEmitter.js';
import { canEncodeOpus } from './capabilities.js';
import type { EncodedOutput, MediaFallbacks, MediaPublisher, PublisherStats } from './types.js';
import { LinearResampler, floatToPcm16, loadWorklet, toMono } from './audioShared.js';

// Kept here too for code that imports them from this module (the SDK takes them from devices.ts and
// audioShared.ts, so that neither the pre-join screen nor the playout loads the capture pipeline).
export { microphoneConstraints } from './devices.js';
export { LinearResampler, floatToPcm16, loadWorklet, pcm16ToFloat, toMono } from './audioShared.js';

/** The sample rate of every lanconf audio frame. */
const RATE = 48000;
/** Samples in a 20 ms frame at 48 kHz. */
const FRAME = 960;
const FRAME_US = 20000;

/** Options of {@link createAudioPublisher}. */
export interface AudioPublisherOptions {
  /** The codec to start with. Opus falls back to `pcm16` where the browser cannot encode it. */
  codec: 'opus' | 'pcm16';
  /** Force fallbacks (for tests, and browsers that misreport support). */
  fallbacks?: MediaFallbacks;
  /** Where the encoded frames go. */
  output: EncodedOutput;
  /** Opus bit rate (bit/s). Default 32000. */
  bitrate?: number;
  /** Frames at or louder than this audio level (0..127, −dBov) are flagged as voice. Default 50 (−50 dBov). */
  voiceLevel?: number;
}

/** The Opus configuration the publisher uses: mono 48 kHz, 20 ms frames, tuned for speech. */
function opusConfig(bitrate: number): AudioEncoderConfig {
  return {
    codec: 'opus', sampleRate: RATE, numberOfChannels: 1, bitrate,
    opus: { frameDuration: FRAME_US, application: 'voip' } as OpusEncoderConfig,
  };
}

/**
 * Starts a microphone publisher: captures `track` (through `MediaStreamTrackProcessor`, or an AudioWorklet
 * where that is missing), cuts 20 ms mono frames at 48 kHz and encodes them as Opus (WebCodecs) or PCM 16-bit
 * little-endian. Every frame is a key frame and carries its capture time (µs since the Unix epoch), its audio
 * level and a voice flag. Call `start()`; the session drives the rest.
 *
 * The AudioWorklet path (browsers without `MediaStreamTrackProcessor`, or `fallbacks.noTrackProcessor`) runs on
 * an AudioContext of its own, which browsers only start after a user gesture: call `start()` from one (the
 * click that publishes the microphone) there.
 *
 * @example
 * ```ts
 * const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints() });
 * const publisher = createAudioPublisher(stream.getAudioTracks()[0]!, {
 *   codec: 'opus',
 *   output: { onFrame: (frame) => localTrack.send(frame), onError: (e) => console.error(e) },
 * });
 * await publisher.start();
 * ```
 */
export function createAudioPublisher(track: MediaStreamTrack, options: AudioPublisherOptions): MediaPublisher {
  if (track.kind !== 'audio') throw new TypeError(`createAudioPublisher needs an audio track, got ${track.kind}`);
  if (!AUDIO_CODECS.has(options.codec)) throw new TypeError(`${String(options.codec)} is not an audio codec`);
  return new AudioPublisher(track, options);
}

/** The minimal `MediaStreamTrackProcessor` surface (not in TypeScript's DOM types yet). */
type TrackProcessorCtor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<AudioData> };

/** A running capture of one track. */
interface Capture {
  stop(): void;
}

/** One Opus encoder and what it still owes: the frame metadata keyed by the encoder's own timestamps. */
interface OpusLane {
  encoder: AudioEncoder;
  meta: Map<number, { timestamp: number; audioLevel: number; voice: boolean; startedMs: number }>;
  nextTimestamp: number;
}

/** AudioWorklet that posts the input as mono Float32 chunks of 480 samples with their context frame number. */
const CAPTURE_WORKLET = `
registerProcessor('lanconf-capture', class extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buf = new Float32Array(480);
    this.n = 0;
    this.first = 0;
    this.live = true;
    this.port.onmessage = (e) => { if (e.data === 'stop') this.live = false; };
  }
  process(inputs) {
    const channels = inputs[0];
    if (!this.live) return false;
    if (!channels || channels.length === 0) return true;
    const len = channels[0].length;
    for (let i = 0; i < len; i++) {
      let x = 0;
      for (let c = 0; c < channels.length; c++) x += channels[c][i];
      if (this.n === 0) this.first = currentFrame + i;
      this.buf[this.n++] = x / channels.length;
      if (this.n === this.buf.length) {
        this.port.postMessage({ samples: this.buf, frame: this.first }, [this.buf.buffer]);
        this.buf = new Float32Array(480);
        this.n = 0;
      }
    }
    return true;
  }
});
`;

class AudioPublisher implements MediaPublisher {
  readonly stats: PublisherStats = { framesEncoded: 0, bytesEncoded: 0, encodeMs: 0, framesSkipped: 0 };
  readonly #output: EncodedOutput;
  readonly #fallbacks: MediaFallbacks;
  readonly #bitrate: number;
  readonly #voiceLevel: number;
  #track: MediaStreamTrack;
  #codec: Codec;
  #capture: Capture | undefined;
  #opus: OpusLane | undefined;
  /** Frames cut while a codec switch waits for the old encoder to drain, so the new codec cannot overtake it. */
  #backlog: Array<{ samples: Float32Array<ArrayBuffer>; timestamp: number; audioLevel: number; voice: boolean }> | undefined;
  #encoderRestarts = 0;
  #switching: Promise<void> = Promise.resolve();
  #onEnded: (() => void) | undefined;
  #started: Promise<void> | undefined;
  #stopped = false;
  #paused = false;
  /** The 20 ms frame being filled, and the capture time of its first sample. */
  #frame: Float32Array<ArrayBuffer> = new Float32Array(FRAME);
  #filled = 0;
  #frameStartUs = 0;
  /** Source clock → Unix µs: the smallest (least delayed) offset seen, allowed to creep up with clock drift. */
  #clockOffsetUs: number | undefined;
  #hangover = 0;
  #encodeTimes: number[] = [];
  #audioContext: AudioContext | undefined;
  #workletLoaded: Promise<void> | undefined;

  constructor(track: MediaStreamTrack, options: AudioPublisherOptions) {
    this.#track = track;
    this.#output = options.output;
    this.#fallbacks = options.fallbacks ?? {};
    this.#bitrate = options.bitrate ?? 32000;
    this.#voiceLevel = options.voiceLevel ?? 50;
    this.#codec = options.codec === 'opus' && !this.#fallbacks.pcmOnly ? 'opus' : 'pcm16';
  }

  get codec(): Codec {
    return this.#codec;
  }

  get track(): MediaStreamTrack {
    return this.#track;
  }

  start(): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error('the audio publisher was stopped'));
    this.#started ??= (async () => {
      if (this.#codec === 'opus' && !this.#opus) this.#codec = (await this.#openOpus()) ? 'opus' : 'pcm16';
      if (this.#stopped) return;
      this.#capture = await this.#startCapture(this.#track);
    })();
    return this.#started;
  }

  setCodec(codec: Codec): Promise<void> {
    if (!AUDIO_CODECS.has(codec)) return Promise.reject(new TypeError(`${codec} is not an audio codec`));
    // One switch at a time: a second one waits for the first to drain its encoder.
    const next = this.#switching.then(() => this.#switchCodec(codec));
    this.#switching = next.catch(() => undefined);
    return next;
  }

  async #switchCodec(codec: Codec): Promise<void> {
    const wanted: Codec = codec === 'opus' && !this.#fallbacks.pcmOnly ? 'opus' : 'pcm16';
    if (wanted === this.#codec || this.#stopped) return;
    const old = this.#opus;
    this.#opus = undefined;
    this.#backlog = [];
    try {
      if (old && old.encoder.state === 'configured') await old.encoder.flush().catch(() => undefined);
      if (old && old.encoder.state !== 'closed') old.encoder.close();
      this.#codec = wanted === 'opus' && (await this.#openOpus()) ? 'opus' : 'pcm16';
    } finally {
      const backlog = this.#backlog;
      this.#backlog = undefined;
      for (const frame of backlog) this.#encode(frame.samples, frame.timestamp, frame.audioLevel, frame.voice);
    }
  }

  requestKeyFrame(): void {
    // Every audio frame decodes alone.
  }

  setPaused(paused: boolean): void {
    this.#paused = paused;
  }

  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    if (track.kind !== 'audio') throw new TypeError(`replaceTrack needs an audio track, got ${track.kind}`);
    if (this.#stopped) {
      track.stop();
      return;
    }
    const old = this.#track;
    this.#capture?.stop();
    this.#capture = undefined;
    this.#track = track;
    this.#unwatch(old);
    if (old !== track) old.stop();
    // A new device has its own clock; keep the partial frame so the stream stays continuous.
    this.#clockOffsetUs = undefined;
    if (this.#started) {
      await this.#started;
      if (!this.#stopped && this.#track === track) this.#capture = await this.#startCapture(track);
    }
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#capture?.stop();
    this.#capture = undefined;
    if (this.#opus && this.#opus.encoder.state !== 'closed') this.#opus.encoder.close();
    this.#opus = undefined;
    void this.#audioContext?.close().catch(() => undefined);
    this.#audioContext = undefined;
    this.#unwatch(this.#track);
    this.#track.stop();
  }

  #unwatch(track: MediaStreamTrack): void {
    if (this.#onEnded) track.removeEventListener('ended', this.#onEnded);
    this.#onEnded = undefined;
  }

  /** Opens an Opus encoder; `false` when the browser cannot (then the caller uses PCM). */
  async #openOpus(): Promise<boolean> {
    if (!(await canEncodeOpus(this.#fallbacks))) return false;
    if (this.#stopped) return false;
    const lane: OpusLane = { encoder: undefined!, meta: new Map(), nextTimestamp: 0 };
    lane.encoder = new AudioEncoder({
      output: (chunk) => this.#onOpus(lane, chunk),
      error: (error) => this.#onEncoderError(lane, error),
    });
    lane.encoder.configure(opusConfig(this.#bitrate));
    this.#opus = lane;
    return true;
  }

  #onOpus(lane: OpusLane, chunk: EncodedAudioChunk): void {
    // The encoder numbers its output from the first input's timestamp plus the samples it has seen, so
    // feeding it a gapless 20 ms timeline makes each output's timestamp name the frame it came from — give or
    // take a microsecond of rounding (Chromium says 259999 for 260000).
    const key = Math.round(chunk.timestamp / FRAME_US) * FRAME_US;
    const meta = lane.meta.get(key);
    for (const k of lane.meta.keys()) if (k <= key) lane.meta.delete(k);
    // No metadata: the padded tail a flush emits, which belongs to no captured frame.
    if (!meta || this.#stopped) return;
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    this.#emit({ data, codec: 'opus', timestamp: meta.timestamp, audioLevel: meta.audioLevel, voice: meta.voice }, performance.now() - meta.startedMs);
  }

  #onEncoderError(lane: OpusLane, error: DOMException): void {
    if (this.#stopped || this.#opus !== lane) return;
    this.#opus = undefined;
    // One restart; if Opus fails again, keep the audio flowing as PCM (bigger, but heard) rather than stop.
    if (this.#encoderRestarts++ === 0) {
      void this.#openOpus().then((ok) => {
        if (!ok) this.#codec = 'pcm16';
      });
    } else {
      this.#codec = 'pcm16';
      console.warn('lanconf: the Opus encoder failed twice; sending PCM instead', error);
    }
  }

  #emit(frame: { data: Uint8Array; codec: Codec; timestamp: number; audioLevel: number; voice: boolean }, encodeMs: number): void {
    this.stats.framesEncoded++;
    this.stats.bytesEncoded += frame.data.byteLength;
    this.#encodeTimes.push(encodeMs);
    if (this.#encodeTimes.length > 50) this.#encodeTimes.shift();
    this.stats.encodeMs = this.#encodeTimes.reduce((a, b) => a + b, 0) / this.#encodeTimes.length;
    try {
      this.#output.onFrame({ ...frame, keyFrame: true });
    } catch (error) {
      TypedEmitter.onListenerError(error, 'onFrame');
    }
  }

  async #startCapture(track: MediaStreamTrack): Promise<Capture> {
    this.#unwatch(track);
    this.#onEnded = () => {
      if (!this.#stopped && this.#track === track) {
        this.#output.onError(new Error('the microphone track ended (device unplugged, or permission revoked)'));
      }
    };
    track.addEventListener('ended', this.#onEnded);
    const Processor = (globalThis as { MediaStreamTrackProcessor?: TrackProcessorCtor }).MediaStreamTrackProcessor;
    if (Processor && !this.#fallbacks.noTrackProcessor) return this.#captureWithProcessor(Processor, track);
    return this.#captureWithWorklet(track);
  }

  #captureWithProcessor(Processor: TrackProcessorCtor, track: MediaStreamTrack): Capture {
    const reader = new Processor({ track, maxBufferSize: 50 }).readable.getReader();
    let live = true;
    let resampler: LinearResampler | undefined;
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || !live) {
            value?.close();
            break;
          }
          try {
            const mono = toMono(value);
            if (value.sampleRate !== RATE && (!resampler || resampler.from !== value.sampleRate)) {
              resampler = new LinearResampler(value.sampleRate, RATE);
            }
            this.#take(value.sampleRate === RATE ? mono : resampler!.process(mono), value.timestamp);
          } finally {
            value.close();
          }
        }
      } catch (error) {
        if (live && !this.#stopped) this.#output.onError(error instanceof Error ? error : new Error(String(error)));
      }
    })();
    return {
      stop: () => {
        live = false;
        void reader.cancel().catch(() => undefined);
      },
    };
  }

  async #captureWithWorklet(track: MediaStreamTrack): Promise<Capture> {
    // One context for the publisher's life, so a device switch does not pay for a new one.
    const context = (this.#audioContext ??= new AudioContext({ sampleRate: RATE, latencyHint: 'interactive' }));
    this.#workletLoaded ??= loadWorklet(context, CAPTURE_WORKLET);
    await this.#workletLoaded;
    if (context.state !== 'running') await Promise.race([context.resume(), new Promise((r) => setTimeout(r, 500))]);
    const source = context.createMediaStreamSource(new MediaStream([track]));
    const node = new AudioWorkletNode(context, 'lanconf-capture', {
      numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit', channelInterpretation: 'speakers',
    });
    const resampler = context.sampleRate === RATE ? undefined : new LinearResampler(context.sampleRate, RATE);
    let live = true;
    node.port.onmessage = (event: MessageEvent<{ samples: Float32Array; frame: number }>) => {
      if (!live) return;
      const { samples, frame } = event.data;
      this.#take(resampler ? resampler.process(samples) : samples, (frame / context.sampleRate) * 1e6);
    };
    source.connect(node);
    return {
      stop: () => {
        live = false;
        node.port.postMessage('stop');
        source.disconnect();
        node.port.onmessage = null;
      },
    };
  }

  /** Takes captured 48 kHz mono samples whose first one was captured at `sourceUs` on the source's clock. */
  #take(samples: Float32Array, sourceUs: number): void {
    if (this.#stopped || samples.length === 0) return;
    const startUs = this.#toUnixMicros(sourceUs, samples.length);
    let i = 0;
    while (i < samples.length) {
      if (this.#filled === 0) this.#frameStartUs = startUs + (i / RATE) * 1e6;
      const count = Math.min(FRAME - this.#filled, samples.length - i);
      this.#frame.set(samples.subarray(i, i + count), this.#filled);
      this.#filled += count;
      i += count;
      if (this.#filled === FRAME) {
        const frame = this.#frame;
        this.#frame = new Float32Array(FRAME);
        this.#filled = 0;
        this.#onFrame(frame, Math.round(this.#frameStartUs));
      }
    }
  }

  #toUnixMicros(sourceUs: number, length: number): number {
    // The chunk's first sample was captured at least its own duration before it reached us.
    const offset = nowMicros() - (sourceUs + (length / RATE) * 1e6);
    if (this.#clockOffsetUs === undefined || offset < this.#clockOffsetUs || offset - this.#clockOffsetUs > 500_000) {
      this.#clockOffsetUs = offset;
    } else {
      this.#clockOffsetUs += 0.5; // ≈50 ppm at 10 ms chunks: follows a source clock slower than ours
    }
    return sourceUs + this.#clockOffsetUs;
  }

  #onFrame(samples: Float32Array<ArrayBuffer>, timestamp: number): void {
    let sum = 0;
    for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
    const audioLevel = audioLevelFromRms(Math.sqrt(sum / samples.length));
    // A short hangover keeps the flag on between syllables, so speech is not chopped into bits.
    this.#hangover = audioLevel <= this.#voiceLevel ? 5 : Math.max(0, this.#hangover - 1);
    const voice = this.#hangover > 0;
    if (this.#paused) {
      this.stats.framesSkipped++;
      return;
    }
    if (this.#backlog) this.#backlog.push({ samples, timestamp, audioLevel, voice });
    else this.#encode(samples, timestamp, audioLevel, voice);
  }

  #encode(samples: Float32Array<ArrayBuffer>, timestamp: number, audioLevel: number, voice: boolean): void {
    if (this.#stopped) return;
    if (this.#codec === 'pcm16') {
      const started = performance.now();
      this.#emit({ data: floatToPcm16(samples), codec: 'pcm16', timestamp, audioLevel, voice }, performance.now() - started);
      return;
    }
    const lane = this.#opus;
    // Opus is restarting after an error, or the encoder has fallen behind: skip rather than queue up delay.
    if (!lane || lane.encoder.state !== 'configured' || lane.encoder.encodeQueueSize > 5) {
      this.stats.framesSkipped++;
      return;
    }
    const at = lane.nextTimestamp;
    lane.nextTimestamp += FRAME_US;
    lane.meta.set(at, { timestamp, audioLevel, voice, startedMs: performance.now() });
    const data = new AudioData({ format: 'f32-planar', sampleRate: RATE, numberOfFrames: FRAME, numberOfChannels: 1, timestamp: at, data: samples });
    try {
      lane.encoder.encode(data);
    } finally {
      data.close();
    }
  }
}
