import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RelayError } from '../../sdk/errors.js';
import type { Session } from '../../sdk/Session.js';
import { RawTcp, RawWs, join, leaveAll, sleep, startRelay, until } from '../helpers.js';

test('a raw client that joins then goes silent is cut after peerTimeoutMs, held resumeGraceMs, then the others get participantLeft', { timeout: 15_000 }, async (t) => {
  const { relay, wsUrl, addresses } = await startRelay({ peerTimeoutMs: 1500, resumeGraceMs: 1000 });
  const raws: Array<RawWs | RawTcp> = [];
  const timers: Array<ReturnType<typeof setInterval>> = [];
  t.after(async () => {
    for (const timer of timers) clearInterval(timer);
    for (const r of raws) r.close();
    await relay.close();
  });
  // Two observers that keep talking (one per transport), so only the silent one times out.
  const { client: wsObserver } = await RawWs.join(wsUrl, 'Live', 'WS observer');
  const { client: tcpObserver } = await RawTcp.join(addresses.tcpPort, 'Live', 'TCP observer');
  raws.push(wsObserver, tcpObserver);
  for (const o of [wsObserver, tcpObserver]) timers.push(setInterval(() => o.sendJson({ type: 'ping', t: Date.now() }), 300));

  const { client: silent, welcome } = await RawWs.join(wsUrl, 'Live', 'Silent');
  raws.push(silent);
  const joinedAt = Date.now();
  await silent.waitClosed(4000);
  const elapsed = Date.now() - joinedAt;
  assert.ok(elapsed >= 1400, `removed after the timeout, not before (${elapsed} ms)`);
  const error = silent.messages.find((m) => m.type === 'error');
  assert.equal(error?.code, 'LAN_ERR_TIMEOUT');
  assert.equal(error?.fatal, true);

  const cutAt = Date.now();
  for (const o of [wsObserver, tcpObserver]) {
    const left = await o.next('participantLeft', 3500, (m) => m.participantId === welcome.you.id);
    assert.ok(Date.now() - cutAt >= 900, `held for a resume first (${Date.now() - cutAt} ms)`);
    assert.equal(typeof left.reason, 'string');
    assert.equal(o.closed, false, 'an observer that keeps pinging stays');
  }
  assert.equal(relay.rooms.get('Live')?.participants.size, 2);
});

test('an SDK session is not removed by a relay with peerTimeoutMs 1500: its pings keep it alive', { timeout: 15_000 }, async (t) => {
  const { relay, url } = await startRelay({ peerTimeoutMs: 1500 });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Idle', 'Ana');
  const cy = await join(url, 'Idle', 'Cy', { transport: 'native' });
  sessions.push(ana, cy);
  const gone: string[] = [];
  for (const s of sessions) s.on('disconnected', (error) => gone.push(`${s.local.name}: ${error?.code ?? 'no reason given'}`));
  await sleep(3500);
  assert.deepEqual(gone, [], 'idle but healthy sessions stay connected');
  assert.equal(relay.rooms.get('Idle')?.participants.size, 2);
});

test('when the relay ends a session with a fatal error, disconnected carries that error; after a timeout the session resumes instead', { timeout: 20_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const reasons: Record<string, string | undefined> = {};
  for (const transport of ['websocket', 'native'] as const) {
    const s = await join(url, 'Fatal', `Victim ${transport}`, { transport });
    sessions.push(s);
    const disconnected = s.waitFor('disconnected', { timeoutMs: 3000 });
    relay.rooms.get('Fatal')!.participants.get(s.local.id)!.sendError(new RelayError('LAN_ERR_INVALID_MESSAGE', 'too many invalid messages'), { fatal: true });
    const [error] = await disconnected;
    assert.equal(s.state, 'closed');
    reasons[transport] = error?.code;
  }
  assert.deepEqual(reasons, { websocket: 'LAN_ERR_INVALID_MESSAGE', native: 'LAN_ERR_INVALID_MESSAGE' }, 'disconnected says why on both transports');
  // The relay cut a participant it had not heard from: that is the network, so the client comes back as itself.
  for (const transport of ['websocket', 'native'] as const) {
    const s = await join(url, 'Fatal', `Survivor ${transport}`, { transport });
    sessions.push(s);
    const states: string[] = [];
    s.on('stateChanged', (state) => states.push(state));
    const id = s.local.id;
    relay.rooms.get('Fatal')!.participants.get(id)!.sendError(new RelayError('LAN_ERR_TIMEOUT', 'nothing heard'), { fatal: true });
    await until(() => states.join() === 'reconnecting,connected', () => `reconnecting then connected (${states.join()})`, 5000);
    assert.equal(s.local.id, id);
    assert.equal(relay.rooms.get('Fatal')!.participants.get(id)?.connection?.closed, false, 'the relay holds the participant on the new connection');
  }
});

test('a connection that does not join within joinTimeoutMs is closed, on WebSocket and TCP', { timeout: 15_000 }, async (t) => {
  const { relay, url, wsUrl, addresses } = await startRelay({ joinTimeoutMs: 300 });
  const raws: Array<RawWs | RawTcp> = [];
  const sessions: Session[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.close();
  });
  const steady = await join(url, 'JoinTimeout', 'Steady');
  sessions.push(steady);
  const ws = await RawWs.open(wsUrl);
  const tcp = await RawTcp.open(addresses.tcpPort);
  raws.push(ws, tcp);
  const openedAt = Date.now();
  await Promise.all([ws.waitClosed(3000), tcp.waitClosed(3000)]);
  assert.ok(Date.now() - openedAt >= 250, 'not closed before the timeout');
  assert.equal(ws.messages.find((m) => m.type === 'error')?.code, 'LAN_ERR_TIMEOUT');
  assert.equal(tcp.messages.find((m) => m.type === 'error')?.code, 'LAN_ERR_TIMEOUT');
  assert.equal(ws.closeCode, 1008);
  // The joined session is not affected by the join timeout.
  await sleep(600);
  assert.equal(steady.state, 'connected');
  await until(() => relay.rooms.get('JoinTimeout')?.participants.size === 1, 'the steady session is still in');
  const sent = await steady.chat.send('still here');
  assert.equal(sent.text, 'still here');
});
