/**
 * One meeting: its participants, their tracks and the chat log (kept in the relay's store). Forwards
 * media among its participants only.
 * @module
 */
import { ErrorCode, RelayError } from '../sdk/errors.js';
import {
  codecFitsKind, fragmentPacket, isVideoKind, randomId, type ChatMessageInfo, type ClientMessageOf, type Codec,
  type MediaHeader, type RelayMessage, type TrackKind,
} from '../sdk/protocol/index.js';
import type { ForwardedFrame } from './Connection.js';
import { trackInfo, type Participant } from './Participant.js';
import type { Store } from './store/Store.js';
import { encryptBody, type SharedBody } from '../sdk/node/udpSeal.js';

/**
 * A video frame that reaches the relay this much later than its track's recent best (µs) waited in a
 * queue on the way (an overloaded relay or network): forwarding it only adds delay, so it is dropped and
 * the publisher asked for a key frame. Sender and relay clocks need not agree: only differences count.
 */
const STALE_VIDEO_US = 250_000;

/** A sliding minimum of transit times over two windows. @internal */
export class TransitBaseline {
  #current = Infinity;
  #previous = Infinity;
  #rotatedAt: number;
  readonly #windowMs: number;

  constructor(now: number, windowMs = 5000) {
    this.#rotatedAt = now;
    this.#windowMs = windowMs;
  }

  /** Records a transit time and returns how far (µs) it is above the baseline. */
  excess(transitUs: number, now: number): number {
    if (now - this.#rotatedAt > this.#windowMs) {
      this.#previous = this.#current;
      this.#current = Infinity;
      this.#rotatedAt = now;
    }
    if (transitUs < this.#current) this.#current = transitUs;
    return transitUs - Math.min(this.#current, this.#previous);
  }
}

/** A track published in a meeting. */
export interface RelayTrack {
  readonly id: string;
  /** The publisher. */
  readonly owner: Participant;
  readonly kind: TrackKind;
  codec: Codec;
  muted: boolean;
  /** When the last key-frame request went to the publisher (ms). */
  lastKeyFrameRequest: number;
  /** A request held back by the interval, sent when it is over. @internal */
  keyFrameTimer?: ReturnType<typeof setTimeout> | undefined;
  /** The host who muted it: with the meeting's unmute restricted, its owner may turn it on only once a host asks. */
  heldBy?: string | undefined;
  /** Video only: the smallest transit time (arrival − capture, µs) seen lately, the baseline for staleness. @internal */
  transit?: TransitBaseline;
}

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
  /**
   * Takes `participant` out of the meeting for good, by a host's decision (`reason`: `LAN_ERR_REMOVED` or
   * `LAN_ERR_ENDED`): its connection, if it has one, is told and closed; held, it is let go at once.
   */
  expel(participant: Participant, reason: ErrorCode, message: string): void;
}

/**
 * A meeting. Created by the relay on the first join, removed when the last participant leaves.
 */
export class Room {
  readonly id: string;
  readonly #host: RoomHost;
  readonly #participants = new Map<string, Participant>();
  #closed = false;
  /** A host locked the meeting: nobody new may join. */
  #locked = false;
  /** Addresses a host removed with `block`: they may not join this meeting again while it lasts. */
  readonly #blocked = new Set<string>();
  /** Raised hands, oldest first. */
  readonly #hands: Participant[] = [];
  /** What a host muted comes back on only when a host asks (`restrictUnmute`). */
  #unmuteRestricted = false;

  /** @internal */
  constructor(id: string, host: RoomHost) {
    this.id = id;
    this.#host = host;
  }

  /** Participants by id, those held for a resume included. */
  get participants(): ReadonlyMap<string, Participant> {
    return this.#participants;
  }

  /** `true` while a host has the meeting locked against newcomers. */
  get locked(): boolean {
    return this.#locked;
  }

  /** `true` when what a host muted comes back on only when a host asks. */
  get unmuteRestricted(): boolean {
    return this.#unmuteRestricted;
  }

  /** The participants with a raised hand, oldest first. */
  get hands(): readonly Participant[] {
    return this.#hands;
  }

  /** `true` when a host removed someone from `address` and blocked it from joining again. */
  blocks(address: string): boolean {
    return this.#blocked.has(address);
  }

  /** The chat history a late joiner gets (the last `chatHistory` messages, oldest first). */
  get chatLog(): ChatMessageInfo[] {
    return this.#host.store?.chatHistory(this.id, this.#host.chatHistory) ?? [];
  }

  /**
   * `participant`, held after its connection dropped, is back on a new connection: the others see no
   * change; video publishers are asked for key frames for the returning subscriber.
   */
  resumed(participant: Participant): void {
    if (this.#participants.get(participant.id) !== participant) return;
    for (const other of this.#participants.values()) {
      if (other === participant) continue;
      for (const track of other.tracks.values()) {
        if (isVideoKind(track.kind) && !participant.paused.has(track.id)) this.requestKeyFrame(track, true);
      }
    }
  }

  /** Adds a joined participant and tells the others; asks video publishers for a key frame for the newcomer. */
  add(participant: Participant): void {
    this.#participants.set(participant.id, participant);
    this.broadcast({ type: 'participantJoined', participant: participant.info() }, participant);
    for (const other of this.#participants.values()) {
      for (const track of other.tracks.values()) if (isVideoKind(track.kind)) this.requestKeyFrame(track, true);
    }
  }

  /** Removes a participant, unpublishing its tracks, and tells the others; the last host leaving names a new one. */
  remove(participant: Participant, reason: string): void {
    if (this.#participants.get(participant.id) !== participant) return;
    this.#participants.delete(participant.id);
    const hand = this.#hands.indexOf(participant);
    if (hand >= 0) this.#hands.splice(hand, 1);
    if (participant.role === 'host') this.#keepAHost();
    for (const track of participant.tracks.values()) {
      this.broadcast({ type: 'trackUnpublished', trackId: track.id, participantId: participant.id });
    }
    for (const other of this.#participants.values()) for (const track of participant.tracks.values()) other.setPaused(track.id, false);
    participant.clearTracks();
    this.broadcast({ type: 'participantLeft', participantId: participant.id, reason });
    if (this.#participants.size === 0) this.#host.roomEmpty(this);
  }

  /** Sends `message` to every participant except `except`. @internal */
  broadcast(message: RelayMessage, except?: Participant): void {
    for (const participant of this.#participants.values()) if (participant !== except) participant.send(message);
  }

  /** Handles `publish`: announces the track to everyone else first, then acks the publisher. @internal */
  publish(participant: Participant, message: ClientMessageOf<'publish'>): void {
    if (!codecFitsKind(message.codec, message.kind)) {
      participant.sendError(new RelayError(ErrorCode.InvalidMessage, `a ${message.kind} track cannot carry ${message.codec}`),
        { requestId: message.requestId });
      return;
    }
    if (participant.tracks.size >= this.#host.maxTracksPerParticipant) {
      participant.sendError(new RelayError(ErrorCode.TrackLimit, `at most ${this.#host.maxTracksPerParticipant} tracks per participant`),
        { requestId: message.requestId });
      return;
    }
    const track: RelayTrack = {
      id: randomId(), owner: participant, kind: message.kind, codec: message.codec, muted: message.muted ?? false, lastKeyFrameRequest: 0,
    };
    participant.addTrack(track);
    const info = trackInfo(track);
    // Announce before the publisher can send a frame, so no subscriber sees media of an unknown track.
    this.broadcast({ type: 'trackPublished', track: info }, participant);
    participant.send({ type: 'published', requestId: message.requestId, track: info });
  }

  /** Handles `unpublish`. */
  unpublish(participant: Participant, trackId: string): void {
    if (!participant.removeTrack(trackId)) {
      participant.sendError(new RelayError(ErrorCode.UnknownTrack, `track ${trackId} is not yours`));
      return;
    }
    for (const other of this.#participants.values()) other.setPaused(trackId, false);
    this.broadcast({ type: 'trackUnpublished', trackId, participantId: participant.id });
  }

  /** Handles `mute`: the relay stops forwarding a muted track and tells everyone (the publisher included). */
  mute(participant: Participant, trackId: string, muted: boolean): void {
    const track = participant.tracks.get(trackId);
    if (!track) {
      participant.sendError(new RelayError(ErrorCode.UnknownTrack, `track ${trackId} is not yours`));
      return;
    }
    if (track.muted === muted) return;
    if (!muted && track.heldBy && this.#unmuteRestricted && participant.role !== 'host') {
      participant.sendError(new RelayError(ErrorCode.Forbidden, 'a host muted it: it comes back on when a host asks you to'));
      // The client unmuted it already on its side: it is told again that the track stays muted, and by whom.
      participant.send({ type: 'trackMuted', trackId, participantId: participant.id, muted: true, by: track.heldBy });
      return;
    }
    track.muted = muted;
    if (!muted) track.heldBy = undefined;
    this.broadcast({ type: 'trackMuted', trackId, participantId: participant.id, muted });
    if (!muted && isVideoKind(track.kind)) this.requestKeyFrame(track, true);
  }

  /** Handles `chat`: id and timestamp from the relay, fan-out to all (sender included), ack to the sender. @internal */
  chat(participant: Participant, message: ClientMessageOf<'chat'>): void {
    const requestId = `chat:${message.seq}`;
    if (message.text.length > this.#host.maxChatChars) {
      participant.sendError(new RelayError(ErrorCode.TooLarge, `chat message of ${message.text.length} characters exceeds ${this.#host.maxChatChars}`),
        { requestId });
      return;
    }
    if (message.seq > participant.lastChatSeq && !participant.allowChat()) {
      participant.sendError(new RelayError(ErrorCode.RateLimited,
        `more than ${this.#host.maxChatPerSecond} chat messages per second; send it again in a moment`), { requestId });
      return;
    }
    if (message.seq <= participant.lastChatSeq) {
      // A resend of something already delivered: ack again, deliver nothing twice. A sequence never
      // delivered (it was refused) is refused again, so the sender's promise always settles.
      const id = participant.recentChatId(message.seq) ?? this.#host.store?.chatId(this.id, participant.id, message.seq);
      if (id) participant.send({ type: 'chatAck', seq: message.seq, id });
      else {
        participant.sendError(new RelayError(ErrorCode.InvalidMessage,
          `chat sequence ${message.seq} is not after ${participant.lastChatSeq} and was not delivered: send it with a new sequence`), { requestId });
      }
      return;
    }
    const chat: ChatMessageInfo = { id: randomId(), from: participant.id, name: participant.name, text: message.text, ts: Date.now(), seq: message.seq };
    participant.chatDelivered(message.seq, chat.id);
    this.#host.store?.addChat(this.id, chat);
    this.broadcast({ type: 'chat', message: chat });
    participant.send({ type: 'chatAck', seq: message.seq, id: chat.id });
  }

  /** Handles a subscriber's `keyFrameRequest` (rate-limited per track). */
  keyFrameRequest(participant: Participant, trackId: string): void {
    const track = this.#track(trackId);
    if (!track) participant.sendError(new RelayError(ErrorCode.UnknownTrack, `no track ${trackId} in this meeting`));
    else if (track.owner !== participant) this.requestKeyFrame(track);
  }

  /**
   * Handles `subscription`: `participant` stops (or starts again) receiving someone else's track. Resuming a video
   * track asks its publisher for a key frame (rate-limited like a `keyFrameRequest`), so the subscriber can
   * decode again; the subscriber's own key-frame requests cover a request the limit swallowed.
   */
  subscription(participant: Participant, trackId: string, paused: boolean): void {
    const track = this.#track(trackId);
    if (!track || track.owner === participant) {
      participant.sendError(new RelayError(ErrorCode.UnknownTrack, track ? `track ${trackId} is your own` : `no track ${trackId} in this meeting`));
      return;
    }
    if (paused) {
      participant.setPaused(trackId, true);
      return;
    }
    if (!participant.setPaused(trackId, false) || !isVideoKind(track.kind)) return;
    // What comes before the next key frame could not be decoded: the relay holds it back.
    participant.connection?.waitForKeyFrame(trackId);
    this.requestKeyFrame(track);
  }

  /** The track `trackId` of anyone in the meeting. */
  #track(trackId: string): RelayTrack | undefined {
    for (const other of this.#participants.values()) {
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
        if (!this.#closed && this.#participants.get(track.owner.id) === track.owner && track.owner.tracks.get(track.id) === track) {
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

  /**
   * Takes one whole frame `from` sent on its `track` (sender already stamped): a muted track's frame goes
   * nowhere; a video frame that waited too long on the way is dropped and a key frame asked for; the rest is
   * forwarded. @internal
   */
  receive(from: Participant, track: RelayTrack, bytes: Uint8Array, packet: MediaHeader): void {
    if (track.muted) return;
    if (isVideoKind(track.kind)) {
      const now = Date.now();
      track.transit ??= new TransitBaseline(now);
      if (track.transit.excess(now * 1000 - packet.timestamp, now) > STALE_VIDEO_US) {
        from.count('staleDropped');
        this.requestKeyFrame(track);
        return;
      }
    }
    track.codec = packet.codec;
    this.forward(from, track, bytes, packet.keyFrame, packet.timestamp);
  }

  /** Forwards one whole frame (sender already stamped) to every other participant. */
  forward(from: Participant, track: RelayTrack, bytes: Uint8Array, keyFrame: boolean, timestamp: number): void {
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
    for (const participant of this.#participants.values()) if (participant !== from && !participant.paused.has(track.id)) participant.sendMedia(frame);
  }

  /**
   * Handles `host`: only a host may act (else `LAN_ERR_FORBIDDEN`, nothing changes). Everyone hears of it
   * (`hostAction`, naming the host) before its effects; the host gets `hostDone`.
   * @internal
   */
  host(by: Participant, message: ClientMessageOf<'host'>): void {
    const { requestId, action } = message;
    if (by.role !== 'host') {
      by.sendError(new RelayError(ErrorCode.Forbidden, `only a host may ${action}`), { requestId });
      return;
    }
    let target: Participant | undefined;
    if (action === 'remove' || action === 'mute' || action === 'makeHost' || action === 'lowerHand' || action === 'askToUnmute') {
      target = message.participantId !== undefined ? this.#participants.get(message.participantId) : undefined;
      if (!target) {
        by.sendError(new RelayError(ErrorCode.InvalidMessage, `no participant ${message.participantId ?? '(none given)'} in this meeting`), { requestId });
        return;
      }
      if (target === by && action !== 'mute' && action !== 'lowerHand') {
        by.sendError(new RelayError(ErrorCode.InvalidMessage, `"${action}" acts on someone else`), { requestId });
        return;
      }
    }
    const kind = action === 'mute' || action === 'askToUnmute' ? message.kind ?? 'microphone' : undefined;
    this.broadcast({ type: 'hostAction', action, by: by.id, ...(target ? { participantId: target.id } : {}), ...(kind ? { kind } : {}) });
    by.send({ type: 'hostDone', requestId });
    switch (action) {
      case 'lock':
      case 'unlock':
        this.#locked = action === 'lock';
        return;
      case 'mute':
        this.#muteTracks(target!, kind!, by);
        return;
      case 'muteAll':
        for (const p of [...this.#participants.values()]) if (p.role !== 'host') this.#muteTracks(p, 'microphone', by);
        return;
      case 'makeHost':
        if (target!.role === 'host') return;
        target!.setRole('host');
        this.broadcast({ type: 'roleChanged', participantId: target!.id, role: 'host', by: by.id });
        return;
      case 'stepDown':
        by.setRole('guest');
        this.broadcast({ type: 'roleChanged', participantId: by.id, role: 'guest', by: by.id });
        this.#keepAHost();
        return;
      case 'remove': {
        const address = target!.connection?.link.remoteAddress;
        if (message.block && address) this.#blocked.add(address);
        this.#host.expel(target!, ErrorCode.Removed, `${by.name} removed you from the meeting`);
        return;
      }
      case 'lowerHand':
        this.#setHand(target!, false, by);
        return;
      case 'askToUnmute':
        // A prompt, never a remote unmute: the person decides; what the host held may now come back on.
        for (const track of target!.tracks.values()) if (track.kind === kind) track.heldBy = undefined;
        target!.send({ type: 'unmuteRequested', kind: kind!, by: by.id });
        return;
      case 'restrictUnmute':
      case 'allowUnmute':
        this.#unmuteRestricted = action === 'restrictUnmute';
        return;
      case 'end':
        for (const p of [...this.#participants.values()]) this.#host.expel(p, ErrorCode.Ended, `${by.name} ended the meeting for everyone`);
        return;
    }
  }

  /**
   * Handles `hand` (`raised`) and `react`: told to everyone; a change that changes nothing is not. Rate-limited
   * per participant (`LAN_ERR_RATE_LIMITED`, nothing sent).
   * @internal
   */
  gesture(participant: Participant, message: ClientMessageOf<'hand'> | ClientMessageOf<'react'>): void {
    if (!participant.allowGesture()) {
      participant.sendError(new RelayError(ErrorCode.RateLimited, 'more than one raised hand or reaction a second; try again in a moment'));
      return;
    }
    if (message.type === 'react') {
      this.broadcast({ type: 'reaction', participantId: participant.id, emoji: message.emoji });
      return;
    }
    this.#setHand(participant, message.raised);
  }

  /** Raises or lowers `participant`'s hand, telling everyone when it changed (`by`: the host who lowered it). */
  #setHand(participant: Participant, raised: boolean, by?: Participant): void {
    const at = this.#hands.indexOf(participant);
    if (raised === at >= 0) return;
    if (raised) this.#hands.push(participant);
    else this.#hands.splice(at, 1);
    this.broadcast({ type: 'hand', participantId: participant.id, raised, ...(by ? { by: by.id } : {}) });
  }

  /** Mutes `participant`'s tracks of `kind` on a host's word: the relay stops forwarding them and tells everyone who did it. */
  #muteTracks(participant: Participant, kind: TrackKind, by: Participant): void {
    for (const track of participant.tracks.values()) {
      if (track.kind !== kind) continue;
      track.heldBy = by.id;
      if (track.muted) continue;
      track.muted = true;
      this.broadcast({ type: 'trackMuted', trackId: track.id, participantId: participant.id, muted: true, by: by.id });
    }
  }

  /** When no host is left, the participant here longest becomes one (announced, without `by`). */
  #keepAHost(): void {
    const here = [...this.#participants.values()];
    if (here.length === 0 || here.some((p) => p.role === 'host')) return;
    const next = here.reduce((a, b) => (b.joinedAt < a.joinedAt ? b : a));
    next.setRole('host');
    this.broadcast({ type: 'roleChanged', participantId: next.id, role: 'host' });
  }

  /** Tells every participant the relay is shutting down and closes their connections. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const participant of [...this.#participants.values()]) {
      participant.send({ type: 'error', code: ErrorCode.Shutdown, message: reason, fatal: true });
      participant.connection?.close('goingAway', ErrorCode.Shutdown);
    }
  }
}
