/**
 * The binary media packet: a fixed 40-byte header and the payload.
 *
 * ```
 * offset size field
 *  0     1    packet type      0x01 (media)
 *  1     1    version          1
 *  2     1    kind             0 camera, 1 microphone, 2 screen
 *  3     1    codec            0 jpeg, 1 vp8, 2 opus, 3 pcm16, 4 h264, 5 av1
 *  4     1    flags            bit0 key frame, bit1 voice, bit2 discontinuity; others 0
 *  5     1    audio level      0..127 = −dBov (0 loudest, 127 silence); video: 127
 *  6     2    fragment index   u16 big-endian, < fragment count
 *  8     2    fragment count   u16 big-endian, ≥ 1
 * 10     2    reserved         0
 * 12     8    sender id        participant id (stamped by the relay)
 * 20     8    track id
 * 28     4    frame sequence   u32 big-endian, per track, wraps
 * 32     8    capture time     float64 big-endian, microseconds since the Unix epoch
 * 40     …    payload          the frame (or this fragment of it)
 * ```
 * @module
 */
import { ProtocolError, ErrorCode } from '../errors.js';
import {
  CODECS, MEDIA_HEADER_BYTES, MediaFlag, PacketType, PROTOCOL_VERSION, TRACK_KINDS,
  type Codec, type TrackKind,
} from './constants.js';
import { idFromBytes, writeId, ZERO_ID } from './ids.js';

/** The decoded media header. */
export interface MediaHeader {
  kind: TrackKind;
  codec: Codec;
  /** The frame decodes alone. */
  keyFrame: boolean;
  /** The audio carries voice (audio tracks). */
  voice: boolean;
  /** Frames were skipped on purpose before this one. */
  discontinuity: boolean;
  /** 0..127 = −dBov; 127 is silence. */
  audioLevel: number;
  fragmentIndex: number;
  fragmentCount: number;
  /** Participant id of the sender (hex). */
  sender: string;
  /** Track id (hex). */
  track: string;
  /** Frame sequence number, u32, per track. */
  sequence: number;
  /** Capture time, microseconds since the Unix epoch. */
  timestamp: number;
}

/** A decoded media packet: header fields and a view of the payload (no copy). */
export interface MediaPacket extends MediaHeader {
  payload: Uint8Array;
}

/** Header fields a caller sets; the rest default (one fragment, level 127, no flags, zero sender). */
export type MediaHeaderInit = Pick<MediaHeader, 'kind' | 'codec' | 'track' | 'sequence' | 'timestamp'> &
  Partial<Omit<MediaHeader, 'kind' | 'codec' | 'track' | 'sequence' | 'timestamp'>>;

const KIND_INDEX = new Map(TRACK_KINDS.map((k, i) => [k, i]));
const CODEC_INDEX = new Map(CODECS.map((c, i) => [c, i]));
const KNOWN_FLAGS = MediaFlag.KeyFrame | MediaFlag.Voice | MediaFlag.Discontinuity;

/** Offsets of the header fields (for code that patches a header in place). */
export const MediaOffset = {
  type: 0, version: 1, kind: 2, codec: 3, flags: 4, audioLevel: 5,
  fragmentIndex: 6, fragmentCount: 8, reserved: 10, sender: 12, track: 20, sequence: 28, timestamp: 32,
} as const;

/** Writes the header for `init` into `out` at `offset`. */
export function writeMediaHeader(out: Uint8Array, offset: number, init: MediaHeaderInit): void {
  const kind = KIND_INDEX.get(init.kind);
  const codec = CODEC_INDEX.get(init.codec);
  if (kind === undefined) throw new TypeError(`unknown track kind ${JSON.stringify(init.kind)}`);
  if (codec === undefined) throw new TypeError(`unknown codec ${JSON.stringify(init.codec)}`);
  const level = init.audioLevel ?? 127;
  if (!Number.isInteger(level) || level < 0 || level > 127) throw new TypeError(`audio level must be 0..127, got ${level}`);
  const count = init.fragmentCount ?? 1;
  const index = init.fragmentIndex ?? 0;
  if (!Number.isInteger(count) || count < 1 || count > 0xffff || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new TypeError(`bad fragment ${index}/${count}`);
  }
  const view = new DataView(out.buffer, out.byteOffset + offset, MEDIA_HEADER_BYTES);
  view.setUint8(0, PacketType.Media);
  view.setUint8(1, PROTOCOL_VERSION);
  view.setUint8(2, kind);
  view.setUint8(3, codec);
  view.setUint8(4, (init.keyFrame ? MediaFlag.KeyFrame : 0) | (init.voice ? MediaFlag.Voice : 0) |
    (init.discontinuity ? MediaFlag.Discontinuity : 0));
  view.setUint8(5, level);
  view.setUint16(6, index);
  view.setUint16(8, count);
  view.setUint16(10, 0);
  writeId(out, offset + 12, init.sender ?? ZERO_ID);
  writeId(out, offset + 20, init.track);
  view.setUint32(28, init.sequence >>> 0);
  view.setFloat64(32, init.timestamp);
}

/**
 * Encodes one media packet (header + payload) into a new buffer.
 *
 * @example
 * ```ts
 * const bytes = encodeMediaPacket({ kind: 'camera', codec: 'jpeg', track, sequence: 0, timestamp: Date.now() * 1000, keyFrame: true }, jpeg);
 * ```
 */
export function encodeMediaPacket(init: MediaHeaderInit, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(MEDIA_HEADER_BYTES + payload.byteLength);
  writeMediaHeader(out, 0, init);
  out.set(payload, MEDIA_HEADER_BYTES);
  return out;
}

/**
 * Decodes a media packet. The payload is a view into `bytes` (no copy).
 *
 * @param maxPayload - largest payload accepted (a whole frame over WebSocket/TCP; one fragment over UDP).
 * @throws {@link ProtocolError} `LAN_ERR_SHORT_HEADER`, `LAN_ERR_BAD_PACKET_TYPE`, `LAN_ERR_BAD_VERSION`,
 *   `LAN_ERR_BAD_KIND`, `LAN_ERR_BAD_CODEC`, `LAN_ERR_BAD_FRAGMENT`, `LAN_ERR_TOO_LARGE`, `LAN_ERR_INVALID_MESSAGE`.
 */
export function decodeMediaPacket(bytes: Uint8Array, maxPayload = Infinity): MediaPacket {
  if (bytes.byteLength < MEDIA_HEADER_BYTES) throw ProtocolError.tooShort(bytes.byteLength, MEDIA_HEADER_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint8(0);
  if (type !== PacketType.Media) {
    throw new ProtocolError(ErrorCode.BadPacketType, `packet type 0x${type.toString(16).padStart(2, '0')} is not media (0x01)`);
  }
  const version = view.getUint8(1);
  if (version !== PROTOCOL_VERSION) throw ProtocolError.badVersion(version, PROTOCOL_VERSION);
  const kind = TRACK_KINDS[view.getUint8(2)];
  if (kind === undefined) throw new ProtocolError(ErrorCode.BadKind, `unknown track kind ${view.getUint8(2)}`);
  const codec = CODECS[view.getUint8(3)];
  if (codec === undefined) throw new ProtocolError(ErrorCode.BadCodec, `unknown codec ${view.getUint8(3)}`);
  const flags = view.getUint8(4);
  if ((flags & ~KNOWN_FLAGS) !== 0) {
    throw new ProtocolError(ErrorCode.InvalidMessage, `unknown flag bits 0x${(flags & ~KNOWN_FLAGS).toString(16)}`);
  }
  const audioLevel = view.getUint8(5);
  if (audioLevel > 127) throw new ProtocolError(ErrorCode.InvalidMessage, `audio level ${audioLevel} is out of range 0..127`);
  const fragmentIndex = view.getUint16(6);
  const fragmentCount = view.getUint16(8);
  if (fragmentCount === 0 || fragmentIndex >= fragmentCount) {
    throw new ProtocolError(ErrorCode.BadFragment, `fragment ${fragmentIndex} of ${fragmentCount} is impossible`);
  }
  const timestamp = view.getFloat64(32);
  if (!Number.isFinite(timestamp)) throw new ProtocolError(ErrorCode.InvalidMessage, 'capture time is not a finite number');
  const payloadBytes = bytes.byteLength - MEDIA_HEADER_BYTES;
  if (payloadBytes > maxPayload) throw ProtocolError.tooLarge('media payload', payloadBytes, maxPayload);
  return {
    kind, codec,
    keyFrame: (flags & MediaFlag.KeyFrame) !== 0,
    voice: (flags & MediaFlag.Voice) !== 0,
    discontinuity: (flags & MediaFlag.Discontinuity) !== 0,
    audioLevel, fragmentIndex, fragmentCount,
    sender: idFromBytes(bytes, 12),
    track: idFromBytes(bytes, 20),
    sequence: view.getUint32(28),
    timestamp,
    payload: bytes.subarray(MEDIA_HEADER_BYTES),
  };
}

/**
 * Splits one whole-frame packet (header + payload, fragment 0 of 1) into packets whose payload is at most
 * `maxFragmentPayload` bytes. A frame that fits is returned as is (no copy).
 */
export function fragmentPacket(packet: Uint8Array, maxFragmentPayload: number): Uint8Array[] {
  const payloadBytes = packet.byteLength - MEDIA_HEADER_BYTES;
  if (payloadBytes <= maxFragmentPayload) return [packet];
  const count = Math.ceil(payloadBytes / maxFragmentPayload);
  if (count > 0xffff) throw new TypeError(`frame of ${payloadBytes} bytes needs ${count} fragments (max 65535)`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const start = MEDIA_HEADER_BYTES + i * maxFragmentPayload;
    const end = Math.min(packet.byteLength, start + maxFragmentPayload);
    const fragment = new Uint8Array(MEDIA_HEADER_BYTES + end - start);
    fragment.set(packet.subarray(0, MEDIA_HEADER_BYTES), 0);
    fragment.set(packet.subarray(start, end), MEDIA_HEADER_BYTES);
    const view = new DataView(fragment.buffer, fragment.byteOffset, MEDIA_HEADER_BYTES);
    view.setUint16(MediaOffset.fragmentIndex, i);
    view.setUint16(MediaOffset.fragmentCount, count);
    out.push(fragment);
  }
  return out;
}

/** Audio level byte (0..127, −dBov) from an RMS value in 0..1. */
export function audioLevelFromRms(rms: number): number {
  if (!(rms > 0)) return 127;
  const dbov = 20 * Math.log10(Math.min(1, rms));
  return Math.max(0, Math.min(127, Math.round(-dbov)));
}
