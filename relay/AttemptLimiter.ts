/**
 * Slows down guessing: per source address, wrong secrets (passcodes; host keys later) after a few free ones
 * make the address wait, twice as long after each one, up to a lockout window. Another address is never
 * slowed, so an attacker cannot lock honest people out from elsewhere on the LAN.
 * @module
 * @internal
 */

/** How guessing is slowed down. */
export interface AttemptLimits {
  /** Wrong attempts an address may make without waiting. Default 3. */
  freeFailures: number;
  /** The wait after the first failure past the free ones (ms); each further failure doubles it. Default 1000. */
  baseDelayMs: number;
  /** The longest wait: the lockout window (ms). Default 15 minutes. */
  maxDelayMs: number;
  /** An address that made no attempt for this long starts afresh (ms). Default 15 minutes. */
  forgetAfterMs: number;
}

export const DEFAULT_ATTEMPT_LIMITS: Readonly<AttemptLimits> = Object.freeze({
  freeFailures: 3, baseDelayMs: 1000, maxDelayMs: 15 * 60_000, forgetAfterMs: 15 * 60_000,
});

/** Addresses remembered at once; past this the one quiet longest is forgotten. */
const MAX_ADDRESSES = 10_000;

interface Entry {
  failures: number;
  /** No attempt is checked before this (ms). */
  until: number;
  last: number;
}

/** Failed attempts per source address. */
export class AttemptLimiter {
  readonly #limits: AttemptLimits;
  readonly #byAddress = new Map<string, Entry>();

  constructor(limits: Partial<AttemptLimits> = {}) {
    this.#limits = { ...DEFAULT_ATTEMPT_LIMITS, ...limits };
  }

  /** How long (ms) `address` must still wait before an attempt of its is checked; 0 when it may try now. */
  wait(address: string, now = Date.now()): number {
    const entry = this.#entry(address, now);
    return entry ? Math.max(0, entry.until - now) : 0;
  }

  /** Records a wrong attempt; returns the failures so far and the wait it now has (ms). */
  failed(address: string, now = Date.now()): { failures: number; waitMs: number } {
    const entry = this.#entry(address, now) ?? { failures: 0, until: 0, last: now };
    entry.failures++;
    entry.last = now;
    const over = entry.failures - this.#limits.freeFailures;
    const waitMs = over <= 0 ? 0 : Math.min(this.#limits.maxDelayMs, this.#limits.baseDelayMs * 2 ** Math.min(over - 1, 30));
    entry.until = now + waitMs;
    this.#byAddress.delete(address); // re-inserted last: the map stays ordered by last attempt
    this.#byAddress.set(address, entry);
    if (this.#byAddress.size > MAX_ADDRESSES) this.#byAddress.delete(this.#byAddress.keys().next().value as string);
    return { failures: entry.failures, waitMs };
  }

  /** A right attempt: the address starts afresh. */
  succeeded(address: string): void {
    this.#byAddress.delete(address);
  }

  #entry(address: string, now: number): Entry | undefined {
    const entry = this.#byAddress.get(address);
    if (entry && now - entry.last > this.#limits.forgetAfterMs && now >= entry.until) {
      this.#byAddress.delete(address);
      return undefined;
    }
    return entry;
  }
}
