/**
 * A local track captured from a browser `MediaStreamTrack` (camera, microphone, screen) and encoded by
 * the SDK.
 * @module
 */
import { LocalTrack, type LocalTrackHost } from '../Track.js';
import type { Codec, TrackKind } from '../protocol/index.js';
import type { MediaPublisher, PublisherStats } from './types.js';

/** How a media track gets a new `MediaStreamTrack` for another device. @internal */
export type TrackAcquirer = (deviceId: string | undefined) => Promise<MediaStreamTrack>;

/**
 * A camera, microphone or screen track published from this browser.
 *
 * @example
 * ```ts
 * const cam = await session.publishCamera();
 * await cam.mute();                 // everyone sees the camera muted; nothing is sent
 * await cam.switchDevice(otherId);  // same track, another camera
 * await cam.unpublish();            // stops the camera too
 * ```
 */
export class LocalMediaTrack extends LocalTrack {
  readonly #publisher: MediaPublisher;
  readonly #acquire: TrackAcquirer | undefined;

  /** @internal */
  constructor(host: LocalTrackHost, id: string, kind: TrackKind, codec: Codec, muted: boolean,
    publisher: MediaPublisher, acquire: TrackAcquirer | undefined) {
    super(host, id, kind, codec, muted);
    this.#publisher = publisher;
    this.#acquire = acquire;
    this.on('keyFrameRequested', () => publisher.requestKeyFrame());
    this.on('ended', () => publisher.stop());
    publisher.setPaused(muted);
    this.#watch(publisher.track);
  }

  /** The browser track being captured (for a local preview: `video.srcObject = new MediaStream([t.mediaStreamTrack])`). */
  get mediaStreamTrack(): MediaStreamTrack {
    return this.#publisher.track;
  }

  /** Encoder counters: frames, bytes, mean encode time. */
  get encoderStats(): PublisherStats {
    return this.#publisher.stats;
  }

  /** The codec the encoder produces now (it may switch when participants join or leave). */
  get encoderCodec(): Codec {
    return this.#publisher.codec;
  }

  override async mute(): Promise<void> {
    this.#publisher.setPaused(true);
    await super.mute();
  }

  override async unmute(): Promise<void> {
    this.#publisher.setPaused(false);
    this.#publisher.requestKeyFrame();
    await super.unmute();
  }

  /**
   * Captures from another device without leaving or republishing. Screens cannot switch.
   * @throws TypeError for a screen track; the browser's error when the device cannot be opened.
   */
  async switchDevice(deviceId: string): Promise<void> {
    if (!this.#acquire) throw new TypeError(`a ${this.kind} track cannot switch devices`);
    const track = await this.#acquire(deviceId);
    await this.#publisher.replaceTrack(track);
    this.#watch(track);
    this.#publisher.requestKeyFrame();
    this.emit('deviceChanged');
  }

  /** The capture or encoder failed for good: report it and unpublish. @internal */
  fail(error: Error): void {
    this.emit('error', error);
    void this.unpublish();
  }

  /** Switches the encoder's codec (the session calls it when subscribers change). @internal */
  async setCodec(codec: Codec): Promise<void> {
    if (this.#publisher.codec !== codec) await this.#publisher.setCodec(codec);
  }

  #watch(track: MediaStreamTrack): void {
    // The user stopped sharing from the browser's own UI, or the device went away.
    track.addEventListener('ended', () => {
      if (this.#publisher.track === track) void this.unpublish();
    }, { once: true });
  }
}
