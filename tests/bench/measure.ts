/**
 * Runs one configuration (transport × participants): a relay process, one or two client processes,
 * a warm-up, a measurement window, a drain; collects and summarises the figures.
 * @module
 */
import { readFileSync } from 'node:fs';
import { Child } from './children.js';
import { clock, percentiles, sleep, type ClientReport, type RelayReport, type Window } from './common.js';

/** A transport variant of the bench. */
export interface Variant {
  key: 'websocket' | 'udp' | 'udp-mtu';
  label: string;
  transport: 'websocket' | 'native';
  udpPayloadSize?: number;
}

export const VARIANTS: readonly Variant[] = [
  { key: 'websocket', label: 'WebSocket', transport: 'websocket' },
  { key: 'udp', label: 'UDP 60000 B', transport: 'native' },
  { key: 'udp-mtu', label: 'UDP 1200 B (MTU-safe)', transport: 'native', udpPayloadSize: 1200 },
];

export interface Settings {
  seconds: number;
  warmupSeconds: number;
  drainSeconds: number;
  frameBytes: number;
  fps: number;
  clientProcesses: number;
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
  relayHandoff: LatencySummary;
  relayIngress: LatencySummary;
  relayFanout: LatencySummary;
  relay?: Omit<RelayReport, 'ingress' | 'handoff' | 'fanout'>;
  clientCpuPct: number[];
  clientRssMB: number[];
  /** Whole machine, from /proc/stat over the window: busy % of one core (max = 100 × cores). */
  machineBusyPct: number;
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

function cpuTimes(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
}

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
    e2e: none, relayHandoff: none, relayIngress: none, relayFanout: none, clientCpuPct: [], clientRssMB: [],
    machineBusyPct: NaN, udpRcvbufErrors: NaN, udpSndbufErrors: NaN, clientErrors: [],
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
  const relay = new Child('relay', 'relay-process.ts', {});
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
  }));
  children.push(...clients);
  await Promise.all(clients.map((c) => c.waitFor('joined', 30_000)));
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
  const cpu0 = cpuTimes();
  const udp0 = udpCounters();
  await sleep((window.windowEnd - clock()) / 1000);
  relay.send({ type: 'end' });
  const cpu1 = cpuTimes();
  await sleep(s.drainSeconds * 1000);
  const udp1 = udpCounters();

  relay.send({ type: 'report' });
  for (const c of clients) c.send({ type: 'report' });
  const [relayReport, ...clientReports] = await Promise.all([
    relay.waitFor('relayReport', 30_000).then((m) => m.report),
    ...clients.map((c) => c.waitFor('clientReport', 30_000).then((m) => m.report)),
  ]);
  return summarise(variant, n, procs, relayReport!, clientReports as ClientReport[], {
    machineBusyPct: cpu1.total > cpu0.total ? ((cpu1.busy - cpu0.busy) / (cpu1.total - cpu0.total)) * 100 * cpuCount() : NaN,
    udpRcvbufErrors: udp1.rcvbuf - udp0.rcvbuf,
    udpSndbufErrors: udp1.sndbuf - udp0.sndbuf,
  });
}

function cpuCount(): number {
  return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length || 1;
}

function summarise(
  variant: Variant, n: number, procs: number, relay: RelayReport, clients: ClientReport[],
  machine: { machineBusyPct: number; udpRcvbufErrors: number; udpSndbufErrors: number },
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
  r.relayIngress = summarize(relay.ingress);
  r.relayFanout = summarize(relay.fanout);
  const { ingress: _i, handoff: _h, fanout: _f, ...rest } = relay;
  r.relay = rest;
  r.clientCpuPct = clients.map((c) => c.cpuPct);
  r.clientRssMB = clients.map((c) => c.rssMaxMB);
  r.clientErrors = clients.flatMap((c) => c.errors);
  return r;
}
