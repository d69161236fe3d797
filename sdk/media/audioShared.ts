/**
 * Audio helpers shared by capture (audioCapture.ts) and playout (AudioPlayout.ts): loading a worklet from
 * its source text, channel mixing, PCM 16-bit conversion, resampling. A module of its own so that each of
 * the two lazily loaded pipelines brings in only these, not the other pipeline.
 * @module
 */

/** Loads `source` as an AudioWorklet module through a Blob URL (no file to serve, works from any bundle). @internal */
export async function loadWorklet(context: BaseAudioContext, source: string): Promise<void> {
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The samples of `data` as one mono Float32 channel (channels averaged). @internal */
export function toMono(data: AudioData): Float32Array {
  const n = data.numberOfFrames;
  const channels = data.numberOfChannels;
  const mono = new Float32Array(n);
  data.copyTo(mono, { planeIndex: 0, format: 'f32-planar' });
  if (channels > 1) {
    const plane = new Float32Array(n);
    for (let c = 1; c < channels; c++) {
      data.copyTo(plane, { planeIndex: c, format: 'f32-planar' });
      for (let i = 0; i < n; i++) mono[i]! += plane[i]!;
    }
    for (let i = 0; i < n; i++) mono[i]! /= channels;
  }
  return mono;
}

/** Float32 samples (−1..1) → PCM 16-bit little-endian bytes. @internal */
export function floatToPcm16(samples: Float32Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]!));
    view.setInt16(i * 2, Math.round(x < 0 ? x * 32768 : x * 32767), true);
  }
  return out;
}

/** PCM 16-bit little-endian bytes → Float32 samples (−1..1). An odd trailing byte is ignored. @internal */
export function pcm16ToFloat(bytes: Uint8Array): Float32Array {
  const n = bytes.byteLength >> 1;
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
  for (let i = 0; i < n; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  return out;
}

/**
 * Streaming linear-interpolation resampler for one mono channel. Good enough for speech between the rates
 * browsers use (44.1/48 kHz), and it keeps state between chunks so chunk boundaries do not click.
 * @internal
 */
export class LinearResampler {
  /** Input rate (Hz). */
  readonly from: number;
  /** Output rate (Hz). */
  readonly to: number;
  #position = 0;
  #previous = 0;

  /** Makes a resampler from `from` Hz to `to` Hz. */
  constructor(from: number, to: number) {
    this.from = from;
    this.to = to;
  }

  /** Resamples the next chunk. */
  process(input: Float32Array): Float32Array {
    const step = this.from / this.to;
    // #position is where the next output sample lies, in input samples, relative to the chunk's first sample;
    // −1 is the last sample of the previous chunk.
    let p = this.#position;
    const count = p <= input.length - 1 ? Math.floor((input.length - 1 - p) / step) + 1 : 0;
    const out = new Float32Array(count);
    for (let k = 0; k < count; k++, p += step) {
      const i = Math.floor(p);
      const a = i < 0 ? this.#previous : input[i]!;
      const b = input[i + 1] ?? a;
      out[k] = a + (b - a) * (p - i);
    }
    this.#position = p - input.length;
    this.#previous = input[input.length - 1] ?? this.#previous;
    return out;
  }
}
