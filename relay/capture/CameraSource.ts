/**
 * Camera capture through ffmpeg: V4L2 on Linux, AVFoundation on macOS, DirectShow on Windows, or any ffmpeg
 * input (`lavfi:testsrc2`), as 640×480 MJPEG at 25 fps split into JPEG frames.
 * @module
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Codec, TrackKind } from '../../sdk/protocol/index.js';
import type { CaptureDevice } from './CaptureDevice.js';
import { CaptureError } from './CaptureError.js';
import { CaptureSource } from './CaptureSource.js';
import { listV4l2Devices, parseAvfoundationDevices, parseDshowDevices } from './ffmpegDevices.js';
import { MjpegSplitter } from './MjpegSplitter.js';
import { lastLines, programMissing, runProgram } from './programs.js';
import { pushSample } from './samples.js';
import { loadSharp } from './sharp.js';

/** Options of a {@link CameraSource}. */
export interface CameraOptions {
  /**
   * The camera: as `listDevices()` shows it (`/dev/video0`; `0` on macOS; `video=Name` on Windows), or any ffmpeg
   * input as `format:input` (`lavfi:testsrc2`, `v4l2:/dev/video2`, `avfoundation:1`). Default: the first camera.
   */
  device?: string;
  /** Frame width. Default 640. */
  width?: number;
  /** Frame height. Default 480 (other aspect ratios are letterboxed). */
  height?: number;
  /** Frames per second. Default 25. */
  fps?: number;
  /** JPEG quality, 1–100. Default 70. */
  quality?: number;
  /**
   * Re-encode every frame with sharp at exactly `quality`. Default `false`: ffmpeg's own JPEGs pass through (its
   * quantiser is set to match `quality` roughly), which costs this process nothing per frame.
   */
  reencode?: boolean;
  /** The ffmpeg program. Default `ffmpeg` on the PATH. */
  ffmpegPath?: string;
  /** Give up when no frame came this long after starting (ms). Default 10000. */
  startTimeoutMs?: number;
  /**
   * Read the input at its own frame rate (`-re`). Default: on for `lavfi` sources and files (which ffmpeg would
   * otherwise read as fast as it can), off for cameras.
   */
  realtime?: boolean;
}

/** Timing of the latest frames (up to 1000), for benchmarks. */
export interface CameraTimes {
  /** Milliseconds between frames arriving from ffmpeg. */
  intervalMs: number[];
  /** Re-encoding a frame with sharp (only with `reencode`). */
  encodeMs: number[];
}

/** Live capture formats: their input is a device, read at the device's pace. */
const LIVE_FORMATS = new Set(['v4l2', 'video4linux2', 'avfoundation', 'dshow', 'x11grab', 'gdigrab', 'kmsgrab', 'fbdev', 'android_camera', 'decklink']);
const LIST_TIMEOUT_MS = 8000;

/**
 * ffmpeg's quantiser (`-q:v`, 2 best … 31 worst) for a JPEG quality: roughly what libjpeg's quality means.
 * @internal
 */
export function qscaleFor(quality: number): number {
  return Math.max(2, Math.min(31, Math.round((100 - quality) / 6)));
}

/**
 * The ffmpeg input arguments for `device` on `platform`.
 * @internal
 */
export function ffmpegInput(device: string, options: { width: number; height: number; fps: number; realtime?: boolean }, platform: NodeJS.Platform = process.platform): string[] {
  const size = `${options.width}x${options.height}`;
  let format: string;
  let input: string;
  const explicit = /^([a-z][a-z0-9_]+):(.*)$/s.exec(device);
  if (explicit) {
    format = explicit[1]!;
    input = explicit[2]!;
  } else if (platform === 'darwin') {
    format = 'avfoundation';
    input = device;
  } else if (platform === 'win32') {
    format = 'dshow';
    input = device.startsWith('video=') ? device : `video=${device}`;
  } else {
    format = 'v4l2';
    input = device;
  }
  // A bare lavfi source name gets the size and rate asked for.
  if (format === 'lavfi' && /^\w+$/.test(input)) input = `${input}=size=${size}:rate=${options.fps}`;
  const live = LIVE_FORMATS.has(format);
  const args: string[] = [];
  if (options.realtime ?? !live) args.push('-re');
  args.push('-f', format);
  if (live && format !== 'x11grab') args.push('-framerate', String(options.fps), '-video_size', size);
  args.push('-i', input);
  return args;
}

/**
 * A camera as a source of JPEG frames for a `camera` track: ffmpeg opens the device and writes 640×480 MJPEG at
 * 25 fps to a pipe; the stream is split into JPEG images, which pass through (or are re-encoded with sharp).
 *
 * @example
 * ```ts
 * const camera = new CameraSource({ device: '/dev/video0' });
 * await camera.start();   // rejects with a CaptureError when ffmpeg or the camera is missing
 * await session.publish({ kind: 'camera', codec: 'jpeg', frames: camera });
 * ```
 */
export class CameraSource extends CaptureSource {
  /** Always `camera`. */
  readonly kind: TrackKind = 'camera';
  /** Always `jpeg`. */
  readonly codec: Codec = 'jpeg';
  /** Per-frame timing. */
  readonly timing: CameraTimes = { intervalMs: [], encodeMs: [] };
  readonly #options: CameraOptions;
  readonly #splitter = new MjpegSplitter();
  #process: ChildProcessByStdio<null, Readable, Readable> | undefined;
  #exited: Promise<void> | undefined;
  #stderr = '';
  #device = '';
  #lastFrameMs = 0;
  #encoding = false;
  #pending: Uint8Array | undefined;
  #closing = false;

  /** Makes a camera source; ffmpeg is started by {@link CaptureSource.start}. */
  constructor(options: CameraOptions = {}) {
    super('camera', 2);
    this.#options = options;
  }

  /**
   * The cameras of this machine: `/dev/video*` on Linux, ffmpeg's device list on macOS and Windows.
   * @throws {@link CaptureError} on macOS and Windows when ffmpeg is missing.
   */
  static async listDevices(options: Pick<CameraOptions, 'ffmpegPath'> = {}): Promise<CaptureDevice[]> {
    if (process.platform === 'linux') return listV4l2Devices();
    const ffmpeg = options.ffmpegPath ?? 'ffmpeg';
    const args = process.platform === 'darwin'
      ? ['-hide_banner', '-f', 'avfoundation', '-list_devices', 'true', '-i', '']
      : ['-hide_banner', '-list_devices', 'true', '-f', 'dshow', '-i', 'dummy'];
    const result = await runProgram('camera', ffmpeg, args, { timeoutMs: LIST_TIMEOUT_MS });
    return process.platform === 'darwin' ? parseAvfoundationDevices(result.stderr) : parseDshowDevices(result.stderr);
  }

  /** The device (or ffmpeg input) in use, after start. */
  get device(): string {
    return this.#device;
  }

  /** @inheritDoc */
  protected override async open(signal: AbortSignal): Promise<void> {
    const ffmpeg = this.#options.ffmpegPath ?? 'ffmpeg';
    const version = await runProgram('camera', ffmpeg, ['-hide_banner', '-version'], { timeoutMs: LIST_TIMEOUT_MS });
    if (version.code !== 0) throw CaptureError.unavailable('camera', `"${ffmpeg} -version" failed: ${lastLines(version.stderr)}`, 'install ffmpeg');
    this.#device = await this.#resolveDevice();
    if (this.#options.reencode) await loadSharp('camera');
    if (signal.aborted) return;
    const width = this.#options.width ?? 640;
    const height = this.#options.height ?? 480;
    const fps = this.#options.fps ?? 25;
    const quality = Math.max(1, Math.min(100, Math.round(this.#options.quality ?? 70)));
    const args = [
      '-hide_banner', '-loglevel', 'error', '-nostdin',
      ...ffmpegInput(this.#device, { width, height, fps, ...(this.#options.realtime !== undefined ? { realtime: this.#options.realtime } : {}) }),
      '-an', '-vf', `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:-1:-1,fps=${fps},format=yuvj420p`,
      '-c:v', 'mjpeg', '-q:v', String(qscaleFor(quality)), '-f', 'mjpeg', '-flush_packets', '1', 'pipe:1',
    ];
    await this.#spawn(ffmpeg, args, signal);
  }

  /** @inheritDoc */
  protected override async close(): Promise<void> {
    this.#closing = true;
    const child = this.#process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await this.#exited;
    clearTimeout(killer);
  }

  async #resolveDevice(): Promise<string> {
    const wanted = this.#options.device;
    if (wanted && /^[a-z][a-z0-9_]+:/.test(wanted)) return wanted;
    if (process.platform === 'linux') {
      const devices = await listV4l2Devices();
      if (!wanted) {
        if (devices.length === 0) {
          throw CaptureError.unavailable('camera', 'no camera was found (no /dev/video* device)',
            'plug one in, check that this user may open it (the "video" group), or name an ffmpeg input such as lavfi:testsrc2');
        }
        return devices[0]!.id;
      }
      const path = /^\d+$/.test(wanted) ? `/dev/video${wanted}` : wanted;
      if (!existsSync(path)) throw CaptureError.deviceNotFound('camera', wanted, devices.map((d) => d.id));
      return path;
    }
    if (wanted) return wanted;
    const devices = await CameraSource.listDevices(this.#options);
    if (devices.length === 0) throw CaptureError.unavailable('camera', 'ffmpeg lists no camera on this machine');
    return devices[0]!.id;
  }

  #spawn(ffmpeg: string, args: string[], signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const startTimeoutMs = this.#options.startTimeoutMs ?? 10_000;
      let started = false;
      const settle = (error?: CaptureError): void => {
        if (started) return;
        started = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const onAbort = (): void => settle(CaptureError.unavailable('camera', 'stopped while starting'));
      const timer = setTimeout(() => {
        settle(CaptureError.unavailable('camera', `no frame from ${this.#device} within ${startTimeoutMs / 1000} s${this.#stderr ? ` (ffmpeg: ${lastLines(this.#stderr)})` : ''}`));
      }, startTimeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });

      const child = spawn(ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
      this.#process = child;
      this.#exited = new Promise((done) => child.once('close', () => done()));
      child.once('error', (error: NodeJS.ErrnoException) => {
        settle(programMissing('camera', ffmpeg, error.code ?? 'ERROR', error));
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        this.#stderr = (this.#stderr + text).slice(-4000);
      });
      child.stdout.on('data', (chunk: Buffer) => {
        for (const jpeg of this.#splitter.push(chunk)) {
          this.#onJpeg(jpeg);
          settle();
        }
      });
      child.once('close', (code, sig) => {
        const why = `ffmpeg exited (${sig ?? `code ${code}`})${this.#stderr ? `: ${lastLines(this.#stderr)}` : ''}`;
        if (!started) {
          settle(CaptureError.unavailable('camera', `cannot open ${this.#device}: ${why}`));
          return;
        }
        if (!this.#closing) this.fail(CaptureError.unavailable('camera', `${this.#device} stopped: ${why}`));
      });
    });
  }

  #onJpeg(jpeg: Uint8Array): void {
    const now = performance.now();
    if (this.#lastFrameMs > 0) pushSample(this.timing.intervalMs, now - this.#lastFrameMs);
    this.#lastFrameMs = now;
    const timestamp = Math.round((performance.timeOrigin + now) * 1000);
    if (!this.#options.reencode) {
      this.deliver({ data: jpeg, timestamp, keyFrame: true });
      return;
    }
    // One re-encode at a time; a frame arriving meanwhile replaces the one waiting (newest wins).
    if (this.#encoding) {
      if (this.#pending) this.stats.skipped++;
      this.#pending = jpeg;
      return;
    }
    void this.#reencode(jpeg, timestamp);
  }

  async #reencode(jpeg: Uint8Array, timestamp: number): Promise<void> {
    this.#encoding = true;
    try {
      const sharp = await loadSharp('camera');
      const started = performance.now();
      const out = await sharp(jpeg).jpeg({ quality: Math.max(1, Math.min(100, Math.round(this.#options.quality ?? 70))) }).toBuffer();
      pushSample(this.timing.encodeMs, performance.now() - started);
      this.deliver({ data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength), timestamp, keyFrame: true });
    } catch (error) {
      this.warn(CaptureError.from('camera', error, 'a frame did not re-encode'));
    } finally {
      this.#encoding = false;
    }
    const next = this.#pending;
    this.#pending = undefined;
    if (next && !this.#closing) void this.#reencode(next, Math.round((performance.timeOrigin + performance.now()) * 1000));
  }
}

