// Shared files under attack: each test runs an attack with raw clients (what the SDK never sends) beside an
// honest pair of SDK participants (WebSocket and native), checks the attack is stopped with a clear error,
// and that the honest pair loses nothing: it can still join, list, share, download (verified) and chat.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { Files, type FilesHost } from '../../sdk/Files.js';
import { LanError } from '../../sdk/errors.js';
import { checkFileName } from '../../sdk/files/names.js';
import { portableSha256 } from '../../sdk/files/sha256.js';
import { DEFAULT_LIMITS, binaryFrameHeader, encodeFileChunk, type ClientMessage, type FileInfo } from '../../sdk/protocol/index.js';
import { RawTcp, RawWs, join, leaveAll, pattern, sleep, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
/** The relay's defaults this file tests against (relay/files/FileService.ts, sdk/files/list.ts). */
const FILES_PER_MEETING = 1000;
const FILES_PER_PARTICIPANT = 200;
const MIN_CHARGE = 64 * KiB;
const PAGE = 100;

type Raw = RawWs | RawTcp;
type Message = Record<string, unknown> & { type: string };

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Paces a raw client's control messages under the relay's control rate (50 a second, bursts of 100): it
 * must not be mistaken for a flood, which the relay drops and then disconnects.
 */
class Pacer {
  #tokens = 90;
  #at = Date.now();

  async take(): Promise<void> {
    for (;;) {
      const now = Date.now();
      this.#tokens = Math.min(90, this.#tokens + ((now - this.#at) / 1000) * 45);
      this.#at = now;
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await sleep(Math.ceil(((1 - this.#tokens) / 45) * 1000));
    }
  }
}

/** A raw client with its pacer, pinging so the relay does not time it out while it waits. */
class Attacker {
  readonly pacer = new Pacer();
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(readonly raw: Raw, readonly id: string) {
    this.#timer = setInterval(() => void this.pacer.take().then(() => raw.sendJson({ type: 'ping', t: Date.now() })), 1500);
  }

  /** The first message from index `from` on that `match` accepts (waits for it). */
  async answer(from: number, match: (m: Message) => boolean, what: string, timeoutMs = 10_000): Promise<Message> {
    let found: Message | undefined;
    await until(() => {
      const messages = this.raw.messages;
      for (let i = from; i < messages.length; i++) if (match(messages[i]!)) return (found = messages[i]!);
      return undefined;
    }, what, timeoutMs, 2);
    return found!;
  }

  async send(message: Record<string, unknown>): Promise<void> {
    await this.pacer.take();
    this.raw.sendJson(message);
  }

  sendChunk(packet: Uint8Array): void {
    if (this.raw instanceof RawWs) this.raw.sendBinary(packet);
    else this.raw.socket.write(Buffer.concat([binaryFrameHeader(packet.byteLength), packet]));
  }

  /** Starts an upload; resolves with its id, or the `error` that refused it. */
  async open(name: string, size: number, requestId: string): Promise<{ uploadId?: string; error?: Message }> {
    const from = this.raw.messages.length;
    await this.send({ type: 'fileUpload', requestId, name, size });
    const answer = await this.answer(from, (m) => m.requestId === requestId && (m.type === 'fileUploadReady' || m.type === 'error'), `the answer to ${requestId}`);
    return answer.type === 'error' ? { error: answer } : { uploadId: String(answer.uploadId) };
  }

  /** Ends an upload; resolves with the stored file, or the `error` about the upload. */
  async end(uploadId: string, sha: string): Promise<{ file?: Message; error?: Message }> {
    const from = this.raw.messages.length;
    await this.send({ type: 'fileUploadEnd', uploadId, sha256: sha });
    const answer = await this.answer(from, (m) => (m.type === 'fileUploaded' && m.uploadId === uploadId) ||
      (m.type === 'error' && m.requestId === `file:${uploadId}`), `the end of upload ${uploadId}`);
    return answer.type === 'error' ? { error: answer } : { file: answer.file as Message };
  }

  /** Shares `data` (in one chunk) as `name`: the stored file, or the `error` that refused it. */
  async share(name: string, requestId: string, data = new Uint8Array(0)): Promise<{ file?: Message; error?: Message }> {
    const opened = await this.open(name, data.byteLength, requestId);
    if (!opened.uploadId) return { error: opened.error! };
    if (data.byteLength > 0) this.sendChunk(encodeFileChunk(opened.uploadId, 0, data));
    return this.end(opened.uploadId, sha256(data));
  }

  close(): void {
    clearInterval(this.#timer);
    this.raw.close();
  }
}

async function attacker(relay: TestRelay, meeting: string, name: string, transport: 'websocket' | 'native'): Promise<Attacker> {
  const { client, welcome } = transport === 'websocket'
    ? await RawWs.join(relay.wsUrl, meeting, name)
    : await RawTcp.join(relay.addresses.tcpPort, meeting, name);
  return new Attacker(client, welcome.you.id);
}

/** Ana (WebSocket) and Bo (native): the honest pair of a test. */
async function honestPair(relay: TestRelay, meeting: string, sessions: Session[]): Promise<[Session, Session]> {
  const ana = await join(relay.url, meeting, 'Ana');
  const bo = await join(relay.url, meeting, 'Bo', { transport: 'native' });
  sessions.push(ana, bo);
  return [ana, bo];
}

/** `session` downloads file `id` whole and gets exactly `bytes` (the SDK verifies the SHA-256 too). */
async function assertDownloads(session: Session, id: string, bytes: Uint8Array, what: string): Promise<void> {
  await until(() => session.files.get(id), `${what}: file ${id} listed for ${session.local.name}`, 10_000);
  const blob = await withTimeout(session.files.download(id), 30_000, `${what}: download by ${session.local.name}`);
  assert.equal(sha256(new Uint8Array(await blob.arrayBuffer())), sha256(bytes), `${what}: ${session.local.name} got the file intact`);
}

async function assertChats(session: Session, text: string): Promise<void> {
  assert.equal((await withTimeout(session.chat.send(text), 5000, `chat from ${session.local.name}`)).text, text);
}

test('a meeting stays joinable however many files are shared: 1000 per meeting, 200 per participant, joiners get the newest 100 and page back to the rest, after a restart too', { timeout: 180_000 }, async (t) => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-many-files-'));
  let relay = await startRelay({ dataDir });
  const sessions: Session[] = [];
  const attackers: Attacker[] = [];
  t.after(async () => {
    for (const a of attackers) a.close();
    await leaveAll(sessions);
    await relay.relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const meeting = 'Crowded';
  const [ana, bo] = await honestPair(relay, meeting, sessions);
  const report = pattern(300 * KiB, 31);
  const shared = await ana.files.send(report, { name: 'report.pdf' });

  // Empty files cost no bytes: four participants share as many as they may, one of them one more.
  const crowd = await Promise.all(['A', 'B', 'C', 'D'].map((n, i) => attacker(relay, meeting, `Spammer ${n}`, i % 2 ? 'native' : 'websocket')));
  attackers.push(...crowd);
  const refusals: Message[] = [];
  const accepted = await Promise.all(crowd.map(async (a, i) => {
    let ok = 0;
    for (let n = 0; n < FILES_PER_PARTICIPANT + (i === 0 ? 1 : 0); n++) {
      const result = await a.share(`empty ${i}-${n}`, `e${n}`);
      if (result.file) ok++;
      else refusals.push(result.error!);
    }
    return ok;
  }));
  assert.deepEqual(accepted, [200, 200, 200, 200], 'each shares up to the per-participant cap');
  assert.equal(refusals.length, 1, 'the one over the cap is refused');
  assert.equal(refusals[0]!.code, 'LAN_ERR_QUOTA');
  assert.match(String(refusals[0]!.message), /the most one participant may have \(200\)/);

  // Two more fill the meeting: 1 + 4 × 200 + 199 files, then it is full for everyone.
  const lastTwo = await Promise.all([attacker(relay, meeting, 'Spammer E', 'native'), attacker(relay, meeting, 'Spammer F', 'websocket')]);
  attackers.push(...lastTwo);
  const outcomes = await Promise.all(lastTwo.map(async (a, i) => {
    const got: Array<{ file?: Message; error?: Message }> = [];
    for (let n = 0; n < 100; n++) got.push(await a.share(`late ${i}-${n}`, `l${n}`));
    return got;
  }));
  const late = outcomes.flat();
  assert.equal(late.filter((o) => o.file).length, FILES_PER_MEETING - 1 - 4 * FILES_PER_PARTICIPANT);
  const full = late.filter((o) => o.error);
  assert.equal(full.length, 1);
  assert.equal(full[0]!.error!.code, 'LAN_ERR_QUOTA');
  assert.match(String(full[0]!.error!.message), /the most a meeting may have \(1000\)/);
  await assert.rejects(bo.files.send(new Uint8Array(10), { name: 'one more.txt' }),
    (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_QUOTA', 'a full meeting refuses everyone, clearly');

  // A joiner's welcome carries the newest page only; the older ones come a page at a time.
  const probe = await attacker(relay, meeting, 'Probe', 'websocket');
  attackers.push(probe);
  const welcome = probe.raw.messages.find((m) => m.type === 'welcome')!;
  const first = welcome.files as Message[];
  assert.equal(first.length, PAGE);
  const welcomeBytes = Buffer.byteLength(JSON.stringify(welcome));
  t.diagnostic(`welcome with ${FILES_PER_MEETING} files in the meeting: ${welcomeBytes} bytes`);
  assert.ok(welcomeBytes < 200 * KiB, `the welcome takes ${welcomeBytes} bytes`);
  const all = [...first];
  for (let page = 0, hasMore = true; hasMore; page++) {
    const from = probe.raw.messages.length;
    await probe.send({ type: 'fileList', requestId: `p${page}`, before: all[0]!.id });
    const answer = await probe.answer(from, (m) => m.requestId === `p${page}`, `file list page ${page}`);
    assert.equal(answer.type, 'fileListPage', JSON.stringify(answer));
    const files = answer.files as Message[];
    assert.ok(files.length <= PAGE && files.length > 0);
    all.unshift(...files);
    hasMore = answer.more === true;
  }
  assert.equal(all.length, FILES_PER_MEETING);
  assert.equal(new Set(all.map((f) => f.id)).size, FILES_PER_MEETING, 'no file twice');
  assert.equal(all[0]!.id, shared.id, 'oldest first: the honest file opens the list');

  // The SDK does the paging itself: a late joiner lists every file and downloads the honest one.
  const cy = await join(relay.url, meeting, 'Cy');
  sessions.push(cy);
  await until(() => cy.files.list().length === FILES_PER_MEETING, () => `Cy lists ${cy.files.list().length} of ${FILES_PER_MEETING} files`, 15_000);
  assert.equal(cy.files.list()[0]!.id, shared.id);
  await assertDownloads(cy, shared.id, report, 'late joiner');
  await assertDownloads(bo, shared.id, report, 'honest pair');
  await assertChats(bo, 'the meeting is busy but fine');

  // After a restart the meeting is still joinable and complete.
  for (const a of attackers) a.close();
  attackers.length = 0;
  await leaveAll(sessions);
  sessions.length = 0;
  await relay.relay.close();
  relay = await startRelay({ dataDir });
  const [ana2] = await honestPair(relay, meeting, sessions);
  await until(() => ana2.files.list().length === FILES_PER_MEETING, () => `after the restart Ana lists ${ana2.files.list().length} files`, 15_000);
  await assertDownloads(ana2, shared.id, report, 'after the restart');
});

test('the SDK pages in what one welcome does not carry: the older files after a join, the files offered while it was away after a resume, each announced once', async () => {
  // The files manager alone, fed what the relay would send: 350 files, one every millisecond.
  const all: FileInfo[] = Array.from({ length: 350 }, (_, n) => ({
    id: n.toString(16).padStart(16, '0'), name: `f${n}`, size: 0, sha256: sha256(new Uint8Array(0)),
    from: 'b0b0b0b0b0b0b0b0', fromName: 'Bo', ts: 1_700_000_000_000 + n, url: `/files/${n.toString(16).padStart(16, '0')}/f${n}?m=x&t=y`,
  }));
  const asked: string[] = [];
  const offered: string[] = [];
  let files: Files | undefined;
  const host: FilesHost = {
    localId: () => 'a0a0a0a0a0a0a0a0', localName: 'Ana', limits: DEFAULT_LIMITS, httpBase: 'http://127.0.0.1:1/', sha256: portableSha256,
    connected: () => true,
    // The relay's answer to `fileList`: the newest page before `before`, in order.
    send: (message: ClientMessage) => {
      if (message.type !== 'fileList') return;
      const end = all.findIndex((f) => f.id === message.before);
      asked.push(message.before!);
      const start = Math.max(0, end - PAGE);
      queueMicrotask(() => files!.handleControl({ type: 'fileListPage', requestId: message.requestId, files: all.slice(start, end), ...(start > 0 ? { more: true } : {}) }));
    },
    sendFile: () => {},
    emit: (event, ...args) => {
      if (event === 'fileOffered') offered.push((args[0] as { id: string }).id);
    },
  };
  const ids = (list: readonly { id: string }[]) => list.map((f) => f.id);

  // Joined with a full page of 100 (the newest): the 250 before come page by page, unannounced.
  files = new Files(host, all.slice(250));
  await files.listed;
  assert.deepEqual(ids(files.list()), ids(all), 'every file, oldest first');
  assert.deepEqual(asked, [all[250]!.id, all[150]!.id, all[50]!.id]);
  assert.deepEqual(offered, [], 'files shared before the join are not announced');

  // Joined with 50 (less than a page: the whole list), then away while 300 were offered.
  asked.length = 0;
  files = new Files(host, all.slice(0, 50));
  await files.listed;
  assert.deepEqual(asked, [], 'nothing to ask');
  files.resumed(all.slice(250));
  await files.listed;
  assert.deepEqual(ids(files.list()), ids(all), 'the gap is filled in its place');
  assert.deepEqual(asked, [all[250]!.id, all[150]!.id, all[50]!.id], 'it stops at the first page with files it knew');
  assert.deepEqual([...offered].sort(), ids(all.slice(50)).sort(), 'each file offered while away is announced once');

  // A resume with nothing missed asks nothing.
  asked.length = 0;
  offered.length = 0;
  files.resumed(all.slice(250));
  await files.listed;
  assert.deepEqual(asked, []);
  assert.deepEqual(offered, []);
});

test('every file counts against the meeting quota, at least 64 KiB: empty files cannot be shared without end', { timeout: 60_000 }, async (t) => {
  const quota = 1 * MiB;
  const relay = await startRelay({ limits: { maxMeetingFileBytes: quota } });
  const sessions: Session[] = [];
  const attackers: Attacker[] = [];
  t.after(async () => {
    for (const a of attackers) a.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const [ana, bo] = await honestPair(relay, 'Charged', sessions);
  const notes = pattern(100_000, 32);
  const shared = await ana.files.send(notes, { name: 'notes.txt' });

  const spammer = await attacker(relay, 'Charged', 'Spammer', 'native');
  attackers.push(spammer);
  let accepted = 0;
  let refusal: Message | undefined;
  for (let n = 0; n < 40 && !refusal; n++) {
    const result = await spammer.share(`empty ${n}`, `e${n}`);
    if (result.file) accepted++;
    else refusal = result.error;
  }
  assert.equal(accepted, Math.floor((quota - notes.byteLength) / MIN_CHARGE), 'each empty file took 64 KiB of the quota');
  assert.equal(refusal?.code, 'LAN_ERR_QUOTA');
  assert.match(String(refusal?.message), /each file counts at least 65536 bytes/);

  // The honest pair keeps what it shared, and the meeting works on.
  await assertDownloads(bo, shared.id, notes, 'honest pair');
  await assertChats(ana, 'still here');
  const cy = await join(relay.url, 'Charged', 'Cy');
  sessions.push(cy);
  assert.equal(cy.files.list().length, 1 + accepted);
});

test('uploads take quota as their bytes arrive: stalled uploads cannot block a meeting\'s uploads, and one that outgrows the quota is stopped', { timeout: 60_000 }, async (t) => {
  const quota = 8 * MiB;
  const relay = await startRelay({ limits: { maxMeetingFileBytes: quota } });
  const sessions: Session[] = [];
  const attackers: Attacker[] = [];
  t.after(async () => {
    for (const a of attackers) a.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const meeting = 'Hoarded';
  const [ana, bo] = await honestPair(relay, meeting, sessions);
  const x = await attacker(relay, meeting, 'Hoarder X', 'websocket');
  const y = await attacker(relay, meeting, 'Hoarder Y', 'native');
  attackers.push(x, y);

  // Each hoarder announces four 2 MiB files (together twice the quota) and sends a byte of each.
  const uploads: Array<{ who: Attacker; uploadId: string; data: Uint8Array }> = [];
  for (const [i, who] of [x, y].entries()) {
    for (let n = 0; n < 4; n++) {
      const data = pattern(2 * MiB, 100 + i * 10 + n);
      const opened = await who.open(`hoard ${i}-${n}`, data.byteLength, `h${n}`);
      assert.ok(opened.uploadId, `hoarder ${i}'s upload ${n} is accepted: an announced size reserves nothing (${JSON.stringify(opened.error)})`);
      who.sendChunk(encodeFileChunk(opened.uploadId, 0, data.subarray(0, 1)));
      uploads.push({ who, uploadId: opened.uploadId, data });
    }
  }
  // Concurrent uploads per participant stay capped.
  const fifth = await x.open('hoard 0-4', MiB, 'h4');
  assert.equal(fifth.error?.code, 'LAN_ERR_RATE_LIMITED');
  assert.match(String(fifth.error?.message), /at most 4 uploads at once/);

  // The honest pair shares half the quota meanwhile, and it arrives whole.
  const big = pattern(4 * MiB, 33);
  const shared = await withTimeout(ana.files.send(big, { name: 'slides.pdf' }), 20_000, 'the honest upload');
  await assertDownloads(bo, shared.id, big, 'honest pair');

  // Now the hoarders send the rest: what no longer fits is stopped as it arrives, never stored.
  const results = await Promise.all(uploads.map(async ({ who, uploadId, data }) => {
    const from = who.raw.messages.length;
    for (let at = 1; at < data.byteLength; at += 256 * KiB) {
      who.sendChunk(encodeFileChunk(uploadId, at, data.subarray(at, Math.min(at + 256 * KiB, data.byteLength))));
    }
    const stopped = await who.answer(from, (m) => (m.type === 'fileAck' && m.transferId === uploadId && m.offset === data.byteLength) ||
      (m.type === 'error' && m.requestId === `file:${uploadId}`), `upload ${uploadId} stored or stopped`);
    if (stopped.type === 'error') return stopped;
    return (await who.end(uploadId, sha256(data))).error ?? 'stored';
  }));
  const stored = results.filter((r) => r === 'stored').length;
  const stopped = results.filter((r): r is Message => r !== 'stored');
  t.diagnostic(`hoarders: ${stored} uploads stored, ${stopped.length} stopped`);
  assert.ok(stored <= 2, `${stored} hoarded uploads of 2 MiB stored beside 4 MiB in an 8 MiB quota`);
  assert.ok(stopped.length >= 6);
  for (const error of stopped) {
    assert.equal(error.code, 'LAN_ERR_QUOTA');
    assert.match(String(error.message), /reached its quota of 8388608 bytes during upload/);
  }
  await until(() => relay.relay.fileTransfers.uploads === 0, 'the stopped uploads are dropped', 5000);
  assert.ok(await relay.relay.storedFileBytes() <= quota, 'the content store stays within the quota');
  assert.equal(bo.files.list().length, 1 + stored);
  await assertDownloads(ana, shared.id, big, 'the honest file after the hoarding');
  await assertChats(bo, 'nothing lost');
});

test('a client that never reads its downloads costs the relay no CPU: downloads wait for the link to drain, never on a timer', { timeout: 90_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  const attackers: Attacker[] = [];
  t.after(async () => {
    for (const a of attackers) a.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const meeting = 'Stalled';
  const [ana, bo] = await honestPair(relay, meeting, sessions);
  const big = pattern(24 * MiB, 34);
  const shared = await ana.files.send(big, { name: 'video.mp4' });

  // Eight clients (four of each transport) open eight downloads each, then stop reading their connection.
  const stalled = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => attacker(relay, meeting, `Sleeper ${i}`, i % 2 ? 'native' : 'websocket')));
  attackers.push(...stalled);
  for (const a of stalled) {
    if (a.raw instanceof RawWs) a.raw.ws.pause();
    else a.raw.socket.pause();
    for (let n = 0; n < 8; n++) await a.send({ type: 'fileDownload', requestId: `d${n}`, fileId: shared.id, offset: 0 });
  }
  const backlog = (a: Attacker) => relay.relay.rooms.get(meeting)?.participants.get(a.id)?.connection!.link.bufferedAmount ?? 0;
  await until(() => stalled.every((a) => backlog(a) > 2 * MiB), () => `every sleeper has over 2 MiB queued: ${stalled.map(backlog).join(', ')}`, 15_000);
  assert.equal(relay.relay.fileTransfers.downloads, 64);
  await sleep(500);

  // While they sleep the relay (this process) should be idle: its CPU time over three windows of a second
  // (the least of them, so that a garbage collection in one does not count), and the short timers armed.
  const shares: number[] = [];
  let shortTimers = 0;
  const realSetTimeout = globalThis.setTimeout;
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) => {
    if ((ms ?? 0) <= 5) shortTimers++;
    return realSetTimeout(fn, ms, ...rest);
  }) as typeof setTimeout;
  try {
    for (let i = 0; i < 3; i++) {
      const before = process.cpuUsage();
      const started = performance.now();
      await sleep(1000);
      const used = process.cpuUsage(before);
      shares.push((used.user + used.system) / 1000 / (performance.now() - started));
    }
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
  const share = Math.min(...shares);
  t.diagnostic(`CPU while 64 downloads wait on clients that do not read: ${shares.map((s) => (s * 100).toFixed(1)).join(', ')} % of a core; ${shortTimers} timers of ≤ 5 ms armed in 3 s`);
  assert.ok(share < 0.04, `the relay used ${(share * 100).toFixed(1)} % of a core for clients that do not read`);
  assert.ok(shortTimers < 100, `${shortTimers} timers of ≤ 5 ms were armed in 3 s`);

  // The honest pair is not held up by them.
  await assertDownloads(bo, shared.id, big, 'honest pair beside sleepers');
  await assertChats(ana, 'fine here');
  assert.equal(relay.relay.fileTransfers.downloads, 64, 'the sleepers still wait, costing nothing');
});

test('a download link whose token is 32 characters of non-ASCII text is refused with 403, not a reset connection', { timeout: 30_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const [ana, bo] = await honestPair(relay, 'Tokens', sessions);
  const bytes = pattern(50_000, 35);
  const shared = await ana.files.send(bytes, { name: 'plan.txt' });
  await until(() => bo.files.get(shared.id), 'offered to Bo', 5000);
  const url = new URL(bo.files.get(shared.id)!.url!);
  for (const token of ['é'.repeat(32), '😀'.repeat(16), `${'a'.repeat(31)}ü`, '\u{10FFFF}'.repeat(16), 'x'.repeat(31) + '\0']) {
    const forged = new URL(url);
    forged.searchParams.set('t', token);
    const res = await fetch(forged);
    assert.equal(res.status, 403, `token ${JSON.stringify(token)}`);
    assert.equal(await res.text(), 'this link is not valid for that file\n');
  }
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(bytes));
  await assertDownloads(bo, shared.id, bytes, 'honest pair');
  await assertChats(ana, 'links still work');
});

/** Small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces of a fuzzed file name: plain text, the odd characters of names, and broken UTF-16. */
const PIECES = [
  'report', 'a', ' ', '.', '..', '/', '\\', 'C:', '"', '%', '%2F', '<>', '*?', 'CON', 'é', 'ß', '漢字', 'ﬁ',
  '\u0301', '\u200d', '\ufeff', '\uffff', '😀', '👩‍👩‍👧', '\u{10FFFF}', '\u{1F600}'.slice(0, 1), '\u{1F600}'.slice(1),
  '\ud800', '\udbff', '\udc00', '\udfff', '\udc00\ud800', '\t', '\n', '\u0000', '\u007f', '\u0085', '\u2028',
];

function fuzzedName(next: () => number): string {
  if (next() < 0.05) return 'x'.repeat(250 + Math.floor(next() * 10)) + (next() < 0.5 ? '\ud83d' : '');
  let name = '';
  const parts = 1 + Math.floor(next() * 6);
  for (let i = 0; i < parts; i++) name += PIECES[Math.floor(next() * PIECES.length)];
  return name;
}

/** What the protocol accepts as a file name, written out independently of the relay's code. */
function acceptable(name: string): boolean {
  if (name.trim() === '' || name.length > 255) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = name.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

test('fuzzed file names: a broken one (a lone surrogate…) is refused with LAN_ERR_BAD_NAME before anything is stored; a valid one is shared, listed and downloadable as given', { timeout: 90_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  const attackers: Attacker[] = [];
  t.after(async () => {
    for (const a of attackers) a.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const meeting = 'Names';
  const [ana, bo] = await honestPair(relay, meeting, sessions);
  const honest = pattern(20_000, 36);
  const shared = await ana.files.send(honest, { name: 'minutes.txt' });

  const next = random(0x5eed);
  const names = ['\ud800', 'a\udc00.txt', '\udc00\ud800', 'ok \u{1F600}.txt', `${'y'.repeat(254)}\ud83d`, ...Array.from({ length: 90 }, () => fuzzedName(next))];
  const valid = names.filter(acceptable);
  t.diagnostic(`${names.length} names, ${valid.length} acceptable`);
  assert.ok(valid.length > 10 && names.length - valid.length > 10, 'the fuzz covers both kinds');
  assert.ok(valid.length < PAGE - 1, 'every shared file fits in one welcome page');

  const fuzzer = await attacker(relay, meeting, 'Fuzzer', 'websocket');
  attackers.push(fuzzer);
  const listed: string[] = [];
  for (const [i, name] of names.entries()) {
    const expected = acceptable(name);
    const data = Uint8Array.of(i & 255, i >> 8);
    const result = await fuzzer.share(name, `n${i}`, data);
    if (!expected) {
      assert.equal(result.error?.code, 'LAN_ERR_BAD_NAME', `${JSON.stringify(name)}: ${JSON.stringify(result)}`);
      assert.equal(result.error?.requestId, `n${i}`, 'refused at fileUpload, before any byte is taken');
      // The SDK refuses it too, before sending anything.
      assert.throws(() => checkFileName(name), (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_BAD_NAME');
      continue;
    }
    assert.ok(result.file, `${JSON.stringify(name)} is shared: ${JSON.stringify(result.error)}`);
    assert.equal(result.file.name, name, 'kept as given');
    listed.push(name);
    const res = await fetch(new URL(String(result.file.url), relay.url));
    assert.equal(res.status, 200, `${JSON.stringify(name)}: its link works`);
    assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[\w%.!~*'()-]+$/);
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), data);
  }
  await assert.rejects(ana.files.send(new Uint8Array(1), { name: 'half \ud83d' }), (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_BAD_NAME');

  // A later joiner lists exactly the honest file and the valid names, in order, and the honest pair goes on.
  const cy = await join(relay.url, meeting, 'Cy', { transport: 'native' });
  sessions.push(cy);
  assert.deepEqual(cy.files.list().map((f) => f.name), ['minutes.txt', ...listed]);
  await assertDownloads(bo, shared.id, honest, 'honest pair');
  await assertDownloads(cy, shared.id, honest, 'late joiner');
  await assertChats(bo, 'names are fine');
});
