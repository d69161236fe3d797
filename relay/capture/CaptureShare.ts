/**
 * A capture source published as a track of a session: the handle `shareScreen`, `shareMicrophone` and `shareCamera`
 * return.
 * @module
 */
import type { LocalTrack } from '../../sdk/Track.js';
import { TypedEmitter } from '../../sdk/TypedEmitter.js';
import { CaptureError } from './CaptureError.js';
import type { CaptureSource } from './CaptureSource.js';
import { StopOnce } from './StopOnce.js';

/** Events of a {@link CaptureShare}. */
export type CaptureShareEvents = {
  /** A problem the share survives (one capture failed…). */
  error: [error: CaptureError];
  /**
   * The share ended: `error` is set when the source stopped by itself (device unplugged, program died); the track is
   * unpublished either way.
   */
  ended: [error: CaptureError | undefined];
};

/**
 * One source feeding one published track. Stopping either one stops the other: the track is unpublished when the
 * source fails, and the source is released when the track ends (unpublished, or the session closed).
 *
 * @example
 * ```ts
 * const share = await shareCamera(session, { device: '/dev/video0' });
 * share.on('ended', (error) => error && console.error(`camera stopped: ${error.message}`));
 * await share.stop();
 * ```
 */
export class CaptureShare extends TypedEmitter<CaptureShareEvents> {
  /** The frame source. */
  readonly source: CaptureSource;
  /** The published track. */
  readonly track: LocalTrack;
  #ended = false;
  readonly #stopping = new StopOnce();

  /** Ties a running `source` to the `track` it feeds. @internal */
  constructor(source: CaptureSource, track: LocalTrack) {
    super();
    this.source = source;
    this.track = track;
    source.on('error', (error) => this.emit('error', error));
    source.on('ended', (error) => void this.#end(error));
    track.on('ended', () => void this.#end(undefined));
    track.on('keyFrameRequested', () => source.requestKeyFrame());
    track.on('error', (error) => this.emit('error', CaptureError.from(source.adapter, error, 'sending a frame failed')));
    // Frames taken before the track existed went nowhere: send the current picture now.
    source.requestKeyFrame();
  }

  /** `true` once the share ended. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Unpublishes the track and releases the device. Idempotent. */
  stop(): Promise<void> {
    return this.#end(undefined);
  }

  #end(error: CaptureError | undefined): Promise<void> {
    // Unpublishing fires the track's `ended`, which comes back here: it gets the same promise.
    return this.#stopping.run(async () => {
      try {
        await Promise.all([this.track.unpublish().catch(() => undefined), this.source.stop()]);
      } finally {
        this.#ended = true;
        this.emit('ended', error);
      }
    });
  }
}
