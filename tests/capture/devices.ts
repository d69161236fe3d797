/**
 * Real devices for the capture tests, set up by the tests themselves: an Xvfb X server on a free display number,
 * and a private PulseAudio with a null sink (its own HOME and XDG_RUNTIME_DIR, so it never touches a desktop's
 * sound server). Every process started here is stopped by `stop()` (and killed at exit as a last resort).
 *
 * A missing tool is an error with the package to install, never a silent skip.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The Debian package of each tool the capture tests use. */
const PACKAGES: Record<string, string> = {
  Xvfb: 'xvfb', xsetroot: 'x11-xserver-utils', xrandr: 'x11-xserver-utils', import: 'imagemagick', convert: 'imagemagick',
  display: 'imagemagick', ffmpeg: 'ffmpeg', pulseaudio: 'pulseaudio', pactl: 'pulseaudio-utils', paplay: 'pulseaudio-utils',
  parec: 'pulseaudio-utils',
};

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Throws, naming the package to install, when one of `tools` is not on the PATH. */
export function requireTools(tools: readonly string[]): void {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const missing = tools.filter((tool) => !dirs.some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }));
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((t) => PACKAGES[t] ?? t))];
    throw new Error(`the capture tests need ${missing.map((t) => `"${t}"`).join(', ')}: apt-get install -y ${packages.join(' ')}`);
  }
}

/** Runs a program to completion; rejects on a non-zero exit or after `timeoutMs`. */
export function run(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: Uint8Array; signal?: AbortSignal } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    // Aborting kills this one process (by its handle) and resolves with what it printed.
    let aborted = false;
    options.signal?.addEventListener('abort', () => {
      aborted = true;
      child.kill('SIGKILL');
    }, { once: true });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} took more than ${options.timeoutMs ?? 10_000} ms`));
    }, options.timeoutMs ?? 10_000);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err = (err + chunk.toString('utf8')).slice(-2000)));
    child.on('error', (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      live.delete(child);
      if (code === 0 || aborted) resolve(Buffer.concat(out));
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${err.trim()}`));
    });
    if (options.input) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** Sends SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(child: ChildProcess | undefined, graceMs = 2000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) {
    if (child) live.delete(child);
    return;
  }
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
  live.delete(child);
}

/** A running Xvfb. */
export interface XServer {
  /** `:N` */
  display: string;
  width: number;
  height: number;
  /** Fills the root window with one colour (`#rrggbb`). */
  solid(colour: string): Promise<void>;
  /** Shows an image (any format ImageMagick reads) as the root window's background. */
  showImage(path: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts Xvfb on a display number it picks itself (`-displayfd`), so parallel runs never collide.
 * `-noreset`: without it the root window is wiped when the last client leaves.
 */
export async function startXvfb(width = 1280, height = 720): Promise<XServer> {
  requireTools(['Xvfb', 'xsetroot', 'xrandr', 'import', 'convert', 'display']);
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  const number = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not report its display within 10 s: ${stderr.trim()}`)), 10_000);
    const fd = child.stdio[3] as NodeJS.ReadableStream;
    fd.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      const m = /^(\d+)\n/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${code}) before it was ready: ${stderr.trim()}`));
    });
  }).catch(async (error: unknown) => {
    await stopProcess(child);
    throw error;
  });
  const display = `:${number}`;
  const env = { ...process.env, DISPLAY: display };
  return {
    display, width, height,
    async solid(colour) {
      await run('xsetroot', ['-display', display, '-solid', colour], { env });
    },
    async showImage(path) {
      // `display -window root` sets the root background and exits.
      await run('display', ['-display', display, '-window', 'root', path], { env, timeoutMs: 15_000 }).catch(async (error: unknown) => {
        // ImageMagick 6 exits 1 after setting the background on some builds; the capture checks the result anyway.
        if (!String((error as Error).message).includes('exited with 1')) throw error;
      });
    },
    stop: () => stopProcess(child),
  };
}

/** A four-quadrant test picture (top-left, top-right, bottom-left, bottom-right colours), written as PNG. */
export async function quadrantImage(path: string, width: number, height: number, colours: readonly [string, string, string, string]): Promise<void> {
  const w = width / 2;
  const h = height / 2;
  await run('convert', [
    '-size', `${w}x${h}`, `xc:${colours[0]}`, `xc:${colours[1]}`, '+append',
    '(', '-size', `${w}x${h}`, `xc:${colours[2]}`, `xc:${colours[3]}`, '+append', ')', '-append', '+repage', path,
  ]);
}

/** A private PulseAudio with a null sink `lan` (its monitor `lan.monitor` is the capture source). */
export interface PulseServer {
  /** The environment a client needs to reach it. */
  env: Record<string, string>;
  sink: string;
  monitor: string;
  /** Points this process's environment at the server (libpulse reads it on connect); returns the undo. */
  useInThisProcess(): () => void;
  /** Plays a WAV file into the sink; resolves when it has played (or `signal` stopped it). */
  play(path: string, timeoutMs?: number, signal?: AbortSignal): Promise<void>;
  /** Records the sink's monitor for `ms`: 48 kHz mono 16-bit samples. */
  record(ms: number): Promise<Int16Array>;
  stop(): Promise<void>;
}

/** Starts PulseAudio in the foreground with its own runtime and home directories, plus a low-latency keep-alive reader. */
export async function startPulse(): Promise<PulseServer> {
  requireTools(['pulseaudio', 'pactl', 'paplay', 'parec']);
  const home = mkdtempSync(join(tmpdir(), 'lanconf-pulse-home-'));
  const runtime = mkdtempSync(join(tmpdir(), 'lanconf-pulse-run-'));
  const socket = join(runtime, 'pulse', 'native');
  const env: Record<string, string> = {
    HOME: home, XDG_RUNTIME_DIR: runtime, PULSE_SERVER: `unix:${socket}`, PULSE_LATENCY_MSEC: '30',
  };
  const childEnv = { ...process.env, ...env };
  const daemon = spawn('pulseaudio', [
    '-n', '--daemonize=no', '--exit-idle-time=-1', '--disallow-exit', '--use-pid-file=no', '--log-target=stderr', '--log-level=error',
    '--load=module-native-protocol-unix auth-anonymous=1',
    '--load=module-null-sink sink_name=lan sink_properties=device.description=lan',
  ], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(daemon);
  let stderr = '';
  daemon.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
  let keepAlive: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    await stopProcess(keepAlive);
    await stopProcess(daemon);
    rmSync(home, { recursive: true, force: true });
    rmSync(runtime, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (daemon.exitCode !== null) throw new Error(`pulseaudio exited (${daemon.exitCode}): ${stderr.trim()}`);
      if (existsSync(socket) && await run('pactl', ['info'], { env: childEnv, timeoutMs: 3000 }).then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`pulseaudio did not answer within 10 s: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await run('pactl', ['set-default-sink', 'lan'], { env: childEnv });
    await run('pactl', ['set-default-source', 'lan.monitor'], { env: childEnv });
    // Without a low-latency client the null sink runs in 2 s blocks and capture stalls.
    keepAlive = spawn('parec', ['-d', 'lan.monitor', '--raw', '--latency-msec=10'], { env: childEnv, stdio: ['ignore', 'ignore', 'ignore'] });
    live.add(keepAlive);
    await new Promise((r) => setTimeout(r, 500));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    env, sink: 'lan', monitor: 'lan.monitor',
    useInThisProcess() {
      const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
      Object.assign(process.env, env);
      return () => {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      };
    },
    async play(path, timeoutMs = 15_000, signal) {
      await run('paplay', ['-d', 'lan', path], { env: childEnv, timeoutMs, ...(signal ? { signal } : {}) });
    },
    async record(ms) {
      const rec = spawn('parec', ['-d', 'lan.monitor', '--raw', '--format=s16le', '--rate=48000', '--channels=1', '--latency-msec=10'], {
        env: childEnv, stdio: ['ignore', 'pipe', 'ignore'],
      });
      live.add(rec);
      const chunks: Buffer[] = [];
      rec.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      await new Promise((r) => setTimeout(r, ms));
      await stopProcess(rec);
      const bytes = Buffer.concat(chunks);
      const samples = new Int16Array(bytes.byteLength >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      return samples;
    },
    stop,
  };
}

/** A mono 16-bit 48 kHz WAV file of a sine tone. */
export function writeToneWav(path: string, frequency: number, seconds: number, amplitude: number): void {
  const rate = 48000;
  const n = Math.round(rate * seconds);
  const data = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) data.writeInt16LE(Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * i) / rate)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  writeFileSync(path, Buffer.concat([header, data]));
}

/** Power of `frequency` in `samples` (Goertzel), normalised by the length. */
export function goertzel(samples: ArrayLike<number>, rate: number, frequency: number): number {
  const k = 2 * Math.cos((2 * Math.PI * frequency) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (s1 * s1 + s2 * s2 - k * s1 * s2) / (samples.length * samples.length);
}

/** The spectrum from `from` to `to` Hz in `step` Hz bins (Goertzel): the strongest frequency and each bin's power. */
export function spectrum(samples: ArrayLike<number>, rate: number, from = 100, to = 4000, step = 10): { peak: number; power: Map<number, number>; median: number } {
  const power = new Map<number, number>();
  let peak = from;
  let best = -1;
  for (let f = from; f <= to; f += step) {
    const p = goertzel(samples, rate, f);
    power.set(f, p);
    if (p > best) {
      best = p;
      peak = f;
    }
  }
  const sorted = [...power.values()].sort((a, b) => a - b);
  return { peak, power, median: sorted[sorted.length >> 1] ?? 0 };
}

/** The processes this module started that are still running (to check tests leave none behind). */
export function liveProcesses(): number {
  return [...live].filter((c) => c.exitCode === null && c.signalCode === null).length;
}
