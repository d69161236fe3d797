import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { LanError } from '../../sdk/errors.js';
import type { Session } from '../../sdk/Session.js';
import { join, leaveAll, startRelay, withTimeout, HOST } from '../helpers.js';

async function rejection(promise: Promise<unknown>, what: string): Promise<LanError> {
  try {
    await withTimeout(promise, 8000, what);
  } catch (error) {
    assert.ok(error instanceof LanError, `${what}: a LanError, got ${String(error)}`);
    return error;
  }
  assert.fail(`${what}: expected a rejection`);
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('a wrong or missing passcode is refused with LAN_ERR_BAD_PASSCODE on both transports; the right one joins', { timeout: 20_000 }, async (t) => {
  // Guessing limits have their own test (hardening.test.ts): here every refusal is a plain wrong passcode.
  const { relay, url } = await startRelay({ passcode: 'blue-door', passcodeAttempts: { freeFailures: 100 } });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  for (const transport of ['websocket', 'native'] as const) {
    const wrong = await rejection(join(url, 'Locked', 'Eve', { transport, passcode: 'red-door' }), `${transport} join with a wrong passcode`);
    assert.equal(wrong.code, 'LAN_ERR_BAD_PASSCODE');
    const missing = await rejection(join(url, 'Locked', 'Eve', { transport }), `${transport} join without a passcode`);
    assert.equal(missing.code, 'LAN_ERR_BAD_PASSCODE');
  }
  assert.equal(relay.rooms.size, 0, 'a refused join creates no meeting');

  const ana = await join(url, 'Locked', 'Ana', { passcode: 'blue-door' });
  sessions.push(ana);
  const cy = await join(url, 'Locked', 'Cy', { transport: 'native', passcode: 'blue-door' });
  sessions.push(cy);
  assert.equal(ana.state, 'connected');
  assert.equal(cy.state, 'connected');
  assert.ok(cy.participants.has(ana.local.id));
  assert.equal(relay.rooms.get('Locked')?.participants.size, 2);
  const info = await (await fetch(`${url}/.well-known/lanconf`)).json() as { passcode: boolean };
  assert.equal(info.passcode, true);
});

test('joining a relay that is not there rejects with LAN_ERR_UNREACHABLE on both transports', { timeout: 20_000 }, async () => {
  const port = await closedPort();
  for (const transport of ['websocket', 'native'] as const) {
    const error = await rejection(join(`http://${HOST}:${port}`, 'Nowhere', 'Ana', { transport }), `${transport} join of a closed port`);
    assert.equal(error.code, 'LAN_ERR_UNREACHABLE', `${transport}: ${error.message}`);
  }
});
