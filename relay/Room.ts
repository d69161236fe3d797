/**
 * One meeting: its participants, their tracks and the chat log (kept in the relay's store). Forwards
 * media among its peers only.
 * @module
 */
import { ErrorCode, RelayError } from '../sdk/errors.js';
import {
  AUDIO_CODECS, fragmentPacket, isVideoKind, randomId, type ChatMessageInfo, type ClientMessageOf, type RelayMessage,
} from '../sdk/protocol/index.js';
import { trackInfo, type ForwardedFrame, type Peer, type RelayTrack } from './Peer.js';
import type { Store } from './store/Store.js';
import { encryptBody, type SharedBody } from '../sdk/transport/udpSeal.js';

/** What a room needs from its relay. @internal */
export interface RoomHost {
  /** Chat messages a late joiner gets in `welcome`. */
  readonly chatHistory: number;
  /** Where chat is kept; `undefined` before the relay listens. */
  readonly store: Store | undefined;
  readonly maxChatChars: number;
  readonly maxChatPerSecond: number;
  readonly maxTracksPerParticipant: number;
  /** Smallest interval between key-frame requests forwarded to a publisher for one track (ms). */
  readonly keyFrameInterval: number;
  roomEmpty(room: Room): void;
}

/**
 * A meeting. Created by the relay on the first join, removed when the last participant leaves.
 */
export class Room {
  readonly id: string;
  readonly #host: RoomHost;
  readonly #peers = new Map<string, Peer>();
  #closed = false;

  /** @internal */
  constructor(id: string, host: RoomHost) {
    this.id = id;
    this.#host = host;
  }

  /** Participants by id. */
  get peers(): ReadonlyMap<string, Peer> {
    return this.#peers;
  }

  /** The chat history a late joiner gets (the last `chatHistory` messages, oldest first). */
  get chatLog(): ChatMessageInfo[] {
    return this.#host.store?.chatHistory(this.id, this.#host.chatHistory) ?? [];
  }

  /**
   * Puts `peer` in the place of `old`, a participant held after its connection dropped: the others see
   * no change; video publishers are asked for key frames for the returning subscriber.
   */
  replace(old: Peer, peer: Peer): void {
    if (this.#peers.get(old.id) !== old) return;
    this.#peers.set(peer.id, peer);
    for (const other of this.#peers.values()) {
      if (other === peer) continue;
      for (const track of other.tracks.values()) {
        if (isVideoKind(track.kind) && !peer.paused.has(track.id)) this.requestKeyFrame(track, true);
      }
    }
  }

  /** Adds a joined peer and tells the others; asks video publishers for a key frame for the newcomer. */
  add(peer: Peer): void {
    this.#peers.set(peer.id, peer);
    this.broadcast({ type: 'participantJoined', participant: peer.info() }, peer);
    for (const other of this.#peers.values()) {
      for (const track of other.tracks.values()) if (isVideoKind(track.kind)) this.requestKeyFrame(track, true);
    }
  }

  /** Removes a peer, unpublishing its tracks, and tells the others. */
  remove(peer: Peer, reason: string): void {
    if (this.#peers.get(peer.id) !== peer) return;
    this.#peers.delete(peer.id);
    for (const track of peer.tracks.values()) {
      this.broadcast({ type: 'trackUnpublished', trackId: track.id, participantId: peer.id });
    }
    for (const other of this.#peers.values()) for (const track of peer.tracks.values()) other.paused.delete(track.id);
    peer.tracks.clear();
    this.broadcast({ type: 'participantLeft', participantId: peer.id, reason });
    if (this.#peers.size === 0) this.#host.roomEmpty(this);
  }

  /** Sends `message` to every participant except `except`. */
  broadcast(message: RelayMessage, except?: Peer): void {
    for (const peer of this.#peers.values()) if (peer !== except) peer.send(message);
  }

  /** Handles `publish`: announces the track to everyone else first, then acks the publisher. */
  publish(peer: Peer, message: ClientMessageOf<'publish'>): void {
    const audioCodec = AUDIO_CODECS.has(message.codec);
    if (isVideoKind(message.kind) === audioCodec) {
      peer.sendError(new RelayError(ErrorCode.InvalidMessage, `a ${message.kind} track cannot carry ${message.codec}`),
        { requestId: message.requestId });
      return;
    }
    if (peer.tracks.size >= this.#host.maxTracksPerParticipant) {
      peer.sendError(new RelayError(ErrorCode.TrackLimit, `at most ${this.#host.maxTracksPerParticipant} tracks per participant`),
        { requestId: message.requestId });
      return;
    }
    const track: RelayTrack = {
      id: randomId(), owner: peer, kind: message.kind, codec: message.codec, muted: message.muted ?? false, lastKeyFrameRequest: 0,
    };
    peer.tracks.set(track.id, track);
    const info = trackInfo(track);
    // Announce before the publisher can send a frame, so no subscriber sees media of an unknown track.
    this.broadcast({ type: 'trackPublished', track: info }, peer);
    peer.send({ type: 'published', requestId: message.requestId, track: info });
  }

  /** Handles `unpublish`. */
  unpublish(peer: Peer, trackId: string): void {
    if (!peer.tracks.delete(trackId)) {
      peer.sendError(new RelayError(ErrorCode.UnknownTrack, `track ${trackId} is not yours`));
      return;
    }
    for (const other of this.#peers.values()) other.paused.delete(trackId);
    this.broadcast({ type: 'trackUnpublished', trackId, participantId: peer.id });
  }

  /** Handles `mute`: the relay stops forwarding a muted track and tells everyone (the publisher included). */
  mute(peer: Peer, trackId: string, muted: boolean): void {
    const track = peer.tracks.get(trackId);
    if (!track) {
      peer.sendError(new RelayError(ErrorCode.UnknownTrack, `track ${trackId} is not yours`));
      return;
    }
    if (track.muted === muted) return;
    track.muted = muted;
    this.broadcast({ type: 'trackMuted', trackId, participantId: peer.id, muted });
    if (!muted && isVideoKind(track.kind)) this.requestKeyFrame(track, true);
  }

  /** Handles `chat`: id and timestamp from the relay, fan-out to all (sender included), ack to the sender. */
  chat(peer: Peer, message: ClientMessageOf<'chat'>): void {
    const requestId = `chat:${message.seq}`;
    if (message.text.length > this.#host.maxChatChars) {
      peer.sendError(new RelayError(ErrorCode.TooLarge, `chat message of ${message.text.length} characters exceeds ${this.#host.maxChatChars}`),
        { requestId });
      return;
    }
    if (message.seq > peer.lastChatSeq && !peer.allowChat()) {
      peer.sendError(new RelayError(ErrorCode.RateLimited,
        `more than ${this.#host.maxChatPerSecond} chat messages per second; send it again in a moment`), { requestId });
      return;
    }
    if (message.seq <= peer.lastChatSeq) {
      // A resend of something already delivered: ack again, deliver nothing twice. A sequence never
      // delivered (it was refused) is refused again, so the sender's promise always settles.
      const id = peer.chatAcks.get(message.seq) ?? this.#host.store?.chatId(this.id, peer.id, message.seq);
      if (id) peer.send({ type: 'chatAck', seq: message.seq, id });
      else {
        peer.sendError(new RelayError(ErrorCode.InvalidMessage,
          `chat sequence ${message.seq} is not after ${peer.lastChatSeq} and was not delivered: send it with a new sequence`), { requestId });
      }
      return;
    }
    peer.lastChatSeq = message.seq;
    const chat: ChatMessageInfo = { id: randomId(), from: peer.id, name: peer.name, text: message.text, ts: Date.now(), seq: message.seq };
    peer.chatAcks.set(message.seq, chat.id);
    if (peer.chatAcks.size > 256) peer.chatAcks.delete(peer.chatAcks.keys().next().value as number);
    this.#host.store?.addChat(this.id, chat);
    this.broadcast({ type: 'chat', message: chat });
    peer.send({ type: 'chatAck', seq: message.seq, id: chat.id });
  }

  /** Handles a subscriber's `keyFrameRequest` (rate-limited per track). */
  keyFrameRequest(peer: Peer, trackId: string): void {
    const track = this.#track(trackId);
    if (!track) peer.sendError(new RelayError(ErrorCode.UnknownTrack, `no track ${trackId} in this meeting`));
    else if (track.owner !== peer) this.requestKeyFrame(track);
  }

  /**
   * Handles `subscription`: `peer` stops (or starts again) receiving someone else's track. Resuming a video
   * track asks its publisher for a key frame (rate-limited like a `keyFrameRequest`), so the subscriber can
   * decode again; the subscriber's own key-frame requests cover a request the limit swallowed.
   */
  subscription(peer: Peer, trackId: string, paused: boolean): void {
    const track = this.#track(trackId);
    if (!track || track.owner === peer) {
      peer.sendError(new RelayError(ErrorCode.UnknownTrack, track ? `track ${trackId} is your own` : `no track ${trackId} in this meeting`));
      return;
    }
    if (paused) {
      peer.paused.add(trackId);
      return;
    }
    if (!peer.paused.delete(trackId) || !isVideoKind(track.kind)) return;
    // What comes before the next key frame could not be decoded: the relay holds it back.
    peer.waitForKeyFrame(trackId);
    this.requestKeyFrame(track);
  }

  /** The track `trackId` of anyone in the meeting. */
  #track(trackId: string): RelayTrack | undefined {
    for (const other of this.#peers.values()) {
      const track = other.tracks.get(trackId);
      if (track) return track;
    }
    return undefined;
  }

  /**
   * Asks the publisher of `track` for a key frame, at most once per interval unless `force`; a request
   * within the interval is sent once when it is over (whoever asked is still waiting), not dropped.
   */
  requestKeyFrame(track: RelayTrack, force = false): void {
    const now = Date.now();
    const wait = track.lastKeyFrameRequest + this.#host.keyFrameInterval - now;
    if (!force && wait > 0) {
      track.keyFrameTimer ??= setTimeout(() => {
        track.keyFrameTimer = undefined;
        // Still published, by someone still here.
        if (!this.#closed && this.#peers.get(track.owner.id) === track.owner && track.owner.tracks.get(track.id) === track) {
          this.requestKeyFrame(track);
        }
      }, wait);
      track.keyFrameTimer.unref?.();
      return;
    }
    clearTimeout(track.keyFrameTimer);
    track.keyFrameTimer = undefined;
    track.lastKeyFrameRequest = now;
    track.owner.send({ type: 'keyFrameRequest', trackId: track.id });
  }

  /** Forwards one whole frame (sender already stamped) to every other participant. */
  forward(from: Peer, track: RelayTrack, bytes: Uint8Array, keyFrame: boolean, timestamp: number): void {
    let bySize: Map<number, Uint8Array[]> | undefined;
    let sealedBySize: Map<number, SharedBody[]> | undefined;
    const frame: ForwardedFrame = {
      bytes, track, keyFrame, timestamp, video: isVideoKind(track.kind),
      fragments(size) {
        bySize ??= new Map();
        let list = bySize.get(size);
        if (!list) bySize.set(size, (list = fragmentPacket(bytes, size)));
        return list;
      },
      sharedBodies(size) {
        sealedBySize ??= new Map();
        let list = sealedBySize.get(size);
        if (!list) sealedBySize.set(size, (list = frame.fragments(size).map(encryptBody)));
        return list;
      },
    };
    for (const peer of this.#peers.values()) if (peer !== from && !peer.paused.has(track.id)) peer.sendMedia(frame);
  }

  /** Closes every peer (relay shutdown). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const peer of [...this.#peers.values()]) {
      peer.send({ type: 'error', code: ErrorCode.Shutdown, message: reason, fatal: true });
      peer.close('goingAway', ErrorCode.Shutdown);
    }
  }
}
