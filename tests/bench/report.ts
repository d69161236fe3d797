/**
 * Writes docs/performance.md from the bench results.
 * @module
 */
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import type { ConfigResult, Settings } from './measure.js';

/** Relay budget from DESIGN.md ("Performance budgets"). */
export const BUDGET = { participants: 16, relayP99Ms: 5 } as const;

export interface MachineInfo {
  cpuModel: string;
  nproc: number;
  node: string;
  kernel: string;
  memoryGB: number;
  rmemMax: string;
  autogroup: string;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function machineInfo(): MachineInfo {
  const model = /^model name\s*:\s*(.+)$/m.exec(readText('/proc/cpuinfo') ?? '')?.[1]?.trim();
  const rmem = readText('/proc/sys/net/core/rmem_max');
  const autogroup = readText('/proc/sys/kernel/sched_autogroup_enabled');
  return {
    cpuModel: model ?? cpus()[0]?.model ?? 'unknown',
    nproc: availableParallelism(),
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    memoryGB: Math.round(totalmem() / 1024 ** 3),
    rmemMax: rmem ? `${Math.round(Number(rmem.trim()) / 1024)} KiB` : 'unknown',
    autogroup: autogroup === undefined ? 'unknown' : autogroup.trim() === '1' ? 'on' : 'off',
  };
}

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const pct = (a: number, b: number) => (b > 0 ? `${((a / b) * 100).toFixed(a === b ? 0 : 2)} %` : '–');
const int = (x: number) => (Number.isFinite(x) ? String(Math.round(x)) : '–');
const cell = (text: string) => text.replace(/\|/g, '/').replace(/\n/g, ' ');

/** The relay-added latency p99 of a result (ms). */
export function relayP99(r: ConfigResult): number {
  return r.relayAdded.p99;
}

/** Every clean run delivered every frame. */
export function deliveryMet(r: ConfigResult): boolean {
  const runs = r.repeats.length ? r.repeats : [{ received: r.received, expected: r.expected }];
  return !r.error && runs.every((x) => x.expected > 0 && x.received >= x.expected);
}

/** Every clean run kept the relay-added p99 under the budget. */
export function latencyMet(r: ConfigResult): boolean {
  const runs = r.repeats.length ? r.repeats.map((x) => x.relayAddedP99) : [relayP99(r)];
  return !r.error && runs.every((p) => Number.isFinite(p) && p < BUDGET.relayP99Ms);
}

export function runsP99(r: ConfigResult): string {
  return r.repeats.length > 1 ? `${r.repeats.map((x) => f2(x.relayAddedP99)).join(' / ')} ms in ${r.repeats.length} runs` : `${f2(relayP99(r))} ms`;
}

function runsDelivery(r: ConfigResult): string {
  return r.repeats.length > 1 ? r.repeats.map((x) => pct(x.received, x.expected)).join(' / ') : pct(r.received, r.expected);
}

/** Frames neither received nor counted as dropped by the sender SDK or the relay. */
function uncounted(r: ConfigResult): number {
  return Math.max(0, r.expectedSent - r.received - Math.max(0, r.relay?.videoDropped ?? 0));
}

function clientsCpu(r: ConfigResult): number {
  return r.clientCpuPct.reduce((a, b) => a + b, 0);
}

function setup(r: ConfigResult): string {
  return r.clientNice ? `relay isolated (clients${r.clientCpus ? ` on CPU ${r.clientCpus}` : ''}, nice ${r.clientNice})` : 'shared';
}

function resultsTable(L: string[], rows: ConfigResult[], maxForeign: number): void {
  L.push('| Transport | N | Delivered / offered | Worst subscriber | E2E p50 / p99 ms | Relay-added p50 / p99 ms | Relay CPU % | Relay RSS MB idle → max | Sender drops | Relay drops | Clients CPU % | Machine busy % |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    if (r.error) {
      L.push(`| ${r.variant.label} | ${r.n} | failed (${r.attempts} runs): ${cell(r.error).slice(0, 200)} | | | | | | | | | |`);
      continue;
    }
    const mark = r.foreignPct > maxForeign ? ' †' : '';
    L.push(`| ${r.variant.label} | ${r.n}${mark} | ${r.received}/${r.expected} (${pct(r.received, r.expected)}) | ${Number.isFinite(r.minSubscriberRatio) ? `${(r.minSubscriberRatio * 100).toFixed(1)} %` : '–'} | ${f2(r.e2e.p50)} / ${f2(r.e2e.p99)} | ${f2(r.relayAdded.p50)} / **${f2(r.relayAdded.p99)}** | ${f1(r.relay?.cpuPct ?? NaN)} | ${f1(r.relay?.rssIdleMB ?? NaN)} → ${f1(r.relay?.rssMaxMB ?? NaN)} | ${r.senderDropped} | ${r.relay?.videoDropped ?? '–'} | ${r.clientCpuPct.map(f1).join(' + ')} | ${f1(r.machineBusyPct)} |`);
  }
}

function footnote(L: string[], rows: ConfigResult[], maxForeign: number): void {
  const disturbed = rows.filter((r) => !r.error && r.foreignPct > maxForeign);
  if (!disturbed.length) return;
  L.push(`† Disturbed: other work on the machine used ${disturbed.map((r) => `${f1(r.foreignPct)} % of a core (${r.variant.label}, N = ${r.n}, best of ${r.attempts} runs)`).join('; ')} during the window; read these rows with care.`);
  L.push('');
}

function observations(results: ConfigResult[], m: MachineInfo): string[] {
  const out: string[] = [];
  const cores = m.nproc * 100;
  for (const r of results.filter((x) => x.n === BUDGET.participants)) {
    const name = `**${r.variant.label}, ${r.n} people, ${setup(r)}:**`;
    if (r.error) {
      out.push(`${name} the run failed (${r.error}).`);
      continue;
    }
    const rel = r.relay;
    const parts: string[] = [];
    parts.push(`delivery ${runsDelivery(r)}, relay-added p99 ${runsP99(r)} (${latencyMet(r) ? 'within' : 'over'} the ${BUDGET.relayP99Ms} ms budget); the figures that follow are of the first run`);
    parts.push(`machine ${f1(r.machineBusyPct)} % busy of ${cores} %: relay ${f1(rel?.cpuPct ?? NaN)} % (event loop busy ${f1((rel?.eventLoopUtilization ?? NaN) * 100)} % of the time), clients ${f1(clientsCpu(r))} %, kernel softirq ${f1(r.machine?.softirqPct ?? NaN)} %, other work ${f1(r.foreignPct)} %`);
    if (r.machineBusyPct > cores * 0.9) parts.push('the CPUs are saturated, so the relay waits for CPU behind the clients and the kernel');
    if (rel && rel.eventLoopUtilization > 0.8) parts.push('the relay\'s single event loop is nearly always busy: the relay itself is the bottleneck');
    if (rel && Number.isFinite(rel.runQueueWaitMs)) {
      parts.push(`the relay's main thread spent ${f1(rel.runQueueWaitMs / rel.elapsedS)} ms per second runnable but waiting for a CPU (${rel.mainThreadSlices} timeslices)`);
    }
    if (r.relayAdded.p99 > 20 && r.relayIngress.p99 > 0.8 * r.relayAdded.p99) {
      const lostHere = uncounted(r) + Math.max(0, rel?.videoDropped ?? 0);
      parts.push(`frames queued ahead of the relay for up to ${f1(r.relayIngress.max)} ms (ingress p99 ${f1(r.relayIngress.p99)} ms) ${lostHere ? `and ${lostHere} were lost` : 'and none was dropped'}: once the relay fell behind (CPU shared with the clients${r.foreignPct > 5 ? ' and other work' : ''}), a standing queue formed in the socket buffers in front of it and did not drain within the window${r.variant.transport === 'native' ? ' (the relay asks for a 4 MiB UDP receive buffer, which Linux doubles: about 3600 datagrams of 1240 B, ~0.35 s of this load)' : ''}`);
    }
    const waiting = r.relayAdded.p99 - r.relayFanout.p99;
    parts.push(`of the relay-added p99, one whole fan-out loop (p99) accounts for ${f2(r.relayFanout.p99)} ms, so ${waiting > r.relayFanout.p99 ? `most of the tail (≈ ${f2(waiting)} ms) is the frame waiting for the relay to run, not the forwarding work` : 'the forwarding work itself is most of the tail'}`);
    if (r.sendCost.p99 > 1) parts.push(`the sender's own \`send()\` took up to ${f2(r.sendCost.p99)} ms (p99), which is in E2E but not in relay-added`);
    if (r.e2e.p99 > 2 * r.relayAdded.p99) parts.push(`E2E p99 ${f2(r.e2e.p99)} ms is mostly the subscribers' side (kernel hop out, reading and decoding in the client processes)`);
    if (r.meanGeneratorLateMs > 5 || r.generatorSkipped > 0) {
      parts.push(`the load generators ran ${f1(r.meanGeneratorLateMs)} ms late on average${r.generatorSkipped ? ` and skipped ${r.generatorSkipped} frame slots` : ''} (client processes starved of CPU)`);
    }
    if (r.senderDropped > 0) parts.push(`senders dropped ${r.senderDropped} frames (their own send queue over 1 MiB)`);
    if ((rel?.videoDropped ?? 0) > 0) parts.push(`the relay dropped ${rel!.videoDropped} frames for subscribers whose backlog passed the 1 MiB high-water mark`);
    const lost = uncounted(r);
    if (lost > 0) {
      parts.push(`${lost} frames were lost without any SDK or relay counter seeing it${r.udpRcvbufErrors > 0 ? `; the kernel dropped ${r.udpRcvbufErrors} UDP datagrams on full receive buffers (one lost fragment loses its whole frame)` : ''}`);
    }
    out.push(`${name} ${parts.join('; ')}.`);
  }
  return out;
}

export function renderReport(results: ConfigResult[], s: Settings, m: MachineInfo, started: Date, durationS: number, skipped: string[], maxForeign: number): string {
  const main = results.filter((r) => !r.clientNice);
  const isolated = results.filter((r) => r.clientNice);
  const L: string[] = [];
  L.push('# Performance');
  L.push('');
  L.push(`Generated by \`npm run bench\` (tests/bench/run.ts) on ${started.toISOString().replace('T', ' ').slice(0, 16)} UTC; the run took ${Math.round(durationS)} s.`);
  L.push('Every run rewrites this file: change tests/bench/report.ts, not this file.');
  L.push('');
  L.push('## Machine');
  L.push('');
  L.push(`* CPU: ${m.cpuModel}, ${m.nproc} cores (nproc)`);
  L.push(`* Node ${m.node}, ${m.kernel}, ${m.memoryGB} GiB RAM, net.core.rmem_max ${m.rmemMax}, scheduler autogroup ${m.autogroup}`);
  L.push('* Relay and clients on one machine, over loopback (127.0.0.1): they share the same cores.');
  L.push('');
  L.push('## Method');
  L.push('');
  L.push(`* One meeting of N participants (N = ${[...new Set(main.map((r) => r.n))].join(', ')}). Each publishes one camera track (codec \`jpeg\`, every frame a key`);
  L.push(`  frame) of ${s.frameBytes} random bytes per frame at ${s.fps} fps and subscribes to every other track: all to all, N × (N − 1) streams.`);
  L.push(`  Publishers are spread evenly over the ${f1(1000 / s.fps)} ms frame period (unsynchronised cameras). No audio.`);
  L.push('* Transports: WebSocket; native TCP + UDP with the default 60000-byte datagrams (a 30 KB frame is one datagram);');
  L.push(`  native UDP with \`udpPayloadSize: 1200\` (MTU-safe: ${Math.ceil(s.frameBytes / 1200)} datagrams per frame). The UDP rows are encrypted`);
  L.push('  (AES-128-GCM, `udpEncryption: true`: every datagram sealed by the sender, opened by the relay, sealed again per subscriber');
  L.push('  and opened by it), as with a relay that has TLS; the rows *not encrypted* are the same without it, to show its cost.');
  L.push('* Processes: the relay (`new Relay({ host: \'127.0.0.1\', port: 0, tcpPort: 0, udpPort: 0, tls: \'off\' })`) runs alone in');
  L.push('  tests/bench/relay-process.ts, so its CPU (`process.cpuUsage()`, all threads) and RSS (`process.memoryUsage.rss()`, max of');
  L.push('  samples every 250 ms; *idle* is right after `listen()` and includes the tsx TypeScript loader, ~25 MB over plain node)');
  L.push(`  are its own. The participants run in ${s.clientProcesses} client processes (tests/bench/client-process.ts, the real`);
  L.push('  SDK: `joinMeeting` from `lanconf/node`), assigned round-robin; the participants join one after the other.');
  L.push(`* Per configuration: join, publish, wait until every track is announced to everyone, send ${s.warmupSeconds} s of warm-up, then the`);
  L.push(`  ${s.seconds} s measurement window (\`BENCH_SECONDS\`), stop sending and drain ${s.drainSeconds} s. Only frames captured inside the window count.`);
  L.push('* Two set-ups. **Shared**: relay and clients at the same priority on both cores, the plain set-up. **Relay isolated**: the');
  L.push('  client processes pinned to one CPU (`taskset`) at nice 10, so the relay has a CPU to itself and takes precedence, as in a');
  L.push('  real meeting where the participants are other machines. The DESIGN budget is about the relay, so the isolated rows are the');
  L.push('  fairer test of it; the shared rows show what the same box does when it also carries all 16 participants.');
  L.push('* Clock: every process reads CLOCK_MONOTONIC (`process.hrtime`, one clock for the machine) plus one offset handed out by');
  L.push('  the orchestrator, so a time taken in one process can be subtracted from a time taken in another.');
  L.push('* **Delivered / offered**: Σ over subscribers of window frames received ÷ window frames the other participants offered');
  L.push('  (sent, plus dropped by the sender SDK). *Worst subscriber*: the lowest per-subscriber ratio.');
  L.push('* **E2E latency**: subscriber `frame` event − capture timestamp, over every frame received on every stream.');
  L.push('* **Relay-added latency**: for each (frame, subscriber), the moment the relay handed the frame to that subscriber\'s socket');
  L.push('  (WebSocket/TCP write or UDP sends) − the moment the sender\'s `LocalTrack.send()` returned, i.e. once the bytes were in the');
  L.push('  kernel. It covers the loopback hop into the relay, the relay waiting for a CPU, its event-loop queue, reassembly (UDP 1200)');
  L.push('  and the subscriber\'s place in the fan-out loop; not the hop out to the subscriber nor the subscriber\'s processing (both in');
  L.push('  E2E). The relay side is timed inside the relay process by wrapping `Room.prototype.forward` and `Connection.prototype.sendMedia`');
  L.push('  (the relay\'s code is not changed); frames are matched by track id and sequence number. In the details: *send cost* (capture →');
  L.push('  `send()` returned), *ingress* (capture → fan-out starts), *fan-out* (one forward loop), and E2E p99 minus the N = 2 E2E p99.');
  L.push('* **Sender drops**: Σ `LocalTrack.stats.framesDropped` (send queue over 1 MiB). **Relay drops**: Σ `peer.stats.videoDropped`');
  L.push('  over the meeting\'s peers in the relay process (subscriber backlog over the 1 MiB high-water mark). Kernel UDP drops:');
  L.push('  the `RcvbufErrors` delta of /proc/net/snmp over window and drain.');
  L.push(`* CPU % is of one core (the machine has ${m.nproc * 100} %). *Machine busy* is /proc/stat over the window. *Other work* is machine busy −`);
  L.push(`  softirq − relay − clients: the machine is shared with other jobs, so a run where other work took over ${maxForeign} % of a core is`);
  L.push('  repeated, as is a failed run; if no clean run is had, the least disturbed one is shown and marked †. Each 16-person');
  L.push('  configuration is run until it has `BENCH_REPEATS` (default 2) clean runs; the tables show the first, the budget table all.');
  L.push('');
  L.push('## Results: shared machine (relay and 2 client processes on the same 2 cores)');
  L.push('');
  resultsTable(L, main, maxForeign);
  L.push('');
  footnote(L, main, maxForeign);
  if (isolated.length) {
    L.push(`## Results: relay isolated (clients pinned to CPU ${isolated[0]!.clientCpus ?? 'any'} at nice ${isolated[0]!.clientNice})`);
    L.push('');
    resultsTable(L, isolated, maxForeign);
    L.push('');
    footnote(L, isolated, maxForeign);
  }
  L.push('## Budget');
  L.push('');
  L.push(`DESIGN.md: *a ${BUDGET.participants}-person meeting, every person publishing 640×480 at 25 fps plus audio, all to all, on a 2-core machine:`);
  L.push(`every frame delivered to subscribers that keep up, relay-added latency p99 under ${BUDGET.relayP99Ms} ms.* The bench sends ${s.frameBytes}-byte`);
  L.push('frames (about a 640×480 JPEG) and no audio. Each 16-person configuration is run more than once (`BENCH_REPEATS`, default 2,');
  L.push('clean runs only, see *Method*); the verdict needs every run to meet the budget, and the figures of each run are listed.');
  L.push('');
  L.push('| Transport | Set-up | Delivery (100 %) | Relay-added p99 (< 5 ms) | Verdict |');
  L.push('|---|---|---|---|---|');
  const budgetRows = results.filter((x) => x.n === BUDGET.participants);
  for (const r of budgetRows) {
    if (r.error) {
      L.push(`| ${r.variant.label} | ${setup(r)} | failed | failed | not measured |`);
      continue;
    }
    const d = deliveryMet(r);
    const l = latencyMet(r);
    const mark = r.foreignPct > maxForeign ? ' †' : '';
    L.push(`| ${r.variant.label} | ${setup(r)}${mark} | ${runsDelivery(r)}: ${d ? 'met' : '**not met**'} | ${runsP99(r)}: ${l ? 'met' : '**not met**'} | ${d && l ? 'met' : '**not met**'} |`);
  }
  if (!budgetRows.length) L.push('| (no 16-person configuration ran) | | | | |');
  L.push('');
  L.push('## Observations (generated from the figures above)');
  L.push('');
  for (const o of observations(results, m)) L.push(`* ${o}`);
  if (skipped.length) L.push(`* Skipped to keep the run within its time budget: ${skipped.join(', ')}.`);
  L.push('* The load generator is not free: the client processes encode, send, receive, reassemble and decode all N × (N − 1)');
  L.push('  streams on the same 2 cores as the relay, where a real meeting has N machines. On the shared rows the relay\'s figures');
  L.push('  therefore include waiting for the clients\' CPU; the isolated rows remove most of that.');
  L.push('');
  L.push('## Details');
  L.push('');
  L.push('| Transport | N | Set-up | Send cost p99 ms | Ingress p50 / p99 ms | Fan-out p50 / p99 ms | Capture → handoff p99 / max ms | E2E max ms | E2E p99 − N=2 ms | Relay event loop busy | Relay CPU wait ms/s | Relay frames in / out | Generator late ms / skipped | Lost, uncounted | Kernel UDP drops | Other work % (runs) | Client errors |');
  L.push('|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of results) {
    if (r.error) continue;
    const base = results.find((x) => x.variant.key === r.variant.key && x.n === 2 && !x.error && x.clientNice === r.clientNice)
      ?? results.find((x) => x.variant.key === r.variant.key && x.n === 2 && !x.error);
    const rel = r.relay;
    L.push(`| ${r.variant.label} | ${r.n} | ${setup(r)} | ${f2(r.sendCost.p99)} | ${f2(r.relayIngress.p50)} / ${f2(r.relayIngress.p99)} | ${f2(r.relayFanout.p50)} / ${f2(r.relayFanout.p99)} | ${f2(r.relayHandoff.p99)} / ${f1(r.relayHandoff.max)} | ${f1(r.e2e.max)} | ${r.n === 2 && base === r ? '(baseline)' : base ? f2(r.e2e.p99 - base.e2e.p99) : '–'} | ${rel ? `${f1(rel.eventLoopUtilization * 100)} %` : '–'} | ${rel ? f1(rel.runQueueWaitMs / rel.elapsedS) : '–'} | ${rel?.framesIn ?? '–'} / ${rel?.framesOut ?? '–'} | ${f1(r.meanGeneratorLateMs)} / ${r.generatorSkipped} | ${uncounted(r)} | ${r.variant.transport === 'native' ? int(r.udpRcvbufErrors) : '–'} | ${f1(r.foreignPct)} (${r.attempts}) | ${r.clientErrors.length ? cell(r.clientErrors.slice(0, 2).join('; ')).slice(0, 160) : '–'} |`);
  }
  L.push('');
  L.push('*Relay frames in / out* are counted by the relay between two marks sent at the window\'s edges, so they differ slightly from');
  L.push('the capture-time window. *Relay CPU wait*: time per second the relay\'s main thread was runnable but not running (Linux');
  L.push('schedstat). *Lost, uncounted*: frames the senders sent that no subscriber received and no relay counter dropped.');
  for (const r of results.filter((x) => !x.error && x.variant.transport === 'native' && x.relay)) {
    if (r.relay!.udpBoundPeers < r.n) {
      L.push('');
      L.push(`Warning: ${r.variant.label}, N = ${r.n}: only ${r.relay!.udpBoundPeers} of ${r.n} peers had UDP bound (the others sent media over TCP).`);
    }
  }
  L.push('');
  return L.join('\n');
}

/** Markers around the browser media section, so one part can be re-run without losing the other's figures. */
const MEDIA_START = '<!-- browser-media:start (tests/bench/media.ts) -->';
const MEDIA_END = '<!-- browser-media:end -->';
/** Markers around the native capture section (tests/bench/capture.ts). */
const CAPTURE_START = '<!-- native-capture:start (tests/bench/capture.ts) -->';
const CAPTURE_END = '<!-- native-capture:end -->';
/** Markers around the first-join section (tests/bench/join.ts). */
const JOIN_START = '<!-- first-join:start (tests/bench/join.ts) -->';
const JOIN_END = '<!-- first-join:end -->';
/** Markers around the file-transfer section (tests/bench/files.ts). */
const FILES_START = '<!-- file-transfer:start (tests/bench/files.ts) -->';
const FILES_END = '<!-- file-transfer:end -->';
/** Markers around the sections written by hand, which no bench writes: kept as they are, after the relay report. */
const BUNDLE_START = '<!-- bundle-size:start';
const BUNDLE_END = '<!-- bundle-size:end -->';
const DESIGN_START = '<!-- design-measurements:start';
const DESIGN_END = '<!-- design-measurements:end -->';

/** Cuts the marked section out of `text`: the section (markers included) and the text without it. */
function cutSection(text: string | undefined, start: string, end: string): { section: string | undefined; rest: string | undefined } {
  if (text === undefined) return { section: undefined, rest: undefined };
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return { section: undefined, rest: text };
  return { section: text.slice(a, b + end.length), rest: text.slice(0, a) + text.slice(b + end.length) };
}

/**
 * docs/performance.md from the parts that ran (`relayDoc`: the relay report; `mediaSection`: the browser media
 * section; `filesSection`: the file-transfer section) and, for a part that did not run (`BENCH_ONLY`), the figures
 * the previous file had. The sections written by hand (*Bundle size*, then *Design measurements*) are taken from
 * the previous file as they are and put back after the relay report.
 */
export function composeReport(previous: string | undefined, relayDoc: string | undefined, mediaSection: string | undefined, filesSection?: string,
  captureSection?: string, joinSection?: string): string {
  const join = cutSection(previous, JOIN_START, JOIN_END);
  // Written by hand, not by a bench: always kept as they are.
  const bundle = cutSection(join.rest, BUNDLE_START, BUNDLE_END);
  const design = cutSection(bundle.rest, DESIGN_START, DESIGN_END);
  const capture = cutSection(design.rest, CAPTURE_START, CAPTURE_END);
  const files = cutSection(capture.rest, FILES_START, FILES_END);
  const media = cutSection(files.rest, MEDIA_START, MEDIA_END);
  const previousRelay = media.rest?.trimEnd();
  const relay = (relayDoc ?? (previousRelay || undefined) ?? '# Performance\n\n(The relay bench has not been run: `BENCH_ONLY=relay npm run bench`.)\n').trimEnd();
  const parts = [relay];
  if (bundle.section) parts.push(bundle.section);
  if (design.section) parts.push(design.section);
  const mediaPart = mediaSection !== undefined ? `${MEDIA_START}\n${mediaSection.trimEnd()}\n${MEDIA_END}` : media.section;
  if (mediaPart) parts.push(mediaPart);
  const filesPart = filesSection !== undefined ? `${FILES_START}\n${filesSection.trimEnd()}\n${FILES_END}` : files.section;
  if (filesPart) parts.push(filesPart);
  const capturePart = captureSection !== undefined ? `${CAPTURE_START}\n${captureSection.trimEnd()}\n${CAPTURE_END}` : capture.section;
  if (capturePart) parts.push(capturePart);
  const joinPart = joinSection !== undefined ? `${JOIN_START}\n${joinSection.trimEnd()}\n${JOIN_END}` : join.section;
  if (joinPart) parts.push(joinPart);
  return `${parts.join('\n\n')}\n`;
}
