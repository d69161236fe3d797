/**
 * The bytes of a file to share, whatever holds them (`Blob`/`File`, `Uint8Array`, a `ReadableStream`, an
 * iterable), cut into the chunks an upload sends.
 * @module
 * @internal
 */
import { FILE_CHUNK_BYTES } from '../protocol/index.js';
import type { FileSource } from './types.js';

/** The source's own name: a `File`'s (or anything with a string `name`). */
export function sourceName(source: FileSource): string | undefined {
  const name = (source as File).name;
  return typeof name === 'string' ? name : undefined;
}

/** The source's own size: a `Blob`'s or an array's; a stream has none. */
export function sourceSize(source: FileSource): number | undefined {
  return isBlob(source) ? source.size : source instanceof Uint8Array ? source.byteLength : undefined;
}

/**
 * The source's bytes in pieces of {@link FILE_CHUNK_BYTES} (the last may be shorter), each piece a chunk
 * on the wire. A `Blob` is read a few chunks at a time.
 */
export function fileChunks(source: FileSource): AsyncGenerator<Uint8Array> {
  return fullChunks(piecesOf(source));
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/**
 * Pieces cut or joined to {@link FILE_CHUNK_BYTES}: small pieces (a stream giving a few KiB at a time)
 * are joined, so every chunk on the wire is a full one; large ones are cut without a copy.
 */
async function* fullChunks(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let held: Uint8Array | undefined;
  let heldBytes = 0;
  for await (let piece of pieces) {
    if (held) {
      const n = Math.min(piece.byteLength, FILE_CHUNK_BYTES - heldBytes);
      held.set(piece.subarray(0, n), heldBytes);
      heldBytes += n;
      piece = piece.subarray(n);
      if (heldBytes < FILE_CHUNK_BYTES) continue;
      yield held;
      held = undefined;
      heldBytes = 0;
    }
    let at = 0;
    for (; piece.byteLength - at >= FILE_CHUNK_BYTES; at += FILE_CHUNK_BYTES) yield piece.subarray(at, at + FILE_CHUNK_BYTES);
    if (at < piece.byteLength) {
      held = new Uint8Array(FILE_CHUNK_BYTES);
      held.set(piece.subarray(at));
      heldBytes = piece.byteLength - at;
    }
  }
  if (held) yield held.subarray(0, heldBytes);
}

/** The source's bytes as they come: a `Blob` four chunks at a time, a stream or iterable piece by piece. */
async function* piecesOf(source: FileSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (isBlob(source)) {
    for (let at = 0; at < source.size; at += FILE_CHUNK_BYTES * 4) {
      yield new Uint8Array(await source.slice(at, at + FILE_CHUNK_BYTES * 4).arrayBuffer());
    }
    return;
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        yield toBytes(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const piece of source as AsyncIterable<Uint8Array>) yield toBytes(piece);
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('a file stream must give Uint8Array chunks');
}
