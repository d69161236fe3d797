/**
 * The relay of the file-transfer bench, alone in its own process so its memory and CPU are its own.
 * Started by files.ts (`node --import tsx tests/bench/files-relay-process.ts`, IPC channel) with
 * BENCH_FILE_DATA_DIR, a scratch data dir the orchestrator made under os.tmpdir() and removes afterwards.
 *
 * It samples its memory every 100 ms from the moment it listens until it is stopped, and records its CPU
 * time and event-loop activity at the marks the orchestrator sets (before the upload, between upload and
 * download, after the download). The relay's code is not touched.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { Relay } from '../../relay/Relay.js';
import { clock } from './common.js';
import { memorySampler, onOrchestrator, toOrchestrator, type FileRelayReport } from './files-common.js';

const dataDir = process.env.BENCH_FILE_DATA_DIR;
if (!dataDir) throw new Error('BENCH_FILE_DATA_DIR is not set');

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
