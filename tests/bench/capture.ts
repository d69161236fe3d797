/**
 * Native capture bench: what each capture adapter costs per frame (capture, scale, encode; p50/p95), and the CPU of
 * one native host sharing screen + microphone + camera through a relay for ~10 s.
 *
 * `runCaptureBench()` sets up its own devices (Xvfb, a private PulseAudio with a null sink, ffmpeg's testsrc2 as
 * the camera, see tests/capture/devices.ts), returns the figures and never throws: a part that cannot run is
 * reported in `errors`. The host runs in a child process (this file with `--host`), so its CPU is measured apart
 * from the relay and the bench: its own user+system time (every thread, the audio worker too) plus that of the
 * programs it ran and waited for (ImageMagick `import` for each screenshot, ffmpeg).
 *
 * Run alone: `node --import tsx tests/bench/capture.ts` prints the result as JSON.
 * Budgets (DESIGN.md): a 640×480 JPEG frame under 10 ms; Opus 20 ms frames in real time with room to spare.
 * @module
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { joinMeeting } from '../../sdk/node.js';
import type { Session } from '../../sdk/Session.js';
import { CameraSource, MicrophoneSource, MjpegSplitter, ScreenSource, shareCamera, shareMicrophone, shareScreen, type CaptureShare } from '../../relay/capture/index.js';
import { join, leaveAll, startRelay, type TestRelay } from '../helpers.js';
import { run, startPulse, startXvfb, writeToneWav, type PulseServer, type XServer } from '../capture/devices.js';
import { percentiles, sleep } from './common.js';
import { waitForQuiet } from './measure.js';

/** p50 and p95 of a list of milliseconds. */
export interface Spread {
  p50: number;
  p95: number;
  count: number;
}

/** What {@link runCaptureBench} measures. */
export interface CaptureBenchResult {
  started: string;
  machine: { cpu: string; cores: number; busyBeforePct: number };
  /** Screen adapter on a 1280×720 Xvfb showing a busy picture, every capture encoded (JPEG q60, 1280×720). */
  screen?: { width: number; height: number; captureMs: Spread; hashMs: Spread; encodeMs: Spread; totalMs: Spread; jpegBytes: number };
  /** sharp alone: a 640×480 RGB picture to JPEG q70 (the DESIGN budget: under 10 ms). */
  jpeg640?: { encodeMs: Spread; bytes: number; budgetMs: number; met: boolean };
  /** Camera adapter on testsrc2: frames per second, splitting cost (pass-through) and sharp re-encode cost. */
  camera?: { fps: number; splitMs: Spread; reencodeMs: Spread; jpegBytes: number };
  /** Microphone adapter on the null sink's monitor with a tone playing: Opus encode time per 20 ms frame. */
  microphone?: { frames: number; encodeMs: Spread; realTimeFraction: number; met: boolean };
  /** One native host sharing screen + microphone + camera for `seconds`. */
  host?: {
    seconds: number;
    /** % of one core: the Node process (all threads) and the programs it ran (import, ffmpeg). */
    cpuPct: { total: number; node: number; children: number };
    framesSent: { screen: number; microphone: number; camera: number };
    screenChangesPerSecond: number;
  };
  errors: string[];
}

/** Options of {@link runCaptureBench}. */
export interface CaptureBenchOptions {
  /** Seconds the host shares screen + microphone + camera. Default 10. */
  hostSeconds?: number;
  /** Screen captures measured. Default 40. */
  screenFrames?: number;
  /** Progress lines. Default: none. */
  log?: (line: string) => void;
}

const HERE = fileURLToPath(import.meta.url);

function spread(values: readonly number[]): Spread {
  const [p50, p95] = percentiles(values, [50, 95]);
  return { p50: round(p50!), p95: round(p95!), count: values.length };
}

function round(x: number, digits = 2): number {
  return Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs the whole capture bench. Never throws. */
export async function runCaptureBench(options: CaptureBenchOptions = {}): Promise<CaptureBenchResult> {
  const log = options.log ?? (() => undefined);
  const result: CaptureBenchResult = {
    started: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, busyBeforePct: NaN },
    errors: [],
  };
  const dir = mkdtempSync(joinPath(tmpdir(), 'lanconf-capture-bench-'));
  let x: XServer | undefined;
  let pulse: PulseServer | undefined;
  let restoreEnv: (() => void) | undefined;
  try {
    result.machine.busyBeforePct = round(await waitForQuiet(10_000, 30), 0);
    log(`capture bench — the machine was ${result.machine.busyBeforePct} % busy (of one core) before it`);
    try {
      x = await startXvfb(1280, 720);
      for (const seed of [1, 2]) {
        await run('convert', ['-seed', String(seed), '-size', '1280x720', 'plasma:fractal', joinPath(dir, `busy${seed}.png`)], { timeoutMs: 30_000 });
      }
      await x.showImage(joinPath(dir, 'busy1.png'));
    } catch (error) {
      result.errors.push(`screen: ${message(error)}`);
    }
    try {
      pulse = await startPulse();
      restoreEnv = pulse.useInThisProcess();
      writeToneWav(joinPath(dir, 'tone.wav'), 440, 30, 0.3);
    } catch (error) {
      result.errors.push(`audio: ${message(error)}`);
    }

    if (x) await benchScreen(x, options.screenFrames ?? 40, result).catch((e: unknown) => result.errors.push(`screen: ${message(e)}`));
    log(`  screen: ${JSON.stringify(result.screen)}`);
    await benchJpeg640(dir, result).catch((e: unknown) => result.errors.push(`jpeg640: ${message(e)}`));
    log(`  jpeg 640×480: ${JSON.stringify(result.jpeg640)}`);
    await benchCamera(result).catch((e: unknown) => result.errors.push(`camera: ${message(e)}`));
    log(`  camera: ${JSON.stringify(result.camera)}`);
    if (pulse) await benchMicrophone(pulse, dir, result).catch((e: unknown) => result.errors.push(`microphone: ${message(e)}`));
    log(`  microphone: ${JSON.stringify(result.microphone)}`);
    if (x && pulse) {
      await benchHost(x, pulse, dir, options.hostSeconds ?? 10, result).catch((e: unknown) => result.errors.push(`host: ${message(e)}`));
      log(`  host: ${JSON.stringify(result.host)}`);
    }
  } finally {
    restoreEnv?.();
    await pulse?.stop().catch(() => undefined);
    await x?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

async function benchScreen(x: XServer, frames: number, result: CaptureBenchResult): Promise<void> {
  // refreshMs 0: every capture is encoded, as on a screen that keeps changing.
  const source = new ScreenSource({ xDisplay: x.display, fps: 30, refreshMs: 0 });
  let bytes = 0;
  let count = 0;
  await source.start();
  try {
    for await (const frame of source) {
      bytes += frame.data.byteLength;
      if (++count >= frames) break;
    }
  } finally {
    await source.stop();
  }
  const t = source.timing;
  const n = Math.min(t.captureMs.length, t.hashMs.length, t.encodeMs.length);
  const total = Array.from({ length: n }, (_, i) => t.captureMs[i]! + t.hashMs[i]! + t.encodeMs[i]!);
  result.screen = {
    width: 1280, height: 720, captureMs: spread(t.captureMs), hashMs: spread(t.hashMs), encodeMs: spread(t.encodeMs), totalMs: spread(total),
    jpegBytes: Math.round(bytes / Math.max(1, count)),
  };
}

async function benchJpeg640(dir: string, result: CaptureBenchResult): Promise<void> {
  const raw = await sharp(joinPath(dir, 'busy1.png')).resize(640, 480, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 100; i++) {
    const started = performance.now();
    const jpeg = await sharp(raw, { raw: { width: 640, height: 480, channels: 3 } }).jpeg({ quality: 70 }).toBuffer();
    times.push(performance.now() - started);
    bytes = jpeg.byteLength;
  }
  const encodeMs = spread(times.slice(10));
  result.jpeg640 = { encodeMs, bytes, budgetMs: 10, met: encodeMs.p95 < 10 };
}

async function benchCamera(result: CaptureBenchResult): Promise<void> {
  const passthrough = new CameraSource({ device: 'lavfi:testsrc2' });
  const chunks: Buffer[] = [];
  let frames = 0;
  let bytes = 0;
  await passthrough.start();
  const started = performance.now();
  try {
    for await (const frame of passthrough) {
      frames++;
      bytes += frame.data.byteLength;
      chunks.push(Buffer.from(frame.data));
      if (performance.now() - started > 4000) break;
    }
  } finally {
    await passthrough.stop();
  }
  const fps = frames / ((performance.now() - started) / 1000);
  // Splitting cost: the same stream fed again in ffmpeg-sized pieces.
  const stream = Buffer.concat(chunks);
  const splitter = new MjpegSplitter();
  const splitMs: number[] = [];
  for (let i = 0; i < stream.length; i += 65536) {
    const t0 = performance.now();
    const out = splitter.push(stream.subarray(i, i + 65536));
    if (out.length > 0) splitMs.push((performance.now() - t0) / out.length);
  }
  const reencode = new CameraSource({ device: 'lavfi:testsrc2', reencode: true, quality: 70 });
  await reencode.start();
  const t1 = performance.now();
  try {
    for await (const frame of reencode) {
      void frame;
      if (performance.now() - t1 > 3000) break;
    }
  } finally {
    await reencode.stop();
  }
  result.camera = { fps: round(fps, 1), splitMs: spread(splitMs), reencodeMs: spread(reencode.timing.encodeMs.slice(5)), jpegBytes: Math.round(bytes / Math.max(1, frames)) };
}

async function benchMicrophone(pulse: PulseServer, dir: string, result: CaptureBenchResult): Promise<void> {
  const mic = new MicrophoneSource();
  await mic.start();
  const stopTone = new AbortController();
  const playing = pulse.play(joinPath(dir, 'tone.wav'), 60_000, stopTone.signal).catch(() => undefined);
  let frames = 0;
  const started = performance.now();
  try {
    for await (const frame of mic) {
      void frame;
      frames++;
      if (performance.now() - started > 5000) break;
    }
  } finally {
    await mic.stop();
  }
  stopTone.abort();
  await playing;
  const encodeMs = spread(mic.timing.encodeMs);
  result.microphone = { frames, encodeMs, realTimeFraction: round(encodeMs.p95 / 20, 4), met: encodeMs.p95 < 10 };
}

/** What the host child reports. */
interface HostReport {
  type: 'report';
  selfUs: number;
  childrenTicks: number;
  seconds: number;
  framesSent: { screen: number; microphone: number; camera: number };
}

async function benchHost(x: XServer, pulse: PulseServer, dir: string, seconds: number, result: CaptureBenchResult): Promise<void> {
  let relay: TestRelay | undefined;
  let viewer: Session | undefined;
  let changing = true;
  const stopTone = new AbortController();
  const tone = pulse.play(joinPath(dir, 'tone.wav'), 60_000, stopTone.signal).catch(() => undefined);
  // The screen changes twice a second (two busy pictures in turn): half the captures at 8 fps are encoded.
  let changes = 0;
  const changer = (async () => {
    for (let i = 0; changing; i++) {
      await x.showImage(joinPath(dir, `busy${(i % 2) + 1}.png`)).catch(() => undefined);
      changes++;
      await sleep(500);
    }
  })();
  try {
    relay = await startRelay();
    viewer = await join(relay.url, 'Bench', 'Viewer');
    const child = fork(HERE, ['--host'], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...pulse.env, DISPLAY: x.display, CAPTURE_BENCH_URL: relay.url, CAPTURE_BENCH_SECONDS: String(seconds) },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-3000)));
    const changesAtStart = changes;
    const startedAt = performance.now();
    const report = await new Promise<HostReport>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the host did not report within ${seconds + 60} s`));
      }, (seconds + 60) * 1000);
      child.on('message', (m: HostReport | { type: 'error'; message: string }) => {
        clearTimeout(timer);
        if (m.type === 'report') resolve(m);
        else reject(new Error(m.message));
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the host exited (${code}): ${stderr.split('\n').filter((l) => !/^ALSA lib|RtApi/.test(l)).slice(-5).join(' | ')}`));
      });
    });
    const elapsed = (performance.now() - startedAt) / 1000;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    const node = (report.selfUs / 1e6 / report.seconds) * 100;
    const children = (report.childrenTicks / 100 / report.seconds) * 100;
    result.host = {
      seconds: round(report.seconds, 1),
      cpuPct: { total: round(node + children, 1), node: round(node, 1), children: round(children, 1) },
      framesSent: report.framesSent,
      screenChangesPerSecond: round((changes - changesAtStart) / elapsed, 1),
    };
  } finally {
    changing = false;
    await changer;
    stopTone.abort();
    await tone;
    await leaveAll([viewer]);
    await relay?.relay.close();
  }
}

/** Fields after the command name of /proc/PID/stat (field 3 is index 0). */
function statFields(pid: number | 'self'): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU ticks of this process's children: those still running (utime + stime of each, e.g. ffmpeg) plus those it
 * waited for (cutime + cstime: every finished ImageMagick `import`).
 */
function childrenTicks(): number {
  const self = statFields('self');
  let ticks = Number(self[13]) + Number(self[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = statFields(Number(entry));
      if (Number(f[1]) === process.pid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone meanwhile (then it is in cutime)
    }
  }
  return ticks;
}

function selfMicros(): number {
  const usage = process.resourceUsage();
  return usage.userCPUTime + usage.systemCPUTime;
}

/** The host: joins natively, shares the three adapters for the window, stops them (reaping ffmpeg), reports its CPU. */
async function host(): Promise<void> {
  const seconds = Number(process.env.CAPTURE_BENCH_SECONDS ?? 10);
  const session = await joinMeeting({ url: process.env.CAPTURE_BENCH_URL!, meeting: 'Bench', name: 'Kiosk', transport: 'native', timeoutMs: 5000 });
  const shares: CaptureShare[] = [];
  try {
    shares.push(await shareScreen(session, { fps: 8 }));
    shares.push(await shareMicrophone(session));
    shares.push(await shareCamera(session, { device: 'lavfi:testsrc2' }));
    await sleep(1000);
    const sent0 = shares.map((s) => s.track.stats.framesSent);
    const self0 = selfMicros();
    const children0 = childrenTicks();
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const sent = shares.map((s, i) => s.track.stats.framesSent - sent0[i]!);
    const elapsed = (performance.now() - t0) / 1000;
    const selfUs = selfMicros() - self0;
    const ticks = childrenTicks() - children0;
    await Promise.all(shares.map((s) => s.stop()));
    const report: HostReport = {
      type: 'report', selfUs, childrenTicks: ticks, seconds: elapsed,
      framesSent: { screen: sent[0]!, microphone: sent[1]!, camera: sent[2]! },
    };
    process.send?.(report);
  } catch (error) {
    process.send?.({ type: 'error', message: message(error) });
  } finally {
    await Promise.all(shares.map((s) => s.stop()));
    await session.leave().catch(() => undefined);
    process.disconnect?.();
  }
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  if (process.argv.includes('--host')) {
    await host();
  } else {
    const result = await runCaptureBench({ log: (line) => console.error(line) });
    console.log(JSON.stringify(result, null, 2));
  }
}

/** The capture part of docs/performance.md (between its markers). */
export function renderCaptureSection(r: CaptureBenchResult): string {
  const L: string[] = [];
  const fix = (v: number) => v.toFixed(v < 1 ? 2 : 1);
  const ms = (s: Spread | undefined) => (s ? `${fix(s.p50)} / ${fix(s.p95)}` : '–');
  L.push('## Native capture adapters');
  L.push('');
  L.push(`Generated by \`npm run bench\` (tests/bench/capture.ts; \`BENCH_ONLY=capture\` runs this part alone) on ${r.started.replace('T', ' ').slice(0, 16)} UTC,`);
  L.push(`${r.machine.cores} × ${r.machine.cpu}; the machine was ${r.machine.busyBeforePct} % busy (of one core) before it. Devices as in the tests: a 1280×720`);
  L.push('Xvfb screen showing a busy fractal picture, a PulseAudio null sink with an 880 Hz tone, `ffmpeg -f lavfi -i testsrc2` as the camera.');
  L.push('');
  L.push('| Step | p50 / p95 ms | Notes |');
  L.push('|---|---:|---|');
  if (r.screen) {
    L.push(`| Screen capture (ImageMagick \`import\`, ${r.screen.width}×${r.screen.height}) | ${ms(r.screen.captureMs)} | one process per frame; fine at 8 fps |`);
    L.push(`| Screen change check (hash) | ${ms(r.screen.hashMs)} | unchanged frames are skipped here |`);
    L.push(`| Screen scale + JPEG q60 (sharp) | ${ms(r.screen.encodeMs)} | ${(r.screen.jpegBytes / 1000).toFixed(0)} KB a frame |`);
    L.push(`| Screen, whole frame | ${ms(r.screen.totalMs)} | |`);
  }
  if (r.jpeg640) {
    L.push(`| **640×480 JPEG q70 (sharp)** | **${ms(r.jpeg640.encodeMs)}** | budget ${r.jpeg640.budgetMs} ms: **${r.jpeg640.met ? 'met' : 'NOT met'}**; ${(r.jpeg640.bytes / 1000).toFixed(0)} KB |`);
  }
  if (r.camera) {
    L.push(`| Camera: split one MJPEG frame (pass-through) | ${ms(r.camera.splitMs)} | ${r.camera.fps.toFixed(1)} fps delivered |`);
    L.push(`| Camera: sharp re-encode (optional) | ${ms(r.camera.reencodeMs)} | ${(r.camera.jpegBytes / 1000).toFixed(0)} KB a frame |`);
  }
  if (r.microphone) {
    L.push(`| **Opus encode of a 20 ms frame** | **${ms(r.microphone.encodeMs)}** | ${(r.microphone.realTimeFraction * 100).toFixed(1)} % of real time: **${r.microphone.met ? 'met' : 'NOT met'}** (${r.microphone.frames} frames) |`);
  }
  L.push('');
  if (r.host) {
    L.push(`One native host sharing screen (8 fps, ${r.host.screenChangesPerSecond} changes a second), microphone and camera for ${r.host.seconds} s: ` +
      `**${r.host.cpuPct.total.toFixed(0)} % of one core** — ${r.host.cpuPct.node.toFixed(0)} % in the Node process (all its threads), ` +
      `${r.host.cpuPct.children.toFixed(0)} % in the programs it runs (\`import\` per screenshot, ffmpeg drawing the test pattern). ` +
      `Frames sent: ${r.host.framesSent.screen} screen, ${r.host.framesSent.microphone} microphone, ${r.host.framesSent.camera} camera.`);
    L.push('');
  }
  if (r.errors.length) {
    L.push(`Not measured: ${r.errors.join('; ')}.`);
    L.push('');
  }
  return L.join('\n');
}
