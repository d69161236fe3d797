/**
 * File sharing of a session: `session.files.send(file)`, `list()`, `download(id)` / `stream(id)`.
 * Uploads stream in chunks, paced by the relay's acknowledgements, hashed on the way; downloads are
 * paced by the reader and verified against the file's SHA-256; both carry on after a dropped
 * connection from the last byte the other side confirmed. Events arrive on the session.
 * @module
 */
import { ConnectionError, ErrorCode, LanError } from './errors.js';
import { FILE_LIST_PAGE } from './files/list.js';
import { checkFileName } from './files/names.js';
import type { Sha256, Sha256Factory } from './files/sha256.js';
import {
  FILE_ACK_EVERY_BYTES, FILE_CHUNK_BYTES, FILE_WINDOW_BYTES, decodeFileChunk, encodeFileChunkHeader,
  type ClientMessage, type FileInfo, type Limits, type RelayMessage, type RelayMessageOf,
} from './protocol/index.js';

/** Where a shared file stands for this session. */
export type SharedFileState = 'uploading' | 'offered' | 'downloading' | 'done' | 'failed';

/** A file of the meeting as this session sees it (what `files.list()` returns). */
export interface SharedFile {
  /** The file id; while your own upload is in progress, a local id (`upload-1`…). */
  id: string;
  /** The name as given (show it as text; save under `safeFileName(name)`). */
  name: string;
  size: number;
  /** SHA-256 (64 hex characters), once the relay has the whole file. */
  sha256?: string | undefined;
  /** Participant id of who shared it. */
  from: string;
  /** Their display name. */
  fromName: string;
  /** When it was offered (relay clock, ms). */
  timestamp: number;
  /** Absolute HTTP(S) URL to download it (Range requests work), once offered. */
  url?: string | undefined;
  state: SharedFileState;
  /** 0..1 while uploading or downloading. */
  progress?: number | undefined;
  /** `true` for files this session shared. */
  local: boolean;
  /** Why it failed, for `failed`. */
  error?: string | undefined;
}

/** A transfer's progress (the `fileProgress` event). */
export interface FileProgress {
  /** The file (or, during your upload, its local id). */
  id: string;
  direction: 'upload' | 'download';
  /** Bytes confirmed: by the relay for an upload, received for a download. */
  bytes: number;
  total: number;
  /** Average rate so far, bytes per second. */
  rate: number;
}

/** Events the files manager emits through its session. */
export type FileEvents = {
  /** Someone (you included) shared a file; it can be downloaded. */
  fileOffered: [file: SharedFile];
  /** An upload or download moved on (at most ten times a second per transfer, and at the end). */
  fileProgress: [progress: FileProgress];
  /** An upload was stored and verified, or a download received and verified. */
  fileCompleted: [file: SharedFile, direction: 'upload' | 'download'];
  /** An upload or download failed; `error.code` says why (`LAN_ERR_HASH_MISMATCH`, `LAN_ERR_QUOTA`…). */
  fileFailed: [file: SharedFile, error: LanError, direction: 'upload' | 'download'];
};

/**
 * What can be shared: a `File`/`Blob`, bytes, or a stream of bytes (give `size` for streams). Bytes a
 * stream has given must not change afterwards: they are sent as they are, without a copy, and kept
 * until the relay confirms them (to be sent again after a reconnect).
 */
export type FileSource = Blob | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/** Options of {@link Files.send}. */
export interface SendFileOptions {
  /** The name to show. Default: the `File`'s name; required for other sources. */
  name?: string;
  /** Exact size in bytes. Default: the `Blob`'s or array's size; required for streams. */
  size?: number;
  /** Abandons the upload. */
  signal?: AbortSignal;
}

/** Options of {@link Files.download} and {@link Files.stream}. */
export interface DownloadOptions {
  /**
   * Start at this byte (you kept the bytes before it from an earlier, interrupted download). The SDK
   * can only verify the SHA-256 of what it received whole, so a download resumed this way is checked
   * by length only; a download the SDK resumed itself after a dropped connection is fully verified.
   */
  resumeFrom?: number;
  /** Abandons the download. */
  signal?: AbortSignal;
}

/** What the files manager needs from its session. @internal */
export interface FilesHost {
  localId(): string;
  localName: string;
  limits: Limits;
  /** The relay's HTTP(S) base URL, for download links. */
  httpBase: string;
  sha256: Sha256Factory;
  connected(): boolean;
  send(message: ClientMessage): void;
  sendFile(header: Uint8Array, data: Uint8Array): void;
  emit<K extends keyof FileEvents>(event: K, ...args: FileEvents[K]): void;
}

/** A request not answered within this time fails (ms); the clock stops while reconnecting. */
const REQUEST_TIMEOUT_MS = 15_000;
const PROGRESS_EVERY_MS = 100;

interface Request {
  /** What was sent (sent again after a resume: the answer may have been lost with the connection). */
  message: ClientMessage;
  resolve(message: RelayMessage): void;
  reject(error: LanError): void;
}

interface Upload {
  entry: SharedFile;
  name: string;
  size: number;
  uploadId: string | undefined;
  /** Bytes handed to the transport. */
  sent: number;
  /** Bytes the relay confirmed written. */
  acked: number;
  /** Sent and not yet confirmed: resent after a reconnect. */
  retained: Array<{ offset: number; data: Uint8Array }>;
  sha256: string | undefined;
  /** `fileUploadEnd` was sent. */
  ended: boolean;
  resuming: boolean;
  startedAt: number;
  lastProgress: number;
  finished: { resolve(file: SharedFile): void; reject(error: LanError): void } | undefined;
  failed: LanError | undefined;
}

interface Download {
  file: SharedFile;
  transferId: string;
  received: number;
  startedAt: number;
  startOffset: number;
  lastAck: number;
  lastProgress: number;
  hash: Sha256 | undefined;
  controller: ReadableStreamDefaultController<Uint8Array>;
  done: boolean;
}

/**
 * The files manager: `session.files`.
 *
 * @example
 * ```ts
 * const shared = await session.files.send(input.files[0]);
 * session.on('fileOffered', async (file) => {
 *   const blob = await session.files.download(file.id); // verified against file.sha256
 * });
 * ```
 */
export class Files {
  readonly #host: FilesHost;
  readonly #entries = new Map<string, SharedFile>();
  readonly #requests = new Map<string, Request>();
  readonly #uploads = new Map<string, Upload>();
  readonly #downloads = new Map<string, Download>();
  readonly #wakers = new Set<() => void>();
  #requestSeq = 0;
  #uploadSeq = 0;
  #listed: Promise<void> = Promise.resolve();

  /** `files`: the `welcome`'s, the newest of the meeting's files. @internal */
  constructor(host: FilesHost, files: readonly FileInfo[] = []) {
    this.#host = host;
    for (const info of files) this.#offered(info, false);
    // A full first page may have older files before it: they are asked for once the session is
    // connected (right after this constructor), a page at a time.
    const oldest = files[0];
    if (oldest && files.length >= FILE_LIST_PAGE) {
      this.#listed = Promise.resolve().then(() => this.#fetchOlder(oldest.id, false));
    }
  }

  /**
   * Settles once the files shared before the session joined are all in {@link Files.list} (in a meeting
   * with more than a page of them, they come a moment after the join). @internal
   */
  get listed(): Promise<void> {
    return this.#listed;
  }

  /**
   * Every file of the meeting this session knows, oldest first, with your uploads in progress. In a
   * meeting with more than 100 files the older ones are fetched right after the join, and are listed
   * a moment later.
   */
  list(): SharedFile[] {
    return [...this.#entries.values()].map((e) => ({ ...e }));
  }

  /** One file by id. */
  get(id: string): SharedFile | undefined {
    const entry = this.#entries.get(id);
    return entry && { ...entry };
  }

  /**
   * Shares a file with everyone in the meeting, late joiners included. Streams it to the relay in
   * chunks (a file of any size, memory stays flat) and resolves once the relay has stored it and its
   * SHA-256 matched; it carries on by itself after a dropped connection.
   * @throws {@link LanError} `LAN_ERR_BAD_NAME`, `LAN_ERR_TOO_LARGE` (over `limits.maxFileBytes`),
   *   `LAN_ERR_QUOTA`, `LAN_ERR_HASH_MISMATCH`, `LAN_ERR_CLOSED`; `TypeError` when a stream has no `size`
   *   or gives another number of bytes.
   */
  async send(source: FileSource, options: SendFileOptions = {}): Promise<SharedFile> {
    const name = options.name ?? (typeof (source as File).name === 'string' ? (source as File).name : undefined);
    if (name === undefined) throw new TypeError('give the file a name: files.send(source, { name })');
    checkFileName(name);
    const size = options.size ?? (isBlob(source) ? source.size : source instanceof Uint8Array ? source.byteLength : undefined);
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
      throw new TypeError('give the exact size of a stream: files.send(stream, { name, size })');
    }
    if (size > this.#host.limits.maxFileBytes) {
      throw new LanError(ErrorCode.TooLarge, `a file of ${size} bytes exceeds the relay's limit of ${this.#host.limits.maxFileBytes} bytes`);
    }
    if (!this.#host.connected()) throw ConnectionError.closed('the session is not connected');
    const local = this.#host.localId();
    const entry: SharedFile = {
      id: `upload-${++this.#uploadSeq}`, name, size, from: local, fromName: this.#host.localName, timestamp: Date.now(),
      state: 'uploading', progress: 0, local: true,
    };
    this.#entries.set(entry.id, entry);
    const upload: Upload = {
      entry, name, size, uploadId: undefined, sent: 0, acked: 0, retained: [], sha256: undefined, ended: false,
      resuming: false, startedAt: Date.now(), lastProgress: 0, finished: undefined, failed: undefined,
    };
    const onAbort = () => this.#failUpload(upload, new LanError(ErrorCode.Closed, 'the upload was cancelled'));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#upload(upload, source, options.signal);
    } catch (error) {
      const lan = error instanceof LanError ? error : new LanError(ErrorCode.Internal, (error as Error).message, { cause: error });
      this.#failUpload(upload, lan);
      throw error instanceof TypeError ? error : upload.failed ?? lan;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Downloads a file whole, as a `Blob`, verified against its SHA-256 (for files larger than memory
   * should hold, use {@link Files.stream}).
   */
  async download(id: string, options: DownloadOptions = {}): Promise<Blob> {
    const parts: Uint8Array[] = [];
    const reader = this.stream(id, options).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
    }
    return new Blob(parts as BlobPart[], { type: 'application/octet-stream' });
  }

  /**
   * Downloads a file as a stream of chunks, paced by how fast you read it (memory stays flat). The
   * stream errors with `LAN_ERR_HASH_MISMATCH` instead of ending when the bytes do not match the
   * file's SHA-256; it carries on by itself after a dropped connection.
   * @throws (through the stream) {@link LanError} `LAN_ERR_UNKNOWN_FILE`, `LAN_ERR_BAD_OFFSET`, `LAN_ERR_CLOSED`.
   */
  stream(id: string, options: DownloadOptions = {}): ReadableStream<Uint8Array> {
    const resumeFrom = options.resumeFrom ?? 0;
    let download: Download | undefined;
    const self = this;
    return new ReadableStream<Uint8Array>({
      async start(controller) {
        const file = self.#entries.get(id);
        if (!file || !file.sha256) throw new LanError(ErrorCode.UnknownFile, `no shared file ${id} in this meeting`);
        if (!Number.isSafeInteger(resumeFrom) || resumeFrom < 0 || resumeFrom > file.size) {
          throw new LanError(ErrorCode.BadOffset, `resumeFrom ${resumeFrom} is outside the ${file.size}-byte file`);
        }
        await self.#request<'fileDownloadReady'>({ type: 'fileDownload', requestId: '', fileId: id, offset: resumeFrom }, (ready) => {
          download = {
            file, transferId: ready.transferId, received: resumeFrom, startedAt: Date.now(), startOffset: resumeFrom, lastAck: resumeFrom,
            lastProgress: 0, hash: resumeFrom === 0 ? self.#host.sha256() : undefined, controller, done: false,
          };
          self.#downloads.set(download.transferId, download);
        });
        if (!download) return;
        // (Chunks that came with the answer may have finished a small download already.)
        if (!file.local && !download.done) self.#update(file, { state: 'downloading', progress: file.size ? resumeFrom / file.size : 0 });
        options.signal?.addEventListener('abort', () => {
          if (!download || download.done) return;
          self.#failDownload(download, new LanError(ErrorCode.Closed, 'the download was cancelled'));
        }, { once: true });
        self.#maybeComplete(download);
      },
      pull() {
        // The reader wants more: confirm what it has taken, a window's worth at a time (the relay sends
        // up to 8 MiB past the last ack, so acking every 1 MiB never stalls it).
        if (download && !download.done && download.received - download.lastAck >= FILE_ACK_EVERY_BYTES) self.#ack(download);
      },
      cancel() {
        if (!download || download.done) return;
        download.done = true;
        self.#downloads.delete(download.transferId);
        self.#host.send({ type: 'fileCancel', transferId: download.transferId });
        if (!download.file.local) self.#update(download.file, { state: 'offered', progress: undefined });
      },
    }, { highWaterMark: FILE_WINDOW_BYTES / 2, size: (chunk) => chunk.byteLength });
  }

  // ---- from the session -----------------------------------------------------------------------

  /** A control message for files. Returns `true` when it was one. @internal */
  handleControl(message: RelayMessage): boolean {
    switch (message.type) {
      case 'fileUploadReady':
      case 'fileDownloadReady':
      case 'fileListPage': {
        const request = this.#requests.get(message.requestId);
        this.#requests.delete(message.requestId);
        request?.resolve(message);
        return true;
      }
      case 'fileAck': {
        const upload = this.#uploadById(message.transferId);
        if (upload && message.offset > upload.acked && message.offset <= upload.sent) {
          upload.acked = message.offset;
          upload.retained = upload.retained.filter((r) => r.offset + r.data.byteLength > message.offset);
          this.#progress(upload.entry.id, 'upload', upload.acked, upload.size, upload.startedAt, upload, upload.acked === upload.size);
          this.#wake();
        }
        return true;
      }
      case 'fileUploaded': {
        const upload = this.#uploadById(message.uploadId);
        if (upload) {
          this.#uploads.delete(upload.entry.id);
          this.#entries.delete(upload.entry.id);
          const file = this.#offered(message.file, true);
          upload.finished?.resolve({ ...file });
          this.#host.emit('fileCompleted', { ...file }, 'upload');
        }
        return true;
      }
      case 'fileOffered':
        if (!this.#entries.has(message.file.id)) this.#offered(message.file, true);
        return true;
      default:
        return false;
    }
  }

  /** An `error` answering a files request or naming a transfer. Returns `true` when it was one. @internal */
  handleError(requestId: string, error: LanError): boolean {
    const request = this.#requests.get(requestId);
    if (request) {
      this.#requests.delete(requestId);
      request.reject(error);
      return true;
    }
    if (!requestId.startsWith('file:')) return false;
    const transfer = requestId.slice(5);
    const upload = this.#uploadById(transfer);
    if (upload) {
      // A chunk the relay did not expect (a race with a reconnect) is fixed by the next resume; anything else ends the upload.
      if (error.code !== ErrorCode.BadOffset || upload.ended) this.#failUpload(upload, error);
      return true;
    }
    const download = this.#downloads.get(transfer);
    if (download) this.#failDownload(download, error);
    return true;
  }

  /** A file chunk packet. @internal */
  handleChunk(bytes: Uint8Array): void {
    let chunk;
    try {
      chunk = decodeFileChunk(bytes);
    } catch {
      return;
    }
    const download = this.#downloads.get(chunk.transfer);
    if (!download || download.done) return;
    if (chunk.offset !== download.received || chunk.offset + chunk.data.byteLength > download.file.size) {
      this.#failDownload(download, new LanError(ErrorCode.BadOffset,
        `the relay sent bytes at ${chunk.offset}; the download stands at ${download.received}`));
      return;
    }
    download.hash?.update(chunk.data);
    download.received += chunk.data.byteLength;
    download.controller.enqueue(chunk.data);
    if ((download.controller.desiredSize ?? 0) > 0 && download.received - download.lastAck >= FILE_ACK_EVERY_BYTES) this.#ack(download);
    this.#progress(download.file.id, 'download', download.received, download.file.size, download.startedAt, download, false);
    this.#maybeComplete(download);
  }

  /**
   * The session is connected again, as the same participant: offers missed while away arrive, uploads
   * go on from the relay's last confirmed byte, downloads from the last byte received. @internal
   */
  resumed(files: readonly FileInfo[]): void {
    const pending = [...this.#requests.values()].map((r) => r.message);
    // The welcome has the newest page only: when even its oldest file is new to us, more may have been
    // offered while away, before it.
    const oldest = files[0];
    const gap = oldest !== undefined && files.length >= FILE_LIST_PAGE && !this.#entries.has(oldest.id);
    for (const info of files) {
      if (this.#entries.has(info.id) || this.#uploadFinished(info)) continue;
      this.#offered(info, true);
    }
    // Requests whose answer may have been lost: asked again (a new upload the relay did open meanwhile
    // is dropped by it when idle).
    for (const message of pending) this.#host.send(message);
    for (const upload of this.#uploads.values()) if (upload.uploadId) void this.#resumeUpload(upload);
    for (const download of [...this.#downloads.values()]) void this.#resumeDownload(download);
    if (gap) this.#listed = this.#fetchOlder(oldest.id, true);
    this.#wake();
  }

  /** The session ended: every transfer fails. @internal */
  close(error: LanError): void {
    for (const request of this.#requests.values()) request.reject(error);
    this.#requests.clear();
    for (const upload of [...this.#uploads.values()]) this.#failUpload(upload, error);
    for (const download of [...this.#downloads.values()]) this.#failDownload(download, error);
    this.#wake();
  }

  // ---- uploads ---------------------------------------------------------------------------------

  async #upload(upload: Upload, source: FileSource, signal: AbortSignal | undefined): Promise<SharedFile> {
    this.#uploads.set(upload.entry.id, upload);
    this.#host.emit('fileProgress', { id: upload.entry.id, direction: 'upload', bytes: 0, total: upload.size, rate: 0 });
    const ready = await this.#request<'fileUploadReady'>({ type: 'fileUpload', requestId: '', name: upload.name, size: upload.size });
    upload.uploadId = ready.uploadId;
    const hash = this.#host.sha256();
    // One chunk at a time: fullChunks has cut the source to chunk size.
    for await (const chunk of fullChunks(chunksOf(source))) {
      if (upload.failed) throw upload.failed;
      if (upload.sent + chunk.byteLength > upload.size) {
        throw new TypeError(`the source gave more than the ${upload.size} bytes announced`);
      }
      hash.update(chunk);
      await this.#until(() => !!upload.failed || (!upload.resuming && this.#host.connected() && upload.sent - upload.acked < FILE_WINDOW_BYTES), signal);
      if (upload.failed) throw upload.failed;
      upload.retained.push({ offset: upload.sent, data: chunk });
      this.#host.sendFile(encodeFileChunkHeader(upload.uploadId, upload.sent), chunk);
      upload.sent += chunk.byteLength;
    }
    if (upload.sent !== upload.size) throw new TypeError(`the source gave ${upload.sent} bytes, not the ${upload.size} announced`);
    upload.sha256 = hash.digestHex();
    const finished = new Promise<SharedFile>((resolve, reject) => (upload.finished = { resolve, reject }));
    await this.#until(() => !!upload.failed || (!upload.resuming && this.#host.connected()), signal);
    if (upload.failed) throw upload.failed;
    upload.ended = true;
    this.#host.send({ type: 'fileUploadEnd', uploadId: upload.uploadId, sha256: upload.sha256 });
    return finished;
  }

  async #resumeUpload(upload: Upload): Promise<void> {
    if (!upload.uploadId || upload.failed) return;
    upload.resuming = true;
    try {
      const ready = await this.#request<'fileUploadReady'>({
        type: 'fileUpload', requestId: '', name: upload.name, size: upload.size, uploadId: upload.uploadId,
      });
      upload.acked = ready.offset;
      upload.retained = upload.retained.filter((r) => r.offset + r.data.byteLength > ready.offset);
      for (const r of upload.retained) {
        const from = Math.max(r.offset, ready.offset);
        this.#host.sendFile(encodeFileChunkHeader(upload.uploadId, from), r.data.subarray(from - r.offset));
      }
      if (upload.ended) this.#host.send({ type: 'fileUploadEnd', uploadId: upload.uploadId, sha256: upload.sha256! });
    } catch (error) {
      if (this.#host.connected()) this.#failUpload(upload, error as LanError);
    } finally {
      upload.resuming = false;
      this.#wake();
    }
  }

  /**
   * A file offered while away that is an upload of ours whose `fileUploaded` was lost with the connection
   * (the relay has it, verified): that upload is resolved with it. `true` when it was one.
   */
  #uploadFinished(info: FileInfo): boolean {
    const upload = [...this.#uploads.values()].find((u) => u.ended && u.sha256 === info.sha256 && u.size === info.size &&
      u.name === info.name && info.from === this.#host.localId());
    if (!upload) return false;
    this.handleControl({ type: 'fileUploaded', uploadId: upload.uploadId!, file: info });
    return true;
  }

  /** The upload in progress with the relay's id `uploadId`. */
  #uploadById(uploadId: string): Upload | undefined {
    for (const upload of this.#uploads.values()) if (upload.uploadId === uploadId) return upload;
    return undefined;
  }

  /** Ends an upload in progress as failed (once: a finished or already failed upload is left alone). */
  #failUpload(upload: Upload, error: LanError): void {
    if (!this.#uploads.delete(upload.entry.id)) return;
    upload.failed ??= error;
    if (upload.uploadId && this.#host.connected()) this.#host.send({ type: 'fileCancel', transferId: upload.uploadId });
    upload.retained = [];
    this.#update(upload.entry, { state: 'failed', error: upload.failed.message, progress: undefined });
    upload.finished?.reject(upload.failed);
    this.#host.emit('fileFailed', { ...upload.entry }, upload.failed, 'upload');
    this.#wake();
  }

  // ---- downloads -------------------------------------------------------------------------------

  async #resumeDownload(download: Download): Promise<void> {
    if (download.done) return;
    try {
      await this.#request<'fileDownloadReady'>({ type: 'fileDownload', requestId: '', fileId: download.file.id, offset: download.received }, (ready) => {
        if (download.done) {
          this.#host.send({ type: 'fileCancel', transferId: ready.transferId });
          return;
        }
        this.#downloads.delete(download.transferId);
        download.transferId = ready.transferId;
        download.lastAck = download.received;
        this.#downloads.set(download.transferId, download);
      });
    } catch (error) {
      if (this.#host.connected()) this.#failDownload(download, error as LanError);
    }
  }

  #ack(download: Download): void {
    download.lastAck = download.received;
    this.#host.send({ type: 'fileAck', transferId: download.transferId, offset: download.received });
  }

  #maybeComplete(download: Download): void {
    if (download.done || download.received < download.file.size) return;
    download.done = true;
    this.#downloads.delete(download.transferId);
    const hash = download.hash?.digestHex();
    if (hash !== undefined && hash !== download.file.sha256) {
      const error = new LanError(ErrorCode.HashMismatch,
        `the bytes received hash to ${hash}, not the file's SHA-256 ${download.file.sha256}: discard them`);
      download.controller.error(error);
      if (!download.file.local) this.#update(download.file, { state: 'failed', error: error.message, progress: undefined });
      this.#host.emit('fileFailed', { ...download.file }, error, 'download');
      return;
    }
    download.controller.close();
    this.#progress(download.file.id, 'download', download.received, download.file.size, download.startedAt, download, true);
    if (!download.file.local) this.#update(download.file, { state: 'done', progress: 1, error: undefined });
    this.#host.emit('fileCompleted', { ...download.file }, 'download');
  }

  #failDownload(download: Download, error: LanError): void {
    if (download.done) return;
    download.done = true;
    this.#downloads.delete(download.transferId);
    if (this.#host.connected()) this.#host.send({ type: 'fileCancel', transferId: download.transferId });
    try {
      download.controller.error(error);
    } catch {
      // already errored or closed
    }
    if (!download.file.local) this.#update(download.file, { state: 'failed', error: error.message, progress: undefined });
    this.#host.emit('fileFailed', { ...download.file }, error, 'download');
  }

  // ---- the list --------------------------------------------------------------------------------

  /**
   * Fetches the files shared before file `before`, a page at a time, until the first file of the
   * meeting or a page with files already known (after a resume: the gap is filled). `announce`: emit
   * `fileOffered` for each (files offered while away), not for those shared before the join.
   */
  async #fetchOlder(before: string, announce: boolean): Promise<void> {
    try {
      for (let cursor = before; ;) {
        const page = await this.#request<'fileListPage'>({ type: 'fileList', requestId: '', before: cursor });
        const knownOnes = page.files.some((info) => this.#entries.has(info.id));
        this.#insertOlder(page.files, announce);
        const first = page.files[0];
        if (!page.more || !first || knownOnes) return;
        cursor = first.id;
      }
    } catch {
      // The session closed or the relay did not answer: the list keeps what it has.
    }
  }

  /**
   * Adds files older than some already listed, each in its place by time, so the list stays oldest first.
   * `announce`: files offered while away, one of which may be an upload of ours that finished meanwhile.
   */
  #insertOlder(files: readonly FileInfo[], announce: boolean): void {
    const fresh = files.filter((info) => !this.#entries.has(info.id) && !(announce && this.#uploadFinished(info))).map((info) => this.#entry(info));
    if (fresh.length === 0) return;
    const listed = [...this.#entries.values()];
    const merged: SharedFile[] = [];
    let i = 0;
    for (const file of fresh) {
      while (i < listed.length && earlier(listed[i]!, file)) merged.push(listed[i++]!);
      merged.push(file);
    }
    merged.push(...listed.slice(i));
    this.#entries.clear();
    for (const entry of merged) this.#entries.set(entry.id, entry);
    if (announce) for (const file of fresh) this.#host.emit('fileOffered', { ...file });
  }

  // ---- helpers ---------------------------------------------------------------------------------

  #offered(info: FileInfo, announce: boolean): SharedFile {
    const file = this.#entry(info);
    this.#entries.set(file.id, file);
    if (announce) this.#host.emit('fileOffered', { ...file });
    return file;
  }

  #entry(info: FileInfo): SharedFile {
    return {
      id: info.id, name: info.name, size: info.size, sha256: info.sha256, from: info.from, fromName: info.fromName,
      timestamp: info.ts, url: new URL(info.url, this.#host.httpBase).href, state: 'offered', local: info.from === this.#host.localId(),
    };
  }

  #update(entry: SharedFile, changes: Partial<SharedFile>): void {
    Object.assign(entry, changes);
  }

  #progress(id: string, direction: 'upload' | 'download', bytes: number, total: number, startedAt: number,
    holder: { lastProgress: number; startOffset?: number }, force: boolean): void {
    const now = Date.now();
    if (!force && now - holder.lastProgress < PROGRESS_EVERY_MS) return;
    holder.lastProgress = now;
    const entry = this.#entries.get(id);
    if (entry && (entry.state === 'uploading' || entry.state === 'downloading')) entry.progress = total ? bytes / total : 1;
    const elapsed = Math.max(1, now - startedAt) / 1000;
    this.#host.emit('fileProgress', { id, direction, bytes, total, rate: (bytes - (holder.startOffset ?? 0)) / elapsed });
  }

  /**
   * Sends a request and waits for its answer; the answer's `requestId` is filled in here. `onAnswer`
   * runs as the answer is handled, before anything after it: a download's first chunk can come in the
   * same read as its `fileDownloadReady`, and must find the download registered.
   */
  #request<T extends 'fileUploadReady' | 'fileDownloadReady' | 'fileListPage'>(message: Extract<ClientMessage, { requestId: string }>,
    onAnswer?: (answer: RelayMessageOf<T>) => void): Promise<RelayMessageOf<T>> {
    const requestId = `f${++this.#requestSeq}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        if (!this.#requests.delete(requestId)) return;
        reject(ConnectionError.timeout(`the relay answering "${message.type}"`, REQUEST_TIMEOUT_MS));
      }, REQUEST_TIMEOUT_MS);
      const full = { ...message, requestId } as ClientMessage;
      this.#requests.set(requestId, {
        message: full,
        resolve: (m) => {
          clearTimeout(timer);
          onAnswer?.(m as RelayMessageOf<T>);
          resolve(m as RelayMessageOf<T>);
        },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      this.#host.send(full);
    });
  }

  #wake(): void {
    for (const wake of [...this.#wakers]) wake();
  }

  /** Resolves when `ready()` holds, re-checked whenever an ack, a resume or a failure comes. */
  #until(ready: () => boolean, signal: AbortSignal | undefined): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (signal?.aborted) {
          this.#wakers.delete(check);
          reject(new LanError(ErrorCode.Closed, 'the upload was cancelled'));
        } else if (ready()) {
          this.#wakers.delete(check);
          resolve();
        }
      };
      this.#wakers.add(check);
    });
  }
}

/** `a` was shared before `b` (by the relay's time, then id: the relay's order). */
function earlier(a: SharedFile, b: SharedFile): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** The bytes of a source, in pieces of at most a few chunks. */
/**
 * The source's bytes in pieces of {@link FILE_CHUNK_BYTES} (the last may be shorter): small pieces (a
 * stream giving a few KiB at a time) are joined, so every chunk on the wire is a full one; large ones
 * are cut without a copy.
 */
async function* fullChunks(pieces: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let held: Uint8Array | undefined;
  let heldBytes = 0;
  for await (let piece of pieces) {
    if (held) {
      const n = Math.min(piece.byteLength, FILE_CHUNK_BYTES - heldBytes);
      held.set(piece.subarray(0, n), heldBytes);
      heldBytes += n;
      piece = piece.subarray(n);
      if (heldBytes < FILE_CHUNK_BYTES) continue;
      yield held;
      held = undefined;
      heldBytes = 0;
    }
    let at = 0;
    for (; piece.byteLength - at >= FILE_CHUNK_BYTES; at += FILE_CHUNK_BYTES) yield piece.subarray(at, at + FILE_CHUNK_BYTES);
    if (at < piece.byteLength) {
      held = new Uint8Array(FILE_CHUNK_BYTES);
      held.set(piece.subarray(at));
      heldBytes = piece.byteLength - at;
    }
  }
  if (held) yield held.subarray(0, heldBytes);
}

async function* chunksOf(source: FileSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
    return;
  }
  if (isBlob(source)) {
    for (let at = 0; at < source.size; at += FILE_CHUNK_BYTES * 4) {
      yield new Uint8Array(await source.slice(at, at + FILE_CHUNK_BYTES * 4).arrayBuffer());
    }
    return;
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const reader = source.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        yield toBytes(value);
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const piece of source as AsyncIterable<Uint8Array>) yield toBytes(piece);
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('a file stream must give Uint8Array chunks');
}

