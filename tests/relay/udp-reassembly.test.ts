/**
 * UDP reassembly under attack: datagrams that declare huge fragment counts, and partial frames sent to
 * fill the relay's memory, beside an honest pair whose fragmented frames must all arrive.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { MTU_SAFE_UDP_PAYLOAD, PacketType, encodeMediaPacket, encodeUdpBind } from '../../sdk/protocol/index.js';
import { runCli } from '../cli-process.js';
import { RawTcp, RawUdp, assertRelayServes, join, leaveAll, pattern, sleep, startRelay, until } from '../helpers.js';

/** A native participant that speaks the wire by hand: joined, one camera track published, UDP bound. */
interface Attacker {
  tcp: RawTcp;
  udp: RawUdp;
  id: string;
  track: string;
}

async function attacker(t: TestContext, tcpPort: number, udpPort: number, meeting: string, name: string, payloadSize: number): Promise<Attacker> {
  const { client: tcp, welcome } = await RawTcp.join(tcpPort, meeting, name, { udp: { payloadSize } });
  t.after(() => tcp.close());
  tcp.sendJson({ type: 'publish', requestId: 'p', kind: 'camera', codec: 'jpeg' });
  const published = (await tcp.next('published')) as { track: { id: string } };
  const udp = await RawUdp.open();
  t.after(() => udp.close());
  await udp.send(encodeUdpBind(welcome.udp!.token), udpPort);
  await until(() => udp.received.some((d) => d[0] === PacketType.UdpBindAck), 'the UDP bind ack');
  return { tcp, udp, id: welcome.you.id, track: published.track.id };
}

/** One fragment of a frame that is never finished: `count` fragments declared, `payload` bytes carried. */
function fragment(a: Attacker, sequence: number, count: number, payload: number): Uint8Array {
  return encodeMediaPacket(
    { kind: 'camera', codec: 'jpeg', sender: a.id, track: a.track, sequence, timestamp: Date.now() * 1000, fragmentIndex: 0, fragmentCount: count },
    pattern(payload, sequence),
  );
}

/** An honest pair over native UDP with MTU-safe datagrams, so each of its frames is fragmented. */
async function honestPair(t: TestContext, url: string): Promise<{ send(frames: number): Promise<void>; received: () => number; ana: Session }> {
  const ana = await join(url, 'Honest', 'Ana', { transport: 'native', udpPayloadSize: MTU_SAFE_UDP_PAYLOAD });
  const ben = await join(url, 'Honest', 'Ben', { transport: 'native', udpPayloadSize: MTU_SAFE_UDP_PAYLOAD });
  t.after(() => leaveAll([ana, ben]));
  const track = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  await until(() => ben.tracks.has(track.id), 'Ben sees Ana\'s camera');
  let received = 0;
  ben.tracks.get(track.id)!.on('frame', (frame) => {
    if (frame.data.byteLength === 20_000) received++;
  });
  return {
    ana,
    received: () => received,
    async send(frames) {
      for (let i = 0; i < frames; i++) {
        assert.ok(track.send({ data: pattern(20_000, i) }), `frame ${i} was taken`);
        await sleep(40);
      }
    },
  };
}

test('a relay with a small heap survives datagrams declaring 65535 fragments, and an honest pair loses nothing', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-reassembly-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  // 96 MB of heap: before the fix, 10 participants × 64 frames × a 65535-slot array (512 KiB) needed 320 MiB.
  const relay = runCli(t, ['--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--udp-port', '0', '--tls', 'off', '--data-dir', dataDir],
    { NODE_OPTIONS: '--max-old-space-size=96' });
  const url = (await relay.waitFor(/http:\/\/127\.0\.0\.1:\d+\//))[0];
  const [, tcpPort, udpPort] = (await relay.waitFor(/TCP (\d+), UDP (\d+)/)).map(Number) as [number, number, number];

  const pair = await honestPair(t, url);
  const attackers: Attacker[] = [];
  for (let i = 0; i < 10; i++) attackers.push(await attacker(t, tcpPort, udpPort, 'Attack', `Mallory ${i}`, 512));

  const honest = pair.send(50);
  // 41-byte datagrams: 65535 fragments declared (never legitimate), and 8192 (the most a 4 MiB frame
  // needs at 512 bytes a fragment), each on a new frame, so every one would start a frame in progress.
  for (let round = 0; round < 4; round++) {
    for (const a of attackers) {
      for (let s = 0; s < 100; s++) {
        await a.udp.send(fragment(a, round * 1000 + s, s % 2 ? 65535 : 8192, 1), udpPort);
      }
    }
    await sleep(100);
  }
  await honest;
  await until(() => pair.received() === 50, () => `all 50 honest frames arrived (got ${pair.received()})`, 5000);
  assert.equal(relay.child.exitCode, null, `the relay is still running:\n${relay.err().slice(-2000)}`);
  await assertRelayServes(url, pair.ana, 'the reassembly flood');
});

test('relay caps the bytes held in reassembly: the participant holding the most loses its oldest frames, counted', { timeout: 60_000 }, async (t) => {
  const started = await startRelay({ maxReassemblyBytes: 1024 * 1024 });
  t.after(() => started.relay.close());
  const { tcpPort, udpPort } = started.addresses;
  const pair = await honestPair(t, started.url);
  const attackers = [
    await attacker(t, tcpPort, udpPort, 'Attack', 'Mallory', 60_000),
    await attacker(t, tcpPort, udpPort, 'Attack', 'Trudy', 60_000),
  ];
  const honest = pair.send(50);
  // First fragments of frames of up to 4 MiB, 30 KB each, never finished: 64 × 30 KB = 1.9 MB each could hold.
  let peak = 0;
  for (let s = 0; s < 300; s++) {
    for (const a of attackers) await a.udp.send(fragment(a, s, 70, 30_000), udpPort);
    peak = Math.max(peak, started.relay.stats.udpReassemblyBytes);
    if (s % 20 === 0) await sleep(10);
  }
  await honest;
  await until(() => pair.received() === 50, () => `all 50 honest frames arrived (got ${pair.received()})`, 5000);
  assert.ok(peak <= 1024 * 1024, `at most 1 MiB held at once (peak ${peak})`);
  assert.ok(peak > 512 * 1024, `the attack did fill the budget (peak ${peak})`);
  const room = started.relay.rooms.get('Attack')!;
  const dropped = [...room.participants.values()].map((p) => p.stats.reassemblyDropped);
  assert.ok(dropped.every((d) => d > 0), `each attacker's frames were dropped and counted (${dropped})`);
  assert.ok(started.relay.stats.udpReassemblyDropped >= dropped.reduce((a, b) => a + b, 0));
  const honestRoom = started.relay.rooms.get('Honest')!;
  assert.deepEqual([...honestRoom.participants.values()].map((p) => p.stats.reassemblyDropped), [0, 0], 'the honest pair lost no frame in reassembly');
  await assertRelayServes(started.url, pair.ana, 'the reassembly budget');
});
