/**
 * This session's uploads: a file streamed to the relay in chunks, at most a window ahead of what the
 * relay confirmed, hashed on the way, ended with its SHA-256, and carried on from the relay's last
 * confirmed byte after a dropped connection.
 * @module
 * @internal
 */
import { ErrorCode, LanError } from '../errors.js';
import {
  FILE_WINDOW_BYTES, encodeFileChunkHeader, type FileInfo, type RelayMessageOf,
} from '../protocol/index.js';
import type { FileRequests } from './FileRequests.js';
import { fileChunks } from './sources.js';
import type { FileSource, SharedFile, TransferHost } from './types.js';

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

/** The uploads in progress of a {@link TransferHost} (the files manager). @internal */
export class Uploads {
  readonly #files: TransferHost;
  readonly #requests: FileRequests;
  /** By local id (`upload-1`…). */
  readonly #uploads = new Map<string, Upload>();
  readonly #wakers = new Set<() => void>();

  constructor(files: TransferHost, requests: FileRequests) {
    this.#files = files;
    this.#requests = requests;
  }

  /**
   * Uploads `source` as `entry` (already listed, state `uploading`); resolves with the file the relay
   * offers once it is stored and verified.
   */
  async send(entry: SharedFile, source: FileSource, signal: AbortSignal | undefined): Promise<SharedFile> {
    const upload: Upload = {
      entry, name: entry.name, size: entry.size, uploadId: undefined, sent: 0, acked: 0, retained: [], sha256: undefined,
      ended: false, resuming: false, startedAt: Date.now(), lastProgress: 0, finished: undefined, failed: undefined,
    };
    const onAbort = () => this.#fail(upload, new LanError(ErrorCode.Closed, 'the upload was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#run(upload, source, signal);
    } catch (error) {
      const lan = error instanceof LanError ? error : new LanError(ErrorCode.Internal, (error as Error).message, { cause: error });
      this.#fail(upload, lan);
      throw error instanceof TypeError ? error : upload.failed ?? lan;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The relay confirmed bytes of an upload: the window moves on. */
  handleAck(message: RelayMessageOf<'fileAck'>): void {
    const upload = this.#byId(message.transferId);
    if (!upload || message.offset <= upload.acked || message.offset > upload.sent) return;
    upload.acked = message.offset;
    upload.retained = upload.retained.filter((r) => r.offset + r.data.byteLength > message.offset);
    this.#files.progress(upload.entry.id, 'upload', upload.acked, upload.size, upload.startedAt, upload, upload.acked === upload.size);
    this.#wake();
  }

  /** The relay stored and verified an upload: its local entry gives way to the file offered. */
  handleUploaded(message: RelayMessageOf<'fileUploaded'>): void {
    const upload = this.#byId(message.uploadId);
    if (!upload) return;
    this.#uploads.delete(upload.entry.id);
    this.#files.forget(upload.entry.id);
    const file = this.#files.offered(message.file);
    upload.finished?.resolve({ ...file });
    this.#files.host.emit('fileCompleted', { ...file }, 'upload');
  }

  /** An `error` naming transfer `transfer`. `true` when it is one of these uploads. */
  handleError(transfer: string, error: LanError): boolean {
    const upload = this.#byId(transfer);
    if (!upload) return false;
    // A chunk the relay did not expect (a race with a reconnect) is fixed by the next resume; anything else ends the upload.
    if (error.code !== ErrorCode.BadOffset || upload.ended) this.#fail(upload, error);
    return true;
  }

  /**
   * A file offered while away that is an upload of ours whose `fileUploaded` was lost with the connection
   * (the relay has it, verified): that upload is resolved with it. `true` when it was one.
   */
  finishedWhileAway(info: FileInfo): boolean {
    const upload = [...this.#uploads.values()].find((u) => u.ended && u.sha256 === info.sha256 && u.size === info.size &&
      u.name === info.name && info.from === this.#files.host.localId());
    if (!upload) return false;
    this.handleUploaded({ type: 'fileUploaded', uploadId: upload.uploadId!, file: info });
    return true;
  }

  /** The session is connected again: each upload goes on from the relay's last confirmed byte. */
  resumed(): void {
    for (const upload of this.#uploads.values()) if (upload.uploadId) void this.#resume(upload);
    this.#wake();
  }

  /** The session ended: every upload fails. */
  close(error: LanError): void {
    for (const upload of [...this.#uploads.values()]) this.#fail(upload, error);
    this.#wake();
  }

  async #run(upload: Upload, source: FileSource, signal: AbortSignal | undefined): Promise<SharedFile> {
    const host = this.#files.host;
    this.#uploads.set(upload.entry.id, upload);
    host.emit('fileProgress', { id: upload.entry.id, direction: 'upload', bytes: 0, total: upload.size, rate: 0 });
    const ready = await this.#requests.request<'fileUploadReady'>({ type: 'fileUpload', requestId: '', name: upload.name, size: upload.size });
    upload.uploadId = ready.uploadId;
    const hash = host.sha256();
    // One chunk at a time: fileChunks has cut the source to chunk size.
    for await (const chunk of fileChunks(source)) {
      if (upload.failed) throw upload.failed;
      if (upload.sent + chunk.byteLength > upload.size) {
        throw new TypeError(`the source gave more than the ${upload.size} bytes announced`);
      }
      hash.update(chunk);
      await this.#until(() => !!upload.failed || (!upload.resuming && host.connected() && upload.sent - upload.acked < FILE_WINDOW_BYTES), signal);
      if (upload.failed) throw upload.failed;
      upload.retained.push({ offset: upload.sent, data: chunk });
      host.sendFile(encodeFileChunkHeader(upload.uploadId, upload.sent), chunk);
      upload.sent += chunk.byteLength;
    }
    if (upload.sent !== upload.size) throw new TypeError(`the source gave ${upload.sent} bytes, not the ${upload.size} announced`);
    upload.sha256 = hash.digestHex();
    const finished = new Promise<SharedFile>((resolve, reject) => (upload.finished = { resolve, reject }));
    await this.#until(() => !!upload.failed || (!upload.resuming && host.connected()), signal);
    if (upload.failed) throw upload.failed;
    upload.ended = true;
    host.send({ type: 'fileUploadEnd', uploadId: upload.uploadId, sha256: upload.sha256 });
    return finished;
  }

  /** Asks where the relay stands, sends again what it lacks, and the end again if it was sent. */
  async #resume(upload: Upload): Promise<void> {
    if (!upload.uploadId || upload.failed) return;
    const host = this.#files.host;
    upload.resuming = true;
    try {
      const ready = await this.#requests.request<'fileUploadReady'>({
        type: 'fileUpload', requestId: '', name: upload.name, size: upload.size, uploadId: upload.uploadId,
      });
      upload.acked = ready.offset;
      upload.retained = upload.retained.filter((r) => r.offset + r.data.byteLength > ready.offset);
      for (const r of upload.retained) {
        const from = Math.max(r.offset, ready.offset);
        host.sendFile(encodeFileChunkHeader(upload.uploadId, from), r.data.subarray(from - r.offset));
      }
      if (upload.ended) host.send({ type: 'fileUploadEnd', uploadId: upload.uploadId, sha256: upload.sha256! });
    } catch (error) {
      if (host.connected()) this.#fail(upload, error as LanError);
    } finally {
      upload.resuming = false;
      this.#wake();
    }
  }

  /** The upload in progress with the relay's id `uploadId`. */
  #byId(uploadId: string): Upload | undefined {
    for (const upload of this.#uploads.values()) if (upload.uploadId === uploadId) return upload;
    return undefined;
  }

  /** Ends an upload in progress as failed (once: a finished or already failed upload is left alone). */
  #fail(upload: Upload, error: LanError): void {
    if (!this.#uploads.delete(upload.entry.id)) return;
    const host = this.#files.host;
    upload.failed ??= error;
    if (upload.uploadId && host.connected()) host.send({ type: 'fileCancel', transferId: upload.uploadId });
    upload.retained = [];
    this.#files.update(upload.entry, { state: 'failed', error: upload.failed.message, progress: undefined });
    upload.finished?.reject(upload.failed);
    host.emit('fileFailed', { ...upload.entry }, upload.failed, 'upload');
    this.#wake();
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
