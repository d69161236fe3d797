/**
 * One address for everything: the relay's base URL in any of `ws://`, `wss://`, `http://`, `https://`.
 * @module
 * @internal
 */

/** The relay's URLs derived from what the user gave. */
export interface RelayUrls {
  /** WebSocket URL. */
  ws: string;
  /** HTTP(S) base URL (for `/.well-known/lanconf` and the bundles). */
  http: string;
  /** Host name or IP (no brackets). */
  hostname: string;
  /** `true` for `wss:`/`https:`. */
  secure: boolean;
}

/**
 * Parses a relay URL. A bare `host:port` is taken as `http://host:port`.
 * @throws TypeError when the URL is not one of the four schemes.
 */
export function relayUrls(input: string | URL): RelayUrls {
  let text = String(input).trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`not a relay URL: ${JSON.stringify(String(input))}`);
  }
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol)) {
    throw new TypeError(`a relay URL starts with ws://, wss://, http:// or https://, not ${url.protocol}//`);
  }
  const host = url.host;
  const path = url.pathname.replace(/\/+$/, '');
  return {
    ws: `${secure ? 'wss' : 'ws'}://${host}${path}/`,
    http: `${secure ? 'https' : 'http'}://${host}${path}/`,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    secure,
  };
}
