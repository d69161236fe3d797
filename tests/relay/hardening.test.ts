// Hardening of the relay's join, chat and liveness paths: passcode guessing, chat resends that scan the
// history, connections kept alive by datagrams while their stream is stalled, and chat that outlives its
// meeting. Each attack runs beside an honest pair that must lose nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test, type TestContext } from 'node:test';
import WebSocket from 'ws';
import type { Session } from '../../sdk/Session.js';
import { PacketType, binaryFrameHeader, encodeUdpBind, randomId } from '../../sdk/protocol/index.js';
import { Store } from '../../relay/store/Store.js';
import { runCli } from '../cli-process.js';
import { RawTcp, RawUdp, join, joinMessage, leaveAll, pattern, sleep, startRelay, until, withTimeout } from '../helpers.js';

/** Sends one join from `localAddress` over WebSocket; resolves with the relay's answer (welcome or error). */
function joinFrom(wsUrl: string, localAddress: string, meeting: string, passcode: string): Promise<Record<string, unknown>> {
  return withTimeout(new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { localAddress, perMessageDeflate: false });
    ws.on('open', () => ws.send(joinMessage(meeting, 'Guess', 'websocket', { passcode })));
    ws.on('message', (data) => {
      const message = JSON.parse(String(data)) as Record<string, unknown>;
      if (message.type === 'welcome' || message.type === 'error') {
        resolve(message);
        ws.terminate();
      }
    });
    ws.on('error', reject);
  }), 5000, 'an answer to a join');
}

/** An honest pair in its own meeting: Ana sends 20 frames a second; `lost()` counts what Ben did not get. */
async function honestPair(t: TestContext, url: string, extra: Record<string, unknown> = {}): Promise<{ ana: Session; ben: Session; stop(): Promise<{ sent: number; received: number }> }> {
  const ana = await join(url, 'Honest', 'Ana', extra);
  const ben = await join(url, 'Honest', 'Ben', extra);
  t.after(() => leaveAll([ana, ben]));
  const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  await until(() => ben.tracks.has(camera.id), 'Ben sees the camera');
  let received = 0;
  ben.tracks.get(camera.id)!.on('frame', () => received++);
  let sent = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      if (camera.send({ data: pattern(4000, sent) })) sent++;
      await sleep(50);
    }
  })();
  return {
    ana, ben,
    async stop() {
      running = false;
      await loop;
      await until(() => received === sent, () => `Ben got every frame (${received} of ${sent})`, 3000);
      return { sent, received };
    },
  };
}

test('passcode guessing from one address is slowed, then locked out, and logged; a right passcode from another address is not slowed', { timeout: 40_000 }, async (t) => {
  const lines: string[] = [];
  const { relay, url, wsUrl } = await startRelay({
    passcode: '4821', passcodeAttempts: { freeFailures: 3, baseDelayMs: 400, maxDelayMs: 1500 },
    log: (level, message, fields) => lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
  });
  t.after(() => relay.close());
  const pair = await honestPair(t, url, { passcode: '4821' });

  const answers: Array<Record<string, unknown>> = [];
  for (let guess = 0; guess < 8; guess++) answers.push(await joinFrom(wsUrl, '127.0.0.2', 'Honest', String(1000 + guess)));
  assert.deepEqual(answers.slice(0, 4).map((a) => a.code), ['LAN_ERR_BAD_PASSCODE', 'LAN_ERR_BAD_PASSCODE', 'LAN_ERR_BAD_PASSCODE', 'LAN_ERR_BAD_PASSCODE']);
  assert.match(String(answers[3]!.message), /wrong passcode; try again in 1 s/, 'the fourth wrong one makes the address wait');
  for (const a of answers.slice(4)) {
    assert.equal(a.code, 'LAN_ERR_RATE_LIMITED');
    assert.match(String(a.message), /too many wrong passcodes from 127\.0\.0\.2: try again in \d+ s/);
  }
  // While it waits, even the right passcode from that address is refused without being looked at.
  assert.equal((await joinFrom(wsUrl, '127.0.0.2', 'Honest', '4821')).code, 'LAN_ERR_RATE_LIMITED');
  // Another address is not slowed.
  assert.equal((await joinFrom(wsUrl, '127.0.0.3', 'Honest', '4821')).type, 'welcome');
  const failures = lines.filter((l) => l.startsWith('warn wrong passcode from 127.0.0.2 for "Honest"'));
  assert.equal(failures.length, 4, `each checked failure is logged with address and meeting:\n${lines.join('\n')}`);
  assert.match(failures[3]!, /\(4 in a row; next try in 1 s\) \{"address":"127\.0\.0\.2","meeting":"Honest"\}/);
  // Once the wait is over, the address may try again, and a right passcode resets it.
  await sleep(1600);
  assert.equal((await joinFrom(wsUrl, '127.0.0.2', 'Honest', '4821')).type, 'welcome');
  assert.equal((await joinFrom(wsUrl, '127.0.0.2', 'Honest', '0000')).code, 'LAN_ERR_BAD_PASSCODE', 'counting starts afresh after a success');
  const { sent } = await pair.stop();
  assert.ok(sent > 20);
});

test('chat resends of old sequence numbers are looked up by index: a flood of them stalls nobody', { timeout: 60_000 }, async (t) => {
  // A meeting with 10 000 chat rows, as after a long day.
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-chat-index-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const store = new Store(dataDir);
  for (let i = 0; i < 10_000; i++) store.addChat('Busy', { id: randomId(), from: randomId(), name: 'old', text: `message ${i}`, ts: Date.now(), seq: i });
  store.close();
  // The relay in its own process, as in real life: a stall there delays the honest pair's frames, which keep coming.
  const cli = runCli(t, ['--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--udp-port', '0', '--tls', 'off', '--data-dir', dataDir]);
  const url = (await cli.waitFor(/http:\/\/127\.0\.0\.1:\d+\//, 20_000))[0];
  const tcpPort = Number((await cli.waitFor(/TCP (\d+),/))[1]);
  const pair = await honestPair(t, url);

  const attackers = await Promise.all(Array.from({ length: 10 }, (_, i) => RawTcp.join(tcpPort, 'Busy', `Mallory ${i}`)));
  t.after(() => attackers.forEach((a) => a.client.close()));
  for (const { client } of attackers) client.sendJson({ type: 'chat', seq: 1_000_000, text: 'first' });
  await Promise.all(attackers.map(({ client }) => client.next('chatAck')));
  // Each resend names a sequence never delivered: the relay looks it up in the history and refuses it.
  for (let round = 0; round < 3; round++) {
    for (const { client } of attackers) for (let seq = 0; seq < 90; seq++) client.sendJson({ type: 'chat', seq: round * 100 + seq, text: 'again' });
    await sleep(1000);
  }
  const refused = attackers.reduce((n, { client }) => n + client.messages.filter((m) => m.type === 'error').length, 0);
  assert.ok(refused > 500, `the resends were looked up and refused (${refused})`);
  const { sent, received } = await pair.stop();
  assert.equal(received, sent);
});

test('a native client whose stream is stalled mid-frame is removed even while it sends UDP binds', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay({ peerTimeoutMs: 1500 });
  t.after(() => relay.close());
  const pair = await honestPair(t, url, { transport: 'native' });
  const { client, welcome } = await RawTcp.join(relay.addresses!.tcpPort, 'Stall', 'Mallory');
  t.after(() => client.close());
  const udp = await RawUdp.open();
  t.after(() => udp.close());
  // A media frame declared as 4 MiB, left one byte short: nothing after it (a ping) can ever be read.
  const payload = Buffer.alloc(4 * 1024 * 1024 - 1);
  payload[0] = PacketType.Media;
  client.socket.write(binaryFrameHeader(4 * 1024 * 1024));
  client.socket.write(payload);
  const binds = setInterval(() => void udp.send(encodeUdpBind(welcome.udp!.token), relay.addresses!.udpPort).catch(() => undefined), 300);
  t.after(() => clearInterval(binds));
  await client.waitClosed(8000);
  clearInterval(binds);
  await until(() => !relay.rooms.has('Stall'), 'Mallory is gone from the meeting', 25_000);
  await pair.stop();
});

test('a meeting\'s chat goes once its retention after it emptied is over; a later meeting of that name starts empty', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay({ chatRetentionMs: 1000, fileRetentionMs: 3_600_000 });
  t.after(() => relay.close());
  const ana = await join(url, 'Class', 'Ana');
  await ana.chat.send('homework: page 12');
  await ana.leave();
  // Within the retention, the meeting is the same meeting: its history is there.
  const early = await join(url, 'Class', 'Ben');
  assert.deepEqual(early.chat.messages.map((m) => m.text), ['homework: page 12']);
  await early.leave();
  // Empty for longer than the retention: the chat is gone.
  await sleep(2600);
  const later = await join(url, 'Class', 'Cy');
  t.after(() => leaveAll([later]));
  assert.deepEqual(later.chat.messages.map((m) => m.text), [], 'a later meeting of the same name starts with no history');
  // Another meeting, still going, keeps its history all along.
  const kept = await join(url, 'Staff', 'Dee');
  t.after(() => leaveAll([kept]));
  await kept.chat.send('lunch at 12');
  await sleep(2500);
  const dee2 = await join(url, 'Staff', 'Eve');
  t.after(() => leaveAll([dee2]));
  assert.deepEqual(dee2.chat.messages.map((m) => m.text), ['lunch at 12']);
});
