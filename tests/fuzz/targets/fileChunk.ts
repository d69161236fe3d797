/**
 * Fuzz target `file-chunk`: `decodeFileChunk` (sdk/protocol/fileChunk.ts) against docs/protocol.md §7.1.
 *
 * Oracle: a reference decoder from the table of §7.1 (same checks, same order, same codes); an
 * accepted chunk re-encodes (`encodeFileChunk`) to the input, reserved bytes aside, and its data is a
 * view of the input. Inputs sit at a random offset of a larger buffer.
 * @module
 */
import fc from 'fast-check';
import { FILE_CHUNK_HEADER_BYTES, decodeFileChunk, encodeFileChunk } from '../../../sdk/protocol/index.js';
import { mutateBytes, mutatedSeeds, oneOf } from '../mutate.js';
import { attempt, bytesFromJson, bytesToJson, ensure, fail, field, show, type FuzzTarget } from '../target.js';

/** An input: the packet, where it sits in its buffer, and `maxData` (`undefined` = the default, 1 MiB). */
export interface ChunkInput {
  bytes: Uint8Array;
  at: number;
  maxData: number | undefined;
}

const MAX_FILE_CHUNK_BYTES = 1_048_576;

const wellFormed: fc.Arbitrary<Uint8Array> = fc.record({
  transfer: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
  offset: fc.oneof(fc.nat({ max: 1000 }), fc.constantFrom(2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 53 - 1), fc.maxSafeNat()),
  data: fc.uint8Array({ maxLength: 64 }),
}).map((c) => encodeFileChunk(c.transfer, c.offset, c.data));

/** The high half of the offset around 2^21 (2^53 in all), the type, version and reserved bytes. */
const fieldEdit = fc.oneof(
  fc.record({ at: fc.constantFrom(0, 1, 2, 3), value: fc.constantFrom(0, 1, 2, 3, 0x7f, 0x80, 0xff) }),
  fc.record({ at: fc.constant(12), value: fc.constantFrom(0, 0x01, 0x80, 0xff) }),
  fc.record({ at: fc.constant(13), value: fc.constantFrom(0x1f, 0x20, 0x21, 0xff, 0) }),
);

const maxData = fc.option(fc.oneof(fc.nat({ max: 80 }), fc.constant(MAX_FILE_CHUNK_BYTES)), { nil: undefined, freq: 2 });

type Expected = { ok: true; transfer: string; offset: number; dataBytes: number } | { ok: false; code: string };

/** docs/protocol.md §7.1, read independently of fileChunk.ts. */
function reference(bytes: Uint8Array, max: number): Expected {
  if (bytes.byteLength < 20) return { ok: false, code: 'LAN_ERR_SHORT_HEADER' };
  if (bytes[0] !== 0x02) return { ok: false, code: 'LAN_ERR_BAD_PACKET_TYPE' };
  if (bytes[1] !== 1) return { ok: false, code: 'LAN_ERR_BAD_VERSION' };
  if (bytes.byteLength - 20 > max) return { ok: false, code: 'LAN_ERR_TOO_LARGE' };
  const offset = Buffer.from(bytes.subarray(12, 20)).readBigUInt64BE(0);
  if (offset >= 2n ** 53n) return { ok: false, code: 'LAN_ERR_BAD_OFFSET' };
  return { ok: true, transfer: Buffer.from(bytes.subarray(4, 12)).toString('hex'), offset: Number(offset), dataBytes: bytes.byteLength - 20 };
}

/** Checks one input; the outcome is the error code, or `ok`. */
export function checkChunk(input: ChunkInput): string {
  const buffer = new Uint8Array(input.at + input.bytes.byteLength + 3).fill(0x5a);
  buffer.set(input.bytes, input.at);
  const view = buffer.subarray(input.at, input.at + input.bytes.byteLength);
  const got = attempt('decodeFileChunk', () => input.maxData === undefined ? decodeFileChunk(view) : decodeFileChunk(view, input.maxData));
  const want = reference(input.bytes, input.maxData ?? MAX_FILE_CHUNK_BYTES);
  if (!want.ok) {
    ensure(!got.ok, 'chunk:accepts-invalid', () => `decodeFileChunk accepted ${show(input.bytes)}, which §7.1 refuses with ${want.code}`);
    ensure(got.code === want.code, 'chunk:wrong-code', () => `decodeFileChunk refused ${show(input.bytes)} with ${got.ok ? '' : got.code}; §7.1 says ${want.code}`);
    return want.code;
  }
  if (!got.ok) fail('chunk:refuses-valid', `decodeFileChunk refused ${show(input.bytes)} with ${got.code}: ${got.error.message}; §7.1 accepts it`);
  const chunk = got.value;
  ensure(chunk.transfer === want.transfer && chunk.offset === want.offset, 'chunk:wrong-field',
    () => `decodeFileChunk read transfer ${chunk.transfer} offset ${chunk.offset}; the bytes say ${want.transfer} ${want.offset}`);
  ensure(chunk.data.byteLength === want.dataBytes && chunk.data.buffer === buffer.buffer && chunk.data.byteOffset === view.byteOffset + FILE_CHUNK_HEADER_BYTES,
    'chunk:data-not-a-view', () => `the data is not the view of bytes 20… of the input: ${show(input.bytes)}`);
  const again = encodeFileChunk(chunk.transfer, chunk.offset, chunk.data);
  const expected = input.bytes.slice();
  expected[2] = 0;
  expected[3] = 0;
  ensure(Buffer.from(again).equals(Buffer.from(expected)), 'chunk:round-trip', () => `decode then encode changed ${show(input.bytes)} into ${show(again)}`);
  return chunk.offset >= 2 ** 32 ? 'ok:offset>=2^32' : 'ok';
}

export const fileChunkTarget: FuzzTarget<ChunkInput> = {
  name: 'file-chunk',
  parser: '`decodeFileChunk` (sdk/protocol/fileChunk.ts)',
  quickRuns: 40000,
  arbitrary(seeds) {
    const seedBytes = seeds.map((s) => s.bytes);
    const bytes = oneOf(
      wellFormed,
      fc.tuple(wellFormed, fc.array(fieldEdit, { minLength: 1, maxLength: 3 })).map(([b, edits]) => {
        const out = b.slice();
        for (const { at, value } of edits) out[at] = value;
        return out;
      }),
      mutateBytes(wellFormed, seedBytes.length ? seedBytes : [new Uint8Array(20)]),
      fc.uint8Array({ maxLength: 28 }),
      mutatedSeeds(seedBytes),
    );
    return fc.record({ bytes, at: fc.nat({ max: 9 }), maxData });
  },
  async open() {
    return { async: false, check: checkChunk, close: async () => {} };
  },
  toJson: (input) => ({ bytes: bytesToJson(input.bytes), at: input.at, ...(input.maxData === undefined ? {} : { maxData: input.maxData }) }),
  fromJson: (json) => ({
    bytes: bytesFromJson(field(json, 'bytes')),
    at: Number((json as { at?: number }).at ?? 0),
    maxData: (json as { maxData?: number }).maxData,
  }),
};
