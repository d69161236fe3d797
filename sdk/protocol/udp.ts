/**
 * UDP binding datagrams: how a native client proves, on UDP, which session it belongs to.
 *
 * ```
 * bind (client → relay), 18 bytes        bind ack (relay → client), 2 bytes
 *  0  1  packet type 0x03                 0  1  packet type 0x04
 *  1  1  version 1                        1  1  version 1
 *  2 16  token from `welcome.udp.token`
 * ```
 * @module
 */
import { PacketType, PROTOCOL_VERSION, UDP_TOKEN_BYTES } from './constants.js';
import { base64UrlToBytes, bytesToBase64Url } from './ids.js';

/** Bytes of a bind datagram. */
export const UDP_BIND_BYTES = 2 + UDP_TOKEN_BYTES;

/** Encodes a bind datagram for the base64url `token`. */
export function encodeUdpBind(token: string): Uint8Array {
  const raw = base64UrlToBytes(token);
  if (raw.byteLength !== UDP_TOKEN_BYTES) throw new TypeError(`a UDP token has ${UDP_TOKEN_BYTES} bytes`);
  const out = new Uint8Array(UDP_BIND_BYTES);
  out[0] = PacketType.UdpBind;
  out[1] = PROTOCOL_VERSION;
  out.set(raw, 2);
  return out;
}

/** The token (base64url) of a bind datagram, or `undefined` if `bytes` is not a well-formed one. */
export function decodeUdpBind(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength !== UDP_BIND_BYTES || bytes[0] !== PacketType.UdpBind || bytes[1] !== PROTOCOL_VERSION) return undefined;
  return bytesToBase64Url(bytes.subarray(2));
}

/** The bind-ack datagram. */
export const UDP_BIND_ACK: Uint8Array = Uint8Array.of(PacketType.UdpBindAck, PROTOCOL_VERSION);
