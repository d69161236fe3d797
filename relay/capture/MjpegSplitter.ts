/**
 * Splits an MJPEG byte stream (JPEG images back to back, as `ffmpeg -f mjpeg` writes them) into whole JPEG images.
 * @module
 */

/**
 * Splits a stream of concatenated JPEG images into images, however the stream is chunked.
 *
 * It walks the JPEG structure rather than looking for the next `FF D9`: segments are skipped by their length (an
 * `FF D9` inside an embedded thumbnail or a table does not end the image), and in entropy-coded data only a real
 * marker counts (`FF 00` stuffing and `RSTn` do not). Bytes before a start-of-image, and images larger than
 * `maxFrameBytes` or malformed, are dropped and counted, and the splitter finds the next image.
 *
 * @example
 * ```ts
 * const splitter = new MjpegSplitter();
 * ffmpeg.stdout.on('data', (chunk) => { for (const jpeg of splitter.push(chunk)) send(jpeg); });
 * ```
 */
export class MjpegSplitter {
  /** Largest image accepted (bytes). */
  readonly maxFrameBytes: number;
  /** Images dropped (malformed or too large). */
  dropped = 0;
  /** Bytes skipped outside any image. */
  skippedBytes = 0;
  #buf: Buffer = Buffer.alloc(0);
  /** Where the current image starts in `#buf` (−1: looking for one). */
  #start = -1;
  /** Where the walk stands in `#buf`. */
  #pos = 0;
  /** Inside entropy-coded data (after a start-of-scan header). */
  #inScan = false;

  /**
   * Makes a splitter with nothing buffered.
   * @param maxFrameBytes - largest image accepted; default 16 MiB.
   */
  constructor(maxFrameBytes = 16 * 1024 * 1024) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held while waiting for the rest of an image. */
  get buffered(): number {
    return this.#buf.length;
  }

  /** Adds bytes; returns the images completed by them (each a copy, in stream order). */
  push(chunk: Uint8Array): Uint8Array[] {
    this.#buf = this.#buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buf, chunk]);
    const images: Uint8Array[] = [];
    for (;;) {
      if (this.#start < 0 && !this.#findStart()) break;
      const end = this.#walk();
      if (end === NEED_MORE) {
        if (this.#buf.length - this.#start > this.maxFrameBytes) this.#resync();
        else break;
      } else if (end === CORRUPT) {
        this.#resync();
      } else if (end - this.#start > this.maxFrameBytes) {
        this.dropped++;
        this.#buf = this.#buf.subarray(end);
        this.#start = -1;
        this.#pos = 0;
      } else {
        images.push(new Uint8Array(this.#buf.subarray(this.#start, end)));
        this.#buf = this.#buf.subarray(end);
        this.#start = -1;
        this.#pos = 0;
      }
    }
    return images;
  }

  /** Forgets everything buffered. */
  reset(): void {
    this.#buf = Buffer.alloc(0);
    this.#start = -1;
    this.#pos = 0;
    this.#inScan = false;
  }

  /** Finds the next start-of-image from `#pos`; drops what comes before it. */
  #findStart(): boolean {
    const buf = this.#buf;
    let i = this.#pos;
    for (; i + 1 < buf.length; i++) if (buf[i] === 0xff && buf[i + 1] === 0xd8) break;
    if (i + 1 >= buf.length) {
      // Keep a trailing FF: it may be the first half of the next start-of-image.
      const keep = buf.length > 0 && buf[buf.length - 1] === 0xff ? 1 : 0;
      this.skippedBytes += buf.length - keep;
      this.#buf = buf.subarray(buf.length - keep);
      this.#pos = 0;
      return false;
    }
    this.skippedBytes += i;
    this.#buf = buf.subarray(i);
    this.#start = 0;
    this.#pos = 2;
    this.#inScan = false;
    return true;
  }

  /** Drops the current image and looks for the next one after its start. */
  #resync(): void {
    this.dropped++;
    this.#pos = this.#start + 2;
    this.#start = -1;
    this.#inScan = false;
  }

  /** Walks markers from `#pos`: the index just past the end-of-image, {@link NEED_MORE} or {@link CORRUPT}. */
  #walk(): number {
    const buf = this.#buf;
    const len = buf.length;
    for (;;) {
      if (this.#inScan) {
        let i = this.#pos;
        // In entropy-coded data FF is followed by 00 (a stuffed FF byte), D0–D7 (restart) or FF (fill): not a marker.
        for (; i + 1 < len; i++) {
          if (buf[i] !== 0xff) continue;
          const next = buf[i + 1]!;
          if (next === 0x00 || (next >= 0xd0 && next <= 0xd7) || next === 0xff) continue;
          break;
        }
        this.#pos = i;
        if (i + 1 >= len) return NEED_MORE;
        this.#inScan = false;
      }
      const pos = this.#pos;
      if (pos + 1 >= len) return NEED_MORE;
      if (buf[pos] !== 0xff) return CORRUPT;
      const marker = buf[pos + 1]!;
      if (marker === 0xff) {
        this.#pos = pos + 1; // fill byte before a marker
        continue;
      }
      if (marker === 0xd9) return pos + 2;
      if (marker === 0xd8) return CORRUPT; // a new image before this one ended
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        this.#pos = pos + 2;
        continue;
      }
      if (pos + 3 >= len) return NEED_MORE;
      const length = buf.readUInt16BE(pos + 2);
      if (length < 2) return CORRUPT;
      if (pos + 2 + length > len) return NEED_MORE;
      this.#pos = pos + 2 + length;
      if (marker === 0xda) this.#inScan = true;
    }
  }
}

/** {@link MjpegSplitter} walk results. */
const NEED_MORE = -1;
const CORRUPT = -2;
