/**
 * Which web pages may open a WebSocket to the relay (`--allow-origin`). Browsers send the page's origin with
 * every WebSocket handshake and let any page connect anywhere, so without a list any page a person on the LAN
 * visits could join a meeting whose name it guesses. Native clients and Node send no `Origin`: they are not
 * pages, and the list does not apply to them.
 * @module
 * @internal
 */

/** A compiled `--allow-origin` list: exact origins (`https://intranet.example`) and `*` for any. */
export class OriginPolicy {
  readonly #any: boolean;
  readonly #exact: Set<string>;

  /** `list` as given: origins separated by commas or spaces; empty or `*` allows any (the default). */
  constructor(list: readonly string[] = ['*']) {
    const items = list.flatMap((item) => item.split(/[\s,]+/)).filter(Boolean);
    this.#any = items.length === 0 || items.includes('*');
    this.#exact = new Set(items.filter((o) => o !== '*').map(normalizeOrigin));
  }

  /** `true` when any origin may connect. */
  get any(): boolean {
    return this.#any;
  }

  /**
   * `true` when a handshake with this `Origin` header may go on. `selfOrigins`: the relay's own origins
   * (its demo page), always allowed.
   */
  allows(origin: string | undefined, selfOrigins: readonly string[] = []): boolean {
    if (this.#any || origin === undefined) return true;
    let normalized: string;
    try {
      normalized = normalizeOrigin(origin);
    } catch {
      return false;
    }
    return this.#exact.has(normalized) || selfOrigins.some((o) => o === normalized);
  }
}

/** `scheme://host[:port]` in lower case, the default port dropped, as browsers send it. */
export function normalizeOrigin(origin: string): string {
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`an origin is http(s)://host[:port], not ${origin}`);
  return url.origin.toLowerCase();
}
