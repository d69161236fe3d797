/**
 * One client of the relay: its link, its identity once joined, its tracks and its send queue policy.
 * @module
 */
import { ErrorCode, ProtocolError, type LanError } from '../sdk/errors.js';
import {
  ID_BYTES, MEDIA_HEADER_BYTES, MediaOffset, PacketType, decodeClientMessage, decodeMediaPacket, encodeControl,
  idBytesEqual, idToBytes, isVideoKind, type ClientMessage, type Codec, type ParticipantInfo,
  type RelayMessage, type TrackInfo, type TrackKind, Reassembler, type ReassemblyBudget,
} from '../sdk/protocol/index.js';
import type { FileService } from './files/FileService.js';
import type { PeerLink } from './links.js';
import { releaseChunkBuffer } from './files/chunkBuffers.js';
import type { Room } from './Room.js';
import type { SharedBody, UdpSeal } from '../sdk/transport/udpSeal.js';

/** A track published by a peer. */
export interface RelayTrack {
  readonly id: string;
  /** The publisher (a resumed connection takes its tracks over). */
  owner: Peer;
  readonly kind: TrackKind;
  codec: Codec;
  muted: boolean;
  /** When the last key-frame request went to the publisher (ms). */
  lastKeyFrameRequest: number;
  /** A request held back by the interval, sent when it is over. @internal */
  keyFrameTimer?: ReturnType<typeof setTimeout> | undefined;
  /** Video only: the smallest transit time (arrival − capture, µs) seen lately, the baseline for staleness. @internal */
  transit?: TransitBaseline;
}

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

/**
 * A video frame that reaches the relay this much later than its track's recent best (µs) waited in a
 * queue on the way (an overloaded relay or network): forwarding it only adds delay, so it is dropped and
 * the publisher asked for a key frame. Sender and relay clocks need not agree: only differences count.
 */
const STALE_VIDEO_US = 250_000;

/** @internal A whole frame being forwarded: the packet bytes (sender stamped) and what the send policy needs. */
export interface ForwardedFrame {
  readonly bytes: Uint8Array;
  readonly track: RelayTrack;
  readonly video: boolean;
  readonly keyFrame: boolean;
  /** Capture time (µs). */
  readonly timestamp: number;
  /** The packet split for a UDP payload size; computed once per size, shared by all subscribers. */
  fragments(payloadSize: number): Uint8Array[];
  /**
   * Those fragments encrypted once for every subscriber whose UDP is sealed (each then seals only the
   * fragment's key for itself: `UdpSeal.sealShared`); computed once per size.
   */
  sharedBodies(payloadSize: number): SharedBody[];
}

/** What the relay provides to a peer. @internal */
export interface PeerHost {
  readonly limits: import('../sdk/protocol/index.js').Limits;
  /** Shared files; `undefined` until the relay listens. */
  readonly files: FileService | undefined;
  readonly videoHighWater: number;
  readonly maxQueueBytes: number;
  /** Bytes all native participants may hold together in UDP frames being reassembled. */
  readonly reassemblyBudget: ReassemblyBudget;
  join(peer: Peer, message: Extract<ClientMessage, { type: 'join' }>): void;
  sendUdp(peer: Peer, frame: ForwardedFrame): void;
  peerClosed(peer: Peer): void;
  log(level: 'info' | 'warn', message: string, fields?: import('./Relay.js').LogFields): void;
}

/** Counters of one peer, for tests, the bench and the admin. */
export interface PeerStats {
  controlIn: number;
  framesIn: number;
  framesOut: number;
  bytesOut: number;
  videoDropped: number;
  errorsSent: number;
  forgedDropped: number;
  /** Video frames dropped on arrival because they had queued too long on the way (see docs/architecture.md). */
  staleDropped: number;
  /** UDP frames dropped in reassembly: incomplete in time, inconsistent, over a limit, or evicted to stay in budget. */
  reassemblyDropped: number;
}

const MAX_ERRORS_BEFORE_CLOSE = 100;

/**
 * A client connection and, once joined, a participant in a {@link Room}.
 */
export class Peer {
  /** @internal */
  readonly link: PeerLink;
  /** Participant id; set by join. */
  id = '';
  name = '';
  role: 'host' | 'guest' = 'guest';
  joinedAt = 0;
  decode: Codec[] = [];
  room: Room | undefined;
  /** UDP: the bound address and the payload size this subscriber wants. */
  udp: { address: string; port: number } | undefined;
  udpToken: string | undefined;
  udpPayloadSize = 0;
  /** This connection's UDP key (seals what goes out, opens what comes in), when its UDP is encrypted. */
  udpSeal: UdpSeal | undefined;
  /** UDP bytes handed to the socket and not yet sent. */
  udpInflight = 0;
  readonly tracks = new Map<string, RelayTrack>();
  /** Other participants' tracks this peer paused (`subscription`): none of their frames are sent to it. */
  readonly paused = new Set<string>();
  lastHeard = Date.now();
  readonly stats: PeerStats;
  readonly #host: PeerHost;
  #idBytes: Uint8Array | undefined;
  #closed = false;
  #tokens: number;
  #lastRefill = Date.now();
  #lastRateError = 0;
  #dropWindow = 0;
  #drops = 0;
  #reassembler: Reassembler | undefined;
  /** Frames dropped by reassemblers this peer had before its current one. */
  #reassemblyDroppedEarlier = 0;
  /** Tracks for which this subscriber lost a video frame and waits for a key frame. */
  readonly #needsKeyFrame = new Set<string>();
  /** Why the peer is gone: `left`, `disconnected` (the connection dropped), or the error code it was closed with. */
  closeReason = '';
  lastChatSeq = -1;
  readonly chatAcks = new Map<number, string>();
  /** Give it back in `join.resume` to take this participant over after a dropped connection. */
  resumeToken = '';
  #chatTokens: number;
  #chatRefill = Date.now();

  /** @internal */
  constructor(link: PeerLink, host: PeerHost) {
    this.link = link;
    this.#host = host;
    this.#tokens = host.limits.maxControlPerSecond * 2;
    this.#chatTokens = host.limits.maxChatPerSecond * 2;
    const reassemblyDropped = () => this.#reassemblyDroppedEarlier + (this.#reassembler?.dropped ?? 0);
    this.stats = {
      controlIn: 0, framesIn: 0, framesOut: 0, bytesOut: 0, videoDropped: 0, errorsSent: 0, forgedDropped: 0, staleDropped: 0,
      get reassemblyDropped() {
        return reassemblyDropped();
      },
    };
    link.setHandlers({
      text: (text) => this.#onText(text),
      binary: (bytes, owned) => this.#onBinary(bytes, false, owned),
      protocolError: (error) => this.fail(error),
      closed: (reason) => this.#onClosed(reason),
    });
  }

  /** `true` once `join` succeeded. */
  get joined(): boolean {
    return this.room !== undefined;
  }

  /** `true` once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes waiting to leave for this peer (its link, or its UDP sends). */
  get backlog(): number {
    return this.udp ? this.udpInflight + this.link.bufferedAmount : this.link.bufferedAmount;
  }

  /** Makes this peer a participant. Called by the relay's join. @internal */
  admit(id: string, name: string, decode: Codec[], room: Room, role: 'host' | 'guest'): void {
    this.id = id;
    this.#idBytes = idToBytes(id);
    this.name = name;
    this.decode = decode;
    this.room = room;
    this.role = role;
    this.joinedAt = Date.now();
    this.#reassemblyDroppedEarlier += this.#reassembler?.dropped ?? 0;
    this.#reassembler?.clear();
    this.#reassembler = undefined;
  }

  /**
   * Takes over the participant `old` held after its connection dropped: same id, role, tracks and chat
   * sequence; the new connection's codecs. @internal
   */
  resumeFrom(old: Peer, decode: Codec[], room: Room): void {
    this.admit(old.id, old.name, decode, room, old.role);
    this.joinedAt = old.joinedAt;
    for (const track of old.tracks.values()) {
      track.owner = this;
      this.tracks.set(track.id, track);
    }
    old.tracks.clear();
    for (const trackId of old.paused) this.paused.add(trackId);
    this.lastChatSeq = old.lastChatSeq;
    for (const [seq, id] of old.chatAcks) this.chatAcks.set(seq, id);
    this.#chatTokens = old.#chatTokens;
  }

  /** The meeting id, once joined. */
  get meeting(): string | undefined {
    return this.room?.id;
  }

  /**
   * Takes one chat message from the per-participant chat budget (`maxChatPerSecond`, bursts of twice that).
   * @internal
   */
  allowChat(): boolean {
    const now = Date.now();
    const rate = this.#host.limits.maxChatPerSecond;
    this.#chatTokens = Math.min(rate * 2, this.#chatTokens + ((now - this.#chatRefill) / 1000) * rate);
    this.#chatRefill = now;
    if (this.#chatTokens < 1) return false;
    this.#chatTokens -= 1;
    return true;
  }

  /**
   * Sends a binary packet (file chunks); never dropped, like control. `sent`: see {@link PeerLink.sendBinary}.
   * @internal
   */
  sendBinary(bytes: Uint8Array, sent?: () => void): void {
    if (this.#closed) {
      sent?.();
      return;
    }
    this.stats.bytesOut += bytes.byteLength;
    this.link.sendBinary(bytes, sent);
  }

  /** The participant as described on the wire. */
  info(): ParticipantInfo {
    return {
      id: this.id, name: this.name, role: this.role, joinedAt: this.joinedAt, decode: this.decode,
      tracks: [...this.tracks.values()].map(trackInfo),
    };
  }

  /** Sends a control message. Control is never dropped; a peer whose queue overflows is closed. */
  send(message: RelayMessage): void {
    if (this.#closed) return;
    if (this.link.bufferedAmount > this.#host.maxQueueBytes) {
      this.fail(new ProtocolError(ErrorCode.SlowConsumer, 'the client stopped reading; its send queue overflowed'), false);
      return;
    }
    this.link.sendText(encodeControl(message));
  }

  /** Sends an `error`; closes the link after it when `fatal`. */
  sendError(error: LanError, options: { requestId?: string; fatal?: boolean } = {}): void {
    this.stats.errorsSent++;
    const message: RelayMessage = { type: 'error', code: error.code, message: error.message.slice(0, 1000) };
    if (options.requestId) message.requestId = options.requestId;
    if (options.fatal) message.fatal = true;
    this.send(message);
    if (options.fatal) this.close(error.code === ErrorCode.TooLarge ? 'tooBig' : 'policy', error.code);
    else if (this.stats.errorsSent > MAX_ERRORS_BEFORE_CLOSE) {
      this.sendError(new ProtocolError(ErrorCode.InvalidMessage, 'too many invalid messages'), { fatal: true });
    }
  }

  /** Reports `error` and closes (protocol violations that leave the stream unusable). */
  fail(error: LanError, tell = true): void {
    if (tell) this.sendError(error, { fatal: true });
    else this.close('policy', error.code);
  }

  /**
   * Queues one frame for this subscriber. Audio is always sent; video is dropped whole when the
   * subscriber's backlog is over the high-water mark, and then until the next key frame (a delta
   * frame without its reference is useless), asking the publisher for one.
   * @internal
   */
  sendMedia(frame: ForwardedFrame): void {
    if (this.#closed) return;
    if (frame.video) {
      const id = frame.track.id;
      if (this.#needsKeyFrame.has(id)) {
        if (!frame.keyFrame) {
          this.stats.videoDropped++;
          return;
        }
        this.#needsKeyFrame.delete(id);
      }
      if (this.backlog > this.#host.videoHighWater) {
        this.stats.videoDropped++;
        this.#needsKeyFrame.add(id);
        this.room?.requestKeyFrame(frame.track);
        return;
      }
    } else if (this.backlog > this.#host.maxQueueBytes) {
      this.fail(new ProtocolError(ErrorCode.SlowConsumer, 'the client stopped reading; its send queue overflowed'), false);
      return;
    }
    this.stats.framesOut++;
    this.stats.bytesOut += frame.bytes.byteLength;
    if (this.udp) this.#host.sendUdp(this, frame);
    else this.link.sendBinary(frame.bytes);
  }

  /** Sends this peer none of `trackId`'s video until its next key frame (it could not decode what comes before). @internal */
  waitForKeyFrame(trackId: string): void {
    this.#needsKeyFrame.add(trackId);
  }

  /** Drops UDP frames not whole within 2 s, even when no new frame comes to trigger it. @internal */
  expireFragments(): void {
    this.#reassembler?.expire();
  }

  /**
   * A media datagram from this peer's bound UDP address. It does not count as hearing from the peer: only
   * whole messages on its connection do, so a client that stalls its connection (a frame left unfinished)
   * cannot stay in by sending datagrams. @internal
   */
  handleUdp(bytes: Uint8Array): void {
    this.#onBinary(bytes, true, false);
  }

  /** Closes the link and leaves the room. Idempotent. `reason` is told to the others (`left`, an error code…). */
  close(kind: Parameters<PeerLink['close']>[0] = 'normal', reason = 'left'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeReason = reason;
    this.link.close(kind, reason);
    this.#reassembler?.clear();
    this.#host.peerClosed(this);
  }

  #onClosed(reason = 'disconnected'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeReason = reason;
    this.#reassembler?.clear();
    this.#host.peerClosed(this);
  }

  #allow(message: ClientMessage): boolean {
    // Flow-control acks come with the data (one per megabyte or so), not from a person: they are paced
    // by the transfer, and an ack out of place is refused by the file service.
    if (message.type === 'fileAck' && this.#host.files?.isDownloadOf(this, message.transferId)) return true;
    const now = Date.now();
    const rate = this.#host.limits.maxControlPerSecond;
    this.#tokens = Math.min(rate * 2, this.#tokens + ((now - this.#lastRefill) / 1000) * rate);
    this.#lastRefill = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    const error = new ProtocolError(ErrorCode.RateLimited, `more than ${rate} control messages per second; "${message.type}" dropped`);
    // Dropping is for bursts; a client that keeps flooding is abusive and goes.
    if (now - this.#dropWindow > 1000) {
      this.#dropWindow = now;
      this.#drops = 0;
    }
    if (++this.#drops > rate * 2) {
      this.sendError(error, { fatal: true });
      return false;
    }
    // A dropped request is always answered, so the client's promise settles; other drops are told once a second.
    const requestId = message.type === 'publish' || message.type === 'fileUpload' || message.type === 'fileDownload' || message.type === 'fileList' ? message.requestId
      : message.type === 'chat' ? `chat:${message.seq}` : message.type === 'fileUploadEnd' ? `file:${message.uploadId}` : undefined;
    if (requestId) this.sendError(error, { requestId });
    else if (now - this.#lastRateError > 1000) {
      this.#lastRateError = now;
      this.sendError(error);
    }
    return false;
  }

  #onText(text: string | Uint8Array): void {
    if (this.#closed) return;
    this.lastHeard = Date.now();
    this.stats.controlIn++;
    let message: ClientMessage;
    try {
      message = decodeClientMessage(text, this.#host.limits.maxControlBytes);
    } catch (error) {
      // Before join, nothing but a valid join is acceptable: the connection is not a client of ours.
      this.sendError(error as ProtocolError, { fatal: !this.joined });
      return;
    }
    if (!this.#allow(message)) return;
    if (message.type === 'join') {
      if (this.joined) this.sendError(new ProtocolError(ErrorCode.AlreadyJoined, 'this connection has already joined'));
      else this.#host.join(this, message);
      return;
    }
    const room = this.room;
    if (!room) {
      this.sendError(new ProtocolError(ErrorCode.NotJoined, `"${message.type}" before "join"`), { fatal: true });
      return;
    }
    switch (message.type) {
      case 'ping':
        this.send({ type: 'pong', t: message.t, serverTime: Date.now() });
        return;
      case 'leave':
        this.close('normal', 'left');
        return;
      case 'publish':
        room.publish(this, message);
        return;
      case 'unpublish':
        room.unpublish(this, message.trackId);
        return;
      case 'mute':
        room.mute(this, message.trackId, message.muted);
        return;
      case 'chat':
        room.chat(this, message);
        return;
      case 'keyFrameRequest':
        room.keyFrameRequest(this, message.trackId);
        return;
      case 'subscription':
        room.subscription(this, message.trackId, message.paused);
        return;
      case 'fileUpload':
        void this.#host.files?.upload(this, message);
        return;
      case 'fileUploadEnd':
        void this.#host.files?.uploadEnd(this, message);
        return;
      case 'fileDownload':
        void this.#host.files?.download(this, message);
        return;
      case 'fileAck':
        this.#host.files?.ack(this, message);
        return;
      case 'fileCancel':
        this.#host.files?.cancel(this, message);
        return;
      case 'fileList':
        this.#host.files?.listPage(this, message);
        return;
    }
  }

  #onBinary(bytes: Uint8Array, fromUdp: boolean, owned: boolean): void {
    if (this.#closed || !this.room) {
      // A file chunk joined into a pooled buffer that no upload takes: the buffer goes back.
      if (owned) releaseChunkBuffer(bytes);
      if (this.#closed) return;
      this.sendError(new ProtocolError(ErrorCode.NotJoined, 'media before "join"'), { fatal: true });
      return;
    }
    if (!fromUdp) this.lastHeard = Date.now();
    const room = this.room;
    if (bytes[0] === PacketType.FileChunk && !fromUdp) {
      const files = this.#host.files;
      if (files) files.chunk(this, bytes, owned);
      else if (owned) releaseChunkBuffer(bytes);
      return;
    }
    const limit = this.#host.limits.maxFrameBytes;
    let packet;
    try {
      packet = decodeMediaPacket(bytes, limit);
    } catch (error) {
      if (!fromUdp) this.sendError(error as ProtocolError);
      return;
    }
    // The sender field must be empty or this peer: nobody speaks for somebody else.
    const senderIsZero = bytes.subarray(MediaOffset.sender, MediaOffset.sender + ID_BYTES).every((b) => b === 0);
    if (!senderIsZero && !idBytesEqual(bytes, MediaOffset.sender, this.#idBytes!)) {
      this.stats.forgedDropped++;
      if (!fromUdp) this.sendError(new ProtocolError(ErrorCode.ForgedSender, 'media packet names another sender; dropped'));
      return;
    }
    const track = this.tracks.get(packet.track);
    if (!track || track.kind !== packet.kind || isVideoKind(track.kind) === (packet.codec === 'opus' || packet.codec === 'pcm16')) {
      if (!fromUdp) this.sendError(new ProtocolError(ErrorCode.UnknownTrack, `track ${packet.track} is not yours or does not carry ${packet.kind}/${packet.codec}`));
      return;
    }
    let whole: Uint8Array = bytes;
    if (packet.fragmentCount > 1) {
      if (!fromUdp) {
        this.sendError(new ProtocolError(ErrorCode.BadFragment, 'fragments are for UDP only; send whole frames'));
        return;
      }
      // Made at the first fragment, once the UDP payload size the client sends with is known.
      const reassembler = this.#reassembler ??= new Reassembler({
        maxFrameBytes: limit, fragmentPayload: this.udpPayloadSize || undefined, budget: this.#host.reassemblyBudget,
      });
      const done = reassembler.push(packet, bytes);
      if (!done) return;
      whole = done;
    }
    if (whole.byteLength - MEDIA_HEADER_BYTES > limit) return;
    this.stats.framesIn++;
    if (track.muted) return;
    if (isVideoKind(track.kind)) {
      const now = Date.now();
      track.transit ??= new TransitBaseline(now);
      if (track.transit.excess(now * 1000 - packet.timestamp, now) > STALE_VIDEO_US) {
        this.stats.staleDropped++;
        room.requestKeyFrame(track);
        return;
      }
    }
    if (senderIsZero) whole.set(this.#idBytes!, MediaOffset.sender);
    track.codec = packet.codec;
    room.forward(this, track, whole, packet.keyFrame, packet.timestamp);
  }
}

/** A track as described on the wire. */
export function trackInfo(track: RelayTrack): TrackInfo {
  return { id: track.id, participantId: track.owner.id, kind: track.kind, codec: track.codec, muted: track.muted };
}
