/**
 * A small, browser-safe typed event emitter.
 *
 * Each emitter declares its event map (event name → tuple of arguments), so a wrong event
 * name or listener signature is a compile error. A listener that throws does not stop the
 * other listeners or the caller: the error is reported to {@link TypedEmitter.onListenerError}.
 *
 * @example
 * ```ts
 * type Events = { message: [text: string]; closed: [] };
 * class Thing extends TypedEmitter<Events> {}
 * new Thing().on('message', (text) => console.log(text.toUpperCase()));
 * ```
 *
 * @module
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyListener = (...args: any[]) => void;

/** An event map: event name → argument tuple. */
export type EventMap = { [event: string]: unknown[] };

/** A listener for event `K` of map `E`. */
export type Listener<E extends EventMap, K extends keyof E> = (...args: E[K]) => void;

/**
 * Base class for every lanconf object that emits events.
 *
 * @typeParam E - the event map of the subclass.
 */
export class TypedEmitter<E extends EventMap> {
  #listeners = new Map<keyof E, Array<{ fn: AnyListener; once: boolean }>>();

  /**
   * Where errors thrown by listeners go. Defaults to `console.error`; the relay points it at its logger.
   * A throwing listener never breaks the emitter's caller.
   */
  static onListenerError: (error: unknown, event: string) => void = (error, event) => {
    console.error(`lanconf: a listener for "${event}" threw`, error);
  };

  /** Adds `listener` for `event`. Returns `this` for chaining. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    this.#add(event, listener, false);
    return this;
  }

  /** Adds `listener` for the next `event` only. */
  once<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    this.#add(event, listener, true);
    return this;
  }

  /** Removes `listener` from `event`. */
  off<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const index = list.findIndex((entry) => entry.fn === (listener as unknown));
    if (index >= 0) list.splice(index, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** Removes every listener of `event`, or of every event when called without one. */
  removeAllListeners(event?: keyof E): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /** The number of listeners for `event`. */
  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /**
   * Resolves with the arguments of the next `event`; rejects when `signal` aborts.
   *
   * @example
   * ```ts
   * const [participant] = await session.waitFor('participantJoined');
   * ```
   */
  waitFor<K extends keyof E>(event: K, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        this.off(event, listener);
        if (timer) clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const listener = ((...args: E[K]) => {
        done();
        resolve(args);
      }) as Listener<E, K>;
      const onAbort = (): void => {
        done();
        reject(options.signal?.reason ?? new Error('aborted'));
      };
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${options.timeoutMs} ms waiting for "${String(event)}"`));
        }, options.timeoutMs);
      }
      this.on(event, listener);
    });
  }

  /**
   * Calls every listener of `event` with `args`. A listener that throws is reported and the
   * others still run. Returns `true` when there was at least one listener.
   * @internal
   */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    for (const entry of [...list]) {
      if (entry.once) this.off(event, entry.fn);
      try {
        entry.fn(...args);
      } catch (error) {
        TypedEmitter.onListenerError(error, String(event));
      }
    }
    return true;
  }

  #add<K extends keyof E>(event: K, fn: Listener<E, K>, once: boolean): void {
    let list = this.#listeners.get(event);
    if (!list) this.#listeners.set(event, (list = []));
    list.push({ fn, once });
  }
}
