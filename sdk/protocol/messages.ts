/**
 * The control messages as TypeScript types: one interface per message type. `control.ts` holds the
 * schemas that validate them on receipt; the compiler checks that the two agree.
 * @module
 */
import type { Codec, Limits, Reaction, TrackKind } from './constants.js';

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

/** A file shared in the meeting, stored once by the relay. */
export interface FileInfo {
  /** Relay-assigned id (16 hex characters). */
  id: string;
  /** The name as given by the sender (show it as text; never use it as a path: see `safeFileName`). */
  name: string;
  /** Size in bytes. */
  size: number;
  /** SHA-256 of the content, 64 lowercase hex characters. */
  sha256: string;
  /** Participant id of who shared it. */
  from: string;
  /** Their display name when they shared it. */
  fromName: string;
  /** When it was offered, ms since the epoch (relay clock). */
  ts: number;
  /** Path (with an access token for this meeting) to download it over HTTP(S), Range requests allowed. */
  url: string;
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
  /** The relay's host key: joining with it makes you a host, whoever came first. */
  hostKey?: string | undefined;
  /** The connection's transport: must match the listener it arrived on. */
  transport: 'websocket' | 'native';
  /** Codecs the client can decode. */
  decode: Codec[];
  /** Native clients: the UDP payload size they want to receive. */
  udp?: { payloadSize: number } | undefined;
  /**
   * The `resumeToken` of an earlier `welcome`: after a dropped connection, take back that participant
   * (same id, tracks, chat sequence) if the relay still holds it.
   */
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
/**
 * Stop (`paused: true`) or start again receiving someone else's track: the relay forwards a paused
 * track's frames to nobody who paused it. Resuming a video track asks its publisher for a key frame.
 */
export interface SubscriptionMessage {
  type: 'subscription';
  /** Someone else's track in the meeting. */
  trackId: string;
  paused: boolean;
}

/**
 * Start (or, with `uploadId`, resume) sharing a file; answered with `fileUploadReady` (or an `error`
 * with the same `requestId`). The data follows as file chunk packets.
 */
export interface FileUploadMessage {
  type: 'fileUpload';
  requestId: string;
  /** The name to show (1–255 characters, no control characters). */
  name: string;
  /** Exact size in bytes. */
  size: number;
  /** Resume this upload (from an earlier `fileUploadReady`) where the relay stands. */
  uploadId?: string | undefined;
}
/** Every byte of an upload was sent: the relay checks `sha256` and offers the file (or answers an `error`). */
export interface FileUploadEndMessage {
  type: 'fileUploadEnd';
  uploadId: string;
  /** SHA-256 of the whole file as the sender computed it (64 hex characters). */
  sha256: string;
}
/** Download a file from `offset`; answered with `fileDownloadReady`, then chunk packets. */
export interface FileDownloadMessage {
  type: 'fileDownload';
  requestId: string;
  fileId: string;
  /** First byte wanted (0 for all; where a dropped download stopped to resume it). */
  offset: number;
}
/** Flow control: the bytes of transfer `transferId` this side has taken, up to `offset`. */
export interface FileAckMessage { type: 'fileAck'; transferId: string; offset: number }
/** Abandon an upload or a download. */
export interface FileCancelMessage { type: 'fileCancel'; transferId: string }

/**
 * Asks for a page of the meeting's shared files: the newest at most 100 (`FILE_LIST_PAGE`) shared before
 * file `before`, or the newest of all without it; answered with `fileListPage` (or an `error` with the
 * same `requestId`). `welcome.files` is the first page: a client pages back from its oldest file.
 */
export interface FileListMessage {
  type: 'fileList';
  requestId: string;
  /** A file id of the meeting: the page ends just before it. */
  before?: string | undefined;
}

/** What a host may do (docs/protocol.md, "Host actions"). */
export type HostActionName = 'lock' | 'unlock' | 'remove' | 'mute' | 'muteAll' | 'makeHost' | 'stepDown' | 'end' | 'lowerHand'
  | 'askToUnmute' | 'restrictUnmute' | 'allowUnmute';

/**
 * A host acts on the meeting or on one participant. The relay checks the sender is a host (else
 * `LAN_ERR_FORBIDDEN` on `requestId`), does it, answers `hostDone` and tells everyone with `hostAction`.
 */
export interface HostMessage {
  type: 'host';
  requestId: string;
  action: HostActionName;
  /** The participant acted on: `remove`, `mute`, `makeHost`, `lowerHand`, `askToUnmute`. */
  participantId?: string | undefined;
  /** `mute`: which of their tracks (default `microphone`; `camera`/`screen` stop that video). */
  kind?: TrackKind | undefined;
  /** `remove`: refuse their address joining this meeting again while it lasts. */
  block?: boolean | undefined;
}

/** Raise or lower your hand. */
export interface HandMessage { type: 'hand'; raised: boolean }
/** Send a reaction, shown on your tile for a few seconds. */
export interface ReactMessage { type: 'react'; emoji: Reaction }

/** Any message a client sends to the relay. */
export type ClientMessage =
  | JoinMessage | LeaveMessage | PingMessage | PublishMessage | UnpublishMessage | MuteMessage | ChatSendMessage
  | KeyFrameRequestMessage | SubscriptionMessage | FileUploadMessage | FileUploadEndMessage | FileDownloadMessage | FileAckMessage
  | FileCancelMessage | FileListMessage | HostMessage | HandMessage | ReactMessage;

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
  /** Give it back in `join.resume` after a dropped connection to stay the same participant. */
  resumeToken: string;
  /** `true` when this `welcome` answers a `join` with `resume` that the relay honoured. */
  resumed?: boolean | undefined;
  /**
   * The newest files shared in the meeting (at most 100, `FILE_LIST_PAGE`), oldest first. A full page may
   * have older ones before it: ask for them with `fileList`.
   */
  files?: FileInfo[] | undefined;
  /**
   * Native clients: where and how to bind UDP. With `key` (16 bytes, base64url), this connection's UDP
   * datagrams are sealed with it both ways (AES-128-GCM; docs/protocol.md §6.1), binds included.
   */
  udp?: { port: number; token: string; payloadSize: number; key?: string | undefined } | undefined;
  /** The relay's limits. */
  limits: Limits;
  /** Relay clock, ms since the epoch. */
  serverTime: number;
  /** How often the client must ping (ms); absent means 2000. A relay with a short peer timeout asks for more. */
  pingIntervalMs?: number | undefined;
  /** `true` when a host has locked the meeting (nobody new may join). */
  locked?: boolean | undefined;
  /** The raised hands, oldest first (participant ids). */
  hands?: string[] | undefined;
  /** `true` when a host has ruled that what a host muted only comes back on when a host asks. */
  unmuteRestricted?: boolean | undefined;
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
/** A track was muted or unmuted; `by`: the host who muted it, when it was not its owner. */
export interface TrackMutedMessage { type: 'trackMuted'; trackId: string; participantId: string; muted: boolean; by?: string | undefined }
/** Your `host` request was carried out. */
export interface HostDoneMessage { type: 'hostDone'; requestId: string }
/** A host did something: to everyone, the host included, before its effects. */
export interface HostActionMessage {
  type: 'hostAction';
  action: HostActionName;
  /** The host who did it. */
  by: string;
  /** Who it was done to, for actions on one participant. */
  participantId?: string | undefined;
  kind?: TrackKind | undefined;
}
/** A host asks you to turn a track of `kind` back on (a prompt: nothing is unmuted for you). */
export interface UnmuteRequestedMessage { type: 'unmuteRequested'; kind: TrackKind; by: string }
/** A hand went up or down; `by`: the host who lowered it, when it was not its owner. */
export interface HandChangedMessage { type: 'hand'; participantId: string; raised: boolean; by?: string | undefined }
/** Someone reacted. */
export interface ReactionMessage { type: 'reaction'; participantId: string; emoji: Reaction }
/** A participant's role changed: `by` the host who did it, or absent when the relay named a new host (the last one left). */
export interface RoleChangedMessage { type: 'roleChanged'; participantId: string; role: 'host' | 'guest'; by?: string | undefined }
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
  /** The request this answers (`publish`, `fileUpload`, `fileDownload`), `chat:<seq>`, or `file:<transfer id>`. */
  requestId?: string | undefined;
  fatal?: boolean | undefined;
}

/** Your `fileUpload` is accepted: send chunks of `uploadId` from `offset` (0, or where a resumed upload stands). */
export interface FileUploadReadyMessage {
  type: 'fileUploadReady';
  requestId: string;
  uploadId: string;
  offset: number;
}
/** Your upload is stored and verified; everyone (you included) also gets `fileOffered`. */
export interface FileUploadedMessage { type: 'fileUploaded'; uploadId: string; file: FileInfo }
/** A file was shared in the meeting. */
export interface FileOfferedMessage { type: 'fileOffered'; file: FileInfo }
/** Your `fileDownload` is accepted: chunks of `transferId` follow from `offset`. */
export interface FileDownloadReadyMessage {
  type: 'fileDownloadReady';
  requestId: string;
  transferId: string;
  file: FileInfo;
  offset: number;
}

/** A page of the meeting's shared files, oldest first, answering your `fileList`. */
export interface FileListPageMessage {
  type: 'fileListPage';
  requestId: string;
  files: FileInfo[];
  /** `true` when files older than the first of this page exist: ask again with its id as `before`. */
  more?: boolean | undefined;
}

/** Any message the relay sends to a client. */
export type RelayMessage =
  | WelcomeMessage | ParticipantJoinedMessage | ParticipantLeftMessage | PublishedMessage | TrackPublishedMessage
  | TrackUnpublishedMessage | TrackMutedMessage | ChatDeliverMessage | ChatAckMessage | KeyFrameWantedMessage
  | PongMessage | ErrorMessage | FileUploadReadyMessage | FileUploadedMessage | FileOfferedMessage
  | FileDownloadReadyMessage | FileAckMessage | FileListPageMessage | HostDoneMessage | HostActionMessage | RoleChangedMessage
  | HandChangedMessage | ReactionMessage | UnmuteRequestedMessage;
