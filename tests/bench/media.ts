/**
 * The browser media bench (`npm run bench`, or `BENCH_ONLY=media npm run bench`): two pages in one headless
 * Chromium (tests/browser.ts, fake camera and beeping microphone) join a real relay on 127.0.0.1 through the SDK
 * bundle. Page A publishes camera and microphone; page B publishes nothing, renders A's camera into a canvas and
 * plays A's microphone through the session's own audio playout. Per phase (VP8, then JPEG with
 * `fallbacks: { jpegOnly: true }`), after a warm-up, a window of `BENCH_MEDIA_SECONDS` gives:
 *  - video capture-to-render latency per picture drawn (`VideoRenderer.latencyMs`: draw time − capture timestamp),
 *    and its stages (camera → SDK stamp, encode, network + relay, decode + draw, next animation frame);
 *  - bitrate per camera stream, encode time per frame;
 *  - audio mouth-to-ear latency per beep of the fake microphone: the onset in the microphone (page A, on the clock
 *    of the SDK's capture timestamps) → the onset in the mixed output (page B, when that sample leaves for the
 *    output device, `AudioContext.getOutputTimestamp()`), and the stages (encode, network + relay, decode,
 *    jitter buffer, output).
 * The browser-side code is tests/bench/media-page.ts. The bench never fails on a missed budget.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import type { Page } from 'puppeteer-core';
import { hasChromium, launchBrowser, type TestBrowser } from '../browser.js';
import { startRelay, type TestRelay } from '../helpers.js';
import { repoRoot } from './children.js';
import { cpuSnapshot, percentiles, sleep, type CpuSnapshot } from './common.js';
import type { ReceiverMark, ReceiverRecords, SenderMark, SenderRecords } from './media-page.js';

/** DESIGN.md, "Performance budgets": browser to browser through the relay on one machine. */
export const MEDIA_BUDGET = { videoMs: 100, audioMs: 100 } as const;

export interface MediaSettings {
  /** Measurement window per phase (s). */
  seconds: number;
  /** Warm-up after the first picture and the first audio packet arrived (s). */
  warmupSeconds: number;
  /** A phase during which other work used more than this % of one core is repeated once. */
  maxForeign: number;
}

/** Distribution of a latency, ms. */
export interface Dist {
  n: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export interface MachineLoad {
  load1Start: number;
  load1End: number;
  /** % of one core over the window. */
  busyPct: number;
  chromiumPct: number;
  /** This process: the orchestrator and the relay. */
  benchPct: number;
  foreignPct: number;
  /** The busiest second of other work (% of one core), and per-second figures: [s from window start, busy %, Chromium %, other %]. */
  foreignPeakPct: number;
  perSecond: Array<[number, number, number, number]>;
  otherTop: string;
}

export interface VideoFigures {
  codecSent: string;
  codecReceived: string;
  /** Picture size drawn at B. */
  size: string;
  /** Draw into the canvas − capture timestamp, corrected for the pages' clock difference. */
  latency: Dist;
  /** The same, over the frames captured in the seconds when other work used under `maxForeign` % of a core. */
  latencyQuiet: Dist;
  /** The same as the SDK reports it (`VideoRenderer.latencyMs`, no clock correction). */
  latencySdk: Dist;
  /** Next animation frame after the draw − capture timestamp (when the canvas can reach the screen). */
  toAnimationFrame: Dist;
  /** Stages, per frame. */
  sensorToStamp: Dist;
  captureToSend: Dist;
  sendToArrival: Dist;
  arrivalToRender: Dist;
  cameraFps: number;
  sentFps: number;
  renderedFps: number;
  /** Payload bit rate received by B (kbit/s), and encoded by A's publisher (kbit/s, `encoderStats.bytesEncoded`). */
  kbps: number;
  kbpsEncoded: number;
  bytesPerFrame: number;
  keyFrameBytes: number;
  deltaFrameBytes: number;
  keyFrames: number;
  /** `encoderStats.encodeMs` (mean over the last ~50 frames), sampled every 500 ms: mean of the window's samples. */
  encodeMsSdk: number;
  sent: number;
  received: number;
  rendered: number;
  rendererDropped: number;
  senderSkipped: number;
  senderDropped: number;
  unmatchedRenders: number;
}

export interface AudioFigures {
  mixerFound: boolean;
  mouthToEar: Dist;
  mouthToEarQuiet: Dist;
  beeps: number;
  unmatchedBeeps: number;
  /**
   * Per beep: mouth → the packet carrying the onset is in B's mixer (packet fill, encode, network, decode), and
   * from there → ear (jitter buffer, Opus's own delay, the output buffer).
   */
  mouthToMixer: Dist;
  mixerToEar: Dist;
  /** Where in its 20 ms packet each beep starts (ms): checks the onset clock against the SDK's timestamps. */
  onsetInPacket: { min: number; mean: number; max: number };
  captureToSend: Dist;
  sendToArrival: Dist;
  captureToArrival: Dist;
  decode: Dist;
  jitterBuffered: Dist;
  jitterTargetMs: number;
  /** Jitter-buffer target at the window's start and end (it shrinks slowly after a stall). */
  jitterTargetStart: number;
  jitterTargetEnd: number;
  /** Before the window (join and warm-up): the highest target and the underruns. */
  jitterTargetMaxBefore: number;
  underrunsBefore: number;
  jitterMs: number;
  late: number;
  lost: number;
  dropped: number;
  underruns: number;
  renderToOutput: Dist;
  baseLatencyMs: number;
  outputLatencyMs: number;
  packetsSent: number;
  packetsReceived: number;
  kbps: number;
  encodeMsSdk: number;
}

export interface MediaPhase {
  key: PhaseKey;
  label: string;
  /** Short name for the tables. */
  short: string;
  error?: string;
  attempts: number;
  windowS: number;
  video?: VideoFigures;
  audio?: AudioFigures;
  /** The relay's counters for the meeting over the window (and the drain after it), summed over its peers. */
  relay?: { framesIn: number; framesOut: number; videoDropped: number; staleDropped: number };
  /** Seconds of the window in which other work used under `maxForeign` % of a core. */
  quietSeconds?: number;
  /** Page B's clock − page A's clock (ms), and the round trip of the best probe (ms). */
  /** Page B's clock − page A's clock (ms) before and after the window (the mean corrects the figures), longest probe RTT (ms). */
  clock?: { skewMs: number; rttMs: number; skewBeforeMs: number; skewAfterMs: number };
  machine?: MachineLoad;
  /** Main-thread tasks over 50 ms during the window, per page: count, longest (ms). */
  longTasks?: { a: { count: number; maxMs: number }; b: { count: number; maxMs: number } };
  /** `document.visibilityState` of pages A and B at the window's end (both should be visible). */
  visibility?: string;
  errors: string[];
}

export interface MediaResult {
  phases: MediaPhase[];
  settings: MediaSettings;
  started: Date;
  durationS: number;
  chromium: string;
  bundle: string;
  error?: string;
}

type PhaseKey = 'vp8' | 'jpeg' | 'vp8-624';

/**
 * The phases. `vp8-624` is the SDK's VP8 with `publishCamera({ width: 624, height: 480 })`: Chromium's software VP8
 * encoder (WebCodecs) runs 2 libvpx threads from 640×480 of area up and 1 below it, so this phase tells the
 * encoder's threading apart from the codec. It runs once, never repeated (the time budget).
 */
const PHASES: ReadonlyArray<{ key: PhaseKey; label: string; short: string; jpegOnly: boolean; width: number; repeat: boolean }> = [
  { key: 'vp8', label: 'VP8 (default)', short: 'VP8', jpegOnly: false, width: 640, repeat: true },
  { key: 'jpeg', label: 'JPEG (`fallbacks.jpegOnly`)', short: 'JPEG', jpegOnly: true, width: 640, repeat: true },
  { key: 'vp8-624', label: 'VP8 at 624×480 (1 encoder thread)', short: 'VP8 624×480', jpegOnly: false, width: 624, repeat: false },
];

const NONE: Dist = { n: 0, p50: NaN, p95: NaN, max: NaN, mean: NaN };

function dist(valuesMs: number[]): Dist {
  const v = valuesMs.filter((x) => Number.isFinite(x));
  if (!v.length) return NONE;
  const [p50, p95, max] = percentiles(v, [50, 95, 100]);
  return { n: v.length, p50: p50!, p95: p95!, max: max!, mean: v.reduce((a, b) => a + b, 0) / v.length };
}

// ------------------------------------------------------------------------------------------------------- clocks

/** Node's wall clock, µs (the pages use the same formula: `performance.timeOrigin + performance.now()`). */
function nodeNowUs(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

function monoUs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e6 + ns / 1e3;
}

/**
 * A page's clock − Node's clock (µs): the median offset of the 5 probes with the shortest round trips (one probe
 * alone can be lopsided on a busy machine), and the longest of those round trips.
 */
async function pageOffset(page: Page, rounds = 25): Promise<{ offsetUs: number; rttUs: number }> {
  const probes: Array<{ offsetUs: number; rttUs: number }> = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = nodeNowUs();
    const value = (await page.evaluate('performance.timeOrigin + performance.now()')) as number;
    const t1 = nodeNowUs();
    probes.push({ offsetUs: value * 1000 - (t0 + t1) / 2, rttUs: t1 - t0 });
  }
  const best = probes.sort((x, y) => x.rttUs - y.rttUs).slice(0, 5);
  const offsets = best.map((p) => p.offsetUs).sort((x, y) => x - y);
  return { offsetUs: offsets[Math.floor(offsets.length / 2)]!, rttUs: best.at(-1)!.rttUs };
}

// ----------------------------------------------------------------------------------------------------- machine

function machineLoad(a: CpuSnapshot, b: CpuSnapshot, browserPid: number | undefined, load1Start: number): MachineLoad {
  const cores = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length || 1;
  const d = b.fields.map((x, i) => x - (a.fields[i] ?? 0));
  const total = d.reduce((x, y) => x + y, 0) || 1;
  const of = (ticks: number) => (ticks / total) * 100 * cores;
  const busy = of(total - (d[3] ?? 0) - (d[4] ?? 0));
  const softirq = of((d[5] ?? 0) + (d[6] ?? 0));
  const elapsedTicks = ((b.at - a.at) / 1000) * 100;
  const inTree = (pid: number): boolean => {
    for (let p = pid, hops = 0; p > 1 && hops < 20; hops++) {
      if (p === browserPid) return true;
      p = b.procs.get(p)?.ppid ?? a.procs.get(p)?.ppid ?? 0;
    }
    return false;
  };
  let chromium = 0;
  let bench = 0;
  const others: Array<{ comm: string; pct: number }> = [];
  for (const [pid, p] of b.procs) {
    // A process that started during the interval spent all its ticks in it.
    const ticks = p.ticks - (a.procs.get(pid)?.ticks ?? 0);
    if (ticks <= 0) continue;
    const pct = (ticks / elapsedTicks) * 100;
    if (pid === process.pid) bench += pct;
    else if (browserPid !== undefined && inTree(pid)) chromium += pct;
    else others.push({ comm: p.comm, pct });
  }
  others.sort((x, y) => y.pct - x.pct);
  return {
    load1Start, load1End: loadavg()[0]!, busyPct: busy, chromiumPct: chromium, benchPct: bench,
    foreignPct: Math.max(0, busy - softirq - chromium - bench),
    foreignPeakPct: NaN,
    perSecond: [],
    otherTop: others.slice(0, 3).map((o) => `${o.comm} ${o.pct.toFixed(0)} %`).join(', '),
  };
}

/** Waits (up to `maxMs`) until the machine is busy under `thresholdPct` % of one core over half a second; returns the last figure. */
async function waitForQuiet(maxMs: number, thresholdPct: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let busy = NaN;
  do {
    const a = cpuSnapshot();
    await sleep(500);
    busy = machineLoad(a, cpuSnapshot(), undefined, NaN).busyPct;
    if (busy < thresholdPct) break;
  } while (Date.now() < deadline);
  return busy;
}

// ------------------------------------------------------------------------------------------------------ bundles

const SDK_DIRS = ['sdk'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 16);

/**
 * The SDK bundle must be the code in sdk/: rebuilt (`npm run build`) when missing or older than a source file. Should
 * that build fail (e.g. someone's half-edited component elsewhere in the package), the bench bundles sdk/index.ts with
 * esbuild into dist/dev/ and says so in the report, rather than measure old code. Then bundles the page script.
 * Returns the bundle's URL path and a line for the report.
 */
async function prepareBundles(log: (line: string) => void): Promise<{ url: string; note: string }> {
  const bundle = join(repoRoot, 'dist', 'browser', 'lanconf.js');
  const sources = Math.max(...SDK_DIRS.map((d) => newestMtime(join(repoRoot, d))));
  const out = join(repoRoot, 'dist', 'dev');
  mkdirSync(out, { recursive: true });
  let result: { url: string; note: string };
  if (!existsSync(bundle) || statSync(bundle).mtimeMs < sources) {
    log('  the SDK bundle is missing or older than sdk/: npm run build');
    const r = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], timeout: 240_000, encoding: 'utf8' });
    if (r.status === 0) {
      result = { url: '/dist/browser/lanconf.js', note: `\`dist/browser/lanconf.js\`, rebuilt by the bench (\`npm run build\`) at ${stamp(Date.now())} UTC` };
    } else {
      const why = (r.stderr || r.stdout || String(r.error ?? r.signal)).trim().split('\n').filter((l) => /error/i.test(l)).slice(0, 2).join(' | ');
      log(`  npm run build failed (${why}); bundling sdk/index.ts with esbuild instead`);
      await build({
        entryPoints: [join(repoRoot, 'sdk', 'index.ts')], outfile: join(out, 'lanconf-bench.js'),
        bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'error',
      });
      result = { url: '/dist/dev/lanconf-bench.js', note: `sdk/index.ts bundled by the bench with esbuild (\`npm run build\` failed: ${why.slice(0, 160)})` };
    }
  } else {
    result = { url: '/dist/browser/lanconf.js', note: `\`dist/browser/lanconf.js\` of ${stamp(statSync(bundle).mtimeMs)} UTC, up to date with sdk/` };
  }
  await build({
    entryPoints: [join(repoRoot, 'tests', 'bench', 'media-page.ts')],
    outfile: join(out, 'media-bench.js'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'error',
  });
  writeFileSync(join(out, 'media-bench.html'), '<!doctype html>\n<meta charset="utf-8">\n<link rel="icon" href="data:,">\n<title>lanconf media bench</title>\n<body></body>\n');
  return result;
}

// ------------------------------------------------------------------------------------------------------- phases

/**
 * Like `TestBrowser.open`, but each page in a window of its own: two tabs of one window would leave one of them
 * hidden, and a hidden page gets no animation frames and throttled timers (each participant of a real call has
 * their page in front).
 */
async function openWindow(browser: TestBrowser, url: string): Promise<Page> {
  const page = await browser.browser.newPage({ type: 'window' });
  await page.evaluateOnNewDocument('globalThis.__name = (f) => f;');
  page.on('pageerror', (e) => browser.errors.push(`pageerror: ${(e as Error).message}`));
  page.on('console', (m) => {
    // Chromium's "Failed to load resource" line names no URL: the response handler below does.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) browser.errors.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) browser.errors.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  // A navigation that fails can leave Chromium's error page without goto() throwing: check, and try again.
  let why = '';
  for (let i = 0; i < 3; i++) {
    try {
      const response = await page.goto(url, { waitUntil: 'load' });
      // 304: the page came from the browser's cache, revalidated (the relay sends ETags): loaded all the same.
      if (page.url() === url && response && (response.ok() || response.status() === 304)) return page;
      why = `${page.url()} (HTTP ${response?.status() ?? 'none'}): ${String(await page.evaluate('document.body?.innerText ?? ""')).slice(0, 120)}`;
    } catch (error) {
      why = error instanceof Error ? error.message : String(error);
    }
    await sleep(500);
  }
  await page.close().catch(() => undefined);
  throw new Error(`could not load ${url}: ${why}`);
}

function call<T>(page: Page, expression: string): Promise<T> {
  return page.evaluate(`import('/dist/dev/media-bench.js').then((m) => ${expression})`) as Promise<T>;
}

const inWindow = (ts: number, start: number, end: number) => ts >= start && ts < end;

type Quiet = (captureUs: number) => boolean;

function meanOf(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((x, y) => x + y, 0) / v.length : NaN;
}

function videoFigures(s: SenderRecords, r: ReceiverRecords, a0: SenderMark, a1: SenderMark, b0: ReceiverMark, b1: ReceiverMark,
  skewUs: number, offAUs: number, quiet: Quiet): VideoFigures {
  const start = a0.at;
  const end = a1.at;
  const windowS = (end - start) / 1e6;
  const sent = s.video.filter((f) => inWindow(f[0], start, end));
  const sentAt = new Map(sent.map((f) => [f[0], f[1]]));
  const arrivals = r.videoArrivals.filter((f) => inWindow(f[0], start, end));
  const arrivalAt = new Map(arrivals.map((f) => [f[0], f[1]]));
  const renders = r.renders.filter((f) => inWindow(f[0], start, end));
  const bytes = arrivals.reduce((x, f) => x + f[2], 0);
  const keys = arrivals.filter((f) => f[3] === 1);
  const deltas = arrivals.filter((f) => f[3] === 0);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : NaN);
  const sensor = s.sensorToScriptUs.filter((x) => x[0] >= start && x[0] < end);
  return {
    codecSent: a1.codec,
    codecReceived: b1.videoCodec,
    size: `${b1.width}×${b1.height}`,
    latency: dist(renders.map((f) => (f[1] - skewUs - f[0]) / 1000)),
    latencyQuiet: dist(renders.filter((f) => quiet(f[0])).map((f) => (f[1] - skewUs - f[0]) / 1000)),
    latencySdk: dist(renders.map((f) => f[2])),
    // JSON has no NaN: a picture whose animation frame had not come yet arrives as null.
    toAnimationFrame: dist(renders.map((f) => (typeof f[3] === 'number' ? (f[3] - skewUs - f[0]) / 1000 : NaN))),
    sensorToStamp: dist(sensor.map((x) => (x[1] - offAUs) / 1000)),
    captureToSend: dist(sent.map((f) => (f[1] - f[0]) / 1000)),
    sendToArrival: dist(arrivals.map((f) => (sentAt.has(f[0]) ? (f[1] - skewUs - sentAt.get(f[0])!) / 1000 : NaN))),
    arrivalToRender: dist(renders.map((f) => (f[4] && arrivalAt.has(f[0]) ? (f[1] - arrivalAt.get(f[0])!) / 1000 : NaN))),
    cameraFps: sensor.length / windowS,
    sentFps: sent.length / windowS,
    renderedFps: renders.length / windowS,
    kbps: (bytes * 8) / windowS / 1000,
    kbpsEncoded: ((a1.videoBytesEncoded - a0.videoBytesEncoded) * 8) / ((a1.at - a0.at) / 1e6) / 1000,
    bytesPerFrame: arrivals.length ? bytes / arrivals.length : NaN,
    keyFrameBytes: mean(keys.map((f) => f[2])),
    deltaFrameBytes: mean(deltas.map((f) => f[2])),
    keyFrames: keys.length,
    encodeMsSdk: meanOf(s.encodeSamples.filter((x) => inWindow(x[0], start, end)).map((x) => x[1])),
    sent: sent.length,
    received: arrivals.length,
    rendered: renders.length,
    rendererDropped: b1.framesDropped - b0.framesDropped,
    senderSkipped: a1.videoFramesSkipped - a0.videoFramesSkipped,
    senderDropped: a1.videoFramesDropped - a0.videoFramesDropped,
    unmatchedRenders: renders.filter((f) => !f[4]).length,
  };
}

function audioFigures(s: SenderRecords, r: ReceiverRecords, a0: SenderMark, a1: SenderMark, skewUs: number, quiet: Quiet): AudioFigures {
  const start = a0.at;
  const end = a1.at;
  const windowS = (end - start) / 1e6;
  const sent = s.audio.filter((f) => inWindow(f[0], start, end));
  const sentAt = new Map(sent.map((f) => [f[0], f[1]]));
  const arrivals = r.audioArrivals.filter((f) => inWindow(f[0], start, end));
  // Beeps: onset in the microphone (A's clock, like the SDK's capture timestamps) → onset in the output (B's clock).
  const mouths = s.micOnsetsSourceUs.map((x) => x + s.micOffsetUs).filter((x) => inWindow(x, start, end));
  const ears = r.earOnsets.map((e) => e[0] - skewUs);
  const mouthToEar: number[] = [];
  const mouthToEarQuiet: number[] = [];
  const mouthToMixer: number[] = [];
  const mixerToEar: number[] = [];
  const inPacket: number[] = [];
  const arrivalOf = new Map(r.audioArrivals.map((f) => [f[0], f[1]]));
  const decodeOf = new Map(r.decodes.map((d) => [d[0], d[1]]));
  let unmatched = 0;
  for (const m of mouths) {
    const e = ears.find((x) => x - m > 0 && x - m < 450_000);
    if (e === undefined) unmatched++;
    else mouthToEar.push((e - m) / 1000);
    if (e !== undefined && quiet(m)) mouthToEarQuiet.push((e - m) / 1000);
    const packet = s.audio.find((f) => f[0] <= m && m < f[0] + 20_000);
    if (!packet) continue;
    inPacket.push((m - packet[0]) / 1000);
    const arrived = arrivalOf.get(packet[0]);
    const decodeMs = decodeOf.get(packet[0]);
    if (arrived === undefined || decodeMs === undefined) continue;
    const inMixer = arrived - skewUs + decodeMs * 1000;
    mouthToMixer.push((inMixer - m) / 1000);
    if (e !== undefined) mixerToEar.push((e - inMixer) / 1000);
  }
  const jitter = r.jitter.filter((j) => j.at - skewUs >= start && j.at - skewUs < end);
  const targetsBefore = r.jitter.filter((j) => j.at - skewUs < start).map((j) => j.targetMs);
  const first = jitter[0];
  const last = jitter.at(-1);
  const delta = (k: 'late' | 'lost' | 'dropped' | 'underruns') => (first && last ? last[k] - first[k] : NaN);
  return {
    mixerFound: r.mixerFound,
    mouthToEar: dist(mouthToEar),
    mouthToEarQuiet: dist(mouthToEarQuiet),
    mouthToMixer: dist(mouthToMixer),
    mixerToEar: dist(mixerToEar),
    beeps: mouths.length,
    unmatchedBeeps: unmatched,
    onsetInPacket: { min: inPacket.length ? Math.min(...inPacket) : NaN, mean: meanOf(inPacket), max: inPacket.length ? Math.max(...inPacket) : NaN },
    captureToSend: dist(sent.map((f) => (f[1] - f[0]) / 1000)),
    sendToArrival: dist(arrivals.map((f) => (sentAt.has(f[0]) ? (f[1] - skewUs - sentAt.get(f[0])!) / 1000 : NaN))),
    captureToArrival: dist(arrivals.map((f) => (f[1] - skewUs - f[0]) / 1000)),
    decode: dist(r.decodes.filter((d) => inWindow(d[0], start, end)).map((d) => d[1])),
    jitterBuffered: dist(jitter.map((j) => j.bufferedMs)),
    jitterTargetMs: meanOf(jitter.map((j) => j.targetMs)),
    jitterTargetStart: first?.targetMs ?? NaN,
    jitterTargetMaxBefore: targetsBefore.length ? Math.max(...targetsBefore) : NaN,
    underrunsBefore: first?.underruns ?? NaN,
    jitterTargetEnd: last?.targetMs ?? NaN,
    jitterMs: meanOf(jitter.map((j) => j.jitterMs)),
    late: delta('late'),
    lost: delta('lost'),
    dropped: delta('dropped'),
    underruns: delta('underruns'),
    renderToOutput: dist(r.renderToOutputMs.filter((x) => x[0] - skewUs >= start && x[0] - skewUs < end).map((x) => x[1])),
    baseLatencyMs: r.context?.baseLatencyMs ?? NaN,
    outputLatencyMs: r.context?.outputLatencyMs ?? NaN,
    packetsSent: sent.length,
    packetsReceived: arrivals.length,
    kbps: (arrivals.reduce((x, f) => x + f[2], 0) * 8) / windowS / 1000,
    encodeMsSdk: meanOf(s.encodeSamples.filter((x) => inWindow(x[0], start, end)).map((x) => x[2])),
  };
}

async function runPhase(browser: TestBrowser, relay: TestRelay, bundle: string, spec: (typeof PHASES)[number], s: MediaSettings,
  attempt: number, log: (line: string) => void): Promise<MediaPhase> {
  const phase: MediaPhase = { key: spec.key, label: spec.label, short: spec.short, attempts: 1, windowS: s.seconds, errors: [] };
  const pages: Page[] = [];
  const errorsBefore = browser.errors.length;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the phase took over ${s.warmupSeconds + s.seconds + 60} s`)), (s.warmupSeconds + s.seconds + 60) * 1000);
  });
  const work = (async () => {
    const url = `${relay.url}/dist/dev/media-bench.html`;
    const b = await openWindow(browser, url);
    pages.push(b);
    const a = await openWindow(browser, url);
    pages.push(a);
    const meeting = `media-${spec.key}-${attempt}-${Date.now().toString(36)}`;
    const monoBaseUs = nodeNowUs() - monoUs();
    await call(b, `m.receiver(${JSON.stringify({ meeting, name: 'Ben', bundle })})`);
    const published = await call<{ codec: string }>(a, `m.sender(${JSON.stringify({ meeting, name: 'Ana', jpegOnly: spec.jpegOnly, width: spec.width, monoBaseUs, bundle })})`);
    log(`  joined; page A publishes ${published.codec}`);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const m = await call<ReceiverMark>(b, 'm.receiverMark()');
      if (m.framesDecoded > 0 && m.audioFramesReceived > 0) break;
      if (Date.now() > deadline) throw new Error(`no picture or no audio at page B within 20 s (decoded ${m.framesDecoded}, audio packets ${m.audioFramesReceived})`);
      await sleep(250);
    }
    await sleep(s.warmupSeconds * 1000);
    const offA = await pageOffset(a);
    const offB = await pageOffset(b);
    const relayCounters = () => {
      const c = { framesIn: 0, framesOut: 0, videoDropped: 0, staleDropped: 0 };
      for (const peer of relay.relay.rooms.get(meeting)?.participants.values() ?? []) {
        c.framesIn += peer.stats.framesIn;
        c.framesOut += peer.stats.framesOut;
        c.videoDropped += peer.stats.videoDropped;
        c.staleDropped += peer.stats.staleDropped;
      }
      return c;
    };
    const relay0 = relayCounters();
    const load1Start = loadavg()[0]!;
    const cpu0 = cpuSnapshot();
    const [a0, b0] = await Promise.all([call<SenderMark>(a, 'm.senderMark()'), call<ReceiverMark>(b, 'm.receiverMark()')]);
    // Sample the machine every second: other sessions' work comes in bursts that a window average hides.
    const perSecond: Array<[number, number, number, number]> = [];
    const browserPid = browser.browser.process()?.pid;
    const windowEnd = Date.now() + s.seconds * 1000;
    let previous = cpu0;
    while (Date.now() < windowEnd) {
      await sleep(Math.min(1000, windowEnd - Date.now()));
      const snap = cpuSnapshot();
      const m = machineLoad(previous, snap, browserPid, NaN);
      perSecond.push([(snap.at - cpu0.at) / 1000, m.busyPct, m.chromiumPct, m.foreignPct]);
      previous = snap;
    }
    const [a1, b1] = await Promise.all([call<SenderMark>(a, 'm.senderMark()'), call<ReceiverMark>(b, 'm.receiverMark()')]);
    const cpu1 = cpuSnapshot();
    phase.machine = machineLoad(cpu0, cpu1, browserPid, load1Start);
    phase.machine.perSecond = perSecond;
    phase.machine.foreignPeakPct = perSecond.reduce((x, p) => Math.max(x, p[3]), 0);
    // Let the last window frames and beeps come out of the pipeline before reading the records.
    await sleep(600);
    const relay1 = relayCounters();
    phase.relay = {
      framesIn: relay1.framesIn - relay0.framesIn, framesOut: relay1.framesOut - relay0.framesOut,
      videoDropped: relay1.videoDropped - relay0.videoDropped, staleDropped: relay1.staleDropped - relay0.staleDropped,
    };
    const offA2 = await pageOffset(a);
    const offB2 = await pageOffset(b);
    const [sent, got] = await Promise.all([call<SenderRecords>(a, 'm.senderRecords()'), call<ReceiverRecords>(b, 'm.receiverRecords()')]);
    if (process.env.BENCH_DUMP) {
      mkdirSync(process.env.BENCH_DUMP, { recursive: true });
      writeFileSync(join(process.env.BENCH_DUMP, `media-${spec.key}-${attempt}.json`), JSON.stringify({ a0, a1, b0, b1, offA, offB, perSecond, sent, got }));
    }
    const skewBefore = offB.offsetUs - offA.offsetUs;
    const skewAfter = offB2.offsetUs - offA2.offsetUs;
    const skewUs = (skewBefore + skewAfter) / 2;
    phase.clock = { skewMs: skewUs / 1000, rttMs: Math.max(offA.rttUs, offB.rttUs, offA2.rttUs, offB2.rttUs) / 1000, skewBeforeMs: skewBefore / 1000, skewAfterMs: skewAfter / 1000 };
    phase.windowS = (a1.at - a0.at) / 1e6;
    // A capture time is "quiet" when the machine second it falls in had little other work (1 s resolution).
    const quiet: Quiet = (captureUs) => {
      const t = (captureUs - a0.at) / 1e6;
      const second = perSecond.find((p, i) => t >= (i ? perSecond[i - 1]![0] : 0) && t < p[0]);
      return second !== undefined && second[3] < s.maxForeign;
    };
    phase.quietSeconds = perSecond.filter((p) => p[3] < s.maxForeign).length;
    phase.video = videoFigures(sent, got, a0, a1, b0, b1, skewUs, (offA.offsetUs + offA2.offsetUs) / 2, quiet);
    phase.audio = audioFigures(sent, got, a0, a1, skewUs, quiet);
    const tasks = (list: Array<[number, number]>, off: number) => {
      const inside = list.filter((t) => t[0] - off >= a0.at && t[0] - off < a1.at);
      return { count: inside.length, maxMs: inside.reduce((m, t) => Math.max(m, t[1]), 0) };
    };
    phase.longTasks = { a: tasks(sent.longTasks, 0), b: tasks(got.longTasks, skewUs) };
    phase.visibility = `${a1.visibility} / ${b1.visibility}`;
    phase.errors.push(...sent.errors.map((e) => `A: ${e}`), ...got.errors.map((e) => `B: ${e}`));
    await Promise.all(pages.map((p) => call(p, 'm.stop()').catch(() => undefined)));
  })();
  try {
    await Promise.race([work, limit]);
  } catch (error) {
    phase.error = error instanceof Error ? error.message : String(error);
    work.catch(() => undefined);
  } finally {
    clearTimeout(timer);
    await Promise.all(pages.map((p) => p.close().catch(() => undefined)));
  }
  phase.errors.push(...browser.errors.slice(errorsBefore));
  return phase;
}

/** Kills the browser if the process exits while a phase runs (Ctrl-C, a crash). */
let liveBrowserPid: number | undefined;
process.on('exit', () => {
  if (liveBrowserPid !== undefined) {
    try {
      process.kill(liveBrowserPid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

/** Runs both phases; never throws (a failure is reported in the result). */
export async function runMediaBench(s: MediaSettings, log: (line: string) => void): Promise<MediaResult> {
  const started = new Date();
  const t0 = Date.now();
  const result: MediaResult = { phases: [], settings: s, started, durationS: 0, chromium: 'unknown', bundle: 'unknown' };
  log(`lanconf browser media bench — ${s.seconds} s window per phase after ${s.warmupSeconds} s of warm-up`);
  if (!hasChromium) {
    result.error = 'Chromium is not installed (apt-get install chromium, or set CHROME_PATH)';
    log(`  skipped: ${result.error}`);
    return result;
  }
  let relay: TestRelay | undefined;
  let browser: TestBrowser | undefined;
  try {
    const bundle = await prepareBundles(log);
    result.bundle = bundle.note;
    relay = await startRelay();
    browser = await launchBrowser();
    liveBrowserPid = browser.browser.process()?.pid;
    result.chromium = await browser.browser.version();
    for (const spec of PHASES) {
      log(`${spec.label}`);
      const runs: MediaPhase[] = [];
      for (let attempt = 1; attempt <= (spec.repeat ? 2 : 1); attempt++) {
        const busy = await waitForQuiet(attempt > 1 ? 15_000 : 10_000, 30);
        if (busy >= 30) log(`  the machine is busy before the run (${busy.toFixed(0)} % of one core): other work shares it`);
        const run = await runPhase(browser, relay, bundle.url, spec, s, attempt, log);
        runs.push(run);
        if (run.error) {
          log(`  failed: ${run.error}`);
        } else {
          const v = run.video!;
          const au = run.audio!;
          log(`  video ${v.codecSent}→${v.codecReceived}: capture→render p50/p95 ${v.latency.p50.toFixed(1)}/${v.latency.p95.toFixed(1)} ms over ${v.rendered} pictures (${v.renderedFps.toFixed(1)} fps), ${v.kbps.toFixed(0)} kbit/s, ${v.bytesPerFrame.toFixed(0)} B/frame, encode ${v.encodeMsSdk.toFixed(1)} ms`);
          log(`  audio: mouth→ear p50/p95 ${au.mouthToEar.p50.toFixed(1)}/${au.mouthToEar.p95.toFixed(1)} ms over ${au.mouthToEar.n} beeps; capture→arrival p50 ${au.captureToArrival.p50.toFixed(1)} ms, jitter buffer ${au.jitterBuffered.p50.toFixed(1)} ms, render→output ${au.renderToOutput.p50.toFixed(1)} ms`);
          log(`  machine ${run.machine!.busyPct.toFixed(0)} % busy (Chromium ${run.machine!.chromiumPct.toFixed(0)} %, relay+bench ${run.machine!.benchPct.toFixed(0)} %, other work ${run.machine!.foreignPct.toFixed(0)} %), load ${run.machine!.load1Start.toFixed(2)} → ${run.machine!.load1End.toFixed(2)}; page clocks differ by ${run.clock!.skewMs.toFixed(2)} ms`);
        }
        const disturbed = !run.error && run.machine!.foreignPct > s.maxForeign;
        if (disturbed) log(`  disturbed: other work used ${run.machine!.foreignPct.toFixed(0)} % of a core (${run.machine!.otherTop})`);
        if (!run.error && !disturbed) break;
      }
      const clean = runs.filter((r) => !r.error).sort((x, y) => x.machine!.foreignPct - y.machine!.foreignPct);
      const chosen = clean[0] ?? runs.at(-1)!;
      chosen.attempts = runs.length;
      result.phases.push(chosen);
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    log(`  media bench failed: ${result.error}`);
  } finally {
    await browser?.close();
    liveBrowserPid = undefined;
    await relay?.relay.close().catch(() => undefined);
  }
  result.durationS = (Date.now() - t0) / 1000;
  return result;
}

// ------------------------------------------------------------------------------------------------------- report

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f0 = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '–');
const pp = (d: Dist) => `${f1(d.p50)} / ${f1(d.p95)}`;
const cell = (text: string) => text.replace(/\|/g, '/').replace(/\n/g, ' ');

/** Verdict on p95 (stricter than the median; the DESIGN budget names no percentile). */
export function mediaBudgetMet(d: Dist, budgetMs: number): boolean {
  return d.n > 0 && d.p95 < budgetMs;
}

function mediaObservations(r: MediaResult): string[] {
  const out: string[] = [];
  for (const p of r.phases.filter((x) => !x.error && x.video && x.audio)) {
    const v = p.video!;
    const a = p.audio!;
    const m = p.machine!;
    const codec = p.short;
    // Video: where the median goes, and whether the tail is the machine's.
    const vParts = [`camera → SDK stamp ${f1(v.sensorToStamp.p50)} ms (not counted)`, `encode ${f1(v.captureToSend.p50)}`, `WebSocket + relay ${f1(v.sendToArrival.p50)}`, `decode + draw ${f1(v.arrivalToRender.p50)}`];
    let text = `**${codec} video:** median capture → render ${f1(v.latency.p50)} ms = ${vParts.slice(1).join(' + ')} ms (medians of each stage; ${vParts[0]}); the next animation frame comes ${f1(v.toAnimationFrame.p50 - v.latency.p50)} ms later at the median.`;
    if (v.latency.p95 > 2 * v.latency.p50 + 10) {
      const why = v.latencyQuiet.n === 0
        ? `not to be told apart from the machine's load: no second of the window was quiet (other work used up to ${f0(m.foreignPeakPct)} % of a core)`
        : v.latencyQuiet.p95 < v.latency.p95 / 2
          ? `mostly the machine's: in the quiet seconds p95 is ${f1(v.latencyQuiet.p95)} ms, and the busiest second had other work using ${f0(m.foreignPeakPct)} % of a core`
          : `not explained by other work on the machine (quiet seconds p95 ${f1(v.latencyQuiet.p95)} ms over ${v.latencyQuiet.n} pictures)`;
      text += ` The tail (p95 ${f1(v.latency.p95)} ms, max ${f1(v.latency.max)}) is ${why}; it sits in *${v.captureToSend.p95 > v.arrivalToRender.p95 && v.captureToSend.p95 > v.sendToArrival.p95 ? 'stamp → sent (encode)' : v.arrivalToRender.p95 > v.sendToArrival.p95 ? 'arrived → drawn' : 'sent → arrived'}* (p95 ${f1(Math.max(v.captureToSend.p95, v.arrivalToRender.p95, v.sendToArrival.p95))} ms).`;
    }
    text += ` ${f0(v.kbps)} kbit/s, ${f0(v.bytesPerFrame)} B per frame${v.codecSent === 'vp8' ? ` (key frames ${f0(v.keyFrameBytes)} B, ${v.keyFrames} in the window)` : ''}.`;
    out.push(text);
    // Audio: per beep, before and after B's mixer; the part after it split into output buffer and the rest.
    const rest = a.mixerToEar.p50 - a.renderToOutput.p50;
    out.push(`**Audio, with ${codec} video:** median mouth → ear ${f1(a.mouthToEar.p50)} ms: ${f1(a.mouthToMixer.p50)} ms until the packet carrying the beep's onset is decoded in B's mixer`
      + ` (the onset lies ${f1(a.onsetInPacket.mean)} ms into its 20 ms packet, which is sent ${f1(a.captureToSend.p50)} ms after its first sample; WebSocket + relay ${f1(a.sendToArrival.p50)} ms; decode ${f1(a.decode.p50)} ms),`
      + ` then ${f1(a.mixerToEar.p50)} ms until it is heard: ${f1(a.renderToOutput.p50)} ms of output buffer (Chromium's, \`baseLatency\` ${f1(a.baseLatencyMs)} + \`outputLatency\` ${f1(a.outputLatencyMs)} ms)`
      + ` and ${f1(rest)} ms in the jitter buffer and Opus's own delay (the jitter buffer held ${f1(a.jitterBuffered.mean)} ms on average; its target went ${f1(a.jitterTargetStart)} → ${f1(a.jitterTargetEnd)} ms over the window).`
      + (a.underruns > 0 || a.jitterTargetStart > 40 ? ` It ran dry ${a.underruns} times in the window; after a stall its target jumps and then shrinks by only 5 ms per second (JitterBuffer \`shrinkMsPerSecond\` default), so the latency stays high for many seconds after the stall.` : ''));
  }
  return out;
}

/** The "Browser media" section of docs/performance.md. */
export function renderMediaSection(r: MediaResult): string {
  const L: string[] = [];
  const ok = r.phases.filter((p) => !p.error && p.video && p.audio);
  const disturbed = (p: MediaPhase) => Boolean(p.machine && p.machine.foreignPct > r.settings.maxForeign);
  const mark = (p: MediaPhase) => (disturbed(p) ? ' †' : '');
  L.push('## Browser media');
  L.push('');
  L.push(`Generated by \`npm run bench\` (tests/bench/media.ts; \`BENCH_ONLY=media\` runs this part alone) on ${r.started.toISOString().replace('T', ' ').slice(0, 16)} UTC;`);
  L.push(`this part took ${Math.round(r.durationS)} s. ${r.chromium}, headless. SDK: ${r.bundle}.`);
  L.push('');
  if (r.error) {
    L.push(`**Not measured:** ${cell(r.error)}`);
    L.push('');
  }
  L.push('### Results');
  L.push('');
  L.push('| Camera codec | Video capture → render p50 / p95 ms | Same, quiet seconds only | Rendered fps (camera fps) | Bit rate kbit/s | Bytes / frame | Encode ms / frame | Audio mouth → ear p50 / p95 ms (beeps) | Same, quiet seconds only | Machine: busy % / other work % (busiest s) / quiet s / load |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of r.phases) {
    if (p.error || !p.video || !p.audio) {
      L.push(`| ${p.label} | failed (${p.attempts} runs): ${cell(p.error ?? 'no figures').slice(0, 200)} | | | | | | | | |`);
      continue;
    }
    const v = p.video;
    const a = p.audio;
    const m = p.machine!;
    L.push(`| ${p.label}${mark(p)} | **${pp(v.latency)}** | ${pp(v.latencyQuiet)} | ${f1(v.renderedFps)} (${f1(v.cameraFps)}) | ${f0(v.kbps)} | ${f0(v.bytesPerFrame)} | ${f1(v.encodeMsSdk)} | **${pp(a.mouthToEar)}** (${a.mouthToEar.n}) | ${pp(a.mouthToEarQuiet)} (${a.mouthToEarQuiet.n}) | ${f0(m.busyPct)} / ${f0(m.foreignPct)} (${f0(m.foreignPeakPct)}) / ${p.quietSeconds ?? '–'} of ${m.perSecond.length} / ${m.load1Start.toFixed(2)} → ${m.load1End.toFixed(2)} |`);
  }
  L.push('');
  L.push(`*Quiet seconds*: the seconds of the window in which other work on the machine (other sessions share it) used under ${r.settings.maxForeign} % of a core;`);
  L.push('the *quiet seconds only* figures count only frames and beeps captured in them. *Encode ms / frame*: the publisher\'s own');
  L.push('`encoderStats.encodeMs`, averaged over the window; the per-frame distribution is under *Where the time goes*.');
  L.push('');
  for (const p of r.phases.filter(disturbed)) {
    L.push(`† Disturbed: other work used ${f0(p.machine!.foreignPct)} % of a core during the window (${cell(p.machine!.otherTop)}; least disturbed of ${p.attempts} runs); read this row with care.`);
    L.push('');
  }
  L.push('### Budget');
  L.push('');
  L.push(`DESIGN.md: *browser to browser through the relay on one machine: capture-to-render video latency and mouth-to-ear audio latency each under ${MEDIA_BUDGET.videoMs} ms.*`);
  L.push('The verdict is taken on the 95th percentile.');
  L.push('');
  L.push('| Measure | p50 ms | p95 ms | p95, quiet seconds only | Verdict (all frames) |');
  L.push('|---|---:|---:|---:|---|');
  for (const p of ok) {
    const d = p.video!.latency;
    L.push(`| Video capture → render, ${p.short}${mark(p)} | ${f1(d.p50)} | ${f1(d.p95)} | ${f1(p.video!.latencyQuiet.p95)} | ${mediaBudgetMet(d, MEDIA_BUDGET.videoMs) ? 'met' : '**not met**'} |`);
  }
  for (const p of ok) {
    const d = p.audio!.mouthToEar;
    L.push(`| Audio mouth → ear, with ${p.short} video flowing${mark(p)} | ${f1(d.p50)} | ${f1(d.p95)} | ${f1(p.audio!.mouthToEarQuiet.p95)} | ${mediaBudgetMet(d, MEDIA_BUDGET.audioMs) ? 'met' : '**not met**'} |`);
  }
  if (!ok.length) L.push('| (nothing measured) | | | | |');
  L.push('');
  L.push('### Where the time goes');
  L.push('');
  L.push('Video, per frame (p50 / p95 ms). The first stage happens before the SDK\'s capture timestamp and is not in the latency above.');
  L.push('');
  L.push('| Camera codec | Camera → SDK stamp | Stamp → sent (encode) | Sent → arrived at B (WebSocket, relay, WebSocket) | Arrived → drawn (decode, draw) | Capture → drawn | Capture → next animation frame |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const p of ok) {
    const v = p.video!;
    L.push(`| ${p.short}${mark(p)} | ${pp(v.sensorToStamp)} | ${pp(v.captureToSend)} | ${pp(v.sendToArrival)} | ${pp(v.arrivalToRender)} | ${pp(v.latency)} | ${pp(v.toAnimationFrame)} |`);
  }
  L.push('');
  L.push('Audio, per beep (p50 / p95 ms): *mouth → in B\'s mixer* + *in the mixer → ear* = *mouth → ear*. Then, to split them, per packet');
  L.push('(p50 / p95 ms): the SDK stamps a packet with the capture time of its first sample and sends it once its 20 ms are');
  L.push('captured and encoded; the jitter buffer\'s fill is sampled every 250 ms, the output buffer every 100 ms.');
  L.push('');
  L.push('| With video | Mouth → in B\'s mixer | In the mixer → ear | Mouth → ear | Stamp → sent (20 ms capture + Opus encode) | Sent → arrived at B | Arrived → in the mixer (decode) | Jitter buffer holds (target) | Rendered → output (`getOutputTimestamp`) |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of ok) {
    const a = p.audio!;
    L.push(`| ${p.short}${mark(p)} | ${pp(a.mouthToMixer)} | ${pp(a.mixerToEar)} | ${pp(a.mouthToEar)} | ${pp(a.captureToSend)} | ${pp(a.sendToArrival)} | ${pp(a.decode)} | ${pp(a.jitterBuffered)} (${f1(a.jitterTargetMs)}) | ${pp(a.renderToOutput)} |`);
  }
  L.push('');
  L.push('### Observations (generated from the figures above)');
  L.push('');
  for (const o of mediaObservations(r)) L.push(`* ${o}`);
  L.push('');
  L.push('### Details');
  L.push('');
  L.push('| Camera codec | Frames sent / received / drawn | Relay: frames in / out, video dropped (backlog / stale) | Renderer dropped | Sender skipped / dropped | Key frames (mean B) | Delta frames mean B | Encoded kbit/s (A) | SDK `latencyMs` p50 / p95 | Page clock B − A ms | Audio packets sent / received | Audio kbit/s | Opus encode ms (SDK) | Jitter ms | Jitter-buffer target: highest before the window (underruns then); start → end of window ms | Late / lost / dropped / underruns | Beep onset in its packet ms (min / mean / max) | Beeps unmatched | Output: baseLatency / outputLatency ms | Chromium % / relay+bench % | Long tasks A / B (longest ms) | Pages visible | Attempts | Errors |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  for (const p of ok) {
    const v = p.video!;
    const a = p.audio!;
    L.push(`| ${p.short} (${v.codecSent}→${v.codecReceived}, ${v.size}) | ${v.sent} / ${v.received} / ${v.rendered} | ${p.relay ? `${p.relay.framesIn} / ${p.relay.framesOut}, ${p.relay.videoDropped} / ${p.relay.staleDropped}` : '–'} | ${v.rendererDropped} | ${v.senderSkipped} / ${v.senderDropped} | ${v.keyFrames} (${f0(v.keyFrameBytes)}) | ${f0(v.deltaFrameBytes)} | ${f0(v.kbpsEncoded)} | ${pp(v.latencySdk)} | ${p.clock!.skewMs.toFixed(2)} (${p.clock!.skewBeforeMs.toFixed(2)} before, ${p.clock!.skewAfterMs.toFixed(2)} after; probe RTT ≤ ${p.clock!.rttMs.toFixed(2)}) | ${a.packetsSent} / ${a.packetsReceived} | ${f1(a.kbps)} | ${a.encodeMsSdk.toFixed(2)} | ${f1(a.jitterMs)} | ${f1(a.jitterTargetMaxBefore)} (${a.underrunsBefore}); ${f1(a.jitterTargetStart)} → ${f1(a.jitterTargetEnd)} | ${a.late} / ${a.lost} / ${a.dropped} / ${a.underruns} | ${f1(a.onsetInPacket.min)} / ${f1(a.onsetInPacket.mean)} / ${f1(a.onsetInPacket.max)} | ${a.unmatchedBeeps} | ${f1(a.baseLatencyMs)} / ${f1(a.outputLatencyMs)} | ${f0(p.machine!.chromiumPct)} / ${f0(p.machine!.benchPct)} | ${p.longTasks ? `${p.longTasks.a.count} (${f0(p.longTasks.a.maxMs)}) / ${p.longTasks.b.count} (${f0(p.longTasks.b.maxMs)})` : '–'} | ${p.visibility ?? '–'} | ${p.attempts} | ${p.errors.length ? cell(p.errors.slice(0, 3).join('; ')).slice(0, 200) : '–'} |`);
  }
  L.push('');
  L.push('### Method');
  L.push('');
  L.push('* One headless Chromium (tests/browser.ts: `--use-fake-device-for-media-stream`, a 640×480 test-pattern camera and a');
  L.push('  microphone that beeps every 500 ms) and a real relay on 127.0.0.1 in the bench process. Two pages load the SDK bundle');
  L.push('  `/dist/browser/lanconf.js` from the relay and `joinMeeting` over WebSocket. Page A publishes camera (`publishCamera()`,');
  L.push('  640×480, 25 fps asked) and microphone; page B publishes nothing, attaches A\'s camera to a canvas');
  L.push('  (`remoteTrack.attach(canvas)`) and plays A\'s microphone through the session\'s own playout (`startAudio()`). Phase 1: VP8');
  L.push('  (the default); phase 2: A joins with `fallbacks: { jpegOnly: true }`; phase 3 (run once, not repeated): VP8 with');
  L.push('  `publishCamera({ width: 624, height: 480 })`, because Chromium\'s software VP8 encoder (WebCodecs) uses 2 libvpx threads');
  L.push('  from 640×480 of area up and 1 thread below (media/base/video_encoder.cc, `GetNumberOfThreadsForSoftwareEncoding`): it');
  L.push('  tells the encoder\'s threading apart from the codec. Audio flows in every phase, as in a call.');
  L.push(`* Each phase: join, wait for the first picture and audio packet at B, ${r.settings.warmupSeconds} s of warm-up, then a ${r.settings.seconds} s window. Only frames`);
  L.push('  and beeps whose capture time lies in the window count. Browser-side recording (tests/bench/media-page.ts) is read after');
  L.push('  the window, so nothing crosses the DevTools protocol while it runs. The SDK is not modified: the bench wraps `send()` on');
  L.push('  A\'s two local track instances, listens to events, and wraps `AudioNode.prototype.connect` in page B to find the');
  L.push('  session\'s audio mixer node. Pages open in windows of their own (both visible, as each participant\'s page would be);');
  L.push('  a page load that fails is retried (up to 3 times) and the failure is listed under *Errors* in the details.');
  L.push('* Clock: both pages stamp with `performance.timeOrigin + performance.now()` (the SDK\'s `nowMicros`, µs since the epoch;');
  L.push('  the SDK\'s capture timestamps use it). Each page\'s clock is compared with Node\'s before and after the window (25 probes;');
  L.push('  the median offset of the 5 with the shortest round trips) and every cross-page figure is corrected by the mean');
  L.push('  difference between the pages (*Page clock B − A*, in the details; the SDK\'s own uncorrected `latencyMs` is listed too).');
  L.push('* **Video capture → render**: for every picture B draws into the canvas, the renderer\'s `latencyMs` (its `nowMicros()` right');
  L.push('  after `drawImage` − the frame\'s capture timestamp), read in its `frame` event. The SDK stamps a frame when it reads it');
  L.push('  from the camera (`MediaStreamTrackProcessor`); *Camera → SDK stamp* measures what comes before, with a second reader on');
  L.push('  a clone of the camera track: `VideoFrame.timestamp` of the camera is CLOCK_MONOTONIC, turned into wall time with the');
  L.push('  offset Node sees between its wall clock and CLOCK_MONOTONIC. *Capture → next animation frame*: the first');
  L.push('  `requestAnimationFrame` after the draw, the earliest the canvas can be composited (headless Chromium has no display, so');
  L.push('  the scan-out a real screen adds is not here). Stages: *stamp → sent* is the publisher\'s encode (frame read → encoded');
  L.push('  frame handed to `send()`); *sent → arrived* is WebSocket to the relay, the relay, WebSocket to B and B\'s parsing up to');
  L.push('  the track\'s `frame` event; *arrived → drawn* is decode and draw.');
  L.push('* **Bit rate**: payload bytes of the window frames B received × 8 ÷ window. *Encoded kbit/s (A)*: the publisher\'s');
  L.push('  `encoderStats.bytesEncoded` over the window. **Encode ms / frame**: `local.camera.encoderStats.encodeMs` (mean of the last');
  L.push('  ~50 frames: VP8 `encode()` → output; JPEG `drawImage` + `convertToBlob`), read every 500 ms, averaged over the window.');
  L.push('* **Audio mouth → ear**: per beep of the fake microphone, the onset (first sample ≥ 0.1 after ≥ 200 ms below it) is');
  L.push('  found twice. Mouth: in page A, a reader on a clone of the published microphone track, its source clock mapped to the');
  L.push('  wall clock exactly as the SDK maps it for its capture timestamps (the smallest "arrival − end of chunk"); *beep onset');
  L.push('  in its packet* (0–20 ms) checks that this lands inside the SDK packet that carries the onset. Ear: in page B, an');
  L.push('  AudioWorklet tap on the output of the session\'s mixer finds the onset in what is played, and');
  L.push('  `AudioContext.getOutputTimestamp()` gives when that sample leaves for the output device. So the figure includes Opus\'s');
  L.push('  own delay, the jitter buffer and the audio output buffer. It does not include what comes before the samples reach');
  L.push('  page script (Chromium\'s audio capture and processing) nor a real sound card\'s latency (headless Chromium has none;');
  L.push('  `outputLatency` is what Chromium reports for its fake output).');
  L.push('* Audio stages, per beep: *mouth → in B\'s mixer* ends when the decoded PCM of the packet carrying the onset is posted');
  L.push('  to the mixer worklet (the bench wraps the mixer port\'s `postMessage`, which carries the packet\'s arrival time); *in the');
  L.push('  mixer → ear* is the rest. Per packet: *stamp → sent* (capture of the packet\'s 20 ms, then Opus encode), *sent → arrived*');
  L.push('  as for video, *arrived → in the mixer* (Opus decode); *jitter buffer holds* is its `bufferedMs` (audio from the playout');
  L.push('  point to the end of the newest frame) as the mixer reports it on its port; *rendered → output* is how far ahead of the');
  L.push('  output device the context renders (`getOutputTimestamp()`).');
  L.push('* Relay counters (details): Σ over the meeting\'s peers of `framesIn`, `framesOut`, `videoDropped` (subscriber backlog) and');
  L.push('  `staleDropped` (a video frame that reached the relay over 250 ms later than the track\'s usual transit is dropped and a');
  L.push('  key frame asked for), from the window\'s start to 0.6 s after its end; the relay runs in the bench process, unmodified.');
  L.push(`* Machine: /proc/stat over the window; *other work* is busy − softirq − Chromium (the browser\'s process tree) − the bench`);
  L.push(`  process (which holds the relay). A phase during which other work used over ${r.settings.maxForeign} % of a core is run again once and the`);
  L.push('  less disturbed run is shown (marked † if still disturbed). Load is the 1-minute load average at the window\'s start → end.');
  L.push(`  The machine is also read every second: the *quiet seconds* are those in which other work used under the same ${r.settings.maxForeign} %.`);
  L.push('  With 2 cores, Chromium (two pages encoding, decoding, mixing) and the relay share the CPU with whatever else runs.');
  L.push('');
  return L.join('\n');
}
