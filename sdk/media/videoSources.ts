/**
 * Where a video publisher's pictures come from: `MediaStreamTrackProcessor` (`VideoFrame`s straight from
 * the track, Chromium), or a hidden `<video>` playing the track (every other browser). Part of the video
 * capture chunk (videoCapture.ts), loaded on first use.
 * @module
 * @internal
 */
import { nowMicros } from '../Track.js';
import type { MediaFallbacks } from './types.js';

/** A captured picture: a `VideoFrame`, or a `<video>` showing the frame to take. */
export type Picture = VideoFrame | HTMLVideoElement;

/** Something that hands captured pictures to the pipeline until stopped. */
export interface FrameSource {
  /**
   * Stops handing pictures over at once. Resolves when the source has let go of the track (usually a
   * frame later): only then may the track be stopped.
   */
  stop(): Promise<void>;
}

/** What a source asks of the pipeline. */
export interface FrameSink {
  /** `false` when a picture taken now would be skipped anyway (paused, over the frame rate, encoder busy). */
  wants(atMicros: number): boolean;
  /** A captured picture (a `VideoFrame` is owned by the sink from here on; it closes it). */
  take(picture: Picture, width: number, height: number, atMicros: number): void;
  /** The source ended on its own (device unplugged, track ended). */
  ended(error: unknown): void;
}

/**
 * Longest a stopping `MediaStreamTrackProcessor` source waits for its read in flight to bring a frame
 * before it cancels the read anyway (a muted track, a still screen).
 */
const STOP_READ_WAIT_MS = 1000;

// --- Browser APIs that lib.dom does not describe yet (Chromium-only today). ---

/** `MediaStreamTrackProcessor` (mediacapture-transform). */
type TrackProcessorConstructor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => {
  readonly readable: ReadableStream<VideoFrame>;
};

function trackProcessorConstructor(): TrackProcessorConstructor | undefined {
  const ctor = (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor;
  return typeof ctor === 'function' ? (ctor as TrackProcessorConstructor) : undefined;
}

/**
 * Starts handing `track`'s pictures to `sink`: through `MediaStreamTrackProcessor` where the browser has
 * it (and `fallbacks.noTrackProcessor` is not set), else through a hidden `<video>` polled at `fps`.
 * @throws Error where neither exists (Node).
 */
export function openFrameSource(track: MediaStreamTrack, sink: FrameSink, fps: number, fallbacks: MediaFallbacks): FrameSource {
  const Processor = fallbacks.noTrackProcessor ? undefined : trackProcessorConstructor();
  if (Processor) return processorSource(track, sink, Processor);
  if (typeof document !== 'undefined') return elementSource(track, sink, fps);
  throw new Error('cannot capture video here: no MediaStreamTrackProcessor and no document');
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
      if (!stopped) sink.ended(error);
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
