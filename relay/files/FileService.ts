/**
 * Shared files at the relay: uploads streamed to disk with flow control and hashed on the way,
 * stored once under their SHA-256, offered to the meeting, downloaded in chunks (or over HTTP with
 * Range), resumed after a dropped connection, and removed a while after their meeting empties.
 * @module
 * @internal
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { ErrorCode, LanError, ProtocolError, RelayError } from '../../sdk/errors.js';
import { checkFileName, safeFileName } from '../../sdk/files/names.js';
import { FILE_LIST_PAGE } from '../../sdk/files/list.js';
import {
  FILE_ACK_EVERY_BYTES, FILE_CHUNK_BYTES, FILE_CHUNK_HEADER_BYTES, FILE_WINDOW_BYTES, decodeFileChunk, encodeFileChunkHeader,
  randomId, type ClientMessageOf, type FileInfo, type Limits, type RelayMessage,
} from '../../sdk/protocol/index.js';
import type { Store, StoredFile } from '../store/Store.js';
import { StoreThread, type StoredUpload } from './StoreThread.js';
import { CHUNK_PACKET_BYTES, chunkBuffer, releaseChunkBuffer } from './chunkBuffers.js';
import { fillCopy } from '../../sdk/transport/nodeCopy.js';

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
  log(level: 'info' | 'warn', message: string, fields?: import('../Relay.js').LogFields): void;
}

/** The defaults of the file service's own limits (see {@link FileServiceOptions}). @internal */
export const DEFAULT_FILE_LIMITS = {
  maxFilesPerMeeting: 1000,
  maxFilesPerParticipant: 200,
  minFileChargeBytes: 64 * 1024,
} as const;

/** An upload nobody touched for this long is abandoned (ms). */
const UPLOAD_IDLE_MS = 10 * 60_000;
/**
 * Transfers one participant may have open at once: each holds a file handle and a window of data, and
 * an upload holds its share of the meeting's quota (what it received, at least the minimum charge).
 */
const MAX_UPLOADS_PER_PARTICIPANT = 4;
const MAX_DOWNLOADS_PER_PEER = 8;
/**
 * Chunks of one upload received and not yet stored, at most: the window bounds the bytes, this the
 * count (the SDK sends 256 KiB chunks, 32 to a window; 1024 allows 8 KiB ones).
 */
const MAX_CHUNKS_IN_FLIGHT = 1024;
/** A download is paused while the peer has this many bytes queued (its link decides the pace). */
const DOWNLOAD_BACKLOG_BYTES = 2 * 1024 * 1024;

interface Upload {
  readonly id: string;
  readonly meeting: string;
  readonly owner: string;
  readonly ownerName: string;
  readonly name: string;
  readonly size: number;
  readonly path: string;
  /** The peer it arrives from now (a resumed connection replaces it). */
  peer: FilePeer;
  handle: FileHandle;
  /** The file's writes and SHA-256, on the store thread. */
  store: StoredUpload;
  /** Bytes received (handed to the store thread). */
  received: number;
  /** Bytes written to the file and hashed: what the relay confirms. */
  written: number;
  acked: number;
  /** Settles once the last chunk received is stored and counted in `written`. */
  stored: Promise<void>;
  /** Chunks handed to the store thread and not yet stored. */
  chunksInFlight: number;
  failed: LanError | undefined;
  touched: number;
  finishing: boolean;
  /**
   * What the upload takes of its meeting's quota now: the bytes received, at least the minimum charge.
   * It grows as bytes arrive (never by the size announced: an upload that stalls holds little).
   */
  charged: number;
  /** Counted in its meeting's {@link Tally} of uploads in progress (until stored or dropped). */
  counted: boolean;
}

interface Download {
  readonly id: string;
  readonly peer: FilePeer;
  readonly file: StoredFile;
  readonly handle: FileHandle;
  sent: number;
  acked: number;
  pumping: boolean;
  /** Chunks handed to the link that it has not sent on yet (their `sent` callback is due). */
  queued: number;
  /** Paused until one of its queued chunks has left: the link was behind. */
  waiting: boolean;
}

/** Files of a meeting and what they take of its quota, in all and per participant. */
interface Tally {
  files: number;
  charge: number;
  byOwner: Map<string, number>;
}

/** The relay's shared files. @internal */
export class FileService {
  readonly #o: FileServiceOptions;
  readonly #blobs: string;
  readonly #partial: string;
  readonly #secret: Buffer;
  readonly #uploads = new Map<string, Upload>();
  readonly #downloads = new Map<string, Download>();
  /** Downloads accepted and still opening their file (counted against the limit like open ones). */
  readonly #opening = new Map<string, number>();
  /** What the stored files of a meeting take of its limits (read from the store once, then kept up to date). */
  readonly #stored = new Map<string, Tally>();
  /** What a meeting's uploads take of its limits, from their acceptance until they are stored or dropped. */
  readonly #inProgress = new Map<string, Tally>();
  readonly #maxFilesPerMeeting: number;
  readonly #maxFilesPerParticipant: number;
  readonly #minCharge: number;
  readonly #storeThread = new StoreThread();
  #lastRetention = 0;
  #closed = false;

  constructor(options: FileServiceOptions) {
    this.#o = options;
    this.#blobs = join(options.dataDir, 'files', 'sha256');
    this.#partial = join(options.dataDir, 'files', 'partial');
    this.#secret = options.store.secret();
    this.#maxFilesPerMeeting = options.maxFilesPerMeeting ?? DEFAULT_FILE_LIMITS.maxFilesPerMeeting;
    this.#maxFilesPerParticipant = options.maxFilesPerParticipant ?? DEFAULT_FILE_LIMITS.maxFilesPerParticipant;
    this.#minCharge = options.minFileChargeBytes ?? DEFAULT_FILE_LIMITS.minFileChargeBytes;
  }

  /** Prepares the folders: partial uploads of an earlier run are dropped, contents nobody refers to removed. */
  async init(): Promise<void> {
    await rm(this.#partial, { recursive: true, force: true });
    await mkdir(this.#partial, { recursive: true, mode: 0o700 });
    await mkdir(this.#blobs, { recursive: true, mode: 0o700 });
    this.#o.store.allMeetingsEmptied(Date.now());
    const used = this.#o.store.hashes();
    for (const dir of await readdir(this.#blobs)) {
      for (const name of await readdir(join(this.#blobs, dir)).catch(() => [] as string[])) {
        if (!used.has(name)) await rm(join(this.#blobs, dir, name), { force: true });
      }
    }
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
    return { files: (more ? rows.slice(1) : rows).map((f) => this.#info(f)), more };
  }

  /** Counters for tests and the admin. */
  get activeTransfers(): { uploads: number; downloads: number } {
    return { uploads: this.#uploads.size, downloads: this.#downloads.size };
  }

  // ---- uploads ----------------------------------------------------------------------------------

  /** `fileUpload`: starts an upload, or resumes one where the relay stands. */
  async upload(peer: FilePeer, message: ClientMessageOf<'fileUpload'>): Promise<void> {
    const { requestId } = message;
    const meeting = peer.meeting;
    if (!meeting) return;
    try {
      if (message.uploadId !== undefined) {
        const upload = this.#uploads.get(message.uploadId);
        if (!upload || upload.meeting !== meeting || upload.owner !== peer.id || upload.finishing) {
          throw new RelayError(ErrorCode.UnknownFile, `no upload ${message.uploadId} of yours to resume (it finished, failed or expired)`);
        }
        if (upload.size !== message.size || upload.name !== message.name) {
          throw new RelayError(ErrorCode.InvalidMessage, 'a resumed upload must keep its name and size');
        }
        upload.peer = peer;
        upload.touched = Date.now();
        // Everything received is written (and hashed) before the sender is told where to go on.
        await upload.stored;
        if (upload.failed) throw upload.failed;
        upload.acked = upload.written;
        this.#o.log('info', `"${meeting}": upload ${upload.id} of ${JSON.stringify(upload.name)} resumed at byte ${upload.written} of ${upload.size}`, { meeting, participant: peer.id, name: peer.name });
        peer.send({ type: 'fileUploadReady', requestId, uploadId: upload.id, offset: upload.written });
        return;
      }
      const name = checkName(message.name);
      const limits = this.#o.limits;
      const stored = this.#storedTally(meeting);
      const inProgress = this.#inProgress.get(meeting) ?? emptyTally();
      const uploading = inProgress.byOwner.get(peer.id) ?? 0;
      if (uploading >= MAX_UPLOADS_PER_PARTICIPANT) {
        throw new RelayError(ErrorCode.RateLimited, `at most ${MAX_UPLOADS_PER_PARTICIPANT} uploads at once per participant; wait for one to finish`);
      }
      if (message.size > limits.maxFileBytes) {
        throw new RelayError(ErrorCode.TooLarge, `a file of ${message.size} bytes exceeds the limit of ${limits.maxFileBytes} bytes`);
      }
      // Every file, even an empty one, is a line of every joiner's file list: their number is limited too.
      const files = stored.files + inProgress.files;
      if (files >= this.#maxFilesPerMeeting) {
        throw new RelayError(ErrorCode.QuotaExceeded,
          `this meeting has ${files} files shared or being uploaded, the most a meeting may have (${this.#maxFilesPerMeeting})`);
      }
      const yours = (stored.byOwner.get(peer.id) ?? 0) + uploading;
      if (yours >= this.#maxFilesPerParticipant) {
        throw new RelayError(ErrorCode.QuotaExceeded,
          `you have ${yours} files shared or being uploaded in this meeting, the most one participant may have (${this.#maxFilesPerParticipant})`);
      }
      const taken = stored.charge + inProgress.charge;
      const charge = Math.max(message.size, this.#minCharge);
      if (taken + charge > limits.maxMeetingFileBytes) {
        throw new RelayError(ErrorCode.QuotaExceeded,
          `this meeting's files would take ${taken + charge} bytes; its quota is ${limits.maxMeetingFileBytes} bytes (each file counts at least ${this.#minCharge} bytes)`);
      }
      const id = randomId();
      const path = join(this.#partial, id);
      // Counted from now on (another request must see it while its file opens), charged the minimum
      // until bytes arrive.
      this.#tallyUpload(meeting, peer.id, 1, this.#minCharge);
      let handle: FileHandle;
      try {
        handle = await open(path, 'wx', 0o600);
      } catch (error) {
        this.#tallyUpload(meeting, peer.id, -1, -this.#minCharge);
        throw error;
      }
      const upload: Upload = {
        id, meeting, owner: peer.id, ownerName: peer.name, name, size: message.size, path, peer, handle,
        store: this.#storeThread.open(handle.fd), received: 0, written: 0, acked: 0, stored: Promise.resolve(), chunksInFlight: 0, failed: undefined,
        touched: Date.now(), finishing: false, charged: this.#minCharge, counted: true,
      };
      this.#uploads.set(id, upload);
      peer.send({ type: 'fileUploadReady', requestId, uploadId: id, offset: 0 });
    } catch (error) {
      peer.sendError(asLanError(error), { requestId });
    }
  }

  /**
   * A file chunk packet from `peer`: an upload's next bytes. `owned`: the packet fills a buffer nothing
   * else uses, which the store thread may take over (otherwise the data is copied to it).
   */
  chunk(peer: FilePeer, bytes: Uint8Array, owned = false): void {
    // A pooled chunk buffer the store thread did not take goes back to the pool.
    if (!this.#chunk(peer, bytes, owned) && owned) releaseChunkBuffer(bytes);
  }

  /** Returns `true` when the chunk went to the store thread (which then owns an owned `bytes`). */
  #chunk(peer: FilePeer, bytes: Uint8Array, owned: boolean): boolean {
    let chunk;
    try {
      chunk = decodeFileChunk(bytes);
    } catch (error) {
      peer.sendError(error as ProtocolError);
      return false;
    }
    const upload = this.#uploads.get(chunk.transfer);
    if (!upload || upload.meeting !== peer.meeting || upload.owner !== peer.id || upload.finishing) {
      peer.sendError(new ProtocolError(ErrorCode.UnknownFile, `no upload ${chunk.transfer} of yours is open`));
      return false;
    }
    const requestId = `file:${upload.id}`;
    if (chunk.offset !== upload.received || chunk.offset + chunk.data.byteLength > upload.size) {
      peer.sendError(new ProtocolError(ErrorCode.BadOffset,
        `chunk at ${chunk.offset}+${chunk.data.byteLength} of upload ${upload.id}: the relay expects offset ${upload.received} of ${upload.size}`),
      { requestId });
      return false;
    }
    if (upload.received - upload.written > 2 * FILE_WINDOW_BYTES) {
      // The sender ignores flow control: it would make the relay buffer without bound.
      this.#abort(upload, new ProtocolError(ErrorCode.InvalidMessage, `upload ${upload.id} sent past its flow-control window`));
      return false;
    }
    if (upload.chunksInFlight >= MAX_CHUNKS_IN_FLIGHT) {
      // Tiny chunks: each costs the relay a few hundred bytes of bookkeeping, whatever its size.
      this.#abort(upload, new ProtocolError(ErrorCode.InvalidMessage,
        `upload ${upload.id} has ${MAX_CHUNKS_IN_FLIGHT} chunks in flight; send fewer, larger chunks`));
      return false;
    }
    const size = chunk.data.byteLength;
    const charge = Math.max(upload.received + size, this.#minCharge);
    if (charge > upload.charged) {
      // An upload takes the meeting's quota as its bytes arrive: these must fit in what is left.
      const quota = this.#o.limits.maxMeetingFileBytes;
      const taken = this.#storedTally(upload.meeting).charge + (this.#inProgress.get(upload.meeting)?.charge ?? 0);
      if (taken - upload.charged + charge > quota) {
        this.#abort(upload, new RelayError(ErrorCode.QuotaExceeded,
          `this meeting's files reached its quota of ${quota} bytes during upload ${upload.id}: the upload is discarded`));
        return false;
      }
      this.#tallyUpload(upload.meeting, upload.owner, 0, charge - upload.charged);
      upload.charged = charge;
    }
    upload.peer = peer;
    upload.touched = Date.now();
    upload.received += size;
    // The store thread writes and hashes it (taking the buffer over); the relay confirms it after.
    // A packet the relay does not own (a WebSocket message) is copied into a pooled buffer first.
    let data = chunk.data;
    if (!owned) {
      const copy = chunkBuffer(bytes.byteLength);
      fillCopy(copy, bytes, 0);
      data = copy.subarray(FILE_CHUNK_HEADER_BYTES);
    }
    upload.chunksInFlight++;
    upload.stored = upload.store.write(data, chunk.offset).then(() => {
      upload.chunksInFlight--;
      upload.written += size;
      this.#confirm(upload);
    }, (error: Error) => this.#abort(upload, new RelayError(ErrorCode.Internal, `the relay could not store the file: ${error.message}`)));
    return true;
  }

  /** Acks what is stored, every {@link FILE_ACK_EVERY_BYTES} and whenever the relay has caught up. */
  #confirm(upload: Upload): void {
    if (upload.failed) return;
    const caughtUp = upload.written === upload.received;
    if (upload.written - upload.acked >= FILE_ACK_EVERY_BYTES || (caughtUp && upload.written > upload.acked)) {
      upload.acked = upload.written;
      if (!upload.peer.closed) upload.peer.send({ type: 'fileAck', transferId: upload.id, offset: upload.written });
    }
  }

  /** `fileUploadEnd`: checks size and SHA-256, stores the content once, offers the file. */
  async uploadEnd(peer: FilePeer, message: ClientMessageOf<'fileUploadEnd'>): Promise<void> {
    const requestId = `file:${message.uploadId}`;
    const upload = this.#uploads.get(message.uploadId);
    if (!upload || upload.meeting !== peer.meeting || upload.owner !== peer.id || upload.finishing) {
      peer.sendError(new RelayError(ErrorCode.UnknownFile, `no upload ${message.uploadId} of yours is open`), { requestId });
      return;
    }
    upload.peer = peer;
    upload.finishing = true;
    await upload.stored;
    if (upload.failed) return;
    if (upload.written !== upload.size) {
      upload.finishing = false;
      peer.sendError(new RelayError(ErrorCode.BadOffset, `upload ${upload.id} ended after ${upload.written} of its ${upload.size} bytes`), { requestId });
      return;
    }
    let sha256: string;
    try {
      sha256 = await upload.store.digestHex();
    } catch (error) {
      this.#abort(upload, new RelayError(ErrorCode.Internal, `the relay could not hash the file: ${(error as Error).message}`));
      return;
    }
    // Cancelled (or aborted) while the hash was being finished: nothing is stored or offered.
    if (upload.failed) return;
    if (sha256 !== message.sha256) {
      this.#abort(upload, new RelayError(ErrorCode.HashMismatch,
        `the relay received content with SHA-256 ${sha256}, not ${message.sha256}: the upload is discarded`));
      return;
    }
    this.#uploads.delete(upload.id);
    try {
      await upload.handle.close();
      const blob = this.#blobPath(sha256);
      await mkdir(dirname(blob), { recursive: true, mode: 0o700 });
      if (existsSync(blob)) await rm(upload.path, { force: true });
      else await rename(upload.path, blob);
      const file: StoredFile = {
        meeting: upload.meeting, id: randomId(), name: upload.name, size: upload.size, sha256,
        from: upload.owner, fromName: upload.ownerName, ts: Date.now(),
      };
      this.#o.store.addFile(file);
      // Counted as stored before it stops counting as in progress: no moment without it.
      addToTally(this.#stored.get(upload.meeting), upload.owner, 1, Math.max(upload.size, this.#minCharge));
      this.#release(upload);
      const info = this.#info(file);
      this.#o.log('info', `"${upload.meeting}": ${upload.ownerName} shared ${JSON.stringify(upload.name)} (${upload.size} bytes, sha256 ${sha256})`, { meeting: upload.meeting, name: upload.ownerName });
      peer.send({ type: 'fileUploaded', uploadId: upload.id, file: info });
      this.#o.broadcast(upload.meeting, { type: 'fileOffered', file: info });
    } catch (error) {
      this.#release(upload);
      await rm(upload.path, { force: true });
      peer.sendError(new RelayError(ErrorCode.Internal, `the relay could not store the file: ${(error as Error).message}`), { requestId });
    }
  }

  #abort(upload: Upload, error: LanError): void {
    if (upload.failed && !this.#uploads.has(upload.id)) return;
    upload.failed ??= error;
    this.#uploads.delete(upload.id);
    this.#release(upload);
    this.#discard(upload);
    if (!upload.peer.closed) upload.peer.sendError(error, { requestId: `file:${upload.id}` });
  }

  /**
   * Closes and removes a dropped upload's partial file, once the store thread is done with it (its
   * file descriptor must not be closed, and its number reused, under a write still queued).
   */
  #discard(upload: Upload): void {
    void upload.store.drop().then(() => upload.handle.close()).catch(() => {}).then(() => rm(upload.path, { force: true }));
  }

  // ---- downloads --------------------------------------------------------------------------------

  /** `fileDownload`: streams a stored file from `offset`, paced by the peer's acks and its link. */
  async download(peer: FilePeer, message: ClientMessageOf<'fileDownload'>): Promise<void> {
    const { requestId } = message;
    const meeting = peer.meeting;
    if (!meeting) return;
    try {
      const file = this.#o.store.file(meeting, message.fileId);
      if (!file) throw new RelayError(ErrorCode.UnknownFile, `no file ${message.fileId} in this meeting`);
      if (message.offset > file.size) {
        throw new RelayError(ErrorCode.BadOffset, `offset ${message.offset} is past the end of ${file.size}-byte file ${file.id}`);
      }
      const key = peerKey(peer);
      const downloading = [...this.#downloads.values()].filter((d) => d.peer === peer).length + (this.#opening.get(key) ?? 0);
      if (downloading >= MAX_DOWNLOADS_PER_PEER) {
        throw new RelayError(ErrorCode.RateLimited, `at most ${MAX_DOWNLOADS_PER_PEER} downloads at once per connection; wait for one to finish`);
      }
      this.#opening.set(key, (this.#opening.get(key) ?? 0) + 1);
      let handle: FileHandle;
      try {
        handle = await open(this.#blobPath(file.sha256), 'r');
      } finally {
        const opening = this.#opening.get(key)! - 1;
        if (opening > 0) this.#opening.set(key, opening);
        else this.#opening.delete(key);
      }
      if (peer.closed) {
        await handle.close();
        return;
      }
      const download: Download = {
        id: randomId(), peer, file, handle, sent: message.offset, acked: message.offset, pumping: false, queued: 0, waiting: false,
      };
      this.#downloads.set(download.id, download);
      if (message.offset > 0) this.#o.log('info', `"${meeting}": download of file ${file.id} by ${peer.name} resumed at byte ${message.offset} of ${file.size}`, { meeting, participant: peer.id, name: peer.name });
      peer.send({ type: 'fileDownloadReady', requestId, transferId: download.id, file: this.#info(file), offset: message.offset });
      void this.#pump(download);
    } catch (error) {
      peer.sendError(asLanError(error), { requestId });
    }
  }

  /** `fileAck` from a downloader: it has taken the bytes up to `offset`. */
  ack(peer: FilePeer, message: ClientMessageOf<'fileAck'>): void {
    const download = this.#downloads.get(message.transferId);
    // Acks of finished downloads are normal (the last one races the end): ignore them.
    if (!download || download.peer !== peer) return;
    if (message.offset > download.sent || message.offset < download.acked) {
      peer.sendError(new ProtocolError(ErrorCode.BadOffset, `ack at ${message.offset} of download ${download.id}: sent ${download.sent}`));
      return;
    }
    download.acked = message.offset;
    void this.#pump(download);
  }

  /** `fileCancel`: drops an upload (its partial content) or stops a download. */
  cancel(peer: FilePeer, message: ClientMessageOf<'fileCancel'>): void {
    const upload = this.#uploads.get(message.transferId);
    if (upload && upload.owner === peer.id && upload.meeting === peer.meeting) {
      upload.failed = new RelayError(ErrorCode.Closed, 'cancelled');
      this.#uploads.delete(upload.id);
      this.#release(upload);
      this.#discard(upload);
      return;
    }
    const download = this.#downloads.get(message.transferId);
    if (download && download.peer === peer) this.#endDownload(download);
  }

  /** A connection is gone: its downloads stop (a resumed client asks again; uploads wait for it). */
  peerGone(peer: FilePeer): void {
    for (const download of this.#downloads.values()) if (download.peer === peer) this.#endDownload(download);
  }

  /** A participant left the meeting for good: its unfinished uploads are dropped (and their quota freed). */
  participantLeft(meeting: string, participantId: string): void {
    for (const upload of [...this.#uploads.values()]) {
      if (upload.meeting === meeting && upload.owner === participantId && !upload.finishing) {
        this.#abort(upload, new RelayError(ErrorCode.Closed, 'the uploader left the meeting'));
      }
    }
  }

  /** `true` when `transferId` is a download of `peer` in progress (its acks are flow control, not chatter). */
  isDownloadOf(peer: FilePeer, transferId: string): boolean {
    return this.#downloads.get(transferId)?.peer === peer;
  }

  /**
   * Sends the download's next chunks while its window allows. While the connection has more than
   * {@link DOWNLOAD_BACKLOG_BYTES} queued, it waits for one of its own queued chunks to leave (the link
   * calls back then, and everything queued before that chunk has left too): no timer, no polling, so a
   * client that stops reading costs the relay nothing until it reads again. With none of its own chunks
   * queued it sends one, so a backlog of other traffic delays it by a chunk, never stalls it.
   */
  async #pump(download: Download): Promise<void> {
    if (download.pumping) return;
    download.pumping = true;
    download.waiting = false;
    try {
      const { peer, file } = download;
      while (!peer.closed && this.#downloads.has(download.id) && download.sent < file.size && download.sent - download.acked < FILE_WINDOW_BYTES) {
        if (peer.backlog > DOWNLOAD_BACKLOG_BYTES && download.queued > 0) {
          download.waiting = true;
          return;
        }
        const n = Math.min(FILE_CHUNK_BYTES, file.size - download.sent);
        const buffer = chunkBuffer(CHUNK_PACKET_BYTES);
        const release = () => releaseChunkBuffer(buffer);
        const packet = buffer.subarray(0, FILE_CHUNK_HEADER_BYTES + n);
        packet.set(encodeFileChunkHeader(download.id, download.sent));
        let got = 0;
        try {
          while (got < n) {
            const { bytesRead } = await download.handle.read(packet, FILE_CHUNK_HEADER_BYTES + got, n - got, download.sent + got);
            if (bytesRead === 0) throw new Error('the stored file is shorter than recorded');
            got += bytesRead;
          }
        } catch (error) {
          release();
          throw error;
        }
        if (peer.closed || !this.#downloads.has(download.id)) {
          release();
          return;
        }
        download.queued++;
        peer.sendBinary(packet, () => {
          release();
          download.queued--;
          if (download.waiting) void this.#pump(download);
        });
        download.sent += n;
      }
      if (peer.closed || download.sent >= file.size) this.#endDownload(download);
    } catch (error) {
      this.#endDownload(download);
      download.peer.sendError(new RelayError(ErrorCode.Internal, `reading file ${download.file.id} failed: ${(error as Error).message}`),
        { requestId: `file:${download.id}` });
    } finally {
      download.pumping = false;
    }
  }

  #endDownload(download: Download): void {
    if (!this.#downloads.delete(download.id)) return;
    download.waiting = false;
    void download.handle.close().catch(() => {});
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  /**
   * `GET /files/<id>[/<name>]?m=<meeting>&t=<token>`: the file, with Range support. The token comes
   * in the file's `url` and opens that file of that meeting only. Returns `false` for other paths.
   */
  handleHttp(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const match = /^\/files\/([0-9a-f]{16})(?:\/[^/]*)?$/.exec(url.pathname);
    if (!match) return false;
    const id = match[1]!;
    const meeting = url.searchParams.get('m') ?? '';
    const token = url.searchParams.get('t') ?? '';
    // A token is 32 base64url characters, so 32 bytes: anything else is refused before the comparison,
    // which throws on buffers of different lengths (32 characters of non-ASCII text are more bytes).
    const ok = TOKEN.test(token) && timingSafeEqual(Buffer.from(token), Buffer.from(this.#token(meeting, id)));
    const file = ok ? this.#o.store.file(meeting, id) : undefined;
    if (!file) {
      plain(res, ok ? 404 : 403, ok ? 'no such file\n' : 'this link is not valid for that file\n');
      return true;
    }
    const path = this.#blobPath(file.sha256);
    const size = file.size;
    let start = 0;
    let end = size - 1;
    const range = req.headers.range;
    let status = 200;
    if (range !== undefined) {
      const r = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      const a = r?.[1] ?? '';
      const b = r?.[2] ?? '';
      if (r && (a !== '' || b !== '')) {
        if (a === '') {
          start = Math.max(0, size - Number(b));
        } else {
          start = Number(a);
          if (b !== '') end = Math.min(Number(b), size - 1);
        }
        if (start >= size || start > end) {
          res.writeHead(416, { 'content-range': `bytes */${size}`, 'content-type': 'text/plain; charset=utf-8' });
          res.end('range not satisfiable\n');
          return true;
        }
        status = 206;
      }
    }
    const safe = safeFileName(file.name);
    const ascii = safe.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'content-length': size === 0 ? 0 : end - start + 1,
      'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(safe)}`,
      'accept-ranges': 'bytes',
      etag: `"${file.sha256}"`,
      'cache-control': 'private, no-transform',
      'x-content-type-options': 'nosniff',
    };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return true;
    }
    createReadStream(path, { start, end }).on('error', () => res.destroy()).pipe(res);
    return true;
  }

  // ---- housekeeping -----------------------------------------------------------------------------

  /** Expires idle uploads; removes the files of meetings empty for longer than the retention time. */
  async sweep(now: number): Promise<void> {
    for (const upload of [...this.#uploads.values()]) {
      // An upload that never got a byte (its answer was lost and the client asked again) goes sooner.
      const idleLimit = upload.received === 0 ? Math.min(UPLOAD_IDLE_MS, 60_000) : UPLOAD_IDLE_MS;
      if (!upload.finishing && now - upload.touched > idleLimit) {
        this.#abort(upload, new RelayError(ErrorCode.Timeout, `upload ${upload.id} was idle for ${Math.round(idleLimit / 1000)} s`));
      }
    }
    if (now - this.#lastRetention < Math.min(10_000, this.#o.retentionMs)) return;
    this.#lastRetention = now;
    const removed = this.#o.store.expireMeetings(now - this.#o.retentionMs);
    // The counts kept of those meetings' files are stale now: read again when needed.
    if (removed.length > 0) this.#stored.clear();
    for (const sha256 of new Set(removed)) {
      if (!this.#o.store.hashInUse(sha256)) await rm(this.#blobPath(sha256), { force: true });
    }
    if (removed.length > 0) this.#o.log('info', `removed ${removed.length} shared file(s) of meetings empty for over ${this.#o.retentionMs} ms`);
  }

  /** Bytes stored under the content store (for tests and the admin). */
  async storedBytes(): Promise<number> {
    let total = 0;
    for (const dir of await readdir(this.#blobs)) {
      for (const name of await readdir(join(this.#blobs, dir)).catch(() => [] as string[])) {
        // A content removed (retention) between the listing and here counts for nothing.
        total += (await stat(join(this.#blobs, dir, name)).catch(() => undefined))?.size ?? 0;
      }
    }
    return total;
  }

  /** Stops every transfer (relay shutdown). Partial uploads are dropped at the next start. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const download of [...this.#downloads.values()]) this.#endDownload(download);
    // The thread first: once it has ended, nothing writes to the files any more.
    await this.#storeThread.close();
    await Promise.all([...this.#uploads.values()].map((u) => u.handle.close().catch(() => {})));
    this.#uploads.clear();
  }

  // ---- limits -----------------------------------------------------------------------------------

  /** The stored files of `meeting`: counted by the store the first time, then kept up to date here. */
  #storedTally(meeting: string): Tally {
    let tally = this.#stored.get(meeting);
    if (!tally) {
      tally = emptyTally();
      for (const row of this.#o.store.fileTally(meeting, this.#minCharge)) addToTally(tally, row.sender, row.files, row.charge);
      this.#stored.set(meeting, tally);
    }
    return tally;
  }

  /** Adds `files` uploads of `owner` (or takes them away, negative) and `charge` bytes to the uploads in progress of `meeting`. */
  #tallyUpload(meeting: string, owner: string, files: number, charge: number): void {
    let tally = this.#inProgress.get(meeting);
    if (!tally) this.#inProgress.set(meeting, (tally = emptyTally()));
    addToTally(tally, owner, files, charge);
    if (tally.files === 0) this.#inProgress.delete(meeting);
  }

  /** The upload no longer counts as in progress (stored, failed or cancelled). Idempotent. */
  #release(upload: Upload): void {
    if (!upload.counted) return;
    upload.counted = false;
    this.#tallyUpload(upload.meeting, upload.owner, -1, -upload.charged);
  }

  #blobPath(sha256: string): string {
    // Only ever a hash we computed: 64 hex characters, so never a path of someone's choosing.
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RelayError(ErrorCode.Internal, 'not a SHA-256');
    return join(this.#blobs, sha256.slice(0, 2), sha256);
  }

  #token(meeting: string, id: string): string {
    return createHmac('sha256', this.#secret).update(`${meeting}\n${id}`).digest('base64url').slice(0, 32);
  }

  #info(file: StoredFile): FileInfo {
    const { meeting, ...rest } = file;
    const url = `/files/${file.id}/${encodeURIComponent(safeFileName(file.name))}?m=${encodeURIComponent(meeting)}&t=${this.#token(meeting, file.id)}`;
    return { ...rest, url };
  }
}

/** What a download link's token looks like (base64url, see {@link FileService.handleHttp}). */
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

function emptyTally(): Tally {
  return { files: 0, charge: 0, byOwner: new Map() };
}

/** Adds `files` of `owner` and `charge` bytes to `tally` (when there is one); negative numbers take away. */
function addToTally(tally: Tally | undefined, owner: string, files: number, charge: number): void {
  if (!tally) return;
  tally.files += files;
  tally.charge += charge;
  const mine = (tally.byOwner.get(owner) ?? 0) + files;
  if (mine > 0) tally.byOwner.set(owner, mine);
  else tally.byOwner.delete(owner);
}

const peerKeys = new WeakMap<FilePeer, string>();
/** A key per connection (downloads belong to a connection, not a participant). */
function peerKey(peer: FilePeer): string {
  let key = peerKeys.get(peer);
  if (!key) peerKeys.set(peer, (key = randomId()));
  return key;
}

function checkName(name: string): string {
  try {
    return checkFileName(name);
  } catch (error) {
    throw new RelayError(ErrorCode.BadName, (error as Error).message);
  }
}

function asLanError(error: unknown): LanError {
  if (error instanceof LanError) return error;
  return new RelayError(ErrorCode.Internal, `file operation failed: ${(error as Error).message}`);
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

