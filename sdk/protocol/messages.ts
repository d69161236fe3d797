/**
 * The control messages as TypeScript types: one interface per message type. `control.ts` holds the
 * schemas that validate them on receipt; the compiler checks that the two agree.
 * @module
 */
import type { Codec, Limits, TrackKind } from './constants.js';

/** A track as described on the wire. */
export interface TrackInfo {
  /** Track id (16 hex characters). */
  id: string;
  /** Id of the participant who publishes it. */
  participantId: string;
  kind: TrackKind;
  /** The codec announced at publish (frames say which codec they carry). */
  codec: Codec;
  muted: boolean;
}

/** A participant as described on the wire. */
export interface ParticipantInfo {
  /** Participant id (16 hex characters), unique beyond one relay. */
  id: string;
  /** Display name. */
  name: string;
  /** The first to join a meeting is its host. */
  role: 'host' | 'guest';
  /** When they joined, ms since the epoch (relay clock). */
  joinedAt: number;
  /** Codecs they can decode. */
  decode: Codec[];
  /** Their tracks. */
  tracks: TrackInfo[];
}

/** A chat message as the relay delivers it. */
export interface ChatMessageInfo {
  /** Relay-assigned id. */
  id: string;
  /** Sender's participant id. */
  from: string;
  /** Sender's display name. */
  name: string;
  /** The text, as sent. */
  text: string;
  /** Relay time of receipt, ms since the epoch. */
  ts: number;
  /** The sender's sequence number. */
  seq: number;
}

// ---- client → relay -------------------------------------------------------------------------

/** First message on a connection: join a meeting. */
export interface JoinMessage {
  type: 'join';
  /** Protocol version; must be 1. */
  v: 1;
  /** Meeting id: 1–64 letters, digits, spaces or `_ . -`. */
  meeting: string;
  /** Display name, 1–64 characters, no control characters. */
  name: string;
  /** The relay's passcode, if it has one. */
  passcode?: string | undefined;
  /** The connection's transport: must match the listener it arrived on. */
  transport: 'websocket' | 'native';
  /** Codecs the client can decode. */
  decode: Codec[];
  /** Native clients: the UDP payload size they want to receive. */
  udp?: { payloadSize: number } | undefined;
  /** Reserved: resume token from an earlier `welcome`. */
  resume?: string | undefined;
}
/** Leave the meeting; the relay closes the connection. */
export interface LeaveMessage { type: 'leave' }
/** Liveness: sent every 2 s; answered with `pong`. */
export interface PingMessage { type: 'ping'; /** Client time, echoed back. */ t: number }
/** Publish a track; answered with `published` (or an `error` with the same `requestId`). */
export interface PublishMessage {
  type: 'publish';
  /** Echoed in the answer. */
  requestId: string;
  kind: TrackKind;
  codec: Codec;
  /** Start muted. */
  muted?: boolean | undefined;
}
/** Stop a track. */
export interface UnpublishMessage { type: 'unpublish'; /** One of the sender's tracks. */ trackId: string }
/** Mute or unmute one of the sender's tracks. */
export interface MuteMessage { type: 'mute'; /** One of the sender's tracks. */ trackId: string; muted: boolean }
/** Send a chat message to everyone in the meeting. */
export interface ChatSendMessage {
  type: 'chat';
  text: string;
  /** Per-sender sequence number, increasing; the relay acks it and drops duplicates. */
  seq: number;
}
/** Ask the publisher of a track for a key frame. */
export interface KeyFrameRequestMessage { type: 'keyFrameRequest'; /** Someone else's track. */ trackId: string }

/** Any message a client sends to the relay. */
export type ClientMessage =
  | JoinMessage | LeaveMessage | PingMessage | PublishMessage | UnpublishMessage | MuteMessage | ChatSendMessage
  | KeyFrameRequestMessage;

// ---- relay → client -------------------------------------------------------------------------

/** The answer to `join`: who you are, who is there, recent chat. */
export interface WelcomeMessage {
  type: 'welcome';
  v: 1;
  meeting: string;
  /** You, as the others see you. */
  you: ParticipantInfo;
  /** Everyone else, with their tracks. */
  participants: ParticipantInfo[];
  /** Recent chat, oldest first. */
  chat: ChatMessageInfo[];
  /** Reserved for resume after a dropped connection. */
  resumeToken: string;
  /** Native clients: where and how to bind UDP. */
  udp?: { port: number; token: string; payloadSize: number } | undefined;
  /** The relay's limits. */
  limits: Limits;
  /** Relay clock, ms since the epoch. */
  serverTime: number;
  /** How often the client must ping (ms); absent means 2000. A relay with a short peer timeout asks for more. */
  pingIntervalMs?: number | undefined;
}
/** Someone joined. */
export interface ParticipantJoinedMessage { type: 'participantJoined'; participant: ParticipantInfo }
/** Someone left or was removed. */
export interface ParticipantLeftMessage { type: 'participantLeft'; participantId: string; /** Why, for display. */ reason: string }
/** Your `publish` succeeded. */
export interface PublishedMessage { type: 'published'; /** From your `publish`. */ requestId: string; track: TrackInfo }
/** Someone published a track. */
export interface TrackPublishedMessage { type: 'trackPublished'; track: TrackInfo }
/** A track ended. */
export interface TrackUnpublishedMessage { type: 'trackUnpublished'; trackId: string; participantId: string }
/** A track was muted or unmuted. */
export interface TrackMutedMessage { type: 'trackMuted'; trackId: string; participantId: string; muted: boolean }
/** A chat message, to everyone including its sender. */
export interface ChatDeliverMessage { type: 'chat'; message: ChatMessageInfo }
/** Your chat message `seq` was received and got id `id`. */
export interface ChatAckMessage { type: 'chatAck'; seq: number; id: string }
/** A subscriber needs a key frame of your track. */
export interface KeyFrameWantedMessage { type: 'keyFrameRequest'; trackId: string }
/** Answer to `ping`. */
export interface PongMessage { type: 'pong'; /** Your `ping.t`. */ t: number; /** Relay clock, ms. */ serverTime: number }
/** Something went wrong; `fatal` means the relay closes the connection after it. */
export interface ErrorMessage {
  type: 'error';
  /** A stable `LAN_ERR_*` code. */
  code: string;
  /** For people. */
  message: string;
  /** The request this answers (`publish`), or `chat:<seq>`. */
  requestId?: string | undefined;
  fatal?: boolean | undefined;
}

/** Any message the relay sends to a client. */
export type RelayMessage =
  | WelcomeMessage | ParticipantJoinedMessage | ParticipantLeftMessage | PublishedMessage | TrackPublishedMessage
  | TrackUnpublishedMessage | TrackMutedMessage | ChatDeliverMessage | ChatAckMessage | KeyFrameWantedMessage
  | PongMessage | ErrorMessage;
