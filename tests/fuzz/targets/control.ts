/**
 * Fuzz target `control`: `decodeClientMessage` / `decodeRelayMessage` (sdk/protocol/control.ts) against
 * docs/protocol.md §3.
 *
 * Oracle: a reference decoder written from §3 (the order of checks of §3.1, the value types, the tables
 * of §3.2 and §3.3; `fileList`/`fileListPage` from sdk/protocol/messages.ts, which §3 does not list
 * yet), independent of zod. For every input the two must agree: the same `LAN_ERR_*` code, or the same
 * decoded message (deep-equal, plain prototypes, unknown fields dropped, labels and meeting ids
 * trimmed). A thrown error that is not a `ProtocolError` is a finding, and so is a message accepted
 * that §3 refuses (or the other way round).
 *
 * Inputs: well-formed messages of every type built from the same tables, then edited (a field removed,
 * set to a value on or past its boundary, an unknown or `__proto__` key added), written as JSON text
 * with numbers JSON.stringify never writes (`1e400`, `-0`, `1.0`…); random JSON; random text; text and
 * UTF-8 bytes mutated (lone surrogates, invalid UTF-8, a byte-order mark); small size limits.
 * @module
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { decodeClientMessage, decodeRelayMessage } from '../../../sdk/protocol/index.js';
import { mutateBytes, mutateText, mutatedSeeds, mutatedTextSeeds, oneOf } from '../mutate.js';
import { attempt, bytesFromJson, bytesToJson, ensure, fail, show, type FuzzTarget } from '../target.js';

/** An input: a message as text or bytes, its direction, and the size limit. */
export interface ControlInput {
  dir: 'client' | 'relay';
  text?: string;
  bytes?: Uint8Array;
  /** `maxBytes`; `undefined` = the default (64 KiB from a client, 16 MiB from the relay). */
  maxBytes?: number;
}

// ---- §3's value types, as a small schema language used to generate and to check -------------------

type Spec =
  | { k: 'id' } | { k: 'uint' } | { k: 'label'; max: number } | { k: 'meeting' } | { k: 'requestId' }
  | { k: 'enum'; values: readonly string[] } | { k: 'sha256' } | { k: 'bool' } | { k: 'number' }
  | { k: 'str'; min: number; max: number } | { k: 'lit'; value: string | number } | { k: 'int'; min: number; max: number }
  | { k: 'array'; item: Spec; max: number } | { k: 'object'; fields: Record<string, Field> };
type Field = Spec & { optional?: boolean };

const id: Spec = { k: 'id' };
const uint: Spec = { k: 'uint' };
const bool: Spec = { k: 'bool' };
const num: Spec = { k: 'number' };
const sha256: Spec = { k: 'sha256' };
const requestId: Spec = { k: 'requestId' };
const label = (max: number): Spec => ({ k: 'label', max });
const str = (max: number, min = 0): Spec => ({ k: 'str', min, max });
const int = (min: number, max: number): Spec => ({ k: 'int', min, max });
const lit = (value: string | number): Spec => ({ k: 'lit', value });
const oneOfValues = (...values: string[]): Spec => ({ k: 'enum', values });
const array = (item: Spec, max = Infinity): Spec => ({ k: 'array', item, max });
const object = (fields: Record<string, Field>): Spec => ({ k: 'object', fields });
const opt = (spec: Spec): Field => ({ ...spec, optional: true });

const KINDS = ['camera', 'microphone', 'screen'];
const CODECS = ['jpeg', 'vp8', 'opus', 'pcm16', 'h264', 'av1'];
const kind = oneOfValues(...KINDS);
const codec = oneOfValues(...CODECS);
const trackInfo = object({ id, participantId: id, kind, codec, muted: bool });
const participantInfo = object({ id, name: label(64), role: oneOfValues('host', 'guest'), joinedAt: uint, decode: array(codec, 16), tracks: array(trackInfo, 64) });
const chatInfo = object({ id, from: id, name: label(64), text: str(100_000), ts: uint, seq: uint });
const fileInfo = object({ id, name: str(1024, 1), size: uint, sha256, from: id, fromName: label(64), ts: uint, url: str(2048) });

/** §3.2. */
const CLIENT: Record<string, Spec> = {
  join: object({
    type: lit('join'), v: lit(1), meeting: { k: 'meeting' }, name: label(64), passcode: opt(str(256)),
    transport: oneOfValues('websocket', 'native'), decode: array(codec, 16), udp: opt(object({ payloadSize: int(512, 65_467) })), resume: opt(str(128)),
  }),
  leave: object({ type: lit('leave') }),
  ping: object({ type: lit('ping'), t: num }),
  publish: object({ type: lit('publish'), requestId, kind, codec, muted: opt(bool) }),
  unpublish: object({ type: lit('unpublish'), trackId: id }),
  mute: object({ type: lit('mute'), trackId: id, muted: bool }),
  chat: object({ type: lit('chat'), text: str(100_000, 1), seq: uint }),
  keyFrameRequest: object({ type: lit('keyFrameRequest'), trackId: id }),
  subscription: object({ type: lit('subscription'), trackId: id, paused: bool }),
  fileUpload: object({ type: lit('fileUpload'), requestId, name: str(100_000), size: uint, uploadId: opt(id) }),
  fileUploadEnd: object({ type: lit('fileUploadEnd'), uploadId: id, sha256 }),
  fileDownload: object({ type: lit('fileDownload'), requestId, fileId: id, offset: uint }),
  fileAck: object({ type: lit('fileAck'), transferId: id, offset: uint }),
  fileCancel: object({ type: lit('fileCancel'), transferId: id }),
  fileList: object({ type: lit('fileList'), requestId, before: opt(id) }),
};

/** §3.3. */
const RELAY: Record<string, Spec> = {
  welcome: object({
    type: lit('welcome'), v: lit(1), meeting: str(Infinity), you: participantInfo, participants: array(participantInfo),
    chat: array(chatInfo), resumeToken: str(Infinity), resumed: opt(bool), files: opt(array(fileInfo)),
    udp: opt(object({ port: int(1, 65_535), token: str(Infinity), payloadSize: int(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) })),
    limits: object(Object.fromEntries(['maxControlBytes', 'maxFrameBytes', 'maxParticipants', 'maxTracksPerParticipant', 'maxControlPerSecond',
      'maxChatChars', 'maxChatPerSecond', 'maxFileBytes', 'maxMeetingFileBytes'].map((name) => [name, uint]))),
    serverTime: uint, pingIntervalMs: opt(int(100, 60_000)),
  }),
  participantJoined: object({ type: lit('participantJoined'), participant: participantInfo }),
  participantLeft: object({ type: lit('participantLeft'), participantId: id, reason: str(200) }),
  published: object({ type: lit('published'), requestId, track: trackInfo }),
  trackPublished: object({ type: lit('trackPublished'), track: trackInfo }),
  trackUnpublished: object({ type: lit('trackUnpublished'), trackId: id, participantId: id }),
  trackMuted: object({ type: lit('trackMuted'), trackId: id, participantId: id, muted: bool }),
  chat: object({ type: lit('chat'), message: chatInfo }),
  chatAck: object({ type: lit('chatAck'), seq: uint, id }),
  keyFrameRequest: object({ type: lit('keyFrameRequest'), trackId: id }),
  pong: object({ type: lit('pong'), t: num, serverTime: uint }),
  error: object({ type: lit('error'), code: str(64), message: str(1000), requestId: opt(requestId), fatal: opt(bool) }),
  fileUploadReady: object({ type: lit('fileUploadReady'), requestId, uploadId: id, offset: uint }),
  fileUploaded: object({ type: lit('fileUploaded'), uploadId: id, file: fileInfo }),
  fileOffered: object({ type: lit('fileOffered'), file: fileInfo }),
  fileDownloadReady: object({ type: lit('fileDownloadReady'), requestId, transferId: id, file: fileInfo, offset: uint }),
  fileAck: object({ type: lit('fileAck'), transferId: id, offset: uint }),
  fileListPage: object({ type: lit('fileListPage'), requestId, files: array(fileInfo), more: opt(bool) }),
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const MEETING = /^[\p{L}\p{N} _.-]{1,64}$/u;
/** Why a value breaks §3's rules: the field and the rule (the rule names the finding). */
class Invalid {
  constructor(readonly path: string, readonly rule: string) {}
}

/** Code points of `s` (a lone surrogate counts as one). */
function codePoints(s: string): number {
  return Array.from(s).length;
}

/** A string's length rule: `length-utf16` when only UTF-16 units break it (code points would not). */
function lengthRule(s: string, min: number, max: number, path: string): Invalid | undefined {
  if (s.length >= min && s.length <= max) return undefined;
  return new Invalid(path, s.length > max && codePoints(s) <= max ? 'length-utf16' : 'length');
}

/** §3.1's value rules: the value as the receiver keeps it, or why it is refused. */
function validate(spec: Spec, v: unknown, path = 'message'): unknown {
  const bad = (rule: string) => new Invalid(path, rule);
  switch (spec.k) {
    case 'id': return typeof v === 'string' && /^[0-9a-f]{16}$/.test(v) ? v : bad('id');
    case 'sha256': return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v) ? v : bad('sha256');
    case 'uint': return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER ? v : bad('uint');
    case 'int': return typeof v === 'number' && Number.isSafeInteger(v) && v >= spec.min && v <= spec.max ? v : bad('integer');
    case 'number': return typeof v === 'number' && Number.isFinite(v) ? v : bad('number');
    case 'bool': return typeof v === 'boolean' ? v : bad('boolean');
    case 'lit': return v === spec.value ? v : bad('literal');
    case 'enum': return typeof v === 'string' && spec.values.includes(v) ? v : bad('enum');
    case 'requestId': return typeof v !== 'string' ? bad('string') : lengthRule(v, 1, 64, path) ?? v;
    case 'str': return typeof v !== 'string' ? bad('string') : lengthRule(v, spec.min, spec.max, path) ?? v;
    case 'label': {
      if (typeof v !== 'string') return bad('string');
      const t = v.trim();
      return lengthRule(t, 1, spec.max, path) ?? (CONTROL.test(t) ? bad('control-character') : t);
    }
    case 'meeting': {
      if (typeof v !== 'string') return bad('string');
      const t = v.trim();
      return MEETING.test(t) ? t : bad('meeting');
    }
    case 'array': {
      if (!Array.isArray(v)) return bad('array');
      if (v.length > spec.max) return bad('array-length');
      const out: unknown[] = [];
      for (const [i, item] of v.entries()) {
        const got = validate(spec.item, item, `${path}.${i}`);
        if (got instanceof Invalid) return got;
        out.push(got);
      }
      return out;
    }
    case 'object': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('object');
      const out: Record<string, unknown> = {};
      for (const [name, f] of Object.entries(spec.fields)) {
        if (!Object.hasOwn(v, name)) {
          if (f.optional) continue;
          return new Invalid(`${path}.${name}`, 'missing');
        }
        const got = validate(f, (v as Record<string, unknown>)[name], `${path}.${name}`);
        if (got instanceof Invalid) return got;
        out[name] = got;
      }
      return out;
    }
  }
}

type Expected = { ok: true; value: unknown } | { ok: false; code: string; invalid?: Invalid };

/** §3.1, in its order. */
function reference(input: ControlInput): Expected {
  const schemas = input.dir === 'client' ? CLIENT : RELAY;
  const max = input.maxBytes ?? (input.dir === 'client' ? 65_536 : 16 * 1024 * 1024);
  const size = input.text !== undefined ? new TextEncoder().encode(input.text).byteLength : input.bytes!.byteLength;
  if (size > max) return { ok: false, code: 'LAN_ERR_TOO_LARGE' };
  let raw: unknown;
  try {
    const text = input.text ?? new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input.bytes);
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'LAN_ERR_BAD_JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, code: 'LAN_ERR_INVALID_MESSAGE' };
  const type = (raw as Record<string, unknown>).type;
  if (typeof type !== 'string' || !Object.hasOwn(schemas, type)) return { ok: false, code: 'LAN_ERR_UNKNOWN_TYPE' };
  const v = (raw as Record<string, unknown>).v;
  if ((type === 'join' || type === 'welcome') && typeof v === 'number' && v !== 1) return { ok: false, code: 'LAN_ERR_BAD_VERSION' };
  const value = validate(schemas[type]!, raw);
  return value instanceof Invalid ? { ok: false, code: 'LAN_ERR_INVALID_MESSAGE', invalid: value } : { ok: true, value };
}

/** Checks one input; the outcome is direction, type, code (or `ok`) and the field the decoder named. */
export function checkControl(input: ControlInput): string {
  const payload = input.text ?? input.bytes!;
  const decode = input.dir === 'client' ? decodeClientMessage : decodeRelayMessage;
  const name = input.dir === 'client' ? 'decodeClientMessage' : 'decodeRelayMessage';
  const got = attempt(name, () => input.maxBytes === undefined ? decode(payload) : decode(payload, input.maxBytes));
  const want = reference(input);
  const shown = show(input.text ?? input.bytes, 300);
  if (!want.ok) {
    const why = want.invalid ? ` (${want.invalid.path}: ${want.invalid.rule})` : '';
    ensure(!got.ok, `control:accepts-invalid:${want.invalid?.rule ?? want.code}`,
      () => `${name} accepted ${shown}, which §3 refuses with ${want.code}${why}; it gave ${show(got.ok ? got.value : undefined, 300)}`);
    ensure(got.code === want.code, `control:wrong-code:${want.code}`, () => `${name} refused ${shown} with ${got.ok ? '' : `${got.code} (${got.error.message})`}; §3.1 says ${want.code}`);
    // The type names the outcome only once it is known to be one (random JSON has endless types).
    const parsed = want.code === 'LAN_ERR_INVALID_MESSAGE' || want.code === 'LAN_ERR_BAD_VERSION' ? safeParse(input) as { type?: unknown } | undefined : undefined;
    const type = typeof parsed?.type === 'string' && Object.hasOwn(input.dir === 'client' ? CLIENT : RELAY, parsed.type) ? parsed.type : '-';
    const where = /message: ([\w.]+)/.exec(got.error.message)?.[1]?.replace(/\.\d+/g, '.#') ?? '';
    return `${input.dir}:${type.slice(0, 20)}:${want.code}${where ? `:${where}` : ''}`;
  }
  if (!got.ok) fail(`control:refuses-valid:${input.dir}`, `${name} refused ${shown} with ${got.code} (${got.error.message}); §3 accepts it`);
  ensure(isDeepStrictEqual(got.value, want.value), `control:wrong-value:${input.dir}`,
    () => `${name} decoded ${shown} as ${show(got.value, 300)}; §3 says ${show(want.value, 300)}`);
  return `${input.dir}:${(got.value as { type: string }).type}:ok`;
}

function safeParse(input: ControlInput): unknown {
  try {
    return JSON.parse(input.text ?? new TextDecoder().decode(input.bytes));
  } catch {
    return undefined;
  }
}

// ---- generation ----------------------------------------------------------------------------------

/** A number written as given in the JSON text (JSON.stringify never writes `1e400` or `-0`). */
class RawNumber {
  constructor(readonly text: string) {}
}

/** JSON text of `value` ({@link RawNumber}s as written), with or without white space. */
function jsonText(value: unknown, spaced: boolean): string {
  if (value instanceof RawNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map((v) => jsonText(v, spaced)).join(spaced ? ', ' : ',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${spaced ? ' ' : ''}${jsonText(v, spaced)}`);
    return `{${spaced ? ' ' : ''}${entries.join(spaced ? ', ' : ',')}${spaced ? ' ' : ''}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: n, maxLength: n });
const padded = (s: fc.Arbitrary<string>) => fc.tuple(fc.constantFrom('', ' ', '\t', '\n ', '\u00a0', '\u3000', '\u2028'), s, fc.constantFrom('', ' ', '\r\n', '\u2029', '\ufeff')).map(([a, b, c]) => a + b + c);

/**
 * Strings of `max` code points, a few of them outside the BMP: one to eight UTF-16 units over `max`, where
 * counting code points and counting UTF-16 units disagree.
 */
const astralAtMax = (max: number) => fc.tuple(fc.integer({ min: 1, max: Math.max(1, Math.min(8, max)) }), fc.constantFrom('😀', '𐀀', '𝄞'))
  .map(([k, c]) => c.repeat(Math.min(k, max)) + 'x'.repeat(Math.max(0, max - k)));

function gen(spec: Spec): fc.Arbitrary<unknown> {
  switch (spec.k) {
    case 'id': return hex(16);
    case 'sha256': return hex(64);
    case 'uint': return fc.oneof(fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER), fc.nat(), fc.maxSafeNat());
    case 'int': return fc.oneof(fc.constantFrom(spec.min, spec.max), fc.integer({ min: Math.max(spec.min, -(2 ** 31)), max: Math.min(spec.max, 2 ** 31 - 1) }));
    case 'number': return fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer());
    case 'bool': return fc.boolean();
    case 'lit': return fc.constant(spec.value);
    case 'enum': return fc.constantFrom(...spec.values);
    case 'requestId': return fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('x'.repeat(64), 'chat:0', 'file:0123456789abcdef'), astralAtMax(64));
    case 'str': {
      const max = Number.isFinite(spec.max) ? spec.max : 40;
      return fc.oneof(
        { weight: 6, arbitrary: fc.string({ minLength: spec.min, maxLength: Math.min(max, 24) }) },
        { weight: 1, arbitrary: fc.constantFrom('x'.repeat(Math.min(max, 2048)), 'é'.repeat(Math.min(max, 512))).filter((s) => s.length >= spec.min) },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: spec.min, maxLength: Math.min(max, 12) }) },
        { weight: 1, arbitrary: astralAtMax(Math.min(max, 2048)) },
      );
    }
    case 'label': return fc.oneof(
      fc.constantFrom('Ana', 'Ana María', 'Zoë 👋', '李雷', 'x'.repeat(spec.max)),
      padded(fc.constantFrom('Bob', 'x'.repeat(spec.max), 'a b')),
      fc.string({ minLength: 1, maxLength: 10 }).filter((s) => s.trim().length > 0),
      astralAtMax(spec.max),
    );
    case 'meeting': return fc.oneof(
      fc.constantFrom('Room 1', 'r', 'Réunion_2.b-c', '会议', 'Δ'.repeat(64), 'x'.repeat(64)),
      padded(fc.constantFrom('Room1', 'a b')),
      fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '_', '.', '-', 'é', '٣'), minLength: 1, maxLength: 20 }),
    );
    case 'array': {
      const max = Number.isFinite(spec.max) ? Math.min(spec.max, 3) : 3;
      return fc.oneof(
        { weight: 5, arbitrary: fc.array(gen(spec.item), { maxLength: max }) },
        { weight: 1, arbitrary: Number.isFinite(spec.max) && spec.max <= 16 ? fc.array(gen(spec.item), { minLength: spec.max, maxLength: spec.max }) : fc.constant([]) },
      );
    }
    case 'object': {
      const entries = Object.entries(spec.fields);
      return fc.tuple(...entries.map(([, f]) => fc.tuple(gen(f), f.optional ? fc.boolean() : fc.constant(true))))
        .map((values) => Object.fromEntries(entries.flatMap(([name], i) => (values[i]![1] ? [[name, values[i]![0]]] : []))));
    }
  }
}

/** Values on or past the boundaries of §3.1's types. */
const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null, true, false, 0, -1, 1.5, 2 ** 53, 2 ** 31, 65_467, 65_468, 511, 512, 99, 100, 60_000, 60_001, 0.1, -0.5,
    '', ' ', '  \t', 'x'.repeat(65), 'x'.repeat(129), 'x'.repeat(201), 'x'.repeat(257), 'x'.repeat(1001), 'x'.repeat(1025),
    '0123456789ABCDEF', '0123456789abcdeg', '0123456789abcde', '0123456789abcdef0', 'a'.repeat(64), 'A'.repeat(64),
    '\u0000', 'a\u0000b', ' a ', '\u2028x', 'x\u0085', '\ud800', 'Ana\n', '\u00a0Ana\u00a0', 'Room/1', 'camera', 'opus', 'host', 'native',
    [], {}, [1], ['vp8', 'vp9'], { payloadSize: 512 }, { payloadSize: 65_468 }, { __proto__: null },
  ),
  fc.constantFrom('1e400', '-1e400', '1.0', '1e2', '-0', '9007199254740993', '9007199254740991', '1E-7', '0.0', '65467.0', '2e3').map((t) => new RawNumber(t)),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.jsonValue({ maxDepth: 2 }),
);

type Edit = { path: number[]; op: 'delete' | 'set' | 'add'; key: string; value: unknown };

const edit: fc.Arbitrary<Edit> = fc.record({
  path: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  op: fc.constantFrom('delete' as const, 'set' as const, 'set' as const, 'add' as const),
  key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'extra', 'type', 'v', 'hasOwnProperty', ''),
  value: edgeValue,
});

/** A deep copy that keeps {@link RawNumber}s and own `__proto__` keys. */
function clone(value: unknown): unknown {
  if (value instanceof RawNumber || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(clone);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clone(v)]));
}

/** Applies an edit at the node `path` leads to (indices modulo the keys found on the way). */
function applyEdit(root: unknown, e: Edit): unknown {
  const copy = clone(root);
  let node = copy;
  for (let depth = 0; depth < e.path.length; depth++) {
    if (typeof node !== 'object' || node === null || node instanceof RawNumber) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const k = keys[e.path[depth]! % keys.length]!;
    const child = (node as Record<string, unknown>)[k];
    const last = depth === e.path.length - 1 || typeof child !== 'object' || child === null || child instanceof RawNumber;
    if (last) {
      const target = node as Record<string, unknown>;
      if (e.op === 'delete') {
        if (Array.isArray(target)) target.splice(Number(k), 1);
        else delete target[k];
      } else if (e.op === 'set') {
        target[k] = clone(e.value);
      } else if (!Array.isArray(target)) {
        Object.defineProperty(target, e.key, { value: clone(e.value), enumerable: true, configurable: true, writable: true });
      } else {
        target.push(clone(e.value));
      }
      return copy;
    }
    node = child;
  }
  return copy;
}

function messages(specs: Record<string, Spec>): fc.Arbitrary<unknown> {
  return fc.oneof(...Object.values(specs).map((s) => gen(s)));
}

function asText(dir: 'client' | 'relay', value: fc.Arbitrary<unknown>): fc.Arbitrary<ControlInput> {
  return fc.tuple(value, fc.boolean(), fc.boolean()).map(([v, spaced, bytes]) => {
    const text = jsonText(v, spaced);
    return bytes ? { dir, bytes: new TextEncoder().encode(text) } : { dir, text };
  });
}

function edited(specs: Record<string, Spec>): fc.Arbitrary<unknown> {
  return fc.tuple(messages(specs), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([m, edits]) => edits.reduce(applyEdit, m));
}

const smallLimit = fc.option(fc.oneof(fc.nat({ max: 200 }), fc.constant(0)), { nil: undefined, freq: 6 });

export const controlTarget: FuzzTarget<ControlInput> = {
  name: 'control',
  parser: '`decodeClientMessage`, `decodeRelayMessage` (sdk/protocol/control.ts)',
  quickRuns: 50000,
  arbitrary(seeds) {
    const dir = fc.constantFrom('client' as const, 'relay' as const);
    const texts = seeds.flatMap((s) => (s.text !== undefined ? [{ dir: s.dir, text: s.text }] : []));
    const bytes = seeds.flatMap((s) => (s.bytes !== undefined ? [s.bytes] : []));
    const fromSeeds = texts.length + bytes.length === 0 ? undefined : oneOf<ControlInput>(
      texts.length ? fc.tuple(mutatedTextSeeds(texts.map((t) => t.text))!, dir).map(([text, d]) => ({ dir: d, text })) : undefined,
      bytes.length ? fc.tuple(mutatedSeeds(bytes)!, dir).map(([b, d]) => ({ dir: d, bytes: b })) : undefined,
      texts.length ? fc.constantFrom(...texts) : undefined,
    );
    const generated = oneOf<ControlInput>(
      asText('client', messages(CLIENT)),
      asText('relay', messages(RELAY)),
      asText('client', edited(CLIENT)),
      asText('relay', edited(RELAY)),
      fc.tuple(dir, fc.jsonValue({ maxDepth: 3 })).map(([d, v]) => ({ dir: d, text: JSON.stringify(v) ?? 'null' })),
      fc.tuple(dir, mutateText(messages(CLIENT).map((v) => jsonText(v, false)))).map(([d, text]) => ({ dir: d, text })),
      fc.tuple(dir, mutateBytes(messages(RELAY).map((v) => new TextEncoder().encode(jsonText(v, false))), [Uint8Array.of(0xef, 0xbb, 0xbf), Uint8Array.of(0xc0, 0x80), Uint8Array.of(0xed, 0xa0, 0x80)])).map(([d, b]) => ({ dir: d, bytes: b })),
      fc.tuple(dir, fc.string({ unit: 'binary', maxLength: 30 })).map(([d, text]) => ({ dir: d, text })),
      fromSeeds,
    );
    return fc.tuple(generated, smallLimit).map(([input, maxBytes]) => (maxBytes === undefined ? input : { ...input, maxBytes }));
  },
  async open() {
    return { async: false, check: checkControl, close: async () => {} };
  },
  toJson: (input) => ({
    dir: input.dir,
    ...(input.text !== undefined ? { text: input.text } : { bytes: bytesToJson(input.bytes!) }),
    ...(input.maxBytes === undefined ? {} : { maxBytes: input.maxBytes }),
  }),
  fromJson: (json) => {
    const j = json as { dir: 'client' | 'relay'; text?: string; bytes?: string; maxBytes?: number };
    return {
      dir: j.dir,
      ...(j.text !== undefined ? { text: j.text } : { bytes: bytesFromJson(j.bytes) }),
      ...(j.maxBytes === undefined ? {} : { maxBytes: j.maxBytes }),
    };
  },
};
