/**
 * Browser video capture → encode: a camera or screen `MediaStreamTrack` in, encoded frames (`EncodedFrame`) out
 * (VP8 through WebCodecs, or JPEG through a canvas). The constraints and device list a page needs to get
 * such a track are in devices.ts. Loaded on first use (the session imports it when a camera or screen is
 * published), so its fallbacks (JPEG, `<video>` + canvas capture) never weigh on a first screen.
 *
 * This module is the pipeline (frame rate, pauses, codec switches, track changes, stats); the pictures come
 * from videoSources.ts, and each codec has its encoder: vp8Encoder.ts, jpegEncoder.ts (pictureEncoder.ts
 * says what they share). They are imported from here only, so they stay in this module's chunk.
 *
 * Browser globals are touched only when a function is called, never at import time, so this module
 * still imports in Node.
 * @module
 */
import type { Codec } from '../protocol/index.js';
import { TypedEmitter } from '../TypedEmitter.js';
import { JpegEncoder } from './jpegEncoder.js';
import type { EncoderOutput, PictureEncoder } from './pictureEncoder.js';
import type { EncodedOutput, MediaFallbacks, MediaPublisher, PublisherStats } from './types.js';
import { openFrameSource, type FrameSink, type FrameSource } from './videoSources.js';
import { Vp8Encoder } from './vp8Encoder.js';

// Kept here too for code that imports them from this module; the SDK takes them from devices.ts, so that
// the pre-join screen does not load the capture pipeline.
export {
  cameraConstraints, screenConstraints, listDevices,
  type CameraConstraintOptions, type ScreenConstraintOptions, type MediaDeviceList,
} from './devices.js';

/** The video codecs a {@link createVideoPublisher} pipeline can produce. */
export type PublisherVideoCodec = 'vp8' | 'jpeg';

/** Options of {@link createVideoPublisher}. */
export interface VideoPublisherOptions {
  /** The codec to start with. VP8 falls back to JPEG where WebCodecs cannot encode it (read `publisher.codec`). */
  codec: PublisherVideoCodec;
  /** Expected frame width; the encoder follows the real frame size when it differs (screens change size). */
  width: number;
  /** Expected frame height. */
  height: number;
  /** Most frames per second to encode; extra frames from the source are skipped. */
  fps: number;
  /**
   * VP8 target bitrate in bit/s. Default: 800 kbit/s for 640×480, scaled by the pixel count of the
   * frames actually encoded.
   */
  bitrate?: number;
  /** A VP8 key frame at least this often (ms), so a subscriber that missed one recovers. Default 2000. */
  keyFrameIntervalMs?: number;
  /** JPEG quality, 0..1. Default 0.7. */
  jpegQuality?: number;
  /** Force fallbacks (tests, or browsers known to misbehave). */
  fallbacks?: MediaFallbacks;
  /** Where encoded frames and fatal errors go. */
  output: EncodedOutput;
}

/**
 * Makes a capture → encode pipeline for one video track (camera or screen). Call `start()` on it; the
 * track is read through `MediaStreamTrackProcessor` where the browser has it, else through a hidden
 * `<video>` drawn into a canvas.
 *
 * Every frame handed to `output.onFrame` carries its codec, whether it is a key frame, and its capture
 * time in µs since the Unix epoch.
 *
 * `stop()` ends capture at once; through `MediaStreamTrackProcessor` the track itself is stopped when the
 * frame being read has come (a frame later, at most a second), as is the old track of
 * `replaceTrack()`, whose promise waits for it: Chromium drops the frame of a read cut short without
 * closing it.
 *
 * @example
 * ```ts
 * const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints());
 * const publisher = createVideoPublisher(stream.getVideoTracks()[0]!, {
 *   codec: 'vp8', width: 640, height: 480, fps: 25,
 *   output: { onFrame: (frame) => track.send(frame), onError: (error) => console.error(error) },
 * });
 * await publisher.start();
 * track.on('keyFrameRequested', () => publisher.requestKeyFrame());
 * ```
 */
export function createVideoPublisher(track: MediaStreamTrack, options: VideoPublisherOptions): MediaPublisher {
  if (track.kind !== 'video') throw new TypeError(`createVideoPublisher needs a video track, got ${track.kind}`);
  if (options.codec !== 'vp8' && options.codec !== 'jpeg') throw new TypeError(`unsupported video codec ${String(options.codec)}`);
  if (!(options.fps > 0)) throw new TypeError('fps must be positive');
  if (!(options.width > 0 && options.height > 0)) throw new TypeError('width and height must be positive');
  return new VideoPublisher(track, options);
}

/** Captures in a row that yield no picture before the pipeline gives up (≈2 s at 25 fps). */
const MAX_CAPTURE_FAILURES = 50;

/**
 * The pipeline behind {@link createVideoPublisher}.
 * @internal
 */
class VideoPublisher implements MediaPublisher {
  readonly stats: PublisherStats = { framesEncoded: 0, bytesEncoded: 0, encodeMs: 0, framesSkipped: 0 };
  #track: MediaStreamTrack;
  readonly #options: VideoPublisherOptions;
  readonly #fallbacks: MediaFallbacks;
  readonly #encoders: Record<PublisherVideoCodec, PictureEncoder> & { vp8: Vp8Encoder };
  #codec: PublisherVideoCodec;
  #started = false;
  #stopped = false;
  #paused = false;
  #source: FrameSource | undefined;

  /** Rate cap: the capture time (µs) from which the next frame is taken. */
  #nextDueAt = 0;
  readonly #recentEncodeMs: number[] = [];
  #captureFailures = 0;

  constructor(track: MediaStreamTrack, options: VideoPublisherOptions) {
    this.#track = track;
    this.#options = options;
    this.#fallbacks = options.fallbacks ?? {};
    this.#codec = options.codec;
    const output: EncoderOutput = {
      frame: (data, codec, keyFrame, timestamp, encodeMs) => this.#emit(data, codec, keyFrame, timestamp, encodeMs),
      captureFailed: (error) => this.#captureFailed(error),
      captured: () => {
        this.#captureFailures = 0;
      },
      failed: (error) => this.#fail(asError(error)),
    };
    this.#encoders = {
      vp8: new Vp8Encoder({
        width: options.width, height: options.height, fps: options.fps, bitrate: options.bitrate,
        keyFrameIntervalMs: options.keyFrameIntervalMs ?? 2000,
      }, output),
      jpeg: new JpegEncoder(options.jpegQuality ?? 0.7, output),
    };
  }

  get codec(): Codec {
    return this.#codec;
  }

  get track(): MediaStreamTrack {
    return this.#track;
  }

  async start(): Promise<void> {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    if (this.#codec === 'vp8' && !(await this.#canEncodeVp8())) this.#codec = 'jpeg';
    if (this.#stopped) return;
    this.#openSource();
  }

  async setCodec(codec: Codec): Promise<void> {
    if (codec !== 'vp8' && codec !== 'jpeg') throw new TypeError(`a video publisher cannot encode ${codec}`);
    if (this.#stopped) return;
    // Where VP8 cannot be encoded the publisher stays on JPEG, which every subscriber decodes;
    // `codec` says what is really produced.
    if (codec === 'vp8' && !(await this.#canEncodeVp8())) return;
    if (this.#stopped || codec === this.#codec) return;
    // Frames still being encoded in the old codec are dropped; the new one starts with a key frame.
    this.#encoders[this.#codec].close();
    this.#codec = codec;
    this.#encoders[codec].requestKeyFrame();
  }

  requestKeyFrame(): void {
    this.#encoders[this.#codec].requestKeyFrame();
  }

  setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    // Subscribers may have joined, or dropped their decoder, while nothing was sent.
    if (!paused) this.requestKeyFrame();
  }

  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    if (track.kind !== 'video') throw new TypeError(`replaceTrack needs a video track, got ${track.kind}`);
    if (this.#stopped) {
      track.stop();
      return;
    }
    if (track === this.#track) return;
    const released = this.#releaseTrack();
    this.#track = track;
    this.requestKeyFrame();
    if (this.#started) this.#openSource();
    await released;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    void this.#releaseTrack();
    this.#encoders.vp8.close();
    this.#encoders.jpeg.close();
  }

  /** Stops the source at once, and the current track as soon as the source has let go of it. */
  #releaseTrack(): Promise<void> {
    const source = this.#source;
    const track = this.#track;
    this.#source = undefined;
    if (!source) {
      track.stop();
      return Promise.resolve();
    }
    return source.stop().then(() => track.stop());
  }

  #openSource(): void {
    const sink: FrameSink = {
      wants: (at) => this.#wants(at),
      take: (picture, width, height, at) => this.#encoders[this.#codec].encode(picture, width, height, at),
      ended: (error) => this.#fail(asError(error)),
    };
    this.#source = openFrameSource(this.#track, sink, this.#options.fps, this.#fallbacks);
  }

  #canEncodeVp8(): Promise<boolean> {
    return this.#fallbacks.jpegOnly ? Promise.resolve(false) : this.#encoders.vp8.supported();
  }

  #wants(at: number): boolean {
    if (this.#stopped || this.#paused) return this.#skip();
    const interval = 1e6 / this.#options.fps;
    // A quarter-interval tolerance: a 25 fps camera must not lose every other frame to jitter under a 25 fps cap.
    if (at < this.#nextDueAt - interval / 4) return this.#skip();
    if (this.#encoders[this.#codec].busy) return this.#skip();
    // Keep the average at `fps` but do not let a stall bank up credit for a burst afterwards.
    this.#nextDueAt = at - this.#nextDueAt > interval ? at + interval : this.#nextDueAt + interval;
    return true;
  }

  #skip(): false {
    this.stats.framesSkipped++;
    return false;
  }

  /**
   * A picture that could not be taken (a `<video>` between frames, a frame already gone) costs one frame;
   * only a long run of them means the source is broken.
   */
  #captureFailed(error: unknown): void {
    this.stats.framesSkipped++;
    if (++this.#captureFailures >= MAX_CAPTURE_FAILURES) this.#fail(asError(error));
  }

  #emit(data: Uint8Array, codec: Codec, keyFrame: boolean, timestamp: number, encodeMs: number | undefined): void {
    if (this.#stopped) return;
    if (encodeMs !== undefined) this.#recordEncodeTime(encodeMs);
    this.stats.framesEncoded++;
    this.stats.bytesEncoded += data.byteLength;
    // The session's callback throwing must not look like an encoder failure and stop the camera.
    try {
      this.#options.output.onFrame({ data, codec, keyFrame, timestamp });
    } catch (error) {
      TypedEmitter.onListenerError(error, 'onFrame');
    }
  }

  #recordEncodeTime(ms: number): void {
    const recent = this.#recentEncodeMs;
    recent.push(ms);
    if (recent.length > 50) recent.shift();
    this.stats.encodeMs = recent.reduce((sum, x) => sum + x, 0) / recent.length;
  }

  #fail(error: Error): void {
    if (this.#stopped) return;
    this.stop();
    try {
      this.#options.output.onError(error);
    } catch (thrown) {
      TypedEmitter.onListenerError(thrown, 'onError');
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
