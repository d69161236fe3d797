/**
 * The relay under test, alone in its own process so its CPU and memory are measured apart from the
 * clients. Started by run.ts with `node --import tsx tests/bench/relay-process.ts` and an IPC channel;
 * it can also run by hand (it prints its ports on stdout and runs until killed).
 *
 * Instrumentation (no change to the relay's code): `Room.prototype.forward` and `Connection.prototype.sendMedia`
 * are wrapped to take timestamps on the shared bench clock, so the relay's own share of the latency is
 * measured where it happens:
 *  - ingress  = capture time → the relay holds the whole frame and starts the fan-out;
 *  - handoff  = capture time → the frame is handed to one subscriber's socket (WS/TCP write or UDP send).
 * @module
 */
import { readFileSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { Relay } from '../../relay/Relay.js';
import { Connection, type ForwardedFrame } from '../../relay/Connection.js';
import { Room } from '../../relay/Room.js';
import { MediaOffset } from '../../sdk/protocol/index.js';
import { clock, onParent, toParent, type RelayFrameTimes, type RelayReport, type Window } from './common.js';

// Every client of the bench comes from 127.0.0.1: lift the per-address connection cap.
// Without TLS, UDP is sealed only when asked (BENCH_UDP_ENCRYPTION=1), as a relay with TLS seals it by default.
const relay = new Relay({
  host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'off', serveDemo: false, maxConnectionsPerAddress: 10_000,
  udpEncryption: process.env.BENCH_UDP_ENCRYPTION === '1',
});

let window: Window | undefined;
const ingress: number[] = [];
const handoff: number[] = [];
const fanout: number[] = [];
let queuedHandoffs = 0;
let maxBacklogBytes = 0;

const frames: RelayFrameTimes[] = [];
let current: RelayFrameTimes | undefined;

const originalForward = Room.prototype.forward;
Room.prototype.forward = function forward(this: Room, from, track, bytes, keyFrame, timestamp) {
  const w = window;
  if (!w || timestamp < w.windowStart || timestamp >= w.windowEnd) {
    originalForward.call(this, from, track, bytes, keyFrame, timestamp);
    return;
  }
  const start = clock();
  ingress.push(start - timestamp);
  const sequence = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(MediaOffset.sequence);
  current = { key: `${track.id}:${sequence}`, start, handoffs: [] };
  try {
    originalForward.call(this, from, track, bytes, keyFrame, timestamp);
  } finally {
    frames.push(current);
    arrivals.delete(current.key);
    current = undefined;
  }
  fanout.push(clock() - start);
};

// UDP only: when a frame's first datagram reached the relay's JavaScript (opened, when sealed), so the relay's
// own share (arrival → handoff) can be told apart from delays on the sender's side of the loopback hop.
const arrivals = new Map<string, number>();
const own: number[] = [];
const originalHandleUdp = Connection.prototype.handleUdp;
Connection.prototype.handleUdp = function handleUdp(this: Connection, bytes: Uint8Array) {
  if (window && bytes.byteLength >= 40) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const key = `${Buffer.from(bytes.buffer, bytes.byteOffset + MediaOffset.track, 8).toString('hex')}:${view.getUint32(MediaOffset.sequence)}`;
    if (!arrivals.has(key)) arrivals.set(key, clock());
  }
  originalHandleUdp.call(this, bytes);
};

const originalSendMedia = Connection.prototype.sendMedia;
Connection.prototype.sendMedia = function sendMedia(this: Connection, frame: ForwardedFrame) {
  const outcome = originalSendMedia.call(this, frame);
  const w = window;
  if (!w || outcome !== 'sent' || frame.timestamp < w.windowStart || frame.timestamp >= w.windowEnd) return outcome;
  const now = clock();
  handoff.push(now - frame.timestamp);
  current?.handoffs.push(now);
  const arrived = current ? arrivals.get(current.key) : undefined;
  if (arrived !== undefined) own.push(now - arrived);
  const queued = this.link.bufferedAmount;
  if (queued > 0) queuedHandoffs++;
  const backlog = this.backlog;
  if (backlog > maxBacklogBytes) maxBacklogBytes = backlog;
  return outcome;
};

/** Main thread's /proc schedstat: ns on CPU, ns waiting in the run queue, timeslices. */
function schedstat(): [number, number, number] {
  try {
    const [run, wait, slices] = readFileSync(`/proc/${process.pid}/task/${process.pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return [run ?? NaN, wait ?? NaN, slices ?? NaN];
  } catch {
    return [NaN, NaN, NaN];
  }
}

interface Snapshot {
  at: number;
  elu: EventLoopUtilization;
  sched: [number, number, number];
  cpu: NodeJS.CpuUsage;
  framesIn: number;
  framesOut: number;
  videoDropped: number;
  udpSendErrors: number;
  udpUnbound: number;
  peers: number;
}

function snapshot(): Snapshot {
  const s: Snapshot = {
    at: clock(), elu: performance.eventLoopUtilization(), sched: schedstat(), cpu: process.cpuUsage(), framesIn: 0, framesOut: 0, videoDropped: 0,
    udpSendErrors: relay.stats.udpSendErrors, udpUnbound: relay.stats.udpUnbound, peers: 0,
  };
  for (const room of relay.rooms.values()) {
    for (const peer of room.participants.values()) {
      s.peers++;
      s.framesIn += peer.stats.framesIn;
      s.framesOut += peer.stats.framesOut;
      s.videoDropped += peer.stats.videoDropped;
    }
  }
  return s;
}

function udpPeers(): { udpBoundPeers: number; udpPayloadSizes: number[] } {
  let udpBoundPeers = 0;
  const sizes = new Set<number>();
  for (const room of relay.rooms.values()) {
    for (const peer of room.participants.values()) {
      if (peer.connection?.udp?.address) {
        udpBoundPeers++;
        sizes.add(peer.connection!.udp!.payloadSize);
      }
    }
  }
  return { udpBoundPeers, udpPayloadSizes: [...sizes] };
}

let begin: Snapshot | undefined;
let end: Snapshot | undefined;
let rssMax = 0;
let rssTimer: ReturnType<typeof setInterval> | undefined;
const sampleRss = () => {
  rssMax = Math.max(rssMax, process.memoryUsage.rss());
};

const MB = 1024 * 1024;

const addresses = await relay.listen();
const rssIdle = process.memoryUsage.rss();
process.stdout.write(`RELAY_PORTS ${JSON.stringify({ port: addresses.port, tcpPort: addresses.tcpPort, udpPort: addresses.udpPort })}\n`);
toParent({ type: 'ready', port: addresses.port, tcpPort: addresses.tcpPort, udpPort: addresses.udpPort });

const shutdown = async () => {
  clearInterval(rssTimer);
  const timer = setTimeout(() => process.exit(0), 3000);
  timer.unref();
  await relay.close().catch(() => undefined);
  process.exit(0);
};
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());

onParent(async (message) => {
  switch (message.type) {
    case 'run':
      window = message.window;
      return;
    case 'begin':
      rssMax = 0;
      sampleRss();
      rssTimer = setInterval(sampleRss, 250);
      begin = snapshot();
      return;
    case 'end':
      clearInterval(rssTimer);
      sampleRss();
      end = snapshot();
      return;
    case 'report': {
      const b = begin ?? snapshot();
      const e = end ?? snapshot();
      const elapsedUs = Math.max(1, e.at - b.at);
      const user = e.cpu.user - b.cpu.user;
      const system = e.cpu.system - b.cpu.system;
      const mem = process.memoryUsage();
      const report: RelayReport = {
        elapsedS: elapsedUs / 1e6,
        cpuPct: ((user + system) / elapsedUs) * 100,
        cpuUserPct: (user / elapsedUs) * 100,
        cpuSystemPct: (system / elapsedUs) * 100,
        rssIdleMB: rssIdle / MB,
        rssMaxMB: rssMax / MB,
        rssEndMB: mem.rss / MB,
        heapUsedMB: mem.heapUsed / MB,
        framesIn: e.framesIn - b.framesIn,
        framesOut: e.framesOut - b.framesOut,
        videoDropped: e.videoDropped - b.videoDropped,
        udpSendErrors: e.udpSendErrors - b.udpSendErrors,
        udpUnbound: e.udpUnbound - b.udpUnbound,
        peers: Math.max(b.peers, e.peers),
        eventLoopUtilization: performance.eventLoopUtilization(e.elu, b.elu).utilization,
        runQueueWaitMs: (e.sched[1] - b.sched[1]) / 1e6,
        mainThreadSlices: e.sched[2] - b.sched[2],
        ...udpPeers(),
        ingress, handoff, fanout, frames, queuedHandoffs, maxBacklogBytes, own,
      };
      toParent({ type: 'relayReport', report });
      return;
    }
    case 'stop':
      await shutdown();
      return;
    default:
      return;
  }
});
