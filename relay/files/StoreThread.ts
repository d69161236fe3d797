/**
 * The relay's store thread: it writes uploaded bytes to their partial file and hashes them (SHA-256),
 * beside the event loop instead of inside it. Hashing is the costliest step of storing a file (about
 * 0.6 s per GiB on a CPU with SHA instructions), and a write queued through libuv's pool per chunk,
 * each waiting for the one before, left the disk idle between chunks while the event loop was busy.
 * Here the event loop only parses frames and hands each chunk over (a slot of the shared chunk memory,
 * see `chunkBuffers.ts`, or else a buffer moved, not copied); the thread writes with `writeSync` and
 * hashes, in order, and reports each chunk stored.
 * @module
 * @internal
 */
import { createHash, type Hash } from 'node:crypto';
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { chunkSlab, chunkSlot, releaseChunkBuffer } from './chunkBuffers.js';

type ToThread =
  | { t: 'chunk'; id: number; seq: number; fd: number; position: number; buffer: ArrayBuffer | undefined; offset: number; length: number }
  | { t: 'digest'; id: number; seq: number }
  | { t: 'drop'; id: number; seq: number };
type FromThread = { seq: number; hex?: string; error?: string };

/** The thread's program (plain CommonJS, run with `eval`): one `Hash` per open upload. */
const SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { writeSync } = require('node:fs');
const hashes = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.t === 'chunk') {
      // A slot of the shared chunk memory (no buffer given), or a buffer moved here.
      const data = new Uint8Array(m.buffer ?? workerData.slab, m.offset, m.length);
      let done = 0;
      while (done < data.byteLength) done += writeSync(m.fd, data, done, data.byteLength - done, m.position + done);
      let hash = hashes.get(m.id);
      if (!hash) hashes.set(m.id, (hash = createHash('sha256')));
      hash.update(data);
      parentPort.postMessage({ seq: m.seq });
    } else if (m.t === 'digest') {
      const hash = hashes.get(m.id) ?? createHash('sha256');
      hashes.delete(m.id);
      parentPort.postMessage({ seq: m.seq, hex: hash.digest('hex') });
    } else {
      hashes.delete(m.id);
      parentPort.postMessage({ seq: m.seq });
    }
  } catch (error) {
    parentPort.postMessage({ seq: m.seq, error: String((error && error.message) || error) });
  }
});
`;

/** One upload's file and SHA-256 as the store thread keeps them. */
export interface StoredUpload {
  /**
   * Writes `data` at `position` of the file, then hashes it. The caller gives `data` up: a slot of the
   * shared chunk memory is released once written; any other buffer is moved to the store thread whole,
   * so no view of it may be used after.
   * Calls settle in order; a rejection is a write (or hash) that failed.
   */
  write(data: Uint8Array, position: number): Promise<void>;
  /** The hash of everything written, 64 lowercase hex characters. Call once, after the last write. */
  digestHex(): Promise<string>;
  /** Forgets the hash (a failed or cancelled upload); settles once the thread is done with the file. */
  drop(): Promise<void>;
}

/** The store thread of one relay: started by the first upload, ended by {@link StoreThread.close}. */
export class StoreThread {
  #worker: Worker | undefined;
  #unavailable = false;
  #nextId = 1;
  #nextSeq = 1;
  readonly #waiting = new Map<number, { resolve(hex: string | undefined): void; reject(error: Error): void }>();

  /** Starts storing an upload into the open file `fd`. */
  open(fd: number): StoredUpload {
    const worker = this.#start();
    if (!worker) return inThisThread(fd, createHash('sha256'));
    const id = this.#nextId++;
    const ask = (message: ToThread, transfer?: ArrayBuffer): Promise<string | undefined> => {
      // A thread that ended answers nothing: fail at once rather than wait for ever.
      if (this.#worker !== worker) return Promise.reject(new Error('the store thread ended'));
      const done = new Promise<string | undefined>((resolve, reject) => this.#waiting.set(message.seq, { resolve, reject }));
      try {
        worker.postMessage(message, transfer ? [transfer] : []);
      } catch (error) {
        if (!transfer || (error as Error).name !== 'DataCloneError') {
          this.#waiting.delete(message.seq);
          return Promise.reject(error as Error);
        }
        // A buffer Node will not let go of (one of its pooled ones) cannot move: send a copy.
        const { offset, length } = message as { offset: number; length: number };
        const copy = new Uint8Array(transfer, offset, length).slice();
        worker.postMessage({ ...message, buffer: copy.buffer, offset: 0 }, [copy.buffer]);
      }
      return done;
    };
    return {
      write: async (data, position) => {
        const slot = chunkSlot(data);
        const buffer = slot === undefined ? data.buffer as ArrayBuffer : undefined;
        try {
          await ask({ t: 'chunk', id, seq: this.#nextSeq++, fd, position, buffer, offset: data.byteOffset, length: data.byteLength }, buffer);
        } finally {
          // The thread is done with the slot (written and hashed, or failed).
          if (slot !== undefined) releaseChunkBuffer(data);
        }
      },
      digestHex: async () => (await ask({ t: 'digest', id, seq: this.#nextSeq++ }))!,
      drop: () => ask({ t: 'drop', id, seq: this.#nextSeq++ }).then(() => undefined, () => undefined),
    };
  }

  /** Ends the thread (after the write in progress, if any). Uploads still open fail. */
  async close(): Promise<void> {
    const worker = this.#worker;
    this.#worker = undefined;
    this.#unavailable = true;
    if (worker) await worker.terminate();
  }

  #start(): Worker | undefined {
    if (this.#worker || this.#unavailable) return this.#worker;
    try {
      const worker = new Worker(SOURCE, { eval: true, workerData: { slab: chunkSlab() } });
      worker.unref();
      worker.on('message', (m: FromThread) => {
        const waiter = this.#waiting.get(m.seq);
        if (!waiter) return;
        this.#waiting.delete(m.seq);
        if (m.error !== undefined) waiter.reject(new Error(m.error));
        else waiter.resolve(m.hex);
      });
      const fail = (error: Error) => {
        if (this.#worker === worker) this.#worker = undefined;
        this.#unavailable = true;
        for (const waiter of this.#waiting.values()) waiter.reject(error);
        this.#waiting.clear();
      };
      worker.on('error', fail);
      worker.on('exit', () => fail(new Error('the store thread ended')));
      this.#worker = worker;
    } catch {
      this.#unavailable = true;
    }
    return this.#worker;
  }
}

/** The same contract in this thread (no worker could start): synchronous writes and hashing. */
function inThisThread(fd: number, hash: Hash): StoredUpload {
  return {
    write: async (data, position) => {
      try {
        let done = 0;
        while (done < data.byteLength) done += writeSync(fd, data, done, data.byteLength - done, position + done);
        hash.update(data);
      } finally {
        releaseChunkBuffer(data);
      }
    },
    digestHex: async () => hash.digest('hex'),
    drop: async () => undefined,
  };
}
