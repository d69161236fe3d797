/**
 * Fuzz target `udp-bind`: `decodeUdpBind` (sdk/protocol/udp.ts) against docs/protocol.md §6.
 *
 * Oracle: a datagram is a bind exactly when it has 18 bytes, type `0x03` and version 1; its token is
 * the base64url (no padding, 22 characters) of bytes 2–17, and `encodeUdpBind(token)` gives the
 * datagram back. Anything else is `undefined`; nothing throws.
 * @module
 */
import fc from 'fast-check';
import { decodeUdpBind, encodeUdpBind } from '../../../sdk/protocol/index.js';
import { mutateBytes, mutatedSeeds, oneOf } from '../mutate.js';
import { attempt, bytesFromJson, bytesToJson, ensure, field, show, type FuzzTarget } from '../target.js';

/** An input: the datagram, and where it sits in its buffer. */
export interface BindInput {
  bytes: Uint8Array;
  at: number;
}

const wellFormed = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((token) => Uint8Array.of(0x03, 0x01, ...token));

/** Checks one input; the outcome says whether it was a bind and why not. */
export function checkBind(input: BindInput): string {
  const buffer = new Uint8Array(input.at + input.bytes.byteLength + 2).fill(0x33);
  buffer.set(input.bytes, input.at);
  const view = buffer.subarray(input.at, input.at + input.bytes.byteLength);
  const got = attempt('decodeUdpBind', () => decodeUdpBind(view));
  if (!got.ok) return got.code; // unreachable: attempt only returns for ProtocolErrors, which decodeUdpBind never throws
  const b = input.bytes;
  const why = b.byteLength !== 18 ? 'not-18-bytes' : b[0] !== 0x03 ? 'not-type-3' : b[1] !== 1 ? 'not-version-1' : undefined;
  if (why) {
    ensure(got.value === undefined, 'bind:accepts-invalid', () => `decodeUdpBind took ${show(b)} (${why}) as the bind of token ${got.value}`);
    return why;
  }
  const token = got.value;
  const want = Buffer.from(b.subarray(2)).toString('base64url');
  ensure(token === want, 'bind:wrong-token', () => `decodeUdpBind read token ${show(token)} from ${show(b)}; base64url of bytes 2–17 is ${want}`);
  ensure(/^[A-Za-z0-9_-]{22}$/.test(token), 'bind:token-form', () => `token ${token} is not 22 base64url characters`);
  const again = attempt('encodeUdpBind', () => encodeUdpBind(token));
  ensure(again.ok && Buffer.from(again.value).equals(Buffer.from(b)), 'bind:round-trip', () => `encodeUdpBind(${token}) does not give ${show(b)} back`);
  return 'bind';
}

export const udpBindTarget: FuzzTarget<BindInput> = {
  name: 'udp-bind',
  parser: '`decodeUdpBind` (sdk/protocol/udp.ts)',
  quickRuns: 40000,
  arbitrary(seeds) {
    const seedBytes = seeds.map((s) => s.bytes);
    const bytes = oneOf(
      wellFormed,
      mutateBytes(wellFormed, seedBytes.length ? seedBytes : [new Uint8Array(18)], 2),
      fc.uint8Array({ maxLength: 24 }),
      mutatedSeeds(seedBytes),
    );
    return fc.record({ bytes, at: fc.nat({ max: 7 }) });
  },
  async open() {
    return { async: false, check: checkBind, close: async () => {} };
  },
  toJson: (input) => ({ bytes: bytesToJson(input.bytes), at: input.at }),
  fromJson: (json) => ({ bytes: bytesFromJson(field(json, 'bytes')), at: Number((json as { at?: number }).at ?? 0) }),
};
