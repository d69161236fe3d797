// Host controls through the SDK, over both transports: session.host's actions resolve once done and
// reject a guest with LAN_ERR_FORBIDDEN; everyone gets hostAction and roleChanged events; a host's mute
// mutes the person's own track in their session (mutedByHost); removed and ended sessions end for good.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import type { HostAction } from '../../sdk/HostControls.js';
import type { LanError } from '../../sdk/errors.js';
import { join, leaveAll, sleep, startRelay, until } from '../helpers.js';

for (const transport of ['websocket', 'native'] as const) {
  test(`session.host over ${transport}: refusal, mute seen on both sides, roles, remove, end`, { timeout: 40_000 }, async (t) => {
    const { relay, url } = await startRelay();
    const sessions: Session[] = [];
    t.after(async () => {
      await leaveAll(sessions);
      await relay.close();
    });
    const ana = await join(url, 'Run', 'Ana', { transport });
    const ben = await join(url, 'Run', 'Ben', { transport });
    const cy = await join(url, 'Run', 'Cy', { transport });
    sessions.push(ana, ben, cy);
    await until(() => ana.participants.size === 2 && cy.participants.size === 2, 'all three in');
    assert.equal(ana.local.role, 'host');
    assert.equal(ben.local.role, 'guest');
    const seen: HostAction[] = [];
    cy.on('hostAction', (a) => seen.push(a));

    // A guest is refused.
    await assert.rejects(ben.host.lock(), (e: LanError) => e.code === 'LAN_ERR_FORBIDDEN');

    // Ana mutes Ben's microphone: Ben's own track is muted in his session, everyone sees it muted, by Ana.
    const mic = await ben.publish({ kind: 'microphone', codec: 'pcm16' });
    await until(() => cy.tracks.has(mic.id), 'Ben\'s microphone announced');
    const mutedBy: string[] = [];
    ben.on('mutedByHost', (track, by) => mutedBy.push(`${track.id} by ${by}`));
    await ana.host.mute(ben.local.id);
    await until(() => mic.muted && cy.tracks.get(mic.id)!.muted && mutedBy.length === 1, 'muted on both sides');
    assert.deepEqual(mutedBy, [`${mic.id} by ${ana.local.id}`]);
    assert.equal(mic.send({ data: new Uint8Array(640) }), false, 'a muted track sends nothing');
    await until(() => seen.some((a) => a.action === 'mute' && a.by === ana.local.id && a.participantId === ben.local.id), 'Cy heard of it');
    // Ben may unmute himself.
    await mic.unmute();
    await until(() => !cy.tracks.get(mic.id)!.muted, 'Ben unmuted');

    // Roles: Ana makes Cy host; everyone's view of Cy changes.
    const roles: string[] = [];
    ben.on('roleChanged', (id, role, by) => roles.push(`${id} ${role} ${by ?? '-'}`));
    await ana.host.makeHost(cy.local.id);
    await until(() => cy.local.role === 'host' && ben.participants.get(cy.local.id)!.role === 'host', 'Cy is host everywhere');
    assert.deepEqual(roles, [`${cy.local.id} host ${ana.local.id}`]);

    // Cy removes Ben: his session ends with LAN_ERR_REMOVED and does not come back.
    const benGone = new Promise<LanError | undefined>((resolve) => ben.once('disconnected', resolve));
    await cy.host.remove(ben.local.id);
    assert.equal((await benGone)?.code, 'LAN_ERR_REMOVED');
    await sleep(300);
    assert.equal(ben.state, 'closed', 'a removed session does not reconnect');
    await until(() => !ana.participants.has(ben.local.id), 'Ben is gone for Ana');

    // Ana ends the meeting: both sessions end with LAN_ERR_ENDED.
    const ends = [ana, cy].map((s) => new Promise<LanError | undefined>((resolve) => s.once('disconnected', resolve)));
    await ana.host.end().catch(() => undefined); // the connection may close before hostDone is read
    assert.deepEqual((await Promise.all(ends)).map((e) => e?.code), ['LAN_ERR_ENDED', 'LAN_ERR_ENDED']);
    await until(() => !relay.rooms.has('Run'), 'the meeting is gone');
  });
}
