// Shared files end to end in Node: real relay (SQLite + content store in a scratch data dir), real sockets,
// the SDK over WebSocket and native TCP, raw clients for what the SDK never sends.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import type { SharedFile } from '../../sdk/Files.js';
import { LanError } from '../../sdk/errors.js';
import { binaryFrameHeader, encodeFileChunk } from '../../sdk/protocol/index.js';
import { RawTcp, RawWs, join, leaveAll, pattern, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';
import { runCli } from '../cli-process.js';

const MiB = 1024 * 1024;

/** `count` chunks of `chunkBytes`, generated as read (never the whole file in memory); SHA-256 computed alongside. */
function generated(count: number, chunkBytes: number, seed: number): { stream: () => AsyncIterable<Uint8Array>; size: number; sha256: string } {
  const chunk = pattern(chunkBytes, seed);
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) {
    chunk[0] = i & 255;
    chunk[1] = (i >> 8) & 255;
    hash.update(chunk);
  }
  return {
    size: count * chunkBytes,
    sha256: hash.digest('hex'),
    async *stream() {
      for (let i = 0; i < count; i++) {
        const c = chunk.slice();
        c[0] = i & 255;
        c[1] = (i >> 8) & 255;
        yield c;
      }
    },
  };
}

/** Reads a whole download stream, hashing it; returns its size and SHA-256 (never holds the file). */
async function drain(stream: ReadableStream<Uint8Array>, onBytes?: (n: number) => void): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
    onBytes?.(size);
  }
  return { size, sha256: hash.digest('hex') };
}

function offeredTo(session: Session, id: string): Promise<void> {
  return until(() => session.files.get(id), `file ${id} offered to ${session.local.name}`, 10_000);
}

/** Drops a participant's connection from the relay's side (as a network cut would). */
function cut(relay: TestRelay, meeting: string, participantId: string): void {
  const peer = relay.relay.rooms.get(meeting)?.participants.get(participantId);
  assert.ok(peer, `participant ${participantId} is in ${meeting}`);
  peer.connection!.link.destroy();
}

function logOf(lines: string[]): RelayLog {
  return (level, message) => lines.push(`${level} ${message}`);
}
type RelayLog = (level: 'info' | 'warn', message: string) => void;

test('a 256 MiB file from a native (TCP) client reaches a WebSocket and a native participant, SHA-256 verified, memory flat', { timeout: 240_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const sender = await join(relay.url, 'Big', 'Sender', { transport: 'native' });
  const ws = await join(relay.url, 'Big', 'WS reader');
  const native = await join(relay.url, 'Big', 'TCP reader', { transport: 'native' });
  sessions.push(sender, ws, native);
  const file = generated(256, MiB, 1);
  const base = process.memoryUsage();
  let peakRss = base.rss;
  let peakBuffers = base.arrayBuffers;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers);
  }, 20);
  t.after(() => clearInterval(sampler));

  const progress: number[] = [];
  sender.on('fileProgress', (p) => p.direction === 'upload' && progress.push(p.bytes));
  const shared = await sender.files.send(file.stream(), { name: 'disk image.bin', size: file.size });
  assert.equal(shared.sha256, file.sha256);
  assert.equal(shared.size, file.size);
  assert.ok(progress.length > 3 && progress.at(-1) === file.size, 'upload progress reported up to the whole size');
  await Promise.all([offeredTo(ws, shared.id), offeredTo(native, shared.id)]);
  const [a, b] = await Promise.all([drain(ws.files.stream(shared.id)), drain(native.files.stream(shared.id))]);
  clearInterval(sampler);
  assert.deepEqual(a, { size: file.size, sha256: file.sha256 });
  assert.deepEqual(b, { size: file.size, sha256: file.sha256 });
  // Relay and the three clients share this process: holding the file anywhere would add 256 MiB.
  const grewRss = (peakRss - base.rss) / MiB;
  const grewBuffers = (peakBuffers - base.arrayBuffers) / MiB;
  t.diagnostic(`memory growth during the transfer: RSS ${grewRss.toFixed(0)} MiB, array buffers ${grewBuffers.toFixed(0)} MiB`);
  assert.ok(grewBuffers < 128, `array buffers grew by ${grewBuffers.toFixed(0)} MiB for a 256 MiB file`);
  assert.ok(grewRss < 192, `RSS grew by ${grewRss.toFixed(0)} MiB for a 256 MiB file`);
  assert.equal(ws.files.get(shared.id)?.state, 'done');
});

test('a 0-byte file is shared, downloaded over the wire and over HTTP', async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const a = await join(relay.url, 'Zero', 'Ana', { transport: 'native' });
  const b = await join(relay.url, 'Zero', 'Bo');
  sessions.push(a, b);
  const shared = await a.files.send(new Uint8Array(0), { name: 'empty.txt' });
  assert.equal(shared.sha256, createHash('sha256').digest('hex'));
  await offeredTo(b, shared.id);
  const blob = await b.files.download(shared.id);
  assert.equal(blob.size, 0);
  const res = await fetch(b.files.get(shared.id)!.url!);
  assert.equal(res.status, 200);
  assert.equal((await res.arrayBuffer()).byteLength, 0);
});

test('an upload cut mid-way resumes from the last confirmed byte and finishes verified; the others never see the sender leave', { timeout: 60_000 }, async (t) => {
  const lines: string[] = [];
  const relay = await startRelay({ log: logOf(lines) });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  for (const transport of ['websocket', 'native'] as const) {
    const meeting = `Cut upload ${transport}`;
    const sender = await join(relay.url, meeting, 'Sender', { transport });
    const other = await join(relay.url, meeting, 'Other');
    sessions.push(sender, other);
    const left: string[] = [];
    other.on('participantLeft', (p) => left.push(p.id));
    const states: string[] = [];
    sender.on('stateChanged', (s) => states.push(s));
    const file = generated(48, MiB, 2);
    let cutDone = false;
    // The source stops after 16 MiB until the relay has stored what it was sent, then the connection is
    // cut (a cut timed by progress events came too late once a loopback upload took under 100 ms).
    async function* source(): AsyncIterable<Uint8Array> {
      let given = 0;
      for await (const chunk of file.stream()) {
        if (given === 16 * MiB) {
          await new Promise((r) => setTimeout(r, 300));
          cutDone = true;
          cut(relay, meeting, sender.local.id);
        }
        given += chunk.byteLength;
        yield chunk;
      }
    }
    const id = sender.local.id;
    const shared = await withTimeout(sender.files.send(source(), { name: 'cut.bin', size: file.size }), 40_000, 'the cut upload');
    assert.ok(cutDone, 'the connection was cut during the upload');
    assert.equal(shared.sha256, file.sha256);
    assert.deepEqual(states, ['reconnecting', 'connected']);
    assert.equal(sender.local.id, id, 'the same participant after the resume');
    const resumed = lines.find((l) => l.includes('resumed at byte') && l.includes('"cut.bin"') && l.includes(meeting));
    assert.ok(resumed, `the relay logged the resume: ${lines.filter((l) => l.includes('resumed')).join(' | ')}`);
    const at = Number(/resumed at byte (\d+)/.exec(resumed)![1]);
    assert.ok(at >= 4 * MiB && at < file.size, `resumed at byte ${at}, not from the start`);
    await offeredTo(other, shared.id);
    assert.deepEqual(await drain(other.files.stream(shared.id)), { size: file.size, sha256: file.sha256 });
    assert.deepEqual(left, [], 'nobody saw the sender leave');
  }
});

test('a download cut mid-way resumes from the last byte received and is verified', { timeout: 60_000 }, async (t) => {
  const lines: string[] = [];
  const relay = await startRelay({ log: logOf(lines) });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  for (const transport of ['websocket', 'native'] as const) {
    const meeting = `Cut download ${transport}`;
    const sender = await join(relay.url, meeting, 'Sender');
    const reader = await join(relay.url, meeting, 'Reader', { transport });
    sessions.push(sender, reader);
    const file = generated(40, MiB, 3);
    const shared = await sender.files.send(file.stream(), { name: 'down.bin', size: file.size });
    await offeredTo(reader, shared.id);
    let cutDone = false;
    const got = await withTimeout(drain(reader.files.stream(shared.id), (n) => {
      if (!cutDone && n >= 10 * MiB) {
        cutDone = true;
        cut(relay, meeting, reader.local.id);
      }
    }), 40_000, 'the cut download');
    assert.ok(cutDone);
    assert.deepEqual(got, { size: file.size, sha256: file.sha256 });
    const resumed = lines.find((l) => l.includes(`download of file ${shared.id}`) && l.includes('resumed at byte'));
    assert.ok(resumed, 'the relay logged the resumed download');
    assert.ok(Number(/resumed at byte (\d+)/.exec(resumed)![1]) >= 10 * MiB);
  }
});

test('late joiners see earlier chat and files; after a relay restart the history and the files are still there', { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-restart-'));
  let relay = await startRelay({ dataDir });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const ana = await join(relay.url, 'Keep', 'Ana');
  sessions.push(ana);
  await ana.chat.send('first');
  await ana.chat.send('second');
  const bytes = pattern(300_000, 4);
  const shared = await ana.files.send(bytes, { name: 'notes.txt' });

  const late = await join(relay.url, 'Keep', 'Late', { transport: 'native' });
  sessions.push(late);
  assert.deepEqual(late.chat.messages.map((m) => m.text), ['first', 'second']);
  assert.deepEqual(late.files.list().map((f) => [f.name, f.size, f.sha256, f.fromName]), [['notes.txt', 300_000, shared.sha256, 'Ana']]);

  await leaveAll(sessions);
  sessions.length = 0;
  await relay.relay.close();
  relay = await startRelay({ dataDir });
  const after = await join(relay.url, 'Keep', 'After restart');
  sessions.push(after);
  assert.deepEqual(after.chat.messages.map((m) => [m.name, m.text]), [['Ana', 'first'], ['Ana', 'second']]);
  const [file] = after.files.list();
  assert.equal(file?.id, shared.id);
  const blob = await after.files.download(shared.id);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), bytes);
  const other = await join(relay.url, 'Other meeting', 'Nosy');
  sessions.push(other);
  assert.deepEqual(other.files.list(), [], 'files stay in their meeting');
  assert.deepEqual(other.chat.messages, []);
});

test('hostile names are shown as given, stored only under the hash, and suggested as safe names; bad ones are refused', { timeout: 30_000 }, async (t) => {
  const parent = mkdtempSync(joinPath(tmpdir(), 'lanconf-names-'));
  const dataDir = joinPath(parent, 'data');
  const relay = await startRelay({ dataDir });
  const sessions: Session[] = [];
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.relay.close();
    rmSync(parent, { recursive: true, force: true });
  });
  const a = await join(relay.url, 'Names', 'Ana');
  const b = await join(relay.url, 'Names', 'Bo');
  sessions.push(a, b);
  const cases: Array<[string, string]> = [['../../x', 'x'], ['C:\\x', 'x'], ['CON', '_CON'], ['nul.txt', '_nul.txt'], ['..', 'file'], ['a/b\\c<d>.txt', 'c_d_.txt']];
  for (const [i, [name, safe]] of cases.entries()) {
    const shared = await a.files.send(pattern(1000 + i, 10 + i), { name });
    assert.equal(shared.name, name, 'shown as given');
    await offeredTo(b, shared.id);
    const res = await fetch(b.files.get(shared.id)!.url!);
    assert.equal(res.status, 200);
    const disposition = res.headers.get('content-disposition') ?? '';
    assert.ok(disposition.includes(`filename*=UTF-8''${encodeURIComponent(safe)}`), `${name} → ${safe}: ${disposition}`);
    await res.arrayBuffer();
  }
  // Nothing but the data dir was created, and the content store holds hash-named files only.
  assert.deepEqual(readdirSync(parent), ['data']);
  const store = joinPath(dataDir, 'files', 'sha256');
  for (const dir of readdirSync(store)) {
    assert.match(dir, /^[0-9a-f]{2}$/);
    for (const name of readdirSync(joinPath(store, dir))) assert.match(name, /^[0-9a-f]{64}$/);
  }
  assert.equal(existsSync(joinPath(parent, 'x')), false);

  // The SDK refuses bad names before sending; the relay refuses them from a raw client too.
  for (const name of ['bad\0name', 'two\nlines', 'x'.repeat(10_000), '   ']) {
    await assert.rejects(a.files.send(new Uint8Array(1), { name }), (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_BAD_NAME');
  }
  const { client: raw } = await RawWs.join(relay.wsUrl, 'Names', 'Raw');
  raws.push(raw);
  for (const [i, name] of ['bad\0name', 'two\nlines', 'x'.repeat(10_000), ''].entries()) {
    raw.sendJson({ type: 'fileUpload', requestId: `n${i}`, name, size: 1 });
    const error = await raw.next('error', 3000, (m) => m.requestId === `n${i}`);
    assert.equal(error.code, 'LAN_ERR_BAD_NAME', String(error.message));
  }
  assert.equal(raw.closed, false);
  assert.equal((await a.chat.send('still here')).text, 'still here');
});

test('limits: oversize files, the meeting quota, a wrong hash, offsets past the end, bad links get clear errors; the relay serves on', { timeout: 30_000 }, async (t) => {
  const relay = await startRelay({ limits: { maxFileBytes: 1 * MiB, maxMeetingFileBytes: 3 * MiB } });
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
  const failed: string[] = [];
  a.on('fileFailed', (_f, e) => failed.push(e.code));

  // Over the file size limit: refused by the SDK (it knows the limit) and by the relay (a raw client).
  await assert.rejects(a.files.send(new Uint8Array(MiB + 1), { name: 'big' }), (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_TOO_LARGE');
  const { client: raw } = await RawWs.join(relay.wsUrl, 'Limits', 'Raw');
  raws.push(raw);
  raw.sendJson({ type: 'fileUpload', requestId: 'big', name: 'big', size: MiB + 1 });
  assert.equal((await raw.next('error', 3000, (m) => m.requestId === 'big')).code, 'LAN_ERR_TOO_LARGE');

  // Quota: two 1 MiB files fit; a third in progress takes what it has received (at least 64 KiB), so a
  // fourth of 1 MiB no longer does.
  await a.files.send(pattern(MiB, 1), { name: 'one' });
  await a.files.send(pattern(MiB, 2), { name: 'two' });
  raw.sendJson({ type: 'fileUpload', requestId: 'three', name: 'three', size: MiB });
  const ready = await raw.next('fileUploadReady', 3000, (m) => m.requestId === 'three');
  await assert.rejects(a.files.send(pattern(MiB, 3), { name: 'four' }), (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_QUOTA');

  // A wrong hash: the relay discards the upload and offers nothing.
  const uploadId = String(ready.uploadId);
  const data = pattern(MiB, 5);
  // An offset the relay does not expect is refused, the upload stays usable.
  raw.sendBinary(encodeFileChunk(uploadId, 100, data.subarray(0, 10)));
  assert.equal((await raw.next('error', 3000, (m) => m.requestId === `file:${uploadId}`)).code, 'LAN_ERR_BAD_OFFSET');
  raw.sendBinary(encodeFileChunk(uploadId, 0, data.subarray(0, MiB / 2)));
  raw.sendBinary(encodeFileChunk(uploadId, MiB / 2, data.subarray(MiB / 2)));
  raw.sendJson({ type: 'fileUploadEnd', uploadId, sha256: '0'.repeat(64) });
  const mismatch = await raw.next('error', 3000, (m) => m.requestId === `file:${uploadId}` && m.code === 'LAN_ERR_HASH_MISMATCH');
  assert.match(String(mismatch.message), /discarded/);
  assert.equal(b.files.list().length, 2, 'the file with the wrong hash was not offered');
  assert.equal(relay.relay.fileTransfers.uploads, 0, 'and its partial content is gone');

  // Downloads past the end, unknown files, bad links and ranges.
  const [one] = b.files.list();
  raw.sendJson({ type: 'fileDownload', requestId: 'past', fileId: one!.id, offset: MiB + 1 });
  assert.equal((await raw.next('error', 3000, (m) => m.requestId === 'past')).code, 'LAN_ERR_BAD_OFFSET');
  raw.sendJson({ type: 'fileDownload', requestId: 'nope', fileId: '0123456789abcdef', offset: 0 });
  assert.equal((await raw.next('error', 3000, (m) => m.requestId === 'nope')).code, 'LAN_ERR_UNKNOWN_FILE');
  await assert.rejects(drain(b.files.stream(one!.id, { resumeFrom: MiB + 5 })), (e: unknown) => e instanceof LanError && e.code === 'LAN_ERR_BAD_OFFSET');
  const url = new URL(one!.url!);
  const range = await fetch(url, { headers: { range: 'bytes=10-19' } });
  assert.equal(range.status, 206);
  assert.equal(range.headers.get('content-range'), `bytes 10-19/${MiB}`);
  assert.deepEqual(new Uint8Array(await range.arrayBuffer()), pattern(MiB, 1).subarray(10, 20));
  const suffix = await fetch(url, { headers: { range: 'bytes=-5' } });
  assert.deepEqual(new Uint8Array(await suffix.arrayBuffer()), pattern(MiB, 1).subarray(MiB - 5));
  const beyond = await fetch(url, { headers: { range: `bytes=${MiB}-` } });
  assert.equal(beyond.status, 416);
  await beyond.arrayBuffer();
  const forged = new URL(url);
  forged.searchParams.set('t', 'x'.repeat(32));
  assert.equal((await fetch(forged)).status, 403);
  const otherMeeting = new URL(url);
  otherMeeting.searchParams.set('m', 'Elsewhere');
  assert.equal((await fetch(otherMeeting)).status, 403, 'a link opens its own meeting only');

  assert.equal(raw.closed, false, 'bad file requests are answered, not punished');
  assert.deepEqual(failed, ['LAN_ERR_QUOTA']);
  assert.equal((await b.chat.send('all fine')).text, 'all fine');
});

test('a client that opens downloads and never acknowledges them gets eight, each held to its window, then a clear refusal', { timeout: 30_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const a = await join(relay.url, 'Hog', 'Ana', { transport: 'native' });
  sessions.push(a);
  const file = generated(24, MiB, 12);
  const shared = await a.files.send(file.stream(), { name: 'big.bin', size: file.size });
  const { client: raw } = await RawWs.join(relay.wsUrl, 'Hog', 'Hog');
  raws.push(raw);
  for (let i = 0; i < 9; i++) raw.sendJson({ type: 'fileDownload', requestId: `hog${i}`, fileId: shared.id, offset: 0 });
  const refused = await raw.next('error', 5000, (m) => m.requestId === 'hog8');
  assert.equal(refused.code, 'LAN_ERR_RATE_LIMITED');
  assert.match(String(refused.message), /at most 8 downloads/);
  // The refusal is immediate; each of the eight answers once its file is open, so they may come after it.
  await until(() => raw.messages.filter((m) => m.type === 'fileDownloadReady').length === 8, 'eight fileDownloadReady', 5000);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(raw.messages.filter((m) => m.type === 'fileDownloadReady').length, 8, 'no more than eight');
  assert.equal(relay.relay.fileTransfers.downloads, 8, 'the eight wait for acknowledgements');
  // Without acks each download stops at its window: 8 × 8 MiB, not 8 × 24 MiB.
  const received = raw.badBinary.reduce((n, b) => n + b.byteLength, 0);
  assert.ok(received <= 8 * (8 * MiB + 64 * 1024) && received >= 8 * 4 * MiB, `received ${received} bytes`);
  assert.equal((await a.chat.send('the relay serves on')).text, 'the relay serves on');
});

test('files of a meeting are removed once it has been empty for the retention time', { timeout: 30_000 }, async (t) => {
  const relay = await startRelay({ fileRetentionMs: 500 });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const a = await join(relay.url, 'Brief', 'Ana');
  const shared: SharedFile = await a.files.send(pattern(5000, 9), { name: 'brief.txt' });
  const url = shared.url!;
  // While someone is there, nothing expires.
  await new Promise((r) => setTimeout(r, 1500));
  const kept = await fetch(url);
  assert.equal(kept.status, 200);
  await kept.arrayBuffer();
  await a.leave();
  await until(async () => {
    const res = await fetch(url);
    await res.arrayBuffer();
    return res.status === 404;
  }, 'the file link going away', 15_000);
  const b = await join(relay.url, 'Brief', 'Bo');
  sessions.push(b);
  assert.deepEqual(b.files.list(), []);
  // The link goes first (the record), the content right after (its removal is asynchronous).
  await until(async () => (await relay.relay.storedFileBytes()) === 0, 'the content is deleted too', 5000);
});

test('a download whose first chunks come in the same read as its answer (relay in its own process, client busy) loses nothing', { timeout: 90_000 }, async (t) => {
  // In one process the relay and the client take turns, so the answer and the first chunk arrive apart.
  // A relay of its own writes both before a busy client reads: one read of the native transport then
  // holds `fileDownloadReady` and the first chunk(s), and the download must already be registered.
  const data = mkdtempSync(joinPath(tmpdir(), 'lanconf-files-cli-'));
  t.after(() => rmSync(data, { recursive: true, force: true }));
  const cli = runCli(t, ['--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--udp-port', '0', '--tls', 'off', '--data-dir', data]);
  const [, url] = await cli.waitFor(/(http:\/\/127\.0\.0\.1:\d+)\//);
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    cli.child.kill('SIGTERM');
    await cli.exited;
  });
  const sender = await join(url!, 'Same read', 'Sender', { transport: 'native' });
  const reader = await join(url!, 'Same read', 'Reader', { transport: 'native' });
  sessions.push(sender, reader);
  for (const size of [1000, 200 * 1024, 3 * MiB]) {
    const bytes = pattern(size, size);
    const shared = await sender.files.send(bytes, { name: `f${size}.bin` });
    await offeredTo(reader, shared.id);
    for (let round = 0; round < 3; round++) {
      const stream = reader.files.stream(shared.id); // sends fileDownload at once
      const busyUntil = Date.now() + 40;
      while (Date.now() < busyUntil) { /* busy: the answer and the first chunks pile up in the socket */ }
      assert.deepEqual(await withTimeout(drain(stream), 20_000, `download of ${size} bytes, round ${round}`),
        { size, sha256: createHash('sha256').update(bytes).digest('hex') });
    }
  }
});

test('tiny chunks: the SDK joins a source\'s small pieces into full chunks; a raw client flooding 1-byte chunks is stopped, the relay serves on', { timeout: 60_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  const raws: RawTcp[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const { client: raw } = await RawTcp.join(relay.addresses.tcpPort, 'Tiny', 'Raw');
  raws.push(raw);
  raw.sendJson({ type: 'fileUpload', requestId: 'tiny', name: 'tiny.bin', size: 4000 });
  const uploadId = String((await raw.next('fileUploadReady', 3000, (m) => m.requestId === 'tiny')).uploadId);
  // 2000 one-byte chunks in one write: the relay parses them in one go, faster than any is stored.
  const frames = [];
  for (let i = 0; i < 2000; i++) {
    const packet = encodeFileChunk(uploadId, i, Uint8Array.of(i & 255));
    frames.push(binaryFrameHeader(packet.byteLength), packet);
  }
  raw.socket.write(Buffer.concat(frames));
  const stopped = await raw.next('error', 5000, (m) => m.requestId === `file:${uploadId}`);
  assert.equal(stopped.code, 'LAN_ERR_INVALID_MESSAGE');
  assert.match(String(stopped.message), /chunks in flight/);
  await until(() => relay.relay.fileTransfers.uploads === 0, 'the flooded upload is dropped', 5000);

  // The relay serves on, and an SDK source giving 1 KiB at a time arrives whole and verified.
  const a = await join(relay.url, 'Tiny', 'Ana', { transport: 'native' });
  const b = await join(relay.url, 'Tiny', 'Ben');
  sessions.push(a, b);
  const bytes = pattern(3 * MiB + 123, 9);
  async function* kib(): AsyncIterable<Uint8Array> {
    for (let at = 0; at < bytes.byteLength; at += 1024) yield bytes.slice(at, at + 1024);
  }
  const shared = await a.files.send(kib(), { name: 'kib.bin', size: bytes.byteLength });
  await offeredTo(b, shared.id);
  assert.deepEqual(await drain(b.files.stream(shared.id)), { size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') });
});
