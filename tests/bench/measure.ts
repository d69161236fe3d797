/**
 * Runs one configuration (transport × participants): a relay process, one or two client processes,
 * a warm-up, a measurement window, a drain; collects and summarises the figures.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Child } from './children.js';
import { clock, cpuSnapshot, percentiles, sleep, type ClientReport, type CpuSnapshot, type RelayReport, type Window } from './common.js';

/** A transport variant of the bench. */
export interface Variant {
  key: 'websocket' | 'udp' | 'udp-mtu' | 'udp-clear' | 'udp-mtu-clear';
  label: string;
  transport: 'websocket' | 'native';
  udpPayloadSize?: number;
  /** Native UDP sealed with AES-128-GCM (`udpEncryption`), as a relay with TLS does by default. */
  udpEncryption?: boolean;
  /** Meeting sizes run for this variant (default: every size of the pass). */
  sizes?: readonly number[];
}

export const VARIANTS: readonly Variant[] = [
  { key: 'websocket', label: 'WebSocket', transport: 'websocket' },
  { key: 'udp', label: 'UDP 60000 B', transport: 'native', udpEncryption: true },
  { key: 'udp-mtu', label: 'UDP 1200 B (MTU-safe)', transport: 'native', udpPayloadSize: 1200, udpEncryption: true },
  // The cost of encryption: the same two without it, at the sizes where it shows.
  { key: 'udp-clear', label: 'UDP 60000 B, not encrypted', transport: 'native', udpEncryption: false, sizes: [8, 16] },
  { key: 'udp-mtu-clear', label: 'UDP 1200 B (MTU-safe), not encrypted', transport: 'native', udpPayloadSize: 1200, udpEncryption: false, sizes: [8, 16] },
];

export interface Settings {
  seconds: number;
  warmupSeconds: number;
  drainSeconds: number;
  frameBytes: number;
  fps: number;
  clientProcesses: number;
  /** Niceness of the client processes (0: same priority as the relay). */
  clientNice: number;
  /** CPUs the client processes are pinned to (`taskset -c`), or undefined for all. */
  clientCpus?: string;
}

/** Summary of one configuration. */
export interface ConfigResult {
  variant: Variant;
  n: number;
  error?: string;
  clientProcesses: number;
  /** Frames offered by publishers in the window (sent + dropped at the sender). */
  offered: number;
  sent: number;
  senderDropped: number;
  generatorSkipped: number;
  meanGeneratorLateMs: number;
  /** Σ over subscribers of frames expected (offered by the others) and received. */
  expected: number;
  expectedSent: number;
  received: number;
  duplicates: number;
  /** Worst subscriber: received / expected. */
  minSubscriberRatio: number;
  /** Subscribers that received every frame offered to them. */
  completeSubscribers: number;
  subscribers: number;
  e2e: LatencySummary;
  /** Capture → relay hands the frame to the subscriber's socket (upper bound: includes the sender). */
  relayHandoff: LatencySummary;
  /** UDP: datagram arrival at the relay → handoff (the relay's own share of relay-added). */
  relayOwn: LatencySummary;
  /** Sender's `send()` returned → relay hands the frame to the subscriber's socket: the relay-added latency. */
  relayAdded: LatencySummary;
  /** Capture → sender's `send()` returned. */
  sendCost: LatencySummary;
  relayIngress: LatencySummary;
  relayFanout: LatencySummary;
  relay?: Omit<RelayReport, 'ingress' | 'handoff' | 'fanout' | 'frames'>;
  clientCpuPct: number[];
  clientRssMB: number[];
  /** Whole machine, from /proc/stat over the window: busy % of one core (max = 100 × cores). */
  machineBusyPct: number;
  machine?: MachineCpu;
  /**
   * CPU used during the window by something other than the bench (% of one core): machine busy − softirq − relay − clients.
   * Other work on a shared machine; a high figure means the run was disturbed.
   */
  foreignPct: number;
  /** Runs of this configuration, including disturbed or failed ones that were repeated. */
  attempts: number;
  /** Headline figures of every clean run of this configuration (this one first). */
  repeats: Array<{ relayAddedP99: number; e2eP99: number; received: number; expected: number; foreignPct: number }>;
  /** Niceness of the client processes (the relay runs at 0). */
  clientNice: number;
  /** CPUs the clients were pinned to, if any. */
  clientCpus?: string;
  /** Kernel UDP counters (deltas over the window + drain). */
  udpRcvbufErrors: number;
  udpSndbufErrors: number;
  clientErrors: string[];
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

function summarize(values: number[]): LatencySummary {
  const [p50, p99, max] = percentiles(values, [50, 99, 100]);
  return { count: values.length, p50: p50! / 1000, p99: p99! / 1000, max: max! / 1000 };
}


/** CPU use of the whole machine between two snapshots, in % of one core. */
export interface MachineCpu {
  busyPct: number;
  userPct: number;
  systemPct: number;
  softirqPct: number;
  stealPct: number;
  /** Processes other than the bench's (orchestrator, relay, clients). */
  otherProcessesPct: number;
  otherTop: string;
}

function machineCpu(a: CpuSnapshot, b: CpuSnapshot, benchPids: Set<number>): MachineCpu {
  const d = b.fields.map((x, i) => x - (a.fields[i] ?? 0));
  const total = d.reduce((x, y) => x + y, 0) || 1;
  const cores = cpuCount();
  const of = (ticks: number) => (ticks / total) * 100 * cores;
  const idle = (d[3] ?? 0) + (d[4] ?? 0);
  const elapsedTicks = ((b.at - a.at) / 1000) * CLK_TCK;
  const others: Array<{ comm: string; pct: number }> = [];
  for (const [pid, p] of b.procs) {
    if (benchPids.has(pid)) continue;
    const before = a.procs.get(pid)?.ticks ?? p.ticks;
    const ticks = p.ticks - before;
    if (ticks > 0) others.push({ comm: p.comm, pct: (ticks / elapsedTicks) * 100 });
  }
  others.sort((x, y) => y.pct - x.pct);
  return {
    busyPct: of(total - idle),
    userPct: of((d[0] ?? 0) + (d[1] ?? 0)),
    systemPct: of(d[2] ?? 0),
    softirqPct: of((d[5] ?? 0) + (d[6] ?? 0)),
    stealPct: of(d[7] ?? 0),
    otherProcessesPct: others.reduce((x, y) => x + y.pct, 0),
    otherTop: others.slice(0, 3).map((o) => `${o.comm} ${o.pct.toFixed(0)} %`).join(', '),
  };
}

const CLK_TCK = 100;

function udpCounters(): { rcvbuf: number; sndbuf: number } {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/).map(Number);
    return { rcvbuf: values[names.indexOf('RcvbufErrors')] ?? 0, sndbuf: values[names.indexOf('SndbufErrors')] ?? 0 };
  } catch {
    return { rcvbuf: NaN, sndbuf: NaN };
  }
}

function emptyResult(variant: Variant, n: number, clientProcesses: number, error?: string): ConfigResult {
  const none = { count: 0, p50: NaN, p99: NaN, max: NaN };
  return {
    variant, n, clientProcesses, ...(error ? { error } : {}),
    offered: 0, sent: 0, senderDropped: 0, generatorSkipped: 0, meanGeneratorLateMs: NaN, expected: 0, expectedSent: 0,
    received: 0, duplicates: 0, minSubscriberRatio: NaN, completeSubscribers: 0, subscribers: 0,
    e2e: none, relayHandoff: none, relayOwn: none, relayAdded: none, sendCost: none, relayIngress: none, relayFanout: none, clientCpuPct: [], clientRssMB: [],
    machineBusyPct: NaN, foreignPct: NaN, attempts: 1, repeats: [], clientNice: 0, udpRcvbufErrors: NaN, udpSndbufErrors: NaN, clientErrors: [],
  };
}

/** Runs one configuration; never throws (a failure is reported in `error`). */
export async function runConfig(variant: Variant, n: number, s: Settings, log: (line: string) => void): Promise<ConfigResult> {
  const procs = Math.max(1, Math.min(s.clientProcesses, n));
  const children: Child[] = [];
  const hardLimitMs = (s.warmupSeconds + s.seconds + s.drainSeconds) * 1000 + 90_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`configuration exceeded ${Math.round(hardLimitMs / 1000)} s`)), hardLimitMs);
  });
  try {
    return await Promise.race([measure(variant, n, procs, s, children, log), limit]);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  FAILED: ${message}`);
    return emptyResult(variant, n, procs, message);
  } finally {
    clearTimeout(timer);
    await Promise.all(children.map((c) => c.stop()));
  }
}

async function measure(variant: Variant, n: number, procs: number, s: Settings, children: Child[], log: (line: string) => void): Promise<ConfigResult> {
  const relay = new Child('relay', 'relay-process.ts', { BENCH_UDP_ENCRYPTION: variant.udpEncryption ? '1' : '0' });
  children.push(relay);
  const ready = await relay.waitFor('ready', 20_000);
  const url = `http://127.0.0.1:${ready.port}`;

  const groups: number[][] = Array.from({ length: procs }, () => []);
  for (let i = 0; i < n; i++) groups[i % procs]!.push(i);
  const clients = groups.map((indices, k) => new Child(`clients#${k}`, 'client-process.ts', {
    BENCH_URL: url,
    BENCH_TRANSPORT: variant.transport,
    ...(variant.udpPayloadSize ? { BENCH_UDP_PAYLOAD: String(variant.udpPayloadSize) } : {}),
    BENCH_INDICES: indices.join(','),
    BENCH_N: String(n),
    BENCH_FRAME_BYTES: String(s.frameBytes),
    BENCH_FPS: String(s.fps),
    BENCH_MEETING: 'bench',
    BENCH_NICE: String(s.clientNice),
  }, s.clientCpus));
  children.push(...clients);
  await Promise.all(clients.map((c) => c.waitFor('hello', 20_000)));
  // One process after the other, so the set-up is the same on every run.
  for (const c of clients) {
    c.send({ type: 'join' });
    await c.waitFor('joined', 30_000);
  }
  for (const c of clients) c.send({ type: 'publish' });
  await Promise.all(clients.map((c) => c.waitFor('subscribed', 30_000)));

  const sendStart = clock() + 300_000;
  const window: Window = {
    sendStart,
    windowStart: sendStart + s.warmupSeconds * 1e6,
    windowEnd: sendStart + (s.warmupSeconds + s.seconds) * 1e6,
    sendEnd: sendStart + (s.warmupSeconds + s.seconds) * 1e6,
  };
  relay.send({ type: 'run', window });
  for (const c of clients) c.send({ type: 'run', window });
  log(`  sending for ${s.warmupSeconds + s.seconds} s (${s.warmupSeconds} s warm-up)…`);

  await sleep((window.windowStart - clock()) / 1000);
  relay.send({ type: 'begin' });
  const cpu0 = cpuSnapshot();
  const udp0 = udpCounters();
  await sleep((window.windowEnd - clock()) / 1000);
  relay.send({ type: 'end' });
  const cpu1 = cpuSnapshot();
  await sleep(s.drainSeconds * 1000);
  const udp1 = udpCounters();

  relay.send({ type: 'report' });
  for (const c of clients) c.send({ type: 'report' });
  const [relayReport, ...clientReports] = await Promise.all([
    relay.waitFor('relayReport', 30_000).then((m) => m.report),
    ...clients.map((c) => c.waitFor('clientReport', 30_000).then((m) => m.report)),
  ]);
  const benchPids = new Set([process.pid, ...children.map((c) => c.proc.pid ?? -1)]);
  const machine = machineCpu(cpu0, cpu1, benchPids);
  if (process.env.BENCH_DUMP) {
    const file = join(process.env.BENCH_DUMP, `${variant.key}-${n}-nice${s.clientNice}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ window, relay: relayReport, clients: clientReports }));
    log(`  raw figures: ${file}`);
  }
  return summarise(variant, n, procs, relayReport!, clientReports as ClientReport[], {
    machine, machineBusyPct: machine.busyPct, clientNice: s.clientNice, ...(s.clientCpus ? { clientCpus: s.clientCpus } : {}),
    udpRcvbufErrors: udp1.rcvbuf - udp0.rcvbuf,
    udpSndbufErrors: udp1.sndbuf - udp0.sndbuf,
  });
}

/**
 * Waits (up to `maxMs`) until the machine is quiet: busy under `thresholdPct` % of one core over half a second.
 * Returns the last busy figure seen.
 */
export async function waitForQuiet(maxMs: number, thresholdPct: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = NaN;
  do {
    const a = cpuSnapshot();
    await sleep(500);
    const b = cpuSnapshot();
    busy = machineCpu(a, b, new Set()).busyPct;
    if (busy < thresholdPct) break;
  } while (Date.now() < deadline);
  return busy;
}

function cpuCount(): number {
  return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length || 1;
}

function summarise(
  variant: Variant, n: number, procs: number, relay: RelayReport, clients: ClientReport[],
  machine: { machine: MachineCpu; machineBusyPct: number; clientNice: number; clientCpus?: string; udpRcvbufErrors: number; udpSndbufErrors: number },
): ConfigResult {
  const r = emptyResult(variant, n, procs);
  Object.assign(r, machine);
  const pubs = clients.flatMap((c) => c.publishers);
  const subs = clients.flatMap((c) => c.subscribers);
  let lateSum = 0;
  for (const p of pubs) {
    r.offered += p.offered;
    r.sent += p.sent;
    r.senderDropped += p.senderDropped;
    r.generatorSkipped += p.generatorSkipped;
    lateSum += p.meanLateMs;
  }
  r.meanGeneratorLateMs = pubs.length ? lateSum / pubs.length : NaN;
  let minRatio = Infinity;
  for (const sub of subs) {
    let expected = 0;
    let expectedSent = 0;
    let received = 0;
    for (const p of pubs) {
      if (p.id === sub.id) continue;
      expected += p.offered;
      expectedSent += p.sent;
      received += Math.min(p.offered, sub.receivedFrom[p.id] ?? 0);
    }
    r.expected += expected;
    r.expectedSent += expectedSent;
    r.received += received;
    r.duplicates += sub.duplicates;
    if (received >= expected) r.completeSubscribers++;
    minRatio = Math.min(minRatio, expected ? received / expected : 1);
  }
  r.subscribers = subs.length;
  r.minSubscriberRatio = Number.isFinite(minRatio) ? minRatio : NaN;
  r.e2e = summarize(clients.flatMap((c) => c.latencies));
  r.relayHandoff = summarize(relay.handoff);
  r.relayOwn = summarize(relay.own ?? []);
  r.relayIngress = summarize(relay.ingress);
  r.relayFanout = summarize(relay.fanout);
  const sent = new Map<string, number>();
  for (const c of clients) c.sendKeys.forEach((key, i) => sent.set(key, c.sendDone[i]!));
  const added: number[] = [];
  for (const frame of relay.frames) {
    const done = sent.get(frame.key);
    if (done === undefined) continue;
    for (const h of frame.handoffs) added.push(h - done);
  }
  r.relayAdded = summarize(added);
  r.sendCost = summarize(clients.flatMap((c) => c.sendCost));
  const { ingress: _i, handoff: _h, fanout: _f, frames: _fr, ...rest } = relay;
  r.relay = rest;
  r.clientCpuPct = clients.map((c) => c.cpuPct);
  r.clientRssMB = clients.map((c) => c.rssMaxMB);
  r.clientErrors = clients.flatMap((c) => c.errors);
  r.foreignPct = Math.max(0, machine.machine.busyPct - machine.machine.softirqPct - relay.cpuPct - r.clientCpuPct.reduce((a, b) => a + b, 0));
  return r;
}
