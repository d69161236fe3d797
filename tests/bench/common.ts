/**
 * Shared by the bench orchestrator (run.ts) and its child processes: the clock, the IPC messages and
 * small statistics helpers, and CPU snapshots of the machine.
 *
 * The clock: every process computes "µs since the Unix epoch" as CLOCK_MONOTONIC (process.hrtime,
 * system-wide on Linux) plus one offset chosen by the orchestrator and passed in BENCH_CLOCK_BASE.
 * So a capture timestamp taken in one process and a receive time taken in another are on the same
 * clock (to ~1 µs), which `performance.timeOrigin + performance.now()` does not guarantee across processes.
 * @module
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/** Monotonic µs (CLOCK_MONOTONIC), no offset. */
export function monoMicros(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

let base = Number(process.env.BENCH_CLOCK_BASE ?? NaN);
if (!Number.isFinite(base)) base = Date.now() * 1000 - monoMicros();

/** The offset this process uses (give it to children in BENCH_CLOCK_BASE). */
export const clockBase = base;

/** µs since the Unix epoch on the clock shared by every bench process. */
export function clock(): number {
  return monoMicros() + base;
}

/** Sleep. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Percentile (0..100) of an array of numbers, nearest-rank; NaN when empty. Sorts a copy. */
export function percentiles(values: readonly number[], ps: readonly number[]): number[] {
  if (values.length === 0) return ps.map(() => NaN);
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => {
    const rank = Math.ceil((p / 100) * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
  });
}

/** The measurement window, on the shared clock (µs). Frames whose capture time is in [start, end) count. */
export interface Window {
  /** First frame is sent at (about) this time. */
  sendStart: number;
  windowStart: number;
  windowEnd: number;
  /** Last frame is sent before this time. */
  sendEnd: number;
}

/** One window frame as the relay forwarded it: `${trackId}:${sequence}`, fan-out start, and each subscriber's handoff time. */
export interface RelayFrameTimes {
  key: string;
  start: number;
  handoffs: number[];
}

/** Relay-process results for one configuration. */
export interface RelayReport {
  /** Wall time between the `begin` and `end` marks (s). */
  elapsedS: number;
  /** CPU (user + system) over that time, in % of one core. */
  cpuPct: number;
  cpuUserPct: number;
  cpuSystemPct: number;
  /** RSS right after `listen()`, before anyone joined (includes the tsx loader, about 25 MB more than plain node). */
  rssIdleMB: number;
  rssMaxMB: number;
  rssEndMB: number;
  heapUsedMB: number;
  /** Summed over the peers of the meeting, between the marks. */
  framesIn: number;
  framesOut: number;
  videoDropped: number;
  udpSendErrors: number;
  udpUnbound: number;
  peers: number;
  /** Fraction of the window the relay's event loop was busy (0..1). */
  eventLoopUtilization: number;
  /** Time the relay's main thread was runnable but waiting for a CPU (Linux schedstat), and its number of timeslices. */
  runQueueWaitMs: number;
  mainThreadSlices: number;
  /** Peers whose media goes over UDP (native transport bound), and the payload sizes they asked for. */
  udpBoundPeers: number;
  udpPayloadSizes: number[];
  /** Capture → relay starts the fan-out (whole frame in hand), µs, one sample per window frame. */
  ingress: number[];
  /** Capture → frame handed to one subscriber's socket, µs, one sample per (window frame, subscriber). */
  handoff: number[];
  /** UDP only: the frame's first datagram reaching the relay's JavaScript → handed to a subscriber (ms): the relay's own share. */
  own?: number[];
  /** Duration of one fan-out (all subscribers), µs, per window frame. */
  fanout: number[];
  /** Per-frame times, joined with the senders' send times to get the relay-added latency. */
  frames: RelayFrameTimes[];
  /** Handoffs after which the subscriber's link still had bytes queued in the relay (WS/TCP). */
  queuedHandoffs: number;
  maxBacklogBytes: number;
}

/** One publisher's figures for the window. */
export interface PublisherReport {
  id: string;
  /** Frames the generator produced with a capture time in the window (sent + dropped by the sender). */
  offered: number;
  sent: number;
  senderDropped: number;
  /** Frame slots the generator skipped because its process was more than one period late. */
  generatorSkipped: number;
  /** Mean lateness of the generator's timer (ms): how far behind schedule the client process ran. */
  meanLateMs: number;
}

/** One subscriber's figures for the window. */
export interface SubscriberReport {
  id: string;
  /** Window frames received, by publisher id. */
  receivedFrom: Record<string, number>;
  duplicates: number;
}

/** Client-process results. */
export interface ClientReport {
  publishers: PublisherReport[];
  subscribers: SubscriberReport[];
  /** Capture → `frame` event at the subscriber, µs, every window frame received. */
  latencies: number[];
  /** For every window frame sent: `${trackId}:${sequence}`, and when `LocalTrack.send()` returned (shared clock, µs). */
  sendKeys: string[];
  sendDone: number[];
  /** `send()` return − capture timestamp, µs (SDK encode + transport send in the client). */
  sendCost: number[];
  cpuPct: number;
  rssMaxMB: number;
  errors: string[];
}

/** Orchestrator → child messages. */
export type ToChild =
  | { type: 'join' }
  | { type: 'publish' }
  | { type: 'run'; window: Window }
  | { type: 'begin' }
  | { type: 'end' }
  | { type: 'report' }
  | { type: 'stop' };

/** Child → orchestrator messages. */
export type FromChild =
  | { type: 'hello' }
  | { type: 'ready'; port: number; tcpPort: number; udpPort: number }
  | { type: 'joined'; ids: string[] }
  | { type: 'subscribed' }
  | { type: 'relayReport'; report: RelayReport }
  | { type: 'clientReport'; report: ClientReport }
  | { type: 'fatal'; message: string };

/** Sends an IPC message to the parent (no-op when there is no IPC channel). */
export function toParent<M extends { type: string } = FromChild>(message: M): void {
  if (process.send && process.connected) process.send(message);
}

/** Calls `handler` for each message from the parent; exits when the parent goes away. */
export function onParent<M = ToChild>(handler: (message: M) => void | Promise<void>): void {
  process.on('message', (message) => {
    Promise.resolve(handler(message as M)).catch((error: unknown) => {
      toParent({ type: 'fatal', message: error instanceof Error ? error.stack ?? error.message : String(error) });
    });
  });
  process.on('disconnect', () => process.exit(0));
}

/** CPU counters of the whole machine (`/proc/stat`) and of every process, at one moment (Linux). */
export interface CpuSnapshot {
  /** The first `cpu` line of /proc/stat: user, nice, system, idle, iowait, irq, softirq, steal. */
  fields: number[];
  /** Per process: name, parent, user + system ticks. */
  procs: Map<number, { comm: string; ppid: number; ticks: number }>;
  /** Date.now() when taken. */
  at: number;
  /** The 1-minute load average then. */
  load1: number;
}

/** Takes a {@link CpuSnapshot}. */
export function cpuSnapshot(): CpuSnapshot {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const procs = new Map<number, { comm: string; ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const rest = text.slice(close + 2).split(' ');
      procs.set(Number(name), { comm: text.slice(text.indexOf('(') + 1, close), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // exited meanwhile
    }
  }
  return { fields, procs, at: Date.now(), load1: loadavg()[0]! };
}
