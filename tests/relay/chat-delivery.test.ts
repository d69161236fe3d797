// Chat that loses nothing: relay ids, per-sender sequence and acks, resend after a dropped connection with
// duplicates dropped, history in the relay's SQLite store (the last N in welcome), size and rate limits.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test } from 'node:test';
import type { ChatMessage } from '../../sdk/Chat.js';
import { LanError } from '../../sdk/errors.js';
import type { Session } from '../../sdk/Session.js';
import { RawWs, join, leaveAll, startRelay, until, withTimeout } from '../helpers.js';

test('messages sent while the connection is cut are resent on reconnect; the relay drops duplicates: each arrives once, in order', { timeout: 40_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  for (const transport of ['websocket', 'native'] as const) {
    const meeting = `Resend ${transport}`;
    const ana = await join(relay.url, meeting, 'Ana', { transport });
    const bo = await join(relay.url, meeting, 'Bo');
    sessions.push(ana, bo);
    const seen: ChatMessage[] = [];
    bo.on('chat', (m) => seen.push(m));
    const left: string[] = [];
    bo.on('participantLeft', (p) => left.push(p.name));

    const sends: Array<Promise<ChatMessage>> = [];
    for (let i = 0; i < 10; i++) {
      sends.push(ana.chat.send(`message ${i}`));
      // Cut the connection from the relay's side in the middle of the burst: some messages reached the
      // relay (acked or not), some were still in the client's socket, some are sent while reconnecting.
      if (i === 4) relay.relay.rooms.get(meeting)!.participants.get(ana.local.id)!.connection!.link.destroy();
    }
    const acked = await withTimeout(Promise.all(sends), 20_000, 'every message acknowledged');
    assert.deepEqual(acked.map((m) => m.text), Array.from({ length: 10 }, (_, i) => `message ${i}`));
    assert.equal(new Set(acked.map((m) => m.id)).size, 10, 'ten distinct relay ids');
    await until(() => seen.length >= 10, 'Bo has the ten messages', 5000);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen.map((m) => m.text), acked.map((m) => m.text), 'each once, in order');
    assert.deepEqual(ana.chat.messages.map((m) => m.id), acked.map((m) => m.id), 'the sender has each once too');
    for (const [i, m] of acked.entries()) {
      assert.equal(m.seq, i, 'per-sender sequence');
      assert.equal(m.from, ana.local.id);
      assert.ok(m.timestamp > 0);
    }
    assert.deepEqual(left, [], 'a short cut is not a departure');
    assert.equal(ana.state, 'connected');
  }
});

test('a raw client that sends the same sequence twice gets the same ack twice and the message is delivered once', async (t) => {
  const relay = await startRelay();
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await relay.relay.close();
  });
  const { client: a } = await RawWs.join(relay.wsUrl, 'Dup', 'A');
  const { client: b } = await RawWs.join(relay.wsUrl, 'Dup', 'B');
  raws.push(a, b);
  a.sendJson({ type: 'chat', text: 'once', seq: 7 });
  a.sendJson({ type: 'chat', text: 'once', seq: 7 });
  await until(() => a.messages.filter((m) => m.type === 'chatAck').length === 2, 'two acks');
  const acks = a.messages.filter((m) => m.type === 'chatAck');
  assert.equal(acks[0]!.id, acks[1]!.id);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(b.messages.filter((m) => m.type === 'chat').length, 1);
});

test('chat history lives in the data dir: it survives a restart and a late joiner gets the last N in welcome', { timeout: 30_000 }, async (t) => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-chat-'));
  let relay = await startRelay({ dataDir, chatHistory: 3 });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const a = await join(relay.url, 'History', 'Ana');
  sessions.push(a);
  for (let i = 1; i <= 5; i++) await a.chat.send(`line ${i}`);
  const late = await join(relay.url, 'History', 'Late');
  sessions.push(late);
  assert.deepEqual(late.chat.messages.map((m) => m.text), ['line 3', 'line 4', 'line 5']);
  await leaveAll(sessions);
  sessions.length = 0;
  await relay.relay.close();

  relay = await startRelay({ dataDir, chatHistory: 4 });
  const back = await join(relay.url, 'History', 'Back', { transport: 'native' });
  sessions.push(back);
  assert.deepEqual(back.chat.messages.map((m) => [m.name, m.text]), [['Ana', 'line 2'], ['Ana', 'line 3'], ['Ana', 'line 4'], ['Ana', 'line 5']]);
  const next = await back.chat.send('after the restart');
  const later = await join(relay.url, 'History', 'Later');
  sessions.push(later);
  assert.deepEqual(later.chat.messages.map((m) => m.id).slice(-1), [next.id]);
});

test('chat limits: an over-long message and a flood get clear errors; the sender stays connected; the relay serves on', { timeout: 30_000 }, async (t) => {
  const relay = await startRelay({ limits: { maxChatChars: 100, maxChatPerSecond: 5 } });
  const sessions: Session[] = [];
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const a = await join(relay.url, 'Limits', 'Ana');
  const b = await join(relay.url, 'Limits', 'Bo');
  sessions.push(a, b);
  await assert.rejects(a.chat.send('x'.repeat(101)), (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_TOO_LARGE');
  const { client: raw } = await RawWs.join(relay.wsUrl, 'Limits', 'Raw');
  raws.push(raw);
  raw.sendJson({ type: 'chat', text: 'y'.repeat(101), seq: 0 });
  const tooLong = await raw.next('error', 3000, (m) => m.requestId === 'chat:0');
  assert.equal(tooLong.code, 'LAN_ERR_TOO_LARGE');

  const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => a.chat.send(`burst ${i}`)));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const limited = results.filter((r) => r.status === 'rejected' && (r.reason as LanError).code === 'LAN_ERR_RATE_LIMITED').length;
  assert.ok(ok >= 5 && ok <= 12, `a burst of twice the rate (and a little refill) passes: ${ok}`);
  assert.equal(ok + limited, 20, 'every other message is refused with LAN_ERR_RATE_LIMITED');
  const reason = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.match((reason.reason as Error).message, /chat messages per second/);
  assert.equal(a.state, 'connected');
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal((await a.chat.send('after a pause')).text, 'after a pause');
  assert.equal((await b.chat.send('others unaffected')).text, 'others unaffected');
  assert.equal(raw.closed, false);
});
