// Native UDP media sealed hop by hop (issue 13, item 5): on by default when the control link is TLS, the key
// per connection in `welcome.udp.key`. An attacker who holds a bound address (here: the bound socket itself,
// as a spoofer of that address would) and sends clear, changed, replayed, reflected or other-key datagrams is
// dropped and counted, while an honest pair beside it loses nothing; what crosses the wire reads as noise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { PacketType, UDP_BIND_ACK, decodeMediaPacket, encodeMediaPacket, encodeUdpBind, fragmentPacket } from '../../sdk/protocol/index.js';
import { UdpSeal, newUdpKey } from '../../sdk/node/udpSeal.js';
import { RawTcp, RawUdp, join, leaveAll, pattern, sleep, startRelay, until } from '../helpers.js';

const joined = (pieces: Uint8Array[]) => Buffer.concat(pieces);
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

test('a TLS relay seals native UDP by default, both ways and fragments too; a plain one does not unless asked', { timeout: 40_000 }, async (t) => {
  const secure = await startRelay({ tls: 'on' });
  const plain = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await Promise.all([secure.relay.close(), plain.relay.close()]);
  });
  const https = `https://127.0.0.1:${secure.addresses.port}`;
  const tls = { fingerprint: secure.addresses.fingerprint! };
  const ana = await join(https, 'Sealed', 'Ana', { transport: 'native', tls });
  // Ben receives in MTU-safe fragments: 30 KB frames come as 26 sealed datagrams each.
  const ben = await join(https, 'Sealed', 'Ben', { transport: 'native', tls, udpPayloadSize: 1200 });
  sessions.push(ana, ben);
  const room = secure.relay.rooms.get('Sealed')!;
  for (const s of [ana, ben]) {
    const peer = room.participants.get(s.local.id)!;
    assert.ok(peer.connection?.udp?.seal, `${s.local.name}'s connection has a UDP key`);
    assert.ok(peer.connection?.udp?.address, `${s.local.name}'s UDP is bound (with a sealed bind)`);
  }

  const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  const mic = await ben.publish({ kind: 'microphone', codec: 'pcm16' });
  await until(() => ben.tracks.has(camera.id) && ana.tracks.has(mic.id), 'each sees the other\'s track');
  const atBen: Uint8Array[] = [];
  const atAna: Uint8Array[] = [];
  ben.tracks.get(camera.id)!.on('frame', (f) => atBen.push(f.data.slice()));
  ana.tracks.get(mic.id)!.on('frame', (f) => atAna.push(f.data.slice()));
  for (let i = 0; i < 10; i++) {
    assert.ok(camera.send({ data: pattern(30_000, i) }));
    assert.ok(mic.send({ data: pattern(1920, 100 + i) }));
    await sleep(20);
  }
  await until(() => atBen.length === 10 && atAna.length === 10, () => `every frame arrives (Ben ${atBen.length}/10, Ana ${atAna.length}/10)`, 5000);
  atBen.forEach((data, i) => assert.ok(same(data, pattern(30_000, i)), `camera frame ${i} whole`));
  atAna.forEach((data, i) => assert.ok(same(data, pattern(1920, 100 + i)), `microphone frame ${i} whole`));
  const before = { forged: secure.relay.stats.udpForged, replayed: secure.relay.stats.udpReplayed };
  assert.deepEqual(before, { forged: 0, replayed: 0 }, 'nothing genuine was refused');
  assert.equal(room.participants.get(ana.local.id)!.stats.framesIn, 10, 'Ana\'s frames came in (over UDP: her UDP is bound)');

  // Without TLS the key would cross the LAN in the clear: no key unless the admin asks for one.
  const cy = await join(plain.url, 'Clear', 'Cy', { transport: 'native' });
  sessions.push(cy);
  const cyPeer = plain.relay.rooms.get('Clear')!.participants.get(cy.local.id)!;
  assert.equal(cyPeer.connection?.udp?.seal, undefined);
  await until(() => cyPeer.connection?.udp?.address, 'Cy bound UDP with a plain bind');
  const { client: raw, welcome } = await RawTcp.join(plain.addresses.tcpPort, 'Clear', 'Raw');
  t.after(() => raw.close());
  assert.equal((welcome.udp as { key?: string }).key, undefined, 'no key in a plain relay\'s welcome');
});

test('forged, changed, replayed, reflected and clear datagrams on a sealed binding are dropped and counted; the honest pair loses nothing', { timeout: 40_000 }, async (t) => {
  // Plain TCP with UDP encryption asked for: the raw client below reads its key from the welcome.
  const { relay, url, addresses } = await startRelay({ udpEncryption: true });
  const sessions: Session[] = [];
  const cleanup: Array<() => void> = [];
  t.after(async () => {
    for (const c of cleanup) c();
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Attack', 'Ana', { transport: 'native' });
  const ben = await join(url, 'Attack', 'Ben', { transport: 'native', udpPayloadSize: 1200 });
  sessions.push(ana, ben);
  const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });

  // Mallory joins by hand and binds her own UDP socket with her key.
  const { client: tcp, welcome } = await RawTcp.join(addresses.tcpPort, 'Attack', 'Mallory');
  cleanup.push(() => tcp.close());
  const key = (welcome.udp as { key?: string }).key;
  assert.ok(key, 'the welcome carries the UDP key');
  const seal = new UdpSeal(key, 'client');
  const udp = await RawUdp.open();
  cleanup.push(() => udp.close());
  const stats = () => ({ forged: relay.stats.udpForged, replayed: relay.stats.udpReplayed });
  const counted = async (forged: number, replayed: number, what: string) =>
    until(() => relay.stats.udpForged === forged && relay.stats.udpReplayed === replayed, () => `${what}: forged ${relay.stats.udpForged}/${forged}, replayed ${relay.stats.udpReplayed}/${replayed}`);

  // Binds: the old clear form and one sealed with another key bind nothing; the genuine one does.
  await udp.send(encodeUdpBind(welcome.udp!.token), addresses.udpPort);
  await udp.send(new UdpSeal(newUdpKey(), 'client').sealBind(welcome.udp!.token), addresses.udpPort);
  await counted(2, 0, 'a clear bind and an other-key bind');
  const mallory = relay.rooms.get('Attack')!.participants.get(welcome.you.id)!;
  assert.equal(mallory.connection?.udp?.address, undefined, 'not bound');
  assert.equal(udp.received.length, 0, 'no ack to either');
  const bind = seal.sealBind(welcome.udp!.token);
  await udp.send(bind, addresses.udpPort);
  await until(() => udp.received.length === 1, 'the bind ack');
  const ack = udp.received[0]!;
  assert.equal(ack[0], PacketType.Sealed, 'the ack is sealed too');
  assert.deepEqual(new Uint8Array(seal.open(ack) as Buffer), UDP_BIND_ACK);
  await udp.send(bind, addresses.udpPort);
  await counted(2, 1, 'the bind replayed');

  tcp.sendJson({ type: 'publish', requestId: 'p1', kind: 'camera', codec: 'jpeg' });
  const track = ((await tcp.next('published')).track as { id: string }).id;
  await until(() => ben.tracks.has(track) && ben.tracks.has(camera.id), 'Ben sees both cameras');
  const fromMallory: number[] = [];
  const fromAna: Uint8Array[] = [];
  ben.tracks.get(track)!.on('frame', (f) => fromMallory.push(f.sequence));
  ben.tracks.get(camera.id)!.on('frame', (f) => fromAna.push(f.data.slice()));
  const frame = (sequence: number) =>
    encodeMediaPacket({ kind: 'camera', codec: 'jpeg', track, sender: welcome.you.id, sequence, timestamp: Date.now() * 1000, keyFrame: true }, pattern(2000, sequence));

  // Control: a genuine sealed frame from the bound socket goes through.
  const genuine = joined(seal.seal(frame(1)));
  await udp.send(genuine, addresses.udpPort);
  await until(() => fromMallory.length === 1, 'the genuine sealed frame reaches Ben');

  // Ana keeps sending to Ben all through the attack.
  let anaSent = 0;
  const honest = setInterval(() => assert.ok(camera.send({ data: pattern(30_000, anaSent++) })), 20);
  cleanup.push(() => clearInterval(honest));

  // The attack, from the bound address: a clear frame (whole and in fragments), the genuine datagram again,
  // a changed one, one sealed with another key, one too short to hold a tag, and the relay's own datagram sent
  // back to it (reflected). None is forwarded.
  let { forged, replayed } = stats();
  await udp.send(frame(2), addresses.udpPort);
  for (const fragment of fragmentPacket(frame(3), 700)) await udp.send(fragment, addresses.udpPort);
  forged += 4;
  await udp.send(genuine, addresses.udpPort);
  replayed += 1;
  const changed = joined(seal.seal(frame(4)));
  changed[100]! ^= 0x20;
  await udp.send(changed, addresses.udpPort);
  // (Another key's seal numbers from 1 too, and a sequence number the relay has seen is refused as a
  // replay before its tag is looked at: this one is past what Mallory has sent.)
  const other = new UdpSeal(newUdpKey(), 'client');
  for (let i = 0; i < 100; i++) other.seal(frame(5));
  await udp.send(joined(other.seal(frame(5))), addresses.udpPort);
  await udp.send(genuine.subarray(0, 20), addresses.udpPort);
  forged += 3;
  // Ana's frames reach Mallory sealed: what the wire carries does not contain the picture.
  await until(() => udp.received.length > 3, 'Ana\'s frames at Mallory');
  const carried = udp.received[1]!;
  assert.equal(carried[0], PacketType.SealedShared, 'media from the relay: its body encrypted once, its key sealed for Mallory');
  assert.equal(carried.indexOf(Buffer.from(pattern(30_000, 0).subarray(64, 96))), -1, 'no clear media bytes on the wire');
  const opened = seal.open(carried);
  assert.ok(Buffer.isBuffer(opened), 'Mallory opens what was sealed for her');
  assert.equal(decodeMediaPacket(opened).track, camera.id);
  // Sent back, it is the other direction's nonce under her key: it does not authenticate.
  const reflected = Buffer.from(carried);
  reflected.writeUIntBE(1_000_000, 2, 6);
  await udp.send(reflected, addresses.udpPort);
  forged += 1;
  await counted(forged, replayed, 'every attack datagram counted');

  // Then a new genuine frame still goes through, and Ana's stream to Ben never stopped.
  await udp.send(joined(seal.seal(frame(6))), addresses.udpPort);
  const sent = fromAna.length;
  await until(() => fromMallory.length === 2 && fromAna.length >= sent + 10, 'Mallory\'s next genuine frame, and more of Ana\'s');
  clearInterval(honest);
  await until(() => fromAna.length === anaSent, () => `all of Ana's frames (${fromAna.length}/${anaSent})`);
  assert.deepEqual(fromMallory, [1, 6], 'only the two genuine frames reached Ben');
  fromAna.forEach((data, i) => assert.ok(same(data, pattern(30_000, i)), `Ana's frame ${i} whole`));
  const anaStats = relay.rooms.get('Attack')!.participants.get(ana.local.id)!.stats;
  const benStats = relay.rooms.get('Attack')!.participants.get(ben.local.id)!.stats;
  assert.equal(benStats.videoDropped, 0, 'nothing dropped on the way to Ben');
  assert.ok(anaStats.framesIn >= fromAna.length);
  assert.equal(mallory.connection?.closed, false, 'Mallory\'s own session is unharmed: the relay cannot tell her from her spoofer');
});
