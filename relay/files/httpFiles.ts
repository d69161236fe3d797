/**
 * Shared files over HTTP: each file's download link, signed so that it opens that file of that meeting
 * only, and `GET /files/…` serving it with Range support (browsers, `curl`, download managers that
 * resume). The chunked downloads over the meeting's connection are `Downloads.ts`.
 * @module
 * @internal
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { safeFileName } from '../../sdk/files/names.js';
import type { FileInfo } from '../../sdk/protocol/index.js';
import type { Store, StoredFile } from '../store/Store.js';
import type { BlobStore } from './BlobStore.js';

/** What a download link's token looks like (base64url, see {@link HttpFiles.handle}). */
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

/** Download links and the HTTP downloads they open. @internal */
export class HttpFiles {
  readonly #store: Store;
  readonly #blobs: BlobStore;
  /** The key links are signed with: the store keeps it, so links outlive a restart of the relay. */
  readonly #secret: Buffer;

  constructor(store: Store, blobs: BlobStore) {
    this.#store = store;
    this.#blobs = blobs;
    this.#secret = store.secret();
  }

  /** A stored file as clients see it: without its meeting, with its download link. */
  info(file: StoredFile): FileInfo {
    const { meeting, ...rest } = file;
    const url = `/files/${file.id}/${encodeURIComponent(safeFileName(file.name))}?m=${encodeURIComponent(meeting)}&t=${this.#token(meeting, file.id)}`;
    return { ...rest, url };
  }

  /**
   * `GET /files/<id>[/<name>]?m=<meeting>&t=<token>`: the file, with Range support. The token comes
   * in the file's `url` and opens that file of that meeting only. Returns `false` for other paths.
   */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    const match = /^\/files\/([0-9a-f]{16})(?:\/[^/]*)?$/.exec(url.pathname);
    if (!match) return false;
    const id = match[1]!;
    const meeting = url.searchParams.get('m') ?? '';
    const token = url.searchParams.get('t') ?? '';
    // A token is 32 base64url characters, so 32 bytes: anything else is refused before the comparison,
    // which throws on buffers of different lengths (32 characters of non-ASCII text are more bytes).
    const ok = TOKEN.test(token) && timingSafeEqual(Buffer.from(token), Buffer.from(this.#token(meeting, id)));
    const file = ok ? this.#store.file(meeting, id) : undefined;
    if (!file) {
      plain(res, ok ? 404 : 403, ok ? 'no such file\n' : 'this link is not valid for that file\n');
      return true;
    }
    const path = this.#blobs.path(file.sha256);
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

  #token(meeting: string, id: string): string {
    return createHmac('sha256', this.#secret).update(`${meeting}\n${id}`).digest('base64url').slice(0, 32);
  }
}

function plain(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
