/**
 * The binary file chunk: a fixed 20-byte header and a piece of a file, in either direction
 * (upload: client → relay; download: relay → client). It travels as a WebSocket binary message or a
 * TCP binary frame, never over UDP (files must not be lost).
 *
 * ```
 * offset size field
 *  0     1    packet type      0x02 (file chunk)
 *  1     1    version          1
 *  2     2    reserved         0
 *  4     8    transfer id      the upload id (`fileUploadReady`) or download id (`fileDownloadReady`)
 * 12     8    offset           u64 big-endian: where `data` starts in the file
 * 20     …    data             at most 1 MiB
 * ```
 * @module
 */
import { ErrorCode, ProtocolError } from '../errors.js';
import { MAX_FILE_CHUNK_BYTES, PacketType, PROTOCOL_VERSION } from './constants.js';
import { idFromBytes, writeId } from './ids.js';

/** Size of the file chunk header in bytes. */
export const FILE_CHUNK_HEADER_BYTES = 20;

/** A decoded file chunk: a view of the data (no copy). */
export interface FileChunk {
  /** Upload or download id (16 hex characters). */
  transfer: string;
  /** Byte offset of `data` in the file. */
  offset: number;
  data: Uint8Array;
}

/** The 20-byte header of a chunk of `transfer` at `offset` (send it, then the data: no copy of the data). */
export function encodeFileChunkHeader(transfer: string, offset: number): Uint8Array {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`file offset must be a non-negative integer, not ${offset}`);
  const out = new Uint8Array(FILE_CHUNK_HEADER_BYTES);
  out[0] = PacketType.FileChunk;
  out[1] = PROTOCOL_VERSION;
  writeId(out, 4, transfer);
  const view = new DataView(out.buffer);
  view.setUint32(12, Math.floor(offset / 2 ** 32));
  view.setUint32(16, offset >>> 0);
  return out;
}

/** A whole chunk packet in one buffer (header + data). */
export function encodeFileChunk(transfer: string, offset: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(FILE_CHUNK_HEADER_BYTES + data.byteLength);
  out.set(encodeFileChunkHeader(transfer, offset));
  out.set(data, FILE_CHUNK_HEADER_BYTES);
  return out;
}

/**
 * Decodes a chunk packet.
 * @throws {@link ProtocolError} `LAN_ERR_SHORT_HEADER`, `LAN_ERR_BAD_PACKET_TYPE`, `LAN_ERR_BAD_VERSION`,
 *   `LAN_ERR_TOO_LARGE` (more than `maxData` bytes of data) or `LAN_ERR_BAD_OFFSET` (an offset past 2^53).
 */
export function decodeFileChunk(bytes: Uint8Array, maxData = MAX_FILE_CHUNK_BYTES): FileChunk {
  if (bytes.byteLength < FILE_CHUNK_HEADER_BYTES) throw ProtocolError.tooShort(bytes.byteLength, FILE_CHUNK_HEADER_BYTES);
  if (bytes[0] !== PacketType.FileChunk) {
    throw new ProtocolError(ErrorCode.BadPacketType, `packet type 0x${(bytes[0] ?? 0).toString(16)} is not a file chunk`);
  }
  if (bytes[1] !== PROTOCOL_VERSION) throw ProtocolError.badVersion(bytes[1] ?? 0, PROTOCOL_VERSION);
  const size = bytes.byteLength - FILE_CHUNK_HEADER_BYTES;
  if (size > maxData) throw ProtocolError.tooLarge('file chunk', size, maxData);
  const view = new DataView(bytes.buffer, bytes.byteOffset, FILE_CHUNK_HEADER_BYTES);
  const high = view.getUint32(12);
  if (high >= 2 ** 21) throw new ProtocolError(ErrorCode.BadOffset, 'file offset beyond 2^53');
  return {
    transfer: idFromBytes(bytes, 4),
    offset: high * 2 ** 32 + view.getUint32(16),
    data: bytes.subarray(FILE_CHUNK_HEADER_BYTES),
  };
}
