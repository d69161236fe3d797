/**
 * Fuzz target `reassembler`: `Reassembler` / `ReassemblyBudget` (sdk/protocol/Reassembler.ts) against
 * docs/protocol.md §5.
 *
 * An input is a sequence of datagrams: the fragments of a few honest frames (cut by `fragmentPacket`,
 * shuffled, some sent twice) mixed with garbage — fragments of other frames with hostile counts,
 * conflicting counts, over-long payloads, whole frames — and clock ticks, `expire()` and `clear()`.
 * A garbage fragment's payload depends only on its frame and index, so whatever the reassembler
 * completes can be predicted.
 *
 * Every input: nothing throws; after every step `heldBytes` ≤ the cap (the one given, else twice
 * `maxFrameBytes` plus bookkeeping), a shared budget's `held` ≤ its `maxBytes` and equals what its
 * members hold, `pending` ≤ `maxPending`; every frame yielded is byte-identical to the frame that was
 * fragmented (honest) or to the header and pieces sent (garbage), a whole frame comes back as it was;
 * `clear()` and an `expire()` past the timeout leave nothing held.
 *
 * `light` inputs add only garbage that costs nothing (whole frames, counts over the limit, payloads over
 * the sender's size, duplicates) and keep the honest frames within one frame's size: there every
 * honest frame must come out exactly once, at its last missing fragment, and the drops are counted exactly.
 * @module
 */
import fc from 'fast-check';
import {
  Reassembler, ReassemblyBudget, decodeMediaPacket, encodeMediaPacket, fragmentPacket,
} from '../../../sdk/protocol/index.js';
import { pattern } from '../../helpers.js';
import { FuzzFinding, ensure, fail, show, type FuzzTarget } from '../target.js';

/** One step besides the honest fragments. */
export type Step =
  /** A garbage fragment of frame `key` (0–15) for reassembler A (or B, the budget's other member). */
  | { t: 'frag'; key: number; count: number; index: number; to?: 'b' }
  /** A whole garbage frame (fragment 0 of 1). */
  | { t: 'whole'; key: number }
  /** A garbage fragment with a payload one byte over the sender's size. */
  | { t: 'long'; key: number; count: number; index: number }
  /** The honest fragment at `n` (modulo) again. */
  | { t: 'dup'; n: number }
  | { t: 'tick'; ms: number }
  | { t: 'expire' }
  | { t: 'clear' };

/** An input. */
export interface ReassemblyInput {
  mode: 'light' | 'heavy';
  maxFrameBytes: number;
  /** The `fragmentPayload` option (the sender's size); `undefined` = not told. */
  fragmentPayload: number | undefined;
  /** The size honest senders cut at (= `fragmentPayload` when that is given). */
  senderPayload: number;
  maxPending: number | undefined;
  maxHeldBytes: number | undefined;
  /** A budget shared with a second reassembler (heavy only). */
  budget: number | undefined;
  timeoutMs: number | undefined;
  /** Honest frames' payload sizes. */
  frames: number[];
  /** Sort keys of the honest fragments (their order). */
  order: number[];
  /** Garbage steps and where they go in the honest sequence. */
  steps: Array<{ at: number; step: Step }>;
  /** Varies the garbage payload lengths. */
  lenSeed: number;
}

const HONEST_SENDER = 'a0a0a0a0a0a0a0a0';
const GARBAGE_SENDERS = ['c0c0c0c0c0c0c0c0', 'c1c1c1c1c1c1c1c1'];
const GARBAGE_TRACKS = ['d0d0d0d0d0d0d0d0', 'd1d1d1d1d1d1d1d1'];
/** The per-frame and per-fragment costs the reassembler charges (Reassembler.ts), for the default cap. */
const FRAME_COST = 256;
const FRAGMENT_COST = 96;

function honestTrack(i: number): string {
  return `b0b0b0b0b0b0b0${i.toString(16).padStart(2, '0')}`;
}


function garbageKey(key: number): { sender: string; track: string; sequence: number } {
  return { sender: GARBAGE_SENDERS[key & 1]!, track: GARBAGE_TRACKS[(key >> 1) & 1]!, sequence: key >> 2 };
}

/** Checks one input; the outcome says how many frames came out and whether any were dropped. */
export function checkReassembly(input: ReassemblyInput): string {
  const S = input.senderPayload;
  const maxFragments = Math.max(1, Math.ceil(input.maxFrameBytes / (input.fragmentPayload ?? 512)));
  const cap = input.maxHeldBytes ?? 2 * (input.maxFrameBytes + FRAME_COST) + maxFragments * FRAGMENT_COST;
  const maxPending = input.maxPending ?? 64;
  const timeout = input.timeoutMs ?? 2000;
  let now = 1_000_000;
  const budget = input.budget === undefined ? undefined : new ReassemblyBudget(input.budget);
  const options = {
    maxFrameBytes: input.maxFrameBytes,
    now: () => now,
    ...(input.fragmentPayload === undefined ? {} : { fragmentPayload: input.fragmentPayload }),
    ...(input.maxPending === undefined ? {} : { maxPending: input.maxPending }),
    ...(input.maxHeldBytes === undefined ? {} : { maxHeldBytes: input.maxHeldBytes }),
    ...(input.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
    ...(budget ? { budget } : {}),
  };
  const a = new Reassembler(options);
  const b = budget ? new Reassembler(options) : undefined;

  // The honest frames and their fragments.
  const honest = input.frames.map((size, i) => encodeMediaPacket(
    { kind: 'screen', codec: 'vp8', keyFrame: i === 0, sender: HONEST_SENDER, track: honestTrack(i), sequence: i, timestamp: 1_700_000_000_000_000 + i },
    pattern(size, 7 + i),
  ));
  const fragments = honest.flatMap((packet, frame) => fragmentPacket(packet, S).map((bytes) => ({ frame, bytes })));
  const ordered = fragments.map((f, i) => ({ ...f, key: input.order[i] ?? i })).sort((x, y) => x.key - y.key);

  // Garbage payloads: a function of (frame, index) only.
  const glen = (key: number, index: number) => ((input.lenSeed * 31 + key * 977 + index * 131) >>> 0) % ((input.fragmentPayload ?? 600) + 1);
  const gpiece = (key: number, index: number, extra = 0) => pattern(glen(key, index) + extra, 1000 + key * 70_000 + index);
  const gpacket = (key: number, count: number, index: number, extra = 0) =>
    encodeMediaPacket({ kind: 'camera', codec: 'jpeg', ...garbageKey(key), timestamp: key, fragmentCount: count, fragmentIndex: index }, gpiece(key, index, extra));
  /** Counts a garbage frame was sent with (a completed one used one of them). */
  const countsSent = new Map<string, Set<number>>();

  type Op = { kind: 'honest'; n: number } | Step;
  const ops: Op[] = ordered.map((_, n) => ({ kind: 'honest' as const, n }));
  for (const { at, step } of input.steps) ops.splice(at % (ops.length + 1), 0, step);

  const light = input.mode === 'light';
  const received = honest.map(() => new Set<number>());
  const completed = honest.map(() => 0);
  const finishedGarbage = new Set<number>();
  let expectedDrops = 0;
  let out = 0;
  let lastPush = now;
  const pushTo = (r: Reassembler, raw: Uint8Array): Uint8Array | undefined => {
    const packet = decodeMediaPacket(raw);
    lastPush = now;
    try {
      return r.push(packet, raw);
    } catch (error) {
      if (error instanceof FuzzFinding) throw error;
      fail('reassembler:threw', `Reassembler.push threw ${String(error)}`, error);
    }
  };
  const invariants = (after: string) => {
    for (const [name, r] of [['A', a], ['B', b]] as const) {
      if (!r) continue;
      ensure(r.heldBytes >= 0 && r.heldBytes <= cap, 'reassembler:held-over-cap', () => `${name} holds ${r.heldBytes} bytes after ${after}; its cap is ${cap}`);
      ensure(r.pending <= maxPending, 'reassembler:pending-over-max', () => `${name} has ${r.pending} frames in progress after ${after}; maxPending is ${maxPending}`);
      ensure(r.pending > 0 || r.heldBytes === 0, 'reassembler:held-without-frames', () => `${name} holds ${r.heldBytes} bytes with no frame in progress after ${after}`);
    }
    if (budget) {
      ensure(budget.held <= budget.maxBytes, 'reassembler:budget-over', () => `the budget holds ${budget.held} bytes after ${after}; its maximum is ${budget.maxBytes}`);
      ensure(budget.held === a.heldBytes + (b?.heldBytes ?? 0), 'reassembler:budget-tally',
        () => `the budget says ${budget.held} bytes, its members hold ${a.heldBytes} + ${b?.heldBytes ?? 0} after ${after}`);
    }
  };
  const checkGarbageOutput = (sent: string, key: number, whole: Uint8Array, what: string) => {
    const counts = countsSent.get(sent) ?? new Set<number>();
    const match = [...counts].some((c) => {
      if (c > maxFragments || c > 64) return false;
      const pieces = Array.from({ length: c }, (_, i) => gpiece(key, i));
      const want = encodeMediaPacket({ kind: 'camera', codec: 'jpeg', ...garbageKey(key), timestamp: key }, Buffer.concat(pieces));
      return Buffer.from(want).equals(Buffer.from(whole));
    });
    ensure(match, 'reassembler:wrong-frame', () => `${what}: the frame yielded for garbage frame ${key} is not its header and pieces: ${show(whole)}`);
  };

  ops.forEach((op, step) => {
    const what = `step ${step} (${'kind' in op ? `honest fragment ${op.n}` : op.t})`;
    if ('kind' in op || op.t === 'dup') {
      const n = 'kind' in op ? op.n : (op as { n: number }).n % Math.max(1, ordered.length);
      const f = ordered[n];
      if (!f) return;
      const whole = pushTo(a, f.bytes);
      const packet = decodeMediaPacket(f.bytes);
      const isNew = !received[f.frame]!.has(packet.fragmentIndex);
      received[f.frame]!.add(packet.fragmentIndex);
      const done = received[f.frame]!.size === packet.fragmentCount;
      if (whole) {
        out++;
        if (packet.fragmentCount === 1) ensure(whole === f.bytes, 'reassembler:whole-changed', () => `${what}: a whole frame did not come back as it was`);
        ensure(Buffer.from(whole).equals(Buffer.from(honest[f.frame]!)), 'reassembler:wrong-frame',
          () => `${what}: honest frame ${f.frame} came out as ${show(whole)}, not as fragmented (${show(honest[f.frame])})`);
        if (isNew) completed[f.frame]!++;
      }
      if (light) {
        const expectOut = packet.fragmentCount === 1 || (isNew && done);
        ensure(!!whole === expectOut, 'reassembler:honest-frame-lost',
          () => `${what}: honest frame ${f.frame} (${packet.fragmentCount} fragments, ${received[f.frame]!.size} received) ${whole ? 'came out early or twice' : 'did not come out'}`);
      }
    } else {
      switch (op.t) {
        case 'frag': {
          const count = Math.max(1, op.count);
          const raw = gpacket(op.key, count, op.index % count);
          const r = op.to === 'b' && b ? b : a;
          const sent = `${r === a ? 'a' : 'b'}${op.key}`;
          if (!countsSent.has(sent)) countsSent.set(sent, new Set());
          countsSent.get(sent)!.add(count);
          const whole = pushTo(r, raw);
          if (whole) {
            out++;
            if (count === 1) ensure(whole === raw, 'reassembler:whole-changed', () => `${what}: a whole frame did not come back as it was`);
            else checkGarbageOutput(sent, op.key, whole, what);
          }
          if (light) {
            // Light inputs send only counts over the limit this way: never held, dropped once per frame.
            ensure(!whole, 'reassembler:hostile-completed', () => `${what}: a fragment declaring ${count} fragments (limit ${maxFragments}) completed a frame`);
            if (!finishedGarbage.has(op.key)) expectedDrops++;
            finishedGarbage.add(op.key);
          }
          break;
        }
        case 'whole': {
          const raw = gpacket(op.key, 1, 0);
          const whole = pushTo(a, raw);
          ensure(whole === raw, 'reassembler:whole-changed', () => `${what}: a whole frame (fragment 0 of 1) did not come back as it was`);
          out++;
          break;
        }
        case 'long': {
          // Without a told size nothing is too long, and a longer piece would spoil the prediction.
          if (input.fragmentPayload === undefined) break;
          const count = Math.max(2, op.count);
          const raw = gpacket(op.key, count, op.index % count, input.fragmentPayload + 1);
          const whole = pushTo(a, raw);
          ensure(!whole, 'reassembler:long-completed', () => `${what}: a fragment longer than the sender's ${input.fragmentPayload} bytes completed a frame`);
          if (light) {
            if (!finishedGarbage.has(op.key)) expectedDrops++;
            finishedGarbage.add(op.key);
          }
          break;
        }
        case 'tick':
          now += op.ms;
          break;
        case 'expire':
          a.expire();
          b?.expire();
          if (now - lastPush >= timeout) {
            ensure(a.pending === 0 && a.heldBytes === 0, 'reassembler:expire-keeps', () => `${what}: ${a.pending} frames (${a.heldBytes} bytes) still held ${now - lastPush} ms after the last fragment (timeout ${timeout})`);
          }
          break;
        case 'clear':
          a.clear();
          ensure(a.pending === 0 && a.heldBytes === 0, 'reassembler:clear-keeps', () => `${what}: clear() left ${a.pending} frames (${a.heldBytes} bytes)`);
          break;
      }
    }
    invariants(what);
  });
  if (light) {
    ensure(completed.every((n) => n === 1), 'reassembler:honest-frame-lost', () => `honest frames came out ${show(completed)} times (each once expected)`);
    ensure(a.pending === 0 && a.heldBytes === 0, 'reassembler:leftover', () => `${a.pending} frames (${a.heldBytes} bytes) held after every frame completed`);
    ensure(a.dropped === expectedDrops, 'reassembler:drop-count', () => `${a.dropped} frames counted as dropped; ${expectedDrops} garbage frames were refused`);
  }
  a.clear();
  b?.clear();
  ensure(a.heldBytes === 0 && (budget?.held ?? 0) === 0, 'reassembler:clear-keeps', () => `clear() left ${a.heldBytes} bytes (budget ${budget?.held})`);
  return `${input.mode}:${out === 0 ? 'none' : out < 4 ? 'few' : 'many'}-out:${a.dropped === 0 ? 'no' : a.dropped < 4 ? 'few' : 'many'}-dropped`;
}

const key = fc.nat({ max: 15 });

const lightStep: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ t: fc.constant('whole' as const), key }),
  fc.record({ t: fc.constant('frag' as const), key, count: fc.constant(-1), index: fc.nat() }), // count set over the limit below
  fc.record({ t: fc.constant('long' as const), key, count: fc.integer({ min: 2, max: 4 }), index: fc.nat() }),
  fc.record({ t: fc.constant('dup' as const), n: fc.nat() }),
);

const heavyStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('frag' as const), key, count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom(-1, -2, 65_535)), index: fc.nat(), to: fc.constantFrom(undefined, 'b' as const) }, { requiredKeys: ['t', 'key', 'count', 'index'] }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('whole' as const), key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('long' as const), key, count: fc.integer({ min: 2, max: 4 }), index: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('dup' as const), n: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('tick' as const), ms: fc.oneof(fc.nat({ max: 50 }), fc.constantFrom(1999, 2000, 2001, 5000)) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('expire' as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('clear' as const) }) },
);

const light: fc.Arbitrary<ReassemblyInput> = fc.record({
  maxFrameBytes: fc.integer({ min: 2304, max: 6000 }),
  told: fc.boolean(),
  senderPayload: fc.integer({ min: 64, max: 700 }),
  shares: fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
  fill: fc.double({ min: 0.05, max: 1, noNaN: true }),
  order: fc.array(fc.nat(), { maxLength: 120 }),
  steps: fc.array(fc.record({ at: fc.nat(), step: lightStep }), { maxLength: 30 }),
  lenSeed: fc.nat(),
}).map((r) => {
  const senderPayload = r.told ? r.senderPayload : Math.max(512, r.senderPayload);
  const fragmentPayload = r.told ? senderPayload : undefined;
  const total = Math.floor(r.maxFrameBytes * r.fill);
  const sum = r.shares.reduce((x, y) => x + y, 0);
  const frames = r.shares.map((s) => Math.max(1, Math.floor((total * s) / sum)));
  const maxFragments = Math.max(1, Math.ceil(r.maxFrameBytes / (fragmentPayload ?? 512)));
  // Over-the-limit counts for 'frag' steps; 'long' steps are over-long only when the size is told.
  const steps = r.steps.map(({ at, step }) => ({
    at,
    step: step.t === 'frag' ? { ...step, count: Math.min(65_535, maxFragments + 1 + (step.index % 3 === 0 ? 65_535 : 0)) }
      : step.t === 'long' && fragmentPayload === undefined ? { t: 'whole' as const, key: step.key } : step,
  }));
  return {
    mode: 'light' as const, maxFrameBytes: r.maxFrameBytes, fragmentPayload, senderPayload,
    maxPending: undefined, maxHeldBytes: undefined, budget: undefined, timeoutMs: undefined,
    frames, order: r.order, steps, lenSeed: r.lenSeed,
  };
});

const heavy: fc.Arbitrary<ReassemblyInput> = fc.record({
  maxFrameBytes: fc.integer({ min: 1, max: 6000 }),
  fragmentPayload: fc.option(fc.integer({ min: 32, max: 700 }), { nil: undefined }),
  senderPayload: fc.integer({ min: 32, max: 700 }),
  maxPending: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  maxHeldBytes: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined }),
  budget: fc.option(fc.integer({ min: 1, max: 8000 }), { nil: undefined }),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 3000 }), { nil: undefined }),
  frames: fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 4 }),
  order: fc.array(fc.nat(), { maxLength: 120 }),
  steps: fc.array(fc.record({ at: fc.nat(), step: heavyStep }), { maxLength: 150 }),
  lenSeed: fc.nat(),
}).map((r) => ({
  ...r, mode: 'heavy' as const,
  senderPayload: r.fragmentPayload ?? r.senderPayload,
  // Negative counts stand for the limit and one past it.
  steps: r.steps.map(({ at, step }) => ({
    at,
    step: step.t === 'frag' && step.count < 0
      ? { ...step, count: Math.min(65_535, Math.max(1, Math.ceil(r.maxFrameBytes / (r.fragmentPayload ?? 512))) + (step.count === -1 ? 0 : 1)) }
      : step,
  })),
}));

export const reassemblerTarget: FuzzTarget<ReassemblyInput> = {
  name: 'reassembler',
  parser: '`Reassembler`, `ReassemblyBudget` (sdk/protocol/Reassembler.ts)',
  quickRuns: 6000,
  arbitrary(seeds) {
    // Seeds are replayed as they are and with their steps shuffled into new places.
    const mutated = seeds.length === 0 ? undefined : fc.tuple(fc.constantFrom(...seeds), fc.array(fc.nat(), { maxLength: 8 }))
      .map(([seed, moves]) => ({ ...seed, steps: seed.steps.map((s, i) => ({ ...s, at: moves.length ? s.at + moves[i % moves.length]! : s.at })) }));
    return mutated ? fc.oneof(light, heavy, mutated) : fc.oneof(light, heavy);
  },
  async open() {
    return { async: false, check: checkReassembly, close: async () => {} };
  },
  toJson: (input) => input,
  fromJson: (json) => {
    const input = json as ReassemblyInput;
    // JSON has no undefined: absent options come back as missing fields.
    return {
      ...input,
      fragmentPayload: input.fragmentPayload ?? undefined, maxPending: input.maxPending ?? undefined,
      maxHeldBytes: input.maxHeldBytes ?? undefined, budget: input.budget ?? undefined, timeoutMs: input.timeoutMs ?? undefined,
    };
  },
};
