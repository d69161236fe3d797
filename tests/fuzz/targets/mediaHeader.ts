/**
 * Fuzz target `media-header`: `decodeMediaPacket` (sdk/protocol/media.ts) against docs/protocol.md §4.
 *
 * Oracle: a reference decoder written from the table of §4.1 (checks in that order, one error code
 * each). The two must agree on every input: the same error code, or the same fields. An accepted packet
 * must also encode back (`encodeMediaPacket`) to the same bytes, reserved bytes aside (ignored on
 * receipt), and its payload must be a view into the input (no copy). Inputs sit at a random offset of
 * a larger buffer, so a decoder that forgets `byteOffset` is caught.
 * @module
 */
import fc from 'fast-check';
import {
  CODECS, MEDIA_HEADER_BYTES, TRACK_KINDS, decodeMediaPacket, encodeMediaPacket, type MediaPacket,
} from '../../../sdk/protocol/index.js';
import { mutateBytes, mutatedSeeds, oneOf } from '../mutate.js';
import { attempt, bytesFromJson, bytesToJson, ensure, fail, field, show, type FuzzTarget } from '../target.js';

/** An input: the packet, where it sits in its buffer, and the receiver's payload maximum. */
export interface MediaInput {
  bytes: Uint8Array;
  /** Offset of the packet in the buffer handed to the decoder. */
  at: number;
  /** `maxPayload`; `undefined` = the default (no limit). */
  maxPayload: number | undefined;
}

const hexId = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex'));

/** Well-formed packets with varied fields, the starting point of most inputs. */
const wellFormed: fc.Arbitrary<Uint8Array> = fc.record({
  kind: fc.constantFrom(...TRACK_KINDS),
  codec: fc.constantFrom(...CODECS),
  keyFrame: fc.boolean(), voice: fc.boolean(), discontinuity: fc.boolean(),
  audioLevel: fc.integer({ min: 0, max: 127 }),
  count: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 0xffff })),
  index: fc.nat({ max: 0xffff }),
  sender: hexId, track: hexId,
  sequence: fc.oneof(fc.nat({ max: 10 }), fc.constant(0xffffffff), fc.nat({ max: 0xffffffff })),
  timestamp: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1_700_000_000_123_456, Number.MAX_VALUE, Number.MIN_VALUE)),
  payload: fc.uint8Array({ maxLength: 64 }),
}).map((f) => encodeMediaPacket({ ...f, fragmentCount: f.count, fragmentIndex: f.index % f.count }, f.payload));

/** A header field set to a value on (or past) its boundary. */
const fieldEdit = fc.oneof(
  fc.record({ at: fc.constantFrom(0, 1, 2, 3, 4, 5, 10, 11), value: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 0x7f, 0x80, 0xfe, 0xff) }),
  fc.record({ at: fc.constantFrom(6, 7, 8, 9), value: fc.nat({ max: 255 }) }),
  // The capture time's exponent bytes: 0x7ff… is NaN or ±∞.
  fc.record({ at: fc.constantFrom(32, 33), value: fc.constantFrom(0x7f, 0xff, 0xf0, 0xf8, 0x00) }),
);

function withFieldEdits(base: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(base, fc.array(fieldEdit, { minLength: 1, maxLength: 3 })).map(([bytes, edits]) => {
    const out = bytes.slice();
    for (const { at, value } of edits) if (at < out.byteLength) out[at] = value;
    return out;
  });
}

const maxPayload = fc.option(fc.oneof(fc.nat({ max: 80 }), fc.constant(0), fc.constant(Number.MAX_SAFE_INTEGER)), { nil: undefined, freq: 2 });

type Expected = { ok: true; packet: Omit<MediaPacket, 'payload'> & { payloadBytes: number } } | { ok: false; code: string };

/** docs/protocol.md §4.1, read independently of media.ts. */
function reference(bytes: Uint8Array, max: number): Expected {
  if (bytes.byteLength < 40) return { ok: false, code: 'LAN_ERR_SHORT_HEADER' };
  if (bytes[0] !== 0x01) return { ok: false, code: 'LAN_ERR_BAD_PACKET_TYPE' };
  if (bytes[1] !== 1) return { ok: false, code: 'LAN_ERR_BAD_VERSION' };
  if (bytes[2]! > 2) return { ok: false, code: 'LAN_ERR_BAD_KIND' };
  if (bytes[3]! > 5) return { ok: false, code: 'LAN_ERR_BAD_CODEC' };
  if ((bytes[4]! & 0xf8) !== 0) return { ok: false, code: 'LAN_ERR_INVALID_MESSAGE' };
  if (bytes[5]! > 127) return { ok: false, code: 'LAN_ERR_INVALID_MESSAGE' };
  const index = bytes[6]! * 256 + bytes[7]!;
  const count = bytes[8]! * 256 + bytes[9]!;
  if (count < 1 || index >= count) return { ok: false, code: 'LAN_ERR_BAD_FRAGMENT' };
  const timestamp = Buffer.from(bytes.subarray(32, 40)).readDoubleBE(0);
  if (!Number.isFinite(timestamp)) return { ok: false, code: 'LAN_ERR_INVALID_MESSAGE' };
  if (bytes.byteLength - 40 > max) return { ok: false, code: 'LAN_ERR_TOO_LARGE' };
  const hex = (from: number) => Buffer.from(bytes.subarray(from, from + 8)).toString('hex');
  return {
    ok: true,
    packet: {
      kind: (['camera', 'microphone', 'screen'] as const)[bytes[2]!]!,
      codec: (['jpeg', 'vp8', 'opus', 'pcm16', 'h264', 'av1'] as const)[bytes[3]!]!,
      keyFrame: (bytes[4]! & 1) !== 0, voice: (bytes[4]! & 2) !== 0, discontinuity: (bytes[4]! & 4) !== 0,
      audioLevel: bytes[5]!, fragmentIndex: index, fragmentCount: count,
      sender: hex(12), track: hex(20),
      sequence: ((bytes[28]! << 24) >>> 0) + (bytes[29]! << 16) + (bytes[30]! << 8) + bytes[31]!,
      timestamp, payloadBytes: bytes.byteLength - 40,
    },
  };
}

/** Checks one input; the outcome is the error code, or `ok`. */
export function checkMedia(input: MediaInput): string {
  const buffer = new Uint8Array(input.at + input.bytes.byteLength + 3).fill(0xa5);
  buffer.set(input.bytes, input.at);
  const view = buffer.subarray(input.at, input.at + input.bytes.byteLength);
  const max = input.maxPayload ?? Infinity;
  const got = attempt('decodeMediaPacket', () => input.maxPayload === undefined ? decodeMediaPacket(view) : decodeMediaPacket(view, input.maxPayload));
  const want = reference(input.bytes, max);
  if (!want.ok) {
    ensure(!got.ok, 'media:accepts-invalid', () => `decodeMediaPacket accepted ${show(input.bytes)}, which §4.1 refuses with ${want.code}`);
    ensure(got.code === want.code, 'media:wrong-code', () => `decodeMediaPacket refused ${show(input.bytes)} with ${got.ok ? '' : got.code}; §4.1 says ${want.code}`);
    return want.code;
  }
  if (!got.ok) fail('media:refuses-valid', `decodeMediaPacket refused ${show(input.bytes)} with ${got.code}: ${got.error.message}; §4.1 accepts it`);
  const { payload, ...fields } = got.value;
  const { payloadBytes, ...wanted } = want.packet;
  for (const [name, value] of Object.entries(wanted)) {
    ensure(Object.is((fields as Record<string, unknown>)[name], value), 'media:wrong-field', () => `decodeMediaPacket read ${name} = ${show((fields as Record<string, unknown>)[name])}, the bytes say ${show(value)}: ${show(input.bytes)}`);
  }
  ensure(payload.byteLength === payloadBytes && payload.buffer === buffer.buffer && payload.byteOffset === view.byteOffset + MEDIA_HEADER_BYTES,
    'media:payload-not-a-view', () => `the payload is not the view of bytes 40… of the input: ${show(input.bytes)}`);
  // Round trip: the fields encode back to the same bytes (the reserved bytes are written as 0).
  const again = encodeMediaPacket(got.value, payload);
  const expected = input.bytes.slice();
  expected[10] = 0;
  expected[11] = 0;
  ensure(Buffer.from(again).equals(Buffer.from(expected)), 'media:round-trip', () => `decode then encode changed ${show(input.bytes)} into ${show(again)}`);
  return got.value.fragmentCount === 1 ? 'ok:whole' : 'ok:fragment';
}

export const mediaHeaderTarget: FuzzTarget<MediaInput> = {
  name: 'media-header',
  parser: '`decodeMediaPacket` (sdk/protocol/media.ts)',
  quickRuns: 40000,
  arbitrary(seeds) {
    const seedBytes = seeds.map((s) => s.bytes);
    const bytes = oneOf(
      wellFormed,
      withFieldEdits(wellFormed),
      mutateBytes(wellFormed, seedBytes.length ? seedBytes : [new Uint8Array(40)]),
      fc.uint8Array({ maxLength: 48 }),
      mutatedSeeds(seedBytes),
    );
    return fc.record({ bytes, at: fc.nat({ max: 9 }), maxPayload });
  },
  async open() {
    return { async: false, check: checkMedia, close: async () => {} };
  },
  toJson: (input) => ({ bytes: bytesToJson(input.bytes), at: input.at, ...(input.maxPayload === undefined ? {} : { maxPayload: input.maxPayload }) }),
  fromJson: (json) => ({
    bytes: bytesFromJson(field(json, 'bytes')),
    at: Number((json as { at?: number }).at ?? 0),
    maxPayload: (json as { maxPayload?: number }).maxPayload,
  }),
};
