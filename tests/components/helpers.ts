// Shared by the component tests (they run in Chromium under @web/test-runner).
import { joinMeeting, type Session } from '../../sdk/index.js';

interface RelayInfo {
  url: string;
  guardedUrl: string;
  untrustedUrl: string;
}

let relays: Promise<RelayInfo> | undefined;

function relayInfo(): Promise<RelayInfo> {
  relays ??= fetch('/__lanconf/relay.json').then((r) => r.json() as Promise<RelayInfo>);
  return relays;
}

/** The URL of the relay the test run started (see web-test-runner.config.mjs). */
export async function relay(): Promise<string> {
  return (await relayInfo()).url;
}

/** The URL of the test run's second relay, which asks for the passcode {@link TEST_PASSCODE}. */
export async function guardedRelay(): Promise<string> {
  return (await relayInfo()).guardedUrl;
}

/**
 * The URL (`https://127.0.0.1:PORT`) of the test run's third relay: TLS from its own certificate authority,
 * which this Chromium does not trust. Its plain-HTTP routes (`/trust`, `/trust/qr.svg`) answer on the same port.
 */
export async function untrustedRelay(): Promise<string> {
  return (await relayInfo()).untrustedUrl;
}

/** The passcode of {@link guardedRelay}. */
export const TEST_PASSCODE = 'letmein';

let counter = 0;

/** A meeting id no other test uses. */
export function uniqueMeeting(prefix = 'T'): string {
  return `${prefix}-${Date.now().toString(36)}-${counter++}`;
}

/** Joins the test relay over WebSocket (no media unless asked). */
export async function joinTest(meeting: string, name: string): Promise<Session> {
  return joinMeeting({ url: await relay(), meeting, name });
}

/** Resolves when `predicate` holds, polling every 20 ms; rejects after `timeoutMs`. */
export async function waitUntil(predicate: () => unknown, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
