// Pausing someone else's track (`subscription`, RemoteTrack.pause/resume): the relay forwards a paused
// track to nobody who paused it, everyone else still gets every frame; resuming a video track asks the
// publisher for a key frame and the first frame the subscriber gets again is one; a pause survives a
// dropped connection; bad requests get a clear error and change nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import type { LocalTrack, RemoteFrame } from '../../sdk/Track.js';
import { RawWs, join, leaveAll, pattern, sleep, startRelay, until } from '../helpers.js';

/** Sends frames on `track` every 20 ms (a key frame when asked, else deltas) until stopped. */
function stream(track: LocalTrack): { stop(): void; keyFramesAsked: () => number } {
  let asked = 0;
  let keyWanted = true;
  track.on('keyFrameRequested', () => {
    asked++;
    keyWanted = true;
  });
  let n = 0;
  const timer = setInterval(() => {
    track.send({ data: pattern(2000, n++), keyFrame: keyWanted, timestamp: Date.now() * 1000 });
    keyWanted = false;
  }, 20);
  return { stop: () => clearInterval(timer), keyFramesAsked: () => asked };
}

function collect(session: Session, trackId: string): RemoteFrame[] {
  const frames: RemoteFrame[] = [];
  session.tracks.get(trackId)!.on('frame', (frame) => frames.push(frame));
  return frames;
}

test('a paused track reaches nobody who paused it and everyone else; resuming starts at a key frame the relay asked for', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  let publisher: { stop(): void; keyFramesAsked: () => number } | undefined;
  t.after(async () => {
    publisher?.stop();
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Pause', 'Ana');
  const ben = await join(url, 'Pause', 'Ben', { transport: 'native' });
  const cy = await join(url, 'Pause', 'Cy');
  sessions.push(ana, ben, cy);
  const camera = await ana.publish({ kind: 'camera', codec: 'vp8' });
  const mic = await ana.publish({ kind: 'microphone', codec: 'opus' });
  await until(() => ben.tracks.has(camera.id) && cy.tracks.has(camera.id) && ben.tracks.has(mic.id), 'both see the tracks');
  const benFrames = collect(ben, camera.id);
  const cyFrames = collect(cy, camera.id);
  const benAudio: RemoteFrame[] = collect(ben, mic.id);
  publisher = stream(camera);
  const audioTimer = setInterval(() => mic.send({ data: pattern(80, 1), keyFrame: true, timestamp: Date.now() * 1000 }), 20);
  t.after(() => clearInterval(audioTimer));
  await until(() => benFrames.length >= 5 && cyFrames.length >= 5, 'frames flow to both');

  const benCamera = ben.tracks.get(camera.id)!;
  assert.equal(benCamera.paused, false);
  benCamera.pause();
  assert.equal(benCamera.paused, true);
  await until(() => relay.rooms.get('Pause')!.participants.get(ben.local.id)!.paused.has(camera.id), 'the relay has the pause');
  const benAt = benFrames.length;
  const cyAt = cyFrames.length;
  const audioAt = benAudio.length;
  await sleep(500);
  // A frame already on its way may still land just after the pause took effect; nothing after that.
  assert.ok(benFrames.length - benAt <= 1, `Ben gets no camera frames while paused (${benFrames.length - benAt})`);
  // 25 frames were sent in those 500 ms; a loaded machine may be slow, but the others do get them.
  assert.ok(cyFrames.length - cyAt >= 5, `Cy still gets them (${cyFrames.length - cyAt} in 500 ms)`);
  assert.ok(benAudio.length - audioAt >= 5, `Ben still gets the microphone (${benAudio.length - audioAt} in 500 ms)`);

  const asked = publisher.keyFramesAsked();
  const resumedAt = benFrames.length;
  benCamera.resume();
  assert.equal(benCamera.paused, false);
  await until(() => benFrames.length > resumedAt + 5, 'frames reach Ben again');
  assert.ok(publisher.keyFramesAsked() > asked, 'the publisher was asked for a key frame');
  assert.equal(benFrames[resumedAt]!.keyFrame, true, 'the first frame after resuming is a key frame');
  // Cy never missed a frame: consecutive sequences from first to last.
  const seqs = cyFrames.map((f) => f.sequence);
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0]! + i), 'Cy got every frame in order');
});

test('a pause holds over a dropped connection, and one made while reconnecting reaches the relay after the resume', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Hold', 'Ana');
  const ben = await join(url, 'Hold', 'Ben', { transport: 'native' });
  sessions.push(ana, ben);
  const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  const screen = await ana.publish({ kind: 'screen', codec: 'jpeg' });
  await until(() => ben.tracks.has(camera.id) && ben.tracks.has(screen.id), 'Ben sees both tracks');
  const peerOf = () => relay.rooms.get('Hold')!.participants.get(ben.local.id)!;
  ben.tracks.get(camera.id)!.pause();
  await until(() => peerOf().paused.has(camera.id), 'the relay has the camera paused');

  // Cut Ben's connection; while he reconnects, pause the screen too (the message cannot go out yet).
  peerOf().connection!.link.destroy();
  await until(() => ben.state === 'reconnecting', 'Ben reconnecting');
  ben.tracks.get(screen.id)!.pause();
  await until(() => ben.state === 'connected', 'Ben back', 10_000);
  await until(() => peerOf().paused.has(screen.id), 'the pause made while away reached the relay');
  assert.ok(peerOf().paused.has(camera.id), 'the earlier pause held over the resume');

  const frames = collect(ben, camera.id);
  const screenFrames = collect(ben, screen.id);
  for (let i = 0; i < 10; i++) {
    camera.send({ data: pattern(500, i), keyFrame: true, timestamp: Date.now() * 1000 });
    screen.send({ data: pattern(500, i), keyFrame: true, timestamp: Date.now() * 1000 });
  }
  await sleep(300);
  assert.equal(frames.length + screenFrames.length, 0, 'Ben gets neither paused track');

  ben.tracks.get(camera.id)!.resume();
  await until(() => !peerOf().paused.has(camera.id), 'the relay has the camera resumed');
  camera.send({ data: pattern(500, 99), keyFrame: true, timestamp: Date.now() * 1000 });
  await until(() => frames.length === 1, 'the camera reaches Ben again');

  // An unpublished track leaves nothing behind in the relay's pauses.
  await screen.unpublish();
  await until(() => !peerOf().paused.has(screen.id), 'the unpublished track is forgotten');
});

test('pausing an unknown track or your own gets LAN_ERR_UNKNOWN_TRACK and changes nothing', { timeout: 20_000 }, async (t) => {
  const { relay, url, wsUrl } = await startRelay();
  const sessions: Session[] = [];
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Bad', 'Ana');
  sessions.push(ana);
  const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  const { client: raw, welcome } = await RawWs.join(wsUrl, 'Bad', 'Raw');
  raws.push(raw);

  raw.sendJson({ type: 'subscription', trackId: 'ffffffffffffffff', paused: true });
  const unknown = await raw.next('error');
  assert.equal(unknown.code, 'LAN_ERR_UNKNOWN_TRACK');
  assert.match(String(unknown.message), /no track ffffffffffffffff/);

  raw.sendJson({ type: 'publish', requestId: 'p', kind: 'camera', codec: 'jpeg' });
  const own = ((await raw.next('published')).track as { id: string }).id;
  raw.sendJson({ type: 'subscription', trackId: own, paused: true });
  const mine = await raw.next('error', 3000, (m) => String(m.message).includes('your own'));
  assert.equal(mine.code, 'LAN_ERR_UNKNOWN_TRACK');

  raw.sendJson({ type: 'subscription', trackId: camera.id, paused: 'yes' });
  assert.equal((await raw.next('error', 3000, (m) => m.code === 'LAN_ERR_INVALID_MESSAGE')).code, 'LAN_ERR_INVALID_MESSAGE');

  // Nothing was paused, and the relay still forwards Ana's camera to the raw client.
  const peer = relay.rooms.get('Bad')!.participants.get(welcome.you.id)!;
  assert.equal(peer.paused.size, 0);
  camera.send({ data: pattern(100, 1), keyFrame: true, timestamp: Date.now() * 1000 });
  await until(() => raw.media.some((m) => m.track === camera.id), 'the camera reaches the raw client');
});

test('pause and resume within 100 ms send nothing; a track that goes away while shown costs no error', { timeout: 20_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Flap', 'Ana');
  const ben = await join(url, 'Flap', 'Ben');
  sessions.push(ana, ben);
  const errors: string[] = [];
  ben.on('error', (e) => errors.push(e.code));
  const room = relay.rooms.get('Flap')!;
  const peer = room.participants.get(ben.local.id)!;
  // Count the subscription messages the relay handles (pings and the rest are not of interest here).
  let subscriptions = 0;
  const handle = room.subscription.bind(room);
  room.subscription = (...args) => {
    subscriptions++;
    handle(...args);
  };
  for (let round = 0; round < 30; round++) {
    const screen = await ana.publish({ kind: 'screen', codec: 'jpeg' });
    await until(() => ben.tracks.has(screen.id), 'Ben sees the screen');
    const track = ben.tracks.get(screen.id)!;
    const before = subscriptions;
    // Hidden and shown again at once (a grid re-laying out): no message at all.
    track.pause();
    track.resume();
    if (round % 2 === 0) {
      track.pause();
      await until(() => peer.paused.has(screen.id), 'a pause that stays reaches the relay');
    }
    // The publisher stops sharing (paused here or not): Ben's side sends nothing more about it.
    await screen.unpublish();
    await until(() => !ben.tracks.has(screen.id), 'the screen is gone for Ben');
    await sleep(150);
    assert.equal(subscriptions - before, round % 2 === 0 ? 1 : 0, `round ${round}: only the pause that stayed was sent`);
  }
  assert.deepEqual(errors, [], 'no LAN_ERR_UNKNOWN_TRACK for tracks that went away');
  assert.equal(ben.state, 'connected');
});
