/**
 * Connections that never speak, and too many from one address: each is closed in bounded time, an honest
 * pair beside them keeps its service, and a relay with such connections still shuts down promptly.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test, type TestContext } from 'node:test';
import { joinMeeting } from '../../sdk/node.js';
import type { Session } from '../../sdk/Session.js';
import { encodeTextFrame } from '../../sdk/protocol/index.js';
import { runCli } from '../cli-process.js';
import { HOST, assertRelayServes, joinMessage, leaveAll, sleep, startRelay, until, withTimeout } from '../helpers.js';

/** A socket to `port` that never sends a byte; `closed` turns true when the other end closes it. */
interface Silent {
  socket: Socket;
  closed: boolean;
}

async function silent(t: TestContext, port: number, localAddress = HOST): Promise<Silent> {
  const socket = netConnect({ host: HOST, port, localAddress });
  const entry: Silent = { socket, closed: false };
  socket.on('close', () => (entry.closed = true));
  socket.on('error', () => { /* reset by the relay */ });
  socket.resume(); // so the relay's close is seen whatever it sends first
  t.after(() => socket.destroy());
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  return entry;
}

/** Ana over WSS and Cy over TLS + UDP, both trusting the relay's certificate. */
async function honestPair(t: TestContext, port: number, cert: string, meeting: string): Promise<Session[]> {
  const https = `https://${HOST}:${port}`;
  const ana = await joinMeeting({ url: https, meeting, name: 'Ana', tls: { ca: cert }, timeoutMs: 5000 });
  const cy = await joinMeeting({ url: https, meeting, name: 'Cy', transport: 'native', tls: { ca: cert }, timeoutMs: 5000 });
  t.after(() => leaveAll([ana, cy]));
  await until(() => ana.participants.size === 1 && cy.participants.size === 1, 'the honest pair sees each other');
  return [ana, cy];
}

test('relay closes TLS connections that never finish their handshake, on the HTTPS and the TCP listener; an honest pair keeps chatting', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await startRelay({ tls: 'on', handshakeTimeoutMs: 500 });
  t.after(() => relay.close());
  const [ana, cy] = await honestPair(t, addresses.port, relay.certificate!, 'Honest');
  const idle: Silent[] = [];
  for (let i = 0; i < 30; i++) idle.push(await silent(t, addresses.port), await silent(t, addresses.tcpPort));
  // A client that starts a handshake and stalls in the middle of it: half a ClientHello.
  const stalled = await silent(t, addresses.tcpPort);
  stalled.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc]));
  idle.push(stalled);

  // While they sit there, the honest pair chats.
  for (let i = 0; i < 5; i++) {
    await ana!.chat.send(`message ${i}`);
    await sleep(100);
  }
  await until(() => cy!.chat.messages.filter((m) => m.text.startsWith('message ')).length === 5, 'Cy got all 5 messages');
  await until(() => idle.every((s) => s.closed), () => `every silent connection was closed (${idle.filter((s) => !s.closed).length} of ${idle.length} still open)`, 10_000);
  assert.ok(relay.stats.tlsHandshakeFailures >= idle.length, `${relay.stats.tlsHandshakeFailures} handshake failures counted`);
  assert.equal(ana!.state, 'connected');
  assert.equal(cy!.state, 'connected');
});

test('relay closes a TLS connection that finished its handshake but never joins (HTTPS and TCP)', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await startRelay({ tls: 'on', handshakeTimeoutMs: 500, joinTimeoutMs: 1500 });
  t.after(() => relay.close());
  const [ana, cy] = await honestPair(t, addresses.port, relay.certificate!, 'Honest');
  const quiet = await Promise.all([addresses.port, addresses.tcpPort].map((port) => new Promise<{ closed: boolean }>((resolve, reject) => {
    const socket = tlsConnect({ host: HOST, port, ca: relay.certificate!, servername: 'localhost', checkServerIdentity: () => undefined });
    const entry = { closed: false };
    socket.on('close', () => (entry.closed = true));
    socket.on('error', () => { /* closed by the relay */ });
    socket.resume(); // reads what the relay says (a 408, an error), so its end is seen
    socket.once('secureConnect', () => resolve(entry));
    socket.once('error', reject);
    t.after(() => socket.destroy());
  })));
  await until(() => quiet.every((q) => q.closed), () => `both handshaken-but-silent connections were closed (${quiet.map((q) => q.closed)})`, 8000);
  await ana!.chat.send('still here');
  await until(() => cy!.chat.messages.some((m) => m.text === 'still here'), 'the honest pair still chats');
});

test('relay refuses connections past maxConnectionsPerAddress from one address, and serves other addresses', { timeout: 30_000 }, async (t) => {
  const started = await startRelay({ maxConnectionsPerAddress: 10 });
  t.after(() => started.relay.close());
  const ana = await joinMeeting({ url: started.url, meeting: 'Honest', name: 'Ana', timeoutMs: 5000 });
  t.after(() => ana.leave());
  // 127.0.0.2 opens 20 connections over both listeners: the first 10 are taken, the next 10 closed at once.
  const other = '127.0.0.2';
  const sockets: Silent[] = [];
  for (let i = 0; i < 10; i++) sockets.push(await silent(t, started.addresses.port, other), await silent(t, started.addresses.tcpPort, other));
  await until(() => started.relay.stats.connectionsRefused === 10, () => `10 refused (${started.relay.stats.connectionsRefused})`);
  await until(() => sockets.filter((s) => s.closed).length === 10, () => `10 closed (${sockets.filter((s) => s.closed).length})`);
  assert.deepEqual(sockets.slice(0, 10).map((s) => s.closed), new Array(10).fill(false), 'the first 10 stay open');

  // 127.0.0.1 is not affected: a new participant joins and chats with Ana.
  await assertRelayServes(started.url, ana, 'a full address');
  // Once 127.0.0.2 closes its connections, it may connect and join again.
  for (const s of sockets) s.socket.destroy();
  const refusedBefore = started.relay.stats.connectionsRefused;
  await sleep(200);
  const again = netConnect({ host: HOST, port: started.addresses.tcpPort, localAddress: other });
  t.after(() => again.destroy());
  let received = '';
  again.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  again.on('error', () => { /* checked below */ });
  again.write(encodeTextFrame(joinMessage('Honest', 'Back', 'native')));
  await until(() => received.includes('"welcome"'), 'the address joins again once its connections are closed');
  assert.equal(started.relay.stats.connectionsRefused, refusedBefore);
});

test('relay.close() ends promptly with TLS connections stuck in their handshake', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await startRelay({ tls: 'on' }); // the default 5 s handshake timeout
  const idle: Silent[] = [];
  for (let i = 0; i < 5; i++) idle.push(await silent(t, addresses.port), await silent(t, addresses.tcpPort));
  await withTimeout(relay.close(), 2500, 'relay.close() with connections in their TLS handshake');
  await until(() => idle.every((s) => s.closed), 'every connection was closed', 1000);
});

test('lanconf-relay exits on SIGTERM while a connection sits in its TLS handshake', { timeout: 40_000 }, async (t) => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-limits-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const cli = runCli(t, ['--host', HOST, '--port', '0', '--tcp-port', '0', '--udp-port', '0', '--tls', 'on', '--data-dir', dataDir]);
  const port = Number((await cli.waitFor(/https:\/\/127\.0\.0\.1:(\d+)\//, 20_000))[1]);
  const tcpPort = Number((await cli.waitFor(/TCP (\d+),/))[1]);
  const idle = [await silent(t, port), await silent(t, tcpPort)];
  await cli.waitFor(/Press Ctrl-C/);
  cli.child.kill('SIGTERM');
  const code = await withTimeout(cli.exited, 2500, 'the relay exiting after SIGTERM');
  assert.equal(code, 0, cli.err());
  await until(() => idle.every((s) => s.closed), 'the idle connections were closed', 1000);
});
