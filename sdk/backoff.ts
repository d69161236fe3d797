/**
 * The pauses between attempts to get a connection back, shared by every retry loop: `Session` reconnects (in its `SignalConnection`),
 * `<lan-meeting>` rejoins and `lanconf-relay join` (docs/architecture.md, *Retrying*). Browser-safe.
 * @module
 * @internal
 */

/** What a {@link Backoff} waits. */
export interface BackoffOptions {
  /** The first pause (ms). */
  initialMs: number;
  /** The longest pause (ms): each pause is `factor` times the one before, up to this. */
  maxMs: number;
  /** How much each pause grows. Default 2. */
  factor?: number;
  /**
   * Spread, from 0 to 1: each pause is shortened by up to this fraction of itself, at random, so that
   * clients cut off together do not all come back in the same instant. Default 0 (exact pauses).
   */
  jitter?: number;
  /** Ends a pause at once, and every pause after it: {@link Backoff.wait} then resolves `false`. */
  signal?: AbortSignal;
}

/**
 * Pauses that grow: `initialMs`, then `factor` times longer each time, up to `maxMs`. It only says how long
 * to wait; when to stop trying is the caller's rule (a deadline, an error that will not change, a person
 * who left), written in the caller's loop.
 *
 * One pause at a time: call `wait()` again only once the previous one has resolved.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ initialMs: 1000, maxMs: 10_000, signal });
 * while (await backoff.wait()) {
 *   try {
 *     return await connect();
 *   } catch (error) {
 *     if (!worthRetrying(error)) throw error;
 *   }
 * }
 * ```
 */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #signal: AbortSignal | undefined;
  /** The pause after the next one, before jitter. */
  #base: number;
  /** The next pause, jitter applied: what `wait()` waits, and what `nextDelayMs` tells. */
  #next: number;

  /** @throws TypeError when a duration is negative or not finite, `maxMs` < `initialMs`, `factor` < 1 or `jitter` outside 0..1. */
  constructor(options: BackoffOptions) {
    const { initialMs, maxMs, factor = 2, jitter = 0, signal } = options;
    if (!(Number.isFinite(initialMs) && initialMs >= 0)) throw new TypeError(`initialMs must be a finite number ≥ 0, not ${initialMs}`);
    if (!(Number.isFinite(maxMs) && maxMs >= initialMs)) throw new TypeError(`maxMs must be a finite number ≥ initialMs, not ${maxMs}`);
    if (!(Number.isFinite(factor) && factor >= 1)) throw new TypeError(`factor must be a finite number ≥ 1, not ${factor}`);
    if (!(jitter >= 0 && jitter <= 1)) throw new TypeError(`jitter must be from 0 to 1, not ${jitter}`);
    this.#initialMs = initialMs;
    this.#maxMs = maxMs;
    this.#factor = factor;
    this.#jitter = jitter;
    this.#signal = signal;
    this.#base = initialMs;
    this.#next = this.#advance();
  }

  /** How long the next {@link wait} will wait (ms): for saying so, as in "retrying in 2 s". */
  get nextDelayMs(): number {
    return this.#next;
  }

  /**
   * Waits the next pause, and makes the one after it longer. Resolves `true` once the pause is over,
   * `false` as soon as the signal aborts (at once when it already has): the caller stops trying.
   */
  wait(): Promise<boolean> {
    const signal = this.#signal;
    if (signal?.aborted) return Promise.resolve(false);
    const ms = this.#next;
    this.#next = this.#advance();
    return new Promise((resolve) => {
      const done = (waited: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(waited);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(!signal?.aborted), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Back to the first pause: after a success, so that the next outage starts with short pauses again. */
  reset(): void {
    this.#base = this.#initialMs;
    this.#next = this.#advance();
  }

  /** The next pause (jitter applied), and the base of the one after it grown by `factor`. */
  #advance(): number {
    const base = this.#base;
    this.#base = Math.min(base * this.#factor, this.#maxMs);
    return this.#jitter > 0 ? Math.round(base * (1 - this.#jitter * Math.random())) : base;
  }
}
