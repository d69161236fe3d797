/**
 * A bench client process: joins some of the meeting's participants (BENCH_INDICES), each publishing
 * one camera track of JPEG-sized random frames at BENCH_FPS and subscribing to every other track.
 * Driven by run.ts over IPC; see common.ts for the messages.
 *
 * Environment: BENCH_URL, BENCH_TRANSPORT (websocket | native), BENCH_UDP_PAYLOAD (optional),
 * BENCH_INDICES (comma-separated global participant indices), BENCH_N, BENCH_FRAME_BYTES, BENCH_FPS,
 * BENCH_CLOCK_BASE, BENCH_MEETING.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { setPriority } from 'node:os';
import { joinMeeting, type LocalTrack, type RemoteTrack, type Session } from '../../sdk/node.js';
import {
  clock, onParent, sleep, toParent, type ClientReport, type PublisherReport, type SubscriberReport, type Window,
} from './common.js';

const env = process.env;
const url = env.BENCH_URL ?? '';
const transport = env.BENCH_TRANSPORT === 'native' ? 'native' : 'websocket';
const udpPayloadSize = env.BENCH_UDP_PAYLOAD ? Number(env.BENCH_UDP_PAYLOAD) : undefined;
const indices = (env.BENCH_INDICES ?? '0').split(',').map(Number);
const total = Number(env.BENCH_N ?? indices.length);
const frameBytes = Number(env.BENCH_FRAME_BYTES ?? 30000);
const fps = Number(env.BENCH_FPS ?? 25);
const meeting = env.BENCH_MEETING ?? 'bench';
const period = 1e6 / fps;
const nice = Number(env.BENCH_NICE ?? 0);
// A positive niceness lets the relay have the CPU whenever it is runnable, as if the clients were elsewhere.
if (nice) setPriority(nice);

interface Participant {
  index: number;
  session: Session;
  track?: LocalTrack;
  data: Uint8Array;
  pub: PublisherReport;
  sub: SubscriberReport;
  lateSum: number;
  lateCount: number;
  seen: Map<string, Set<number>>;
}

const participants: Participant[] = [];
const latencies: number[] = [];
const sendKeys: string[] = [];
const sendDone: number[] = [];
const sendCost: number[] = [];
const errors: string[] = [];
let window: Window | undefined;
let cpuStart: { at: number; cpu: NodeJS.CpuUsage } | undefined;
let cpuEnd: { at: number; cpu: NodeJS.CpuUsage } | undefined;
let rssMax = 0;
const timers: Array<ReturnType<typeof setTimeout>> = [];

function inWindow(t: number): boolean {
  return !!window && t >= window.windowStart && t < window.windowEnd;
}

function subscribe(p: Participant, track: RemoteTrack): void {
  const from = track.participantId;
  track.on('frame', (frame) => {
    const now = clock();
    if (!inWindow(frame.timestamp)) return;
    let seen = p.seen.get(from);
    if (!seen) p.seen.set(from, (seen = new Set()));
    if (seen.has(frame.sequence)) {
      p.sub.duplicates++;
      return;
    }
    seen.add(frame.sequence);
    p.sub.receivedFrom[from] = (p.sub.receivedFrom[from] ?? 0) + 1;
    latencies.push(now - frame.timestamp);
  });
}


/**
 * Joins this process's participants one after the other (the orchestrator also makes the processes join in turn,
 * so the set-up is the same on every run; overlapping native joins used to lose participants before sdk/Session.ts
 * kept the messages that arrive while UDP binds).
 */
async function joinAll(): Promise<void> {
  for (const index of indices) {
    const session = await joinMeeting({
      url, meeting, name: `p${index}`, transport, ...(udpPayloadSize ? { udpPayloadSize } : {}), timeoutMs: 15_000,
    });
    const id = session.local.id;
    const p: Participant = {
      index, session, data: randomBytes(frameBytes),
      pub: { id, offered: 0, sent: 0, senderDropped: 0, generatorSkipped: 0, meanLateMs: 0 },
      sub: { id, receivedFrom: {}, duplicates: 0 },
      lateSum: 0, lateCount: 0, seen: new Map(),
    };
    session.on('trackPublished', (track) => subscribe(p, track));
    for (const track of session.tracks.values()) subscribe(p, track);
    session.on('error', (error) => errors.push(`p${index}: ${error.code} ${error.message}`));
    session.on('disconnected', (error) => {
      if (error) errors.push(`p${index} disconnected: ${error.code} ${error.message}`);
    });
    participants.push(p);
  }
  toParent({ type: 'joined', ids: participants.map((p) => p.session.local.id) });
}

function startGenerator(p: Participant, w: Window): void {
  const track = p.track!;
  // Publishers are spread evenly over the frame period, like unsynchronised cameras.
  const first = w.sendStart + (p.index * period) / total;
  let k = 0;
  const tick = () => {
    const now = clock();
    let due = first + k * period;
    while (now - due > period) {
      if (inWindow(due)) p.pub.generatorSkipped++;
      k++;
      due = first + k * period;
    }
    if (due >= w.sendEnd) return;
    const timestamp = clock();
    const sequence = track.stats.framesSent;
    const ok = track.send({ data: p.data, keyFrame: true, timestamp });
    const done = clock();
    if (inWindow(timestamp)) {
      if (ok) {
        sendKeys.push(`${track.id}:${sequence >>> 0}`);
        sendDone.push(done);
        sendCost.push(done - timestamp);
      }
      p.pub.offered++;
      if (ok) p.pub.sent++;
      else p.pub.senderDropped++;
      p.lateSum += Math.max(0, timestamp - due);
      p.lateCount++;
    }
    k++;
    const next = first + k * period;
    if (next >= w.sendEnd) return;
    timers.push(setTimeout(tick, Math.max(0, (next - clock()) / 1000)));
  };
  timers.push(setTimeout(tick, Math.max(0, (first - clock()) / 1000)));
}

function at(time: number, fn: () => void): void {
  timers.push(setTimeout(fn, Math.max(0, (time - clock()) / 1000)));
}

onParent(async (message) => {
  switch (message.type) {
    case 'join':
      await joinAll();
      return;
    case 'publish': {
      for (const p of participants) p.track = await p.session.publish({ kind: 'camera', codec: 'jpeg' });
      const deadline = Date.now() + 15_000;
      while (participants.some((p) => p.session.tracks.size < total - 1)) {
        if (Date.now() > deadline) throw new Error(`not every track announced within 15 s: ${participants.map((p) => p.session.tracks.size).join(',')}`);
        await sleep(20);
      }
      toParent({ type: 'subscribed' });
      return;
    }
    case 'run': {
      const w = message.window;
      window = w;
      for (const p of participants) startGenerator(p, w);
      at(w.windowStart, () => {
        cpuStart = { at: clock(), cpu: process.cpuUsage() };
        rssMax = process.memoryUsage.rss();
        const rss = setInterval(() => {
          rssMax = Math.max(rssMax, process.memoryUsage.rss());
          if (clock() >= w.windowEnd) clearInterval(rss);
        }, 250);
      });
      at(w.windowEnd, () => {
        cpuEnd = { at: clock(), cpu: process.cpuUsage() };
      });
      return;
    }
    case 'report': {
      const s = cpuStart;
      const e = cpuEnd ?? { at: clock(), cpu: process.cpuUsage() };
      const cpuPct = s ? ((e.cpu.user - s.cpu.user + e.cpu.system - s.cpu.system) / Math.max(1, e.at - s.at)) * 100 : NaN;
      for (const p of participants) p.pub.meanLateMs = p.lateCount ? p.lateSum / p.lateCount / 1000 : 0;
      const report: ClientReport = {
        publishers: participants.map((p) => p.pub),
        subscribers: participants.map((p) => p.sub),
        latencies, sendKeys, sendDone, sendCost, cpuPct, rssMaxMB: rssMax / (1024 * 1024), errors: errors.slice(0, 20),
      };
      toParent({ type: 'clientReport', report });
      return;
    }
    case 'stop': {
      for (const t of timers) clearTimeout(t);
      await Promise.race([Promise.all(participants.map((p) => p.session.leave().catch(() => undefined))), sleep(1000)]);
      await sleep(100);
      process.exit(0);
      return;
    }
    default:
      return;
  }
});
toParent({ type: 'hello' });
