/**
 * The relay's content store on disk: each shared file's content once, under its SHA-256
 * (`<dataDir>/files/sha256/<aa>/<sha256>`), and the partial files of uploads in progress
 * (`<dataDir>/files/partial/<uploadId>`). Which meetings refer to a content is the store's business
 * (`store/Store.ts`); this only keeps the files.
 * @module
 * @internal
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ErrorCode, RelayError } from '../../sdk/errors.js';

/** The folders of shared files' contents and of uploads in progress. @internal */
export class BlobStore {
  readonly #blobs: string;
  readonly #partial: string;

  constructor(dataDir: string) {
    this.#blobs = join(dataDir, 'files', 'sha256');
    this.#partial = join(dataDir, 'files', 'partial');
  }

  /** Makes the folders; the partial uploads of an earlier run are dropped (no upload outlives its relay). */
  async prepare(): Promise<void> {
    await rm(this.#partial, { recursive: true, force: true });
    await mkdir(this.#partial, { recursive: true, mode: 0o700 });
    await mkdir(this.#blobs, { recursive: true, mode: 0o700 });
  }

  /** Removes every content whose hash is not in `used` (what no file record refers to any more). */
  async removeUnused(used: ReadonlySet<string>): Promise<void> {
    for (const dir of await readdir(this.#blobs)) {
      for (const name of await readdir(join(this.#blobs, dir)).catch(() => [] as string[])) {
        if (!used.has(name)) await rm(join(this.#blobs, dir, name), { force: true });
      }
    }
  }

  /** Where upload `id` is written while it arrives. */
  partialPath(id: string): string {
    return join(this.#partial, id);
  }

  /** Where the content with SHA-256 `sha256` is stored. */
  path(sha256: string): string {
    // Only ever a hash we computed: 64 hex characters, so never a path of someone's choosing.
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new RelayError(ErrorCode.Internal, 'not a SHA-256');
    return join(this.#blobs, sha256.slice(0, 2), sha256);
  }

  /**
   * Keeps a finished upload's content: its partial file becomes the content of `sha256`, or is
   * removed when that content is stored already (the same bytes shared again take no more room).
   */
  async keep(partialPath: string, sha256: string): Promise<void> {
    const blob = this.path(sha256);
    await mkdir(dirname(blob), { recursive: true, mode: 0o700 });
    if (existsSync(blob)) await rm(partialPath, { force: true });
    else await rename(partialPath, blob);
  }

  /** Removes the content of `sha256` (no file record refers to it any more). */
  async remove(sha256: string): Promise<void> {
    await rm(this.path(sha256), { force: true });
  }

  /** Bytes of every content stored (for tests and the admin). */
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
}
