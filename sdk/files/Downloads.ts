/**
 * This session's downloads: a file's chunks from the relay as a stream, paced by its reader through
 * `fileAck`, hashed as they come and verified at the end, and carried on from the last byte received
 * after a dropped connection.
 * @module
 * @internal
 */
import { ErrorCode, LanError } from '../errors.js';
import { FILE_ACK_EVERY_BYTES, FILE_WINDOW_BYTES, decodeFileChunk } from '../protocol/index.js';
import type { FileRequests } from './FileRequests.js';
import type { Sha256 } from './sha256.js';
import type { DownloadOptions, SharedFile, TransferHost } from './types.js';

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

/** The downloads in progress of a {@link TransferHost} (the files manager). @internal */
export class Downloads {
  readonly #files: TransferHost;
  readonly #requests: FileRequests;
  /** By the relay's transfer id. */
  readonly #downloads = new Map<string, Download>();

  constructor(files: TransferHost, requests: FileRequests) {
    this.#files = files;
    this.#requests = requests;
  }

  /** File `id` as a stream of chunks: see `Files.stream`. */
  open(id: string, options: DownloadOptions): ReadableStream<Uint8Array> {
    const resumeFrom = options.resumeFrom ?? 0;
    let download: Download | undefined;
    const self = this;
    const files = this.#files;
    return new ReadableStream<Uint8Array>({
      async start(controller) {
        const file = files.file(id);
        if (!file || !file.sha256) throw new LanError(ErrorCode.UnknownFile, `no shared file ${id} in this meeting`);
        if (!Number.isSafeInteger(resumeFrom) || resumeFrom < 0 || resumeFrom > file.size) {
          throw new LanError(ErrorCode.BadOffset, `resumeFrom ${resumeFrom} is outside the ${file.size}-byte file`);
        }
        await self.#requests.request<'fileDownloadReady'>({ type: 'fileDownload', requestId: '', fileId: id, offset: resumeFrom }, (ready) => {
          download = {
            file, transferId: ready.transferId, received: resumeFrom, startedAt: Date.now(), startOffset: resumeFrom, lastAck: resumeFrom,
            lastProgress: 0, hash: resumeFrom === 0 ? files.host.sha256() : undefined, controller, done: false,
          };
          self.#downloads.set(download.transferId, download);
        });
        if (!download) return;
        // (Chunks that came with the answer may have finished a small download already.)
        if (!file.local && !download.done) files.update(file, { state: 'downloading', progress: file.size ? resumeFrom / file.size : 0 });
        options.signal?.addEventListener('abort', () => {
          if (!download || download.done) return;
          self.#fail(download, new LanError(ErrorCode.Closed, 'the download was cancelled'));
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
        files.host.send({ type: 'fileCancel', transferId: download.transferId });
        if (!download.file.local) files.update(download.file, { state: 'offered', progress: undefined });
      },
    }, { highWaterMark: FILE_WINDOW_BYTES / 2, size: (chunk) => chunk.byteLength });
  }

  /** A file chunk packet: the next bytes of a download, or nothing of ours. */
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
      this.#fail(download, new LanError(ErrorCode.BadOffset,
        `the relay sent bytes at ${chunk.offset}; the download stands at ${download.received}`));
      return;
    }
    download.hash?.update(chunk.data);
    download.received += chunk.data.byteLength;
    download.controller.enqueue(chunk.data);
    if ((download.controller.desiredSize ?? 0) > 0 && download.received - download.lastAck >= FILE_ACK_EVERY_BYTES) this.#ack(download);
    this.#files.progress(download.file.id, 'download', download.received, download.file.size, download.startedAt, download, false);
    this.#maybeComplete(download);
  }

  /** An `error` naming transfer `transfer`: the download fails (if it is one). */
  handleError(transfer: string, error: LanError): void {
    const download = this.#downloads.get(transfer);
    if (download) this.#fail(download, error);
  }

  /** The session is connected again: each download goes on from the last byte received. */
  resumed(): void {
    for (const download of [...this.#downloads.values()]) void this.#resume(download);
  }

  /** The session ended: every download fails. */
  close(error: LanError): void {
    for (const download of [...this.#downloads.values()]) this.#fail(download, error);
  }

  async #resume(download: Download): Promise<void> {
    if (download.done) return;
    const host = this.#files.host;
    try {
      await this.#requests.request<'fileDownloadReady'>({ type: 'fileDownload', requestId: '', fileId: download.file.id, offset: download.received }, (ready) => {
        if (download.done) {
          host.send({ type: 'fileCancel', transferId: ready.transferId });
          return;
        }
        this.#downloads.delete(download.transferId);
        download.transferId = ready.transferId;
        download.lastAck = download.received;
        this.#downloads.set(download.transferId, download);
      });
    } catch (error) {
      if (host.connected()) this.#fail(download, error as LanError);
    }
  }

  #ack(download: Download): void {
    download.lastAck = download.received;
    this.#files.host.send({ type: 'fileAck', transferId: download.transferId, offset: download.received });
  }

  /** Every byte is in: the stream ends, or errors when the bytes do not hash to the file's SHA-256. */
  #maybeComplete(download: Download): void {
    if (download.done || download.received < download.file.size) return;
    download.done = true;
    this.#downloads.delete(download.transferId);
    const hash = download.hash?.digestHex();
    if (hash !== undefined && hash !== download.file.sha256) {
      const error = new LanError(ErrorCode.HashMismatch,
        `the bytes received hash to ${hash}, not the file's SHA-256 ${download.file.sha256}: discard them`);
      download.controller.error(error);
      if (!download.file.local) this.#files.update(download.file, { state: 'failed', error: error.message, progress: undefined });
      this.#files.host.emit('fileFailed', { ...download.file }, error, 'download');
      return;
    }
    download.controller.close();
    this.#files.progress(download.file.id, 'download', download.received, download.file.size, download.startedAt, download, true);
    if (!download.file.local) this.#files.update(download.file, { state: 'done', progress: 1, error: undefined });
    this.#files.host.emit('fileCompleted', { ...download.file }, 'download');
  }

  #fail(download: Download, error: LanError): void {
    if (download.done) return;
    const host = this.#files.host;
    download.done = true;
    this.#downloads.delete(download.transferId);
    if (host.connected()) host.send({ type: 'fileCancel', transferId: download.transferId });
    try {
      download.controller.error(error);
    } catch {
      // already errored or closed
    }
    if (!download.file.local) this.#files.update(download.file, { state: 'failed', error: error.message, progress: undefined });
    host.emit('fileFailed', { ...download.file }, error, 'download');
  }
}
