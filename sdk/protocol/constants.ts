/**
 * Protocol constants shared by the SDK and the relay. See `docs/protocol.md` for the wire byte by byte.
 * @module
 */

/** The protocol version spoken by this build. Carried in `join`/`welcome` and in every binary packet. */
export const PROTOCOL_VERSION = 1;

/** The kind of a media track. */
export type TrackKind = 'camera' | 'microphone' | 'screen';

/** Every track kind, in wire order (index = byte value in the media header). */
export const TRACK_KINDS: readonly TrackKind[] = ['camera', 'microphone', 'screen'];

/** A media codec. Video: `vp8`, `h264`, `av1`, `jpeg`; audio: `opus`, `pcm16`. */
export type Codec = 'jpeg' | 'vp8' | 'opus' | 'pcm16' | 'h264' | 'av1';

/** Every codec, in wire order (index = byte value in the media header). */
export const CODECS: readonly Codec[] = ['jpeg', 'vp8', 'opus', 'pcm16', 'h264', 'av1'];

/** Codecs that carry audio; every other codec carries video. */
export const AUDIO_CODECS: ReadonlySet<Codec> = new Set<Codec>(['opus', 'pcm16']);

/** The reactions a participant may send (`react`): a short list, so every client can show each. */
export const REACTIONS = ['👍', '👏', '😂', '😮', '❤️', '🎉', '🙏', '👋'] as const;

/** One of {@link REACTIONS}. */
export type Reaction = (typeof REACTIONS)[number];

/** `true` for track kinds that carry video (camera, screen). */
export function isVideoKind(kind: TrackKind): boolean {
  return kind !== 'microphone';
}

/** `true` when a `kind` track may carry `codec`: audio codecs for the microphone, video codecs for the others. */
export function codecFitsKind(codec: Codec, kind: TrackKind): boolean {
  return AUDIO_CODECS.has(codec) !== isVideoKind(kind);
}

/** The first byte of every binary packet (WebSocket binary message, TCP binary frame, UDP datagram). */
export const PacketType = {
  /** A media frame, or one fragment of it. */
  Media: 0x01,
  /** A piece of a file being uploaded or downloaded (see `fileChunk.ts`). */
  FileChunk: 0x02,
  /** UDP only, client → relay: bind this address to the session that holds the token. */
  UdpBind: 0x03,
  /** UDP only, relay → client: the binding succeeded. */
  UdpBindAck: 0x04,
  /** UDP only, either way, when `welcome.udp.key` is set: another datagram, encrypted and authenticated (see `udpSeal.ts`). */
  Sealed: 0x05,
  /** UDP only, relay → client, when `welcome.udp.key` is set: media whose body is encrypted once for all its subscribers (see `udpSeal.ts`). */
  SealedShared: 0x06,
} as const;

/** Bit flags of the media header's `flags` byte. */
export const MediaFlag = {
  /** The frame can be decoded alone (every JPEG frame; VP8 key frames). */
  KeyFrame: 0x01,
  /** The audio contains voice (voice-activity detection at the sender). */
  Voice: 0x02,
  /** Frames were skipped before this one on purpose (after mute, codec switch…). */
  Discontinuity: 0x04,
} as const;

/** Size of the fixed media header in bytes. */
export const MEDIA_HEADER_BYTES = 40;

/** Size of a participant or track id on the wire (bytes); ids are 16 lowercase hex characters in JSON. */
export const ID_BYTES = 8;

/** Size of the UDP binding token in bytes. */
export const UDP_TOKEN_BYTES = 16;

/** Largest UDP payload this protocol ever sends (the IPv4 UDP limit). */
export const MAX_UDP_DATAGRAM = 65507;

/** Default UDP datagram payload size: large, so a typical frame is one datagram. */
export const DEFAULT_UDP_PAYLOAD = 60000;

/** MTU-safe UDP payload size, for networks that drop IP fragments. */
export const MTU_SAFE_UDP_PAYLOAD = 1200;

/** Smallest UDP payload size a client may ask for. */
export const MIN_UDP_PAYLOAD = 512;

/** Limits enforced by the relay and the SDK. Every one is a parameter of the relay. */
export interface Limits {
  /** Largest control message (UTF-8 bytes of its JSON). */
  maxControlBytes: number;
  /** Largest media frame payload (bytes), before fragmentation. */
  maxFrameBytes: number;
  /** Participants in one meeting. */
  maxParticipants: number;
  /** Tracks one participant may publish at once. */
  maxTracksPerParticipant: number;
  /** Control messages per second per peer (sustained; bursts of twice that are allowed). */
  maxControlPerSecond: number;
  /** Largest chat message text (characters). */
  maxChatChars: number;
  /** Chat messages per second per participant (sustained; bursts of twice that are allowed). */
  maxChatPerSecond: number;
  /** Largest shared file (bytes). */
  maxFileBytes: number;
  /** Total size of the files shared in one meeting (bytes). */
  maxMeetingFileBytes: number;
}

/** The default limits. */
export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxControlBytes: 64 * 1024,
  maxFrameBytes: 4 * 1024 * 1024,
  maxParticipants: 100,
  maxTracksPerParticipant: 8,
  maxControlPerSecond: 50,
  maxChatChars: 4000,
  maxChatPerSecond: 10,
  maxFileBytes: 4 * 1024 * 1024 * 1024,
  maxMeetingFileBytes: 20 * 1024 * 1024 * 1024,
});

/** Bytes of file data in one chunk packet (the last one of a file may be shorter). */
export const FILE_CHUNK_BYTES = 256 * 1024;
/** Largest chunk a peer may send (bytes of data); larger is a protocol error. */
export const MAX_FILE_CHUNK_BYTES = 1024 * 1024;
/** Bytes a sender may have in flight beyond the receiver's last `fileAck` (flow control window). */
export const FILE_WINDOW_BYTES = 8 * 1024 * 1024;
/** A receiver acknowledges at least every this many bytes (and at the end). */
export const FILE_ACK_EVERY_BYTES = 1024 * 1024;

/** Liveness: a client pings this often (ms). */
export const PING_INTERVAL_MS = 2000;
/** Liveness: a peer silent this long (ms) is removed. */
export const PEER_TIMEOUT_MS = 6000;
/** A frame whose fragments are not all in within this time (ms) is dropped. */
export const FRAGMENT_TIMEOUT_MS = 2000;
