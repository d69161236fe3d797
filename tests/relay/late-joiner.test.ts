// The README's first example, as a late joiner runs it: `s.on('trackPublished', …)` right after
// `await joinMeeting(…)` sees the tracks that were in the meeting before the join, once each, and gets
// their frames; people already there stay in `participants` without a "joined" event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RemoteTrack } from '../../sdk/Track.js';
import { join, leaveAll, pattern, sleep, startRelay, until } from '../helpers.js';

for (const transport of ['websocket', 'native'] as const) {
  test(`a late joiner over ${transport} gets trackPublished for the tracks already there, then their frames`, { timeout: 30_000 }, async (t) => {
    const { relay, url } = await startRelay();
    const ana = await join(url, 'Late', 'Ana');
    t.after(async () => {
      await leaveAll([ana]);
      await relay.close();
    });
    const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });
    const mic = await ana.publish({ kind: 'microphone', codec: 'pcm16' });
    let sending = true;
    const sender = (async () => {
      for (let i = 0; sending; i++) {
        camera.send({ data: pattern(3000, i) });
        mic.send({ data: pattern(960, i) });
        await sleep(20);
      }
    })();

    const ben = await join(url, 'Late', 'Ben', { transport });
    t.after(() => leaveAll([ben]));
    // The README's code, right after the await.
    const announced: RemoteTrack[] = [];
    const frames = new Map<string, number>();
    const joined: string[] = [];
    ben.on('participantJoined', (p) => joined.push(p.name));
    ben.on('trackPublished', (track) => {
      announced.push(track);
      track.on('frame', () => frames.set(track.id, (frames.get(track.id) ?? 0) + 1));
    });
    assert.equal(ben.tracks.size, 2, 'the tracks are in session.tracks as joinMeeting resolves');
    await until(() => (frames.get(camera.id) ?? 0) >= 10 && (frames.get(mic.id) ?? 0) >= 10, () => `frames of both tracks arrive (${[...frames.values()]})`, 10_000);
    assert.deepEqual(announced.map((track) => track.id).sort(), [camera.id, mic.id].sort(), 'each track announced once');
    assert.ok(announced.every((track) => track.participantId === ana.local.id));
    assert.deepEqual(joined, [], 'Ana, already there, is not announced as joining');
    assert.ok(ben.participants.has(ana.local.id));

    // A track published after the join is announced once, as before.
    const screen = await ana.publish({ kind: 'screen', codec: 'jpeg' });
    await until(() => announced.some((track) => track.id === screen.id), 'the new track is announced');
    await sleep(100);
    assert.equal(announced.length, 3, 'no track announced twice');
    sending = false;
    await sender;
  });
}
