import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '../../sdk/Chat.js';
import type { Session } from '../../sdk/Session.js';
import { join, leaveAll, startRelay, until, withTimeout } from '../helpers.js';

test('session.chat.send() reaches every participant in the same order, over both transports', { timeout: 20_000 }, async (t) => {
  const { relay, url } = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const ana = await join(url, 'Chat', 'Ana');
  const ben = await join(url, 'Chat', 'Ben');
  const cy = await join(url, 'Chat', 'Cy', { transport: 'native' });
  sessions.push(ana, ben, cy);
  await until(() => sessions.every((s) => s.participants.size === 2), 'everyone sees everyone');

  const seen = new Map<Session, ChatMessage[]>(sessions.map((s) => [s, []]));
  for (const s of sessions) s.on('chat', (m) => seen.get(s)!.push(m));

  const PER_SENDER = 20;
  const sends: Array<{ from: Session; text: string; promise: Promise<ChatMessage> }> = [];
  const sentAt = Date.now();
  for (let i = 0; i < PER_SENDER; i++) {
    for (const s of sessions) {
      const text = `${s.local.name} #${i}`;
      sends.push({ from: s, text, promise: s.chat.send(text) });
    }
  }
  const acked = await withTimeout(Promise.all(sends.map((x) => x.promise)), 5000, 'every chat.send() to resolve');
  const total = PER_SENDER * sessions.length;
  await until(() => sessions.every((s) => seen.get(s)!.length === total), `every participant received ${total} messages`);

  // chat.send() resolves with the message as the relay delivered it: relay id, timestamp, sender.
  const reference = seen.get(ana)!;
  const byId = new Map(reference.map((m) => [m.id, m]));
  sends.forEach(({ from, text }, i) => {
    const message = acked[i]!;
    assert.equal(message.text, text);
    assert.equal(message.from, from.local.id);
    assert.equal(message.name, from.local.name);
    assert.equal(message.local, true);
    assert.match(message.id, /^[0-9a-f]{16}$/);
    assert.ok(message.timestamp >= sentAt - 1000 && message.timestamp <= Date.now() + 1000, 'relay timestamp is now-ish');
    const delivered = byId.get(message.id);
    assert.ok(delivered, 'the acked id is one everyone received');
    assert.equal(delivered.text, text);
    assert.equal(delivered.timestamp, message.timestamp);
  });
  assert.equal(new Set(acked.map((m) => m.id)).size, total, 'ids are unique');

  // Everyone sees one and the same sequence, each sender's own messages included.
  for (const s of sessions) {
    const list = seen.get(s)!;
    assert.deepEqual(list.map((m) => m.id), reference.map((m) => m.id), `${s.local.name} sees the same order`);
    assert.deepEqual(list.map((m) => m.local), list.map((m) => m.from === s.local.id), 'local is set on own messages only');
  }
  // Each sender's messages appear in its send order (and with increasing timestamps overall).
  for (const sender of sessions) {
    const mine = reference.filter((m) => m.from === sender.local.id).map((m) => m.text);
    assert.deepEqual(mine, Array.from({ length: PER_SENDER }, (_, i) => `${sender.local.name} #${i}`));
  }
  for (let i = 1; i < reference.length; i++) assert.ok(reference[i]!.timestamp >= reference[i - 1]!.timestamp);

  // The relay kept the history: a late joiner gets it in the same order.
  const late = await join(url, 'Chat', 'Late', { transport: 'native' });
  sessions.push(late);
  assert.deepEqual(late.chat.messages.map((m) => m.id), reference.map((m) => m.id));
});
