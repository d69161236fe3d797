/**
 * Uploads in progress: a file's chunks streamed to its partial file with flow control (acked as they
 * are stored, see `StoreThread.ts`) and hashed on the way, checked against its SHA-256 at the end, then
 * kept once in the content store and offered to the meeting. An upload survives a dropped connection
 * (the client resumes it where the relay stands) until its owner leaves the meeting or it idles.
 * What a meeting's files take of its limits is counted here too: an upload is charged as it is
 * accepted and as its bytes arrive, so the quota holds while uploads are under way.
 * @module
 * @internal
 */
import { open, rm, type FileHandle } from 'node:fs/promises';
import { ErrorCode, LanError, ProtocolError, RelayError } from '../../sdk/errors.js';
import { checkFileName } from '../../sdk/files/names.js';
import {
  FILE_ACK_EVERY_BYTES, FILE_CHUNK_HEADER_BYTES, FILE_WINDOW_BYTES, decodeFileChunk, randomId,
  type ClientMessageOf, type FileInfo, type Limits,
} from '../../sdk/protocol/index.js';
import { fillCopy } from '../../sdk/node/nodeCopy.js';
import type { Store, StoredFile } from '../store/Store.js';
import type { BlobStore } from './BlobStore.js';
import { chunkBuffer, releaseChunkBuffer } from './chunkBuffers.js';
import type { FilePeer, FileServiceOptions } from './FileService.js';
import { StoreThread, type StoredUpload } from './StoreThread.js';

/** An upload nobody touched for this long is abandoned (ms). */
const UPLOAD_IDLE_MS = 10 * 60_000;
/**
 * Uploads one participant may have open at once: each holds a file handle and a window of data, and
 * its share of the meeting's quota (what it received, at least the minimum charge).
 */
const MAX_UPLOADS_PER_PARTICIPANT = 4;
/**
 * Chunks of one upload received and not yet stored, at most: the window bounds the bytes, this the
 * count (the SDK sends 256 KiB chunks, 32 to a window; 1024 allows 8 KiB ones).
 */
const MAX_CHUNKS_IN_FLIGHT = 1024;

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

/** Files of a meeting and what they take of its quota, in all and per participant. */
interface Tally {
  files: number;
  charge: number;
  byOwner: Map<string, number>;
}

/** What the uploads need of the file service. @internal */
export interface UploadsOptions {
  store: Store;
  blobs: BlobStore;
  limits: Limits;
  maxFilesPerMeeting: number;
  maxFilesPerParticipant: number;
  /** What a file takes of its meeting's quota at least (bytes). */
  minCharge: number;
  /** A stored file as clients see it, with its download link. */
  info(file: StoredFile): FileInfo;
  broadcast: FileServiceOptions['broadcast'];
  log: FileServiceOptions['log'];
}

/** The uploads in progress and the meetings' file quotas. @internal */
export class Uploads {
  readonly #o: UploadsOptions;
  readonly #uploads = new Map<string, Upload>();
  /** What the stored files of a meeting take of its limits (read from the store once, then kept up to date). */
  readonly #stored = new Map<string, Tally>();
  /** What a meeting's uploads take of its limits, from their acceptance until they are stored or dropped. */
  readonly #inProgress = new Map<string, Tally>();
  readonly #storeThread = new StoreThread();

  constructor(options: UploadsOptions) {
    this.#o = options;
  }

  /** Uploads in progress. */
  get size(): number {
    return this.#uploads.size;
  }

  /**
   * `fileUpload` of a participant in `meeting`: starts an upload, or resumes one where the relay
   * stands. Throws what the request is answered with.
   */
  async upload(peer: FilePeer, meeting: string, message: ClientMessageOf<'fileUpload'>): Promise<void> {
    const { requestId } = message;
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
    const { limits, maxFilesPerMeeting, maxFilesPerParticipant, minCharge } = this.#o;
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
    if (files >= maxFilesPerMeeting) {
      throw new RelayError(ErrorCode.QuotaExceeded,
        `this meeting has ${files} files shared or being uploaded, the most a meeting may have (${maxFilesPerMeeting})`);
    }
    const yours = (stored.byOwner.get(peer.id) ?? 0) + uploading;
    if (yours >= maxFilesPerParticipant) {
      throw new RelayError(ErrorCode.QuotaExceeded,
        `you have ${yours} files shared or being uploaded in this meeting, the most one participant may have (${maxFilesPerParticipant})`);
    }
    const taken = stored.charge + inProgress.charge;
    const charge = Math.max(message.size, minCharge);
    if (taken + charge > limits.maxMeetingFileBytes) {
      throw new RelayError(ErrorCode.QuotaExceeded,
        `this meeting's files would take ${taken + charge} bytes; its quota is ${limits.maxMeetingFileBytes} bytes (each file counts at least ${minCharge} bytes)`);
    }
    const id = randomId();
    const path = this.#o.blobs.partialPath(id);
    // Counted from now on (another request must see it while its file opens), charged the minimum
    // until bytes arrive.
    this.#tallyUpload(meeting, peer.id, 1, minCharge);
    let handle: FileHandle;
    try {
      handle = await open(path, 'wx', 0o600);
    } catch (error) {
      this.#tallyUpload(meeting, peer.id, -1, -minCharge);
      throw error;
    }
    const upload: Upload = {
      id, meeting, owner: peer.id, ownerName: peer.name, name, size: message.size, path, peer, handle,
      store: this.#storeThread.open(handle.fd), received: 0, written: 0, acked: 0, stored: Promise.resolve(), chunksInFlight: 0, failed: undefined,
      touched: Date.now(), finishing: false, charged: minCharge, counted: true,
    };
    this.#uploads.set(id, upload);
    peer.send({ type: 'fileUploadReady', requestId, uploadId: id, offset: 0 });
  }

  /**
   * A file chunk packet from `peer`: an upload's next bytes. `owned`: the packet fills a buffer nothing
   * else uses, which the store thread may take over (otherwise the data is copied to it).
   */
  chunk(peer: FilePeer, bytes: Uint8Array, owned: boolean): void {
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
    const charge = Math.max(upload.received + size, this.#o.minCharge);
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
      await this.#o.blobs.keep(upload.path, sha256);
      const file: StoredFile = {
        meeting: upload.meeting, id: randomId(), name: upload.name, size: upload.size, sha256,
        from: upload.owner, fromName: upload.ownerName, ts: Date.now(),
      };
      this.#o.store.addFile(file);
      // Counted as stored before it stops counting as in progress: no moment without it.
      addToTally(this.#stored.get(upload.meeting), upload.owner, 1, Math.max(upload.size, this.#o.minCharge));
      this.#release(upload);
      const info = this.#o.info(file);
      this.#o.log('info', `"${upload.meeting}": ${upload.ownerName} shared ${JSON.stringify(upload.name)} (${upload.size} bytes, sha256 ${sha256})`, { meeting: upload.meeting, name: upload.ownerName });
      peer.send({ type: 'fileUploaded', uploadId: upload.id, file: info });
      this.#o.broadcast(upload.meeting, { type: 'fileOffered', file: info });
    } catch (error) {
      this.#release(upload);
      await rm(upload.path, { force: true });
      peer.sendError(new RelayError(ErrorCode.Internal, `the relay could not store the file: ${(error as Error).message}`), { requestId });
    }
  }

  /**
   * `fileCancel` of an upload: drops it (its partial content), when it is one of `peer`'s in its
   * meeting. Returns `false` when `transferId` is no such upload.
   */
  cancel(peer: FilePeer, transferId: string): boolean {
    const upload = this.#uploads.get(transferId);
    if (!upload || upload.owner !== peer.id || upload.meeting !== peer.meeting) return false;
    upload.failed = new RelayError(ErrorCode.Closed, 'cancelled');
    this.#uploads.delete(upload.id);
    this.#release(upload);
    this.#discard(upload);
    return true;
  }

  /** A participant left the meeting for good: its unfinished uploads are dropped (and their quota freed). */
  participantLeft(meeting: string, participantId: string): void {
    for (const upload of [...this.#uploads.values()]) {
      if (upload.meeting === meeting && upload.owner === participantId && !upload.finishing) {
        this.#abort(upload, new RelayError(ErrorCode.Closed, 'the uploader left the meeting'));
      }
    }
  }

  /** Drops the uploads idle for too long (their client is gone, or stopped sending). */
  expireIdle(now: number): void {
    for (const upload of [...this.#uploads.values()]) {
      // An upload that never got a byte (its answer was lost and the client asked again) goes sooner.
      const idleLimit = upload.received === 0 ? Math.min(UPLOAD_IDLE_MS, 60_000) : UPLOAD_IDLE_MS;
      if (!upload.finishing && now - upload.touched > idleLimit) {
        this.#abort(upload, new RelayError(ErrorCode.Timeout, `upload ${upload.id} was idle for ${Math.round(idleLimit / 1000)} s`));
      }
    }
  }

  /** Stored files were removed (retention): the counts kept of their meetings are stale, read again when needed. */
  storedFilesRemoved(): void {
    this.#stored.clear();
  }

  /** Stops every upload (relay shutdown). Their partial files are dropped at the next start. */
  async close(): Promise<void> {
    // The thread first: once it has ended, nothing writes to the files any more.
    await this.#storeThread.close();
    await Promise.all([...this.#uploads.values()].map((u) => u.handle.close().catch(() => {})));
    this.#uploads.clear();
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

  // ---- limits -----------------------------------------------------------------------------------

  /** The stored files of `meeting`: counted by the store the first time, then kept up to date here. */
  #storedTally(meeting: string): Tally {
    let tally = this.#stored.get(meeting);
    if (!tally) {
      tally = emptyTally();
      for (const row of this.#o.store.fileTally(meeting, this.#o.minCharge)) addToTally(tally, row.sender, row.files, row.charge);
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
}

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

function checkName(name: string): string {
  try {
    return checkFileName(name);
  } catch (error) {
    throw new RelayError(ErrorCode.BadName, (error as Error).message);
  }
}
