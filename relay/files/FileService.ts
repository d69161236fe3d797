/**
 * Shared files at the relay: uploads streamed to disk with flow control and hashed on the way,
 * stored once under their SHA-256, offered to the meeting, downloaded in chunks (or over HTTP with
 * Range), resumed after a dropped connection, and removed a while after their meeting empties.
 *
 * This is what the rest of the relay calls; the work is beside it: `Uploads.ts` (uploads in progress
 * and the meetings' file quotas), `Downloads.ts` (chunked downloads with flow control), `httpFiles.ts`
 * (signed download links and `GET /files/…`), `BlobStore.ts` (the contents on disk), `StoreThread.ts`
 * (writing and hashing off the event loop) and `chunkBuffers.ts` (the chunk packet buffers).
 * @module
 * @internal
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, LanError, RelayError } from '../../sdk/errors.js';
import { FILE_LIST_PAGE } from '../../sdk/files/list.js';
import type { ClientMessageOf, FileInfo, Limits, RelayMessage } from '../../sdk/protocol/index.js';
import type { Store, StoredFile } from '../store/Store.js';
import { BlobStore } from './BlobStore.js';
import { Downloads } from './Downloads.js';
import { HttpFiles } from './httpFiles.js';
import { Uploads } from './Uploads.js';

/** What the file service needs of a peer. @internal */
export interface FilePeer {
  readonly id: string;
  readonly name: string;
  readonly closed: boolean;
  readonly meeting: string | undefined;
  /** Bytes queued towards the peer. */
  readonly backlog: number;
  send(message: RelayMessage): void;
  sendError(error: LanError, options?: { requestId?: string; fatal?: boolean }): void;
  /** Sends a binary packet; `sent` is called once the connection no longer needs `bytes`. */
  sendBinary(bytes: Uint8Array, sent?: () => void): void;
}

/** Options of the file service. @internal */
export interface FileServiceOptions {
  dataDir: string;
  store: Store;
  limits: Limits;
  /** Files of a meeting are removed this long after it empties (ms). */
  retentionMs: number;
  /** Files one meeting may have, shared or being uploaded. Default {@link DEFAULT_FILE_LIMITS}. */
  maxFilesPerMeeting?: number | undefined;
  /** Files one participant may have in a meeting, shared or being uploaded. Default {@link DEFAULT_FILE_LIMITS}. */
  maxFilesPerParticipant?: number | undefined;
  /**
   * What a file takes of its meeting's quota at least (bytes), however small it is: every file costs the
   * relay a record, a line of every joiner's file list and a content file. Default {@link DEFAULT_FILE_LIMITS}.
   */
  minFileChargeBytes?: number | undefined;
  /** Tells everyone in a meeting (the new file). */
  broadcast(meeting: string, message: RelayMessage): void;
  log(level: 'info' | 'warn', message: string, fields?: import('../options.js').LogFields): void;
}

/** The defaults of the file service's own limits (see {@link FileServiceOptions}). @internal */
export const DEFAULT_FILE_LIMITS = {
  maxFilesPerMeeting: 1000,
  maxFilesPerParticipant: 200,
  minFileChargeBytes: 64 * 1024,
} as const;

/** The relay's shared files. @internal */
export class FileService {
  readonly #o: FileServiceOptions;
  readonly #blobs: BlobStore;
  readonly #http: HttpFiles;
  readonly #uploads: Uploads;
  readonly #downloads: Downloads;
  #lastRetention = 0;
  #closed = false;

  constructor(options: FileServiceOptions) {
    this.#o = options;
    this.#blobs = new BlobStore(options.dataDir);
    this.#http = new HttpFiles(options.store, this.#blobs);
    const info = (file: StoredFile) => this.#http.info(file);
    this.#uploads = new Uploads({
      store: options.store, blobs: this.#blobs, limits: options.limits, info, broadcast: options.broadcast, log: options.log,
      maxFilesPerMeeting: options.maxFilesPerMeeting ?? DEFAULT_FILE_LIMITS.maxFilesPerMeeting,
      maxFilesPerParticipant: options.maxFilesPerParticipant ?? DEFAULT_FILE_LIMITS.maxFilesPerParticipant,
      minCharge: options.minFileChargeBytes ?? DEFAULT_FILE_LIMITS.minFileChargeBytes,
    });
    this.#downloads = new Downloads({ store: options.store, blobs: this.#blobs, info, log: options.log });
  }

  /** Prepares the folders: partial uploads of an earlier run are dropped, contents nobody refers to removed. */
  async init(): Promise<void> {
    await this.#blobs.prepare();
    this.#o.store.allMeetingsEmptied(Date.now());
    await this.#blobs.removeUnused(this.#o.store.hashes());
  }

  /**
   * The newest files of a meeting (at most {@link FILE_LIST_PAGE}), oldest first, with their download
   * links: what a joiner's `welcome` carries. A full page may have older files before it, which a client
   * asks for with `fileList` ({@link FileService.listPage}), so no message grows with the meeting's history.
   */
  list(meeting: string): FileInfo[] {
    return this.#page(meeting, undefined).files;
  }

  /** `fileList`: the page of files shared before `before` (or the newest), answered with `fileListPage`. */
  listPage(peer: FilePeer, message: ClientMessageOf<'fileList'>): void {
    const { requestId } = message;
    const meeting = peer.meeting;
    if (!meeting) return;
    let before: StoredFile | undefined;
    if (message.before !== undefined) {
      before = this.#o.store.file(meeting, message.before);
      if (!before) {
        peer.sendError(new RelayError(ErrorCode.UnknownFile, `no file ${message.before} in this meeting to list the files before`), { requestId });
        return;
      }
    }
    const { files, more } = this.#page(meeting, before);
    peer.send({ type: 'fileListPage', requestId, files, ...(more ? { more: true } : {}) });
  }

  #page(meeting: string, before: StoredFile | undefined): { files: FileInfo[]; more: boolean } {
    // One more than a page tells whether older files exist.
    const rows = this.#o.store.filesPage(meeting, FILE_LIST_PAGE + 1, before);
    const more = rows.length > FILE_LIST_PAGE;
    return { files: (more ? rows.slice(1) : rows).map((f) => this.#http.info(f)), more };
  }

  /** Counters for tests and the admin. */
  get activeTransfers(): { uploads: number; downloads: number } {
    return { uploads: this.#uploads.size, downloads: this.#downloads.size };
  }

  // ---- transfers (Uploads.ts, Downloads.ts) -----------------------------------------------------

  /** `fileUpload`: starts an upload, or resumes one where the relay stands. */
  async upload(peer: FilePeer, message: ClientMessageOf<'fileUpload'>): Promise<void> {
    const meeting = peer.meeting;
    if (!meeting) return;
    try {
      await this.#uploads.upload(peer, meeting, message);
    } catch (error) {
      peer.sendError(asLanError(error), { requestId: message.requestId });
    }
  }

  /**
   * A file chunk packet from `peer`: an upload's next bytes. `owned`: the packet fills a buffer nothing
   * else uses, which the store thread may take over (otherwise the data is copied to it).
   */
  chunk(peer: FilePeer, bytes: Uint8Array, owned = false): void {
    this.#uploads.chunk(peer, bytes, owned);
  }

  /** `fileUploadEnd`: checks size and SHA-256, stores the content once, offers the file. */
  uploadEnd(peer: FilePeer, message: ClientMessageOf<'fileUploadEnd'>): Promise<void> {
    return this.#uploads.uploadEnd(peer, message);
  }

  /** `fileDownload`: streams a stored file from `offset`, paced by the peer's acks and its link. */
  async download(peer: FilePeer, message: ClientMessageOf<'fileDownload'>): Promise<void> {
    const meeting = peer.meeting;
    if (!meeting) return;
    try {
      await this.#downloads.download(peer, meeting, message);
    } catch (error) {
      peer.sendError(asLanError(error), { requestId: message.requestId });
    }
  }

  /** `fileAck` from a downloader: it has taken the bytes up to `offset`. */
  ack(peer: FilePeer, message: ClientMessageOf<'fileAck'>): void {
    this.#downloads.ack(peer, message);
  }

  /** `fileCancel`: drops an upload (its partial content) or stops a download. */
  cancel(peer: FilePeer, message: ClientMessageOf<'fileCancel'>): void {
    if (!this.#uploads.cancel(peer, message.transferId)) this.#downloads.cancel(peer, message.transferId);
  }

  /** A connection is gone: its downloads stop (a resumed client asks again; uploads wait for it). */
  peerGone(peer: FilePeer): void {
    this.#downloads.peerGone(peer);
  }

  /** A participant left the meeting for good: its unfinished uploads are dropped (and their quota freed). */
  participantLeft(meeting: string, participantId: string): void {
    this.#uploads.participantLeft(meeting, participantId);
  }

  /** `true` when `transferId` is a download of `peer` in progress (its acks are flow control, not chatter). */
  isDownloadOf(peer: FilePeer, transferId: string): boolean {
    return this.#downloads.isDownloadOf(peer, transferId);
  }

  /**
   * `GET /files/<id>[/<name>]?m=<meeting>&t=<token>`: the file, with Range support (`httpFiles.ts`).
   * Returns `false` for other paths.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    return this.#http.handle(req, res, url);
  }

  // ---- housekeeping -----------------------------------------------------------------------------

  /** Expires idle uploads; removes the files of meetings empty for longer than the retention time. */
  async sweep(now: number): Promise<void> {
    this.#uploads.expireIdle(now);
    if (now - this.#lastRetention < Math.min(10_000, this.#o.retentionMs)) return;
    this.#lastRetention = now;
    const removed = this.#o.store.expireMeetings(now - this.#o.retentionMs);
    if (removed.length > 0) this.#uploads.storedFilesRemoved();
    for (const sha256 of new Set(removed)) {
      if (!this.#o.store.hashInUse(sha256)) await this.#blobs.remove(sha256);
    }
    if (removed.length > 0) this.#o.log('info', `removed ${removed.length} shared file(s) of meetings empty for over ${this.#o.retentionMs} ms`);
  }

  /** Bytes stored under the content store (for tests and the admin). */
  storedBytes(): Promise<number> {
    return this.#blobs.storedBytes();
  }

  /** Stops every transfer (relay shutdown). Partial uploads are dropped at the next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#downloads.close();
    await this.#uploads.close();
  }
}

function asLanError(error: unknown): LanError {
  if (error instanceof LanError) return error;
  return new RelayError(ErrorCode.Internal, `file operation failed: ${(error as Error).message}`);
}
