/**
 * Shared by the file-transfer bench (files.ts) and its child processes (files-relay-process.ts,
 * files-client-process.ts, files-raw-process.ts): the generated content, the IPC messages, a memory
 * sampler and a small child-process wrapper.
 *
 * The content: one 1 MiB block of pseudo-random bytes (a fixed seed, so every process makes the same
 * block without sending it around), repeated `BENCH_FILE_MIB` times. Every sender yields the same block
 * again and again, so no process ever holds the whole file; receivers check what they get against the
 * block at that offset (a `memcmp`, far cheaper than hashing it again).
 * @module
 */
import { createHash } from 'node:crypto';
import { Child } from './children.js';
import { onParent, toParent } from './common.js';

/** Bytes of the repeated block. */
export const BLOCK_BYTES = 1024 * 1024;

let cachedBlock: Buffer | undefined;

/** The 1 MiB block every sender repeats: xorshift32 from a fixed seed (incompressible, identical everywhere). */
export function block(): Buffer {
  if (cachedBlock) return cachedBlock;
  const out = Buffer.allocUnsafe(BLOCK_BYTES);
  let x = 0x2545f491;
  for (let i = 0; i < BLOCK_BYTES; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.writeUInt32LE(x >>> 0, i);
  }
  cachedBlock = out;
  return out;
}

/** The file as an async iterable: the same block `mib` times (the SDK gets the very same `Uint8Array` each time). */
export async function* generated(mib: number): AsyncGenerator<Uint8Array> {
  const b = block();
  for (let i = 0; i < mib; i++) yield b;
}

/** SHA-256 of the generated file of `mib` MiB (hex). */
export function expectedSha256(mib: number): string {
  const hash = createHash('sha256');
  const b = block();
  for (let i = 0; i < mib; i++) hash.update(b);
  return hash.digest('hex');
}

/**
 * Checks received bytes against the generated content, chunk by chunk: `check(bytes)` returns `false` at the first
 * byte that differs (and from then on).
 */
export function contentChecker(): { check(bytes: Uint8Array): boolean; readonly offset: number; readonly ok: boolean } {
  const b = block();
  let offset = 0;
  let ok = true;
  return {
    check(bytes: Uint8Array): boolean {
      if (!ok) return false;
      let at = 0;
      while (at < bytes.byteLength) {
        const inBlock = offset % BLOCK_BYTES;
        const n = Math.min(bytes.byteLength - at, BLOCK_BYTES - inBlock);
        if (Buffer.compare(Buffer.from(bytes.buffer, bytes.byteOffset + at, n), b.subarray(inBlock, inBlock + n)) !== 0) {
          ok = false;
          return false;
        }
        at += n;
        offset += n;
      }
      return true;
    },
    get offset() {
      return offset;
    },
    get ok() {
      return ok;
    },
  };
}

// ------------------------------------------------------------------------------------------------------- memory

/** One memory sample (shared bench clock µs, bytes). */
export interface MemorySample {
  t: number;
  rss: number;
  heapUsed: number;
  /** Memory of ArrayBuffers and Buffers (the transfer's chunks live here, outside the JS heap). */
  arrayBuffers: number;
}

/** Samples this process's memory every `everyMs` (`process.memoryUsage()`), until `stop()`. */
export function memorySampler(clock: () => number, everyMs = 100): { samples: MemorySample[]; stop(): void; peakRss(): number } {
  const samples: MemorySample[] = [];
  const take = () => {
    const m = process.memoryUsage();
    samples.push({ t: clock(), rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      take();
    },
    peakRss: () => samples.reduce((x, s) => Math.max(x, s.rss), 0),
  };
}

// ------------------------------------------------------------------------------------------------------- IPC

/** What a transfer took, as measured where it happened (shared bench clock, µs). */
export interface TransferTiming {
  /** The first byte was about to be handed over (upload: `files.send()` called; raw: `connect()`). */
  start: number;
  /** The transfer is confirmed complete (upload: the relay stored and verified it; download: the stream ended, verified). */
  end: number;
  bytes: number;
}

/** A client's CPU and memory over one transfer. */
export interface ProcessFigures {
  /** CPU (user + system, all threads) over the transfer, % of one core. */
  cpuPct: number;
  /** The same CPU in seconds. */
  cpuS: number;
  rssStartMB: number;
  rssPeakMB: number;
  rssEndMB: number;
}

/** Orchestrator → file bench child. */
export type FileToChild =
  | { type: 'upload'; mib: number; name: string }
  | { type: 'download'; fileId: string }
  | { type: 'mark'; label: string }
  | { type: 'report' }
  | { type: 'go' }
  | { type: 'stop' };

/** The relay process's figures: its memory samples and CPU between marks. */
export interface FileRelayReport {
  /** RSS right after `listen()` (MB, includes the tsx loader). */
  idleRssMB: number;
  samples: MemorySample[];
  /** Marks set by the orchestrator, on the shared clock, with the relay's CPU time (µs, user + system) then. */
  marks: Array<{ label: string; t: number; cpuUs: number; eluActive: number }>;
}

/** File bench child → orchestrator. */
export type FileFromChild =
  | { type: 'ready'; port: number; tcpPort: number; udpPort: number }
  | { type: 'listening'; port: number }
  | { type: 'joined'; id: string }
  | { type: 'offered'; fileId: string; sha256: string; size: number }
  | { type: 'uploaded'; timing: TransferTiming; fileId: string; sha256: string; figures: ProcessFigures }
  | { type: 'downloaded'; timing: TransferTiming; contentOk: boolean; sha256: string | undefined; figures: ProcessFigures }
  | { type: 'rawDone'; timing: TransferTiming; sha256: string | undefined; contentOk: boolean; figures: ProcessFigures }
  | { type: 'marked'; label: string }
  | { type: 'relayReport'; report: FileRelayReport }
  | { type: 'fatal'; message: string };

/** Sends an IPC message to the orchestrator. */
export const toOrchestrator: (message: FileFromChild) => void = toParent;

/** Calls `handler` for each orchestrator message; exits when the orchestrator goes away. */
export const onOrchestrator: (handler: (message: FileToChild) => void | Promise<void>) => void = onParent;

/** CPU and memory figures from `process.cpuUsage()` deltas and a sampler. */
export function processFigures(cpuStart: NodeJS.CpuUsage, startUs: number, endUs: number, rssStart: number, peakRss: number): ProcessFigures {
  const cpu = process.cpuUsage(cpuStart);
  const MB = 1024 * 1024;
  return {
    cpuPct: ((cpu.user + cpu.system) / Math.max(1, endUs - startUs)) * 100,
    cpuS: (cpu.user + cpu.system) / 1e6,
    rssStartMB: rssStart / MB,
    rssPeakMB: Math.max(peakRss, rssStart) / MB,
    rssEndMB: process.memoryUsage.rss() / MB,
  };
}

// ------------------------------------------------------------------------------------------------------- children

/** One child process of the file bench (the bench's Child, with the file bench's messages). */
export class FileChild extends Child<FileFromChild, FileToChild> {
  /** `name` doubles as the profile name: BENCH_PROFILE=relay profiles `files-relay`, `upload` the uploader, and so on. */
  constructor(name: string, script: string, env: Record<string, string>) {
    super(name, script, env, undefined, name.replace(/^files-/, ''));
  }

  /** Asks the child to stop (it writes its CPU profile then); SIGKILLs it after `graceMs`. */
  override stop(graceMs = 5000): Promise<void> {
    return super.stop(graceMs);
  }
}
