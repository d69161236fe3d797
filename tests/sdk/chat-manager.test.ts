// The chat manager alone, on a fake host: what it sends, what it delivers, how acks, refusals, resumes and
// time settle its sends. No relay, no socket: the test plays the relay by calling the handle*() methods.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Chat, type ChatHost, type ChatMessage } from '../../sdk/Chat.js';
import { ErrorCode, LanError, RelayError } from '../../sdk/errors.js';
import type { ChatMessageInfo, ClientMessage } from '../../sdk/protocol/index.js';

const ME = 'a0a0a0a0a0a0a0a0';
const BO = 'b0b0b0b0b0b0b0b0';

/** A session as the chat sees it: records what the chat sends and what it delivers to the app. */
class FakeHost implements ChatHost {
  readonly localId = ME;
  maxChars = 20;
  readonly sent: ClientMessage[] = [];
  readonly delivered: ChatMessage[] = [];

  send(message: ClientMessage): void {
    this.sent.push(message);
  }

  deliver(message: ChatMessage): void {
    this.delivered.push(message);
  }

  /** The `chat` messages sent, as [seq, text]. */
  chats(): Array<[number, string]> {
    return this.sent.flatMap((m) => (m.type === 'chat' ? [[m.seq, m.text] as [number, string]] : []));
  }
}

let ids = 0;
/** A message as the relay delivers it. */
function info(seq: number, text: string, from = ME): ChatMessageInfo {
  return { id: `m${++ids}`, from, name: from === ME ? 'Ana' : 'Bo', text, ts: 1_700_000_000_000 + ids, seq };
}

/** How a promise stands, readable synchronously once microtasks have run. */
function watch<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const status: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then((value) => Object.assign(status, { state: 'resolved', value }), (error: unknown) => Object.assign(status, { state: 'rejected', error }));
  return status;
}

/** Lets promise callbacks run (no timers involved, so it works under mocked timers too). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

test('chat.send() sends the text with the next sequence number and resolves, once acked, with the message the relay delivered', async () => {
  const host = new FakeHost();
  const chat = new Chat(host, []);
  const first = watch(chat.send('hello'));
  const second = watch(chat.send('again'));
  assert.deepEqual(host.chats(), [[0, 'hello'], [1, 'again']]);

  const delivered = info(0, 'hello');
  chat.handleMessage(delivered);
  await settle();
  assert.equal(first.state, 'pending', 'delivery alone does not settle the send: the ack does');
  assert.equal(host.delivered.length, 1);
  assert.deepEqual(host.delivered[0], {
    id: delivered.id, from: ME, name: 'Ana', text: 'hello', timestamp: delivered.ts, seq: 0, local: true,
  });

  chat.handleAck(0, delivered.id);
  await settle();
  assert.equal(first.state, 'resolved');
  assert.equal(first.value, host.delivered[0], 'the very message the app was given');
  assert.equal(second.state, 'pending', 'an ack settles its own sequence number only');
  chat.handleMessage(info(1, 'again'));
  chat.handleAck(1, host.delivered[1]!.id);
  await settle();
  assert.equal(second.state, 'resolved');
  assert.equal((second.value as ChatMessage).seq, 1);
});

test('empty text is a TypeError and text over maxChars is LAN_ERR_TOO_LARGE: neither is sent nor takes a sequence number', async () => {
  const host = new FakeHost();
  const chat = new Chat(host, []);
  await assert.rejects(chat.send(''), TypeError);
  await assert.rejects(chat.send('   '), TypeError);
  await assert.rejects(chat.send('x'.repeat(21)), (error: unknown) => error instanceof LanError && error.code === ErrorCode.TooLarge);
  assert.deepEqual(host.sent, []);
  void chat.send('x'.repeat(20)).catch(() => undefined);
  assert.deepEqual(host.chats(), [[0, 'x'.repeat(20)]], 'exactly maxChars is fine, and gets sequence 0');
  chat.close(new LanError(ErrorCode.Closed, 'done'));
});

test('the relay refusing message seq rejects that send with the relay\'s error; the others still settle by their acks', async () => {
  const host = new FakeHost();
  const chat = new Chat(host, []);
  const a = watch(chat.send('a'));
  const b = watch(chat.send('b'));
  const refusal = new RelayError(ErrorCode.RateLimited, 'slow down');
  chat.handleError(1, refusal);
  chat.handleError(7, new RelayError(ErrorCode.Internal, 'no such message')); // ignored
  await settle();
  assert.equal(b.state, 'rejected');
  assert.equal(b.error, refusal);
  assert.equal(a.state, 'pending');
  const m = info(0, 'a');
  chat.handleMessage(m);
  chat.handleAck(0, m.id);
  chat.handleAck(1, m.id); // late ack of the refused one: nothing left to settle
  await settle();
  assert.equal(a.state, 'resolved');
});

test('an ack naming a message the relay never delivered rejects with LAN_ERR_INTERNAL', async () => {
  const host = new FakeHost();
  const chat = new Chat(host, []);
  const sent = chat.send('lost');
  chat.handleAck(0, 'never-delivered');
  await assert.rejects(sent, (error: unknown) => error instanceof RelayError && error.code === ErrorCode.Internal);
});

test('after a resume: messages missed meanwhile are delivered in relay order, none twice, then every unacknowledged message is sent again with its own seq', async () => {
  const host = new FakeHost();
  const chat = new Chat(host, []);
  const a = watch(chat.send('a'));
  const b = watch(chat.send('b'));
  const c = watch(chat.send('c'));
  // The relay had delivered and acked b before the connection dropped.
  const mb = info(1, 'b');
  chat.handleMessage(mb);
  chat.handleAck(1, mb.id);
  chat.paused();
  host.sent.length = 0;

  // The welcome's history: Bo spoke, a reached the relay (its ack was lost), b is there again.
  const mx = info(0, 'from Bo', BO);
  const ma = info(0, 'a');
  chat.resumed([mx, ma, mb]);
  assert.deepEqual(host.delivered.map((m) => m.text), ['b', 'from Bo', 'a'], 'each once, in relay order');
  assert.equal(host.delivered[1]!.local, false);
  assert.deepEqual(host.chats(), [[0, 'a'], [2, 'c']], 'unacked ones again, same seq, in order; b not again');

  // The relay drops the duplicate of a and acks it with its id; c is new to it.
  chat.handleAck(0, ma.id);
  const mc = info(2, 'c');
  chat.handleMessage(mc);
  chat.handleAck(2, mc.id);
  await settle();
  assert.deepEqual([a.state, b.state, c.state], ['resolved', 'resolved', 'resolved']);
  assert.equal((a.value as ChatMessage).id, ma.id);
  assert.deepEqual(chat.messages.map((m) => m.text), ['b', 'from Bo', 'a', 'c']);
});

test('history given at construction is listed (ours marked local) and never delivered as new, not even by a resume', () => {
  const host = new FakeHost();
  const history = [info(0, 'old mine'), info(3, 'old theirs', BO)];
  const chat = new Chat(host, history);
  assert.deepEqual(chat.messages.map((m) => [m.text, m.local]), [['old mine', true], ['old theirs', false]]);
  chat.resumed(history);
  assert.deepEqual(host.delivered, []);
  chat.handleMessage(history[1]!);
  assert.deepEqual(host.delivered, []);
  assert.equal(chat.messages.length, 2);
});

test('a message not acknowledged within 10 s fails with LAN_ERR_TIMEOUT; the clock stops while reconnecting and starts again on resume', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const host = new FakeHost();
  const chat = new Chat(host, []);

  const early = watch(chat.send('early'));
  t.mock.timers.tick(9_999);
  await settle();
  assert.equal(early.state, 'pending');
  t.mock.timers.tick(1);
  await settle();
  assert.equal(early.state, 'rejected');
  assert.ok(early.error instanceof LanError && early.error.code === ErrorCode.Timeout, String(early.error));

  const held = watch(chat.send('held'));
  t.mock.timers.tick(5_000);
  chat.paused();
  t.mock.timers.tick(60_000);
  await settle();
  assert.equal(held.state, 'pending', 'no ack can come while reconnecting: no timeout either');
  chat.resumed([]);
  t.mock.timers.tick(9_999);
  await settle();
  assert.equal(held.state, 'pending', 'a full 10 s again from the resend');
  t.mock.timers.tick(1);
  await settle();
  assert.equal(held.state, 'rejected');
  // The timed-out message is no longer waited for: a resume does not send it again.
  host.sent.length = 0;
  chat.resumed([]);
  assert.deepEqual(host.sent, []);
});

test('close() rejects every message still waiting with the reason given', async () => {
  const host = new FakeHost();
  const chat = new Chat(host, []);
  const done = chat.send('acked');
  const m = info(0, 'acked');
  chat.handleMessage(m);
  chat.handleAck(0, m.id);
  const waiting = chat.send('waiting');
  const reason = new LanError(ErrorCode.Shutdown, 'the relay is shutting down');
  chat.close(reason);
  assert.equal((await done).id, m.id);
  await assert.rejects(waiting, (error: unknown) => error === reason);
  chat.handleAck(1, m.id); // after close: nothing to settle, nothing thrown
});
