import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import type { LocalTrack } from '../../sdk/Track.js';
import { PacketType, UDP_BIND_ACK, encodeMediaPacket, encodeUdpBind, fragmentPacket, randomToken } from '../../sdk/protocol/index.js';
import type { Relay } from '../../relay/Relay.js';
import { RawTcp, RawUdp, RawWs, join, leaveAll, pattern, sleep, startRelay, until, type TestRelay } from '../helpers.js';

interface Scene extends TestRelay {
  /** Publishes a camera track; its frames are what a forger would fake. */
  ana: Session;
  anaTrack: LocalTrack;
  /** Native subscriber (UDP). */
  cy: Session;
  /** A raw WebSocket subscriber that records every packet on the wire. */
  watcher: RawWs;
  /** Frames of Ana's track received by the SDK subscribers. */
  framesAtSdk: () => number;
  cleanup: Array<() => void>;
}

/** A meeting with a publisher, a native subscriber and a raw watcher; one genuine frame went through. */
async function scene(t: TestContext, meeting: string): Promise<Scene> {
  const started = await startRelay();
  const sessions: Session[] = [];
  const cleanup: Array<() => void> = [];
  t.after(async () => {
    for (const c of cleanup) c();
    await leaveAll(sessions);
    await started.relay.close();
  });
  const ana = await join(started.url, meeting, 'Ana');
  const cy = await join(started.url, meeting, 'Cy', { transport: 'native' });
  sessions.push(ana, cy);
  const { client: watcher } = await RawWs.join(started.wsUrl, meeting, 'Watcher');
  cleanup.push(() => watcher.close());
  await until(() => ana.participants.size === 2 && cy.participants.size === 2, 'everyone joined');
  const anaTrack = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  await until(() => cy.tracks.has(anaTrack.id), 'track announced');
  let frames = 0;
  cy.tracks.get(anaTrack.id)!.on('frame', () => frames++);
  assert.ok(anaTrack.send({ data: pattern(2000, 1) }));
  await until(() => frames === 1 && watcher.media.length === 1, 'the genuine frame went through');
  return { ...started, ana, anaTrack, cy, watcher, framesAtSdk: () => frames, cleanup };
}

function forgedFrame(sender: string, track: string, size = 3000): Uint8Array {
  return encodeMediaPacket({ kind: 'camera', codec: 'jpeg', track, sender, sequence: 99, timestamp: 1, keyFrame: true }, pattern(size, 77));
}

function framesOutTotal(relay: Relay, meeting: string): number {
  let sum = 0;
  for (const peer of relay.rooms.get(meeting)!.participants.values()) sum += peer.stats.framesOut;
  return sum;
}

test('relay ignores a UDP datagram from an unbound address', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'Unbound');
  const raw = await RawUdp.open();
  s.cleanup.push(() => raw.close());
  const before = { ...s.relay.stats };
  const outBefore = framesOutTotal(s.relay, 'Unbound');

  // A well-formed media packet naming Ana and her real track, from an address that never bound.
  await raw.send(forgedFrame(s.ana.local.id, s.anaTrack.id), s.addresses.udpPort);
  // And one with an empty sender, and fragments of a larger one.
  await raw.send(forgedFrame('0000000000000000', s.anaTrack.id), s.addresses.udpPort);
  for (const fragment of fragmentPacket(forgedFrame(s.ana.local.id, s.anaTrack.id, 5000), 1200)) await raw.send(fragment, s.addresses.udpPort);

  await until(() => s.relay.stats.udpUnbound === before.udpUnbound + 7, 'the relay counted 7 unbound datagrams');
  await sleep(200);
  assert.equal(s.framesAtSdk(), 1, 'no extra frame reached the SDK subscriber');
  assert.equal(s.watcher.media.length, 1, 'no extra frame reached the raw watcher');
  assert.equal(framesOutTotal(s.relay, 'Unbound'), outBefore);
  assert.equal(raw.received.length, 0, 'the relay never answers an unbound address');
  assert.equal(s.relay.stats.udpBadBind, before.udpBadBind);
  assert.equal(s.relay.stats.udpGarbage, before.udpGarbage);
});

test('relay ignores a UDP bind with a wrong or malformed token', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'BadBind');
  const raw = await RawUdp.open();
  s.cleanup.push(() => raw.close());
  const before = s.relay.stats.udpBadBind;

  await raw.send(encodeUdpBind(randomToken(16)), s.addresses.udpPort); // a token nobody holds
  await raw.send(Uint8Array.of(PacketType.UdpBind, 1, 1, 2, 3), s.addresses.udpPort); // too short
  const wrongVersion = encodeUdpBind(randomToken(16));
  wrongVersion[1] = 9;
  await raw.send(wrongVersion, s.addresses.udpPort);
  await until(() => s.relay.stats.udpBadBind === before + 3, 'the relay counted 3 bad binds');
  await sleep(100);
  assert.equal(raw.received.length, 0, 'no bind ack');

  // Still unbound: media from this address is ignored.
  const unbound = s.relay.stats.udpUnbound;
  await raw.send(forgedFrame(s.ana.local.id, s.anaTrack.id), s.addresses.udpPort);
  await until(() => s.relay.stats.udpUnbound === unbound + 1, 'media after a bad bind counts as unbound');
  await sleep(100);
  assert.equal(s.watcher.media.length, 1);
  assert.equal(s.framesAtSdk(), 1);
});

test('relay drops a UDP media packet whose sender is another participant, from a genuinely bound client', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'ForgeUdp');
  // Do the native join by hand to hold the UDP token.
  const { client: tcp, welcome } = await RawTcp.join(s.addresses.tcpPort, 'ForgeUdp', 'Mallory');
  s.cleanup.push(() => tcp.close());
  assert.ok(welcome.udp, 'a native welcome carries the UDP binding');
  assert.equal(welcome.udp.port, s.addresses.udpPort);
  const udp = await RawUdp.open();
  s.cleanup.push(() => udp.close());
  await udp.send(encodeUdpBind(welcome.udp.token), s.addresses.udpPort);
  await until(() => udp.received.length > 0, 'the bind ack');
  assert.ok(udp.received[0]!.equals(Buffer.from(UDP_BIND_ACK)));
  const mallory = s.relay.rooms.get('ForgeUdp')!.participants.get(welcome.you.id)!;
  assert.ok(mallory.connection?.udp?.address, 'the relay bound the address');

  // Control: a genuine frame on Mallory's own track does go through this socket.
  tcp.sendJson({ type: 'publish', requestId: 'p1', kind: 'camera', codec: 'jpeg' });
  const myTrack = ((await tcp.next('published')).track as { id: string }).id;
  await until(() => s.cy.tracks.has(myTrack), 'Mallory\'s track announced');
  await udp.send(forgedFrame(welcome.you.id, myTrack), s.addresses.udpPort);
  await until(() => s.watcher.media.length === 2, 'the genuine UDP frame reached the watcher');
  assert.equal(s.watcher.media[1]!.sender, welcome.you.id);

  // The forgery: Ana's id and Ana's track, whole and in fragments.
  await udp.send(forgedFrame(s.ana.local.id, s.anaTrack.id), s.addresses.udpPort);
  for (const fragment of fragmentPacket(forgedFrame(s.ana.local.id, s.anaTrack.id, 4000), 1000)) await udp.send(fragment, s.addresses.udpPort);
  // Ana's id on Mallory's own track too.
  await udp.send(forgedFrame(s.ana.local.id, myTrack), s.addresses.udpPort);
  await until(() => mallory.stats.forgedDropped === 6, 'the relay dropped the 6 forged datagrams');
  await sleep(200);
  assert.equal(s.watcher.media.length, 2, 'no forged frame reached the watcher');
  assert.equal(s.framesAtSdk(), 1, 'no forged frame reached Ana\'s subscribers');
  assert.equal(s.relay.rooms.get('ForgeUdp')!.participants.get(s.ana.local.id)!.stats.framesIn, 1);
  assert.equal(tcp.media.length, 0, 'Mallory joined after Ana\'s only genuine frame');
  assert.equal(udp.received.length, 1, 'Mallory\'s socket got the bind ack and nothing else');
});

test('a WebSocket media packet naming another sender gets LAN_ERR_FORGED_SENDER and is not forwarded', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'ForgeWs');
  const { client: mallory, welcome } = await RawWs.join(s.wsUrl, 'ForgeWs', 'Mallory');
  s.cleanup.push(() => mallory.close());
  mallory.sendJson({ type: 'publish', requestId: 'p1', kind: 'camera', codec: 'jpeg' });
  const myTrack = ((await mallory.next('published')).track as { id: string }).id;
  await until(() => s.cy.tracks.has(myTrack), 'Mallory\'s track announced');

  mallory.sendBinary(forgedFrame(s.ana.local.id, s.anaTrack.id));
  const error = await mallory.next('error');
  assert.equal(error.code, 'LAN_ERR_FORGED_SENDER');
  assert.notEqual(error.fatal, true);
  mallory.sendBinary(forgedFrame(s.ana.local.id, myTrack));
  await until(() => mallory.messages.filter((m) => m.type === 'error' && m.code === 'LAN_ERR_FORGED_SENDER').length === 2, 'a second forged-sender error');
  const peer = s.relay.rooms.get('ForgeWs')!.participants.get(welcome.you.id)!;
  assert.equal(peer.stats.forgedDropped, 2);
  await sleep(150);
  assert.equal(s.watcher.media.length, 1, 'nothing forged was forwarded');
  assert.equal(s.framesAtSdk(), 1);

  // Mallory is still a participant and can send on its own behalf.
  mallory.sendBinary(forgedFrame(welcome.you.id, myTrack));
  await until(() => s.watcher.media.length === 2, 'Mallory\'s genuine frame arrives');
  assert.equal(s.watcher.media[1]!.sender, welcome.you.id);
  assert.equal(mallory.closed, false);
});
