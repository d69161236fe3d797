import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import type { LocalTrack, RemoteFrame } from '../../sdk/Track.js';
import {
  MEDIA_HEADER_BYTES, Reassembler, ZERO_ID, decodeMediaPacket, encodeMediaPacket, encodeUdpBind,
} from '../../sdk/protocol/index.js';
import { RawTcp, RawUdp, RawWs, join, leaveAll, pattern, sleep, startRelay, until, withTimeout } from '../helpers.js';

test('30 KB and 300 KB frames arrive byte-identical at every other participant over WebSocket, UDP and MTU-safe UDP', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Media', 'Ana');
  const ben = await join(url, 'Media', 'Ben');
  const cy = await join(url, 'Media', 'Cy', { transport: 'native' });
  const dee = await join(url, 'Media', 'Dee', { transport: 'native', udpPayloadSize: 1200 });
  sessions.push(ana, ben, cy, dee);
  await until(() => sessions.every((s) => s.participants.size === 3), 'everyone sees everyone');

  // The native ones really use UDP, each with its own datagram size.
  const peers = relay.rooms.get('Media')!.participants;
  assert.ok(peers.get(cy.local.id)!.connection?.udp?.address, 'Cy is bound on UDP');
  assert.ok(peers.get(dee.local.id)!.connection?.udp?.address, 'Dee is bound on UDP');
  assert.equal(peers.get(cy.local.id)!.connection?.udp?.payloadSize, 60000);
  assert.equal(peers.get(dee.local.id)!.connection?.udp?.payloadSize, 1200);
  assert.equal(peers.get(ana.local.id)!.connection?.udp?.address, undefined);

  // received.get(receiver).get(trackId) = frames in arrival order
  const received = new Map<Session, Map<string, RemoteFrame[]>>(sessions.map((s) => [s, new Map()]));
  for (const s of sessions) {
    s.on('trackPublished', (track) => {
      const list: RemoteFrame[] = [];
      received.get(s)!.set(track.id, list);
      track.on('frame', (frame) => list.push({ ...frame, data: frame.data.slice() }));
    });
  }
  const tracks = new Map<Session, LocalTrack>();
  for (const s of sessions) tracks.set(s, await s.publish({ kind: 'camera', codec: 'vp8' }));
  await until(() => sessions.every((s) => received.get(s)!.size === 3), 'every track announced to every other participant');

  const sent = new Map<Session, Array<{ data: Uint8Array; keyFrame: boolean; timestamp: number }>>();
  let seed = 1;
  for (const [round, publisher] of sessions.entries()) {
    const frames = [
      { data: pattern(30 * 1024, seed++), keyFrame: true, timestamp: 1_700_000_000_000_001 + round },
      { data: pattern(300 * 1024, seed++), keyFrame: false, timestamp: 1_700_000_000_040_000.5 + round },
      { data: pattern(300 * 1024 + 7, seed++), keyFrame: false, timestamp: 1_700_000_000_080_000 + round },
    ];
    sent.set(publisher, frames);
    const track = tracks.get(publisher)!;
    for (const frame of frames) assert.equal(track.send(frame), true, `${publisher.local.name} sent a frame`);
    const others = sessions.filter((s) => s !== publisher);
    await until(() => others.every((s) => (received.get(s)!.get(track.id)?.length ?? 0) >= frames.length),
      `every frame of ${publisher.local.name} (${publisher.transport}) reached the ${others.length} others`, 5000);
  }

  for (const publisher of sessions) {
    const track = tracks.get(publisher)!;
    const frames = sent.get(publisher)!;
    for (const receiver of sessions) {
      if (receiver === publisher) {
        assert.equal(received.get(receiver)!.has(track.id), false, 'nobody gets their own track back');
        continue;
      }
      const got = received.get(receiver)!.get(track.id)!;
      const where = `${publisher.local.name} (${publisher.transport}) → ${receiver.local.name} (${receiver.transport})`;
      assert.equal(got.length, frames.length, `${where}: frame count`);
      frames.forEach((frame, i) => {
        const g = got[i]!;
        assert.equal(g.data.byteLength, frame.data.byteLength, `${where}: frame ${i} size`);
        assert.ok(Buffer.from(g.data).equals(Buffer.from(frame.data)), `${where}: frame ${i} bytes identical`);
        assert.equal(g.keyFrame, frame.keyFrame, `${where}: frame ${i} keyFrame`);
        assert.equal(g.timestamp, frame.timestamp, `${where}: frame ${i} timestamp`);
        assert.equal(g.sequence, i, `${where}: frame ${i} sequence`);
        assert.equal(g.codec, 'vp8');
        assert.equal(g.kind, 'camera');
      });
    }
  }
  // Nothing was dropped anywhere.
  for (const s of sessions) {
    assert.equal(tracks.get(s)!.stats.framesDropped, 0);
    assert.equal(peers.get(s.local.id)!.stats.videoDropped, 0);
    assert.equal(peers.get(s.local.id)!.stats.framesIn, 3);
  }
});

test('the relay stamps the sender: frames arrive with the publisher id, even from a client that leaves it empty', { timeout: 20_000 }, async (t) => {
  const { relay, url, wsUrl } = await startRelay();
  const sessions: Session[] = [];
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Stamp', 'Ana');
  const cy = await join(url, 'Stamp', 'Cy', { transport: 'native' });
  sessions.push(ana, cy);
  const { client: watcher } = await RawWs.join(wsUrl, 'Stamp', 'Watcher');
  const { client: rawPub, welcome: rawWelcome } = await RawWs.join(wsUrl, 'Stamp', 'RawPub');
  raws.push(watcher, rawPub);
  await until(() => ana.participants.size === 3 && cy.participants.size === 3, 'everyone joined');

  const anaTrack = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  const cyTrack = await cy.publish({ kind: 'microphone', codec: 'opus' });
  assert.ok(anaTrack.send({ data: pattern(5000, 1) }));
  assert.ok(cyTrack.send({ data: pattern(200, 2), audioLevel: 30, voice: true }));
  await until(() => watcher.media.length === 2, 'the watcher got both frames');
  const fromAna = watcher.media.find((p) => p.track === anaTrack.id)!;
  const fromCy = watcher.media.find((p) => p.track === cyTrack.id)!;
  assert.equal(fromAna.sender, ana.local.id);
  assert.equal(fromCy.sender, cy.local.id);
  assert.equal(fromCy.kind, 'microphone');
  assert.equal(fromCy.audioLevel, 30);
  assert.equal(fromCy.voice, true);

  // A raw publisher that leaves the sender empty: the relay writes its id in.
  rawPub.sendJson({ type: 'publish', requestId: 'r1', kind: 'screen', codec: 'jpeg' });
  const published = await rawPub.next('published');
  const rawTrackId = (published.track as { id: string }).id;
  await until(() => ana.tracks.has(rawTrackId) && cy.tracks.has(rawTrackId), 'the raw track is announced');
  const anaGot: RemoteFrame[] = [];
  const cyGot: RemoteFrame[] = [];
  ana.tracks.get(rawTrackId)!.on('frame', (f) => anaGot.push(f));
  cy.tracks.get(rawTrackId)!.on('frame', (f) => cyGot.push(f));
  const payload = pattern(40_000, 3);
  rawPub.sendBinary(encodeMediaPacket({ kind: 'screen', codec: 'jpeg', track: rawTrackId, sequence: 7, timestamp: 123456789, sender: ZERO_ID, keyFrame: true }, payload));
  await until(() => anaGot.length === 1 && cyGot.length === 1 && watcher.media.length === 3, 'the stamped frame reached everyone');
  const stamped = watcher.media[2]!;
  assert.equal(stamped.sender, rawWelcome.you.id);
  assert.equal(stamped.sequence, 7);
  assert.ok(Buffer.from(anaGot[0]!.data).equals(Buffer.from(payload)));
  assert.ok(Buffer.from(cyGot[0]!.data).equals(Buffer.from(payload)));
  assert.equal(rawPub.media.filter((p) => p.track === rawTrackId).length, 0, 'the publisher does not get its own frame back');
  assert.equal(rawPub.messages.filter((m) => m.type === 'error').length, 0);
});

test('a muted track delivers trackMuted and no frames; unmute resumes; unpublish delivers trackUnpublished', { timeout: 20_000 }, async (t) => {
  const { relay, url, wsUrl } = await startRelay();
  const sessions: Session[] = [];
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.close();
  });
  const pub = await join(url, 'Mute', 'Pub', { transport: 'native' });
  const ws = await join(url, 'Mute', 'WsSub');
  const nat = await join(url, 'Mute', 'NativeSub', { transport: 'native' });
  sessions.push(pub, ws, nat);
  const { client: rawPub } = await RawWs.join(wsUrl, 'Mute', 'RawPub');
  raws.push(rawPub);
  await until(() => sessions.every((s) => s.participants.size === 3), 'everyone joined');

  const track = await pub.publish({ kind: 'camera', codec: 'jpeg' });
  await until(() => ws.tracks.has(track.id) && nat.tracks.has(track.id), 'track announced');
  const frames = new Map<Session, number>([[ws, 0], [nat, 0]]);
  for (const s of [ws, nat]) s.tracks.get(track.id)!.on('frame', () => frames.set(s, frames.get(s)! + 1));
  assert.ok(track.send({ data: pattern(10_000, 1) }));
  await until(() => frames.get(ws) === 1 && frames.get(nat) === 1, 'first frame arrives');

  const mutedAtWs = ws.waitFor('trackMuted', { timeoutMs: 3000 });
  const mutedAtNat = nat.waitFor('trackMuted', { timeoutMs: 3000 });
  await track.mute();
  const [[wsTrack, wsMuted], [natTrack, natMuted]] = await Promise.all([mutedAtWs, mutedAtNat]);
  assert.equal(wsTrack.id, track.id);
  assert.equal(natTrack.id, track.id);
  assert.equal(wsMuted, true);
  assert.equal(natMuted, true);
  assert.equal(ws.tracks.get(track.id)!.muted, true);
  assert.equal(relay.rooms.get('Mute')!.participants.get(pub.local.id)!.tracks.get(track.id)!.muted, true);
  for (let i = 0; i < 5; i++) assert.equal(track.send({ data: pattern(10_000, 10 + i) }), false, 'a muted track sends nothing');

  // The relay itself holds back frames of a muted track (a client that keeps sending anyway).
  rawPub.sendJson({ type: 'publish', requestId: 'r', kind: 'camera', codec: 'jpeg' });
  const rawTrack = ((await rawPub.next('published')).track as { id: string }).id;
  await until(() => ws.tracks.has(rawTrack) && nat.tracks.has(rawTrack), 'raw track announced');
  let rawFrames = 0;
  for (const s of [ws, nat]) s.tracks.get(rawTrack)!.on('frame', () => rawFrames++);
  const rawMuted = ws.waitFor('trackMuted', { timeoutMs: 3000 });
  rawPub.sendJson({ type: 'mute', trackId: rawTrack, muted: true });
  await rawMuted;
  for (let i = 0; i < 5; i++) {
    rawPub.sendBinary(encodeMediaPacket({ kind: 'camera', codec: 'jpeg', track: rawTrack, sequence: i, timestamp: 1, keyFrame: true }, pattern(5000, 20 + i)));
  }
  await sleep(300);
  assert.equal(rawFrames, 0, 'the relay forwards nothing of a muted track');
  assert.equal(frames.get(ws), 1);
  assert.equal(frames.get(nat), 1);

  // Unmute: told, and frames flow again.
  const unmutedAtWs = ws.waitFor('trackMuted', { timeoutMs: 3000 });
  await track.unmute();
  const [, unmuted] = await unmutedAtWs;
  assert.equal(unmuted, false);
  assert.ok(track.send({ data: pattern(10_000, 2) }));
  await until(() => frames.get(ws) === 2 && frames.get(nat) === 2, 'frames after unmute arrive');

  // Unpublish: both subscribers are told, and the remote track ends.
  const endedAtWs = withTimeout(new Promise<void>((r) => ws.tracks.get(track.id)!.once('ended', () => r())), 3000, 'remote track ended');
  const unpubAtWs = ws.waitFor('trackUnpublished', { timeoutMs: 3000 });
  const unpubAtNat = nat.waitFor('trackUnpublished', { timeoutMs: 3000 });
  await track.unpublish();
  const [[gone, owner], [goneNat]] = await Promise.all([unpubAtWs, unpubAtNat]);
  await endedAtWs;
  assert.equal(gone.id, track.id);
  assert.equal(owner.id, pub.local.id);
  assert.equal(goneNat.id, track.id);
  assert.equal(ws.tracks.has(track.id), false);
  assert.equal(nat.participants.get(pub.local.id)!.tracks.has(track.id), false);
  assert.equal(track.ended, true);
  assert.equal(track.send({ data: pattern(100, 3) }), false);
});

test('in MTU-safe mode the relay sends a 300 KB frame as datagrams of at most 1240 bytes that reassemble byte-identical', { timeout: 20_000 }, async (t) => {
  const { relay, url, addresses } = await startRelay();
  const sessions: Session[] = [];
  const cleanup: Array<() => void> = [];
  t.after(async () => {
    for (const c of cleanup) c();
    await leaveAll(sessions);
    await relay.close();
  });
  const pub = await join(url, 'Mtu', 'Pub', { transport: 'native', udpPayloadSize: 1200 });
  sessions.push(pub);
  // A hand-made native subscriber that asks for 1200-byte payloads and binds its own UDP socket.
  const { client: tcp, welcome } = await RawTcp.join(addresses.tcpPort, 'Mtu', 'Wire', { udp: { payloadSize: 1200 } });
  cleanup.push(() => tcp.close());
  assert.equal(welcome.udp?.payloadSize, 1200);
  const udp = await RawUdp.open();
  cleanup.push(() => udp.close());
  await udp.send(encodeUdpBind(welcome.udp!.token), addresses.udpPort);
  await until(() => udp.received.length === 1, 'bind ack');
  udp.received.length = 0;

  const track = await pub.publish({ kind: 'screen', codec: 'jpeg' });
  await tcp.next('trackPublished');
  const frames = [pattern(300 * 1024, 41), pattern(30 * 1024, 42)];
  for (const data of frames) assert.ok(track.send({ data, timestamp: 5_000_000 }));
  const expected = frames.reduce((n, f) => n + Math.ceil(f.byteLength / 1200), 0);
  await until(() => udp.received.length >= expected, () => `${expected} datagrams (got ${udp.received.length})`, 5000);

  assert.equal(udp.received.length, expected);
  assert.ok(udp.received.every((d) => d.byteLength <= 1200 + MEDIA_HEADER_BYTES), 'no datagram over 1240 bytes');
  const reassembler = new Reassembler({ maxFrameBytes: 4 * 1024 * 1024 });
  const whole: Uint8Array[] = [];
  for (const d of udp.received) {
    const done = reassembler.push(decodeMediaPacket(d), d);
    if (done) whole.push(done);
  }
  assert.equal(whole.length, 2);
  whole.forEach((bytes, i) => {
    const packet = decodeMediaPacket(bytes);
    assert.equal(packet.sender, pub.local.id);
    assert.equal(packet.track, track.id);
    assert.equal(packet.sequence, i);
    assert.equal(packet.timestamp, 5_000_000);
    assert.ok(Buffer.from(packet.payload).equals(Buffer.from(frames[i]!)), `frame ${i} byte-identical`);
  });
  assert.equal(tcp.media.length, 0, 'media went over UDP, not TCP');
});

test('localTrackPublished and localTrackUnpublished announce your own tracks, whoever published them', { timeout: 20_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Own', 'Ana');
  sessions.push(ana);
  const published: string[] = [];
  const unpublished: string[] = [];
  ana.on('localTrackPublished', (track) => published.push(`${track.kind}:${ana.local.tracks.get(track.id) === track}`));
  ana.on('localTrackUnpublished', (track) => unpublished.push(`${track.kind}:${track.ended}`));
  const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  const mic = await ana.publish({ kind: 'microphone', codec: 'opus' });
  assert.deepEqual(published, ['camera:true', 'microphone:true'], 'announced once each, already in local.tracks');
  await camera.unpublish();
  assert.deepEqual(unpublished, ['camera:true']);
  await ana.leave();
  assert.deepEqual(unpublished, ['camera:true', 'microphone:true'], 'the rest as the session closes');
  assert.equal(mic.ended, true);
});
