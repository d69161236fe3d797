/**
 * Fuzz target `udp-seal`: `UdpSeal` (`seal`, `sealShared`, `open`, `sealBind`, `openBind`), `encryptBody`,
 * `sealedBindToken` and `ReplayWindow` (sdk/node/udpSeal.ts) against docs/protocol.md §6.1.
 *
 * Two kinds of input:
 *
 * - `seal`: a conversation under one key between a client end `a` and a relay end `b`, beside two ends
 *   `xa`, `xb` holding another connection's key (the key with one bit changed). Ends seal datagrams and
 *   binds, and the relay ends media whose body is encrypted once for both (`encryptBody`, `sealShared`:
 *   type `0x06`). Each is kept; kept datagrams are delivered, as they are or edited (bit flips, bytes
 *   set, truncation, extension, insertions, deletions, another sequence number, another datagram's
 *   header, ciphertext or tag), to any end through `open` or `openBind` (reflected, other key, wrong
 *   method), along with raw bytes and big ones (up to 70 000 bytes). Every datagram is handed over as a
 *   view at an offset of a larger buffer (a `Buffer` at odd offsets); after a truncated one the buffer
 *   goes on with the bytes cut off.
 * - `window`: a `ReplayWindow` driven with sequence numbers (mostly just above the highest, some
 *   reordered, some near the window's edge, far jumps, duplicates, 0, anything up to 2^48 − 1), each one
 *   authenticated (`saw` called when fresh) or not.
 *
 * Oracle. A reference receiver per end: the sequence numbers it accepted (a `Set`) and the highest; a
 * number is fresh when it is ≥ 1, not accepted, and not older than highest − 1023. Any bytes given to
 * `open` (`openBind`) give, without throwing and without writing to the buffer: `forged` unless they
 * are ≥ 24 bytes `05 01 …` or ≥ 40 bytes `06 01 …` (exactly 40 bytes `03 01 …`); else `replayed`
 * unless their sequence (bytes 2–7; 18–23) is fresh (for a sequence 0 either refusal will do); else the datagram carried (`undefined` for a bind) when the bytes are exactly a datagram
 * (bind) that the other end sealed under this key, and `forged` otherwise. Only an opened datagram
 * enters the reference, so a refused one must leave the real receiver as it was (later genuine datagrams
 * still open, a replay is still refused). Sealing: `05 01` and the end's next sequence number (from 1,
 * binds included), a ciphertext as long as the datagram and unlike it, a 16-byte tag; a bind is 40
 * bytes, `03 01`, token, sequence, tag; a `0x06` datagram is `06 01`, sequence, the body's key encrypted
 * (16 bytes, not the key), the shared body unchanged, a 16-byte tag; nothing given to seal is written
 * to. `sealedBindToken` of anything is the base64url of bytes 2–17 for 40-byte `03 01` datagrams, else
 * `undefined`. For `window`, `fresh(n)` equals the reference's for the number given and, after it, for
 * probes around it, around the window's edge and at an earlier number (so `fresh` changes nothing).
 * @module
 */
import fc from 'fast-check';
import { ReplayWindow, UdpSeal, encryptBody, sealedBindToken, type SharedBody } from '../../../sdk/node/udpSeal.js';
import { pattern } from '../../helpers.js';
import { FuzzFinding, bytesFromJson, bytesToJson, ensure, fail, show, type FuzzTarget } from '../target.js';

/** An end: `a` client and `b` relay under the input's key; `xa`, `xb` the same sides under another key. */
type End = 'a' | 'b' | 'xa' | 'xb';
/** Which method a datagram is given to. */
type Via = 'open' | 'bind';

/** An edit of a kept datagram; positions are taken modulo the length, `n` picks another kept datagram. */
export type Edit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; keep: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  /** The sequence field (bytes 2–7, or 18–23 when byte 0 is `03`) plus `delta`, modulo 2^48. */
  | { op: 'seq'; delta: number }
  /** The clear header (8 bytes, 24 for a bind) of kept datagram `n`. */
  | { op: 'head'; n: number }
  /** The bytes between header and tag of kept datagram `n`. */
  | { op: 'body'; n: number }
  /** The last 16 bytes of kept datagram `n`. */
  | { op: 'tag'; n: number };

/** One step of a `seal` input. Kept datagrams are numbered from the newest (`n` = 0), modulo their count. */
export type Step =
  /** `from` seals `data` and `pad` pattern bytes after it, handed over at offset `at` of a larger buffer. */
  | { t: 'seal'; from: End; data: Uint8Array; pad: number; at: number }
  | { t: 'bind'; from: End }
  /**
   * `encryptBody(data + pad)` once, then `sealShared` by each relay end of `from` (`0x06` goes relay →
   * client only: a client end there is skipped; a relay end refuses any `0x06` as forged).
   */
  | { t: 'shared'; from: End[]; data: Uint8Array; pad: number }
  /**
   * `from` seals `count` small datagrams; with `last`, the newest goes to the other end at once, then
   * those `late` places behind it (reordered within the window, or older than it).
   */
  | { t: 'burst'; from: End; count: number; last: boolean; late: number[] }
  /** Kept datagram `n` to `to` (default: the other end of its key, or `b`/`a` for an end of the other key) through `via` (default: its kind's). */
  | { t: 'send'; n: number; to?: End | undefined; via?: Via | undefined; at: number }
  /** Kept datagram `n`, edited; with `first` the datagram as it was just before, with `then` just after. */
  | { t: 'forge'; n: number; edits: Edit[]; to?: End | undefined; via?: Via | undefined; at: number; first: boolean; then: boolean }
  | { t: 'raw'; bytes: Uint8Array; to: End; via: Via; at: number }
  /** `head`, then `length` − `head` pattern bytes from `fill`. */
  | { t: 'big'; length: number; head: Uint8Array; fill: number; to: End; via: Via; at: number };

/** One step of a `window` input: the number, from the current highest (`near`, `jump`), absolute, or one tried before. */
export interface WindowOp {
  k: 'near' | 'jump' | 'abs' | 'dup' | 'zero';
  v: number;
  /** Whether it authenticates (`saw` is called when it is fresh). */
  auth: boolean;
  /** Picks one earlier number as an extra probe. */
  probe: number;
}

/** An input. */
export type SealInput =
  | { mode: 'seal'; key: Uint8Array; token: Uint8Array; steps: Step[] }
  | { mode: 'window'; ops: WindowOp[] };

const MAX_SEQUENCE = 2 ** 48 - 1;
// Sizes from docs/protocol.md §6.1 (not the module's constants: the oracle should not share its numbers).
/** Sequence numbers behind the highest seen that may still arrive once. */
const REPLAY_WINDOW = 1024;
/** A sealed datagram's clear header, and its tag. */
const HEADER = 8;
const TAG = 16;
/** A sealed bind. */
const BIND = 40;
/** The smallest `0x06` datagram (header, the body's key encrypted, tag). */
const SHARED_MIN = HEADER + 16 + TAG;

const ENDS: readonly End[] = ['a', 'b', 'xa', 'xb'];

// ---- helpers ---------------------------------------------------------------------------------------

const view = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const same = (x: Uint8Array, y: Uint8Array) => x.byteLength === y.byteLength && view(x).equals(view(y));
const u48 = (b: Uint8Array, at: number) => view(b).readUIntBE(at, 6);


/**
 * `bytes` as a view at offset `at` of a larger buffer (a `Buffer` when `at` is odd): before it a filler,
 * after it `tail` then a filler.
 */
function placed(bytes: Uint8Array, at: number, tail: Uint8Array = new Uint8Array(0)): { view: Uint8Array; whole: Uint8Array } {
  const whole = new Uint8Array(at + bytes.byteLength + tail.byteLength + 3).fill(0x33);
  for (let i = 0; i < at; i++) whole[i] = i % 2 === 0 ? 0x05 : 0x01;
  whole.set(bytes, at);
  whole.set(tail, at + bytes.byteLength);
  const v = at % 2 === 1 ? Buffer.from(whole.buffer, at, bytes.byteLength) : whole.subarray(at, at + bytes.byteLength);
  return { view: v, whole };
}

/** The reference receiver: every sequence number accepted, and the highest. */
class ReferenceWindow {
  readonly accepted = new Set<number>();
  highest = 0;

  fresh(n: number): boolean {
    if (n < 1) return false;
    if (n > this.highest) return true;
    if (n < this.highest - (REPLAY_WINDOW - 1)) return false; // older than highest − 1023
    return !this.accepted.has(n);
  }

  saw(n: number): void {
    this.accepted.add(n);
    if (n > this.highest) this.highest = n;
  }
}

function applyEdit(bytes: Uint8Array, edit: Edit, kept: readonly Kept[]): Uint8Array {
  const n = bytes.byteLength;
  const other = (k: number) => kept[kept.length - 1 - (k % kept.length)]!.bytes;
  switch (edit.op) {
    case 'flip': {
      if (n === 0) return bytes;
      const out = Uint8Array.from(bytes); // (not `slice`: on a Buffer that is a view, and kept datagrams must stay as sealed)
      out[edit.at % n]! ^= 1 << edit.bit;
      return out;
    }
    case 'set': {
      if (n === 0) return bytes;
      const out = Uint8Array.from(bytes); // (not `slice`: on a Buffer that is a view, and kept datagrams must stay as sealed)
      out[edit.at % n] = edit.value;
      return out;
    }
    case 'truncate':
      return n === 0 ? bytes : Uint8Array.from(bytes.subarray(0, edit.keep % n));
    case 'extend':
      return Buffer.concat([bytes, edit.bytes]);
    case 'insert': {
      const i = edit.at % (n + 1);
      return Buffer.concat([bytes.subarray(0, i), edit.bytes, bytes.subarray(i)]);
    }
    case 'delete': {
      if (n === 0) return bytes;
      const i = edit.at % n;
      return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + edit.count)]);
    }
    case 'seq': {
      const at = bytes[0] === 0x03 ? 18 : 2;
      if (n < at + 6) return bytes;
      const out = Buffer.from(bytes);
      const next = (((u48(bytes, at) + edit.delta) % (MAX_SEQUENCE + 1)) + MAX_SEQUENCE + 1) % (MAX_SEQUENCE + 1);
      out.writeUIntBE(next, at, 6);
      return out;
    }
    case 'head': {
      const o = other(edit.n);
      const h = o[0] === 0x03 ? 24 : 8;
      if (o.byteLength < h) return bytes;
      return Buffer.concat([o.subarray(0, h), bytes.subarray(Math.min(n, h))]);
    }
    case 'body': {
      const o = other(edit.n);
      if (o.byteLength < HEADER + TAG || n < HEADER + TAG) return bytes;
      return Buffer.concat([bytes.subarray(0, 8), o.subarray(8, o.byteLength - 16), bytes.subarray(n - 16)]);
    }
    case 'tag': {
      const o = other(edit.n);
      if (o.byteLength < 16 || n < 16) return bytes;
      return Buffer.concat([bytes.subarray(0, n - 16), o.subarray(o.byteLength - 16)]);
    }
  }
}

/** A datagram an end sealed. */
interface Kept {
  from: End;
  kind: 'data' | 'bind';
  sequence: number;
  bytes: Uint8Array;
  /** The datagram carried (data only). */
  data?: Uint8Array;
}

// ---- outcomes ------------------------------------------------------------------------------------

/** What can happen in a conversation, the rarest first. */
const SEAL_EVENTS = [
  'open-stale', 'bind-stale', 'open-seq0', 'bind-seq0', 'long-burst', 'bind-replayed', 'open-replayed', 'bind-opened',
  'open-opened-shared', 'bind-forged-shared', 'open-forged-shared', 'reflected', 'other-key', 'big', 'bind-forged', 'open-opened', 'open-forged',
];
/** What can happen to a replay window, the rarest first. */
const WINDOW_EVENTS = ['far', 'stale', 'seen', 'zero'];

/**
 * The outcome of an input: its two rarest events (`seal:open-stale:big`), so that the corpus keeps
 * inputs for every event, grouped by the rarest, without an outcome for every combination.
 */
function outcome(mode: string, events: ReadonlySet<string>, order: readonly string[]): string {
  const [rarest = 'none', next = 'only'] = order.filter((e) => events.has(e));
  return `${mode}:${rarest}:${next}`;
}

// ---- the seal conversation ---------------------------------------------------------------------------

/** The other end under the same key (where a datagram of `from` goes by default, and whose datagrams `to` opens). */
const peer = (e: End): End => ({ a: 'b', b: 'a', xa: 'xb', xb: 'xa' } as const)[e];

function checkConversation(input: Extract<SealInput, { mode: 'seal' }>): string {
  const key = Buffer.from(input.key).toString('base64url');
  const alienRaw = Buffer.from(input.key);
  alienRaw[0]! ^= 0x01;
  const alienKey = alienRaw.toString('base64url');
  const token = Buffer.from(input.token).toString('base64url');
  const seals: Record<End, UdpSeal> = {
    a: new UdpSeal(key, 'client'), b: new UdpSeal(key, 'relay'),
    xa: new UdpSeal(alienKey, 'client'), xb: new UdpSeal(alienKey, 'relay'),
  };
  const refs: Record<End, ReferenceWindow> = { a: new ReferenceWindow(), b: new ReferenceWindow(), xa: new ReferenceWindow(), xb: new ReferenceWindow() };
  const sent: Record<End, number> = { a: 0, b: 0, xa: 0, xb: 0 };
  const kept: Kept[] = [];
  /** Kept datagrams by end and sequence number. */
  const bySequence = new Map<string, Kept>();
  const events = new Set<string>();

  const keep = (k: Kept) => {
    kept.push(k);
    bySequence.set(`${k.from}:${k.sequence}`, k);
  };

  const sealData = (from: End, data: Uint8Array, at: number, what: string) => {
    const { view: v, whole } = placed(data, at);
    const before = Buffer.from(whole);
    let pieces: Uint8Array[];
    try {
      pieces = seals[from].seal(v);
    } catch (error) {
      fail('seal:seal-threw', `${what}: seal of ${show(data)} threw ${String(error)}`, error);
    }
    const expected = ++sent[from];
    ensure(view(whole).equals(before), 'seal:input-written', () => `${what}: seal wrote into the datagram it sealed`);
    ensure(Array.isArray(pieces) && pieces.length === 3, 'seal:pieces', () => `${what}: seal gave ${show(pieces)}, not [header, ciphertext, tag]`);
    const [header, body, tag] = pieces as [Uint8Array, Uint8Array, Uint8Array];
    ensure(header.byteLength === 8 && header[0] === 0x05 && header[1] === 0x01 && u48(header, 2) === expected, 'seal:header',
      () => `${what}: header ${show(header)}; expected 05 01 and sequence ${expected}`);
    ensure(body.byteLength === data.byteLength, 'seal:ciphertext-length', () => `${what}: ${body.byteLength} bytes of ciphertext for ${data.byteLength} bytes`);
    ensure(data.byteLength < 8 || !same(body, data), 'seal:clear-text', () => `${what}: the ciphertext is the datagram itself`);
    ensure(tag.byteLength === 16, 'seal:tag-length', () => `${what}: a tag of ${tag.byteLength} bytes`);
    keep({ from, kind: 'data', sequence: expected, bytes: Buffer.concat([header, body, tag]), data: Uint8Array.from(data) });
  };

  const sealBind = (from: End, what: string) => {
    let bind: Uint8Array;
    try {
      bind = seals[from].sealBind(token);
    } catch (error) {
      fail('seal:bind-threw', `${what}: sealBind(${token}) threw ${String(error)}`, error);
    }
    const expected = ++sent[from];
    ensure(bind.byteLength === BIND && bind[0] === 0x03 && bind[1] === 0x01 && same(bind.subarray(2, 18), input.token) && u48(bind, 18) === expected,
      'seal:bind-layout', () => `${what}: sealBind gave ${show(bind, 200)}; expected 03 01, token ${Buffer.from(input.token).toString('hex')}, sequence ${expected}, tag`);
    ensure(sealedBindToken(bind) === token, 'bindToken:wrong', () => `${what}: sealedBindToken of a sealed bind is ${show(sealedBindToken(bind))}, not its token ${token}`);
    keep({ from, kind: 'bind', sequence: expected, bytes: Uint8Array.from(bind) });
  };

  /** `data` encrypted once, then sealed by each relay end of `froms` (`0x06`). */
  const sealShared = (froms: readonly End[], data: Uint8Array, at: number, what: string) => {
    const relays = new Set(froms.filter((e) => e === 'b' || e === 'xb'));
    if (!relays.size) return;
    const { view: v, whole } = placed(data, at);
    const before = Buffer.from(whole);
    let shared: SharedBody;
    try {
      shared = encryptBody(v);
    } catch (error) {
      fail('seal:shared-threw', `${what}: encryptBody of ${show(data)} threw ${String(error)}`, error);
    }
    ensure(view(whole).equals(before), 'seal:input-written', () => `${what}: encryptBody wrote into the datagram it encrypted`);
    ensure(shared.key.byteLength === 16 && shared.body.byteLength === data.byteLength, 'seal:shared-body',
      () => `${what}: encryptBody gave a ${shared.key.byteLength}-byte key and ${shared.body.byteLength} bytes of body for ${data.byteLength} bytes`);
    ensure(data.byteLength < 8 || !same(shared.body, data), 'seal:clear-text', () => `${what}: the shared body is the datagram itself`);
    const body = Buffer.from(shared.body);
    for (const from of relays) {
      let pieces: Uint8Array[];
      try {
        pieces = seals[from].sealShared(shared);
      } catch (error) {
        fail('seal:shared-threw', `${what}: sealShared by ${from} threw ${String(error)}`, error);
      }
      const expected = ++sent[from];
      ensure(Array.isArray(pieces) && pieces.length === 4, 'seal:pieces', () => `${what}: sealShared gave ${show(pieces)}, not [header, key, body, tag]`);
      const [header, sealedKey, sentBody, tag] = pieces as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      ensure(header.byteLength === 8 && header[0] === 0x06 && header[1] === 0x01 && u48(header, 2) === expected, 'seal:header',
        () => `${what}: sealShared header ${show(header)}; expected 06 01 and sequence ${expected}`);
      ensure(sealedKey.byteLength === 16 && !same(sealedKey, shared.key), 'seal:shared-key', () => `${what}: the body's key is sent as ${show(sealedKey)} (its key is ${show(shared.key)})`);
      ensure(same(sentBody, body), 'seal:shared-body', () => `${what}: sealShared sent the body ${show(sentBody)}; encryptBody gave ${show(body)}`);
      ensure(tag.byteLength === 16, 'seal:tag-length', () => `${what}: a tag of ${tag.byteLength} bytes`);
      keep({ from, kind: 'data', sequence: expected, bytes: Buffer.concat([header, sealedKey, sentBody, tag]), data: Uint8Array.from(data) });
    }
    ensure(same(shared.body, body), 'seal:shared-body', () => `${what}: sealShared changed the shared body`);
  };

  /** Gives `bytes` to `to` through `via` and checks the answer against the reference. */
  const deliver = (bytes: Uint8Array, to: End, via: Via, at: number, what: string, tail?: Uint8Array) => {
    const { view: v, whole } = placed(bytes, at, tail);
    const before = Buffer.from(whole);
    // sealedBindToken on everything.
    const wantToken = bytes.byteLength === 40 && bytes[0] === 0x03 && bytes[1] === 0x01 ? Buffer.from(bytes.subarray(2, 18)).toString('base64url') : undefined;
    let gotToken: string | undefined;
    try {
      gotToken = sealedBindToken(v);
    } catch (error) {
      fail('bindToken:threw', `${what}: sealedBindToken(${show(bytes)}) threw ${String(error)}`, error);
    }
    ensure(gotToken === wantToken, 'bindToken:wrong', () => `${what}: sealedBindToken(${show(bytes)}) is ${show(gotToken)}; expected ${show(wantToken)}`);

    // The reference answer.
    const ref = refs[to];
    type Want = { kind: 'forged' } | { kind: 'replayed'; seq: number } | { kind: 'open'; k: Kept };
    let want: Want;
    const isBind = via === 'bind';
    const shape = isBind ? bytes.byteLength === BIND && bytes[0] === 0x03
      : (bytes[0] === 0x05 && bytes.byteLength >= HEADER + TAG) || (bytes[0] === 0x06 && bytes.byteLength >= SHARED_MIN);
    // A relay end (b, xb) takes no 0x06 at all: those go relay → client only (docs/protocol.md §6.1).
    const relayEnd = to === 'b' || to === 'xb';
    if (!shape || bytes[1] !== 0x01 || (!isBind && relayEnd && bytes[0] === 0x06)) {
      want = { kind: 'forged' };
    } else {
      const seq = u48(bytes, isBind ? 18 : 2);
      if (!ref.fresh(seq)) want = { kind: 'replayed', seq };
      else {
        const k = bySequence.get(`${peer(to)}:${seq}`);
        want = k && k.kind === (isBind ? 'bind' : 'data') && same(k.bytes, bytes) ? { kind: 'open', k } : { kind: 'forged' };
      }
    }

    let got: Buffer | string | undefined;
    try {
      got = isBind ? seals[to].openBind(v) : seals[to].open(v);
    } catch (error) {
      if (error instanceof FuzzFinding) throw error;
      fail(`seal:${via === 'bind' ? 'openBind' : 'open'}-threw`, `${what}: ${via === 'bind' ? 'openBind' : 'open'} of ${show(bytes)} (at ${at}) threw ${String(error)}`, error);
    }
    ensure(view(whole).equals(before), 'seal:input-written', () => `${what}: ${via === 'bind' ? 'openBind' : 'open'} wrote into the datagram it was given`);
    const gotLabel = typeof got === 'string' ? got : got === undefined && isBind ? 'opened' : got instanceof Uint8Array && !isBind ? 'opened' : `?${show(got)}`;
    const name = isBind ? 'openBind' : 'open';
    const desc = () => `${what}: ${name} of ${show(bytes)} at ${to} (highest seen ${ref.highest}) gave ${gotLabel}`;
    if (want.kind === 'open') {
      const k = want.k;
      ensure(gotLabel === 'opened', 'seal:genuine-refused', () => `${desc()}; it is ${k.from}'s genuine ${k.kind} ${k.sequence}, never accepted and within the window: it must open`);
      if (!isBind) ensure(same(got as Buffer, k.data!), 'seal:wrong-bytes', () => `${desc()} ${show(got)}; ${k.from} sealed ${show(k.data)}`);
      ref.saw(k.sequence);
      events.add(`${via}-opened${k.bytes[0] === 0x06 ? '-shared' : ''}`);
    } else if (want.kind === 'replayed') {
      if (gotLabel === 'opened') fail('seal:replay-opened', `${desc()}; its sequence ${want.seq} was seen or is older than the window: it must be refused as replayed`);
      // A sequence 0 is never sent: either refusal will do.
      ensure(got === 'replayed' || (want.seq === 0 && got === 'forged'), 'seal:refusal-reason', () => `${desc()}; expected replayed (sequence ${want.seq})`);
      const seen = ref.accepted.has(want.seq);
      events.add(`${via}-${seen ? 'replayed' : want.seq === 0 ? 'seq0' : 'stale'}`);
    } else {
      if (gotLabel === 'opened') fail('seal:forgery-opened', `${desc()}; not a genuine ${isBind ? 'bind' : 'datagram'} of ${peer(to)} under ${to}'s key: it must be refused as forged`);
      ensure(got === 'forged', 'seal:refusal-reason', () => `${desc()}; expected forged`);
      events.add(`${via}-forged${bytes[0] === 0x06 ? '-shared' : ''}`);
    }
  };

  const keptAt = (n: number) => kept[kept.length - 1 - (n % kept.length)]!;
  const targetOf = (k: Kept, to: End | undefined): End => to ?? (k.from === 'xa' ? 'b' : k.from === 'xb' ? 'a' : peer(k.from));
  const viaOf = (k: Kept, via: Via | undefined): Via => via ?? (k.kind === 'bind' ? 'bind' : 'open');

  input.steps.forEach((step, i) => {
    const what = `step ${i} (${step.t})`;
    switch (step.t) {
      case 'seal':
        sealData(step.from, Buffer.concat([step.data, pattern(step.pad, i)]), step.at, what);
        break;
      case 'shared':
        sealShared(step.from, Buffer.concat([step.data, pattern(step.pad, i)]), i % 4, what);
        break;
      case 'bind':
        sealBind(step.from, what);
        break;
      case 'burst':
        for (let j = 0; j < step.count; j++) sealData(step.from, Uint8Array.of(j >> 8, j & 0xff), j % 4, `${what} #${j}`);
        if (step.count > REPLAY_WINDOW) events.add('long-burst');
        if (step.last && step.count > 0) {
          deliver(kept.at(-1)!.bytes, peer(step.from), 'open', 0, `${what}: the newest`);
          for (const late of step.late) {
            const k = kept[kept.length - 1 - (late % step.count)]!;
            deliver(k.bytes, peer(step.from), 'open', late % 8, `${what}: ${late % step.count} behind the newest`);
          }
        }
        break;
      case 'send': {
        if (!kept.length) break;
        const k = keptAt(step.n);
        const to = targetOf(k, step.to);
        if (to === k.from) events.add('reflected');
        if (k.from.startsWith('x') !== to.startsWith('x')) events.add('other-key');
        deliver(k.bytes, to, viaOf(k, step.via), step.at, `${what}: ${k.from}'s ${k.kind} ${k.sequence}`);
        break;
      }
      case 'forge': {
        if (!kept.length) break;
        const k = keptAt(step.n);
        const to = targetOf(k, step.to);
        const forged = step.edits.reduce<Uint8Array>((b, e) => applyEdit(b, e, kept), k.bytes);
        const tail = k.bytes.subarray(Math.min(forged.byteLength, k.bytes.byteLength));
        if (step.first) deliver(k.bytes, to, viaOf(k, undefined), (step.at + 3) % 8, `${what}, first ${k.from}'s ${k.kind} ${k.sequence} as sealed`);
        deliver(forged, to, viaOf(k, step.via), step.at, `${what}: ${k.from}'s ${k.kind} ${k.sequence} edited ${show(step.edits.map((e) => e.op))}`, tail);
        if (step.then) deliver(k.bytes, to, viaOf(k, undefined), (step.at + 1) % 8, `${what}, then ${k.from}'s ${k.kind} ${k.sequence} as sealed`);
        break;
      }
      case 'raw':
        deliver(step.bytes, step.to, step.via, step.at, `${what}`);
        break;
      case 'big': {
        const length = Math.max(step.length, 0);
        const bytes = new Uint8Array(length);
        bytes.set(pattern(Math.max(0, length - step.head.byteLength), step.fill), Math.min(length, step.head.byteLength));
        bytes.set(step.head.subarray(0, length), 0);
        events.add('big');
        deliver(bytes, step.to, step.via, step.at, `${what} (${length} bytes)`);
        break;
      }
    }
  });
  return outcome('seal', events, SEAL_EVENTS);
}

// ---- the replay window against its reference ------------------------------------------------------------

function checkWindow(ops: readonly WindowOp[]): string {
  const w = new ReplayWindow();
  const ref = new ReferenceWindow();
  const tried: number[] = [];
  const events = new Set<string>();
  const clamp = (n: number) => Math.min(MAX_SEQUENCE, Math.max(0, Math.trunc(n)));
  const fresh = (n: number, what: string) => {
    try {
      return w.fresh(n);
    } catch (error) {
      fail('window:threw', `${what}: fresh(${n}) threw ${String(error)}`, error);
    }
  };
  ops.forEach((op, i) => {
    const n = clamp(op.k === 'near' || op.k === 'jump' ? ref.highest + op.v : op.k === 'abs' ? op.v : op.k === 'dup' ? (tried.length ? tried[op.v % tried.length]! : 0) : 0);
    const what = `op ${i} (${op.k} ${op.v}: ${n}, highest ${ref.highest})`;
    const want = ref.fresh(n);
    const got = fresh(n, what);
    ensure(got === want, 'window:fresh', () => `${what}: fresh(${n}) is ${got}; the reference (accepted ${ref.accepted.has(n)}, highest ${ref.highest}) says ${want}`);
    if (n === 0) events.add('zero');
    else if (!want) events.add(ref.accepted.has(n) ? 'seen' : 'stale');
    else if (n - ref.highest >= REPLAY_WINDOW && ref.highest > 0) events.add('far');
    if (want && op.auth) {
      try {
        w.saw(n);
      } catch (error) {
        fail('window:threw', `${what}: saw(${n}) threw ${String(error)}`, error);
      }
      ref.saw(n);
    }
    tried.push(n);
    const h = ref.highest;
    const probes = [n - 1, n, n + 1, h - REPLAY_WINDOW, h - REPLAY_WINDOW + 1, h - REPLAY_WINDOW + 2, h, h + 1, tried[op.probe % tried.length]!];
    for (const p of probes.map(clamp)) {
      const pw = ref.fresh(p);
      const pg = fresh(p, `${what}, probe`);
      ensure(pg === pw, 'window:fresh', () => `${what}, then: fresh(${p}) is ${pg}; the reference (accepted ${ref.accepted.has(p)}, highest ${h}) says ${pw}`);
    }
  });
  return outcome('window', events, WINDOW_EVENTS);
}

/** Checks one input; the outcome names what happened in it (opened, forged, replayed, stale…). */
export function checkSeal(input: SealInput): string {
  return input.mode === 'window' ? checkWindow(input.ops) : checkConversation(input);
}

// ---- inputs --------------------------------------------------------------------------------------

const end = fc.constantFrom<End>(...ENDS);
const toEnd = fc.option(end, { nil: undefined, freq: 3 });
const viaArb = fc.option(fc.constantFrom<Via>('open', 'bind'), { nil: undefined, freq: 6 });
const at = fc.nat({ max: 9 });
/** A kept datagram, from the newest: mostly recent ones, some anywhere, some just out of a window's reach. */
const kept = fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 3 }) }, { weight: 2, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.integer({ min: 1020, max: 1100 }) });

/** A position: often in the clear bytes (type, version, sequence, a bind's token), else anywhere. */
const header = fc.oneof({ weight: 2, arbitrary: fc.nat({ max: 7 }) }, { weight: 1, arbitrary: fc.nat({ max: 24 }) }, { weight: 2, arbitrary: fc.nat() });

const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: header, bit: fc.nat({ max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('set' as const), at: header, value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 0xff), fc.nat({ max: 255 })) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('truncate' as const), keep: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('seq' as const), delta: fc.oneof(fc.constantFrom(-1, 1, 2, -1024, 1023, 1024, 2 ** 40, -(2 ** 47)), fc.integer({ min: -3000, max: 3000 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('head' as const), n: kept }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('body' as const), n: kept }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tag' as const), n: kept }) },
);

/** Raw bytes: anything, or starting like a sealed datagram or a bind. */
const rawBytes = fc.oneof(
  fc.uint8Array({ maxLength: 64 }),
  fc.tuple(fc.nat({ max: 3 }), fc.uint8Array({ minLength: 16, maxLength: 64 })).map(([seq, rest]) => Uint8Array.of(0x05, 0x01, 0, 0, 0, 0, 0, seq, ...rest)),
  fc.uint8Array({ minLength: 38, maxLength: 38 }).map((rest) => Uint8Array.of(0x03, 0x01, ...rest)),
  fc.tuple(fc.nat({ max: 3 }), fc.uint8Array({ minLength: 28, maxLength: 64 })).map(([seq, rest]) => Uint8Array.of(0x06, 0x01, 0, 0, 0, 0, 0, seq, ...rest)),
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    t: fc.constant('seal' as const),
    from: fc.oneof({ weight: 6, arbitrary: fc.constantFrom<End>('a', 'b') }, { weight: 1, arbitrary: end }),
    data: fc.uint8Array({ maxLength: 48 }),
    pad: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat({ max: 2000 }) }, { weight: 1, arbitrary: fc.integer({ min: 65_400, max: 70_000 }) }),
    at,
  }) },
  { weight: 3, arbitrary: fc.record({
    t: fc.constant('shared' as const),
    from: fc.oneof({ weight: 4, arbitrary: fc.constant<End[]>(['b']) }, { weight: 2, arbitrary: fc.constant<End[]>(['b', 'xb']) }, { weight: 1, arbitrary: fc.constant<End[]>(['xb']) }),
    data: fc.uint8Array({ maxLength: 48 }),
    pad: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat({ max: 2000 }) }, { weight: 1, arbitrary: fc.integer({ min: 65_400, max: 70_000 }) }),
  }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('bind' as const), from: fc.oneof({ weight: 6, arbitrary: fc.constant<End>('a') }, { weight: 1, arbitrary: end }) }) },
  { weight: 1, arbitrary: fc.record({
    t: fc.constant('burst' as const), from: fc.constantFrom<End>('a', 'b'),
    count: fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1100 }) }),
    last: fc.boolean(),
    late: fc.array(fc.oneof(fc.nat({ max: 30 }), fc.integer({ min: 1000, max: 1100 })), { maxLength: 3 }),
  }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('send' as const), n: kept, to: toEnd, via: viaArb, at }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('forge' as const), n: kept, edits: fc.array(edit, { minLength: 1, maxLength: 3 }), to: toEnd, via: viaArb, at, first: fc.boolean(), then: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('raw' as const), bytes: rawBytes, to: end, via: fc.constantFrom<Via>('open', 'bind'), at }) },
  { weight: 1, arbitrary: fc.record({
    t: fc.constant('big' as const),
    length: fc.oneof(fc.nat({ max: 100 }), fc.integer({ min: 65_000, max: 70_000 })),
    head: fc.oneof(fc.uint8Array({ maxLength: 8 }), fc.tuple(fc.constantFrom(0x05, 0x06), fc.uint8Array({ minLength: 6, maxLength: 6 })).map(([t, s]) => Uint8Array.of(t, 0x01, ...s))),
    fill: fc.nat(), to: end, via: fc.constantFrom<Via>('open', 'bind'), at,
  }) },
);

const conversation: fc.Arbitrary<SealInput> = fc.record({
  mode: fc.constant('seal' as const),
  key: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  token: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  steps: fc.array(step, { maxLength: 40 }),
});

const windowOp: fc.Arbitrary<WindowOp> = fc.record({
  k: fc.constantFrom<WindowOp['k']>('near', 'near', 'near', 'near', 'near', 'near', 'near', 'near', 'jump', 'dup', 'dup', 'zero', 'abs'),
  // In order, a gap (lost datagrams), reordered, near the window's far edge.
  near: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 2, arbitrary: fc.integer({ min: 4, max: 64 }) },
    { weight: 3, arbitrary: fc.integer({ min: -64, max: 0 }) }, { weight: 1, arbitrary: fc.integer({ min: -1100, max: -950 }) }),
  jump: fc.oneof(fc.constantFrom(1023, 1024, 1025, 2047, 2048, 2049), fc.integer({ min: 65, max: 1100 }), fc.integer({ min: 1, max: 2 ** 47 })),
  abs: fc.oneof(fc.nat({ max: 3000 }), fc.constantFrom(MAX_SEQUENCE, MAX_SEQUENCE - 1, 2 ** 32, 2 ** 31)),
  dup: fc.nat(),
  auth: fc.nat({ max: 7 }).map((x) => x !== 0),
  probe: fc.nat(),
}).map(({ k, auth, probe, ...v }) => ({ k, v: k === 'zero' ? 0 : v[k], auth, probe }));

/** Short runs, and long ones that go round the window's ring several times. */
const windowInput: fc.Arbitrary<SealInput> = fc.record({
  mode: fc.constant('window' as const),
  ops: fc.oneof(fc.array(windowOp, { maxLength: 40 }), fc.array(windowOp, { minLength: 300, maxLength: 2000, size: 'max' })),
});

/** A seed with some steps (ops) dropped and new ones put in. */
function mutated(seeds: readonly SealInput[]): fc.Arbitrary<SealInput> | undefined {
  if (!seeds.length) return undefined;
  const edits = fc.record({
    drop: fc.array(fc.nat(), { maxLength: 4 }),
    add: fc.array(fc.record({ at: fc.nat(), step, op: windowOp }), { maxLength: 6 }),
    key: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: undefined, freq: 8 }),
  });
  return fc.tuple(fc.constantFrom(...seeds), edits).map(([seed, e]) => {
    const splice = <T>(list: readonly T[], add: (x: { at: number; step: Step; op: WindowOp }) => T): T[] => {
      const out = list.slice();
      for (const d of e.drop) if (out.length) out.splice(d % out.length, 1);
      for (const a of e.add) out.splice(a.at % (out.length + 1), 0, add(a));
      return out;
    };
    return seed.mode === 'window'
      ? { mode: 'window' as const, ops: splice(seed.ops, (a) => a.op) }
      : { ...seed, key: e.key ?? seed.key, steps: splice(seed.steps, (a) => a.step) };
  });
}

// ---- JSON form ----------------------------------------------------------------------------------

/** Fields that hold bytes (kept as base64, see `bytesToJson`). */
const BYTE_FIELDS = new Set(['key', 'token', 'data', 'bytes', 'head']);

function toJsonValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return bytesToJson(value);
  if (Array.isArray(value)) return value.map(toJsonValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, toJsonValue(v)]));
  }
  return value;
}

function fromJsonValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJsonValue);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, BYTE_FIELDS.has(k) && typeof v === 'string' ? bytesFromJson(v) : fromJsonValue(v)]));
  }
  return value;
}

export const udpSealTarget: FuzzTarget<SealInput> = {
  name: 'udp-seal',
  parser: '`UdpSeal` (`open`, `openBind`, `seal`, `sealShared`, `sealBind`), `encryptBody`, `sealedBindToken`, `ReplayWindow` (sdk/node/udpSeal.ts)',
  quickRuns: 1000,
  arbitrary(seeds) {
    const fresh = fc.oneof({ weight: 3, arbitrary: conversation }, { weight: 1, arbitrary: windowInput });
    const fromSeeds = mutated(seeds);
    return fromSeeds ? fc.oneof(fresh, fromSeeds) : fresh;
  },
  async open() {
    return { async: false, check: checkSeal, close: async () => {} };
  },
  toJson: (input) => toJsonValue(input),
  fromJson: (json) => fromJsonValue(json) as SealInput,
};
