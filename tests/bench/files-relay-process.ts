/**
 * The relay of the file-transfer bench, alone in its own process so its memory and CPU are its own.
 * Started by files.ts (`node --import tsx tests/bench/files-relay-process.ts`, IPC channel) with
 * BENCH_FILE_DATA_DIR, a scratch data dir the orchestrator made under os.tmpdir() and removes afterwards.
 *
 * It samples its memory every 100 ms from the moment it listens until it is stopped, and records its CPU
 * time and event-loop activity at the marks the orchestrator sets (before the upload, between upload and
 * download, after the download). The relay's code is not touched.
 *
 * Diagnosis: with BENCH_RELAY_DIAG=<file>, each mark also appends to that file the CPU time of every
 * thread of the process (from /proc, Linux; V8's helper threads, libuv's pool and the store thread
 * show apart) and the garbage collections so far by kind. It found the collections that a fresh
 * buffer per chunk caused.
 * @module
 */
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { PerformanceObserver, constants, performance } from 'node:perf_hooks';
import { Relay } from '../../relay/Relay.js';
import { clock } from './common.js';
import { memorySampler, onOrchestrator, toOrchestrator, type FileRelayReport } from './files-common.js';

const dataDir = process.env.BENCH_FILE_DATA_DIR;
if (!dataDir) throw new Error('BENCH_FILE_DATA_DIR is not set');

const diagFile = process.env.BENCH_RELAY_DIAG;
const collections: Record<string, { count: number; ms: number }> = {};
if (diagFile) {
  const kinds: Record<number, string> = {
    [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major', [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
  };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = kinds[(entry as unknown as { detail: { kind: number } }).detail.kind] ?? 'other';
      const c = (collections[kind] ??= { count: 0, ms: 0 });
      c.count++;
      c.ms += entry.duration;
    }
  }).observe({ entryTypes: ['gc'] });
}

/** One line: `label` and, per thread, `name:tid=<CPU ticks>` (1/100 s), then the collections. */
function diagnose(label: string): void {
  if (!diagFile) return;
  const threads = readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim()}:${tid}=${Number(fields[11]) + Number(fields[12])}`;
  });
  appendFileSync(diagFile, `${process.pid} ${label} ${threads.join(' ')} gc ${JSON.stringify(collections)}\n`);
}

const relay = new Relay({ host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'off', serveDemo: false, dataDir });
const addresses = await relay.listen();
const idleRss = process.memoryUsage.rss();
const memory = memorySampler(clock, 100);
const marks: FileRelayReport['marks'] = [];

const shutdown = async () => {
  memory.stop();
  const timer = setTimeout(() => process.exit(0), 3000);
  timer.unref();
  await relay.close().catch(() => undefined);
  // A normal exit, so that --cpu-prof writes its profile.
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

onOrchestrator(async (message) => {
  switch (message.type) {
    case 'mark': {
      diagnose(message.label);
      const cpu = process.cpuUsage();
      marks.push({ label: message.label, t: clock(), cpuUs: cpu.user + cpu.system, eluActive: performance.eventLoopUtilization().active });
      toOrchestrator({ type: 'marked', label: message.label });
      return;
    }
    case 'report':
      toOrchestrator({ type: 'relayReport', report: { idleRssMB: idleRss / (1024 * 1024), samples: memory.samples, marks } });
      return;
    case 'stop':
      await shutdown();
      return;
    default:
      return;
  }
});
toOrchestrator({ type: 'ready', port: addresses.port, tcpPort: addresses.tcpPort, udpPort: addresses.udpPort });
