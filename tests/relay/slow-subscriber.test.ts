import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { RawTcp, join, leaveAll, pattern, sleep, startRelay, until } from '../helpers.js';

test('a subscriber that stops reading loses whole video frames; the others get every frame and the publisher is not slowed', { timeout: 30_000 }, async (t) => {
  const { relay, url, addresses } = await startRelay();
  const sessions: Session[] = [];
  let slow: RawTcp | undefined;
  t.after(async () => {
    slow?.close();
    await leaveAll(sessions);
    await relay.close();
  });
  const pub = await join(url, 'Slow', 'Publisher');
  const fastWs = await join(url, 'Slow', 'Fast WS');
  const fastNative = await join(url, 'Slow', 'Fast native', { transport: 'native' });
  sessions.push(pub, fastWs, fastNative);
  const joined = await RawTcp.join(addresses.tcpPort, 'Slow', 'Sloth');
  slow = joined.client;
  const slowPeer = relay.rooms.get('Slow')!.participants.get(joined.welcome.you.id)!;
  await until(() => sessions.every((s) => s.participants.size === 3), 'everyone joined');

  const track = await pub.publish({ kind: 'camera', codec: 'jpeg' });
  await until(() => fastWs.tracks.has(track.id) && fastNative.tracks.has(track.id), 'track announced');
  await slow.next('trackPublished');
  slow.socket.pause(); // from now on the sloth reads nothing

  const FRAMES = 60;
  const SIZE = 300 * 1024;
  const frames = Array.from({ length: 4 }, (_, i) => pattern(SIZE, 500 + i));
  const got = new Map<Session, number[]>([[fastWs, []], [fastNative, []]]);
  let corrupt = 0;
  for (const s of [fastWs, fastNative]) {
    s.tracks.get(track.id)!.on('frame', (f) => {
      if (!Buffer.from(f.data).equals(Buffer.from(frames[f.sequence % 4]!))) corrupt++;
      got.get(s)!.push(f.sequence);
    });
  }

  const started = Date.now();
  let accepted = 0;
  for (let i = 0; i < FRAMES; i++) {
    if (track.send({ data: frames[i % 4]! })) accepted++;
    await sleep(15);
  }
  const sendingMs = Date.now() - started;
  await until(() => got.get(fastWs)!.length === FRAMES && got.get(fastNative)!.length === FRAMES,
    () => `both fast subscribers got all ${FRAMES} frames (ws ${got.get(fastWs)!.length}, native ${got.get(fastNative)!.length})`, 5000);

  assert.equal(accepted, FRAMES, 'the publisher sent every frame');
  assert.equal(track.stats.framesDropped, 0, 'the publisher dropped nothing');
  assert.ok(sendingMs < FRAMES * 15 + 2000, `the publisher was not held up (${sendingMs} ms for ${FRAMES} frames)`);
  assert.equal(corrupt, 0);
  for (const s of [fastWs, fastNative]) {
    assert.deepEqual(got.get(s), Array.from({ length: FRAMES }, (_, i) => i), `${s.local.name} got every frame in order`);
    assert.equal(relay.rooms.get('Slow')!.participants.get(s.local.id)!.stats.videoDropped, 0);
  }
  assert.ok(slowPeer.stats.videoDropped > 0, `the relay dropped video for the sloth (dropped ${slowPeer.stats.videoDropped})`);
  assert.equal(slowPeer.stats.framesOut + slowPeer.stats.videoDropped, FRAMES, 'each frame was either queued or dropped whole');
  assert.equal(slowPeer.connection?.closed, false, 'a slow subscriber is not disconnected for being behind on video');

  // When the sloth reads again, what it gets is whole frames only, and it is still in the meeting.
  slow.socket.resume();
  await until(() => slow!.media.length === slowPeer.stats.framesOut, 'the sloth drained its queue', 5000);
  for (const packet of slow.media) {
    assert.equal(packet.payload.byteLength, SIZE);
    assert.ok(Buffer.from(packet.payload).equals(Buffer.from(frames[packet.sequence % 4]!)), `frame ${packet.sequence} is whole`);
  }
  assert.ok(track.send({ data: frames[FRAMES % 4]! }));
  await until(() => slow!.media.at(-1)?.sequence === FRAMES, 'the sloth gets new frames again');
});
