/**
 * Browser video capture → encode: a camera or screen `MediaStreamTrack` in, encoded frames (`EncodedFrame`) out
 * (VP8 through WebCodecs, or JPEG through a canvas). The constraints and device list a page needs to get
 * such a track are in devices.ts. Loaded on first use (the session imports it when a camera or screen is
 * published), so its fallbacks (JPEG, `<video>` + canvas capture) never weigh on a first screen.
 *
 * Browser globals are touched only when a function is called, never at import time, so this module
 * still imports in Node.
 * @module
 */
import type { Codec } from '../protocol/index.js';
import { nowMicros } from '../Track.js';
import { TypedEmitter } from '../TypedEmitter.js';
import type { EncodedOutput, MediaFallbacks, MediaPublisher, PublisherStats } from './types.js';

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

// --- Browser APIs that lib.dom does not describe yet (Chromium-only today). ---

/** `MediaStreamTrackProcessor` (mediacapture-transform). */
type TrackProcessorConstructor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => {
  readonly readable: ReadableStream<VideoFrame>;
};

function trackProcessorConstructor(): TrackProcessorConstructor | undefined {
  const ctor = (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor;
  return typeof ctor === 'function' ? (ctor as TrackProcessorConstructor) : undefined;
}

type AnyCanvas = OffscreenCanvas | HTMLCanvasElement;
type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function createCanvas(width: number, height: number): AnyCanvas {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  return canvas;
}

function context2d(canvas: AnyCanvas): Canvas2D {
  // JPEG has no alpha: an opaque canvas spares the browser premultiplying it.
  const ctx = canvas.getContext('2d', { alpha: false }) as Canvas2D | null;
  if (!ctx) throw new Error('no 2D canvas context for video capture');
  return ctx;
}

function canvasToJpeg(canvas: AnyCanvas, quality: number): Promise<Blob> {
  if ('convertToBlob' in canvas) return canvas.convertToBlob({ type: 'image/jpeg', quality });
  return new Promise((resolve, reject) => {
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('canvas.toBlob produced nothing'))), 'image/jpeg', quality);
  });
}

function hasVideoEncoder(): boolean {
  return typeof VideoEncoder === 'function' && typeof VideoFrame === 'function';
}

/** The default VP8 bitrate: 800 kbit/s at 640×480, in proportion to the pixel count. */
function defaultBitrate(width: number, height: number): number {
  return Math.max(100_000, Math.round((800_000 * width * height) / (640 * 480)));
}

/** Frames that may be inside the VP8 encoder at once; more would only wait there and add latency. */
const MAX_FRAMES_IN_ENCODER = 2;
/** Captures in a row that yield no picture before the pipeline gives up (≈2 s at 25 fps). */
const MAX_CAPTURE_FAILURES = 50;
/**
 * Longest a stopping `MediaStreamTrackProcessor` source waits for its read in flight to bring a frame
 * before it cancels the read anyway (a muted track, a still screen).
 */
const STOP_READ_WAIT_MS = 1000;

/** Something that hands captured pictures to the pipeline until stopped. */
interface FrameSource {
  /**
   * Stops handing pictures over at once. Resolves when the source has let go of the track (usually a
   * frame later): only then may the track be stopped.
   */
  stop(): Promise<void>;
}

/** What a source asks of the pipeline. */
interface FrameSink {
  /** `false` when a picture taken now would be skipped anyway (paused, over the frame rate, encoder busy). */
  wants(atMicros: number): boolean;
  /**
   * A captured picture: a `VideoFrame` (owned by the sink from here on; it closes it), or a `<video>`
   * showing the frame to take.
   */
  take(picture: VideoFrame | HTMLVideoElement, width: number, height: number, atMicros: number): void;
  /** The source ended on its own (device unplugged, track ended). */
  ended(error: Error): void;
}

/** Reads `VideoFrame`s straight from the track (Chromium). */
function processorSource(track: MediaStreamTrack, sink: FrameSink, Processor: TrackProcessorConstructor): FrameSource {
  let stopped = false;
  const reader = new Processor({ track }).readable.getReader();
  const reading = (async () => {
    try {
      while (!stopped) {
        const { value: frame, done } = await reader.read();
        if (done) {
          if (!stopped) sink.ended(new Error('the video track ended'));
          return;
        }
        if (stopped) {
          frame.close();
          return;
        }
        // Stamp at arrival: the frame's own timestamp is on a media clock with an unknown origin.
        const at = nowMicros();
        // Every frame is read and released even when skipped: the capturer has a small pool of
        // buffers and stalls when frames are held.
        let handedOver = false;
        try {
          if (sink.wants(at)) {
            handedOver = true;
            sink.take(frame, frame.displayWidth, frame.displayHeight, at);
          }
        } finally {
          if (!handedOver) frame.close();
        }
      }
    } catch (error) {
      if (!stopped) sink.ended(asError(error));
    }
  })();
  return {
    stop() {
      stopped = true;
      // Chromium makes the VideoFrame for a pending read one task before it hands it to the stream,
      // and drops it unclosed when the stream is cancelled or the track stopped in between (the
      // garbage collector then warns about it). So the read in flight may finish, the loop closes
      // its frame, and the reader is cancelled with no read pending; a track that brings no frame
      // is cancelled after STOP_READ_WAIT_MS regardless.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_READ_WAIT_MS);
      });
      return Promise.race([reading, waited])
        .then(() => {
          clearTimeout(timer);
          return reader.cancel();
        })
        .catch(() => undefined);
    },
  };
}

/**
 * Plays the track in a hidden `<video>` and hands the element over at each new frame (browsers without
 * `MediaStreamTrackProcessor`); the encoder takes the picture from it (`new VideoFrame(video)`, or a
 * canvas for JPEG). `requestVideoFrameCallback` tells when a new frame is there; where it is missing or
 * silent (some browsers do not fire it for a video that is not displayed), a timer polls at the frame
 * rate and skips pictures whose `currentTime` did not move.
 */
function elementSource(track: MediaStreamTrack, sink: FrameSink, fps: number): FrameSource {
  let stopped = false;
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.autoplay = true;
  video.srcObject = new MediaStream([track]);
  let lastCallbackAt = 0;
  let lastMediaTime = -1;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const grab = (): void => {
    const at = nowMicros();
    if (video.videoWidth === 0 || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || !sink.wants(at)) return;
    sink.take(video, video.videoWidth, video.videoHeight, at);
  };
  const onVideoFrame = (): void => {
    if (stopped) return;
    lastCallbackAt = performance.now();
    lastMediaTime = video.currentTime;
    video.requestVideoFrameCallback(onVideoFrame);
    grab();
  };
  const poll = (): void => {
    if (stopped) return;
    timer = setTimeout(poll, 1000 / fps);
    if (performance.now() - lastCallbackAt < 500) return;
    if (video.currentTime === lastMediaTime) return;
    lastMediaTime = video.currentTime;
    grab();
  };
  const onEnded = (): void => {
    if (!stopped) sink.ended(new Error('the video track ended'));
  };
  track.addEventListener('ended', onEnded);
  if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(onVideoFrame);
  timer = setTimeout(poll, 1000 / fps);
  video.play().catch(() => {
    // Autoplay of a muted video is allowed everywhere; should a browser refuse, the poll still
    // takes whatever the element shows once it does play.
  });
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      track.removeEventListener('ended', onEnded);
      video.pause();
      video.srcObject = null;
      return Promise.resolve();
    },
  };
}

/**
 * The pipeline behind {@link createVideoPublisher}.
 * @internal
 */
class VideoPublisher implements MediaPublisher {
  readonly stats: PublisherStats = { framesEncoded: 0, bytesEncoded: 0, encodeMs: 0, framesSkipped: 0 };
  #track: MediaStreamTrack;
  readonly #options: VideoPublisherOptions;
  readonly #fallbacks: MediaFallbacks;
  readonly #keyFrameIntervalMs: number;
  readonly #jpegQuality: number;
  #codec: PublisherVideoCodec;
  #vp8Supported: boolean | undefined;
  #started = false;
  #stopped = false;
  #paused = false;
  #source: FrameSource | undefined;

  /** Rate cap: the capture time (µs) from which the next frame is taken. */
  #nextDueAt = 0;
  #needKeyFrame = true;
  #lastKeyFrameAt = -Infinity;
  /** Bumped on a codec switch, so frames still being encoded in the old codec are not emitted after it. */
  #generation = 0;

  #encoder: VideoEncoder | undefined;
  #encoderWidth = 0;
  #encoderHeight = 0;
  #encoderFailures: number[] = [];
  /** Capture time → `performance.now()` when handed to the encoder, for `stats.encodeMs`. */
  readonly #encodeStartedAt = new Map<number, number>();
  readonly #recentEncodeMs: number[] = [];

  #captureFailures = 0;
  #jpegBusy = false;
  #jpegCanvas: AnyCanvas | undefined;
  #jpegContext: Canvas2D | undefined;

  constructor(track: MediaStreamTrack, options: VideoPublisherOptions) {
    this.#track = track;
    this.#options = options;
    this.#fallbacks = options.fallbacks ?? {};
    this.#keyFrameIntervalMs = options.keyFrameIntervalMs ?? 2000;
    this.#jpegQuality = options.jpegQuality ?? 0.7;
    this.#codec = options.codec;
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
    this.#codec = codec;
    this.#generation++;
    this.#needKeyFrame = true;
    if (codec !== 'vp8') this.#closeEncoder();
  }

  requestKeyFrame(): void {
    this.#needKeyFrame = true;
  }

  setPaused(paused: boolean): void {
    if (paused === this.#paused) return;
    this.#paused = paused;
    // Subscribers may have joined, or dropped their decoder, while nothing was sent.
    if (!paused) this.#needKeyFrame = true;
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
    this.#needKeyFrame = true;
    if (this.#started) this.#openSource();
    await released;
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    void this.#releaseTrack();
    this.#closeEncoder();
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
      take: (picture, width, height, at) => this.#take(picture, width, height, at),
      ended: (error) => this.#fail(error),
    };
    const Processor = this.#fallbacks.noTrackProcessor ? undefined : trackProcessorConstructor();
    if (Processor) this.#source = processorSource(this.#track, sink, Processor);
    else if (typeof document !== 'undefined') this.#source = elementSource(this.#track, sink, this.#options.fps);
    else throw new Error('cannot capture video here: no MediaStreamTrackProcessor and no document');
  }

  async #canEncodeVp8(): Promise<boolean> {
    if (this.#fallbacks.jpegOnly || !hasVideoEncoder()) return false;
    if (this.#vp8Supported === undefined) {
      try {
        const { supported } = await VideoEncoder.isConfigSupported(this.#encoderConfig(this.#options.width, this.#options.height));
        this.#vp8Supported = supported === true;
      } catch {
        this.#vp8Supported = false;
      }
    }
    return this.#vp8Supported;
  }

  #encoderConfig(width: number, height: number): VideoEncoderConfig {
    return {
      codec: 'vp8',
      width,
      height,
      bitrate: this.#options.bitrate ?? defaultBitrate(width, height),
      framerate: this.#options.fps,
      latencyMode: 'realtime',
    };
  }

  #wants(at: number): boolean {
    if (this.#stopped || this.#paused) return this.#skip();
    const interval = 1e6 / this.#options.fps;
    // A quarter-interval tolerance: a 25 fps camera must not lose every other frame to jitter under a 25 fps cap.
    if (at < this.#nextDueAt - interval / 4) return this.#skip();
    if (this.#codec === 'vp8') {
      // Never queue in the encoder: a frame waiting there only adds latency; the next one will be fresher.
      // `encodeQueueSize` alone is not enough: Chromium takes frames off that queue at once and may then
      // fall behind inside (measured under CPU load: queue 0, output 800 ms late), so count what has not
      // come out yet too.
      if (this.#encoder && (this.#encoder.encodeQueueSize > 1 || this.#framesInEncoder() > MAX_FRAMES_IN_ENCODER)) return this.#skip();
    } else if (this.#jpegBusy) {
      return this.#skip();
    }
    // Keep the average at `fps` but do not let a stall bank up credit for a burst afterwards.
    this.#nextDueAt = at - this.#nextDueAt > interval ? at + interval : this.#nextDueAt + interval;
    return true;
  }

  /** Frames handed to the encoder that have not come out; ones gone a second are taken as dropped by it. */
  #framesInEncoder(): number {
    const now = performance.now();
    for (const [timestamp, started] of this.#encodeStartedAt) {
      if (now - started < 1000) break;
      this.#encodeStartedAt.delete(timestamp);
    }
    return this.#encodeStartedAt.size;
  }

  #skip(): false {
    this.stats.framesSkipped++;
    return false;
  }

  #take(picture: VideoFrame | HTMLVideoElement, width: number, height: number, at: number): void {
    if (this.#codec === 'vp8') this.#encodeVp8(picture, width, height, at);
    else this.#encodeJpeg(picture, width, height, at);
  }

  /**
   * A picture that could not be taken (a `<video>` between frames, a frame already gone) costs one frame;
   * only a long run of them means the source is broken.
   */
  #captureFailed(error: unknown): void {
    this.stats.framesSkipped++;
    if (++this.#captureFailures >= MAX_CAPTURE_FAILURES) this.#fail(asError(error));
  }

  #encodeVp8(picture: VideoFrame | HTMLVideoElement, width: number, height: number, at: number): void {
    let frame: VideoFrame;
    try {
      // Re-stamp with the wall-clock capture time, so encoder output carries it. Neither source copies
      // pixels: a VideoFrame is re-wrapped, a <video> gives its current decoded (I420) frame; a canvas in
      // between would cost an RGB readback and conversion per frame.
      frame = new VideoFrame(picture, { timestamp: at });
    } catch (error) {
      this.#captureFailed(error);
      return;
    } finally {
      if ('close' in picture) picture.close();
    }
    this.#captureFailures = 0;
    try {
      const encoder = this.#ensureEncoder(width, height);
      const now = performance.now();
      const keyFrame = this.#needKeyFrame || now - this.#lastKeyFrameAt >= this.#keyFrameIntervalMs;
      if (keyFrame) {
        this.#needKeyFrame = false;
        this.#lastKeyFrameAt = now;
      }
      this.#encodeStartedAt.set(at, now);
      encoder.encode(frame, { keyFrame });
    } catch (error) {
      this.#onEncoderError(error);
    } finally {
      frame.close();
    }
  }

  #ensureEncoder(width: number, height: number): VideoEncoder {
    if (this.#encoder && this.#encoder.state !== 'closed') {
      if (width === this.#encoderWidth && height === this.#encoderHeight) return this.#encoder;
      // A screen window changed size: same encoder, new size, and decoders need a key frame for it.
      this.#encoder.configure(this.#encoderConfig(width, height));
      this.#encoderWidth = width;
      this.#encoderHeight = height;
      this.#needKeyFrame = true;
      return this.#encoder;
    }
    const generation = this.#generation;
    const encoder: VideoEncoder = new VideoEncoder({
      output: (chunk) => {
        if (encoder !== this.#encoder || generation !== this.#generation) return;
        this.#onVp8Chunk(chunk);
      },
      error: (error) => {
        if (encoder !== this.#encoder) return;
        this.#encoder = undefined;
        this.#onEncoderError(error);
      },
    });
    encoder.configure(this.#encoderConfig(width, height));
    this.#encoder = encoder;
    this.#encoderWidth = width;
    this.#encoderHeight = height;
    this.#needKeyFrame = true;
    return encoder;
  }

  #onVp8Chunk(chunk: EncodedVideoChunk): void {
    const data = new Uint8Array(chunk.byteLength);
    chunk.copyTo(data);
    const keyFrame = chunk.type === 'key';
    // The encoder may drop frames under rate control: forget every start time up to this one.
    let startedAt: number | undefined;
    for (const [timestamp, started] of this.#encodeStartedAt) {
      if (timestamp > chunk.timestamp) break;
      if (timestamp === chunk.timestamp) startedAt = started;
      this.#encodeStartedAt.delete(timestamp);
    }
    if (startedAt !== undefined) this.#recordEncodeTime(performance.now() - startedAt);
    this.#emit(data, 'vp8', keyFrame, chunk.timestamp);
  }

  #encodeJpeg(picture: VideoFrame | HTMLVideoElement, width: number, height: number, at: number): void {
    const started = performance.now();
    let canvas: AnyCanvas;
    try {
      if (!this.#jpegCanvas || this.#jpegCanvas.width !== width || this.#jpegCanvas.height !== height) {
        const fresh = createCanvas(width, height);
        this.#jpegContext = context2d(fresh);
        this.#jpegCanvas = fresh;
      }
      canvas = this.#jpegCanvas;
      this.#jpegContext!.drawImage(picture, 0, 0, width, height);
    } catch (error) {
      this.#captureFailed(error);
      return;
    } finally {
      if ('close' in picture) picture.close();
    }
    this.#captureFailures = 0;
    const generation = this.#generation;
    this.#jpegBusy = true;
    canvasToJpeg(canvas, this.#jpegQuality)
      .then((blob) => blob.arrayBuffer())
      .then((buffer) => {
        this.#jpegBusy = false;
        if (this.#stopped || generation !== this.#generation) return;
        this.#recordEncodeTime(performance.now() - started);
        this.#emit(new Uint8Array(buffer), 'jpeg', true, at);
      })
      .catch((error: unknown) => {
        this.#jpegBusy = false;
        if (!this.#stopped && generation === this.#generation) this.#fail(asError(error));
      });
  }

  #emit(data: Uint8Array, codec: PublisherVideoCodec, keyFrame: boolean, timestamp: number): void {
    if (this.#stopped) return;
    // A key frame the encoder chose to make restarts the periodic schedule too.
    if (keyFrame) this.#lastKeyFrameAt = Math.max(this.#lastKeyFrameAt, performance.now());
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

  /** One encoder failure gets a fresh encoder; a second within 10 s means the pipeline is broken. */
  #onEncoderError(error: unknown): void {
    if (this.#stopped) return;
    this.#closeEncoder();
    const now = performance.now();
    this.#encoderFailures = this.#encoderFailures.filter((t) => now - t < 10_000);
    this.#encoderFailures.push(now);
    if (this.#encoderFailures.length > 1) {
      this.#fail(asError(error));
      return;
    }
    this.#needKeyFrame = true;
  }

  #closeEncoder(): void {
    const encoder = this.#encoder;
    this.#encoder = undefined;
    this.#encodeStartedAt.clear();
    if (encoder && encoder.state !== 'closed') encoder.close();
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
