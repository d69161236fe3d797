/**
 * What `npm run fuzz` (run.ts) and `npm test` (replay.test.ts) share: the corpus and findings files, the
 * fast-check property around a target's check, and the choice of corpus inputs.
 *
 * Files, one pair per target (JSON, inputs in the target's JSON form):
 * - `tests/fuzz/corpus/<target>.json`: `{ target, entries: [{ outcome, input }] }`, at most
 *   {@link MAX_CORPUS} inputs chosen so that as many outcomes as possible (error codes, message types,
 *   statuses…) keep an input; the fuzzer mutates them, the test replays them.
 * - `tests/fuzz/findings/<target>.json`: `{ target, findings: [...] }`, every rule ever found broken, with
 *   the input that showed it, `status` `open` or `fixed` (set by the last `npm run fuzz`), and what was
 *   expected. The test replays each one and fails while it is open.
 * @module
 */
import fc from 'fast-check';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FuzzFinding, type FuzzCheck, type FuzzTarget } from './target.js';

/** The folder of this file (tests/fuzz). */
export const FUZZ_DIR = dirname(fileURLToPath(import.meta.url));
/** Inputs kept per target. */
export const MAX_CORPUS = 200;
/** Inputs kept per outcome while fuzzing (the corpus then takes from each in turn). */
const PER_OUTCOME = 3;
/** A corpus input longer than this as JSON is not kept (the corpus stays small). */
const MAX_ENTRY_CHARS = 6000;

/** One corpus input and the outcome it had when chosen. */
export interface CorpusEntry {
  outcome: string;
  input: unknown;
}

/** One broken rule, as kept in the findings file. */
export interface FindingRecord {
  /** The rule (`FuzzFinding.key`). */
  key: string;
  /** `open` while the input still breaks the rule. */
  status: 'open' | 'fixed';
  /** What went wrong, in one line. */
  title: string;
  /** What the documented behaviour is (written by whoever triages the finding). */
  expected?: string;
  /** Where the broken rule lives, and anything else a fixer should know. */
  notes?: string;
  /** The input (target's JSON form), shrunk by fast-check. */
  input: unknown;
  /** The finding's message and stack (and its cause's: the parser's own stack when it threw). */
  message: string;
  stack: string;
  firstSeen: string;
  lastSeen: string;
  /** fast-check's seed and path, to replay the run that found it. */
  seed?: number;
  path?: string | null;
}

function readJson<T>(path: string, fallback: T): T {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : fallback;
}

function writeJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 1)}\n`);
}

/** The corpus file of `name`. */
export const corpusPath = (name: string): string => join(FUZZ_DIR, 'corpus', `${name}.json`);
/** The findings file of `name`. */
export const findingsPath = (name: string): string => join(FUZZ_DIR, 'findings', `${name}.json`);

/** The corpus entries of `target` (none when there is no file yet). */
export function readCorpus(target: FuzzTarget<unknown>): CorpusEntry[] {
  return readJson<{ entries: CorpusEntry[] }>(corpusPath(target.name), { entries: [] }).entries;
}

/** Writes the corpus of `target`. */
export function writeCorpus(target: FuzzTarget<unknown>, entries: CorpusEntry[]): void {
  writeJson(corpusPath(target.name), {
    target: target.name,
    note: 'Inputs kept by `npm run fuzz` (tests/fuzz/run.ts), one or more per outcome; `npm test` replays them. Regenerated: do not edit by hand.',
    entries,
  });
}

/** The findings of `target`. */
export function readFindings(target: FuzzTarget<unknown>): FindingRecord[] {
  return readJson<{ findings: FindingRecord[] }>(findingsPath(target.name), { findings: [] }).findings;
}

/** Writes the findings of `target` (fields added by hand, such as `expected`, are kept by the caller). */
export function writeFindings(target: FuzzTarget<unknown>, findings: FindingRecord[]): void {
  writeJson(findingsPath(target.name), {
    target: target.name,
    note: 'Rules found broken by `npm run fuzz`; `npm test` replays each input and fails while its status is open. `expected` and `notes` are written by hand.',
    findings,
  });
}

/** Turns anything a check threw into a finding (a bug in a target's own code is a finding too, of the harness). */
export function asFinding(target: string, error: unknown): FuzzFinding {
  if (error instanceof FuzzFinding) return error;
  const e = error instanceof Error ? error : new Error(String(error));
  const shape = e.message.split('\n')[0]!.replace(/\d+/g, 'N').slice(0, 60);
  return new FuzzFinding(`${target}:unexpected:${e.name}:${shape}`, `the check threw ${e.name}: ${e.message}`, { cause: e });
}

/** The stack of a finding and of its causes. */
export function fullStack(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) parts.push(e.stack ?? `${e.name}: ${e.message}`);
  return parts.join('\nCaused by: ').slice(0, 4000);
}

/** Counts inputs, remembers a few inputs per outcome, and the last input (for a crash of the process). */
export class Collector {
  readonly #target: FuzzTarget<unknown>;
  readonly outcomes = new Map<string, CorpusEntry[]>();
  inputs = 0;
  last: unknown;

  /** A collector for `target`'s inputs. */
  constructor(target: FuzzTarget<unknown>) {
    this.#target = target;
  }

  /** Notes that `input` had `outcome`. */
  record(outcome: string, input: unknown): void {
    // An input that shows an open finding belongs in the findings file, not in the corpus.
    if (outcome.startsWith('known:')) return;
    let kept = this.outcomes.get(outcome);
    if (!kept) this.outcomes.set(outcome, (kept = []));
    if (kept.length >= PER_OUTCOME) return;
    const json = this.#target.toJson(input);
    if (JSON.stringify(json).length > MAX_ENTRY_CHARS) return;
    kept.push({ outcome, input: json });
  }
}

/**
 * The fast-check property of `target`: runs `check` on each input, counts it, and records its outcome.
 * A finding whose key is in `known` is an outcome (`known:<key>`), not a failure, so fuzzing goes on
 * looking for new ones.
 */
export function propertyOf(target: FuzzTarget<unknown>, check: FuzzCheck<unknown>, arbitrary: fc.Arbitrary<unknown>,
  known: ReadonlySet<string>, collector?: Collector): fc.IRawProperty<[unknown]> {
  const settle = (input: unknown, error: unknown): string => {
    const finding = asFinding(target.name, error);
    if (known.has(finding.key)) return `known:${finding.key}`;
    throw finding;
  };
  if (check.async) {
    return fc.asyncProperty(arbitrary, async (input) => {
      if (collector) {
        collector.inputs++;
        collector.last = input;
      }
      let outcome: string;
      try {
        outcome = await check.check(input);
      } catch (error) {
        outcome = settle(input, error);
      }
      collector?.record(outcome, input);
    });
  }
  return fc.property(arbitrary, (input) => {
    if (collector) {
      collector.inputs++;
      collector.last = input;
    }
    let outcome: string;
    try {
      outcome = check.check(input) as string;
    } catch (error) {
      outcome = settle(input, error);
    }
    collector?.record(outcome, input);
  });
}

/**
 * Picks at most {@link MAX_CORPUS} entries, shortest inputs first: one for each coarse outcome (the
 * outcome less its last `:` part, e.g. `client:join:LAN_ERR_INVALID_MESSAGE` for
 * `client:join:LAN_ERR_INVALID_MESSAGE:udp.payloadSize`), then one for each outcome, then more in turn.
 */
export function chooseCorpus(candidates: Iterable<CorpusEntry>): CorpusEntry[] {
  const byOutcome = new Map<string, CorpusEntry[]>();
  const seen = new Set<string>();
  for (const entry of candidates) {
    const json = JSON.stringify(entry.input);
    if (seen.has(json) || json.length > MAX_ENTRY_CHARS) continue;
    seen.add(json);
    const list = byOutcome.get(entry.outcome) ?? [];
    list.push(entry);
    byOutcome.set(entry.outcome, list);
  }
  const size = (e: CorpusEntry) => JSON.stringify(e.input).length;
  const labels = [...byOutcome.keys()].sort();
  for (const label of labels) byOutcome.get(label)!.sort((a, b) => size(a) - size(b));
  const out: CorpusEntry[] = [];
  const taken = new Set<CorpusEntry>();
  const take = (entry: CorpusEntry | undefined) => {
    if (entry && !taken.has(entry) && out.length < MAX_CORPUS) {
      taken.add(entry);
      out.push(entry);
    }
  };
  const coarse = new Map<string, string[]>();
  for (const label of labels) {
    const parts = label.split(':');
    const group = parts.length > 2 ? parts.slice(0, -1).join(':') : label;
    coarse.set(group, [...(coarse.get(group) ?? []), label]);
  }
  for (const group of coarse.values()) take(byOutcome.get(group[0]!)![0]);
  for (let round = 0; out.length < MAX_CORPUS; round++) {
    let more = false;
    for (const label of labels) {
      const list = byOutcome.get(label)!;
      if (round >= list.length) continue;
      more = true;
      take(list[round]);
    }
    if (!more) break;
  }
  return out;
}

/** A fixed seed per target for `npm test`'s short fuzz (same inputs every run for the same corpus). */
export function quickSeed(name: string): number {
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h | 0;
}
