/**
 * File sharing of a session: `session.files.send(file)`, `list()`, `download(id)` / `stream(id)`.
 * Uploads stream in chunks, paced by the relay's acknowledgements, hashed on the way; downloads are
 * paced by the reader and verified against the file's SHA-256; both carry on after a dropped
 * connection from the last byte the other side confirmed. Events arrive on the session.
 *
 * This is the manager and the meeting's list of files; the transfers are in `files/`: `Uploads.ts`,
 * `Downloads.ts`, the byte sources in `sources.ts`, the requests to the relay in `FileRequests.ts`.
 * @module
 */
import { ConnectionError, ErrorCode, LanError } from './errors.js';
import { Downloads } from './files/Downloads.js';
import { FileRequests } from './files/FileRequests.js';
import { FILE_LIST_PAGE } from './files/list.js';
import { checkFileName } from './files/names.js';
import { sourceName, sourceSize } from './files/sources.js';
import type {
  DownloadOptions, FileSource, FilesHost, ProgressHolder, SendFileOptions, SharedFile, TransferHost,
} from './files/types.js';
import { Uploads } from './files/Uploads.js';
import type { FileInfo, RelayMessage } from './protocol/index.js';

export type {
  DownloadOptions, FileEvents, FileProgress, FileSource, FilesHost, SendFileOptions, SharedFile, SharedFileState,
} from './files/types.js';

const PROGRESS_EVERY_MS = 100;

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
  readonly #requests: FileRequests;
  readonly #uploads: Uploads;
  readonly #downloads: Downloads;
  #uploadSeq = 0;
  #listed: Promise<void> = Promise.resolve();

  /** `files`: the `welcome`'s, the newest of the meeting's files. @internal */
  constructor(host: FilesHost, files: readonly FileInfo[] = []) {
    this.#host = host;
    this.#requests = new FileRequests((message) => host.send(message));
    const transfers: TransferHost = {
      host,
      file: (id) => this.#entries.get(id),
      forget: (id) => void this.#entries.delete(id),
      update: (file, changes) => void Object.assign(file, changes),
      offered: (info) => this.#offered(info, true),
      progress: (...args) => this.#progress(...args),
    };
    this.#uploads = new Uploads(transfers, this.#requests);
    this.#downloads = new Downloads(transfers, this.#requests);
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
    const name = options.name ?? sourceName(source);
    if (name === undefined) throw new TypeError('give the file a name: files.send(source, { name })');
    checkFileName(name);
    const size = options.size ?? sourceSize(source);
    if (size === undefined || !Number.isSafeInteger(size) || size < 0) {
      throw new TypeError('give the exact size of a stream: files.send(stream, { name, size })');
    }
    if (size > this.#host.limits.maxFileBytes) {
      throw new LanError(ErrorCode.TooLarge, `a file of ${size} bytes exceeds the relay's limit of ${this.#host.limits.maxFileBytes} bytes`);
    }
    if (!this.#host.connected()) throw ConnectionError.closed('the session is not connected');
    const entry: SharedFile = {
      id: `upload-${++this.#uploadSeq}`, name, size, from: this.#host.localId(), fromName: this.#host.localName, timestamp: Date.now(),
      state: 'uploading', progress: 0, local: true,
    };
    this.#entries.set(entry.id, entry);
    return this.#uploads.send(entry, source, options.signal);
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
    return this.#downloads.open(id, options);
  }

  // ---- from the session -----------------------------------------------------------------------

  /** A control message for files. Returns `true` when it was one. @internal */
  handleControl(message: RelayMessage): boolean {
    switch (message.type) {
      case 'fileUploadReady':
      case 'fileDownloadReady':
      case 'fileListPage':
        this.#requests.answer(message);
        return true;
      case 'fileAck':
        this.#uploads.handleAck(message);
        return true;
      case 'fileUploaded':
        this.#uploads.handleUploaded(message);
        return true;
      case 'fileOffered':
        if (!this.#entries.has(message.file.id)) this.#offered(message.file, true);
        return true;
      default:
        return false;
    }
  }

  /** An `error` answering a files request or naming a transfer. Returns `true` when it was one. @internal */
  handleError(requestId: string, error: LanError): boolean {
    if (this.#requests.refuse(requestId, error)) return true;
    if (!requestId.startsWith('file:')) return false;
    const transfer = requestId.slice(5);
    if (!this.#uploads.handleError(transfer, error)) this.#downloads.handleError(transfer, error);
    return true;
  }

  /** A file chunk packet. @internal */
  handleChunk(bytes: Uint8Array): void {
    this.#downloads.handleChunk(bytes);
  }

  /**
   * The session is connected again, as the same participant: offers missed while away arrive, uploads
   * go on from the relay's last confirmed byte, downloads from the last byte received. @internal
   */
  resumed(files: readonly FileInfo[]): void {
    const pending = this.#requests.unanswered();
    // The welcome has the newest page only: when even its oldest file is new to us, more may have been
    // offered while away, before it.
    const oldest = files[0];
    const gap = oldest !== undefined && files.length >= FILE_LIST_PAGE && !this.#entries.has(oldest.id);
    for (const info of files) {
      if (this.#entries.has(info.id) || this.#uploads.finishedWhileAway(info)) continue;
      this.#offered(info, true);
    }
    // Requests whose answer may have been lost: asked again (a new upload the relay did open meanwhile
    // is dropped by it when idle).
    for (const message of pending) this.#host.send(message);
    this.#uploads.resumed();
    this.#downloads.resumed();
    if (gap) this.#listed = this.#fetchOlder(oldest.id, true);
  }

  /** The session ended: every transfer fails. @internal */
  close(error: LanError): void {
    this.#requests.close(error);
    this.#uploads.close(error);
    this.#downloads.close(error);
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
        const page = await this.#requests.request<'fileListPage'>({ type: 'fileList', requestId: '', before: cursor });
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
    const fresh = files.filter((info) => !this.#entries.has(info.id) && !(announce && this.#uploads.finishedWhileAway(info)))
      .map((info) => this.#entry(info));
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

  #progress(id: string, direction: 'upload' | 'download', bytes: number, total: number, startedAt: number,
    holder: ProgressHolder, force: boolean): void {
    const now = Date.now();
    if (!force && now - holder.lastProgress < PROGRESS_EVERY_MS) return;
    holder.lastProgress = now;
    const entry = this.#entries.get(id);
    if (entry && (entry.state === 'uploading' || entry.state === 'downloading')) entry.progress = total ? bytes / total : 1;
    const elapsed = Math.max(1, now - startedAt) / 1000;
    this.#host.emit('fileProgress', { id, direction, bytes, total, rate: (bytes - (holder.startOffset ?? 0)) / elapsed });
  }
}

/** `a` was shared before `b` (by the relay's time, then id: the relay's order). */
function earlier(a: SharedFile, b: SharedFile): boolean {
  return a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.id < b.id);
}
