/**
 * The base of every capture adapter that produces frames: a start/stop lifecycle, events, and an async iterable
 * of encoded frames that `session.publish({ frames })` can pump.
 * @module
 */
import type { EncodedFrame } from '../../sdk/Track.js';
import { TypedEmitter } from '../../sdk/TypedEmitter.js';
import type { Codec, TrackKind } from '../../sdk/protocol/index.js';
import { CaptureError, type CaptureAdapterName } from './CaptureError.js';
import { StopOnce } from './StopOnce.js';

/** Events of a {@link CaptureSource}. */
export type CaptureSourceEvents = {
  /** A frame is ready (also yielded to every async iterator of the source). */
  frame: [frame: EncodedFrame];
  /** Something went wrong but the source keeps going (one capture failed, one frame did not encode). */
  error: [error: CaptureError];
  /** The source stopped: `error` is set when it stopped by itself (device gone, program died), not by `stop()`. */
  ended: [error: CaptureError | undefined];
};

/** Where a {@link CaptureSource} stands. */
export type CaptureState = 'idle' | 'starting' | 'running' | 'stopped';

/** Counters every source keeps. */
export interface CaptureStats {
  /** Frames produced. */
  frames: number;
  /** Bytes of the frames produced. */
  bytes: number;
  /** Captures skipped because nothing changed (screen) or frames dropped because no consumer kept up. */
  skipped: number;
  /** Non-fatal errors. */
  errors: number;
}

/** One async iterator's waiting frames. */
interface Reader {
  queue: EncodedFrame[];
  wake: (() => void) | undefined;
}

/**
 * A source of encoded frames from a device: the screen, a camera, a microphone. Subclasses open and close the
 * device; this class keeps the lifecycle (`start` once, `stop` idempotent), the events and the iterators.
 *
 * Iterating a source starts it when it is idle, and leaving the loop (`break`, or the track it feeds ending) stops
 * it. Each iterator keeps only the newest frames when its consumer falls behind (a couple for video, about a second
 * for audio), so memory stays flat.
 *
 * @example
 * ```ts
 * const camera = new CameraSource({ device: '/dev/video0' });
 * await camera.start();                 // rejects with a CaptureError when the camera cannot be opened
 * const track = await session.publish({ kind: camera.kind, codec: camera.codec, frames: camera });
 * // later
 * await camera.stop();
 * ```
 */
export abstract class CaptureSource extends TypedEmitter<CaptureSourceEvents> implements AsyncIterable<EncodedFrame> {
  /** The track kind the frames are for. */
  abstract readonly kind: TrackKind;
  /** The codec of the frames. */
  abstract readonly codec: Codec;
  /** Which adapter this is, for messages. */
  readonly adapter: CaptureAdapterName;
  /** Counters. */
  readonly stats: CaptureStats = { frames: 0, bytes: 0, skipped: 0, errors: 0 };
  readonly #maxQueued: number;
  readonly #readers = new Set<Reader>();
  #state: CaptureState = 'idle';
  #starting: Promise<void> | undefined;
  readonly #stopping = new StopOnce();
  readonly #abort = new AbortController();

  /**
   * Sets up the lifecycle; subclasses open nothing here.
   * @param adapter - the adapter's name, for messages.
   * @param maxQueued - frames each iterator keeps when its consumer is slow (the oldest are dropped).
   */
  protected constructor(adapter: CaptureAdapterName, maxQueued: number) {
    super();
    this.adapter = adapter;
    this.#maxQueued = Math.max(1, maxQueued);
  }

  /** `idle`, `starting`, `running` or `stopped`. */
  get state(): CaptureState {
    return this.#state;
  }

  /**
   * Opens the device and starts producing frames. Resolves once it runs (for video: once the first frame was
   * captured, so a broken device fails here, not later). Calling it again returns the same promise.
   * @throws {@link CaptureError} when the device, display, program or optional dependency is missing.
   */
  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(CaptureError.unavailable(this.adapter, 'this source was stopped; make a new one'));
    this.#starting ??= (async () => {
      this.#state = 'starting';
      try {
        await this.open(this.#abort.signal);
      } catch (error) {
        if (this.#stopping.started) throw CaptureError.unavailable(this.adapter, 'stopped while starting', undefined, error);
        const failure = CaptureError.from(this.adapter, error, 'cannot start');
        await this.#stopping.run(() => this.#shutDown(failure));
        throw failure;
      }
      if (this.#state === 'starting') this.#state = 'running';
    })();
    return this.#starting;
  }

  /** Stops capturing and releases the device; every iterator ends. Idempotent. */
  stop(): Promise<void> {
    return this.#finish(undefined);
  }

  /** Makes the next frame one that decodes alone, and sends it soon (a subscriber joined or lost a frame). */
  requestKeyFrame(): void {
    // JPEG and audio frames all decode alone: nothing to do by default.
  }

  /** Async iteration of the frames; starts the source when idle, stops it when the loop is left. */
  [Symbol.asyncIterator](): AsyncIterator<EncodedFrame> {
    const reader: Reader = { queue: [], wake: undefined };
    this.#readers.add(reader);
    const leave = async (): Promise<IteratorResult<EncodedFrame>> => {
      this.#readers.delete(reader);
      await this.stop();
      return { done: true, value: undefined };
    };
    return {
      next: async () => {
        if (this.#state === 'idle') await this.start();
        for (;;) {
          const frame = reader.queue.shift();
          if (frame) return { done: false, value: frame };
          if (this.#state === 'stopped') {
            this.#readers.delete(reader);
            return { done: true, value: undefined };
          }
          await new Promise<void>((resolve) => (reader.wake = resolve));
          reader.wake = undefined;
        }
      },
      return: leave,
    };
  }

  /**
   * Opens the device; resolves once frames flow. Called once, by {@link CaptureSource.start}.
   * @param signal - aborted when the source is stopped while starting: give up waiting then.
   */
  protected abstract open(signal: AbortSignal): Promise<void>;

  /** Releases the device. Called once, by {@link CaptureSource.stop} or when the source fails. Must not throw. */
  protected abstract close(): Promise<void>;

  /** Hands a frame to the listeners and iterators. Ignored once stopped. */
  protected deliver(frame: EncodedFrame): void {
    if (this.#state === 'stopped') return;
    this.stats.frames++;
    this.stats.bytes += frame.data.byteLength;
    for (const reader of this.#readers) {
      reader.queue.push(frame);
      if (reader.queue.length > this.#maxQueued) {
        reader.queue.shift();
        this.stats.skipped++;
      }
      reader.wake?.();
    }
    this.emit('frame', frame);
  }

  /** Reports a problem the source survives. */
  protected warn(error: CaptureError): void {
    this.stats.errors++;
    this.emit('error', error);
  }

  /** Stops the source because it cannot go on (the device went away): `ended` carries `error`. */
  protected fail(error: CaptureError): void {
    this.stats.errors++;
    void this.#finish(error);
  }

  #finish(error: CaptureError | undefined): Promise<void> {
    const starting = this.#starting;
    return this.#stopping.run(async () => {
      // A start in progress is aborted and waited for, so close() never runs beside open().
      this.#abort.abort();
      await starting?.catch(() => undefined);
      await this.#shutDown(error);
    });
  }

  async #shutDown(error: CaptureError | undefined): Promise<void> {
    const opened = this.#state !== 'idle';
    this.#state = 'stopped';
    this.#abort.abort();
    for (const reader of this.#readers) reader.wake?.();
    if (opened) {
      try {
        await this.close();
      } catch {
        // close() must not throw; a device that fails to close is closed as far as we are concerned.
      }
    }
    this.emit('ended', error);
  }
}
