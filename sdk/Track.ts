/**
 * Media tracks: {@link Track}, the base of {@link LocalTrack} (published by this session) and
 * {@link RemoteTrack} (someone else's).
 * @module
 */
import { TypedEmitter } from './TypedEmitter.js';
import { codecFitsKind, encodeMediaPacket, isVideoKind, type Codec, type TrackKind } from './protocol/index.js';

/** Microseconds since the Unix epoch, with sub-millisecond precision. @internal */
export function nowMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** An encoded frame handed to {@link LocalTrack.send} (or yielded by `publish({ frames })`). */
export interface EncodedFrame {
  /** The encoded bytes: one JPEG image, one VP8 frame, one Opus packet… */
  data: Uint8Array;
  /**
   * The codec of this frame, when it differs from the track's (a publisher switching from VP8 to JPEG).
   * Must carry the same media (video or audio). Default: the track's current codec.
   */
  codec?: Codec;
  /** The frame decodes alone. Default `true` for JPEG and audio, `false` otherwise. */
  keyFrame?: boolean;
  /** Capture time, µs since the Unix epoch. Default: now. */
  timestamp?: number;
  /** Audio level 0..127 (−dBov, 127 silence). Default 127. */
  audioLevel?: number;
  /** The audio carries voice. */
  voice?: boolean;
}

/** A frame received on a {@link RemoteTrack}. */
export interface RemoteFrame {
  /** The encoded bytes. */
  data: Uint8Array;
  codec: Codec;
  kind: TrackKind;
  keyFrame: boolean;
  /** Per-track sequence number (u32, wraps). */
  sequence: number;
  /** Capture time at the sender, µs since the Unix epoch. */
  timestamp: number;
  /** 0..127 (−dBov; 127 silence). */
  audioLevel: number;
  voice: boolean;
  /** Frames were skipped on purpose before this one. */
  discontinuity: boolean;
}

/** Events every {@link Track} emits. */
export type TrackEvents = {
  /** Mute state changed. */
  muted: [muted: boolean];
  /** The track ended: unpublished, its publisher left, or the session closed. */
  ended: [];
};

/**
 * What a local and a remote track have in common: an id, a kind, a codec, and whether it is muted or
 * ended. {@link LocalTrack} and {@link RemoteTrack} extend it.
 *
 * @example
 * ```ts
 * function describe(track: Track): string {
 *   return `${track.kind} ${track.id} (${track.codec})${track.muted ? ', muted' : ''}${track.ended ? ', ended' : ''}`;
 * }
 * ```
 * @typeParam Events - the event map of the subclass: {@link TrackEvents} and more.
 */
export abstract class Track<Events extends TrackEvents = TrackEvents> extends TypedEmitter<Events> {
  /** Track id, assigned by the relay. */
  readonly id: string;
  /** `camera`, `microphone` or `screen`. */
  readonly kind: TrackKind;
  #codec: Codec;
  #muted: boolean;
  #ended = false;

  /** @internal */
  protected constructor(id: string, kind: TrackKind, codec: Codec, muted: boolean) {
    super();
    this.id = id;
    this.kind = kind;
    this.#codec = codec;
    this.#muted = muted;
  }

  /** The codec of the latest frame (the one announced at publish until a frame says otherwise). */
  get codec(): Codec {
    return this.#codec;
  }

  /** `true` while muted: no frames are sent, none arrive. */
  get muted(): boolean {
    return this.#muted;
  }

  /** `true` once the track ended (unpublished, or its publisher left). */
  get ended(): boolean {
    return this.#ended;
  }

  /** Records the codec of the latest frame. @internal */
  protected recordCodec(codec: Codec): void {
    this.#codec = codec;
  }

  /** Records the mute state and emits `muted` when it changed; `false` when it did not. @internal */
  protected changeMuted(muted: boolean): boolean {
    if (this.#muted === muted) return false;
    this.#muted = muted;
    // `Events` extends `TrackEvents`, but TypeScript cannot see `muted`'s arguments through the type parameter.
    (this as Track).emit('muted', muted);
    return true;
  }

  /** Marks the track ended and emits `ended`, once; `false` when it had ended already. @internal */
  protected markEnded(): boolean {
    if (this.#ended) return false;
    this.#ended = true;
    (this as Track).emit('ended');
    return true;
  }
}

/** Events of a {@link LocalTrack}. */
export type LocalTrackEvents = {
  /** A subscriber needs a key frame: encode the next frame as one. */
  keyFrameRequested: [];
  /** Mute state changed. */
  muted: [muted: boolean];
  /** The track was unpublished (by you, or because the session closed). */
  ended: [];
  /** The frame source given to `publish({ frames })` threw. */
  error: [error: unknown];
  /** Browser tracks: `switchDevice()` moved the capture to another device (`mediaStreamTrack` is a new one). */
  deviceChanged: [];
};

/** What a local track needs from its session. @internal */
export interface LocalTrackHost {
  senderId: string;
  sendMedia(packet: Uint8Array, droppable: boolean): boolean;
  setMuted(track: LocalTrack, muted: boolean): Promise<void>;
  unpublish(track: LocalTrack): Promise<void>;
}

/** Counters of a local track. */
export interface LocalTrackStats {
  framesSent: number;
  bytesSent: number;
  /** Video frames dropped at the sender because the connection was backed up. */
  framesDropped: number;
}

/**
 * A track this session publishes. Send encoded frames with {@link LocalTrack.send}, or give an async
 * iterable to `session.publish({ frames })` and the track pumps it.
 */
export class LocalTrack extends Track<LocalTrackEvents> {
  /** Frames sent and dropped. */
  readonly stats: LocalTrackStats = { framesSent: 0, bytesSent: 0, framesDropped: 0 };
  readonly #host: LocalTrackHost;
  #sequence = 0;
  #needsKeyFrame = false;
  #discontinuity = false;

  /** @internal */
  constructor(host: LocalTrackHost, id: string, kind: TrackKind, codec: Codec, muted: boolean) {
    super(id, kind, codec, muted);
    this.#host = host;
  }

  /**
   * Sends one encoded frame. Returns `false` when it was not sent: the track is muted or ended, or
   * (video only) the connection is backed up — then frames are skipped until the next key frame and
   * `keyFrameRequested` fires, so the encoder can send one.
   */
  send(frame: EncodedFrame): boolean {
    if (this.ended || this.muted) return false;
    const video = isVideoKind(this.kind);
    const codec = frame.codec ?? this.codec;
    if (!codecFitsKind(codec, this.kind)) throw new TypeError(`a ${this.kind} track cannot carry ${codec}`);
    // Every audio frame decodes alone, and so does a JPEG image.
    const keyFrame = frame.keyFrame ?? (codec === 'jpeg' || !video);
    if (video && this.#needsKeyFrame && !keyFrame) {
      this.stats.framesDropped++;
      return false;
    }
    const packet = encodeMediaPacket({
      kind: this.kind, codec, track: this.id, sender: this.#host.senderId,
      sequence: this.#sequence, timestamp: frame.timestamp ?? nowMicros(), keyFrame,
      audioLevel: frame.audioLevel ?? 127, voice: frame.voice ?? false, discontinuity: this.#discontinuity,
    }, frame.data);
    if (!this.#host.sendMedia(packet, video)) {
      this.stats.framesDropped++;
      if (video && !this.#needsKeyFrame) {
        this.#needsKeyFrame = true;
        this.emit('keyFrameRequested');
      }
      return false;
    }
    this.#sequence = (this.#sequence + 1) >>> 0;
    this.recordCodec(codec);
    this.#discontinuity = false;
    if (keyFrame) this.#needsKeyFrame = false;
    this.stats.framesSent++;
    this.stats.bytesSent += frame.data.byteLength;
    return true;
  }

  /** Stops sending and tells everyone the track is muted. */
  async mute(): Promise<void> {
    if (this.muted || this.ended) return;
    this.#discontinuity = true;
    this.changeMuted(true);
    await this.#host.setMuted(this, true);
  }

  /** Resumes sending. */
  async unmute(): Promise<void> {
    if (!this.muted || this.ended) return;
    this.changeMuted(false);
    await this.#host.setMuted(this, false);
  }

  /** Stops the track and tells everyone. Idempotent. */
  async unpublish(): Promise<void> {
    if (this.ended) return;
    await this.#host.unpublish(this);
  }

  /** Asks for a key frame from the encoder (relay request, or a new subscriber). @internal */
  requestKeyFrame(): void {
    this.emit('keyFrameRequested');
  }

  /** Marks the track ended. @internal */
  end(): void {
    this.markEnded();
  }

  /** Pumps an async iterable of frames until it ends or the track does. @internal */
  async pump(frames: AsyncIterable<EncodedFrame> | Iterable<EncodedFrame>): Promise<void> {
    try {
      for await (const frame of frames) {
        if (this.ended) break;
        this.send(frame);
      }
    } catch (error) {
      this.emit('error', error);
    }
  }
}

/** Events of a {@link RemoteTrack}. */
export type RemoteTrackEvents = {
  /** A whole frame arrived. */
  frame: [frame: RemoteFrame];
  /** The publisher muted or unmuted. */
  muted: [muted: boolean];
  /** The publisher unpublished the track, or left. */
  ended: [];
};

/** Draws a remote video track into page elements (browser only). */
export interface TrackRenderer {
  /** Shows the track in a `<canvas>` or `<video>`. */
  attach(element: HTMLCanvasElement | HTMLVideoElement): void;
  /** Stops showing it there. */
  detach(element: HTMLCanvasElement | HTMLVideoElement): void;
  /** Size of the latest decoded frame (0 before the first). */
  readonly width: number;
  readonly height: number;
  /** Frames rendered per second, over the last second. */
  readonly fps: number;
}

/** What a remote track needs from its session. @internal */
export interface RemoteTrackHost {
  requestKeyFrame(trackId: string): void;
  /** Tells the relay to stop (or start again) forwarding the track to us. */
  setPaused(trackId: string, paused: boolean): void;
  /** The renderer for this track (browser sessions only). */
  renderer?(track: RemoteTrack): TrackRenderer;
}

/** A track someone else publishes. Listen to `frame` for its encoded frames. */
export class RemoteTrack extends Track<RemoteTrackEvents> {
  /** Id of the participant who publishes it. */
  readonly participantId: string;
  #framesReceived = 0;
  readonly #host: RemoteTrackHost;
  /** Paused by {@link pause}. */
  #pausedByApp = false;
  /** Paused because its renderer has no element left to draw into. */
  #pausedUnseen = false;
  /** The state last told to the relay. */
  #pausedAtRelay = false;
  /** Was ever paused: the relay may hold a pause this client's last word on it did not reach. */
  #everPaused = false;
  /** A change waiting to be told to the relay (see {@link RemoteTrack.#sync}). */
  #syncTimer: ReturnType<typeof setTimeout> | undefined;

  /** @internal */
  constructor(host: RemoteTrackHost, info: { id: string; participantId: string; kind: TrackKind; codec: Codec; muted: boolean }) {
    super(info.id, info.kind, info.codec, info.muted);
    this.#host = host;
    this.participantId = info.participantId;
  }

  /** Frames received so far. */
  get framesReceived(): number {
    return this.#framesReceived;
  }

  /** Asks the publisher for a key frame (through the relay, which rate-limits it). */
  requestKeyFrame(): void {
    if (!this.ended) this.#host.requestKeyFrame(this.id);
  }

  /**
   * `true` while the relay is asked to send none of this track's frames: after {@link pause}, or in a
   * browser while the video has been detached from every element it was attached to.
   */
  get paused(): boolean {
    return this.#pausedByApp || this.#pausedUnseen;
  }

  /**
   * Stops receiving this track until {@link resume}: the relay forwards none of its frames to you, which
   * spares its sending, the network and your decoding (a video tile scrolled out of view, a recorder that
   * wants only the audio). Everyone else still gets it. No `frame` events come meanwhile.
   *
   * In a browser this happens by itself for video: detaching a track from the last element it was
   * attached to pauses it, attaching it again resumes it.
   */
  pause(): void {
    this.#pausedByApp = true;
    this.#sync();
  }

  /**
   * Receives this track again after {@link pause}. Video starts again at a key frame: the relay asks the
   * publisher for one and holds back what comes before it.
   */
  resume(): void {
    this.#pausedByApp = false;
    this.#sync();
  }

  /** A renderer lost its last element (`true`) or got one (`false`). @internal */
  setUnseen(unseen: boolean): void {
    this.#pausedUnseen = unseen;
    this.#sync();
  }

  /** Tells the relay again after a reconnection (it may have missed a change made meanwhile). @internal */
  resync(): void {
    if (this.ended) return;
    // A track never paused needs no word: the relay forwards everything unless told otherwise.
    if (!this.#everPaused) return;
    this.#pausedAtRelay = this.paused;
    this.#host.setPaused(this.id, this.#pausedAtRelay);
  }

  /**
   * Tells the relay the state it should have, 100 ms after the first change: a tile that is hidden and
   * shown again within that time (a grid re-laying out) costs no message, and a page turn sends at most
   * one per track, however the elements moved.
   */
  #sync(): void {
    if (this.ended) return;
    this.#syncTimer ??= setTimeout(() => {
      this.#syncTimer = undefined;
      const paused = this.paused;
      if (this.ended || paused === this.#pausedAtRelay) return;
      this.#pausedAtRelay = paused;
      if (paused) this.#everPaused = true;
      this.#host.setPaused(this.id, paused);
    }, 100);
  }

  /**
   * Renders this video track into a `<canvas>` or `<video>` (browser only): frames are decoded as they
   * arrive and drawn at once. Audio tracks play by themselves (see `session.startAudio()`).
   *
   * @example
   * ```ts
   * session.on('trackPublished', (t) => { if (t.kind !== 'microphone') t.attach(document.querySelector('canvas')!); });
   * ```
   * @throws TypeError for an audio track or outside a browser session.
   */
  attach(element: HTMLCanvasElement | HTMLVideoElement): TrackRenderer {
    if (this.kind === 'microphone') throw new TypeError('audio tracks play by themselves: call session.startAudio()');
    if (!this.#host.renderer) throw new TypeError('rendering needs a browser session');
    const renderer = this.#host.renderer(this);
    renderer.attach(element);
    return renderer;
  }

  /** Stops rendering into `element`. */
  detach(element: HTMLCanvasElement | HTMLVideoElement): void {
    if (this.kind === 'microphone' || !this.#host.renderer) return;
    this.#host.renderer(this).detach(element);
  }

  /** @internal */
  deliver(frame: RemoteFrame): void {
    if (this.ended) return;
    this.#framesReceived++;
    this.recordCodec(frame.codec);
    this.emit('frame', frame);
  }

  /** @internal */
  setMuted(muted: boolean): void {
    this.changeMuted(muted);
  }

  /** @internal */
  end(): void {
    if (this.ended) return;
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.markEnded();
  }
}
