/**
 * Telling "this browser does not trust the relay yet" from "the relay is down", for an `https:` relay
 * that a page on another origin cannot reach. Browsers refuse an untrusted certificate for a WebSocket
 * without a word, so the only clue is that the same relay answers on plain HTTP (its trust page, on the
 * same port) while HTTPS fails — which a page can check only when it is itself plain HTTP (an HTTPS page
 * may not fetch plain HTTP).
 * @module
 * @internal
 */
import { UntrustedRelayError, type LanError } from './errors.js';
import type { RelayUrls } from './url.js';

/** The relay's trust page: plain HTTP on the relay's port. */
export function trustUrlOf(urls: RelayUrls, meeting?: string): string {
  const base = urls.http.replace(/^https:/, 'http:');
  return `${base}trust${meeting ? `?meeting=${encodeURIComponent(meeting)}` : ''}`;
}

/**
 * Given `error`, a failure to reach the relay at `urls`, returns an {@link UntrustedRelayError} when the
 * certificate is (or, from an HTTPS page, is likely) the cause, else `error` as it was. `pageOrigin`: the
 * embedding page's origin (`location.origin`), `undefined` outside a page.
 */
export async function explainUnreachable(error: LanError, urls: RelayUrls, meeting: string, pageOrigin: string | undefined,
  fetcher: typeof fetch | undefined = globalThis.fetch): Promise<LanError> {
  if (error.code !== 'LAN_ERR_UNREACHABLE' || !urls.secure || pageOrigin === undefined) return error;
  const relayOrigin = new URL(urls.http).origin;
  // The page came from the relay itself: its certificate was accepted; something else is wrong.
  if (relayOrigin === pageOrigin) return error;
  const trustUrl = trustUrlOf(urls, meeting);
  if (pageOrigin.startsWith('https:') || !fetcher) return new UntrustedRelayError(urls.http, trustUrl, false, { cause: error });
  try {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 3000);
    const answer = await fetcher(trustUrl, { mode: 'cors', cache: 'no-store', signal: controller.signal }).finally(() => clearTimeout(timer));
    // It answers on plain HTTP: up, and so the HTTPS failure is the certificate.
    if (answer.ok) return new UntrustedRelayError(urls.http, trustUrl, true, { cause: error });
  } catch {
    // Not answering on plain HTTP either: the relay is down or the address is wrong.
  }
  return error;
}
