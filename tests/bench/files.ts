/**
 * The file-transfer bench (DESIGN "Performance budgets": *file transfer fills a 1 Gbit/s LAN (≥ 118 MB/s)
 * over WebSocket and native with at most half a core on the relay; memory flat whatever the file size*).
 * Run by run.ts (`BENCH_ONLY=files` runs it alone); it writes its own section of docs/performance.md.
 *
 * The budget is about a LAN, but the bench runs on loopback, where a transfer goes as fast as the CPUs let
 * it: the relay's CPU is counted per GiB moved (CPU seconds of the relay process, every thread), and at
 * 118 MB/s a relay spending C seconds per GiB is busy C × 118 MB/s ÷ 1 GiB of a core, so the budget is
 * met when C ≤ 0.5 × 1 GiB ÷ 118 MB/s ≈ 4.55 s (and the loopback transfer itself is faster than 118 MB/s).
 *
 * lanconf: the relay in its own process (files-relay-process.ts, scratch data dir under os.tmpdir()), an
 * uploader and a downloader in two more (files-client-process.ts, the real Node SDK), all on 127.0.0.1.
 * The uploader shares a generated file of BENCH_FILE_MIB MiB (`files.send` of a stream that repeats one
 * 1 MiB block); once the relay has stored it, the downloader reads it with `files.stream` and checks every
 * byte; the SHA-256 the relay and SDK agreed on is checked against the orchestrator's own.
 *
 * Baseline, the same job without lanconf (files-raw-process.ts): a sender process writes the same bytes
 * to a TCP socket on 127.0.0.1, a receiver process pipes them into a file on the same disk; once plain,
 * once with SHA-256 on both ends (what the SDK and the relay do on an upload); and, download-shaped, a
 * file piped from the disk into a socket, the receiver hashing and checking (what a lanconf download does).
 * @module
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSnapshot, sleep, type CpuSnapshot } from './common.js';
import { expectedSha256, FileChild, type FileRelayReport, type MemorySample, type ProcessFigures } from './files-common.js';
import { waitForQuiet } from './measure.js';

/**
 * DESIGN.md budget: a 1 Gbit/s LAN's worth of file (`lanBytesPerSecond`, 118 MB/s) with at most
 * `maxRelayCores` of the relay's CPU, memory flat (growth within `flatGrowthMiB`).
 */
export const FILES_BUDGET = { lanBytesPerSecond: 118e6, maxRelayCores: 0.5, flatGrowthMiB: 16 } as const;

const GiB = 1024 * 1024 * 1024;
/** The most relay CPU seconds per GiB within the budget: 0.5 core × 1 GiB ÷ 118 MB/s ≈ 4.55 s. */
export const MAX_RELAY_CPU_S_PER_GIB = FILES_BUDGET.maxRelayCores * GiB / FILES_BUDGET.lanBytesPerSecond;
/** The budget's rate in the tables' unit (MiB/s): 118 MB/s ≈ 112.5 MiB/s. */
const LAN_MIB_S = FILES_BUDGET.lanBytesPerSecond / (1024 * 1024);
/** Cores of the relay busy at the LAN rate, for `cpuSPerGiB` relay CPU seconds per GiB. */
const coresAtLan = (cpuSPerGiB: number) => cpuSPerGiB * FILES_BUDGET.lanBytesPerSecond / GiB;

export type FileTransport = 'native' | 'websocket';

export interface FileSettings {
  /** File size (MiB). */
  mib: number;
  transports: FileTransport[];
  /** Clean runs of each configuration; the tables show the median. */
  repeats: number;
  /** A run during which other work used more than this % of one core is repeated once. */
  maxForeign: number;
}

/** The machine over one run. */
export interface FileMachine {
  /** /proc/stat: busy, % of one core. */
  busyPct: number;
  /** Kernel softirq (loopback TCP is mostly here). */
  softirqPct: number;
  /** User processes outside the bench (other sessions' work), % of one core. */
  foreignPct: number;
  /** Kernel threads (kworker: page-cache writeback and the like), % of one core. */
  kernelThreadsPct: number;
  otherTop: string;
  load1Start: number;
  load1End: number;
}

export interface Phase {
  seconds: number;
  /** MiB/s. */
  rate: number;
  /** The client doing it (uploader or downloader). */
  client: ProcessFigures;
  /** The relay's CPU over the phase, % of one core, and its event loop busy fraction. */
  relayCpuPct: number;
  relayElu: number;
  /** The relay's CPU seconds (every thread) over the phase, per GiB moved. */
  relayCpuSPerGiB: number;
  /** Relay RSS (MiB) over the phase: peak, the max of its first and last quarter (a leak shows as last ≫ first). */
  relayPeakMiB: number;
  relayFirstQuarterMiB: number;
  relayLastQuarterMiB: number;
  relayArrayBuffersPeakMiB: number;
}

export interface LanconfRun {
  transport: FileTransport;
  attempt: number;
  /** Which of the bench's runs (1…repeats) this was: its baselines ran right beside it. */
  rep?: number;
  error?: string;
  upload?: Phase;
  download?: Phase;
  /** MiB / (upload s + download s). */
  e2eRate?: number;
  /** Relay RSS (MiB): right after listen, before the upload, after the download (+1 s). */
  relayIdleMiB?: number;
  relayStartMiB?: number;
  relayEndMiB?: number;
  sha256Ok?: boolean;
  contentOk?: boolean;
  machine?: FileMachine;
  /** The relay's memory samples, for BENCH_DUMP. */
  samples?: MemorySample[];
}

export type RawKind = 'copy' | 'copy-stream' | 'copy-sha' | 'copy-ws' | 'serve';

export interface RawRun {
  kind: RawKind;
  attempt: number;
  /** Which of the bench's runs (1…repeats) this was. */
  rep?: number;
  error?: string;
  seconds?: number;
  rate?: number;
  sender?: ProcessFigures;
  receiver?: ProcessFigures;
  sha256Ok?: boolean;
  contentOk?: boolean;
  machine?: FileMachine;
}

export interface FilesResult {
  settings: FileSettings;
  started: Date;
  durationS: number;
  expectedSha256: string;
  scratch: string;
  /** 1, 5 and 15-minute load averages when the bench started. */
  loadStart: string;
  lanconf: LanconfRun[];
  raw: RawRun[];
  error?: string;
}

const MiB = 1024 * 1024;

export const RAW_KINDS: readonly RawKind[] = ['copy', 'copy-stream', 'copy-sha', 'copy-ws', 'serve'];

export const RAW_LABELS: Record<RawKind, string> = {
  copy: 'raw TCP copy (generate → socket → file, `writeSync`)',
  'copy-stream': 'raw TCP copy, textbook streams (`pipeline` → `createWriteStream`)',
  'copy-sha': 'raw TCP copy, SHA-256 on both ends (`writeSync`)',
  'copy-ws': 'raw WebSocket copy (`ws`, 256 KiB messages → file, `writeSync`)',
  serve: 'raw download shape (file → socket → SHA-256)',
};

// ----------------------------------------------------------------------------------------------------- machine

/** The machine between two snapshots; processes in `bench` (and their descendants) are the bench's own. */
function machineBetween(a: CpuSnapshot, b: CpuSnapshot, bench: ReadonlySet<number>): FileMachine {
  const cores = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length || 1;
  const d = b.fields.map((x, i) => x - (a.fields[i] ?? 0));
  const total = d.reduce((x, y) => x + y, 0) || 1;
  const of = (ticks: number) => (ticks / total) * 100 * cores;
  const elapsedTicks = Math.max(1, ((b.at - a.at) / 1000) * 100);
  const parent = (pid: number) => b.procs.get(pid)?.ppid ?? a.procs.get(pid)?.ppid ?? 0;
  const ours = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; hops++, p = parent(p)) if (bench.has(p)) return true;
    return false;
  };
  let foreign = 0;
  let kernel = 0;
  const others: Array<{ comm: string; pct: number }> = [];
  for (const [pid, p] of b.procs) {
    const ticks = p.ticks - (a.procs.get(pid)?.ticks ?? 0);
    if (ticks <= 0 || ours(pid)) continue;
    const pct = (ticks / elapsedTicks) * 100;
    if (pid === 2 || p.ppid === 2) kernel += pct;
    else foreign += pct;
    others.push({ comm: p.comm, pct });
  }
  others.sort((x, y) => y.pct - x.pct);
  return {
    busyPct: of(total - (d[3] ?? 0) - (d[4] ?? 0)),
    softirqPct: of((d[5] ?? 0) + (d[6] ?? 0)),
    foreignPct: foreign,
    kernelThreadsPct: kernel,
    otherTop: others.slice(0, 3).map((o) => `${o.comm} ${o.pct.toFixed(0)} %`).join(', '),
    load1Start: a.load1,
    load1End: b.load1,
  };
}

// ----------------------------------------------------------------------------------------------------- runs

const timeoutFor = (mib: number) => 60_000 + mib * 500;

function memoryOver(samples: MemorySample[], from: number, to: number): Pick<Phase, 'relayPeakMiB' | 'relayFirstQuarterMiB' | 'relayLastQuarterMiB' | 'relayArrayBuffersPeakMiB'> {
  const q = (to - from) / 4;
  // Samples in [a, b]; for a span shorter than the 100 ms sampling period, the sample nearest to it.
  const within = (a: number, b: number) => {
    const xs = samples.filter((s) => s.t >= a && s.t <= b);
    if (xs.length || !samples.length) return xs;
    return [samples.reduce((x, s) => (Math.abs(s.t - (a + b) / 2) < Math.abs(x.t - (a + b) / 2) ? s : x))];
  };
  const max = (xs: MemorySample[], f: (s: MemorySample) => number) => xs.reduce((x, s) => Math.max(x, f(s)), -Infinity) / MiB;
  const inside = within(from, to);
  return {
    relayPeakMiB: max(inside, (s) => s.rss),
    relayFirstQuarterMiB: max(within(from, from + q), (s) => s.rss),
    relayLastQuarterMiB: max(within(to - q, to), (s) => s.rss),
    relayArrayBuffersPeakMiB: max(inside, (s) => s.arrayBuffers),
  };
}

/** The RSS sample nearest to `t` (MiB). */
function rssAt(samples: MemorySample[], t: number): number {
  let best: MemorySample | undefined;
  for (const s of samples) if (!best || Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
  return best ? best.rss / MiB : NaN;
}

async function runLanconf(transport: FileTransport, s: FileSettings, expected: string, scratch: string, attempt: number): Promise<LanconfRun> {
  const run: LanconfRun = { transport, attempt };
  const dataDir = mkdtempSync(join(scratch, `relay-${transport}-`));
  const children: FileChild[] = [];
  try {
    const relay = new FileChild(`files-relay-${transport}`, 'files-relay-process.ts', { BENCH_FILE_DATA_DIR: dataDir });
    children.push(relay);
    const ready = await relay.waitFor('ready', 30_000);
    const env = { BENCH_URL: `http://127.0.0.1:${ready.port}`, BENCH_TRANSPORT: transport, BENCH_MEETING: 'files-bench' };
    const downloader = new FileChild(`files-download-${transport}`, 'files-client-process.ts', { ...env, BENCH_FILE_ROLE: 'download' });
    children.push(downloader);
    await downloader.waitFor('joined', 30_000);
    const uploader = new FileChild(`files-upload-${transport}`, 'files-client-process.ts', { ...env, BENCH_FILE_ROLE: 'upload' });
    children.push(uploader);
    await uploader.waitFor('joined', 30_000);
    await sleep(500);
    const bench = new Set([process.pid, ...children.map((c) => c.pid ?? 0)]);
    const mark = async (label: string) => {
      relay.send({ type: 'mark', label });
      await relay.waitFor('marked', 10_000);
    };

    const a = cpuSnapshot();
    await mark('start');
    uploader.send({ type: 'upload', mib: s.mib, name: `bench-${s.mib}MiB.bin` });
    const up = await uploader.waitFor('uploaded', timeoutFor(s.mib));
    await mark('uploaded');
    const offer = await downloader.waitFor('offered', 10_000);
    if (offer.fileId !== up.fileId) throw new Error(`the downloader was offered ${offer.fileId}, the uploader shared ${up.fileId}`);
    downloader.send({ type: 'download', fileId: up.fileId });
    const down = await downloader.waitFor('downloaded', timeoutFor(s.mib));
    await mark('downloaded');
    const b = cpuSnapshot();
    await sleep(1000);
    await mark('end');
    relay.send({ type: 'report' });
    const report: FileRelayReport = (await relay.waitFor('relayReport', 10_000)).report;

    const m = Object.fromEntries(report.marks.map((x) => [x.label, x]));
    const phase = (from: string, to: string, timing: { start: number; end: number; bytes: number }, client: ProcessFigures): Phase => {
      const f = m[from]!;
      const t = m[to]!;
      const seconds = (timing.end - timing.start) / 1e6;
      const wall = Math.max(1, t.t - f.t);
      return {
        seconds, rate: timing.bytes / MiB / seconds, client,
        relayCpuPct: ((t.cpuUs - f.cpuUs) / wall) * 100,
        relayElu: (t.eluActive - f.eluActive) * 1000 / wall,
        relayCpuSPerGiB: ((t.cpuUs - f.cpuUs) / 1e6) / (timing.bytes / GiB),
        ...memoryOver(report.samples, timing.start, timing.end),
      };
    };
    run.upload = phase('start', 'uploaded', up.timing, up.figures);
    run.download = phase('uploaded', 'downloaded', down.timing, down.figures);
    run.e2eRate = s.mib / (run.upload.seconds + run.download.seconds);
    run.relayIdleMiB = report.idleRssMB;
    run.relayStartMiB = rssAt(report.samples, m.start!.t);
    run.relayEndMiB = rssAt(report.samples, m.end!.t);
    run.sha256Ok = up.sha256 === expected && offer.sha256 === expected && down.sha256 === expected;
    run.contentOk = down.contentOk && down.timing.bytes === s.mib * MiB && up.timing.bytes === s.mib * MiB;
    run.machine = machineBetween(a, b, bench);
    run.samples = report.samples;
    if (!run.sha256Ok) run.error = `SHA-256 mismatch: expected ${expected}, upload ${up.sha256}, offer ${offer.sha256}, download ${down.sha256}`;
    else if (!run.contentOk) run.error = `content check failed: downloaded ${down.timing.bytes} bytes, content ${down.contentOk ? 'equal' : 'different'}`;
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
  } finally {
    for (const c of children.reverse()) await c.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return run;
}

async function runRaw(kind: RawKind, s: FileSettings, expected: string, scratch: string, attempt: number, servePath: string): Promise<RawRun> {
  const run: RawRun = { kind, attempt };
  const target = kind === 'serve' ? '' : join(scratch, `raw-${kind}.bin`);
  const hash = kind === 'copy-sha' || kind === 'serve' ? '1' : '0';
  const children: FileChild[] = [];
  try {
    const receiver = new FileChild(`files-raw-receive-${kind}`, 'files-raw-process.ts', {
      BENCH_RAW_ROLE: 'receive', BENCH_RAW_HASH: hash, BENCH_RAW_FILE: target, BENCH_FILE_MIB: String(s.mib),
      BENCH_RAW_WRITE: kind === 'copy-stream' ? 'stream' : 'sync', BENCH_RAW_WS: kind === 'copy-ws' ? '1' : '0',
    });
    children.push(receiver);
    const { port } = await receiver.waitFor('listening', 30_000);
    const sender = new FileChild(`files-raw-send-${kind}`, 'files-raw-process.ts', {
      BENCH_RAW_ROLE: kind === 'serve' ? 'serve' : 'send', BENCH_RAW_HASH: kind === 'copy-sha' ? '1' : '0',
      BENCH_RAW_FILE: kind === 'serve' ? servePath : '', BENCH_RAW_PORT: String(port), BENCH_FILE_MIB: String(s.mib),
      BENCH_RAW_WS: kind === 'copy-ws' ? '1' : '0',
    });
    children.push(sender);
    await sender.waitFor('listening', 30_000);
    await sleep(300);
    const bench = new Set([process.pid, ...children.map((c) => c.pid ?? 0)]);
    const a = cpuSnapshot();
    sender.send({ type: 'go' });
    const [sent, received] = await Promise.all([sender.waitFor('rawDone', timeoutFor(s.mib)), receiver.waitFor('rawDone', timeoutFor(s.mib))]);
    const b = cpuSnapshot();
    run.seconds = (received.timing.end - sent.timing.start) / 1e6;
    run.rate = received.timing.bytes / MiB / run.seconds;
    run.sender = sent.figures;
    run.receiver = received.figures;
    run.machine = machineBetween(a, b, bench);
    run.contentOk = received.contentOk && received.timing.bytes === s.mib * MiB;
    run.sha256Ok = kind === 'copy' || kind === 'copy-stream' || kind === 'copy-ws' || ((kind === 'serve' || sent.sha256 === expected) && received.sha256 === expected);
    if (!run.contentOk) run.error = `the receiver got ${received.timing.bytes} bytes${received.contentOk ? '' : ', not the generated content'}`;
    else if (!run.sha256Ok) run.error = `SHA-256 mismatch: sender ${sent.sha256}, receiver ${received.sha256}, expected ${expected}`;
  } catch (error) {
    run.error = error instanceof Error ? error.message : String(error);
  } finally {
    for (const c of children) await c.stop();
    // raw-copy.bin stays for the download-shaped run; the scratch dir goes at the end.
    if (kind !== 'copy' && target) rmSync(target, { force: true });
  }
  return run;
}

/** Runs `attempt(n)` until it is clean (no error, other work under the limit), at most twice. */
async function clean<T extends { error?: string; machine?: FileMachine }>(
  s: FileSettings, label: string, log: (line: string) => void, attempt: (n: number) => Promise<T>, describe: (r: T) => string,
): Promise<T[]> {
  const runs: T[] = [];
  for (let n = 1; n <= 2; n++) {
    const busy = await waitForQuiet(n > 1 ? 15_000 : 10_000, 30);
    if (busy >= 30) log(`  the machine is busy before the run (${busy.toFixed(0)} % of one core): other work shares it`);
    const r = await attempt(n);
    runs.push(r);
    if (r.error) {
      log(`  ${label}: failed: ${r.error}`);
      continue;
    }
    const m = r.machine!;
    log(`  ${label}: ${describe(r)}; machine ${m.busyPct.toFixed(0)} % busy, other work ${m.foreignPct.toFixed(0)} %, load ${m.load1Start.toFixed(2)} → ${m.load1End.toFixed(2)}`);
    if (m.foreignPct <= s.maxForeign) break;
    log(`  disturbed: other work used ${m.foreignPct.toFixed(0)} % of a core (${m.otherTop})${n < 2 ? '; repeating' : ''}`);
  }
  return runs;
}

const f0 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '–');
const f2 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '–');
/** A ratio against the budget, rounded down: one shown as 0.50 has met 0.5. */
const r2 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? (Math.floor(x * 100) / 100).toFixed(2) : '–');

/** Runs the file-transfer bench; never throws (a failure is reported in the result). */
export async function runFilesBench(s: FileSettings, log: (line: string) => void): Promise<FilesResult> {
  const started = new Date();
  const t0 = Date.now();
  const scratch = mkdtempSync(join(tmpdir(), 'lanconf-files-bench-'));
  const result: FilesResult = {
    settings: s, started, durationS: 0, expectedSha256: '', scratch, loadStart: loadavg().map((x) => x.toFixed(2)).join(' '), lanconf: [], raw: [],
  };
  const cleanup = () => rmSync(scratch, { recursive: true, force: true });
  process.once('exit', cleanup);
  log(`lanconf file-transfer bench — ${s.mib} MiB over ${s.transports.join(', ')}, ${s.repeats} runs each, scratch ${scratch}, load ${result.loadStart}`);
  try {
    result.expectedSha256 = expectedSha256(s.mib);
    const servePath = join(scratch, 'raw-copy.bin');
    const raws = async (rep: number) => {
      for (const kind of RAW_KINDS) {
        if (kind === 'serve' && !existsSync(servePath)) continue;
        result.raw.push(...(await clean(s, RAW_LABELS[kind], log, (n) => runRaw(kind, s, result.expectedSha256, scratch, n, servePath),
          (r) => `${f0(r.rate)} MiB/s (${f2(r.seconds)} s), sender CPU ${f0(r.sender?.cpuPct)} %, receiver CPU ${f0(r.receiver?.cpuPct)} %`)).map((x) => ({ ...x, rep })));
      }
      rmSync(servePath, { force: true });
    };
    const lanconfs = async (rep: number) => {
      for (const transport of s.transports) {
        result.lanconf.push(...(await clean(s, `lanconf ${transport}`, log, (n) => runLanconf(transport, s, result.expectedSha256, scratch, n),
          (r) => `upload ${f0(r.upload?.rate)} MiB/s (relay CPU ${f0(r.upload?.relayCpuPct)} %, uploader ${f0(r.upload?.client.cpuPct)} %), download ${f0(r.download?.rate)} MiB/s (relay CPU ${f0(r.download?.relayCpuPct)} %, downloader ${f0(r.download?.client.cpuPct)} %), end to end ${f0(r.e2eRate)} MiB/s; relay RSS ${f0(r.relayStartMiB)} → peak ${f0(Math.max(r.upload?.relayPeakMiB ?? NaN, r.download?.relayPeakMiB ?? NaN))} → ${f0(r.relayEndMiB)} MiB`)).map((x) => ({ ...x, rep })));
      }
    };
    for (let rep = 1; rep <= s.repeats; rep++) {
      // Every other run the other way round, so that neither side always comes first after a pause or after the other.
      log(`run ${rep} of ${s.repeats}${rep % 2 === 0 ? ' (lanconf first)' : ''}`);
      if (rep % 2 === 0) {
        await lanconfs(rep);
        await raws(rep);
      } else {
        await raws(rep);
        await lanconfs(rep);
      }
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    log(`  file bench failed: ${result.error}`);
  } finally {
    cleanup();
    process.off('exit', cleanup);
  }
  result.durationS = (Date.now() - t0) / 1000;
  return result;
}

// ----------------------------------------------------------------------------------------------------- report

function median(xs: number[]): number {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** The runs that count: clean ones, or if none, the least disturbed successful one (marked †). */
function counted<T extends { error?: string; machine?: FileMachine }>(runs: T[], maxForeign: number): { runs: T[]; disturbed: boolean } {
  const ok = runs.filter((r) => !r.error);
  const quiet = ok.filter((r) => r.machine!.foreignPct <= maxForeign);
  if (quiet.length) return { runs: quiet, disturbed: false };
  const least = ok.sort((a, b) => a.machine!.foreignPct - b.machine!.foreignPct)[0];
  return { runs: least ? [least] : [], disturbed: !!least };
}

/** Median throughputs (MiB/s) of what counted. */
export function filesSummary(r: FilesResult): {
  raw: Record<RawKind, { rate: number; n: number; disturbed: boolean; runs: RawRun[] }>;
  lanconf: Array<{ transport: FileTransport; upload: number; download: number; e2e: number; n: number; disturbed: boolean; runs: LanconfRun[] }>;
} {
  const raw = {} as Record<RawKind, { rate: number; n: number; disturbed: boolean; runs: RawRun[] }>;
  for (const kind of RAW_KINDS) {
    const c = counted(r.raw.filter((x) => x.kind === kind), r.settings.maxForeign);
    raw[kind] = { rate: median(c.runs.map((x) => x.rate ?? NaN)), n: c.runs.length, disturbed: c.disturbed, runs: c.runs };
  }
  const lanconf = r.settings.transports.map((transport) => {
    const c = counted(r.lanconf.filter((x) => x.transport === transport), r.settings.maxForeign);
    return {
      transport, n: c.runs.length, disturbed: c.disturbed, runs: c.runs,
      upload: median(c.runs.map((x) => x.upload?.rate ?? NaN)),
      download: median(c.runs.map((x) => x.download?.rate ?? NaN)),
      e2e: median(c.runs.map((x) => x.e2eRate ?? NaN)),
    };
  });
  return { raw, lanconf };
}

/** Relay memory is flat: over each transfer, the last quarter's peak is within the allowance of the first quarter's. */
function flat(run: LanconfRun): boolean {
  const growth = (p: Phase | undefined) => (p ? p.relayLastQuarterMiB - p.relayFirstQuarterMiB : NaN);
  return growth(run.upload) <= FILES_BUDGET.flatGrowthMiB && growth(run.download) <= FILES_BUDGET.flatGrowthMiB;
}

const transportLabel = (t: FileTransport) => (t === 'native' ? 'lanconf, native TCP' : 'lanconf, WebSocket');
const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
/**
 * lanconf ÷ a baseline, run by run: each counted lanconf run against the counted baseline of the same
 * run of the bench (they ran back to back, so the VM's drift from one run to the next cancels out).
 * The budget is judged on the median; min and max show the spread.
 */
export function pairedRatios(
  r: FilesResult, l: { runs: LanconfRun[] }, kind: RawKind, dir: 'upload' | 'download',
): { median: number; min: number; max: number; n: number } {
  const baselines = counted(r.raw.filter((x) => x.kind === kind), r.settings.maxForeign).runs;
  const xs = l.runs.flatMap((run) => {
    const base = baselines.filter((b) => b.rep === run.rep).at(-1);
    const x = ratio(run[dir]?.rate ?? NaN, base?.rate ?? NaN);
    return Number.isFinite(x) ? [x] : [];
  });
  return { median: median(xs), min: xs.length ? Math.min(...xs) : NaN, max: xs.length ? Math.max(...xs) : NaN, n: xs.length };
}

/** Median, min and max of the relay's CPU seconds per GiB over a transport's counted runs, one direction. */
export function relayCpuPerGiB(l: { runs: LanconfRun[] }, dir: 'upload' | 'download'): { median: number; min: number; max: number } {
  const xs = l.runs.map((run) => run[dir]?.relayCpuSPerGiB ?? NaN).filter(Number.isFinite);
  return { median: median(xs), min: xs.length ? Math.min(...xs) : NaN, max: xs.length ? Math.max(...xs) : NaN };
}

/** Median CPU seconds per GiB of a baseline's receiver and sender over its counted runs. */
function rawCpuPerGiB(r: FilesResult, runs: RawRun[]): { receiver: number; sender: number } {
  const gib = r.settings.mib / 1024;
  return {
    receiver: median(runs.map((x) => (x.receiver?.cpuS ?? NaN) / gib)),
    sender: median(runs.map((x) => (x.sender?.cpuS ?? NaN) / gib)),
  };
}

/** The budget on one direction: the relay's CPU per GiB within it, and the loopback rate above the LAN's. */
function directionMet(cpuSPerGiB: number, rate: number): boolean {
  return Number.isFinite(cpuSPerGiB) && cpuSPerGiB <= MAX_RELAY_CPU_S_PER_GIB && rate >= LAN_MIB_S;
}

/** The verdicts, for run.ts's summary lines. */
export function filesBudgetLines(r: FilesResult): string[] {
  const sum = filesSummary(r);
  return sum.lanconf.map((l) => {
    const up = relayCpuPerGiB(l, 'upload').median;
    const down = relayCpuPerGiB(l, 'download').median;
    const mem = l.runs.length ? (l.runs.every(flat) ? 'flat' : 'NOT flat') : 'not measured';
    const met = (cpu: number, rate: number) => (directionMet(cpu, rate) ? 'met' : 'NOT met');
    return `Budget, files, ${transportLabel(l.transport)}: relay CPU ${f2(up)} s/GiB up (${f2(coresAtLan(up))} core at 118 MB/s, loopback ${f0(l.upload)} MiB/s) ${met(up, l.upload)}, `
      + `${f2(down)} s/GiB down (${f2(coresAtLan(down))} core, loopback ${f0(l.download)} MiB/s) ${met(down, l.download)}, relay memory ${mem}`;
  });
}

function observations(r: FilesResult): string[] {
  const out: string[] = [];
  const sum = filesSummary(r);
  for (const l of sum.lanconf) {
    for (const dir of ['upload', 'download'] as const) {
      const phases = l.runs.map((x) => x[dir]).filter((p): p is Phase => !!p);
      if (!phases.length) continue;
      const relay = median(phases.map((p) => p.relayCpuPct));
      const elu = median(phases.map((p) => p.relayElu));
      const client = median(phases.map((p) => p.client.cpuPct));
      const perGiB = relayCpuPerGiB(l, dir).median;
      const who = dir === 'upload' ? 'uploader' : 'downloader';
      let text = `**${transportLabel(l.transport)}, ${dir}:** ${f0(l[dir])} MiB/s; the relay used ${f0(relay)} % of a core (event loop busy ${f0(elu * 100)} % of the time), the ${who} ${f0(client)} %.`
        + ` That is ${f2(perGiB)} s of relay CPU per GiB: ${f2(coresAtLan(perGiB))} of a core at 1 Gbit/s (118 MB/s).`;
      if (relay + client > 150) {
        text += ` Together they keep ${f0((relay + client) / 2)} % of the machine's two cores busy: CPU is the limit, not waiting.`;
      }
      if (elu > 0.85) text += ' The relay\'s event loop is nearly always busy: it is the bottleneck.';
      else if (client > 85 && dir === 'download') text += ` The ${who} is nearly always on the CPU (reading the socket and hashing): the client side is the bottleneck.`;
      else if (relay > 85) {
        text += ` The relay's event loop is idle ${f0((1 - elu) * 100)} % of the time; the rest of its CPU is its other threads:`
          + (dir === 'upload' ? ' the store thread (writing and hashing each chunk) and' : ' libuv\'s pool (file reads) and')
          + ' V8\'s garbage-collector helpers.';
      } else if (relay + client <= 150) text += ' Neither process is saturated: the time goes to waiting (flow-control round trips, disk, the kernel), not to CPU.';
      out.push(text);
    }
  }
  const copy = sum.raw.copy.runs[0];
  if (copy?.receiver && copy.sender) {
    out.push(`**Raw TCP copy:** ${f0(sum.raw.copy.rate)} MiB/s with the sender at ${f0(copy.sender.cpuPct)} % and the receiver at ${f0(copy.receiver.cpuPct)} % of a core (first counted run);`
      + ` with SHA-256 on both ends ${f0(sum.raw['copy-sha'].rate)} MiB/s (hashing costs ${f0(100 * (1 - ratio(sum.raw['copy-sha'].rate, sum.raw.copy.rate)))} % of the raw speed on this CPU);`
      + ` the textbook streams version ${f0(sum.raw['copy-stream'].rate)} MiB/s. Against that one lanconf would read ${sum.lanconf.map((l) => `${f2(ratio(l.upload, sum.raw['copy-stream'].rate))} (upload) and ${f2(ratio(l.download, sum.raw['copy-stream'].rate))} (download) over ${l.transport === 'native' ? 'native TCP' : 'WebSocket'}`).join(', ')}.`);
  }
  const ws = sum.raw['copy-ws'];
  const lanWs = sum.lanconf.find((l) => l.transport === 'websocket');
  const lanNative = sum.lanconf.find((l) => l.transport === 'native');
  if (ws.n && lanWs?.n) {
    const wsCpu = rawCpuPerGiB(r, ws.runs);
    const tcpCpu = rawCpuPerGiB(r, sum.raw.copy.runs);
    out.push(`**WebSocket itself:** the same copy over one WebSocket (\`ws\` on both ends, as lanconf uses it, 256 KiB messages, no lanconf) runs at ${f0(ws.rate)} MiB/s,`
      + ` ${f2(ratio(ws.rate, sum.raw.copy.rate))} × the raw TCP copy; its receiver spends ${f2(wsCpu.receiver)} s of CPU per GiB against ${f2(tcpCpu.receiver)} s for the raw TCP copy's:`
      + ' `ws` joins each message that spans several socket reads into a new buffer, memory outside the JavaScript heap that V8 collects.'
      + ` lanconf over WebSocket reaches ${f2(ratio(lanWs.upload, ws.rate))} (upload) and ${f2(ratio(lanWs.download, ws.rate))} (download) of that copy`
      + (lanNative?.n ? `; its relay spends ${f2(relayCpuPerGiB(lanWs, 'upload').median)} / ${f2(relayCpuPerGiB(lanWs, 'download').median)} s per GiB (up / down) against ${f2(relayCpuPerGiB(lanNative, 'upload').median)} / ${f2(relayCpuPerGiB(lanNative, 'download').median)} s over native TCP.` : '.'));
  }
  return out;
}

/** The "File transfer" section of docs/performance.md. */
export function renderFilesSection(r: FilesResult): string {
  const s = r.settings;
  const sum = filesSummary(r);
  const L: string[] = [];
  const mark = (disturbed: boolean) => (disturbed ? ' †' : '');
  L.push('## File transfer');
  L.push('');
  L.push(`Generated by \`npm run bench\` (tests/bench/files.ts; \`BENCH_ONLY=files\` runs this part alone) on ${r.started.toISOString().replace('T', ' ').slice(0, 16)} UTC;`);
  L.push(`this part took ${Math.round(r.durationS)} s; load average ${r.loadStart} at its start. A ${s.mib} MiB file (\`BENCH_FILE_MIB\`), ${s.repeats} clean runs of each configuration (\`BENCH_FILE_REPEATS\`); the tables show medians.`);
  L.push('');
  if (r.error) {
    L.push(`**Not measured:** ${r.error.replace(/\|/g, '/')}`);
    L.push('');
  }
  L.push('### Method');
  L.push('');
  L.push('* **lanconf:** the relay runs alone in tests/bench/files-relay-process.ts (`new Relay({ host: \'127.0.0.1\', port: 0, tcpPort: 0, udpPort: 0,');
  L.push('  tls: \'off\', dataDir })`, a scratch data dir under os.tmpdir(), removed afterwards); an uploader and a downloader are two more');
  L.push('  processes (tests/bench/files-client-process.ts, `joinMeeting` from `lanconf/node`), as they would be two machines, so each');
  L.push('  one\'s CPU and memory are its own. Only one of them works at a time, so the relay and the working client have a core each,');
  L.push('  like the sender and receiver of the baseline.');
  L.push(`* **Upload:** \`files.send(stream, { name, size })\` of an async iterable that yields the same pseudo-random 1 MiB block ${s.mib} times`);
  L.push('  (never the whole file in memory), timed from the call until it resolves: the relay has written the whole file to');
  L.push('  `<dataDir>/files/partial/`, checked its SHA-256 and stored it under `files/sha256/`. **Download:** then `files.stream(id)`');
  L.push('  read as fast as it comes, timed until the stream ends (the SDK has verified the SHA-256); the downloader also compares every');
  L.push('  byte with the generated content, and the SHA-256 the relay computed must equal the bench\'s own. **End to end:** file size ÷');
  L.push('  (upload time + download time).');
  L.push('* **Baseline, the same job without lanconf** (tests/bench/files-raw-process.ts, plain Node, one process per end): a sender');
  L.push('  process generates the same bytes and writes them to a TCP socket on 127.0.0.1 (waiting for `drain`), a receiver process');
  L.push('  writes each chunk the socket delivers into a file on the same disk with `fs.writeSync`; timed from `connect()` to the file');
  L.push('  being closed. `writeSync` is the fastest plain Node way found; the textbook `pipeline(socket, fs.createWriteStream())` is');
  L.push('  slower, so it is shown but not used as the yardstick (it would flatter lanconf). A C `read`/`write` loop with 1 MiB buffers');
  L.push('  is faster still: the yardstick is what Node itself can do, not the machine\'s limit. The copy runs once plain and once with SHA-256 on both');
  L.push('  ends, which is what an upload does (the SDK hashes what it sends, the relay what it stores). The *ratio* is lanconf ÷ the plain');
  L.push('  raw copy (the budget before the LAN one) and, in brackets, ÷ the copy with SHA-256, taken run by run (each lanconf run against the');
  L.push('  baseline of the same run, done back to back with it) and then the median of those, so that the VM drifting between');
  L.push('  runs cancels out; the budget table shows the spread of the CPU figures. A last baseline has the shape of a download: the file');
  L.push('  the raw copy wrote, read 1 MiB at a time (`readSync`) into a socket; the receiver hashes every byte and checks it. And a');
  L.push('  raw WebSocket copy shows what WebSocket itself costs: the same bytes over one WebSocket (`ws` on both ends, the library the relay');
  L.push('  and the Node SDK use; 256 KiB binary messages, unmasked like the SDK\'s), each written with `fs.writeSync`.');
  L.push(`* **Relay CPU per GiB:** the relay process's CPU time (user + system, every thread: the event loop, the store thread, libuv's`);
  L.push('  pool, V8\'s helpers) between the marks around a transfer, ÷ the GiB moved. The budget is about a LAN, which loopback outruns:');
  L.push('  at 118 MB/s (a full 1 Gbit/s link) a relay spending *C* s per GiB is busy *C* × 118 MB/s ÷ 1 GiB of a core, so half a core');
  L.push(`  allows *C* ≤ ${f2(MAX_RELAY_CPU_S_PER_GIB)} s. The baselines show their receiver's and sender's CPU per GiB the same way.`);
  L.push('* Files land in the page cache (the machine has plenty of RAM; neither side calls fsync), for lanconf and the baseline alike;');
  L.push('  each is deleted as soon as its run is over. Each of the runs does the baselines and lanconf back to back, every other run');
  L.push('  lanconf first, so that neither side always runs after the other.');
  L.push('* **Memory:** the relay samples `process.memoryUsage()` every 100 ms. *Idle* is right after `listen()` (includes the tsx');
  L.push('  TypeScript loader), *start* just before the upload, *end* 1 s after the download. *Flat* means that over each transfer the');
  L.push(`  peak RSS of its last quarter is within ${FILES_BUDGET.flatGrowthMiB} MiB of the peak of its first quarter (memory that grew with the bytes`);
  L.push('  moved would show there); the peak over the start is listed too. Clients sample their own RSS the same way.');
  L.push(`* MiB/s = 2^20 bytes per second. Runs during which other user processes used more than ${s.maxForeign} % of a core are repeated once;`);
  L.push('  a row with no clean run shows the least disturbed one, marked †. The machine is a shared 2-core VM whose speed drifts from');
  L.push('  one hour to the next (the same raw copy has measured from about 600 to 1500 MiB/s on different runs of this bench): compare');
  L.push('  figures within one run of the bench, which is why the ratios are taken against baselines run alongside.');
  L.push('');
  L.push('### Throughput');
  L.push('');
  L.push('| Path | Upload MiB/s | Download MiB/s | End to end MiB/s | CPU s per GiB: relay up / down (baselines: receiver / sender) | Upload ÷ raw copy (÷ raw with SHA-256) | Download ÷ raw copy (÷ raw with SHA-256) | Download ÷ raw download shape |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const l of sum.lanconf) {
    if (!l.n) {
      const e = r.lanconf.filter((x) => x.transport === l.transport).at(-1)?.error ?? 'not run';
      L.push(`| ${transportLabel(l.transport)} | failed: ${e.replace(/\|/g, '/').slice(0, 200)} | | | | | | |`);
      continue;
    }
    L.push(`| ${transportLabel(l.transport)}${mark(l.disturbed)} | **${f0(l.upload)}** | **${f0(l.download)}** | ${f0(l.e2e)} | **${f2(relayCpuPerGiB(l, 'upload').median)} / ${f2(relayCpuPerGiB(l, 'download').median)}** | ${r2(pairedRatios(r, l, 'copy', 'upload').median)} (${r2(pairedRatios(r, l, 'copy-sha', 'upload').median)}) | ${r2(pairedRatios(r, l, 'copy', 'download').median)} (${r2(pairedRatios(r, l, 'copy-sha', 'download').median)}) | ${f2(ratio(l.download, sum.raw.serve.rate))} |`);
  }
  for (const kind of RAW_KINDS) {
    const x = sum.raw[kind];
    const cpu = rawCpuPerGiB(r, x.runs);
    L.push(`| ${RAW_LABELS[kind]}${mark(x.disturbed)} | ${f0(x.rate)} | | | ${f2(cpu.receiver)} / ${f2(cpu.sender)} | | | |`);
  }
  L.push('');
  L.push('### Budget');
  L.push('');
  L.push('DESIGN.md: *file transfer fills a 1 Gbit/s LAN (≥ 118 MB/s) over WebSocket and native with at most half a core on the relay;');
  L.push('memory flat whatever the file size.* Met in a direction when the relay\'s CPU per GiB is at most')
  L.push(`${f2(MAX_RELAY_CPU_S_PER_GIB)} s (half a core at 118 MB/s, see Method) and the loopback transfer runs faster than 118 MB/s (${LAN_MIB_S.toFixed(1)} MiB/s).`);
  L.push('');
  L.push('| Transport | Upload: relay CPU s per GiB, median (runs min–max) → cores at 118 MB/s | Download: the same | Loopback MiB/s up / down (≥ 112.5) | Relay memory flat (start → peak → end MiB) | Verdict |');
  L.push('|---|---|---|---|---|---|');
  for (const l of sum.lanconf) {
    const cu = relayCpuPerGiB(l, 'upload');
    const cd = relayCpuPerGiB(l, 'download');
    const isFlat = l.runs.length > 0 && l.runs.every(flat);
    const first = l.runs[0];
    const peak = first ? Math.max(first.upload?.relayPeakMiB ?? NaN, first.download?.relayPeakMiB ?? NaN) : NaN;
    const memText = first ? `${isFlat ? 'met' : '**not met**'} (${f0(first.relayStartMiB)} → ${f0(peak)} → ${f0(first.relayEndMiB)})` : 'not measured';
    const cpuText = (c: { median: number; min: number; max: number }, rate: number) => Number.isFinite(c.median)
      ? `${f2(c.median)} (${f2(c.min)}–${f2(c.max)}) → ${f2(coresAtLan(c.median))}: ${directionMet(c.median, rate) ? 'met' : '**not met**'}` : 'not measured';
    const all = directionMet(cu.median, l.upload) && directionMet(cd.median, l.download) && isFlat;
    L.push(`| ${transportLabel(l.transport)}${mark(l.disturbed)} | ${cpuText(cu, l.upload)} | ${cpuText(cd, l.download)} | ${f0(l.upload)} / ${f0(l.download)} | ${memText} | ${all ? 'met' : '**not met**'} |`);
  }
  L.push('');
  L.push('### Memory and CPU');
  L.push('');
  L.push('| Transport | Run | Relay RSS idle / start / end MiB | Upload: relay RSS peak (first ¼ → last ¼) MiB | Download: relay RSS peak (first ¼ → last ¼) MiB | Relay ArrayBuffers peak MiB (up / down) | Relay CPU % (event loop busy %) up / down | Uploader CPU % / RSS start → peak MiB | Downloader CPU % / RSS start → peak MiB | Other work % / load |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of r.lanconf) {
    if (run.error || !run.upload || !run.download) {
      L.push(`| ${transportLabel(run.transport)} | ${run.attempt} | failed: ${(run.error ?? '').replace(/\|/g, '/').slice(0, 160)} | | | | | | | |`);
      continue;
    }
    const u = run.upload;
    const d = run.download;
    const m = run.machine!;
    L.push(`| ${transportLabel(run.transport)} | ${r.lanconf.filter((x) => x.transport === run.transport).indexOf(run) + 1}${m.foreignPct > s.maxForeign ? ' (disturbed)' : ''} | ${f0(run.relayIdleMiB)} / ${f0(run.relayStartMiB)} / ${f0(run.relayEndMiB)} | ${f0(u.relayPeakMiB)} (${f0(u.relayFirstQuarterMiB)} → ${f0(u.relayLastQuarterMiB)}) | ${f0(d.relayPeakMiB)} (${f0(d.relayFirstQuarterMiB)} → ${f0(d.relayLastQuarterMiB)}) | ${f0(u.relayArrayBuffersPeakMiB)} / ${f0(d.relayArrayBuffersPeakMiB)} | ${f0(u.relayCpuPct)} (${f0(u.relayElu * 100)}) / ${f0(d.relayCpuPct)} (${f0(d.relayElu * 100)}) | ${f0(u.client.cpuPct)} / ${f0(u.client.rssStartMB)} → ${f0(u.client.rssPeakMB)} | ${f0(d.client.cpuPct)} / ${f0(d.client.rssStartMB)} → ${f0(d.client.rssPeakMB)} | ${f0(m.foreignPct)} / ${f2(m.load1Start)} → ${f2(m.load1End)} |`);
  }
  L.push('');
  L.push('| Baseline | Run | MiB/s | Seconds | Sender CPU % / RSS peak MiB | Receiver CPU % / RSS peak MiB | Other work % / load |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const run of r.raw) {
    if (run.error) {
      L.push(`| ${RAW_LABELS[run.kind]} | ${run.attempt} | failed: ${run.error.replace(/\|/g, '/').slice(0, 160)} | | | | |`);
      continue;
    }
    const m = run.machine!;
    L.push(`| ${RAW_LABELS[run.kind]} | ${r.raw.filter((x) => x.kind === run.kind).indexOf(run) + 1}${m.foreignPct > s.maxForeign ? ' (disturbed)' : ''} | ${f0(run.rate)} | ${f2(run.seconds)} | ${f0(run.sender?.cpuPct)} / ${f0(run.sender?.rssPeakMB)} | ${f0(run.receiver?.cpuPct)} / ${f0(run.receiver?.rssPeakMB)} | ${f0(m.foreignPct)} / ${f2(m.load1Start)} → ${f2(m.load1End)} |`);
  }
  L.push('');
  L.push('CPU % is of one core (the machine has two), over the transfer. *Event loop busy*: `performance.eventLoopUtilization()` of the');
  L.push('relay\'s main thread over the phase. *Other work*: user processes outside the bench, % of one core (other sessions share the machine).');
  L.push('');
  L.push('### Observations (generated from the figures above)');
  L.push('');
  for (const o of observations(r)) L.push(`* ${o}`);
  L.push('');
  return L.join('\n');
}
