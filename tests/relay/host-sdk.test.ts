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

test('a host key makes its holder host whoever came first (and lets them into a locked meeting); wrong keys are refused and count as guesses', { timeout: 40_000 }, async (t) => {
  const { relay, url } = await startRelay({ hostKey: 'teacher-key', passcodeAttempts: { freeFailures: 2, baseDelayMs: 60_000 } });
  const plain = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await Promise.all([relay.close(), plain.relay.close()]);
  });
  const student = await join(url, 'Class', 'Student');
  sessions.push(student);
  assert.equal(student.local.role, 'host', 'first in: host');
  const teacher = await join(url, 'Class', 'Teacher', { hostKey: 'teacher-key', transport: 'native' });
  sessions.push(teacher);
  assert.equal(teacher.local.role, 'host', 'the key makes the teacher host though the student came first');
  await teacher.host.lock();
  const late = await join(url, 'Class', 'Late teacher', { hostKey: 'teacher-key' });
  sessions.push(late);
  assert.equal(late.local.role, 'host', 'a host key holder gets into a locked meeting');
  await assert.rejects(join(url, 'Class', 'Late student'), (e: LanError) => e.code === 'LAN_ERR_LOCKED');

  // Guessing: wrong keys are refused with LAN_ERR_FORBIDDEN, then the address must wait, even with the right key.
  for (let i = 0; i < 3; i++) {
    await assert.rejects(join(url, 'Other', `Guess ${i}`, { hostKey: `guess-${i}` }), (e: LanError) => e.code === 'LAN_ERR_FORBIDDEN');
  }
  await assert.rejects(join(url, 'Other', 'Right key, too late', { hostKey: 'teacher-key' }), (e: LanError) => e.code === 'LAN_ERR_RATE_LIMITED');
  // The honest meeting beside the guessing is untouched.
  await student.chat.send('still here');
  await until(() => teacher.chat.messages.some((m) => m.text === 'still here'), 'chat still flows in the class');
  // A relay without a host key refuses one: a kiosk configured with a key notices.
  await assert.rejects(join(plain.url, 'Any', 'Kiosk', { hostKey: 'x' }), (e: LanError) => e.code === 'LAN_ERR_FORBIDDEN' && /no host key/.test(e.message));
});

test('session.hands: a queue everyone sees in order, a host lowers a hand, reactions reach everyone', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Hands', 'Ana');
  const ben = await join(url, 'Hands', 'Ben', { transport: 'native' });
  const cy = await join(url, 'Hands', 'Cy');
  sessions.push(ana, ben, cy);
  await until(() => ana.participants.size === 2, 'all three in');
  cy.hands.raise();
  await until(() => ana.hands.queue.length === 1, 'Cy\'s hand at Ana');
  ben.hands.raise();
  await until(() => ana.hands.queue.length === 2 && cy.hands.queue.length === 2, 'both hands everywhere');
  assert.deepEqual(ana.hands.queue, [cy.local.id, ben.local.id], 'oldest first');
  assert.equal(cy.hands.raised, true);
  const late = await join(url, 'Hands', 'Dee');
  sessions.push(late);
  assert.deepEqual(late.hands.queue, [cy.local.id, ben.local.id], 'a late joiner gets the queue');
  const lowered: string[] = [];
  cy.on('handLowered', (id, by) => lowered.push(`${id} by ${by}`));
  await ana.host.lowerHand(cy.local.id);
  await until(() => lowered.length === 1, 'Cy sees her hand lowered');
  assert.deepEqual(lowered, [`${cy.local.id} by ${ana.local.id}`]);
  assert.equal(cy.hands.raised, false);
  const reactions: string[] = [];
  late.on('reaction', (id, emoji) => reactions.push(`${id} ${emoji}`));
  ben.hands.react('👏');
  await until(() => reactions.length === 1, 'the reaction reaches Dee');
  assert.deepEqual(reactions, [`${ben.local.id} 👏`]);
  assert.throws(() => ben.hands.react('💩' as never), TypeError);
  await ben.leave();
  await until(() => ana.hands.queue.length === 0, 'Ben\'s hand goes with him');
});

test('hosts only may unmute: a muted person cannot turn the microphone back on until a host asks, and asking unmutes nothing by itself', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Quiet', 'Ana');
  const ben = await join(url, 'Quiet', 'Ben', { transport: 'native' });
  sessions.push(ana, ben);
  const mic = await ben.publish({ kind: 'microphone', codec: 'pcm16' });
  await until(() => ana.tracks.has(mic.id), 'Ben\'s microphone announced');
  await assert.rejects(ben.host.restrictUnmute(), (e: LanError) => e.code === 'LAN_ERR_FORBIDDEN');
  await ana.host.restrictUnmute();
  await ana.host.mute(ben.local.id);
  await until(() => mic.muted && ana.tracks.get(mic.id)!.muted, 'muted');
  // Ben tries: refused, and his track is muted again on his side.
  const errors: string[] = [];
  ben.on('error', (e) => errors.push(e.code));
  await mic.unmute();
  await until(() => errors.includes('LAN_ERR_FORBIDDEN') && mic.muted, 'the unmute refused and undone');
  await sleep(200);
  assert.equal(ana.tracks.get(mic.id)!.muted, true, 'still muted for everyone');
  // Ana asks: Ben gets a prompt, and nothing is unmuted until he does it.
  const asked: string[] = [];
  ben.on('unmuteRequested', (kind, by) => asked.push(`${kind} by ${by}`));
  await ana.host.askToUnmute(ben.local.id);
  await until(() => asked.length === 1, 'the prompt');
  assert.deepEqual(asked, [`microphone by ${ana.local.id}`]);
  await sleep(200);
  assert.equal(mic.muted, true, 'asking unmutes nothing');
  await mic.unmute();
  await until(() => !ana.tracks.get(mic.id)!.muted, 'Ben turned it back on himself');
});
