/**
 * Errors thrown by the SDK and named on the wire by the relay.
 *
 * Every error lanconf raises is a {@link LanError} with a stable, machine-readable
 * {@link LanError.code}. The relay sends the same codes in its `error` messages, so the SDK
 * throws exactly the error the relay named.
 *
 * @module
 */

/**
 * Every stable error code. The wire carries these strings unchanged.
 */
export const ErrorCode = {
  /** A control message was not valid JSON. */
  BadJson: 'LAN_ERR_BAD_JSON',
  /** A control message had a `type` the receiver does not know. */
  UnknownType: 'LAN_ERR_UNKNOWN_TYPE',
  /** A control message had a missing field, a wrong field type or a value out of range. */
  InvalidMessage: 'LAN_ERR_INVALID_MESSAGE',
  /** A control message or media frame was larger than the limit. */
  TooLarge: 'LAN_ERR_TOO_LARGE',
  /** A binary packet was shorter than its fixed header. */
  ShortHeader: 'LAN_ERR_SHORT_HEADER',
  /** A binary packet started with a packet type the receiver does not know. */
  BadPacketType: 'LAN_ERR_BAD_PACKET_TYPE',
  /** The peer speaks a protocol version this side does not. */
  BadVersion: 'LAN_ERR_BAD_VERSION',
  /** A media header named an unknown track kind. */
  BadKind: 'LAN_ERR_BAD_KIND',
  /** A media header named an unknown codec. */
  BadCodec: 'LAN_ERR_BAD_CODEC',
  /** A media header's fragment index/count were inconsistent. */
  BadFragment: 'LAN_ERR_BAD_FRAGMENT',
  /** The passcode was missing or wrong. */
  BadPasscode: 'LAN_ERR_BAD_PASSCODE',
  /** A message other than `join` arrived before the join completed, or `join` came twice. */
  NotJoined: 'LAN_ERR_NOT_JOINED',
  /** `join` arrived on a connection that has already joined. */
  AlreadyJoined: 'LAN_ERR_ALREADY_JOINED',
  /** The meeting has reached its participant limit. */
  RoomFull: 'LAN_ERR_ROOM_FULL',
  /** The participant publishes too many tracks. */
  TrackLimit: 'LAN_ERR_TRACK_LIMIT',
  /** A message referred to a track that does not exist or is not the sender's. */
  UnknownTrack: 'LAN_ERR_UNKNOWN_TRACK',
  /** A media packet named a sender other than the connection it came from. */
  ForgedSender: 'LAN_ERR_FORGED_SENDER',
  /** The peer sent more messages per second than allowed. */
  RateLimited: 'LAN_ERR_RATE_LIMITED',
  /** The peer stopped reading and its send queue overflowed. */
  SlowConsumer: 'LAN_ERR_SLOW_CONSUMER',
  /** Nothing was heard from the peer within the liveness timeout. */
  Timeout: 'LAN_ERR_TIMEOUT',
  /** The relay could not be reached. */
  Unreachable: 'LAN_ERR_UNREACHABLE',
  /**
   * An `https:`/`wss:` relay this browser cannot reach because it does not trust the relay's certificate
   * yet (browsers refuse it without asking): see {@link UntrustedRelayError.trustUrl}.
   */
  Untrusted: 'LAN_ERR_UNTRUSTED',
  /** The connection closed (by either side, or the network). */
  Closed: 'LAN_ERR_CLOSED',
  /** The relay is shutting down. */
  Shutdown: 'LAN_ERR_SHUTDOWN',
  /** The relay hit an unexpected internal error handling the message. */
  Internal: 'LAN_ERR_INTERNAL',
  /** A shared file would put the meeting over its storage quota. */
  QuotaExceeded: 'LAN_ERR_QUOTA',
  /** A message named a file or transfer the relay does not have (or not in this meeting). */
  UnknownFile: 'LAN_ERR_UNKNOWN_FILE',
  /** The SHA-256 of the bytes received is not the one announced: the file is discarded. */
  HashMismatch: 'LAN_ERR_HASH_MISMATCH',
  /** A file offset is past the end of the file, or not where the transfer stands. */
  BadOffset: 'LAN_ERR_BAD_OFFSET',
  /** A file name is empty, too long, or contains control characters. */
  BadName: 'LAN_ERR_BAD_NAME',
  /** A capture adapter cannot run here: its device, display, program or optional dependency is missing. */
  CaptureUnavailable: 'LAN_ERR_CAPTURE_UNAVAILABLE',
  /** The capture device asked for does not exist. */
  DeviceNotFound: 'LAN_ERR_DEVICE_NOT_FOUND',
  /** Only a host of the meeting may do that; nothing changed. */
  Forbidden: 'LAN_ERR_FORBIDDEN',
  /** The meeting is locked: nobody new may join until a host unlocks it. */
  Locked: 'LAN_ERR_LOCKED',
  /** A host removed you from the meeting (and may have blocked rejoining it). */
  Removed: 'LAN_ERR_REMOVED',
  /** A host ended the meeting for everyone. */
  Ended: 'LAN_ERR_ENDED',
} as const;

/** A stable error code string, e.g. `'LAN_ERR_ROOM_FULL'`. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** `true` when `code` is one of the stable {@link ErrorCode} values. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code);
}

/**
 * The base of every error lanconf raises.
 *
 * @example
 * ```ts
 * try { await joinMeeting({ url, meeting: 'Room1', name: 'Ana', passcode: 'nope' }); }
 * catch (e) { if (e instanceof LanError && e.code === 'LAN_ERR_BAD_PASSCODE') askAgain(); }
 * ```
 */
export class LanError extends Error {
  /** The stable machine-readable code. */
  readonly code: ErrorCode;

  /** Makes an error with a stable `code` and a message for people. */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LanError';
    this.code = code;
  }
}

/** An error in the bytes or JSON received: the peer broke the protocol. */
export class ProtocolError extends LanError {
  /** Makes a protocol error; prefer the static factories. */
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'ProtocolError';
  }

  /** A binary packet shorter than its header. */
  static tooShort(length: number, needed: number): ProtocolError {
    return new ProtocolError(ErrorCode.ShortHeader, `packet of ${length} bytes is shorter than the ${needed}-byte header`);
  }

  /** A control message or frame larger than allowed. */
  static tooLarge(what: string, size: number, limit: number): ProtocolError {
    return new ProtocolError(ErrorCode.TooLarge, `${what} of ${size} bytes exceeds the limit of ${limit} bytes`);
  }

  /** A protocol version this side does not speak. */
  static badVersion(got: number, want: number): ProtocolError {
    return new ProtocolError(ErrorCode.BadVersion, `protocol version ${got} is not supported (this side speaks ${want})`);
  }

  /** Text that is not JSON. */
  static badJson(): ProtocolError {
    return new ProtocolError(ErrorCode.BadJson, 'control message is not valid JSON');
  }

  /** A control message with an unknown `type`. */
  static unknownType(type: unknown): ProtocolError {
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : typeof type;
    return new ProtocolError(ErrorCode.UnknownType, `unknown control message type ${shown}`);
  }

  /** A control message that does not match its schema. */
  static invalid(type: string, detail: string): ProtocolError {
    return new ProtocolError(ErrorCode.InvalidMessage, `invalid "${type}" message: ${detail}`);
  }
}

/** An error about the connection to the relay: unreachable, closed, timed out. */
export class ConnectionError extends LanError {
  /** Makes a connection error; prefer the static factories. */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ConnectionError';
  }

  /** The relay could not be reached at `url`. */
  static unreachable(url: string, cause?: unknown): ConnectionError {
    const why = cause instanceof Error && cause.message ? `: ${cause.message}` : '';
    return new ConnectionError(ErrorCode.Unreachable, `cannot reach the relay at ${url}${why}`, { cause });
  }

  /** The connection closed. */
  static closed(reason = 'the connection closed'): ConnectionError {
    return new ConnectionError(ErrorCode.Closed, reason);
  }

  /** Nothing was heard within `ms`. */
  static timeout(what: string, ms: number): ConnectionError {
    return new ConnectionError(ErrorCode.Timeout, `${what} timed out after ${ms} ms`);
  }
}

/**
 * A relay this browser does not trust yet: its certificate comes from the relay's own certificate
 * authority (or another one this machine does not know), and a browser refuses such a WebSocket or script
 * without asking. Opening {@link UntrustedRelayError.trustUrl} shows how to trust it once.
 *
 * @example
 * ```ts
 * try { await joinMeeting({ url: 'https://192.168.1.20:8787', meeting: 'Room1', name: 'Ana' }); }
 * catch (e) { if (e instanceof UntrustedRelayError) showLink(e.trustUrl); }
 * ```
 */
export class UntrustedRelayError extends ConnectionError {
  /** The relay's trust page (plain `http://…/trust`), which tells how to trust it on this device. */
  readonly trustUrl: string;
  /**
   * `true` when the relay was seen answering on plain HTTP while HTTPS failed (so the certificate is the
   * cause); `false` when the page could not check (an HTTPS page may not fetch plain HTTP) and the
   * certificate is only the likely cause.
   */
  readonly confirmed: boolean;

  /** Makes the error for the relay at `url`, whose trust page is `trustUrl`. */
  constructor(url: string, trustUrl: string, confirmed: boolean, options?: { cause?: unknown }) {
    super(ErrorCode.Untrusted, confirmed
      ? `this browser does not trust the relay at ${url} yet: open ${trustUrl} to trust it once`
      : `cannot reach the relay at ${url}; most likely this browser does not trust its certificate yet: open ${trustUrl} to check`, options);
    this.name = 'UntrustedRelayError';
    this.trustUrl = trustUrl;
    this.confirmed = confirmed;
  }
}

/** An error the relay reported for a request: refused join, full room, unknown track… */
export class RelayError extends LanError {
  /** Makes the error the relay named. */
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'RelayError';
  }
}
