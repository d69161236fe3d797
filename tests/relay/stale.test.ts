import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nowMicros, type RemoteFrame } from '../../sdk/Track.js';
import type { Session } from '../../sdk/Session.js';
import { join, leaveAll, startRelay, until } from '../helpers.js';

for (const transport of ['websocket', 'native'] as const) {
  test(`relay drops a video frame that queued far longer than its track's recent best (${transport}) and asks for a key frame`, { timeout: 15_000 }, async (t) => {
    const { relay, url } = await startRelay();
    const sessions: Session[] = [];
    t.after(async () => {
      await leaveAll(sessions);
      await relay.close();
    });
    const pub = await join(url, 'Stale', 'Pub', { transport });
    const sub = await join(url, 'Stale', 'Sub');
    sessions.push(pub, sub);
    const received: RemoteFrame[] = [];
    sub.on('trackPublished', (track) => track.on('frame', (f) => received.push(f)));
    const camera = await pub.publish({ kind: 'camera', codec: 'jpeg' });
    let keyFrameRequests = 0;
    camera.on('keyFrameRequested', () => keyFrameRequests++);
    const data = new Uint8Array(1000).fill(7);
    for (let i = 0; i < 5; i++) assert.ok(camera.send({ data }));
    await until(() => received.length === 5, () => `5 fresh frames forwarded (got ${received.length})`);
    const before = keyFrameRequests;
    // Captured a second ago: it spent ~1 s more on the way than the others.
    assert.ok(camera.send({ data, timestamp: nowMicros() - 1_000_000 }));
    assert.ok(camera.send({ data }));
    await until(() => received.length === 6, () => `the fresh frame after it forwarded (got ${received.length})`);
    assert.deepEqual(received.map((f) => f.sequence), [0, 1, 2, 3, 4, 6], 'the stale frame (5) was not forwarded');
    await until(() => keyFrameRequests > before, 'a key-frame request for the publisher');
    const peer = relay.rooms.get('Stale')!.participants.get(pub.local.id)!;
    assert.equal(peer.stats.staleDropped, 1);
    // Audio is never judged stale: it is small and the jitter buffer decides.
    const mic = await pub.publish({ kind: 'microphone', codec: 'pcm16' });
    assert.ok(mic.send({ data: new Uint8Array(1920), timestamp: nowMicros() - 1_000_000 }));
    await until(() => received.length === 7, 'the old audio frame forwarded');
  });
}
