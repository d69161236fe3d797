/**
 * Control messages: JSON objects with a `type`, one schema per type, validated on receipt.
 *
 * Client → relay: {@link ClientMessage}. Relay → client: {@link RelayMessage}.
 * {@link decodeClientMessage} / {@link decodeRelayMessage} check size, JSON, type and schema, in that
 * order, and throw a {@link ProtocolError} naming the first failure. Validation builds new objects
 * (unknown fields are dropped), so nothing from the wire is merged into existing objects.
 *
 * The schemas use `zod/mini`: the same parser as zod's classic API, with checks passed as functions
 * instead of chained methods, so a bundler keeps only the checks used here (a few KB in the browser
 * bundle instead of the whole library). zod/mini loads no locale by itself: the English messages of
 * classic zod are passed to each parse, so error texts are unchanged.
 * @module
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { ProtocolError, ErrorCode } from '../errors.js';
import { CODECS, DEFAULT_LIMITS, PROTOCOL_VERSION, REACTIONS, TRACK_KINDS } from './constants.js';
import type { ClientMessage, RelayMessage } from './messages.js';

export type * from './messages.js';

const id = z.string().check(z.regex(/^[0-9a-f]{16}$/, 'must be a 16-character hex id'));
const kind = z.enum(TRACK_KINDS as [string, ...string[]]) as unknown as z.ZodMiniType<(typeof TRACK_KINDS)[number]>;
const codec = z.enum(CODECS as [string, ...string[]]) as unknown as z.ZodMiniType<(typeof CODECS)[number]>;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
/**
 * At most `max` UTF-16 code units, as docs/protocol.md counts string lengths (and JavaScript's `length`):
 * zod's `maxLength` counts code points, which let a string of emoji be twice as long.
 */
const units = (max: number, message = `must be at most ${max} characters`) => z.refine<string>((s) => s.length <= max, message);
const label = (max: number) =>
  z.string().check(
    z.trim(), z.minLength(1, 'must not be empty'), units(max),
    z.refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters'),
  );
const str = (max: number) => z.string().check(units(max));
const requestId = z.string().check(z.minLength(1), units(64));
const hostAction = z.enum(['lock', 'unlock', 'remove', 'mute', 'muteAll', 'makeHost', 'stepDown', 'end', 'lowerHand', 'askToUnmute', 'restrictUnmute', 'allowUnmute']);
const reaction = z.enum(REACTIONS as unknown as [string, ...string[]]) as unknown as z.ZodMiniType<(typeof REACTIONS)[number]>;
/** A number with checks: an integer (classic zod's `.int()`), then the given bounds. */
const integer = (min: number, max: number) => z.number().check(z.int(), z.gte(min), z.lte(max));
const uint = integer(0, Number.MAX_SAFE_INTEGER);
const bool = z.boolean();
const list = <T extends z.ZodMiniType>(item: T, max?: number) => max === undefined ? z.array(item) : z.array(item).check(z.maxLength(max));

/** A meeting id: 1–64 characters of letters, digits, space, `_ . -`. */
export const MEETING_ID_PATTERN = /^[\p{L}\p{N} _.-]{1,64}$/u;

// ---- shared shapes --------------------------------------------------------------------------

const trackInfo = z.object({
  id, participantId: id, kind, codec, muted: bool,
});
const participantInfo = z.object({
  id, name: label(64), role: z.enum(['host', 'guest']), joinedAt: uint,
  decode: list(codec, 16), tracks: list(trackInfo, 64),
});
const chatMessage = z.object({
  id, from: id, name: label(64), text: str(100_000), ts: uint, seq: uint,
});

const sha256 = z.string().check(z.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters'));
const fileInfo = z.object({
  id, name: z.string().check(z.minLength(1), units(1024)), size: uint, sha256, from: id, fromName: label(64), ts: uint, url: str(2048),
});

// ---- client → relay -------------------------------------------------------------------------

const clientSchemas = {
  join: z.object({
    type: z.literal('join'),
    v: z.literal(PROTOCOL_VERSION),
    meeting: z.string().check(z.trim(), z.minLength(1, 'must not be empty'), z.regex(MEETING_ID_PATTERN, 'must be 1-64 letters, digits, spaces or _ . -')),
    name: label(64),
    passcode: z.optional(str(256)),
    hostKey: z.optional(str(256)),
    transport: z.enum(['websocket', 'native']),
    decode: list(codec, 16),
    udp: z.optional(z.object({ payloadSize: integer(512, 65467) })),
    resume: z.optional(str(128)),
  }),
  leave: z.object({ type: z.literal('leave') }),
  ping: z.object({ type: z.literal('ping'), t: z.number() }),
  publish: z.object({ type: z.literal('publish'), requestId, kind, codec, muted: z.optional(bool) }),
  unpublish: z.object({ type: z.literal('unpublish'), trackId: id }),
  mute: z.object({ type: z.literal('mute'), trackId: id, muted: bool }),
  chat: z.object({ type: z.literal('chat'), text: z.string().check(z.minLength(1, 'must not be empty'), units(100_000)), seq: uint }),
  keyFrameRequest: z.object({ type: z.literal('keyFrameRequest'), trackId: id }),
  subscription: z.object({ type: z.literal('subscription'), trackId: id, paused: bool }),
  // File names are checked by the relay (LAN_ERR_BAD_NAME), not here: a clear answer beats a schema error.
  fileUpload: z.object({ type: z.literal('fileUpload'), requestId, name: str(100_000), size: uint, uploadId: z.optional(id) }),
  fileUploadEnd: z.object({ type: z.literal('fileUploadEnd'), uploadId: id, sha256 }),
  fileDownload: z.object({ type: z.literal('fileDownload'), requestId, fileId: id, offset: uint }),
  fileAck: z.object({ type: z.literal('fileAck'), transferId: id, offset: uint }),
  fileCancel: z.object({ type: z.literal('fileCancel'), transferId: id }),
  // Paging of the file list (added by the files hardening; welcome.files is the first page).
  fileList: z.object({ type: z.literal('fileList'), requestId, before: z.optional(id) }),
  hand: z.object({ type: z.literal('hand'), raised: bool }),
  react: z.object({ type: z.literal('react'), emoji: reaction }),
  host: z.object({
    type: z.literal('host'), requestId, action: hostAction, participantId: z.optional(id), kind: z.optional(kind), block: z.optional(bool),
  }),
};

// ---- relay → client -------------------------------------------------------------------------

const relaySchemas = {
  welcome: z.object({
    type: z.literal('welcome'),
    v: z.literal(PROTOCOL_VERSION),
    meeting: z.string(),
    you: participantInfo,
    participants: list(participantInfo),
    chat: list(chatMessage),
    resumeToken: z.string(),
    resumed: z.optional(bool),
    files: z.optional(list(fileInfo)),
    udp: z.optional(z.object({ port: integer(1, 65535), token: z.string(), payloadSize: z.number().check(z.int()), key: z.optional(z.string()) })),
    limits: z.object({
      maxControlBytes: uint, maxFrameBytes: uint, maxParticipants: uint,
      maxTracksPerParticipant: uint, maxControlPerSecond: uint, maxChatChars: uint,
      maxChatPerSecond: uint, maxFileBytes: uint, maxMeetingFileBytes: uint,
    }),
    serverTime: uint,
    pingIntervalMs: z.optional(integer(100, 60_000)),
    locked: z.optional(bool),
    hands: z.optional(list(id, 1000)),
    unmuteRestricted: z.optional(bool),
  }),
  participantJoined: z.object({ type: z.literal('participantJoined'), participant: participantInfo }),
  participantLeft: z.object({ type: z.literal('participantLeft'), participantId: id, reason: str(200) }),
  published: z.object({ type: z.literal('published'), requestId, track: trackInfo }),
  trackPublished: z.object({ type: z.literal('trackPublished'), track: trackInfo }),
  trackUnpublished: z.object({ type: z.literal('trackUnpublished'), trackId: id, participantId: id }),
  trackMuted: z.object({ type: z.literal('trackMuted'), trackId: id, participantId: id, muted: bool, by: z.optional(id) }),
  hostDone: z.object({ type: z.literal('hostDone'), requestId }),
  hostAction: z.object({ type: z.literal('hostAction'), action: hostAction, by: id, participantId: z.optional(id), kind: z.optional(kind) }),
  hand: z.object({ type: z.literal('hand'), participantId: id, raised: bool, by: z.optional(id) }),
  reaction: z.object({ type: z.literal('reaction'), participantId: id, emoji: reaction }),
  unmuteRequested: z.object({ type: z.literal('unmuteRequested'), kind, by: id }),
  roleChanged: z.object({ type: z.literal('roleChanged'), participantId: id, role: z.enum(['host', 'guest']), by: z.optional(id) }),
  chat: z.object({ type: z.literal('chat'), message: chatMessage }),
  chatAck: z.object({ type: z.literal('chatAck'), seq: uint, id }),
  keyFrameRequest: z.object({ type: z.literal('keyFrameRequest'), trackId: id }),
  pong: z.object({ type: z.literal('pong'), t: z.number(), serverTime: uint }),
  error: z.object({
    type: z.literal('error'),
    code: str(64),
    message: str(1000),
    requestId: z.optional(requestId),
    fatal: z.optional(bool),
  }),
  fileUploadReady: z.object({ type: z.literal('fileUploadReady'), requestId, uploadId: id, offset: uint }),
  fileUploaded: z.object({ type: z.literal('fileUploaded'), uploadId: id, file: fileInfo }),
  fileOffered: z.object({ type: z.literal('fileOffered'), file: fileInfo }),
  fileDownloadReady: z.object({ type: z.literal('fileDownloadReady'), requestId, transferId: id, file: fileInfo, offset: uint }),
  fileAck: z.object({ type: z.literal('fileAck'), transferId: id, offset: uint }),
  // Paging of the file list (added by the files hardening): the answer to `fileList`.
  fileListPage: z.object({ type: z.literal('fileListPage'), requestId, files: list(fileInfo), more: z.optional(bool) }),
};

type Infer<S extends Record<string, z.ZodMiniType>> = { [K in keyof S]: z.infer<S[K]> }[keyof S];
// The schemas and the hand-written interfaces in messages.ts must describe the same messages.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const clientTypesAgree: Same<Infer<typeof clientSchemas>, ClientMessage> = true;
const relayTypesAgree: Same<Infer<typeof relaySchemas>, RelayMessage> = true;
void clientTypesAgree;
void relayTypesAgree;
/** The client message of type `T`. */
export type ClientMessageOf<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;
/** The relay message of type `T`. */
export type RelayMessageOf<T extends RelayMessage['type']> = Extract<RelayMessage, { type: T }>;

/** Every client → relay message type. */
export const CLIENT_MESSAGE_TYPES = Object.keys(clientSchemas) as Array<ClientMessage['type']>;
/** Every relay → client message type. */
export const RELAY_MESSAGE_TYPES = Object.keys(relaySchemas) as Array<RelayMessage['type']>;

const encoder = new TextEncoder();
/** classic zod's English messages (zod/mini has none of its own), for every parse. */
const PARSE_CONTEXT = { error: en().localeError };

/** Encodes a control message as JSON text. */
export function encodeControl(message: ClientMessage | RelayMessage): string {
  return JSON.stringify(message);
}

/** UTF-8 byte length of a string (without allocating for ASCII-only text). */
export function utf8Length(text: string): number {
  return /^[\x00-\x7f]*$/.test(text) ? text.length : encoder.encode(text).byteLength;
}

function decodeWith<M>(schemas: Record<string, z.ZodMiniType>, text: string | Uint8Array, maxBytes: number): M {
  // A UTF-16 unit is at most 3 UTF-8 bytes: count precisely only when the limit could be crossed.
  const size = typeof text === 'string' ? (text.length * 3 <= maxBytes ? text.length : utf8Length(text)) : text.byteLength;
  if (size > maxBytes) throw ProtocolError.tooLarge('control message', size, maxBytes);
  let raw: unknown;
  try {
    // Strict UTF-8, and a byte-order mark is kept (so refused by JSON.parse), as WebSocket text is.
    raw = JSON.parse(typeof text === 'string' ? text : new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(text));
  } catch {
    throw ProtocolError.badJson();
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProtocolError(ErrorCode.InvalidMessage, 'control message must be a JSON object');
  }
  const type = (raw as { type?: unknown }).type;
  const schema = typeof type === 'string' && Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) throw ProtocolError.unknownType(type);
  if (type === 'join' || type === 'welcome') {
    const v = (raw as { v?: unknown }).v;
    if (typeof v === 'number' && v !== PROTOCOL_VERSION) throw ProtocolError.badVersion(v, PROTOCOL_VERSION);
  }
  const result = schema.safeParse(raw, PARSE_CONTEXT);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'message';
    throw ProtocolError.invalid(type as string, `${where} ${issue.message}`);
  }
  return result.data as M;
}

/**
 * Parses and validates a message from a client.
 * @throws {@link ProtocolError} `LAN_ERR_TOO_LARGE`, `LAN_ERR_BAD_JSON`, `LAN_ERR_UNKNOWN_TYPE`,
 *   `LAN_ERR_BAD_VERSION` or `LAN_ERR_INVALID_MESSAGE`.
 */
export function decodeClientMessage(text: string | Uint8Array, maxBytes = DEFAULT_LIMITS.maxControlBytes): ClientMessage {
  return decodeWith<ClientMessage>(clientSchemas, text, maxBytes);
}

/**
 * Parses and validates a message from the relay. Same errors as {@link decodeClientMessage}.
 * Relay messages are not size-limited by default (a `welcome` with history can be large).
 */
export function decodeRelayMessage(text: string | Uint8Array, maxBytes = 16 * 1024 * 1024): RelayMessage {
  return decodeWith<RelayMessage>(relaySchemas, text, maxBytes);
}
