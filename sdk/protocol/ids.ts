/**
 * Ids for participants, tracks and chat messages: 64 random bits, written as 16 lowercase hex
 * characters in JSON and as 8 raw bytes in the media header. Random rather than counters so
 * ids stay unique beyond one relay process.
 * @module
 */
import { ID_BYTES } from './constants.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ID_PATTERN = /^[0-9a-f]{16}$/;

/** The all-zero id: "not set". */
export const ZERO_ID = '0000000000000000';

/** A new random id (never {@link ZERO_ID}). */
export function randomId(): string {
  const bytes = new Uint8Array(ID_BYTES);
  let id = ZERO_ID;
  while (id === ZERO_ID) {
    crypto.getRandomValues(bytes);
    id = idFromBytes(bytes, 0);
  }
  return id;
}

/** `true` when `value` is a well-formed id. */
export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** Reads the 8-byte id at `offset` of `bytes` as hex. */
export function idFromBytes(bytes: Uint8Array, offset: number): string {
  let out = '';
  for (let i = 0; i < ID_BYTES; i++) out += HEX[bytes[offset + i]!];
  return out;
}

/** Writes the hex id into `bytes` at `offset` (8 bytes). */
export function writeId(bytes: Uint8Array, offset: number, id: string): void {
  if (!ID_PATTERN.test(id)) throw new TypeError(`not an id: ${JSON.stringify(id)}`);
  for (let i = 0; i < ID_BYTES; i++) bytes[offset + i] = parseInt(id.slice(i * 2, i * 2 + 2), 16);
}

/** `true` when the 8 bytes at `offset` equal `idBytes`. */
export function idBytesEqual(bytes: Uint8Array, offset: number, idBytes: Uint8Array): boolean {
  for (let i = 0; i < ID_BYTES; i++) if (bytes[offset + i] !== idBytes[i]) return false;
  return true;
}

/** The 8 raw bytes of a hex id. */
export function idToBytes(id: string): Uint8Array {
  const bytes = new Uint8Array(ID_BYTES);
  writeId(bytes, 0, id);
  return bytes;
}

/** Random bytes encoded base64url (for tokens). */
export function randomToken(byteLength: number): string {
  const bytes = new Uint8Array(byteLength);
  crypto.getRandomValues(bytes);
  return bytesToBase64Url(bytes);
}

/** base64url without padding. */
export function bytesToBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes base64url (with or without padding); throws `TypeError` on bad input. */
export function base64UrlToBytes(text: string): Uint8Array {
  const bare = text.replace(/={1,2}$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(bare) || bare.length % 4 === 1) throw new TypeError('not base64url');
  const binary = atob(bare.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
