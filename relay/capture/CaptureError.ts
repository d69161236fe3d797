/**
 * The error every capture adapter raises when it cannot run: a missing display, device, program or optional
 * dependency. Its message names what is missing and how to fix it.
 * @module
 */
import { ErrorCode, LanError } from '../../sdk/errors.js';

/**
 * A capture adapter cannot run here. `code` is `LAN_ERR_CAPTURE_UNAVAILABLE` (a display, program or optional
 * dependency is missing, or the device failed) or `LAN_ERR_DEVICE_NOT_FOUND` (the device asked for does not exist).
 *
 * @example
 * ```ts
 * try { await shareScreen(session); }
 * catch (e) { if (e instanceof CaptureError) console.error(`screen not shared: ${e.message}`); }
 * ```
 */
export class CaptureError extends LanError {
  /** Which adapter raised it: `screen`, `microphone`, `speaker` or `camera`. */
  readonly adapter: CaptureAdapterName;

  /** Makes a capture error; prefer the static factories. */
  constructor(adapter: CaptureAdapterName, code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${adapter}: ${message}`, options);
    this.name = 'CaptureError';
    this.adapter = adapter;
  }

  /**
   * The adapter cannot run: `what` is missing or failed; `fix` says what to do about it.
   * @example `CaptureError.unavailable('camera', 'ffmpeg was not found', 'install it (apt-get install ffmpeg)')`
   */
  static unavailable(adapter: CaptureAdapterName, what: string, fix?: string, cause?: unknown): CaptureError {
    return new CaptureError(adapter, ErrorCode.CaptureUnavailable, fix ? `${what}: ${fix}` : what, cause === undefined ? undefined : { cause });
  }

  /** The device asked for does not exist; `available` lists the ones that do. */
  static deviceNotFound(adapter: CaptureAdapterName, device: string, available: readonly string[]): CaptureError {
    const list = available.length > 0 ? `available: ${available.map((d) => JSON.stringify(d)).join(', ')}` : 'none is available';
    return new CaptureError(adapter, ErrorCode.DeviceNotFound, `no device ${JSON.stringify(device)} (${list})`);
  }

  /** Wraps any error an adapter met into a `CaptureError` (kept as is when it already is one). */
  static from(adapter: CaptureAdapterName, error: unknown, what: string): CaptureError {
    if (error instanceof CaptureError) return error;
    const detail = error instanceof Error ? error.message : String(error);
    return CaptureError.unavailable(adapter, `${what}: ${detail}`, undefined, error);
  }
}

/** The name of a capture adapter. */
export type CaptureAdapterName = 'screen' | 'microphone' | 'speaker' | 'camera';
