/**
 * VP8 through WebCodecs' `VideoEncoder`: a key frame when asked and at least every `keyFrameIntervalMs`,
 * never more than two frames inside the encoder, a fresh encoder after one failure. Part of the video
 * capture chunk (videoCapture.ts).
 * @module
 * @internal
 */
import { takePicture, type EncoderOutput, type PictureEncoder } from './pictureEncoder.js';
import type { Picture } from './videoSources.js';

/** How a {@link Vp8Encoder} encodes. */
export interface Vp8EncoderOptions {
  /** Expected frame size (asked about before the first frame); the encoder follows the real one. */
  width: number;
  height: number;
  fps: number;
  /** Target bit/s. Default: 800 kbit/s at 640×480, in proportion to the pixel count. */
  bitrate?: number | undefined;
  /** A key frame at least this often (ms). */
  keyFrameIntervalMs: number;
}

/** Frames that may be inside the encoder at once; more would only wait there and add latency. */
const MAX_FRAMES_IN_ENCODER = 2;

/** The default bitrate: 800 kbit/s at 640×480, in proportion to the pixel count. */
function defaultBitrate(width: number, height: number): number {
  return Math.max(100_000, Math.round((800_000 * width * height) / (640 * 480)));
}

/** The VP8 encoder of a video pipeline. Touches WebCodecs only once used. @internal */
export class Vp8Encoder implements PictureEncoder {
  readonly #options: Vp8EncoderOptions;
  readonly #output: EncoderOutput;
  #supported: boolean | undefined;
  #encoder: VideoEncoder | undefined;
  #width = 0;
  #height = 0;
  #failures: number[] = [];
  #needKeyFrame = true;
  #lastKeyFrameAt = -Infinity;
  /** Capture time → `performance.now()` when handed to the encoder, for the encode time. */
  readonly #startedAt = new Map<number, number>();

  constructor(options: Vp8EncoderOptions, output: EncoderOutput) {
    this.#options = options;
    this.#output = output;
  }

  /** Whether this browser encodes VP8 at the expected size (asked once). */
  async supported(): Promise<boolean> {
    if (typeof VideoEncoder !== 'function' || typeof VideoFrame !== 'function') return false;
    if (this.#supported === undefined) {
      try {
        const { supported } = await VideoEncoder.isConfigSupported(this.#config(this.#options.width, this.#options.height));
        this.#supported = supported === true;
      } catch {
        this.#supported = false;
      }
    }
    return this.#supported;
  }

  get busy(): boolean {
    // Never queue in the encoder: a frame waiting there only adds latency; the next one will be fresher.
    // `encodeQueueSize` alone is not enough: Chromium takes frames off that queue at once and may then
    // fall behind inside (measured under CPU load: queue 0, output 800 ms late), so count what has not
    // come out yet too.
    return !!this.#encoder && (this.#encoder.encodeQueueSize > 1 || this.#framesInEncoder() > MAX_FRAMES_IN_ENCODER);
  }

  requestKeyFrame(): void {
    this.#needKeyFrame = true;
  }

  encode(picture: Picture, width: number, height: number, at: number): void {
    // Re-stamp with the wall-clock capture time, so encoder output carries it. Neither source copies
    // pixels: a VideoFrame is re-wrapped, a <video> gives its current decoded (I420) frame; a canvas in
    // between would cost an RGB readback and conversion per frame.
    const frame = takePicture(picture, this.#output, () => new VideoFrame(picture, { timestamp: at }));
    if (!frame) return;
    try {
      const encoder = this.#ensure(width, height);
      const now = performance.now();
      const keyFrame = this.#needKeyFrame || now - this.#lastKeyFrameAt >= this.#options.keyFrameIntervalMs;
      if (keyFrame) {
        this.#needKeyFrame = false;
        this.#lastKeyFrameAt = now;
      }
      this.#startedAt.set(at, now);
      encoder.encode(frame, { keyFrame });
    } catch (error) {
      this.#onError(error);
    } finally {
      frame.close();
    }
  }

  close(): void {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    this.#startedAt.clear();
    if (encoder && encoder.state !== 'closed') encoder.close();
  }

  #config(width: number, height: number): VideoEncoderConfig {
    return {
      codec: 'vp8',
      width,
      height,
      bitrate: this.#options.bitrate ?? defaultBitrate(width, height),
      framerate: this.#options.fps,
      latencyMode: 'realtime',
    };
  }

  #ensure(width: number, height: number): VideoEncoder {
    if (this.#encoder && this.#encoder.state !== 'closed') {
      if (width === this.#width && height === this.#height) return this.#encoder;
      // A screen window changed size: same encoder, new size, and decoders need a key frame for it.
      this.#encoder.configure(this.#config(width, height));
      this.#width = width;
      this.#height = height;
      this.#needKeyFrame = true;
      return this.#encoder;
    }
    const encoder: VideoEncoder = new VideoEncoder({
      // Output of an encoder closed since (a codec switch, a stop) is dropped.
      output: (chunk) => {
        if (encoder === this.#encoder) this.#onChunk(chunk);
      },
      error: (error) => {
        if (encoder !== this.#encoder) return;
        this.#encoder = undefined;
        this.#onError(error);
      },
    });
    encoder.configure(this.#config(width, height));
    this.#encoder = encoder;
    this.#width = width;
    this.#height = height;
    this.#needKeyFrame = true;
    return encoder;
  }

  #onChunk(chunk: EncodedVideoChunk): void {
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const keyFrame = chunk.type === 'key';
    // The encoder may drop frames under rate control: forget every start time up to this one.
    let startedAt: number | undefined;
    for (const [timestamp, started] of this.#startedAt) {
      if (timestamp > chunk.timestamp) break;
      if (timestamp === chunk.timestamp) startedAt = started;
      this.#startedAt.delete(timestamp);
    }
    // A key frame the encoder chose to make restarts the periodic schedule too.
    if (keyFrame) this.#lastKeyFrameAt = Math.max(this.#lastKeyFrameAt, performance.now());
    this.#output.frame(data, 'vp8', keyFrame, chunk.timestamp, startedAt === undefined ? undefined : performance.now() - startedAt);
  }

  /** Frames handed to the encoder that have not come out; ones gone a second are taken as dropped by it. */
  #framesInEncoder(): number {
    const now = performance.now();
    for (const [timestamp, started] of this.#startedAt) {
      if (now - started < 1000) break;
      this.#startedAt.delete(timestamp);
    }
    return this.#startedAt.size;
  }

  /** One encoder failure gets a fresh encoder; a second within 10 s means the pipeline is broken. */
  #onError(error: unknown): void {
    this.close();
    const now = performance.now();
    this.#failures = this.#failures.filter((t) => now - t < 10_000);
    this.#failures.push(now);
    if (this.#failures.length > 1) {
      this.#output.failed(error);
      return;
    }
    this.#needKeyFrame = true;
  }
}
