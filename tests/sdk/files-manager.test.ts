// The files manager alone, on a fake host: the test plays the relay (handleControl / handleError /
// handleChunk) and reads what the manager sent (control messages, chunk packets) and emitted. No relay, no
// socket: flow control windows, progress, cancel, resumes, a download's bytes and its hash check.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { ErrorCode, LanError, RelayError } from '../../sdk/errors.js';
import { Files, type FileEvents, type FilesHost, type SharedFile } from '../../sdk/Files.js';
import { portableSha256 } from '../../sdk/files/sha256.js';
import {
  DEFAULT_LIMITS, FILE_ACK_EVERY_BYTES, FILE_CHUNK_BYTES, FILE_WINDOW_BYTES, decodeFileChunk, encodeFileChunk,
  type ClientMessage, type FileInfo, type Limits,
} from '../../sdk/protocol/index.js';

const MiB = 1024 * 1024;
const CHUNK = FILE_CHUNK_BYTES;
const WINDOW = FILE_WINDOW_BYTES;
const ME = 'a0a0a0a0a0a0a0a0';
const BO = 'b0b0b0b0b0b0b0b0';
/** Transfer ids as the relay gives them (16 hex characters). */
const UPLOAD = '0123456789abcdef';
const DOWNLOAD = 'fedcba9876543210';
const DOWNLOAD_2 = 'fedcba9876540000';

type Sent<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

/** A session as the files manager sees it: records what it sends and emits; `online` is the connection. */
class FakeHost implements FilesHost {
  readonly localName = 'Ana';
  readonly limits: Limits = { ...DEFAULT_LIMITS, maxFileBytes: 64 * MiB };
  readonly httpBase = 'http://relay.test:8787/';
  readonly sha256 = portableSha256;
  online = true;
  readonly sent: ClientMessage[] = [];
  readonly chunks: Array<{ transfer: string; offset: number; data: Uint8Array }> = [];
  readonly events: Array<{ event: keyof FileEvents; args: unknown[] }> = [];

  readonly localId = (): string => ME;
  readonly connected = (): boolean => this.online;
  readonly send = (message: ClientMessage): void => void this.sent.push(message);

  sendFile(header: Uint8Array, data: Uint8Array): void {
    const { transfer, offset } = decodeFileChunk(header);
    this.chunks.push({ transfer, offset, data });
  }

  emit<K extends keyof FileEvents>(event: K, ...args: FileEvents[K]): void {
    this.events.push({ event, args });
  }

  messages<T extends ClientMessage['type']>(type: T): Array<Sent<T>> {
    return this.sent.filter((m): m is Sent<T> => m.type === type);
  }

  last<T extends ClientMessage['type']>(type: T): Sent<T> {
    const found = this.messages(type).at(-1);
    assert.ok(found, `a ${type} message was sent`);
    return found;
  }

  emitted<K extends keyof FileEvents>(event: K): Array<FileEvents[K]> {
    return this.events.filter((e) => e.event === event).map((e) => e.args as FileEvents[K]);
  }

  /** The chunks sent, joined. */
  chunkBytes(): Buffer {
    return Buffer.concat(this.chunks.map((c) => c.data));
  }
}

/** Deterministic bytes. */
function bytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed * 7 + (i >>> 10)) & 0xff;
  return out;
}

function sha256hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stream giving `data` in pieces of `piece` bytes, as it is read. */
function streamOf(data: Uint8Array, piece: number): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= data.byteLength) return controller.close();
      const end = Math.min(at + piece, data.byteLength);
      controller.enqueue(data.subarray(at, end));
      at = end;
    },
  });
}

/** A file of the meeting as the relay describes it. */
function fileInfo(id: string, data: Uint8Array, extra: Partial<FileInfo> = {}): FileInfo {
  return {
    id, name: 'notes.bin', size: data.byteLength, sha256: sha256hex(data), from: BO, fromName: 'Bo', ts: 1_700_000_000_000,
    url: `/files/${id}?t=token`, ...extra,
  };
}

/** A session that knows one file of Bo's holding `data`, and the files manager over it. */
function offered(data: Uint8Array, id: string, extra: Partial<FileInfo> = {}): { host: FakeHost; data: Uint8Array; info: FileInfo; files: Files } {
  const host = new FakeHost();
  const info = fileInfo(id, data, extra);
  return { host, data, info, files: new Files(host, [info]) };
}

/** How a promise stands, readable synchronously once callbacks have run. */
function watch<T>(promise: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } {
  const status: { state: 'pending' | 'resolved' | 'rejected'; value?: T; error?: unknown } = { state: 'pending' };
  promise.then((value) => Object.assign(status, { state: 'resolved', value }), (error: unknown) => Object.assign(status, { state: 'rejected', error }));
  return status;
}

/** Lets pending callbacks and stream reads run for `rounds` turns of the event loop (no timers). */
async function spin(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Spins until `predicate` holds (fails the test after many turns). */
async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 5000 && !predicate(); i++) await spin(1);
  assert.ok(predicate(), `never happened: ${what}`);
}

/** For `assert.rejects`: a {@link LanError} with `code`. */
const isCode = (code: ErrorCode) => (error: unknown): boolean => error instanceof LanError && error.code === code;

/** The relay accepts the last `fileUpload`: chunks of `UPLOAD` from `offset`. */
function acceptUpload(files: Files, host: FakeHost, offset = 0): void {
  files.handleControl({ type: 'fileUploadReady', requestId: host.last('fileUpload').requestId, uploadId: UPLOAD, offset });
}

/** The relay accepts the last `fileDownload` as transfer `transfer`. */
function acceptDownload(files: Files, host: FakeHost, info: FileInfo, transfer = DOWNLOAD): void {
  const ask = host.last('fileDownload');
  files.handleControl({ type: 'fileDownloadReady', requestId: ask.requestId, transferId: transfer, file: info, offset: ask.offset });
}

/** The relay sends `data[from, to)` of transfer `transfer` in chunks. */
function feed(files: Files, data: Uint8Array, from: number, to: number, transfer = DOWNLOAD): void {
  for (let at = from; at < to; at += CHUNK) files.handleChunk(encodeFileChunk(transfer, at, data.subarray(at, Math.min(at + CHUNK, to))));
}

// ---- uploads ---------------------------------------------------------------------------------------

test('an upload sends full chunks at most a window ahead of the relay\'s acks, ends with the SHA-256, and resolves with the file the relay offers', async () => {
  const host = new FakeHost();
  const files = new Files(host);
  const data = bytes(WINDOW + 2 * CHUNK + 1000, 1);
  const sending = watch(files.send(streamOf(data, 100_000), { name: 'big.bin', size: data.byteLength }));

  const ask = host.last('fileUpload');
  assert.deepEqual(ask, { type: 'fileUpload', requestId: ask.requestId, name: 'big.bin', size: data.byteLength });
  assert.deepEqual(files.list().map((f) => [f.id, f.state, f.local, f.from]), [['upload-1', 'uploading', true, ME]]);
  await spin();
  assert.equal(host.chunks.length, 0, 'not a byte before the relay says where to start');

  acceptUpload(files, host);
  await until(() => host.chunks.length === WINDOW / CHUNK, 'a window of chunks');
  await spin();
  assert.equal(host.chunks.length, WINDOW / CHUNK, 'a window, and not a byte more before an ack');
  assert.ok(host.chunks.every((c, i) => c.transfer === UPLOAD && c.offset === i * CHUNK && c.data.byteLength === CHUNK),
    'full chunks in order, though the stream gave 100 000-byte pieces');
  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: WINDOW + CHUNK });
  await spin();
  assert.equal(host.chunks.length, WINDOW / CHUNK, 'an ack past what was sent is ignored: it opens no window');

  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: 2 * CHUNK });
  await until(() => host.chunks.length === WINDOW / CHUNK + 2, 'two more chunks');
  await spin();
  assert.equal(host.chunks.length, WINDOW / CHUNK + 2, 'two chunks confirmed, two more sent');
  assert.equal(host.messages('fileUploadEnd').length, 0);

  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: WINDOW + 2 * CHUNK });
  await until(() => host.messages('fileUploadEnd').length === 1, 'the end');
  assert.deepEqual(host.chunks.at(-1)!.offset, WINDOW + 2 * CHUNK);
  assert.ok(host.chunkBytes().equals(data), 'the bytes sent are the file');
  assert.deepEqual(host.last('fileUploadEnd'), { type: 'fileUploadEnd', uploadId: UPLOAD, sha256: sha256hex(data) });
  await spin();
  assert.equal(sending.state, 'pending', 'done only once the relay stored and verified it');

  const info = fileInfo('1111222233334444', data, { name: 'big.bin', from: ME, fromName: 'Ana' });
  files.handleControl({ type: 'fileUploaded', uploadId: UPLOAD, file: info });
  await spin();
  assert.equal(sending.state, 'resolved');
  const shared: SharedFile = {
    id: info.id, name: 'big.bin', size: data.byteLength, sha256: info.sha256, from: ME, fromName: 'Ana', timestamp: info.ts,
    url: 'http://relay.test:8787/files/1111222233334444?t=token', state: 'offered', local: true,
  };
  assert.deepEqual(sending.value, shared);
  assert.deepEqual(files.list(), [shared], 'the local entry gave way to the file');
  assert.deepEqual(host.emitted('fileOffered'), [[shared]]);
  assert.deepEqual(host.emitted('fileCompleted'), [[shared, 'upload']]);
  // The relay's fileOffered to everyone, us included, adds nothing.
  files.handleControl({ type: 'fileOffered', file: info });
  assert.equal(files.list().length, 1);
  assert.equal(host.emitted('fileOffered').length, 1);
});

test('upload progress: an event at the start, then at most every 100 ms as the relay confirms bytes, always at the end; list() follows', async () => {
  const host = new FakeHost();
  const files = new Files(host);
  const data = bytes(4 * CHUNK, 2);
  files.send(data, { name: 'four.bin' }).catch(() => undefined); // ends with the close below
  acceptUpload(files, host);
  await until(() => host.messages('fileUploadEnd').length === 1, 'every chunk and the end sent');
  const progress = () => host.emitted('fileProgress').map(([p]) => [p.id, p.direction, p.bytes, p.total]);
  assert.deepEqual(progress(), [['upload-1', 'upload', 0, 4 * CHUNK]]);

  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: CHUNK });
  assert.equal(files.get('upload-1')!.progress, 0.25);
  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: 2 * CHUNK });
  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: 3 * CHUNK });
  assert.deepEqual(progress(), [['upload-1', 'upload', 0, 4 * CHUNK], ['upload-1', 'upload', CHUNK, 4 * CHUNK]],
    'acks within 100 ms of the last event make none');
  assert.equal(files.get('upload-1')!.progress, 0.25);
  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: 4 * CHUNK });
  assert.deepEqual(progress().at(-1), ['upload-1', 'upload', 4 * CHUNK, 4 * CHUNK], 'the last one always');
  assert.equal(files.get('upload-1')!.progress, 1);
  const [last] = host.emitted('fileProgress').at(-1)!;
  assert.ok(last.rate > 0);
  files.close(new LanError(ErrorCode.Closed, 'done'));
});

test('cancelling an upload through its AbortSignal: LAN_ERR_CLOSED, fileCancel to the relay, the entry failed, nothing sent after', async () => {
  const host = new FakeHost();
  const files = new Files(host);
  const abort = new AbortController();
  const data = bytes(WINDOW + CHUNK, 3);
  const sending = files.send(data, { name: 'cancel.bin', signal: abort.signal });
  acceptUpload(files, host);
  await until(() => host.chunks.length === WINDOW / CHUNK, 'a window of chunks');
  abort.abort();
  await assert.rejects(sending, isCode(ErrorCode.Closed));
  assert.deepEqual(host.last('fileCancel'), { type: 'fileCancel', transferId: UPLOAD });
  const entry = files.get('upload-1')!;
  assert.equal(entry.state, 'failed');
  assert.equal(entry.error, 'the upload was cancelled');
  const failed = host.emitted('fileFailed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]![0].id, 'upload-1');
  assert.equal(failed[0]![2], 'upload');
  files.handleControl({ type: 'fileAck', transferId: UPLOAD, offset: WINDOW });
  await spin();
  assert.equal(host.chunks.length, WINDOW / CHUNK, 'an ack after the cancel sends nothing');
});

test('relay errors: a refused fileUpload rejects with its code; LAN_ERR_BAD_OFFSET on a chunk waits for the next resume; any other transfer error ends the upload', async () => {
  const host = new FakeHost();
  const files = new Files(host);
  const refused = files.send(bytes(1000, 4), { name: 'quota.bin' });
  const quota = new RelayError(ErrorCode.QuotaExceeded, 'the meeting is out of space');
  assert.equal(files.handleError(host.last('fileUpload').requestId, quota), true);
  await assert.rejects(refused, (error: unknown) => error === quota);
  assert.equal(files.get('upload-1')!.state, 'failed');
  assert.equal(host.messages('fileCancel').length, 0, 'no upload id: nothing to cancel');

  // Under way (not ended: after `fileUploadEnd` every error is final).
  const sending = watch(files.send(bytes(WINDOW + CHUNK, 5), { name: 'racing.bin' }));
  acceptUpload(files, host);
  await until(() => host.chunks.length === WINDOW / CHUNK, 'a window of chunks');
  assert.equal(files.handleError(`file:${UPLOAD}`, new RelayError(ErrorCode.BadOffset, 'chunk at the wrong place')), true);
  await spin();
  assert.equal(sending.state, 'pending', 'a chunk out of place is a race with a reconnect: the resume fixes it');
  assert.equal(files.get('upload-2')!.state, 'uploading');
  const broken = new RelayError(ErrorCode.Internal, 'disk full');
  files.handleError(`file:${UPLOAD}`, broken);
  await spin();
  assert.equal(sending.state, 'rejected');
  assert.equal(sending.error, broken);
  assert.deepEqual(host.last('fileCancel'), { type: 'fileCancel', transferId: UPLOAD });
  assert.equal(files.handleError('publish-1', broken), false, 'not a files request');
});

test('after a reconnect an upload goes on from the relay\'s last byte: what it lacks is sent again, then the rest, then the end', async () => {
  const host = new FakeHost();
  const files = new Files(host);
  const data = bytes(WINDOW + 2 * CHUNK, 6);
  const sending = watch(files.send(data, { name: 'resumed.bin' }));
  acceptUpload(files, host);
  await until(() => host.chunks.length === WINDOW / CHUNK, 'a window of chunks');

  // The connection drops; the relay had written 30 chunks and a bit, but its acks were lost.
  host.online = false;
  await spin();
  host.online = true;
  host.sent.length = 0;
  host.chunks.length = 0;
  files.resumed([]);
  const again = host.last('fileUpload');
  assert.deepEqual(again, { type: 'fileUpload', requestId: again.requestId, name: 'resumed.bin', size: data.byteLength, uploadId: UPLOAD });
  await spin();
  assert.equal(host.chunks.length, 0, 'nothing until the relay says where it stands');
  const stands = 30 * CHUNK + 1000;
  acceptUpload(files, host, stands);
  await until(() => host.messages('fileUploadEnd').length === 1, 'the end');
  assert.deepEqual(host.chunks.map((c) => c.offset), [stands, 31 * CHUNK, 32 * CHUNK, 33 * CHUNK]);
  assert.ok(host.chunkBytes().equals(data.subarray(stands)), 'exactly the bytes after the relay\'s');
  assert.equal(host.last('fileUploadEnd').sha256, sha256hex(data), 'the hash of the whole file');

  // Dropped again after the end: the relay has every byte; only the end goes again.
  host.sent.length = 0;
  host.chunks.length = 0;
  files.resumed([]);
  acceptUpload(files, host, data.byteLength);
  await until(() => host.messages('fileUploadEnd').length === 1, 'the end again');
  assert.equal(host.chunks.length, 0);
  files.handleControl({ type: 'fileUploaded', uploadId: UPLOAD, file: fileInfo('5555666677778888', data, { from: ME }) });
  await spin();
  assert.equal(sending.state, 'resolved');
});

test('an upload whose fileUploaded was lost with the connection is resolved by the file in the welcome, and not sent again', async () => {
  const host = new FakeHost();
  const files = new Files(host);
  const data = bytes(CHUNK + 10, 7);
  const sending = watch(files.send(data, { name: 'lost-answer.bin' }));
  acceptUpload(files, host);
  await until(() => host.messages('fileUploadEnd').length === 1, 'the end');
  const info = fileInfo('9999aaaabbbbcccc', data, { name: 'lost-answer.bin', from: ME, fromName: 'Ana' });
  files.resumed([info]);
  await spin();
  assert.equal(sending.state, 'resolved');
  assert.equal((sending.value as SharedFile).id, info.id);
  assert.equal(host.messages('fileUpload').length, 1, 'not resumed: it was done');
  assert.deepEqual(files.list().map((f) => f.id), [info.id]);
  assert.equal(host.emitted('fileOffered').length, 1);
  assert.equal(host.emitted('fileCompleted').length, 1);
});

test('send() checks before anything goes out: name, size, the relay\'s limit, the connection; a source giving more than announced fails', async () => {
  const host = new FakeHost();
  const files = new Files(host);
  await assert.rejects(files.send(bytes(10, 1)), TypeError, 'bytes have no name');
  await assert.rejects(files.send(streamOf(bytes(10, 1), 5), { name: 'a' }), TypeError, 'a stream has no size');
  await assert.rejects(files.send(bytes(10, 1), { name: 'bad\nname' }), isCode(ErrorCode.BadName));
  await assert.rejects(files.send(bytes(10, 1), { name: 'big', size: 64 * MiB + 1 }), isCode(ErrorCode.TooLarge));
  host.online = false;
  await assert.rejects(files.send(bytes(10, 1), { name: 'offline' }), isCode(ErrorCode.Closed));
  host.online = true;
  assert.deepEqual(host.sent, []);
  assert.deepEqual(files.list(), []);

  const named = new File([bytes(10, 1) as BlobPart], 'from-a-file.txt');
  files.send(named).catch(() => undefined); // ends with the close below
  assert.equal(host.last('fileUpload').name, 'from-a-file.txt');
  assert.equal(host.last('fileUpload').size, 10);

  const liar = files.send(streamOf(bytes(CHUNK + 5, 2), 1000), { name: 'liar.bin', size: CHUNK });
  acceptUpload(files, host);
  await assert.rejects(liar, TypeError);
  assert.equal(files.list().find((f) => f.name === 'liar.bin')!.state, 'failed');
  files.close(new LanError(ErrorCode.Closed, 'done'));
});

test('a request the relay never answers fails after 15 s with LAN_ERR_TIMEOUT', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const host = new FakeHost();
  const files = new Files(host);
  const sending = watch(files.send(bytes(10, 1), { name: 'silence.bin' }));
  t.mock.timers.tick(14_999);
  await spin(3);
  assert.equal(sending.state, 'pending');
  t.mock.timers.tick(1);
  await spin(3);
  assert.equal(sending.state, 'rejected');
  assert.ok(sending.error instanceof LanError && sending.error.code === ErrorCode.Timeout, String(sending.error));
  assert.equal(files.get('upload-1')!.state, 'failed');
});

// ---- downloads -------------------------------------------------------------------------------------

test('a download gives the file\'s bytes, acks every MiB while the reader keeps up, and ends once they hash to the file\'s SHA-256', async () => {
  const { host, data, info, files } = offered(bytes(2 * MiB + CHUNK + 123, 8), '0000111122223333');
  const downloading = files.download(info.id);
  assert.deepEqual(host.last('fileDownload'), { type: 'fileDownload', requestId: host.last('fileDownload').requestId, fileId: info.id, offset: 0 });
  acceptDownload(files, host, info);
  await spin();
  assert.equal(files.get(info.id)!.state, 'downloading');
  feed(files, data, 0, data.byteLength);
  assert.deepEqual(host.messages('fileAck'), [
    { type: 'fileAck', transferId: DOWNLOAD, offset: FILE_ACK_EVERY_BYTES },
    { type: 'fileAck', transferId: DOWNLOAD, offset: 2 * FILE_ACK_EVERY_BYTES },
  ]);
  assert.ok(Buffer.from(await (await downloading).arrayBuffer()).equals(data), 'the file\'s bytes');
  const file = files.get(info.id)!;
  assert.equal(file.state, 'done');
  assert.equal(file.progress, 1);
  assert.deepEqual(host.emitted('fileCompleted'), [[file, 'download']]);
  const [last] = host.emitted('fileProgress').at(-1)!;
  assert.deepEqual([last.id, last.direction, last.bytes, last.total], [info.id, 'download', data.byteLength, data.byteLength]);
});

test('a download is paced by its reader: past the stream\'s high-water mark nothing is acked until the reader takes chunks', async () => {
  const { host, data, info, files } = offered(bytes(8 * MiB, 9), '0000111122224444');
  const reader = files.stream(info.id).getReader();
  acceptDownload(files, host, info);
  await spin();
  feed(files, data, 0, 5 * MiB);
  const acked = () => host.messages('fileAck').map((m) => m.offset / MiB);
  assert.deepEqual(acked(), [1, 2, 3], 'at 4 MiB queued the stream is full: no ack');
  for (let i = 0; i < 4; i++) await reader.read();
  await spin();
  assert.deepEqual(acked(), [1, 2, 3], 'still 4 MiB queued');
  await reader.read();
  await spin();
  assert.deepEqual(acked(), [1, 2, 3, 5], 'below the mark again: everything received is acked');
  await reader.cancel();
});

test('bytes that do not hash to the file\'s SHA-256 error the stream with LAN_ERR_HASH_MISMATCH instead of ending it', async () => {
  const { host, data, info, files } = offered(bytes(CHUNK + 77, 10), '0000111122225555', { sha256: sha256hex(bytes(CHUNK + 77, 11)) });
  const downloading = files.download(info.id);
  acceptDownload(files, host, info);
  feed(files, data, 0, data.byteLength);
  await assert.rejects(downloading, isCode(ErrorCode.HashMismatch));
  assert.equal(files.get(info.id)!.state, 'failed');
  const failed = host.emitted('fileFailed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]![2], 'download');
  assert.equal(host.emitted('fileCompleted').length, 0);
});

test('a chunk at another offset than the download stands at fails it with LAN_ERR_BAD_OFFSET and cancels the transfer', async () => {
  const { host, data, info, files } = offered(bytes(3 * CHUNK, 12), '0000111122226666');
  const downloading = files.download(info.id);
  acceptDownload(files, host, info);
  feed(files, data, 0, CHUNK);
  files.handleChunk(encodeFileChunk(DOWNLOAD, 2 * CHUNK, data.subarray(2 * CHUNK)));
  await assert.rejects(downloading, isCode(ErrorCode.BadOffset));
  assert.deepEqual(host.last('fileCancel'), { type: 'fileCancel', transferId: DOWNLOAD });
  files.handleChunk(encodeFileChunk(DOWNLOAD, CHUNK, data.subarray(CHUNK, 2 * CHUNK)));
  assert.equal(host.emitted('fileFailed').length, 1, 'later chunks of it are ignored');
});

test('cancelling the stream tells the relay, and the file is offered again', async () => {
  const { host, data, info, files } = offered(bytes(3 * CHUNK, 13), '0000111122227777');
  const reader = files.stream(info.id).getReader();
  acceptDownload(files, host, info);
  feed(files, data, 0, CHUNK);
  await reader.read();
  await reader.cancel();
  assert.deepEqual(host.last('fileCancel'), { type: 'fileCancel', transferId: DOWNLOAD });
  const file = files.get(info.id)!;
  assert.equal(file.state, 'offered');
  assert.equal(file.progress, undefined);
  assert.equal(host.emitted('fileFailed').length, 0, 'a cancel is not a failure');
});

test('after a reconnect a download asks again from the last byte received, and the whole file is still verified', async () => {
  const { host, data, info, files } = offered(bytes(2 * MiB + 5, 14), '0000111122228888');
  const downloading = files.download(info.id);
  acceptDownload(files, host, info);
  feed(files, data, 0, MiB);
  host.sent.length = 0;
  files.resumed([info]);
  assert.deepEqual(host.sent.map((m) => m.type), ['fileDownload'], 'the file is known: only the download goes on');
  assert.equal(host.last('fileDownload').offset, MiB);
  acceptDownload(files, host, info, DOWNLOAD_2);
  feed(files, data, MiB, 2 * MiB); // the old transfer is gone: ignored
  feed(files, data, MiB, data.byteLength, DOWNLOAD_2);
  assert.ok(Buffer.from(await (await downloading).arrayBuffer()).equals(data));
  assert.equal(files.get(info.id)!.state, 'done');
});

test('streams of what cannot be downloaded error without asking the relay: an unknown file, resumeFrom outside the file', async () => {
  const { host, data, info, files } = offered(bytes(100, 15), '0000111122229999');
  await assert.rejects(files.download('ffffffffffffffff'), isCode(ErrorCode.UnknownFile));
  await assert.rejects(files.download(info.id, { resumeFrom: 101 }), isCode(ErrorCode.BadOffset));
  await assert.rejects(files.download(info.id, { resumeFrom: -1 }), isCode(ErrorCode.BadOffset));
  assert.deepEqual(host.sent, []);

  // From byte 60: what came before cannot be hashed, so the length alone is checked.
  const tail = files.download(info.id, { resumeFrom: 60 });
  assert.equal(host.last('fileDownload').offset, 60);
  acceptDownload(files, host, info);
  feed(files, data, 60, 100);
  assert.ok(Buffer.from(await (await tail).arrayBuffer()).equals(data.subarray(60)));
});

test('close() fails every transfer with the reason: uploads and downloads reject, the relay is told while connected', async () => {
  const { host, data, info, files } = offered(bytes(3 * CHUNK, 16), '000011112222aaaa');
  const sending = files.send(bytes(WINDOW + CHUNK, 17), { name: 'closing.bin' });
  acceptUpload(files, host);
  await until(() => host.chunks.length === WINDOW / CHUNK, 'a window of chunks');
  const downloading = files.download(info.id);
  acceptDownload(files, host, info);
  feed(files, data, 0, CHUNK);
  const waiting = files.download(info.id); // its fileDownload never answered
  const reason = new LanError(ErrorCode.Shutdown, 'the relay is shutting down');
  files.close(reason);
  await assert.rejects(sending, (error: unknown) => error === reason);
  await assert.rejects(downloading, (error: unknown) => error === reason);
  await assert.rejects(waiting, (error: unknown) => error === reason);
  assert.deepEqual(host.messages('fileCancel').map((m) => m.transferId).sort(), [UPLOAD, DOWNLOAD].sort());
  assert.deepEqual(host.emitted('fileFailed').map(([file, , direction]) => [file.id, direction]), [['upload-1', 'upload'], [info.id, 'download']]);
});
