/**
 * One client connection: its link (WebSocket, or native TCP with its UDP binding), the checks every
 * message passes (decoding, the rate limit, joined or not), and the send queue with its drop policy.
 * Owned by the relay; it closes once. Once joined it speaks for one {@link Participant}, which
 * outlives it.
 * @module
 */
import { ErrorCode, ProtocolError, type LanError } from '../sdk/errors.js';
import {
  ID_BYTES, MEDIA_HEADER_BYTES, MediaOffset, PacketType, decodeClientMessage, decodeMediaPacket, encodeControl,
  idBytesEqual, type ClientMessage, type Limits, type RelayMessage, Reassembler, type ReassemblyBudget,
  codecFitsKind,
} from '../sdk/protocol/index.js';
import type { SharedBody, UdpSeal } from '../sdk/node/udpSeal.js';
import type { FileService } from './files/FileService.js';
import { releaseChunkBuffer } from './files/chunkBuffers.js';
import type { PeerLink } from './links.js';
import type { Participant } from './Participant.js';
import type { RelayTrack } from './Room.js';

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

/** A native connection's UDP side: offered in its welcome, bound once a bind arrives. @internal */
export interface UdpBinding {
  /** The token of its welcome, which a bind must carry. */
  readonly token: string;
  /** Payload size of the fragments it receives. */
  readonly payloadSize: number;
  /** Its key, when its UDP is encrypted: seals what goes out, opens what comes in. */
  readonly seal: UdpSeal | undefined;
  /** The address and port its binds came from, once bound. */
  address?: { address: string; port: number } | undefined;
  /** Bytes handed to the UDP socket and not yet sent. */
  inflight: number;
}

/** What the relay provides to a connection. @internal */
export interface ConnectionHost {
  readonly limits: Limits;
  /** Shared files; `undefined` until the relay listens. */
  readonly files: FileService | undefined;
  /** Over this many bytes queued for a subscriber, video is dropped (until the next key frame). */
  readonly videoHighWater: number;
  /** Over this many bytes queued, a connection that must not lose anything (control, audio) is closed. */
  readonly maxQueueBytes: number;
  /** Bytes all native participants may hold together in UDP frames being reassembled. */
  readonly reassemblyBudget: ReassemblyBudget;
  /** A `join` on a connection that has not joined: admission (passcode, resume, the room). */
  join(connection: Connection, message: Extract<ClientMessage, { type: 'join' }>): void;
  /** Sends a frame over the connection's bound UDP address. */
  sendUdp(connection: Connection, frame: ForwardedFrame): void;
  /** The connection closed (once). */
  closed(connection: Connection): void;
}

/** Counters of the connection itself. */
export interface ConnectionStats {
  /** Control messages received. */
  controlIn: number;
  /** `error` messages sent. */
  errorsSent: number;
}

/** Invalid messages a connection may send before it is closed. */
const MAX_ERRORS_BEFORE_CLOSE = 100;

/**
 * One client connection, joined or not.
 */
export class Connection {
  /** @internal */
  readonly link: PeerLink;
  /** When the link opened (ms): a connection must join within the join timeout. */
  readonly openedAt = Date.now();
  readonly stats: ConnectionStats = { controlIn: 0, errorsSent: 0 };
  /** When a whole message last arrived on the link (ms); UDP datagrams do not count. */
  lastHeard = Date.now();
  /** Why it closed: `left`, `disconnected` (the network dropped it), or the error code it was closed with. */
  closeReason = '';
  readonly #host: ConnectionHost;
  #participant: Participant | undefined;
  #udp: UdpBinding | undefined;
  #closed = false;
  #tokens: number;
  #lastRefill = Date.now();
  #lastRateError = 0;
  #dropWindow = 0;
  #drops = 0;
  #reassembler: Reassembler | undefined;
  /** Frames dropped by reassemblers this connection had before its current one. */
  #reassemblyDroppedEarlier = 0;
  /** Tracks for which this subscriber lost a video frame and waits for a key frame. */
  readonly #needsKeyFrame = new Set<string>();

  /** @internal */
  constructor(link: PeerLink, host: ConnectionHost) {
    this.link = link;
    this.#host = host;
    this.#tokens = host.limits.maxControlPerSecond * 2;
    link.setHandlers({
      text: (text) => this.#onText(text),
      binary: (bytes, owned) => this.#onBinary(bytes, false, owned),
      protocolError: (error) => this.fail(error),
      closed: (reason) => this.#onClosed(reason),
    });
  }

  /** The participant it speaks for, once joined. */
  get participant(): Participant | undefined {
    return this.#participant;
  }

  /** The participant's id ('' before join). */
  get id(): string {
    return this.#participant?.id ?? '';
  }

  /** The participant's name ('' before join). */
  get name(): string {
    return this.#participant?.name ?? '';
  }

  /** The meeting id, once joined. */
  get meeting(): string | undefined {
    return this.#participant?.room.id;
  }

  /** `true` once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Its UDP side (native connections, once welcomed). @internal */
  get udp(): UdpBinding | undefined {
    return this.#udp;
  }

  /** Bytes waiting to leave for this client (its link, and its UDP sends). */
  get backlog(): number {
    return this.#udp?.address ? this.#udp.inflight + this.link.bufferedAmount : this.link.bufferedAmount;
  }

  /** Makes this connection `participant`'s (a join, or a resume). @internal */
  joined(participant: Participant): void {
    this.#participant = participant;
    this.#dropReassembler();
  }

  /** Gives this native connection its UDP side (its welcome carries it). @internal */
  offerUdp(binding: UdpBinding): void {
    this.#udp = binding;
  }

  /** Sends a control message. Control is never dropped; a client whose queue overflows is closed. @internal */
  send(message: RelayMessage): void {
    if (this.#closed) return;
    if (this.link.bufferedAmount > this.#host.maxQueueBytes) {
      this.fail(new ProtocolError(ErrorCode.SlowConsumer, 'the client stopped reading; its send queue overflowed'), false);
      return;
    }
    this.link.sendText(encodeControl(message));
  }

  /** Sends an `error`; closes the connection after it when `fatal`. */
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
   * Sends a binary packet (file chunks); never dropped, like control. `sent`: see {@link PeerLink.sendBinary}.
   * @internal
   */
  sendBinary(bytes: Uint8Array, sent?: () => void): void {
    if (this.#closed) {
      sent?.();
      return;
    }
    this.#participant?.count('bytesOut', bytes.byteLength);
    this.link.sendBinary(bytes, sent);
  }

  /**
   * Queues one frame of someone else's track: the send policy, in this one place. Audio is always sent
   * (a client that stops reading it is closed); video is dropped whole when the backlog is over the
   * high-water mark, and then until the next key frame (a delta frame without its reference is useless),
   * asking the publisher for one. Says what became of the frame; the participant counts it.
   * @internal
   */
  sendMedia(frame: ForwardedFrame): 'sent' | 'dropped' | 'closed' {
    if (this.#closed) return 'closed';
    if (frame.video) {
      const id = frame.track.id;
      if (this.#needsKeyFrame.has(id)) {
        if (!frame.keyFrame) return 'dropped';
        this.#needsKeyFrame.delete(id);
      }
      if (this.backlog > this.#host.videoHighWater) {
        this.#needsKeyFrame.add(id);
        frame.track.owner.room.requestKeyFrame(frame.track);
        return 'dropped';
      }
    } else if (this.backlog > this.#host.maxQueueBytes) {
      this.fail(new ProtocolError(ErrorCode.SlowConsumer, 'the client stopped reading; its send queue overflowed'), false);
      return 'closed';
    }
    if (this.#udp?.address) this.#host.sendUdp(this, frame);
    else this.link.sendBinary(frame.bytes);
    return 'sent';
  }

  /** Sends this client none of `trackId`'s video until its next key frame (it could not decode what comes before). @internal */
  waitForKeyFrame(trackId: string): void {
    this.#needsKeyFrame.add(trackId);
  }

  /** Drops UDP frames not whole within 2 s, even when no new frame comes to trigger it. @internal */
  expireFragments(): void {
    this.#reassembler?.expire();
  }

  /** UDP frames dropped in reassembly on this connection so far. @internal */
  get reassemblyDropped(): number {
    return this.#reassemblyDroppedEarlier + (this.#reassembler?.dropped ?? 0);
  }

  #dropReassembler(): void {
    this.#reassemblyDroppedEarlier += this.#reassembler?.dropped ?? 0;
    this.#reassembler?.clear();
    this.#reassembler = undefined;
  }

  /**
   * A media datagram from this connection's bound UDP address (opened, when sealed). It does not count as
   * hearing from the client: only whole messages on its link do, so a client that stalls its link (a
   * frame left unfinished) cannot stay in by sending datagrams. @internal
   */
  handleUdp(bytes: Uint8Array): void {
    this.#onBinary(bytes, true, false);
  }

  /** Closes the link. Idempotent. `reason` is told to the others (`left`, an error code…). */
  close(kind: Parameters<PeerLink['close']>[0] = 'normal', reason = 'left'): void {
    if (this.#closed) return;
    this.link.close(kind, reason);
    this.#finish(reason);
  }

  #onClosed(reason = 'disconnected'): void {
    this.#finish(reason);
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.closeReason = reason;
    this.#dropReassembler();
    this.#host.closed(this);
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
    const requestId = message.type === 'publish' || message.type === 'fileUpload' || message.type === 'fileDownload' || message.type === 'fileList'
      || message.type === 'host' ? message.requestId
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
      this.sendError(error as ProtocolError, { fatal: !this.#participant });
      return;
    }
    if (!this.#allow(message)) return;
    if (message.type === 'join') {
      if (this.#participant) this.sendError(new ProtocolError(ErrorCode.AlreadyJoined, 'this connection has already joined'));
      else this.#host.join(this, message);
      return;
    }
    const participant = this.#participant;
    if (!participant) {
      this.sendError(new ProtocolError(ErrorCode.NotJoined, `"${message.type}" before "join"`), { fatal: true });
      return;
    }
    const room = participant.room;
    const files = this.#host.files;
    switch (message.type) {
      case 'ping':
        this.send({ type: 'pong', t: message.t, serverTime: Date.now() });
        return;
      case 'leave':
        this.close('normal', 'left');
        return;
      case 'publish':
        room.publish(participant, message);
        return;
      case 'unpublish':
        room.unpublish(participant, message.trackId);
        return;
      case 'mute':
        room.mute(participant, message.trackId, message.muted);
        return;
      case 'chat':
        room.chat(participant, message);
        return;
      case 'keyFrameRequest':
        room.keyFrameRequest(participant, message.trackId);
        return;
      case 'subscription':
        room.subscription(participant, message.trackId, message.paused);
        return;
      case 'fileUpload':
        void files?.upload(this, message);
        return;
      case 'fileUploadEnd':
        void files?.uploadEnd(this, message);
        return;
      case 'fileDownload':
        void files?.download(this, message);
        return;
      case 'fileAck':
        files?.ack(this, message);
        return;
      case 'fileCancel':
        files?.cancel(this, message);
        return;
      case 'fileList':
        files?.listPage(this, message);
        return;
      case 'host':
        room.host(participant, message);
        return;
      case 'hand':
      case 'react':
        room.gesture(participant, message);
        return;
    }
  }

  #onBinary(bytes: Uint8Array, fromUdp: boolean, owned: boolean): void {
    const participant = this.#participant;
    if (this.#closed || !participant) {
      // A file chunk joined into a pooled buffer that no upload takes: the buffer goes back.
      if (owned) releaseChunkBuffer(bytes);
      if (this.#closed) return;
      this.sendError(new ProtocolError(ErrorCode.NotJoined, 'media before "join"'), { fatal: true });
      return;
    }
    if (!fromUdp) this.lastHeard = Date.now();
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
    // The sender field must be empty or this participant: nobody speaks for somebody else.
    const senderIsZero = bytes.subarray(MediaOffset.sender, MediaOffset.sender + ID_BYTES).every((b) => b === 0);
    if (!senderIsZero && !idBytesEqual(bytes, MediaOffset.sender, participant.idBytes)) {
      participant.count('forgedDropped');
      if (!fromUdp) this.sendError(new ProtocolError(ErrorCode.ForgedSender, 'media packet names another sender; dropped'));
      return;
    }
    const track = participant.tracks.get(packet.track);
    if (!track || track.kind !== packet.kind || !codecFitsKind(packet.codec, track.kind)) {
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
        maxFrameBytes: limit, fragmentPayload: this.#udp?.payloadSize || undefined, budget: this.#host.reassemblyBudget,
      });
      const done = reassembler.push(packet, bytes);
      if (!done) return;
      whole = done;
    }
    if (whole.byteLength - MEDIA_HEADER_BYTES > limit) return;
    participant.count('framesIn');
    if (senderIsZero) whole.set(participant.idBytes, MediaOffset.sender);
    participant.room.receive(participant, track, whole, packet);
  }
}
