/**
 * Buffers of one file chunk packet (a 256 KiB chunk and its header), reused instead of allocated per
 * chunk. At hundreds of MiB per second a fresh buffer per chunk made garbage collection the relay's
 * largest cost: every buffer is memory outside the JavaScript heap that V8 counts, and at that rate
 * it ran a full collection every few dozen MiB. The slots live in one `SharedArrayBuffer`, allocated
 * once and shared with the store thread, so a chunk reaches that thread as a slot number: nothing is
 * allocated, moved or collected per chunk. An upload chunk is joined into a slot and written from it;
 * a download chunk is read into one and sent from it. When every slot is in use (many transfers at
 * once) a plain buffer is used instead.
 * @module
 * @internal
 */
import { FILE_CHUNK_BYTES, PacketType } from '../../sdk/protocol/constants.js';
import { FILE_CHUNK_HEADER_BYTES } from '../../sdk/protocol/fileChunk.js';

/** Bytes of a full chunk packet: what every slot holds. */
export const CHUNK_PACKET_BYTES = FILE_CHUNK_HEADER_BYTES + FILE_CHUNK_BYTES;
/** Slots (12 MiB in all; pages nobody touches are never backed by memory). */
const SLOTS = 48;

let slab: SharedArrayBuffer | undefined;
const free: number[] = [];

/** The shared memory of every slot (made on first use). */
export function chunkSlab(): SharedArrayBuffer {
  if (!slab) {
    slab = new SharedArrayBuffer(SLOTS * CHUNK_PACKET_BYTES);
    for (let i = SLOTS - 1; i >= 0; i--) free.push(i);
  }
  return slab;
}

/**
 * A buffer for a `size`-byte packet whose first byte is `type`: a slot for a full file chunk while
 * one is free, otherwise a new buffer (not zeroed). Give a slot back with {@link releaseChunkBuffer}.
 */
export function chunkBuffer(size: number, type: number = PacketType.FileChunk): Buffer {
  if (size === CHUNK_PACKET_BYTES && type === PacketType.FileChunk) {
    const shared = chunkSlab();
    const slot = free.pop();
    if (slot !== undefined) return Buffer.from(shared, slot * CHUNK_PACKET_BYTES, CHUNK_PACKET_BYTES);
  }
  return Buffer.allocUnsafeSlow(size);
}

/** The slot `bytes` lies in, or `undefined` for a buffer of its own. */
export function chunkSlot(bytes: Uint8Array): number | undefined {
  return slab && bytes.buffer === slab ? Math.floor(bytes.byteOffset / CHUNK_PACKET_BYTES) : undefined;
}

/** Gives back the slot `bytes` lies in (a buffer of its own is left to the collector). Call once per slot. */
export function releaseChunkBuffer(bytes: Uint8Array): void {
  const slot = chunkSlot(bytes);
  if (slot !== undefined && !free.includes(slot)) free.push(slot);
}
