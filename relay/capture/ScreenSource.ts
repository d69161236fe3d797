/**
 * Screen capture: the screen (one display of a multi-monitor host) as JPEG frames, scaled to fit a size, at a
 * few frames per second, skipping captures where nothing changed.
 * @module
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { Codec, TrackKind } from '../../sdk/protocol/index.js';
import { nowMicros } from '../../sdk/Track.js';
import type { CaptureDevice } from './CaptureDevice.js';
import { CaptureError } from './CaptureError.js';
import { CaptureSource } from './CaptureSource.js';
import { lastLines, runProgram } from './programs.js';
import { pushSample } from './samples.js';
import { loadSharp } from './sharp.js';

/** Options of a {@link ScreenSource}. */
export interface ScreenOptions {
  /**
   * The display to capture on a multi-monitor host: its id (Linux: the xrandr output, e.g. `HDMI-1`), its name,
   * or its index in {@link ScreenSource.listDisplays}. Default: the primary display.
   */
  device?: string;
  /** Linux: the X server to capture, e.g. `:0`. Default: the `DISPLAY` environment variable. */
  xDisplay?: string;
  /** Frames are scaled down (never up) to fit inside `width` × `height`. Default 1280. */
  width?: number;
  /** See `width`. Default 720. */
  height?: number;
  /** Captures per second. Default 8. */
  fps?: number;
  /** JPEG quality, 1–100. Default 60. */
  quality?: number;
  /** An unchanged screen is still sent this often (ms), so late joiners get a picture. Default 3000. */
  refreshMs?: number;
  /** Give up on one capture after this long (ms). Default 5000. */
  captureTimeoutMs?: number;
  /** Stop (with an `ended` error) after this many captures in a row failed. Default 5. */
  maxFailures?: number;
  /** Linux: the `xrandr` program. Default `xrandr` on the PATH. */
  xrandrPath?: string;
  /** Linux: ImageMagick's `import` program. Default `import` on the PATH. */
  importPath?: string;
}

/** A display of this machine. */
export interface DisplayInfo {
  /** What to give as `device`. */
  id: string;
  /** A name for people. */
  name: string;
  width: number;
  height: number;
  /** Position in the virtual desktop. */
  offsetX: number;
  offsetY: number;
  /** The display captured when none is named. */
  primary: boolean;
}

/** Timing of the latest frames (up to 1000 each), for benchmarks. */
export interface ScreenTimes {
  /** Taking the screenshot (ms). */
  captureMs: number[];
  /** Hashing it to see whether it changed (ms). */
  hashMs: number[];
  /** Scaling and encoding it as JPEG with sharp (ms). */
  encodeMs: number[];
}

/** What screenshot-desktop gives on macOS and Windows. */
interface ScreenshotDesktop {
  (options?: { screen?: string | number; format?: string }): Promise<Buffer>;
  listDisplays(): Promise<Array<{ id: string | number; name?: string; width?: number; height?: number; left?: number; top?: number; offsetX?: number; offsetY?: number; primary?: boolean }>>;
  parseDisplaysOutput?(output: string): Array<{ id: string; name: string; width: number; height: number; offsetX: number; offsetY: number; primary: boolean; crop: string }>;
}

const LIST_TIMEOUT_MS = 5000;

function loadScreenshotDesktop(): ScreenshotDesktop {
  try {
    return createRequire(import.meta.url)('screenshot-desktop') as ScreenshotDesktop;
  } catch (error) {
    throw CaptureError.unavailable('screen', 'the "screenshot-desktop" package is not installed', 'run npm install screenshot-desktop', error);
  }
}

/** Rejects after `ms`; the late result (or error) of `promise` is swallowed, never unhandled. */
function timeLimit<T>(promise: Promise<T>, ms: number, what: () => CaptureError): Promise<T> {
  promise.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(what()), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Parses `xrandr --current` (with screenshot-desktop's parser): every connected output with a mode.
 * @internal
 */
export function parseXrandr(output: string): DisplayInfo[] {
  const parse = loadScreenshotDesktop().parseDisplaysOutput;
  const displays = parse ? parse(output) : [];
  return displays.map((d) => ({ id: d.id, name: d.name, width: d.width, height: d.height, offsetX: d.offsetX, offsetY: d.offsetY, primary: d.primary }));
}

/**
 * The display `wanted` names (id, name or index), or the primary one (else the first) when `wanted` is empty.
 * @throws {@link CaptureError} `LAN_ERR_DEVICE_NOT_FOUND` when no display matches.
 * @internal
 */
export function selectDisplay(displays: readonly DisplayInfo[], wanted: string | undefined): DisplayInfo {
  if (displays.length === 0) throw CaptureError.unavailable('screen', 'no connected display was found');
  if (wanted === undefined || wanted === '' || wanted === 'default') return displays.find((d) => d.primary) ?? displays[0]!;
  const found = displays.find((d) => d.id === wanted) ?? displays.find((d) => d.name.toLowerCase() === wanted.toLowerCase())
    ?? (/^\d+$/.test(wanted) ? displays[Number(wanted)] : undefined);
  if (!found) throw CaptureError.deviceNotFound('screen', wanted, displays.map((d) => d.id));
  return found;
}

/**
 * The screen as a source of JPEG frames for a `screen` track.
 *
 * On Linux it captures the X display (`DISPLAY`, or `xDisplay`) with ImageMagick's `import`, as screenshot-desktop
 * does, but with a time limit and its own error handling: screenshot-desktop's promise never settles when the
 * display is gone (its inner rejection escapes and crashes the process). On macOS and Windows it uses
 * screenshot-desktop, each call under a time limit. A capture identical to the previous one is skipped (a hash of
 * the raw pixels) unless `refreshMs` passed or a key frame was asked for.
 *
 * @example
 * ```ts
 * const screen = new ScreenSource({ device: 'HDMI-1', fps: 5 });
 * await screen.start();   // rejects with a CaptureError when there is no display
 * await session.publish({ kind: 'screen', codec: 'jpeg', frames: screen });
 * ```
 */
export class ScreenSource extends CaptureSource {
  /** Always `screen`. */
  readonly kind: TrackKind = 'screen';
  /** Always `jpeg`. */
  readonly codec: Codec = 'jpeg';
  /** Per-frame timing. */
  readonly timing: ScreenTimes = { captureMs: [], hashMs: [], encodeMs: [] };
  readonly #options: ScreenOptions;
  #display: DisplayInfo | undefined;
  #lastHash = '';
  #lastSentMs = 0;
  #lastJpeg: Uint8Array | undefined;
  #forceNext = false;
  #failures = 0;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;

  /** Makes a screen source; nothing is captured until {@link CaptureSource.start}. */
  constructor(options: ScreenOptions = {}) {
    super('screen', 2);
    this.#options = options;
  }

  /**
   * The displays of this machine.
   * @throws {@link CaptureError} when there is no display (Linux: `DISPLAY` unset or unreachable) or `xrandr` is missing.
   */
  static async listDisplays(options: Pick<ScreenOptions, 'xDisplay' | 'xrandrPath'> = {}): Promise<DisplayInfo[]> {
    if (process.platform !== 'linux') {
      const screenshot = loadScreenshotDesktop();
      const list = await timeLimit(screenshot.listDisplays(), LIST_TIMEOUT_MS,
        () => CaptureError.unavailable('screen', `listing the displays took more than ${LIST_TIMEOUT_MS / 1000} s`));
      return list.map((d, i) => ({
        id: String(d.id), name: d.name ?? String(d.id), width: d.width ?? 0, height: d.height ?? 0,
        offsetX: d.offsetX ?? d.left ?? 0, offsetY: d.offsetY ?? d.top ?? 0, primary: d.primary ?? i === 0,
      }));
    }
    const xDisplay = ScreenSource.#xDisplay(options);
    const xrandr = options.xrandrPath ?? 'xrandr';
    const result = await runProgram('screen', xrandr, ['--current'], { timeoutMs: LIST_TIMEOUT_MS, env: { DISPLAY: xDisplay } });
    if (result.timedOut) throw CaptureError.unavailable('screen', `xrandr did not answer within ${LIST_TIMEOUT_MS / 1000} s on display ${xDisplay}`);
    if (result.code !== 0) {
      throw CaptureError.unavailable('screen', `cannot open the X display ${xDisplay} (xrandr: ${lastLines(result.stderr) || `exit code ${result.code}`})`,
        'check that an X server (or Xvfb) runs there and that this user may connect to it (XAUTHORITY, xhost)');
    }
    const displays = parseXrandr(result.stdout.toString('utf8'));
    if (displays.length === 0) throw CaptureError.unavailable('screen', `the X display ${xDisplay} has no connected output`);
    return displays;
  }

  /**
   * The displays as devices, for listings.
   * @throws {@link CaptureError} as {@link ScreenSource.listDisplays} does.
   */
  static async listDevices(options: Pick<ScreenOptions, 'xDisplay' | 'xrandrPath'> = {}): Promise<CaptureDevice[]> {
    const displays = await ScreenSource.listDisplays(options);
    const primary = selectDisplay(displays, undefined);
    return displays.map((d) => ({ id: d.id, name: d.name, isDefault: d === primary, details: `${d.width}×${d.height} at +${d.offsetX}+${d.offsetY}` }));
  }

  static #xDisplay(options: Pick<ScreenOptions, 'xDisplay'>): string {
    const xDisplay = options.xDisplay ?? process.env.DISPLAY;
    if (!xDisplay) {
      throw CaptureError.unavailable('screen', 'there is no X display (DISPLAY is not set)',
        'run it in the desktop session, or set DISPLAY (e.g. DISPLAY=:0); under Wayland an XWayland display is needed');
    }
    return xDisplay;
  }

  /** The display being captured (after start). */
  get display(): DisplayInfo | undefined {
    return this.#display;
  }

  /** Sends the current picture again at once, and the next capture even if unchanged. */
  override requestKeyFrame(): void {
    this.#forceNext = true;
    if (this.#lastJpeg && this.state === 'running') {
      this.#lastSentMs = Date.now();
      this.deliver({ data: this.#lastJpeg, timestamp: nowMicros(), keyFrame: true });
    }
  }

  /** @inheritDoc */
  protected override async open(signal: AbortSignal): Promise<void> {
    const displays = await ScreenSource.listDisplays(this.#options);
    this.#display = selectDisplay(displays, this.#options.device);
    if (process.platform === 'linux') {
      const check = await runProgram('screen', this.#options.importPath ?? 'import', ['-version'], { timeoutMs: LIST_TIMEOUT_MS });
      if (check.code !== 0 && !check.stdout.toString('utf8').includes('ImageMagick')) {
        throw CaptureError.unavailable('screen', `"${this.#options.importPath ?? 'import'}" is not ImageMagick's import`, 'install imagemagick');
      }
    }
    await loadSharp('screen');
    if (signal.aborted) return;
    // The first capture must work: a broken setup fails start(), not some later frame.
    this.#running = true;
    this.#forceNext = true;
    await this.#tick(true);
    this.#loop = this.#run();
  }

  /** @inheritDoc */
  protected override async close(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const interval = 1000 / Math.max(0.1, Math.min(60, this.#options.fps ?? 8));
    let next = performance.now() + interval;
    while (this.#running) {
      const wait = next - performance.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, wait);
        });
        this.#wake = undefined;
      }
      if (!this.#running) break;
      // A slow capture does not pile up: the next one is one interval after this one started, at the earliest.
      next = Math.max(next + interval, performance.now() + interval / 4);
      await this.#tick(false);
    }
  }

  /** One capture: take it, skip it when unchanged, else scale, encode and deliver. Throws only when `first`. */
  async #tick(first: boolean): Promise<void> {
    const display = this.#display!;
    try {
      const started = performance.now();
      const shot = await this.#capture(display);
      const captured = performance.now();
      const hash = createHash('sha1').update(shot.data).digest('hex');
      const hashed = performance.now();
      pushSample(this.timing.captureMs, captured - started);
      pushSample(this.timing.hashMs, hashed - captured);
      this.#failures = 0;
      const refreshMs = this.#options.refreshMs ?? 3000;
      if (hash === this.#lastHash && !this.#forceNext && Date.now() - this.#lastSentMs < refreshMs) {
        this.stats.skipped++;
        return;
      }
      const sharp = await loadSharp('screen');
      const image = shot.raw ? sharp(shot.data, { raw: { width: shot.raw.width, height: shot.raw.height, channels: 3 } }) : sharp(shot.data);
      const jpeg = await image
        .resize({ width: this.#options.width ?? 1280, height: this.#options.height ?? 720, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: Math.max(1, Math.min(100, Math.round(this.#options.quality ?? 60))) })
        .toBuffer();
      pushSample(this.timing.encodeMs, performance.now() - hashed);
      if (!this.#running) return;
      this.#lastHash = hash;
      this.#lastSentMs = Date.now();
      this.#forceNext = false;
      this.#lastJpeg = new Uint8Array(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
      this.deliver({ data: this.#lastJpeg, timestamp: Math.round((performance.timeOrigin + started) * 1000), keyFrame: true });
    } catch (error) {
      const failure = CaptureError.from('screen', error, 'screen capture failed');
      if (first) throw failure;
      if (!this.#running) return;
      this.#failures++;
      if (this.#failures >= (this.#options.maxFailures ?? 5)) {
        this.#running = false;
        this.fail(CaptureError.unavailable('screen', `${this.#failures} captures in a row failed; the last: ${failure.message}`, undefined, failure));
      } else {
        this.warn(failure);
      }
    }
  }

  /** Takes one screenshot: raw RGB on Linux, an encoded image elsewhere. */
  async #capture(display: DisplayInfo): Promise<{ data: Buffer; raw?: { width: number; height: number } }> {
    const timeoutMs = this.#options.captureTimeoutMs ?? 5000;
    if (process.platform !== 'linux') {
      const screenshot = loadScreenshotDesktop();
      const data = await timeLimit(screenshot({ screen: display.id, format: 'png' }), timeoutMs,
        () => CaptureError.unavailable('screen', `a screenshot took more than ${timeoutMs} ms`));
      return { data };
    }
    const xDisplay = ScreenSource.#xDisplay(this.#options);
    const { width, height } = display;
    // The same command screenshot-desktop runs, but raw RGB out: no PNG/JPEG to encode here and decode again.
    const result = await runProgram('screen', this.#options.importPath ?? 'import',
      // The order matters to ImageMagick 6: `-depth 8` after `-screen` gives 16-bit samples.
      ['-silent', '-window', 'root', '-depth', '8', '-crop', `${width}x${height}+${display.offsetX}+${display.offsetY}`, '-screen', 'rgb:-'],
      { timeoutMs, env: { DISPLAY: xDisplay }, maxBuffer: width * height * 6 + 1024 });
    if (result.timedOut) throw CaptureError.unavailable('screen', `a screenshot of ${xDisplay} took more than ${timeoutMs} ms`);
    if (result.code !== 0) {
      throw CaptureError.unavailable('screen', `cannot capture the X display ${xDisplay} (import: ${lastLines(result.stderr) || `exit code ${result.code}`})`);
    }
    if (result.stdout.byteLength !== width * height * 3) {
      throw CaptureError.unavailable('screen', `import gave ${result.stdout.byteLength} bytes for a ${width}×${height} RGB image`);
    }
    return { data: result.stdout, raw: { width, height } };
  }
}

