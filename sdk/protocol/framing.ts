/**
 * Message framing for the TCP control connection of native clients.
 *
 * ```
 * offset size field
 *  0     4    length     u32 big-endian: bytes of the payload
 *  4     1    opcode     1 = text (a JSON control message), 2 = binary (a packet: media…)
 *  5     …    payload
 * ```
 * This mirrors WebSocket's text and binary messages, so the relay handles both transports alike.
 * @module
 */
import { ProtocolError, ErrorCode } from '../errors.js';

/** Frame opcodes. */
export const Opcode = { Text: 1, Binary: 2 } as const;
/** A frame opcode. */
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** Bytes before the payload. */
export const FRAME_HEADER_BYTES = 5;

const encoder = new TextEncoder();

/** Encodes a text (JSON) frame. */
export function encodeTextFrame(text: string): Uint8Array {
  const body = encoder.encode(text);
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength);
  new DataView(out.buffer).setUint32(0, body.byteLength);
  out[4] = Opcode.Text;
  out.set(body, FRAME_HEADER_BYTES);
  return out;
}

/** The 5-byte header of a binary frame carrying `length` bytes (send it, then the payload, with no copy). */
export function binaryFrameHeader(length: number): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES);
  new DataView(out.buffer).setUint32(0, length);
  out[4] = Opcode.Binary;
  return out;
}

/** How a {@link FrameParser} joins a frame that arrived in pieces. */
export interface FrameParserOptions {
  /**
   * Makes the buffer, given its size and the packet type (the first byte of a binary frame's payload;
   * -1 for text frames and frame headers). Default
   * `new Uint8Array`; Node passes `Buffer.allocUnsafeSlow` (no zeroing of bytes about to be overwritten),
   * the relay its pool of file chunk buffers.
   */
  alloc?: (size: number, type: number) => Uint8Array;
  /**
   * Copies `source` into `target` at `at`. Default `target.set(source, at)`; Node passes a `Buffer.fill`
   * with the source as the pattern, one `memcpy`, three times as fast as `set` into shared memory.
   */
  copy?: (target: Uint8Array, source: Uint8Array, at: number) => void;
  /** Gives back a buffer made by `alloc` that {@link FrameParser.discard} drops half-filled. */
  release?: (buffer: Uint8Array) => void;
  /**
   * The buffers given to {@link FrameParser.push} are reused once it returns (Node's `onread`, one
   * buffer for every read): every payload is then copied out, each byte once. A payload that spans
   * reads is copied into its own buffer as its bytes arrive. Default `false`: payloads may be views of
   * the pushed buffers.
   */
  transient?: boolean;
}

/**
 * A streaming parser: feed it chunks as they arrive; it calls `onFrame` for each whole frame.
 * A frame over `maxPayload` or an unknown opcode throws a {@link ProtocolError}; the stream is then
 * unusable and the connection should be closed.
 */
export class FrameParser {
  readonly #maxPayload: number;
  readonly #onFrame: (opcode: Opcode, payload: Uint8Array, owned: boolean) => void;
  readonly #alloc: (size: number, type: number) => Uint8Array;
  readonly #copy: (target: Uint8Array, source: Uint8Array, at: number) => void;
  readonly #transient: boolean;
  readonly #release: ((buffer: Uint8Array) => void) | undefined;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #need = FRAME_HEADER_BYTES;
  #opcode: Opcode | 0 = 0;
  #failed = false;
  /** Transient mode: the payload being filled as its bytes arrive, and how much of it is. */
  #fill: Uint8Array | undefined;
  #filled = 0;

  /**
   * A parser refusing frames over `maxPayload` bytes, calling `onFrame` for each whole frame. The
   * payload is the receiver's to keep; `owned` tells that it fills a buffer the parser made (which the
   * receiver may hand to another thread), rather than being a view of a buffer given to {@link push}.
   */
  constructor(maxPayload: number, onFrame: (opcode: Opcode, payload: Uint8Array, owned: boolean) => void,
    options: FrameParserOptions = {}) {
    this.#maxPayload = maxPayload;
    this.#onFrame = onFrame;
    this.#alloc = options.alloc ?? ((size) => new Uint8Array(size));
    this.#copy = options.copy ?? ((target, source, at) => target.set(source, at));
    this.#transient = options.transient ?? false;
    this.#release = options.release;
  }

  /**
   * Drops whatever is held for an unfinished frame (the connection is gone) and gives a half-filled
   * payload buffer back through the `release` option. The parser takes no more bytes.
   */
  discard(): void {
    this.#failed = true;
    const fill = this.#fill;
    this.#fill = undefined;
    this.#filled = 0;
    this.#chunks = [];
    this.#buffered = 0;
    if (fill) this.#release?.(fill);
  }

  /** Bytes received but not yet part of a whole frame. */
  get buffered(): number {
    return this.#buffered + this.#filled;
  }

  /** Adds received bytes. */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw new ProtocolError(ErrorCode.InvalidMessage, 'the stream already failed');
    // An empty read adds nothing, and an empty piece in #chunks would hide the next frame's first byte from #take.
    if (chunk.byteLength === 0) return;
    const fill = this.#fill;
    if (fill) {
      const part = Math.min(chunk.byteLength, fill.byteLength - this.#filled);
      this.#copy(fill, part === chunk.byteLength ? chunk : chunk.subarray(0, part), this.#filled);
      this.#filled += part;
      if (this.#filled < fill.byteLength) return;
      this.#fill = undefined;
      this.#filled = 0;
      this.#deliver(fill, true);
      if (part === chunk.byteLength) return;
      chunk = chunk.subarray(part);
    }
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    while (this.#buffered >= this.#need) {
      const bytes = this.#take(this.#need);
      if (this.#opcode === 0) {
        const view = new DataView(bytes.buffer, bytes.byteOffset, FRAME_HEADER_BYTES);
        const length = view.getUint32(0);
        const opcode = view.getUint8(4);
        if (opcode !== Opcode.Text && opcode !== Opcode.Binary) {
          this.#failed = true;
          throw new ProtocolError(ErrorCode.BadPacketType, `unknown frame opcode ${opcode}`);
        }
        if (length > this.#maxPayload) {
          this.#failed = true;
          throw ProtocolError.tooLarge('frame', length, this.#maxPayload);
        }
        this.#opcode = opcode;
        this.#need = length;
        if (length === 0) this.#deliver(new Uint8Array(0), false);
      } else {
        this.#deliver(bytes, this.#joined);
      }
    }
    if (this.#transient && this.#opcode !== 0 && this.#buffered > 0) {
      // The caller reuses its buffer and a payload has begun: it gets its own buffer now, and the rest
      // of it is copied straight in as it arrives.
      // The packet type is told for a binary payload only (a text frame's first byte means nothing).
      const first = this.#chunks.find((piece) => piece.byteLength > 0)!;
      const fill = this.#alloc(this.#need, this.#opcode === Opcode.Binary ? first[0]! : -1);
      let at = 0;
      for (const piece of this.#chunks) {
        this.#copy(fill, piece, at);
        at += piece.byteLength;
      }
      this.#chunks = [];
      this.#buffered = 0;
      this.#fill = fill;
      this.#filled = at;
    } else if (this.#transient) {
      // The caller reuses its buffer: copy the start of the next frame header (pieces left by earlier
      // calls are copies already, so each byte is copied at most once here).
      this.#chunks = this.#chunks.map((piece) => {
        if (piece.buffer !== chunk.buffer) return piece;
        const copy = this.#alloc(piece.byteLength, -1);
        this.#copy(copy, piece, 0);
        return copy;
      });
    }
  }

  #deliver(payload: Uint8Array, owned: boolean): void {
    const opcode = this.#opcode as Opcode;
    this.#opcode = 0;
    this.#need = FRAME_HEADER_BYTES;
    this.#onFrame(opcode, payload, owned);
  }

  /** Whether the last {@link #take} joined pieces into a buffer of its own. */
  #joined = false;

  #take(n: number): Uint8Array {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    this.#joined = false;
    if (first.byteLength === n && !this.#transient) {
      this.#chunks.shift();
      return first;
    }
    if (first.byteLength > n && !this.#transient) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    this.#joined = true;
    // The packet type is told for a binary payload only (a text frame's first byte means nothing).
    const out = this.#alloc(n, this.#opcode === Opcode.Binary ? first[0] ?? -1 : -1);
    let at = 0;
    while (at < n) {
      const chunk = this.#chunks[0]!;
      const part = Math.min(chunk.byteLength, n - at);
      this.#copy(out, chunk.subarray(0, part), at);
      at += part;
      if (part === chunk.byteLength) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(part);
    }
    return out;
  }
}
