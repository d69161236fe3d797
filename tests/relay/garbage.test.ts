import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { encodeTextFrame } from '../../sdk/protocol/index.js';
import {
  HOST, RawTcp, RawUdp, RawWs, assertRelayServes, join, joinMessage, leaveAll, pattern, sleep, startRelay, until, withTimeout,
  type TestRelay,
} from '../helpers.js';

interface Scene extends TestRelay {
  /** A WebSocket participant and a native one, already chatting: they must not notice the garbage. */
  ws: Session;
  native: Session;
  cleanup: Array<() => void>;
  /** Disconnections and errors seen by the steady participants. */
  incidents: string[];
}

async function scene(t: TestContext, meeting: string, options: Parameters<typeof startRelay>[0] = {}): Promise<Scene> {
  const started = await startRelay(options);
  const sessions: Session[] = [];
  const cleanup: Array<() => void> = [];
  t.after(async () => {
    for (const c of cleanup) c();
    await leaveAll(sessions);
    await started.relay.close();
  });
  const ws = await join(started.url, meeting, 'Steady WS');
  const native = await join(started.url, meeting, 'Steady Native', { transport: 'native' });
  sessions.push(ws, native);
  // Neither steady participant may be disconnected or see an error while the garbage flies.
  const incidents: string[] = [];
  for (const s of sessions) {
    s.on('disconnected', (error) => incidents.push(`${s.local.name} was disconnected: ${error?.code}`));
    s.on('error', (error) => incidents.push(`${s.local.name} got an error: ${error.code}`));
  }
  return { ...started, ws, native, cleanup, incidents };
}

async function stillServes(s: Scene, label: string): Promise<void> {
  await assertRelayServes(s.url, s.ws, label);
  await assertRelayServes(s.url, s.native, `${label} (native)`);
  assert.deepEqual(s.incidents, [], `the steady participants noticed nothing of ${label}`);
}

test('WebSocket garbage: not-JSON text before join gets LAN_ERR_BAD_JSON then a close; the relay serves on', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageWsText');
  const raw = await RawWs.open(s.wsUrl);
  s.cleanup.push(() => raw.close());
  raw.ws.send('not json');
  const error = await raw.next('error');
  assert.equal(error.code, 'LAN_ERR_BAD_JSON');
  assert.equal(error.fatal, true);
  await raw.waitClosed();
  assert.equal(raw.closeCode, 1008);
  await stillServes(s, 'text garbage');

  // Valid JSON that is not a join, before join: refused and closed too.
  const early = await RawWs.open(s.wsUrl);
  s.cleanup.push(() => early.close());
  early.sendJson({ type: 'chat', text: 'hi', seq: 0 });
  assert.equal((await early.next('error')).code, 'LAN_ERR_NOT_JOINED');
  await early.waitClosed();
  // A prototype-polluting join is just invalid.
  const proto = await RawWs.open(s.wsUrl);
  s.cleanup.push(() => proto.close());
  proto.ws.send('{"type":"__proto__","polluted":true}');
  assert.equal((await proto.next('error')).code, 'LAN_ERR_UNKNOWN_TYPE');
  await proto.waitClosed();
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  await stillServes(s, 'early messages');
});

test('WebSocket garbage: binary garbage after join gets an error and the connection stays usable', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageWsBinary');
  const { client: raw } = await RawWs.join(s.wsUrl, 'GarbageWsBinary', 'Binary Junk');
  s.cleanup.push(() => raw.close());
  raw.sendBinary(pattern(7, 1)); // shorter than the header
  raw.sendBinary(Uint8Array.from([0x7f, ...pattern(100, 2)])); // unknown packet type
  await until(() => raw.messages.filter((m) => m.type === 'error').length === 2, 'two errors', 3000);
  const codes = raw.messages.filter((m) => m.type === 'error').map((m) => m.code);
  assert.deepEqual(codes, ['LAN_ERR_SHORT_HEADER', 'LAN_ERR_BAD_PACKET_TYPE']);
  assert.equal(raw.closed, false);
  // Still a participant: its chat is delivered.
  raw.sendJson({ type: 'chat', text: 'after junk', seq: 0 });
  const ack = await raw.next('chatAck');
  assert.equal(ack.seq, 0);
  await until(() => s.ws.chat.messages.some((m) => m.text === 'after junk'), 'the raw client\'s chat arrives');
  await stillServes(s, 'binary garbage');

  // Binary before join: refused and closed.
  const unjoined = await RawWs.open(s.wsUrl);
  s.cleanup.push(() => unjoined.close());
  unjoined.sendBinary(pattern(64, 3));
  assert.equal((await unjoined.next('error')).code, 'LAN_ERR_NOT_JOINED');
  await unjoined.waitClosed();
});

test('WebSocket garbage: a 10 MB message closes that connection only', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageWsHuge');
  const { client: raw } = await RawWs.join(s.wsUrl, 'GarbageWsHuge', 'Huge');
  s.cleanup.push(() => raw.close());
  const left = s.ws.waitFor('participantLeft', { timeoutMs: 5000 });
  raw.sendBinary(pattern(10 * 1024 * 1024, 4));
  await raw.waitClosed(5000);
  assert.ok(raw.closeCode === 1009 || raw.closeCode === 1006, `closed with 1009 (too big), got ${raw.closeCode}`);
  const [who] = await left;
  assert.equal(who.name, 'Huge');
  await stillServes(s, 'a 10 MB message');
});

test('TCP garbage: an HTTP request or random bytes on the native port get an error frame and a close', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageTcp');
  const http = await RawTcp.open(s.addresses.tcpPort);
  s.cleanup.push(() => http.close());
  http.socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  await http.waitClosed();
  const httpError = http.messages.find((m) => m.type === 'error');
  assert.ok(httpError, 'an error frame before the close');
  assert.match(String(httpError.code), /^LAN_ERR_(BAD_PACKET_TYPE|TOO_LARGE)$/);
  await stillServes(s, 'an HTTP request on TCP');

  const random = await RawTcp.open(s.addresses.tcpPort);
  s.cleanup.push(() => random.close());
  const junk = pattern(4096, 5);
  junk[4] = 0x00; // whatever the length says, opcode 0 is no frame
  random.socket.write(junk);
  await random.waitClosed();
  assert.ok(random.messages.some((m) => m.type === 'error') || random.received === 0, 'an error frame or a bare close');
  await stillServes(s, 'random bytes on TCP');

  // A frame too large for the relay, announced in the header.
  const big = await RawTcp.open(s.addresses.tcpPort);
  s.cleanup.push(() => big.close());
  big.socket.write(Uint8Array.of(0x7f, 0xff, 0xff, 0xff, 0x01));
  assert.equal((await big.next('error')).code, 'LAN_ERR_TOO_LARGE');
  await big.waitClosed();

  // Not-JSON text in a well-formed frame.
  const text = await RawTcp.open(s.addresses.tcpPort);
  s.cleanup.push(() => text.close());
  text.socket.write(encodeTextFrame('not json'));
  assert.equal((await text.next('error')).code, 'LAN_ERR_BAD_JSON');
  await text.waitClosed();

  // A join that claims the wrong transport.
  const liar = await RawTcp.open(s.addresses.tcpPort);
  s.cleanup.push(() => liar.close());
  liar.socket.write(encodeTextFrame(joinMessage('GarbageTcp', 'Liar', 'websocket')));
  assert.equal((await liar.next('error')).code, 'LAN_ERR_INVALID_MESSAGE');
  await liar.waitClosed();
  assert.equal(s.relay.rooms.get('GarbageTcp')!.participants.size, 2);
  await stillServes(s, 'bad frames on TCP');
});

test('UDP garbage: random datagrams are counted and ignored, never answered', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageUdp');
  const raw = await RawUdp.open();
  s.cleanup.push(() => raw.close());
  const before = s.relay.stats.udpGarbage;
  for (let i = 0; i < 20; i++) {
    const junk = pattern(1 + i * 50, 100 + i);
    junk[0] = 0xa0 + (i % 16); // never a known packet type
    await raw.send(junk, s.addresses.udpPort);
  }
  await raw.send(new Uint8Array(0), s.addresses.udpPort);
  await until(() => s.relay.stats.udpGarbage === before + 21, 'the relay counted 21 garbage datagrams');
  assert.equal(raw.received.length, 0, 'no answer: the relay is no reflector');
  await stillServes(s, 'UDP garbage');
});

test('HTTP garbage: a bad request line gets 400 and the relay serves on', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageHttp');
  const answer = await withTimeout(new Promise<string>((resolve, reject) => {
    const socket = netConnect({ host: HOST, port: s.addresses.port });
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.write('\x16\x03\x01 this is not HTTP at all\r\n\r\n');
  }), 5000, 'the HTTP answer to garbage');
  assert.match(answer, /^HTTP\/1\.1 400 /);
  const ok = await fetch(`${s.url}/.well-known/lanconf`);
  assert.equal(ok.status, 200);
  await stillServes(s, 'HTTP garbage');
});

async function flood(s: Scene, meeting: string, perSecond: number): Promise<{ raw: RawWs; id: string }> {
  const { client: raw, welcome } = await RawWs.join(s.wsUrl, meeting, 'Flooder');
  s.cleanup.push(() => raw.close());
  await until(() => s.ws.participants.has(welcome.you.id) && s.native.participants.has(welcome.you.id), 'the flooder is seen');
  for (let i = 0; i < 200; i++) {
    if (raw.ws.readyState !== raw.ws.OPEN) break;
    raw.sendJson({ type: `nonsense-${i}`, n: i });
    if (Number.isFinite(perSecond) && i % 10 === 9) await sleep(10_000 / perSecond);
  }
  return { raw, id: welcome.you.id };
}

async function assertFlooderGone(s: Scene, raw: RawWs, id: string, label: string): Promise<void> {
  try {
    await raw.waitClosed(3000);
  } catch {
    const errors = raw.messages.filter((m) => m.type === 'error');
    assert.fail(`${label}: still connected 3 s after 200 unknown messages; it got ${errors.length} errors ` +
      `(${[...new Set(errors.map((m) => m.code))].join(', ')}), the last not fatal`);
  }
  const errors = raw.messages.filter((m) => m.type === 'error');
  assert.ok(errors.length >= 50, `many errors before the close (got ${errors.length})`);
  assert.equal(errors[0]!.code, 'LAN_ERR_UNKNOWN_TYPE');
  assert.equal(errors.at(-1)!.fatal, true, 'the last error is fatal');
  await until(() => !s.ws.participants.has(id) && !s.native.participants.has(id), 'the others saw the flooder leave');
  await stillServes(s, label);
}

test('a client that sends 200 unknown message types at once gets errors, then is disconnected; others are unaffected', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageFlood');
  const { raw, id } = await flood(s, 'GarbageFlood', Infinity);
  await assertFlooderGone(s, raw, id, 'a burst of unknown messages');
});

test('a client that sends 200 unknown message types at 100 per second gets errors, then is disconnected', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'GarbageFloodPaced');
  const { raw, id } = await flood(s, 'GarbageFloodPaced', 100);
  await assertFlooderGone(s, raw, id, 'a paced stream of unknown messages');
});
