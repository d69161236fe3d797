/**
 * Connects an element to the session: from its own `session` property or, failing that, from the
 * nearest provider of {@link sessionContext}; re-renders the element on the session events it names.
 * @module
 */
import { ContextConsumer } from '@lit/context';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Session, SessionEvents } from '../../sdk/index.js';
import { sessionContext } from './context.js';

/** A host element with an optional explicit `session`. */
export type SessionHost = ReactiveControllerHost & HTMLElement & { session?: Session | undefined };

/**
 * Subscribes in `hostConnected`, unsubscribes in `hostDisconnected`, and follows session changes.
 *
 * @example
 * ```ts
 * #s = new SessionController(this, ['chat', 'participantJoined'], () => this.#scrollDown());
 * render() { return html`${this.#s.session?.chat.messages.length}`; }
 * ```
 */
export class SessionController implements ReactiveController {
  readonly #host: SessionHost;
  readonly #events: ReadonlyArray<keyof SessionEvents>;
  readonly #onEvent: ((event: keyof SessionEvents, args: unknown[]) => void) | undefined;
  readonly #consumer: ContextConsumer<typeof sessionContext, SessionHost>;
  #bound: Session | undefined;
  #listeners: Array<[keyof SessionEvents, (...args: unknown[]) => void]> = [];

  /** Attaches to `host`, re-rendering it on `events` (and `stateChanged`); `onEvent` sees each one first. */
  constructor(host: SessionHost, events: ReadonlyArray<keyof SessionEvents>,
    onEvent?: (event: keyof SessionEvents, args: unknown[]) => void) {
    this.#host = host;
    this.#events = events;
    this.#onEvent = onEvent;
    this.#consumer = new ContextConsumer(host, { context: sessionContext, subscribe: true, callback: () => this.#rebind() });
    host.addController(this);
  }

  /** The session in use: the element's own `session` property, else the one provided around it. */
  get session(): Session | undefined {
    return this.#host.session ?? this.#consumer.value;
  }

  hostConnected(): void {
    this.#rebind();
  }

  hostUpdate(): void {
    // The `session` property may have been set since the last render.
    if (this.session !== this.#bound) this.#rebind();
  }

  hostDisconnected(): void {
    this.#unbind();
  }

  #rebind(): void {
    const session = this.session;
    if (session === this.#bound) return;
    this.#unbind();
    this.#bound = session;
    if (!session) return;
    for (const event of [...this.#events, 'stateChanged' as const]) {
      const listener = (...args: unknown[]) => {
        this.#onEvent?.(event, args);
        this.#host.requestUpdate();
      };
      session.on(event, listener as never);
      this.#listeners.push([event, listener]);
    }
    this.#host.requestUpdate();
  }

  #unbind(): void {
    const session = this.#bound;
    if (session) for (const [event, listener] of this.#listeners) session.off(event, listener as never);
    this.#listeners = [];
    this.#bound = undefined;
  }
}
