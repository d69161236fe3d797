/**
 * What a fuzz target is: inputs (a fast-check arbitrary that generates fresh inputs and mutates the
 * corpus), a property that throws a {@link FuzzFinding} when the parser breaks a documented rule, and
 * the JSON form its inputs are kept in (`tests/fuzz/corpus/<name>.json`, `tests/fuzz/findings/<name>.json`).
 * @module
 */
import type fc from 'fast-check';
import { LanError, ProtocolError } from '../../sdk/errors.js';

/** One parser under fuzzing. */
export interface FuzzTarget<T> {
  /** Short stable name: the corpus and findings file names, `FUZZ_TARGETS=…`. */
  readonly name: string;
  /** What is fuzzed (for the table in docs/security.md). */
  readonly parser: string;
  /** Inputs: generated afresh, or mutated from `seeds` (the corpus). */
  arbitrary(seeds: readonly T[]): fc.Arbitrary<T>;
  /** Prepares what the property needs (a relay for the network targets), once per run. */
  open(): Promise<FuzzCheck<T>>;
  /** The input as JSON (bytes as base64), for the corpus and findings files. */
  toJson(input: T): unknown;
  /** Inverse of {@link toJson}. */
  fromJson(json: unknown): T;
  /** Inputs `npm test` fuzzes with a fixed seed after the replay (a few seconds at most). */
  readonly quickRuns: number;
}

/** The property of a target, ready to run. */
export interface FuzzCheck<T> {
  /** `true` when {@link check} returns a promise (network targets). */
  readonly async: boolean;
  /**
   * Checks one input. Returns its outcome, a short label (`ok`, `LAN_ERR_BAD_KIND`, `206`…) that the
   * runner uses to keep a corpus of varied inputs; throws a {@link FuzzFinding} when a rule is broken.
   */
  check(input: T): string | Promise<string>;
  /** Stops what {@link FuzzTarget.open} started; throws a {@link FuzzFinding} if it went wrong meanwhile. */
  close(): Promise<void>;
}

/**
 * A broken rule. `key` names the rule (not the input), so one bug found again with other inputs is
 * recognised as the same finding.
 */
export class FuzzFinding extends Error {
  /** Stable name of the broken rule, e.g. `safeFileName:device-name`. */
  readonly key: string;

  /** A finding of rule `key`. */
  constructor(key: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FuzzFinding';
    this.key = key;
  }
}

/** Throws the finding `key`. */
export function fail(key: string, message: string, cause?: unknown): never {
  throw new FuzzFinding(key, message, cause === undefined ? undefined : { cause });
}

/** Throws the finding `key` unless `condition` holds. */
export function ensure(condition: unknown, key: string, message: string | (() => string)): asserts condition {
  if (!condition) fail(key, typeof message === 'function' ? message() : message);
}

/** What a call to a parser gave: a value, or a {@link LanError}'s code. */
export type Outcome<V> = { ok: true; value: V } | { ok: false; code: string; error: LanError };

/**
 * Calls `fn`; a {@link ProtocolError} (or, with `anyLanError`, any {@link LanError}) becomes its code;
 * anything else thrown is the finding `<where>:threw`.
 */
export function attempt<V>(where: string, fn: () => V, anyLanError = false): Outcome<V> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (error instanceof ProtocolError || (anyLanError && error instanceof LanError)) return { ok: false, code: error.code, error };
    if (error instanceof FuzzFinding) throw error;
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    fail(`${where}:threw`, `${where} threw ${what} (only a ${anyLanError ? 'LanError' : 'ProtocolError'} is allowed)`, error);
  }
}

/** A short, printable view of a value for messages (JSON, cut). */
export function show(value: unknown, max = 160): string {
  let text: string;
  try {
    text = value instanceof Uint8Array ? `<${value.byteLength} bytes ${Buffer.from(value.subarray(0, 48)).toString('hex')}${value.byteLength > 48 ? '…' : ''}>` : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

// ---- JSON forms of inputs ------------------------------------------------------------------------

/** Bytes as base64 (the corpus and findings files). */
export function bytesToJson(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Inverse of {@link bytesToJson}. */
export function bytesFromJson(json: unknown): Uint8Array {
  if (typeof json !== 'string') throw new TypeError('bytes are kept as a base64 string');
  return new Uint8Array(Buffer.from(json, 'base64'));
}

/** An object's field, checked to be there. */
export function field(json: unknown, name: string): unknown {
  if (typeof json !== 'object' || json === null || !(name in json)) throw new TypeError(`corpus entry without "${name}"`);
  return (json as Record<string, unknown>)[name];
}
