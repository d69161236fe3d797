/**
 * Chunked downloads over a meeting connection: a stored file sent from an offset in chunk packets,
 * paced by the downloader's acks (a window of {@link FILE_WINDOW_BYTES}) and by its link (what the
 * connection has queued), and stopped when the connection goes (a resumed client asks again from where
 * it stands). The HTTP downloads are `httpFiles.ts`.
 * @module
 * @internal
 */
import { open, type FileHandle } from 'node:fs/promises';
import { ErrorCode, ProtocolError, RelayError } from '../../sdk/errors.js';
import {
  FILE_CHUNK_BYTES, FILE_CHUNK_HEADER_BYTES, FILE_WINDOW_BYTES, encodeFileChunkHeader, randomId,
  type ClientMessageOf, type FileInfo,
} from '../../sdk/protocol/index.js';
import type { Store, StoredFile } from '../store/Store.js';
import type { BlobStore } from './BlobStore.js';
import { CHUNK_PACKET_BYTES, chunkBuffer, releaseChunkBuffer } from './chunkBuffers.js';
import type { FilePeer, FileServiceOptions } from './FileService.js';

/** Downloads one connection may have open at once: each holds a file handle and a window of data. */
const MAX_DOWNLOADS_PER_PEER = 8;
/** A download is paused while the peer has this many bytes queued (its link decides the pace). */
const DOWNLOAD_BACKLOG_BYTES = 2 * 1024 * 1024;

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

/** What the downloads need of the file service. @internal */
export interface DownloadsOptions {
  store: Store;
  blobs: BlobStore;
  /** A stored file as clients see it, with its download link. */
  info(file: StoredFile): FileInfo;
  log: FileServiceOptions['log'];
}

/** The chunked downloads in progress. @internal */
export class Downloads {
  readonly #o: DownloadsOptions;
  readonly #downloads = new Map<string, Download>();
  /** Downloads accepted and still opening their file (counted against the limit like open ones). */
  readonly #opening = new Map<string, number>();

  constructor(options: DownloadsOptions) {
    this.#o = options;
  }

  /** Downloads in progress. */
  get size(): number {
    return this.#downloads.size;
  }

  /**
   * `fileDownload` of a participant in `meeting`: streams a stored file from `offset`, paced by the
   * peer's acks and its link. Throws what the request is answered with.
   */
  async download(peer: FilePeer, meeting: string, message: ClientMessageOf<'fileDownload'>): Promise<void> {
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
      handle = await open(this.#o.blobs.path(file.sha256), 'r');
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
    peer.send({ type: 'fileDownloadReady', requestId: message.requestId, transferId: download.id, file: this.#o.info(file), offset: message.offset });
    void this.#pump(download);
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

  /** `fileCancel` of a download: stops it, when it is one of `peer`'s. */
  cancel(peer: FilePeer, transferId: string): void {
    const download = this.#downloads.get(transferId);
    if (download && download.peer === peer) this.#end(download);
  }

  /** A connection is gone: its downloads stop. */
  peerGone(peer: FilePeer): void {
    for (const download of this.#downloads.values()) if (download.peer === peer) this.#end(download);
  }

  /** `true` when `transferId` is a download of `peer` in progress. */
  isDownloadOf(peer: FilePeer, transferId: string): boolean {
    return this.#downloads.get(transferId)?.peer === peer;
  }

  /** Stops every download (relay shutdown). */
  close(): void {
    for (const download of [...this.#downloads.values()]) this.#end(download);
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
      if (peer.closed || download.sent >= file.size) this.#end(download);
    } catch (error) {
      this.#end(download);
      download.peer.sendError(new RelayError(ErrorCode.Internal, `reading file ${download.file.id} failed: ${(error as Error).message}`),
        { requestId: `file:${download.id}` });
    } finally {
      download.pumping = false;
    }
  }

  #end(download: Download): void {
    if (!this.#downloads.delete(download.id)) return;
    download.waiting = false;
    void download.handle.close().catch(() => {});
  }
}

const peerKeys = new WeakMap<FilePeer, string>();
/** A key per connection (downloads belong to a connection, not a participant). */
function peerKey(peer: FilePeer): string {
  let key = peerKeys.get(peer);
  if (!key) peerKeys.set(peer, (key = randomId()));
  return key;
}
