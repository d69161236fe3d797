// Host actions at the relay (issue 15, the relay's part): only a host may act, everyone is told who did
// what, and each action has its effect: lock, remove (and block), mute, mute all, make host, step down,
// a new host when the last one leaves, end for all. Raw WebSocket clients show the wire as it is.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { encodeMediaPacket } from '../../sdk/protocol/index.js';
import { RawWs, joinMessage, pattern, sleep, startRelay, until, type TestRelay } from '../helpers.js';

type Raw = Awaited<ReturnType<typeof RawWs.join>>;

/** A relay and a meeting with Ana (the host: she came first) and two guests. */
async function meeting(t: TestContext, name: string): Promise<TestRelay & { ana: Raw; ben: Raw; cy: Raw; all: Raw[] }> {
  const started = await startRelay();
  const all: Raw[] = [];
  t.after(async () => {
    for (const c of all) c.client.close();
    await started.relay.close();
  });
  const ana = await RawWs.join(started.wsUrl, name, 'Ana');
  all.push(ana);
  const ben = await RawWs.join(started.wsUrl, name, 'Ben');
  all.push(ben);
  const cy = await RawWs.join(started.wsUrl, name, 'Cy', {}, '127.0.0.2');
  all.push(cy);
  assert.equal((ana.welcome.you as { role?: string }).role, 'host');
  assert.equal((ben.welcome.you as { role?: string }).role, 'guest');
  return { ...started, ana, ben, cy, all };
}

const host = (c: Raw, requestId: string, action: string, extra: Record<string, unknown> = {}) =>
  c.client.sendJson({ type: 'host', requestId, action, ...extra });

test('a guest may not act: LAN_ERR_FORBIDDEN on its request, and nothing changes', { timeout: 20_000 }, async (t) => {
  const m = await meeting(t, 'Forbidden');
  for (const [i, action] of ['lock', 'remove', 'mute', 'muteAll', 'makeHost', 'end'].entries()) {
    host(m.ben, `g${i}`, action, { participantId: m.ana.welcome.you.id });
    const refused = await m.ben.client.next('error', 3000, (e) => e.requestId === `g${i}`);
    assert.equal(refused.code, 'LAN_ERR_FORBIDDEN', action);
  }
  await sleep(100);
  for (const c of m.all) assert.equal(c.client.messages.filter((x) => x.type === 'hostAction' || x.type === 'roleChanged').length, 0);
  // Still open and unlocked: a newcomer joins.
  const { welcome } = await RawWs.join(m.wsUrl, 'Forbidden', 'Dee');
  assert.equal(welcome.participants.length, 3);
  assert.equal(m.ana.client.closed || m.ben.client.closed, false);
});

test('lock keeps newcomers out with LAN_ERR_LOCKED; unlock lets them in; everyone hears who did it', { timeout: 20_000 }, async (t) => {
  const m = await meeting(t, 'Lock');
  host(m.ana, 'l1', 'lock');
  await m.ana.client.next('hostDone', 3000, (x) => x.requestId === 'l1');
  for (const c of m.all) {
    const told = await c.client.next('hostAction', 3000, (x) => x.action === 'lock');
    assert.equal(told.by, m.ana.welcome.you.id);
  }
  const late = await RawWs.open(m.wsUrl);
  late.ws.send(joinMessage('Lock', 'Late', 'websocket'));
  const refused = await late.next('error');
  assert.equal(refused.code, 'LAN_ERR_LOCKED');
  assert.equal(refused.fatal, true);
  await late.waitClosed();
  assert.equal(m.relay.rooms.get('Lock')!.participants.size, 3, 'nobody new got in');
  host(m.ana, 'l2', 'unlock');
  await m.ana.client.next('hostDone', 3000, (x) => x.requestId === 'l2');
  const { welcome } = await RawWs.join(m.wsUrl, 'Lock', 'Late');
  assert.equal(welcome.participants.length, 3);
});

test('remove with block: the person is told LAN_ERR_REMOVED and leaves, their address cannot rejoin, the others stay', { timeout: 20_000 }, async (t) => {
  const m = await meeting(t, 'Remove');
  host(m.ana, 'r1', 'remove', { participantId: m.cy.welcome.you.id, block: true });
  const told = await m.cy.client.next('error');
  assert.equal(told.code, 'LAN_ERR_REMOVED');
  assert.equal(told.fatal, true);
  assert.match(String(told.message), /Ana removed you/);
  await m.cy.client.waitClosed();
  const left = await m.ben.client.next('participantLeft', 3000, (x) => x.participantId === m.cy.welcome.you.id);
  assert.equal(left.reason, 'LAN_ERR_REMOVED');
  assert.equal(m.relay.rooms.get('Remove')!.participants.has(m.cy.welcome.you.id), false, 'not held for a resume');
  // Cy's address (127.0.0.2) is blocked from this meeting; 127.0.0.1 still joins, and 127.0.0.2 may join another.
  const again = await RawWs.open(m.wsUrl, '127.0.0.2');
  again.ws.send(joinMessage('Remove', 'Cy', 'websocket'));
  assert.equal((await again.next('error')).code, 'LAN_ERR_REMOVED');
  await RawWs.join(m.wsUrl, 'Remove', 'Dee');
  const elsewhere = await RawWs.join(m.wsUrl, 'Other', 'Cy', {}, '127.0.0.2');
  assert.equal((elsewhere.welcome as unknown as { meeting: string }).meeting, 'Other');
  elsewhere.client.close();
  // Acting on nobody, or on oneself, is refused.
  host(m.ana, 'r2', 'remove', { participantId: m.cy.welcome.you.id });
  assert.equal((await m.ana.client.next('error', 3000, (x) => x.requestId === 'r2')).code, 'LAN_ERR_INVALID_MESSAGE');
  host(m.ana, 'r3', 'remove', { participantId: m.ana.welcome.you.id });
  assert.equal((await m.ana.client.next('error', 3000, (x) => x.requestId === 'r3')).code, 'LAN_ERR_INVALID_MESSAGE');
});

test('mute stops forwarding a microphone and tells everyone who muted it; the person may unmute; mute all spares hosts', { timeout: 20_000 }, async (t) => {
  const m = await meeting(t, 'Mute');
  m.ben.client.sendJson({ type: 'publish', requestId: 'p1', kind: 'microphone', codec: 'pcm16' });
  const track = ((await m.ben.client.next('published')).track as { id: string }).id;
  const frame = (seq: number) => encodeMediaPacket({ kind: 'microphone', codec: 'pcm16', track, sender: '0000000000000000', sequence: seq, timestamp: Date.now() * 1000 }, pattern(640, seq));
  await until(() => m.ana.client.messages.some((x) => x.type === 'trackPublished'), 'the track announced');
  m.ben.client.sendBinary(frame(1));
  await until(() => m.ana.client.media.length === 1, 'the first frame reaches Ana');

  host(m.ana, 'm1', 'mute', { participantId: m.ben.welcome.you.id });
  for (const c of m.all) {
    const muted = await c.client.next('trackMuted', 3000, (x) => x.trackId === track);
    assert.equal(muted.muted, true);
    assert.equal(muted.by, m.ana.welcome.you.id);
  }
  m.ben.client.sendBinary(frame(2));
  await sleep(200);
  assert.equal(m.ana.client.media.length, 1, 'a muted microphone is not forwarded');
  // Ben unmutes himself: his frames flow again.
  m.ben.client.sendJson({ type: 'mute', trackId: track, muted: false });
  await m.ana.client.next('trackMuted', 3000, (x) => x.trackId === track && x.muted === false);
  m.ben.client.sendBinary(frame(3));
  await until(() => m.ana.client.media.length === 2, 'frames flow after he unmutes');

  // Mute all: Ben's microphone again, and Ana's own (a host's) is left alone.
  m.ana.client.sendJson({ type: 'publish', requestId: 'p2', kind: 'microphone', codec: 'pcm16' });
  const anaTrack = ((await m.ana.client.next('published')).track as { id: string }).id;
  host(m.ana, 'm2', 'muteAll');
  await m.cy.client.next('trackMuted', 3000, (x) => x.trackId === track && x.muted === true && x.by === m.ana.welcome.you.id);
  await sleep(150);
  assert.equal(m.cy.client.messages.some((x) => x.type === 'trackMuted' && x.trackId === anaTrack), false, 'a host is not muted by mute all');
});

test('roles: make host, step down, and a new host when the last one leaves', { timeout: 20_000 }, async (t) => {
  const m = await meeting(t, 'Roles');
  host(m.ana, 'h1', 'makeHost', { participantId: m.cy.welcome.you.id });
  const made = await m.ben.client.next('roleChanged', 3000, (x) => x.participantId === m.cy.welcome.you.id);
  assert.deepEqual([made.role, made.by], ['host', m.ana.welcome.you.id]);
  // Cy, a host now, may act.
  host(m.cy, 'c1', 'lock');
  await m.cy.client.next('hostDone', 3000, (x) => x.requestId === 'c1');
  host(m.cy, 'c2', 'unlock');
  await m.cy.client.next('hostDone', 3000, (x) => x.requestId === 'c2');
  // Both step down: when the last host goes, the one here longest (Ana) is host again, named by the relay.
  host(m.ana, 'h2', 'stepDown');
  await m.ben.client.next('roleChanged', 3000, (x) => x.participantId === m.ana.welcome.you.id && x.role === 'guest');
  host(m.cy, 'c3', 'stepDown');
  const named = await m.ben.client.next('roleChanged', 3000, (x) => x.participantId === m.ana.welcome.you.id && x.role === 'host' && x.by === undefined);
  assert.equal(named.by, undefined);
  // Ana leaves: Ben, here longer than Cy, becomes host.
  m.ana.client.sendJson({ type: 'leave' });
  const next = await m.cy.client.next('roleChanged', 3000, (x) => x.participantId === m.ben.welcome.you.id);
  assert.equal(next.role, 'host');
  assert.equal(m.relay.rooms.get('Roles')!.participants.get(m.ben.welcome.you.id)!.role, 'host');
});

test('end for all: everyone is told LAN_ERR_ENDED and closed; the meeting is gone', { timeout: 20_000 }, async (t) => {
  const m = await meeting(t, 'End');
  host(m.ana, 'e1', 'end');
  for (const c of m.all) {
    const told = await c.client.next('error', 3000, (x) => x.code === 'LAN_ERR_ENDED');
    assert.equal(told.fatal, true);
    await c.client.waitClosed();
  }
  await until(() => !m.relay.rooms.has('End'), 'the meeting is gone');
  // The relay keeps serving: a new meeting of that name starts afresh.
  const { welcome } = await RawWs.join(m.wsUrl, 'End', 'Dee');
  assert.equal(welcome.participants.length, 0);
});

test('hands go up in order and a host may lower any; reactions reach everyone; both are rate-limited and checked', { timeout: 20_000 }, async (t) => {
  const m = await meeting(t, 'Hands');
  m.cy.client.sendJson({ type: 'hand', raised: true });
  await m.ana.client.next('hand', 3000, (x) => x.participantId === m.cy.welcome.you.id && x.raised === true);
  m.ben.client.sendJson({ type: 'hand', raised: true });
  await m.ana.client.next('hand', 3000, (x) => x.participantId === m.ben.welcome.you.id && x.raised === true);
  // A late joiner gets the queue, oldest first.
  const late = await RawWs.join(m.wsUrl, 'Hands', 'Dee');
  m.all.push(late);
  assert.deepEqual((late.welcome as unknown as { hands: string[] }).hands, [m.cy.welcome.you.id, m.ben.welcome.you.id]);
  // A guest cannot lower someone else's hand; a host can, and everyone is told by whom.
  host(m.ben, 'g1', 'lowerHand', { participantId: m.cy.welcome.you.id });
  assert.equal((await m.ben.client.next('error', 3000, (x) => x.requestId === 'g1')).code, 'LAN_ERR_FORBIDDEN');
  host(m.ana, 'a1', 'lowerHand', { participantId: m.cy.welcome.you.id });
  const lowered = await late.client.next('hand', 3000, (x) => x.participantId === m.cy.welcome.you.id && x.raised === false);
  assert.equal(lowered.by, m.ana.welcome.you.id);
  assert.deepEqual(m.relay.rooms.get('Hands')!.hands.map((p) => p.id), [m.ben.welcome.you.id]);
  // Reactions: one of the list reaches everyone; anything else is refused by the schema.
  m.ben.client.sendJson({ type: 'react', emoji: '🎉' });
  for (const c of m.all) assert.equal((await c.client.next('reaction', 3000)).emoji, '🎉');
  m.ben.client.sendJson({ type: 'react', emoji: '<script>' });
  assert.equal((await m.ben.client.next('error', 3000, (x) => x.code === 'LAN_ERR_INVALID_MESSAGE')).fatal, undefined);
  // Bursts: a few are let through, then one a second.
  for (let i = 0; i < 8; i++) m.cy.client.sendJson({ type: 'react', emoji: '👍' });
  await m.cy.client.next('error', 3000, (x) => x.code === 'LAN_ERR_RATE_LIMITED');
  await sleep(200);
  const thumbs = m.ana.client.messages.filter((x) => x.type === 'reaction' && x.emoji === '👍').length;
  assert.ok(thumbs >= 4 && thumbs <= 6, `a burst of about five got through (${thumbs})`);
  // Leaving takes a raised hand down.
  m.ben.client.sendJson({ type: 'leave' });
  await until(() => m.relay.rooms.get('Hands')!.hands.length === 0, 'Ben\'s hand went with him');
});
