/**
 * A stop that runs once. Capture sources, the speaker and shares all end this way: a stop can be asked
 * for by the user, by a failure and by the end of a track, sometimes from inside the stop itself.
 * @module
 * @internal
 */

/** Runs a stop once; every call gets the same promise, even a call made while the stop runs. */
export class StopOnce {
  #done: Promise<void> | undefined;

  /** Whether a stop has begun. */
  get started(): boolean {
    return this.#done !== undefined;
  }

  /** Runs `stop` unless a stop has begun; resolves when it has ended (its failure is swallowed). */
  run(stop: () => Promise<void>): Promise<void> {
    if (this.#done) return this.#done;
    let done!: () => void;
    // Set before `stop` runs, so a call it makes itself gets this promise.
    this.#done = new Promise((resolve) => (done = resolve));
    void stop().catch(() => undefined).finally(() => done());
    return this.#done;
  }
}
