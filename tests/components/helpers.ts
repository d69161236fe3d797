// Shared by the component tests (they run in Chromium under @web/test-runner).
import { joinMeeting, type Session } from '../../sdk/index.js';

let relayUrl: Promise<string> | undefined;

/** The URL of the relay the test run started (see web-test-runner.config.mjs). */
export function relay(): Promise<string> {
  relayUrl ??= fetch('/__lanconf/relay.json').then((r) => r.json()).then((j: { url: string }) => j.url);
  return relayUrl;
}

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
