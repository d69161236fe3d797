/**
 * Buffers of one file chunk packet (a 256 KiB chunk and its header), reused instead of allocated per
 * chunk. At hundreds of MiB per second a fresh buffer per chunk made garbage collection the relay's
 * largest cost, and buffers moved to the store thread piled up there until its collector ran. Now
 * an upload chunk is joined into a pooled buffer, moved to the store thread, and moved back once it
 * is written and hashed; a download chunk is read into one and returned once the socket has it.
 * @module
 * @internal
 */
import { FILE_CHUNK_BYTES } from '../../sdk/protocol/constants.js';
import { FILE_CHUNK_HEADER_BYTES } from '../../sdk/protocol/fileChunk.js';

/** Bytes of a full chunk packet: what every pooled buffer holds. */
export const CHUNK_PACKET_BYTES = FILE_CHUNK_HEADER_BYTES + FILE_CHUNK_BYTES;
/** Buffers kept at most (12 MiB). */
const KEPT = 48;
const free: ArrayBuffer[] = [];

/** A buffer for `size` bytes: a pooled one for a full chunk packet, a new one (not zeroed) otherwise. */
export function chunkBuffer(size: number): Buffer {
  const pooled = size === CHUNK_PACKET_BYTES ? free.pop() : undefined;
  return pooled ? Buffer.from(pooled) : Buffer.allocUnsafeSlow(size);
}

/** Gives a buffer back for reuse (one of another size, or one too many, is left to the collector). */
export function releaseChunkBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength === CHUNK_PACKET_BYTES && free.length < KEPT && !free.includes(buffer)) free.push(buffer);
}
