/**
 * The small interface every wire implements: connect, send control, send media, and report what arrives.
 * @module
 */
import type { LanError } from '../errors.js';
import { TypedEmitter } from '../TypedEmitter.js';
import type { ClientMessage, MediaPacket, RelayMessage, RelayMessageOf } from '../protocol/index.js';

/** Events of a {@link Transport}. */
export type TransportEvents = {
  /** A validated control message from the relay. */
  control: [message: RelayMessage];
  /** A whole media frame from the relay. */
  media: [packet: MediaPacket];
  /** A file chunk packet from the relay (decoded by the files manager). */
  file: [bytes: Uint8Array];
  /** Something the relay sent could not be decoded (it is dropped). */
  protocolError: [error: LanError];
  /** The transport closed; `error` says why when it was not asked to. */
  closed: [error: LanError | undefined];
};

/** Which wire a session uses. */
export type TransportKind = 'websocket' | 'native';

/**
 * A connection to the relay. One implementation per wire: WebSocket (browsers and Node) and
 * native TCP + UDP (Node only, in `lanconf/node`).
 */
export abstract class Transport extends TypedEmitter<TransportEvents> {
  /** Which wire this is. */
  abstract readonly kind: TransportKind;
  /** Opens the connection; rejects with `LAN_ERR_UNREACHABLE` when the relay cannot be reached. */
  abstract connect(signal?: AbortSignal): Promise<void>;
  /** Sends a control message (never dropped). */
  abstract sendControl(message: ClientMessage): void;
  /**
   * Sends one whole-frame media packet. Returns `false` when a video frame was dropped because the
   * connection is backed up (audio is never dropped).
   */
  abstract sendMedia(packet: Uint8Array, droppable: boolean): boolean;
  /**
   * Sends a file chunk packet, given as its header and its data so that a transport able to write
   * both without joining them does (never dropped: the files manager paces it with the relay's acks).
   */
  abstract sendFile(header: Uint8Array, data: Uint8Array): void;
  /** Called with the relay's `welcome`, before the session is handed to the user (native: binds UDP). */
  async ready(_welcome: RelayMessageOf<'welcome'>): Promise<void> {}
  /** Closes the connection. Idempotent. */
  abstract close(): void;
  /** Bytes queued and not yet sent. */
  abstract readonly bufferedAmount: number;
  /** Options the transport adds to `join`. */
  joinExtras(): Partial<Extract<ClientMessage, { type: 'join' }>> {
    return {};
  }
}

/** A video frame is dropped at the sender when this many bytes are already queued. */
export const SENDER_VIDEO_HIGH_WATER = 1024 * 1024;
