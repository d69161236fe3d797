/**
 * Mutation of corpus inputs, as arbitraries: a seed taken from the corpus, then a few edits (bit flips,
 * interesting values at a position, insertions, deletions, truncation, splices with another seed).
 * fast-check shrinks the edits like any generated value, so a finding reached by mutation shrinks too.
 * @module
 */
import fc from 'fast-check';

/** Byte values that sit on boundaries of the wire's fields. */
const INTERESTING_BYTES = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x20, 0x3f, 0x40, 0x7e, 0x7f, 0x80, 0x81, 0xc0, 0xef, 0xfe, 0xff];

/** One edit of a byte string; positions are taken modulo the length. */
type ByteEdit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'set16'; at: number; value: number }
  | { op: 'set32'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'truncate'; keep: number }
  | { op: 'repeat'; at: number; count: number; times: number }
  | { op: 'splice'; at: number; other: number; from: number; count: number };

const position = fc.nat({ max: 1 << 20 });

const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: position, value: fc.oneof(fc.constantFrom(...INTERESTING_BYTES), fc.nat({ max: 255 })) }),
  fc.record({ op: fc.constant('set16' as const), at: position, value: fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff) }),
  fc.record({ op: fc.constant('set32' as const), at: position, value: fc.constantFrom(0, 1, 0xff, 0x10000, 0x1fffff, 0x200000, 0x7fffffff, 0x80000000, 0xffffffff) }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('truncate' as const), keep: position }),
  fc.record({ op: fc.constant('repeat' as const), at: position, count: fc.integer({ min: 1, max: 32 }), times: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('splice' as const), at: position, other: fc.nat(), from: position, count: fc.integer({ min: 1, max: 64 }) }),
);

function applyByteEdit(bytes: Uint8Array, edit: ByteEdit, seeds: readonly Uint8Array[]): Uint8Array {
  const n = bytes.byteLength;
  const at = (p: number) => (n === 0 ? 0 : p % n);
  switch (edit.op) {
    case 'flip': {
      if (n === 0) return bytes;
      const out = bytes.slice();
      out[at(edit.at)]! ^= 1 << edit.bit;
      return out;
    }
    case 'set':
    case 'set16':
    case 'set32': {
      const width = edit.op === 'set' ? 1 : edit.op === 'set16' ? 2 : 4;
      if (n < width) return bytes;
      const out = bytes.slice();
      const i = edit.at % (n - width + 1);
      for (let k = 0; k < width; k++) out[i + k] = (edit.value >>> (8 * (width - 1 - k))) & 0xff;
      return out;
    }
    case 'insert': {
      const i = n === 0 ? 0 : edit.at % (n + 1);
      return concat(bytes.subarray(0, i), edit.bytes, bytes.subarray(i));
    }
    case 'delete': {
      if (n === 0) return bytes;
      const i = at(edit.at);
      return concat(bytes.subarray(0, i), bytes.subarray(Math.min(n, i + edit.count)));
    }
    case 'truncate':
      return n === 0 ? bytes : bytes.slice(0, edit.keep % n);
    case 'repeat': {
      if (n === 0) return bytes;
      const i = at(edit.at);
      const piece = bytes.subarray(i, Math.min(n, i + edit.count));
      return concat(bytes.subarray(0, i), ...Array.from({ length: edit.times + 1 }, () => piece), bytes.subarray(i + piece.byteLength));
    }
    case 'splice': {
      const other = seeds[edit.other % seeds.length]!;
      if (other.byteLength === 0) return bytes;
      const from = edit.from % other.byteLength;
      const i = n === 0 ? 0 : edit.at % (n + 1);
      return concat(bytes.subarray(0, i), other.subarray(from, from + edit.count), bytes.subarray(i));
    }
  }
}

/** Concatenates byte strings into a new buffer. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Applies 1–`maxEdits` byte edits to `base` (`seeds` give splice material). */
export function mutateBytes(base: fc.Arbitrary<Uint8Array>, seeds: readonly Uint8Array[], maxEdits = 4): fc.Arbitrary<Uint8Array> {
  const material = seeds.length > 0 ? seeds : [Uint8Array.of(0)];
  return fc.tuple(base, fc.array(byteEdit, { minLength: 1, maxLength: maxEdits }))
    .map(([bytes, edits]) => edits.reduce((b, e) => applyByteEdit(b, e, material), bytes));
}

/** Mutations of the corpus `seeds` (nothing when the corpus is empty: `undefined`). */
export function mutatedSeeds(seeds: readonly Uint8Array[], maxEdits = 4): fc.Arbitrary<Uint8Array> | undefined {
  if (seeds.length === 0) return undefined;
  return mutateBytes(fc.constantFrom(...seeds), seeds, maxEdits);
}

// ---- strings ----------------------------------------------------------------------------------------

/** Code units that matter to text rules: controls, separators, surrogates, white space, BOM, specials. */
export const INTERESTING_UNITS = [
  '\u0000', '\t', '\n', '\r', '\u001f', ' ', '"', '\\', '/', '.', ':', '*', '?', '<', '>', '|', '%', '{', '}', '[', ']', ',',
  '\u007f', '\u0080', '\u009f', '\u00a0', '\u00ad', '\u1680', '\u2000', '\u200b', '\u2028', '\u2029', '\u202e', '\u3000',
  '\ufeff', '\ufffd', '\uffff', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', 'é', 'e\u0301', '¹', '²', '³', 'ß', 'İ',
];

type TextEdit =
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; count: number }
  | { op: 'replace'; at: number; text: string }
  | { op: 'truncate'; keep: number }
  | { op: 'repeat'; at: number; count: number; times: number };

const unitText = fc.oneof(
  fc.constantFrom(...INTERESTING_UNITS),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.string({ maxLength: 8 }),
);

const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constant('insert' as const), at: position, text: unitText }),
  fc.record({ op: fc.constant('delete' as const), at: position, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('replace' as const), at: position, text: unitText }),
  fc.record({ op: fc.constant('truncate' as const), keep: position }),
  fc.record({ op: fc.constant('repeat' as const), at: position, count: fc.integer({ min: 1, max: 8 }), times: fc.integer({ min: 1, max: 300 }) }),
);

function applyTextEdit(text: string, edit: TextEdit): string {
  const n = text.length;
  const i = (p: number, extra = 0) => (n + extra === 0 ? 0 : p % (n + extra));
  switch (edit.op) {
    case 'insert': {
      const at = i(edit.at, 1);
      return text.slice(0, at) + edit.text + text.slice(at);
    }
    case 'delete': {
      const at = i(edit.at);
      return text.slice(0, at) + text.slice(at + edit.count);
    }
    case 'replace': {
      const at = i(edit.at);
      return text.slice(0, at) + edit.text + text.slice(at + edit.text.length);
    }
    case 'truncate':
      return n === 0 ? text : text.slice(0, edit.keep % n);
    case 'repeat': {
      const at = i(edit.at);
      const piece = text.slice(at, at + edit.count);
      return text.slice(0, at) + piece.repeat(edit.times + 1) + text.slice(at + piece.length);
    }
  }
}

/** Applies 1–`maxEdits` text edits (UTF-16 positions, so surrogate pairs get split too). */
export function mutateText(base: fc.Arbitrary<string>, maxEdits = 3): fc.Arbitrary<string> {
  return fc.tuple(base, fc.array(textEdit, { minLength: 1, maxLength: maxEdits }))
    .map(([text, edits]) => edits.reduce(applyTextEdit, text));
}

/** Mutations of the corpus strings `seeds` (`undefined` when there are none). */
export function mutatedTextSeeds(seeds: readonly string[], maxEdits = 3): fc.Arbitrary<string> | undefined {
  return seeds.length === 0 ? undefined : mutateText(fc.constantFrom(...seeds), maxEdits);
}

/** `fc.oneof` of the arbitraries given, skipping `undefined` ones (mutators of an empty corpus). */
export function oneOf<T>(...arbitraries: Array<fc.Arbitrary<T> | undefined>): fc.Arbitrary<T> {
  const present = arbitraries.filter((a): a is fc.Arbitrary<T> => a !== undefined);
  return fc.oneof(...present);
}
