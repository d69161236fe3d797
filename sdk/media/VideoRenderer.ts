/**
 * Decode → render for one remote video track: VP8/H.264/AV1 through WebCodecs `VideoDecoder`, JPEG through
 * `ImageDecoder` or `createImageBitmap`, drawn into canvases and played in `<video>` elements.
 *
 * Browser globals are touched only when a renderer is made, never at import time, so this module still
 * imports in Node.
 * @module
 */
import { TypedEmitter } from '../TypedEmitter.js';
import { nowMicros, type RemoteFrame } from '../Track.js';
import type { Codec } from '../protocol/index.js';
import type { MediaFallbacks } from './types.js';

/** Events of a {@link VideoRenderer}. */
export type VideoRendererEvents = {
  /** The decoded picture changed size (also fired for the first frame). */
  resize: [width: number, height: number];
  /** A frame was drawn into the attached elements. */
  frame: [];
  /**
   * The decoder cannot go on without a key frame (a frame was lost, the decoder failed, the codec
   * changed). The owner asks the publisher for one, e.g. `remoteTrack.requestKeyFrame()`. Fired at most
   * every 500 ms while the renderer waits.
   */
  keyFrameNeeded: [];
  /** An element was attached or detached: how many the renderer draws into now. */
  targets: [count: number];
};

/**
 * Where a renderer gets its frames: anything with a `frame` event carrying {@link RemoteFrame}s, such
 * as a `RemoteTrack`.
 */
export interface VideoFrameSource {
  /** Subscribes to frames. */
  on(event: 'frame', listener: (frame: RemoteFrame) => void): unknown;
  /** Unsubscribes. */
  off(event: 'frame', listener: (frame: RemoteFrame) => void): unknown;
}

/** Options of a {@link VideoRenderer}. */
export interface VideoRendererOptions {
  /** Force fallbacks: `noWebCodecsDecode` decodes JPEG through `createImageBitmap` (and no VP8 at all). */
  fallbacks?: MediaFallbacks;
}

/** An element a renderer can draw into. */
export type VideoRenderTarget = HTMLCanvasElement | HTMLVideoElement;

/** `VideoDecoder` codec strings for the codecs on the wire. Annex B H.264 needs no `description`. */
const DECODER_CODEC_STRINGS: Partial<Record<Codec, string>> = {
  vp8: 'vp8',
  h264: 'avc1.42E01F',
  av1: 'av01.0.04M.08',
};

/**
 * VP8 is BT.601 by definition (RFC 6386), but Chromium labels decoded frames BT.709 unless told, and
 * drawing them then shifts the colours (the fake camera's green came out 40 % darker).
 */
const BT601: VideoColorSpaceInit = { primaries: 'smpte170m', transfer: 'smpte170m', matrix: 'smpte170m', fullRange: false };

function decoderConfig(codec: Codec, codecString: string): VideoDecoderConfig {
  return { codec: codecString, optimizeForLatency: true, ...(codec === 'vp8' ? { colorSpace: BT601 } : {}) };
}

/** Most frames the decoder may hold before a key frame lets the renderer skip ahead of them. */
const SKIP_AHEAD_QUEUE = 3;
/** A decoder this far behind is reset and waits for a key frame rather than show old pictures late. */
const OVERLOAD_QUEUE = 30;
/** Least time between two `keyFrameNeeded` events. */
const KEY_FRAME_REQUEST_INTERVAL_MS = 500;

// --- Browser APIs that lib.dom does not describe yet. ---

/** `VideoTrackGenerator` (the standard; worker-only in Chromium today). */
type VideoTrackGeneratorConstructor = new () => { readonly writable: WritableStream<VideoFrame>; readonly track: MediaStreamTrack };
/** `MediaStreamTrackGenerator` (Chromium's original, available on window). */
type TrackGeneratorConstructor = new (init: { kind: 'video' }) => MediaStreamTrack & { readonly writable: WritableStream<VideoFrame> };

function makeTrackGenerator(): { track: MediaStreamTrack; writable: WritableStream<VideoFrame> } | undefined {
  if (typeof VideoFrame !== 'function') return undefined;
  const g = globalThis as { VideoTrackGenerator?: unknown; MediaStreamTrackGenerator?: unknown };
  if (typeof g.VideoTrackGenerator === 'function') {
    const generator = new (g.VideoTrackGenerator as VideoTrackGeneratorConstructor)();
    return { track: generator.track, writable: generator.writable };
  }
  if (typeof g.MediaStreamTrackGenerator === 'function') {
    const track = new (g.MediaStreamTrackGenerator as TrackGeneratorConstructor)({ kind: 'video' });
    return { track, writable: track.writable };
  }
  return undefined;
}

type Picture = VideoFrame | ImageBitmap;

function isVideoFrame(picture: Picture): picture is VideoFrame {
  return 'displayWidth' in picture;
}

/** How `<video>` elements are fed: a generated track, or a canvas captured as a stream. */
type VideoFeed =
  | { kind: 'generator'; stream: MediaStream; track: MediaStreamTrack; writer: WritableStreamDefaultWriter<VideoFrame> }
  | { kind: 'canvas'; stream: MediaStream; canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D };

/**
 * Renders one remote video track. Frames are decoded as they arrive and drawn at once into every
 * attached `<canvas>` (resized to the picture) and `<video>`; a picture that is older than one already
 * shown is dropped, never queued.
 *
 * `remoteTrack.attach(element)` is the short way for a session's tracks (it makes the track's renderer and
 * pauses the video at the relay while no element shows it). A renderer of your own draws any source of
 * {@link RemoteFrame}s and tells more: `latencyMs`, `framesDecoded`, `framesDropped`.
 *
 * @example
 * ```ts
 * import { VideoRenderer, joinMeeting } from 'lanconf';
 * // Without attach(), the relay would pause a video no element shows: ask for every frame.
 * const session = await joinMeeting({ url: location.origin, meeting: 'Room1', name: 'Wall', pauseUnseenVideo: false });
 * session.on('trackPublished', (track) => {
 *   if (track.kind === 'microphone') return;
 *   const renderer = new VideoRenderer(track);
 *   renderer.on('keyFrameNeeded', () => track.requestKeyFrame());
 *   renderer.attach(document.body.appendChild(document.createElement('canvas')));
 *   track.once('ended', () => renderer.close());
 * });
 * ```
 */
export class VideoRenderer extends TypedEmitter<VideoRendererEvents> {
  readonly #source: VideoFrameSource;
  readonly #fallbacks: MediaFallbacks;
  readonly #onFrame = (frame: RemoteFrame): void => this.push(frame);
  #closed = false;

  readonly #canvases = new Map<HTMLCanvasElement, CanvasRenderingContext2D>();
  readonly #videos = new Set<HTMLVideoElement>();
  #feed: VideoFeed | undefined;

  #decoder: VideoDecoder | undefined;
  #decoderCodec: Codec | undefined;
  /** Codecs this browser turned out not to decode: asking for key frames would not help. */
  readonly #unsupported = new Set<Codec>();
  #waitingForKeyFrame = true;
  #lastKeyFrameRequestAt = -Infinity;
  #expectedSequence: number | undefined;

  #jpegBusy = false;
  #jpegPending: RemoteFrame | undefined;

  #width = 0;
  #height = 0;
  #lastShownTimestamp = -Infinity;
  #framesDecoded = 0;
  #framesDropped = 0;
  #lastFrameAt = 0;
  #latencyMs = 0;
  readonly #renderTimes: number[] = [];

  /**
   * Starts rendering the frames `source` emits from now on. Nothing is decoded until the first key
   * frame (every JPEG frame is one); a delta frame before it fires `keyFrameNeeded`.
   */
  constructor(source: VideoFrameSource, options: VideoRendererOptions = {}) {
    super();
    this.#source = source;
    this.#fallbacks = options.fallbacks ?? {};
    source.on('frame', this.#onFrame);
  }

  /**
   * The video codecs this browser can render (always `jpeg`; `vp8`, `h264`, `av1` where WebCodecs decodes
   * them), for the `decode` list a client declares when it joins.
   */
  static async supportedCodecs(fallbacks: MediaFallbacks = {}): Promise<Codec[]> {
    const codecs: Codec[] = ['jpeg'];
    if (fallbacks.noWebCodecsDecode || typeof VideoDecoder !== 'function') return codecs;
    for (const [codec, codecString] of Object.entries(DECODER_CODEC_STRINGS) as Array<[Codec, string]>) {
      try {
        const { supported } = await VideoDecoder.isConfigSupported({ codec: codecString });
        if (supported) codecs.push(codec);
      } catch {
        // Not decodable here.
      }
    }
    return codecs;
  }

  /** Width of the last picture shown (0 before the first). */
  get width(): number {
    return this.#width;
  }

  /** Height of the last picture shown (0 before the first). */
  get height(): number {
    return this.#height;
  }

  /** Pictures shown during the last second. */
  get fps(): number {
    this.#pruneRenderTimes(performance.now());
    return this.#renderTimes.length;
  }

  /** Frames decoded so far. */
  get framesDecoded(): number {
    return this.#framesDecoded;
  }

  /** Frames received but never shown: waiting for a key frame, stale, undecodable. */
  get framesDropped(): number {
    return this.#framesDropped;
  }

  /** When the last picture was shown (`Date.now()` ms; 0 before the first). */
  get lastFrameAt(): number {
    return this.#lastFrameAt;
  }

  /**
   * Capture-to-screen time of the last picture (ms), from the sender's capture timestamp. Meaningful
   * only when both clocks agree (same machine, or synchronised clocks).
   */
  get latencyMs(): number {
    return this.#latencyMs;
  }

  /**
   * Shows the video in `element` as well. A canvas is resized to each picture and drawn into; a video gets
   * a `MediaStream` of the pictures and is played muted and inline.
   */
  attach(element: VideoRenderTarget): void {
    if (this.#closed) throw new Error('the video renderer is closed');
    if (element.localName === 'video') {
      const video = element as HTMLVideoElement;
      if (this.#videos.has(video)) return;
      const feed = (this.#feed ??= this.#makeFeed());
      this.#videos.add(video);
      video.muted = true;
      video.playsInline = true;
      video.autoplay = true;
      video.srcObject = feed.stream;
      video.play().catch(() => {
        // Muted inline video may autoplay everywhere; `autoplay` retries once the page is visible.
      });
      this.#targetsChanged();
      return;
    }
    const canvas = element as HTMLCanvasElement;
    if (this.#canvases.has(canvas)) return;
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new TypeError('the canvas already has a non-2D context');
    this.#canvases.set(canvas, ctx);
    this.#targetsChanged();
  }

  /** Stops showing the video in `element`. */
  detach(element: VideoRenderTarget): void {
    if (this.#canvases.delete(element as HTMLCanvasElement)) {
      this.#targetsChanged();
      return;
    }
    const video = element as HTMLVideoElement;
    if (!this.#videos.delete(video)) return;
    if (this.#feed && video.srcObject === this.#feed.stream) video.srcObject = null;
    this.#targetsChanged();
  }

  #targetsChanged(): void {
    // Closing detaches everything: nobody is told, the track it showed is going away.
    if (!this.#closed) this.emit('targets', this.targets);
  }

  /** How many elements (canvases and videos) the renderer draws into now. */
  get targets(): number {
    return this.#canvases.size + this.#videos.size;
  }

  /** Detaches every element. */
  detachAll(): void {
    for (const element of [...this.#canvases.keys(), ...this.#videos]) this.detach(element);
  }

  /**
   * Decodes and shows one frame. The constructor subscribes this to the source's `frame` event; call it
   * directly to feed frames from elsewhere.
   */
  push(frame: RemoteFrame): void {
    if (this.#closed) return;
    if (!this.#checkSequence(frame)) {
      this.#framesDropped++;
      return;
    }
    if (frame.codec === 'jpeg') {
      // The publisher switched away from a predictive codec: its chain is over, and a switch back
      // must start from a key frame. Free the decoder meanwhile.
      if (this.#decoder) this.#closeDecoder();
      this.#waitingForKeyFrame = true;
      this.#decodeJpeg(frame);
      return;
    }
    this.#decodeVideo(frame);
  }

  /** Stops rendering: unsubscribes, closes the decoder and every picture, detaches every element. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#source.off('frame', this.#onFrame);
    this.#closeDecoder();
    this.#jpegPending = undefined;
    this.detachAll();
    const feed = this.#feed;
    this.#feed = undefined;
    if (feed?.kind === 'generator') {
      feed.writer.close().catch(() => undefined);
      feed.track.stop();
    } else if (feed) {
      for (const track of feed.stream.getTracks()) track.stop();
    }
  }

  /**
   * Notes a gap before `frame` (the decoder then needs a key frame); `false` for a frame older than one
   * already seen (reordered or duplicated on UDP), which is dropped.
   */
  #checkSequence(frame: RemoteFrame): boolean {
    const expected = this.#expectedSequence;
    if (expected !== undefined && frame.sequence !== expected) {
      const ahead = (frame.sequence - expected) >>> 0;
      if (ahead >= 0x8000_0000) return false;
      this.#waitingForKeyFrame = true;
    }
    this.#expectedSequence = (frame.sequence + 1) >>> 0;
    return true;
  }

  #decodeVideo(frame: RemoteFrame): void {
    const codecString = DECODER_CODEC_STRINGS[frame.codec];
    if (!codecString || this.#fallbacks.noWebCodecsDecode || typeof VideoDecoder !== 'function' || this.#unsupported.has(frame.codec)) {
      // The session should not have declared this codec; nothing to ask the publisher for.
      this.#framesDropped++;
      return;
    }
    if (frame.codec !== this.#decoderCodec) this.#waitingForKeyFrame = true;
    if (this.#waitingForKeyFrame && !frame.keyFrame) {
      this.#framesDropped++;
      this.#needKeyFrame();
      return;
    }
    try {
      let decoder = this.#decoder;
      if (frame.keyFrame) {
        if (!decoder || decoder.state === 'closed' || frame.codec !== this.#decoderCodec) {
          decoder = this.#openDecoder(frame.codec, codecString);
        } else if (decoder.decodeQueueSize > SKIP_AHEAD_QUEUE) {
          // A key frame makes everything still queued obsolete: skip ahead instead of showing it late.
          this.#framesDropped += decoder.decodeQueueSize;
          decoder.reset();
          decoder.configure(decoderConfig(frame.codec, codecString));
        }
        this.#waitingForKeyFrame = false;
      } else if (decoder && decoder.decodeQueueSize > OVERLOAD_QUEUE) {
        this.#framesDropped += decoder.decodeQueueSize + 1;
        decoder.reset();
        this.#decoderCodec = undefined;
        this.#waitingForKeyFrame = true;
        this.#needKeyFrame();
        return;
      }
      decoder!.decode(new EncodedVideoChunk({
        type: frame.keyFrame ? 'key' : 'delta',
        timestamp: frame.timestamp,
        data: frame.data,
      }));
    } catch {
      this.#framesDropped++;
      this.#onDecodeError();
    }
  }

  #openDecoder(codec: Codec, codecString: string): VideoDecoder {
    this.#closeDecoder();
    const decoder: VideoDecoder = new VideoDecoder({
      output: (picture) => {
        if (decoder !== this.#decoder) {
          picture.close();
          return;
        }
        this.#framesDecoded++;
        this.#show(picture, picture.timestamp);
      },
      error: (error) => {
        if (decoder !== this.#decoder) return;
        if (error.name === 'NotSupportedError') {
          this.#unsupported.add(codec);
          this.#closeDecoder();
          return;
        }
        this.#onDecodeError();
      },
    });
    decoder.configure(decoderConfig(codec, codecString));
    this.#decoder = decoder;
    this.#decoderCodec = codec;
    return decoder;
  }

  #onDecodeError(): void {
    this.#closeDecoder();
    this.#waitingForKeyFrame = true;
    this.#needKeyFrame();
  }

  #closeDecoder(): void {
    const decoder = this.#decoder;
    this.#decoder = undefined;
    this.#decoderCodec = undefined;
    if (decoder && decoder.state !== 'closed') decoder.close();
  }

  #needKeyFrame(): void {
    const now = performance.now();
    if (now - this.#lastKeyFrameRequestAt < KEY_FRAME_REQUEST_INTERVAL_MS) return;
    this.#lastKeyFrameRequestAt = now;
    this.emit('keyFrameNeeded');
  }

  /** One JPEG decode at a time; of the frames that arrive meanwhile only the newest is kept. */
  #decodeJpeg(frame: RemoteFrame): void {
    if (this.#jpegBusy) {
      if (this.#jpegPending) this.#framesDropped++;
      this.#jpegPending = frame;
      return;
    }
    this.#jpegBusy = true;
    this.#decodeJpegNow(frame)
      .then((picture) => {
        if (this.#closed) {
          picture.close();
          return;
        }
        this.#framesDecoded++;
        this.#show(picture, frame.timestamp);
      })
      .catch(() => {
        // A corrupt JPEG costs one picture; the next frame stands alone.
        this.#framesDropped++;
      })
      .finally(() => {
        this.#jpegBusy = false;
        const next = this.#jpegPending;
        this.#jpegPending = undefined;
        if (next && !this.#closed) this.#decodeJpeg(next);
      });
  }

  async #decodeJpegNow(frame: RemoteFrame): Promise<Picture> {
    if (!this.#fallbacks.noWebCodecsDecode && typeof ImageDecoder === 'function') {
      const decoder = new ImageDecoder({ data: frame.data, type: 'image/jpeg' });
      try {
        return (await decoder.decode()).image;
      } finally {
        decoder.close();
      }
    }
    // Frames from the wire sit in plain ArrayBuffers, which is what a Blob part must be.
    return createImageBitmap(new Blob([frame.data as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }));
  }

  /** Draws `picture` everywhere and closes it; a picture older than the last one shown is dropped. */
  #show(picture: Picture, captureTimestamp: number): void {
    try {
      if (this.#closed) return;
      // Pictures from the JPEG path and the decoder can overtake each other around a codec switch.
      if (captureTimestamp < this.#lastShownTimestamp) {
        this.#framesDropped++;
        return;
      }
      this.#lastShownTimestamp = captureTimestamp;
      const width = isVideoFrame(picture) ? picture.displayWidth : picture.width;
      const height = isVideoFrame(picture) ? picture.displayHeight : picture.height;
      const resized = width !== this.#width || height !== this.#height;
      this.#width = width;
      this.#height = height;
      for (const [canvas, ctx] of this.#canvases) {
        if (canvas.width !== width) canvas.width = width;
        if (canvas.height !== height) canvas.height = height;
        ctx.drawImage(picture, 0, 0, width, height);
      }
      if (this.#videos.size > 0 && this.#feed) this.#feedVideos(this.#feed, picture, width, height, captureTimestamp);
      const now = performance.now();
      this.#renderTimes.push(now);
      this.#pruneRenderTimes(now);
      this.#lastFrameAt = Date.now();
      this.#latencyMs = (nowMicros() - captureTimestamp) / 1000;
      if (resized) this.emit('resize', width, height);
      this.emit('frame');
    } finally {
      picture.close();
    }
  }

  #feedVideos(feed: VideoFeed, picture: Picture, width: number, height: number, timestamp: number): void {
    if (feed.kind === 'canvas') {
      if (feed.canvas.width !== width) feed.canvas.width = width;
      if (feed.canvas.height !== height) feed.canvas.height = height;
      feed.ctx.drawImage(picture, 0, 0, width, height);
      return;
    }
    // A generator that has not taken the previous picture yet would only queue this one: show it late
    // or not at all, and not at all is better.
    if (feed.writer.desiredSize !== null && feed.writer.desiredSize <= 0) return;
    // The generator closes what it is given, and `picture` is still needed by the caller.
    const frame = isVideoFrame(picture) ? picture.clone() : new VideoFrame(picture, { timestamp });
    feed.writer.write(frame).catch(() => frame.close());
  }

  #makeFeed(): VideoFeed {
    const generator = makeTrackGenerator();
    if (generator) {
      return { kind: 'generator', stream: new MediaStream([generator.track]), track: generator.track, writer: generator.writable.getWriter() };
    }
    const canvas = document.createElement('canvas');
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas context to feed a <video>');
    return { kind: 'canvas', stream: canvas.captureStream(), canvas, ctx };
  }

  #pruneRenderTimes(now: number): void {
    const times = this.#renderTimes;
    while (times.length > 0 && now - times[0]! > 1000) times.shift();
  }
}
