/**
 * What the video pipeline (videoCapture.ts) asks of its encoders, one per codec (vp8Encoder.ts: VP8
 * through WebCodecs; jpegEncoder.ts: JPEG through a canvas), what they hand back, and how they take a picture.
 * @module
 * @internal
 */
import type { Codec } from '../protocol/index.js';
import type { Picture } from './videoSources.js';

/** One codec's encoder. */
export interface PictureEncoder {
  /** `true` while a picture handed now would only wait for the ones before it (the pipeline skips it). */
  readonly busy: boolean;
  /** Encodes a picture captured at `at` (µs since the Unix epoch); a `VideoFrame` is closed here. */
  encode(picture: Picture, width: number, height: number, at: number): void;
  /** The next frame is a key frame (every JPEG frame is one). */
  requestKeyFrame(): void;
  /** Drops what is still being encoded (a codec switch, a stop) and lets go of the codec. */
  close(): void;
}

/** Where an encoder's results go: the pipeline. */
export interface EncoderOutput {
  /** An encoded frame; `encodeMs`: how long it took, when known. */
  frame(data: Uint8Array, codec: Codec, keyFrame: boolean, timestamp: number, encodeMs: number | undefined): void;
  /** A picture could not be taken (a `<video>` between frames, a frame already gone): one frame lost. */
  captureFailed(error: unknown): void;
  /** A picture was taken: a run of capture failures is over. */
  captured(): void;
  /** The encoder failed for good. */
  failed(error: unknown): void;
}

/**
 * Takes what an encoder needs from a picture (`take`: a `VideoFrame` of it, or a canvas drawn from it), then
 * closes a `VideoFrame` picture whatever happened: the source handed it over. A picture that could not be
 * taken is reported (`output.captureFailed`) and gives `undefined`; one that could, `output.captured`.
 */
export function takePicture<T>(picture: Picture, output: EncoderOutput, take: () => T): T | undefined {
  let taken: T;
  try {
    taken = take();
  } catch (error) {
    output.captureFailed(error);
    return undefined;
  } finally {
    if ('close' in picture) picture.close();
  }
  output.captured();
  return taken;
}
