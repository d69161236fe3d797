/**
 * Fuzz target `tcp-framing`: `FrameParser` (sdk/protocol/framing.ts) against docs/protocol.md §1.2.
 *
 * A byte stream (well-formed frames, hostile headers, mutations of the corpus) is cut into random
 * pieces (empty ones included) and pushed. Oracle: a reference parser reading the whole stream at once.
 * After every push the parser must have delivered exactly the frames the reference completed by then
 * (same opcode, same payload bytes) and hold exactly the bytes of the unfinished frame (`buffered`,
 * never beyond `maxPayload + 5`); on the push that brings the 5th byte of a bad header it throws a
 * `ProtocolError` with the reference's code (`LAN_ERR_BAD_PACKET_TYPE` first, then `LAN_ERR_TOO_LARGE`),
 * and every push after that throws a `ProtocolError` too. Nothing else may be thrown.
 *
 * `transient` mode is the relay's (one read buffer reused for every read): the fuzzer overwrites its
 * read buffer after every push, and every payload delivered must still hold its bytes at the end, be
 * `owned`, and come from `alloc` with the packet type (first payload byte) of a binary frame. `discard()`
 * must give a half-filled payload buffer back through `release` exactly once (the relay's pool slots).
 * @module
 */
import fc from 'fast-check';
import { ProtocolError } from '../../../sdk/errors.js';
import { FrameParser, type Opcode } from '../../../sdk/protocol/index.js';
import { concat, mutatedSeeds, oneOf } from '../mutate.js';
import { FuzzFinding, bytesFromJson, bytesToJson, ensure, fail, field, show, type FuzzTarget } from '../target.js';

/** An input: the stream, how it is cut, and how the parser is set up. */
export interface FramingInput {
  stream: Uint8Array;
  /** Sizes of the pieces pushed, used in turn until the stream is all pushed (0 = an empty push). */
  splits: number[];
  maxPayload: number;
  /** The relay's mode: one read buffer, reused (and overwritten here) after every push. */
  transient: boolean;
  /** Pass `alloc`/`copy`/`release` (checked) rather than the defaults. */
  custom: boolean;
}

interface RefFrame {
  opcode: number;
  payload: Uint8Array;
  /** Stream bytes needed to complete it (its last byte is at end − 1). */
  end: number;
}

interface Reference {
  frames: RefFrame[];
  /** The failing header: its 5th byte's position + 1, and the code. */
  error: { at: number; code: string } | undefined;
}

/** docs/protocol.md §1.2, read independently of framing.ts. */
function reference(stream: Uint8Array, maxPayload: number): Reference {
  const frames: RefFrame[] = [];
  let p = 0;
  while (p + 5 <= stream.byteLength) {
    const length = Buffer.from(stream.subarray(p, p + 4)).readUInt32BE(0);
    const opcode = stream[p + 4]!;
    if (opcode !== 1 && opcode !== 2) return { frames, error: { at: p + 5, code: 'LAN_ERR_BAD_PACKET_TYPE' } };
    if (length > maxPayload) return { frames, error: { at: p + 5, code: 'LAN_ERR_TOO_LARGE' } };
    if (p + 5 + length > stream.byteLength) break;
    frames.push({ opcode, payload: stream.subarray(p + 5, p + 5 + length), end: p + 5 + length });
    p += 5 + length;
  }
  return { frames, error: undefined };
}

/** Bytes the parser should hold after `pushed` bytes: the unfinished frame's, less its header once read. */
function expectedBuffered(ref: Reference, stream: Uint8Array, pushed: number): number {
  let start = 0;
  for (const f of ref.frames) if (f.end <= pushed) start = f.end;
  const held = pushed - start;
  return held >= 5 ? held - 5 : held;
}

function pieces(input: FramingInput): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const splits = input.splits.length && input.splits.some((s) => s > 0) ? input.splits : [input.stream.byteLength];
  let at = 0;
  for (let i = 0; at < input.stream.byteLength; i++) {
    const n = Math.min(splits[i % splits.length]!, input.stream.byteLength - at);
    out.push([at, at + n]);
    at += n;
  }
  return out;
}

/** Checks one input; the outcome names how the stream ended. */
export function checkFraming(input: FramingInput): string {
  const { stream, maxPayload } = input;
  const ref = reference(stream, maxPayload);
  const delivered: Array<{ opcode: Opcode; payload: Uint8Array; owned: boolean }> = [];
  /** Buffers made by `alloc`, with the type they were asked for. */
  const made = new Map<Uint8Array, { size: number; type: number }>();
  const released: Uint8Array[] = [];
  const options = input.custom || input.transient ? {
    alloc: (size: number, type: number) => {
      ensure(Number.isSafeInteger(size) && size >= 0 && size <= maxPayload + 5, 'framing:alloc-size', () => `alloc(${size}) with maxPayload ${maxPayload}`);
      const buffer = new Uint8Array(size).fill(0xcd);
      made.set(buffer, { size, type });
      return buffer;
    },
    copy: (target: Uint8Array, source: Uint8Array, at: number) => {
      ensure(at >= 0 && at + source.byteLength <= target.byteLength, 'framing:copy-bounds', () => `copy of ${source.byteLength} bytes at ${at} into ${target.byteLength}`);
      target.set(source, at);
    },
    release: (buffer: Uint8Array) => released.push(buffer),
    transient: input.transient,
  } : {};
  const parser = new FrameParser(maxPayload, (opcode, payload, owned) => {
    delivered.push({ opcode, payload, owned });
    const want = ref.frames[delivered.length - 1];
    ensure(want, 'framing:extra-frame', () => `frame ${delivered.length} delivered; the stream ${show(stream)} holds ${ref.frames.length} whole frames`);
    ensure(opcode === want.opcode && Buffer.from(payload).equals(Buffer.from(want.payload)), 'framing:wrong-frame',
      () => `frame ${delivered.length}: opcode ${opcode}, payload ${show(payload)}; the stream says opcode ${want.opcode}, ${show(want.payload)}`);
  }, options);
  // The relay's read buffer: every push is a view of it, overwritten once the push returns.
  const readBuffer = new Uint8Array(Math.max(1, ...input.splits, stream.byteLength));
  let pushed = 0;
  let outcome = 'incomplete';
  for (const [from, to] of pieces(input)) {
    let chunk: Uint8Array;
    if (input.transient) {
      readBuffer.set(stream.subarray(from, to), 0);
      chunk = readBuffer.subarray(0, to - from);
    } else {
      chunk = stream.subarray(from, to);
    }
    let thrown: unknown;
    try {
      parser.push(chunk);
    } catch (error) {
      if (error instanceof FuzzFinding) throw error;
      thrown = error;
    }
    if (input.transient) readBuffer.fill(0xee);
    pushed = to;
    const failed = ref.error !== undefined && ref.error.at <= pushed;
    if (thrown !== undefined) {
      if (!(thrown instanceof ProtocolError)) {
        fail('framing:threw', `FrameParser.push threw ${String(thrown)} (only a ProtocolError is allowed)`, thrown);
      }
      ensure(failed, 'framing:refuses-valid', () => `push threw ${thrown instanceof ProtocolError ? thrown.code : ''} at byte ${pushed} of ${show(stream)}; the stream is valid that far`);
      if (outcome === 'incomplete') {
        ensure(thrown.code === ref.error!.code, 'framing:wrong-code', () => `push threw ${thrown instanceof ProtocolError ? thrown.code : ''}; the bad header says ${ref.error!.code}`);
        outcome = ref.error!.code;
      }
      ensure(delivered.length === ref.frames.length, 'framing:frames-before-error', () => `${delivered.length} frames delivered before the error; ${ref.frames.length} came before the bad header`);
      continue;
    }
    ensure(!failed, 'framing:accepts-invalid', () => `push took byte ${pushed} of ${show(stream)} without an error: the header ending at ${ref.error!.at} is bad (${ref.error!.code})`);
    const complete = ref.frames.filter((f) => f.end <= pushed).length;
    ensure(delivered.length === complete, 'framing:frame-count', () => `${delivered.length} frames delivered after ${pushed} bytes; ${complete} are whole`);
    const want = expectedBuffered(ref, stream, pushed);
    ensure(parser.buffered === want, 'framing:buffered', () => `buffered is ${parser.buffered} after ${pushed} bytes of ${show(stream)}; the unfinished frame has ${want}`);
    ensure(parser.buffered <= maxPayload + 5, 'framing:over-limit', () => `buffered ${parser.buffered} bytes with maxPayload ${maxPayload}`);
  }
  // Payloads must still hold their bytes (transient mode: nothing may point into the reused read buffer).
  delivered.forEach((d, i) => {
    const want = ref.frames[i]!;
    ensure(Buffer.from(d.payload).equals(Buffer.from(want.payload)), 'framing:payload-aliases-read-buffer',
      () => `frame ${i + 1}'s payload changed after the read buffer was reused: ${show(d.payload)}, was ${show(want.payload)}`);
    if (input.transient && d.payload.byteLength > 0) {
      ensure(d.owned, 'framing:transient-not-owned', () => `frame ${i + 1} (${d.payload.byteLength} bytes) delivered not owned in transient mode`);
    }
    if (d.owned && (input.custom || input.transient)) {
      const info = made.get(d.payload);
      ensure(info, 'framing:owned-not-allocated', () => `frame ${i + 1} is owned but its buffer was not made by alloc`);
      const type = d.opcode === 2 && d.payload.byteLength > 0 ? d.payload[0]! : -1;
      ensure(info.type === type, 'framing:alloc-type', () => `frame ${i + 1} (opcode ${d.opcode}, first byte ${d.payload[0]}) was allocated with type ${info.type}, not ${type}; pieces ${show(pieces(input).map(([a, b]) => b - a))}`);
    }
  });
  // discard(): a half-filled payload buffer goes back through release, once.
  const inProgress = input.transient && ref.error === undefined && expectedBuffered(ref, stream, pushed) > 0 && (() => {
    let start = 0;
    for (const f of ref.frames) start = f.end;
    return pushed - start > 5;
  })();
  parser.discard();
  ensure(parser.buffered === 0, 'framing:discard-keeps', () => `buffered is ${parser.buffered} after discard()`);
  for (const buffer of released) {
    ensure(made.has(buffer) && !delivered.some((d) => d.payload === buffer), 'framing:release-foreign', 'release() got a buffer alloc did not make, or one already delivered');
  }
  if (input.transient) {
    ensure(released.length === (inProgress ? 1 : 0), 'framing:release-count',
      () => `discard() released ${released.length} buffers; ${inProgress ? 'a payload was half-filled' : 'no payload was in progress'}`);
  }
  let after: unknown;
  try {
    parser.push(Uint8Array.of(0, 0, 0, 0, 1));
  } catch (error) {
    after = error;
  }
  ensure(after instanceof ProtocolError, 'framing:push-after-discard', () => `push after discard() ${after === undefined ? 'was taken' : `threw ${String(after)}`}`);
  if (outcome !== 'incomplete') return outcome;
  return ref.frames.length === 0 ? 'no-frame' : expectedBuffered(ref, stream, pushed) === 0 ? 'frames' : 'frames+partial';
}

const frame = fc.record({
  opcode: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.constantFrom(0, 3, 0x2f, 0x7b, 0xff) }),
  payload: fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.uint8Array({ minLength: 1, maxLength: 300 }).map((p) => { p[0] = 0x02; return p; }),
    fc.constant(new Uint8Array(0)),
  ),
  /** A length that lies (the rest of the stream then reads differently). */
  lie: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -5, max: 5 }) },
    { weight: 1, arbitrary: fc.constantFrom(0x7fffffff, 0xffffffff, 65_536, 4_194_349) }),
}).map(({ opcode, payload, lie }) => {
  const header = new Uint8Array(5);
  const length = lie > 1000 ? lie : Math.max(0, payload.byteLength + lie);
  new DataView(header.buffer).setUint32(0, length >>> 0);
  header[4] = opcode;
  return concat(header, payload);
});

const wellFormedStream = fc.tuple(fc.array(frame, { maxLength: 8 }), fc.uint8Array({ maxLength: 8 })).map(([frames, tail]) => concat(...frames, tail));

const splits: fc.Arbitrary<number[]> = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 70 }), { minLength: 1, maxLength: 12 }),
  fc.constant([1]).map((s) => [...s]),
  fc.array(fc.constantFrom(0, 1, 4, 5, 6), { minLength: 1, maxLength: 6 }).map((s) => [...s]),
);

export const tcpFramingTarget: FuzzTarget<FramingInput> = {
  name: 'tcp-framing',
  parser: '`FrameParser` (sdk/protocol/framing.ts)',
  quickRuns: 20000,
  arbitrary(seeds) {
    const stream = oneOf(wellFormedStream, fc.uint8Array({ maxLength: 64 }), mutatedSeeds(seeds.map((s) => s.stream)));
    return fc.record({
      stream,
      splits,
      maxPayload: fc.oneof(fc.nat({ max: 64 }), fc.constantFrom(0, 300, 65_536, 4_194_349)),
      transient: fc.boolean(),
      custom: fc.boolean(),
    });
  },
  async open() {
    return { async: false, check: checkFraming, close: async () => {} };
  },
  toJson: (input) => ({ ...input, stream: bytesToJson(input.stream) }),
  fromJson: (json) => ({ ...(json as FramingInput), stream: bytesFromJson(field(json, 'stream')) }),
};
