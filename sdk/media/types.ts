/**
 * Contracts between the session and the browser media pipelines (capture → encode, decode → render/play).
 * Everything in `sdk/media/` touches browser globals (WebCodecs, Web Audio, DOM) only when called, never at
 * import time, so the SDK still imports in Node.
 * @module
 */
import type { Codec } from '../protocol/index.js';
import type { EncodedFrame } from '../Track.js';

/** Force the fallbacks a browser without WebCodecs would use, so they can be tested in Chromium. */
export interface MediaFallbacks {
  /** Encode video as JPEG (canvas) even where VP8 is available. */
  jpegOnly?: boolean;
  /** Encode audio as PCM 16-bit even where Opus is available. */
  pcmOnly?: boolean;
  /** Do not use `MediaStreamTrackProcessor`: capture video through `<video>` + canvas, audio through an AudioWorklet. */
  noTrackProcessor?: boolean;
  /** Do not use WebCodecs decoders: JPEG through `createImageBitmap`, PCM only. */
  noWebCodecsDecode?: boolean;
}

/** What a capture → encode pipeline hands to the session. */
export interface EncodedOutput {
  /** Called with each encoded frame (its `codec` set). */
  onFrame(frame: EncodedFrame & { codec: Codec }): void;
  /** Called when the pipeline fails for good (device gone, encoder error that a restart did not fix). */
  onError(error: Error): void;
}

/** Counters of a publisher, for the UI and the bench. */
export interface PublisherStats {
  framesEncoded: number;
  bytesEncoded: number;
  /** Mean encode time per frame over the last ~50 frames (ms). */
  encodeMs: number;
  /** Frames the pipeline skipped (encoder busy, muted…). */
  framesSkipped: number;
}

/**
 * One local capture → encode pipeline (video or audio). Made by `createVideoPublisher` /
 * `createAudioPublisher`; driven by the session.
 */
export interface MediaPublisher {
  /** The codec frames are produced in now. */
  readonly codec: Codec;
  /** The `MediaStreamTrack` being captured. */
  readonly track: MediaStreamTrack;
  readonly stats: PublisherStats;
  /** Starts capturing and encoding. */
  start(): Promise<void>;
  /** Switches codec; the next frame is a key frame in the new codec. */
  setCodec(codec: Codec): Promise<void>;
  /** The next frame is a key frame (a subscriber lost one or just joined). */
  requestKeyFrame(): void;
  /** Paused: capture continues to be released, nothing is encoded (mute). */
  setPaused(paused: boolean): void;
  /** Captures from another track from now on (device switch); the old one is stopped. */
  replaceTrack(track: MediaStreamTrack): Promise<void>;
  /** Stops for good and stops the track. Idempotent. */
  stop(): void;
}
