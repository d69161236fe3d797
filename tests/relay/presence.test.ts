import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import type { RemoteFrame } from '../../sdk/Track.js';
import { join, leaveAll, pattern, sleep, startRelay, until, withTimeout } from '../helpers.js';

test('three participants (two WebSocket, one native TCP+UDP) see each other join and leave', { timeout: 20_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });

  const ana = await join(url, 'Presence', 'Ana');
  sessions.push(ana);
  assert.equal(ana.state, 'connected');
  assert.equal(ana.transport, 'websocket');
  assert.equal(ana.participants.size, 0);
  assert.equal(ana.local.role, 'host');

  const anaSawBen = ana.waitFor('participantJoined', { timeoutMs: 3000 });
  const ben = await join(url, 'Presence', 'Ben');
  sessions.push(ben);
  const [benAtAna] = await anaSawBen;
  assert.equal(benAtAna.id, ben.local.id);
  assert.equal(benAtAna.name, 'Ben');
  assert.equal(ben.local.role, 'guest');
  assert.deepEqual([...ben.participants.keys()], [ana.local.id]);
  assert.equal(ben.participants.get(ana.local.id)?.name, 'Ana');

  const anaSawCy = ana.waitFor('participantJoined', { timeoutMs: 3000 });
  const benSawCy = ben.waitFor('participantJoined', { timeoutMs: 3000 });
  const cy = await join(url, 'Presence', 'Cy', { transport: 'native' });
  sessions.push(cy);
  assert.equal(cy.transport, 'native');
  const [[cyAtAna], [cyAtBen]] = await Promise.all([anaSawCy, benSawCy]);
  assert.equal(cyAtAna.id, cy.local.id);
  assert.equal(cyAtBen.id, cy.local.id);
  assert.equal(cyAtAna.name, 'Cy');

  // Everyone has the two others and not themselves.
  for (const s of sessions) {
    const others = sessions.filter((o) => o !== s).map((o) => o.local.id).sort();
    assert.deepEqual([...s.participants.keys()].sort(), others, `${s.local.name} sees the two others`);
    assert.ok(!s.participants.has(s.local.id));
  }
  const ids = new Set(sessions.map((s) => s.local.id));
  assert.equal(ids.size, 3, 'participant ids are distinct');
  for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
  assert.equal(relay.rooms.get('Presence')?.participants.size, 3);

  // The native one leaves: both WebSocket participants are told, with the right participant.
  const anaSawLeft = ana.waitFor('participantLeft', { timeoutMs: 3000 });
  const benSawLeft = ben.waitFor('participantLeft', { timeoutMs: 3000 });
  await cy.leave();
  assert.equal(cy.state, 'closed');
  const [[leftAtAna], [leftAtBen]] = await Promise.all([anaSawLeft, benSawLeft]);
  assert.equal(leftAtAna.id, cy.local.id);
  assert.equal(leftAtBen.id, cy.local.id);
  assert.deepEqual([...ana.participants.keys()], [ben.local.id]);
  assert.deepEqual([...ben.participants.keys()], [ana.local.id]);
  await until(() => relay.rooms.get('Presence')?.participants.size === 2, 'the relay forgot the native participant');

  // A WebSocket one leaves: the other is told too.
  const anaSawBenLeave = ana.waitFor('participantLeft', { timeoutMs: 3000 });
  await ben.leave();
  const [benLeft] = await anaSawBenLeave;
  assert.equal(benLeft.id, ben.local.id);
  assert.equal(ana.participants.size, 0);
});

test('two meetings stay isolated: no presence, chat or media crosses', { timeout: 20_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });

  const a1 = await join(url, 'Meeting-A', 'A1');
  const b1 = await join(url, 'Meeting-B', 'B1', { transport: 'native' });
  sessions.push(a1, b1);
  const a2 = await join(url, 'Meeting-A', 'A2', { transport: 'native' });
  const b2 = await join(url, 'Meeting-B', 'B2');
  sessions.push(a2, b2);
  await until(() => a1.participants.size === 1 && b1.participants.size === 1, 'each meeting has its two');

  // From here on, anything reaching the other meeting is a leak.
  const leaks: string[] = [];
  for (const [s, meeting] of [[a1, 'A'], [a2, 'A'], [b1, 'B'], [b2, 'B']] as const) {
    s.on('participantJoined', (p) => { if (!p.name.startsWith(meeting)) leaks.push(`${s.local.name} saw ${p.name} join`); });
    s.on('chat', (m) => { if (!m.name.startsWith(meeting)) leaks.push(`${s.local.name} saw chat from ${m.name}`); });
    s.on('trackPublished', (_tr, p) => { if (!p.name.startsWith(meeting)) leaks.push(`${s.local.name} saw a track of ${p.name}`); });
  }

  assert.deepEqual([...a1.participants.values()].map((p) => p.name), ['A2']);
  assert.deepEqual([...a2.participants.values()].map((p) => p.name), ['A1']);
  assert.deepEqual([...b1.participants.values()].map((p) => p.name), ['B2']);
  assert.deepEqual([...b2.participants.values()].map((p) => p.name), ['B1']);

  // Chat in each meeting reaches only that meeting.
  const b2Chat: string[] = [];
  b2.on('chat', (m) => b2Chat.push(m.text));
  const a2Chat: string[] = [];
  a2.on('chat', (m) => a2Chat.push(m.text));
  await a1.chat.send('for A only');
  await b1.chat.send('for B only');
  await until(() => a2Chat.includes('for A only') && b2Chat.includes('for B only'), 'chat reached its own meeting');

  // Media from each meeting reaches only that meeting.
  const received = new Map<string, number>();
  const count = (name: string) => (frame: RemoteFrame) => received.set(name, (received.get(name) ?? 0) + frame.data.byteLength);
  for (const s of sessions) {
    s.on('trackPublished', (track) => track.on('frame', count(s.local.name)));
  }
  const aTrack = await a1.publish({ kind: 'camera', codec: 'jpeg' });
  const bTrack = await b1.publish({ kind: 'camera', codec: 'jpeg' });
  await until(() => a2.tracks.has(aTrack.id) && b2.tracks.has(bTrack.id), 'tracks announced in their own meeting');
  assert.ok(!b2.tracks.has(aTrack.id) && !b1.tracks.has(aTrack.id));
  assert.ok(!a2.tracks.has(bTrack.id) && !a1.tracks.has(bTrack.id));
  for (let i = 0; i < 3; i++) {
    assert.ok(aTrack.send({ data: pattern(1000, i + 1) }));
    assert.ok(bTrack.send({ data: pattern(2000, i + 11) }));
  }
  await until(() => received.get('A2') === 3000 && received.get('B2') === 6000, 'media reached its own meeting');
  await sleep(200);
  assert.equal(received.get('A2'), 3000);
  assert.equal(received.get('B2'), 6000);
  assert.equal(received.get('A1'), undefined);
  assert.equal(received.get('B1'), undefined);

  // A third joiner of meeting A sees only meeting A, including its chat history.
  const a3 = await withTimeout(join(url, 'Meeting-A', 'A3'), 3000, 'A3 joining');
  sessions.push(a3);
  assert.deepEqual([...a3.participants.values()].map((p) => p.name).sort(), ['A1', 'A2']);
  assert.deepEqual(a3.chat.messages.map((m) => m.text), ['for A only']);
  await sleep(100);
  assert.deepEqual(leaks, []);
  assert.equal(relay.rooms.size, 2);
});

test('participants who join at the same time, native and WebSocket, all see each other', { timeout: 20_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  // Native sessions spend a round trip binding UDP after `welcome`: joins landing meanwhile must not be lost.
  const joined = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    join(url, 'Together', `P${i}`, { transport: i % 2 ? 'native' : 'websocket' })));
  sessions.push(...joined);
  for (const s of joined) {
    await until(() => s.participants.size === 7,
      () => `${s.local.name} (${s.transport}) sees ${s.participants.size} of 7 others`);
    for (const other of joined) if (other !== s) assert.equal(s.participants.get(other.local.id)?.name, other.local.name);
  }
});
