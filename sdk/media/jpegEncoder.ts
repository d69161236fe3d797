/**
 * JPEG through a canvas: the fallback where WebCodecs cannot encode VP8. Every frame is a key frame; one
 * frame is encoded at a time. Part of the video capture chunk (videoCapture.ts).
 * @module
 * @internal
 */
import { takePicture, type EncoderOutput, type PictureEncoder } from './pictureEncoder.js';
import type { Picture } from './videoSources.js';

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

/** The JPEG encoder of a video pipeline. Touches the DOM only once used. @internal */
export class JpegEncoder implements PictureEncoder {
  readonly #quality: number;
  readonly #output: EncoderOutput;
  #busy = false;
  #canvas: AnyCanvas | undefined;
  #context: Canvas2D | undefined;
  /** Bumped by `close()`, so a frame still being encoded then is not handed on. */
  #generation = 0;

  /** `quality`: 0..1. */
  constructor(quality: number, output: EncoderOutput) {
    this.#quality = quality;
    this.#output = output;
  }

  get busy(): boolean {
    return this.#busy;
  }

  requestKeyFrame(): void {
    // Every JPEG frame is a key frame.
  }

  encode(picture: Picture, width: number, height: number, at: number): void {
    const started = performance.now();
    const canvas = takePicture(picture, this.#output, () => {
      if (!this.#canvas || this.#canvas.width !== width || this.#canvas.height !== height) {
        const fresh = createCanvas(width, height);
        this.#context = context2d(fresh);
        this.#canvas = fresh;
      }
      this.#context!.drawImage(picture, 0, 0, width, height);
      return this.#canvas;
    });
    if (!canvas) return;
    const generation = this.#generation;
    this.#busy = true;
    canvasToJpeg(canvas, this.#quality)
      .then((blob) => blob.arrayBuffer())
      .then((buffer) => {
        this.#busy = false;
        if (generation !== this.#generation) return;
        this.#output.frame(new Uint8Array(buffer), 'jpeg', true, at, performance.now() - started);
      })
      .catch((error: unknown) => {
        this.#busy = false;
        if (generation === this.#generation) this.#output.failed(error);
      });
  }

  close(): void {
    this.#generation++;
  }
}
