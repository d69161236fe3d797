/**
 * The relay's side of a WebSocket (RFC 6455): the opening handshake, then frames read straight into
 * the buffers the relay keeps them in (sdk/transport/wsFrames.ts). The `ws` package reads every 64 KiB
 * into a new buffer and joins each message into another new one; at file-transfer rates that
 * allocation and its garbage collection cost the relay more CPU than storing the bytes (see
 * docs/architecture.md). Here a plain connection reads into the relay's one shared read buffer, and a
 * binary message is unmasked as it is copied into its packet buffer (a chunk slot for a file chunk):
 * one copy per byte, nothing allocated per read.
 *
 * What the relay needs of the protocol, no more: no extensions (a `permessage-deflate` offer is
 * declined), no subprotocol. Every violation closes that connection with the RFC's status code and
 * changes nothing else.
 * @module
 * @internal
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../sdk/errors.js';
import { WS_CLOSE, WS_GUID, WsFrameReader, WsOp, WsViolation, isSendableCloseStatus, wsClosePayload, wsFrameHeader } from '../sdk/transport/wsFrames.js';
import { chunkBuffer, releaseChunkBuffer } from './files/chunkBuffers.js';
import { normalizeAddress, withReusedReadBuffer, type LinkHandlers, type PeerLink } from './links.js';

export { unmask } from '../sdk/transport/wsFrames.js';

/**
 * Checks a WebSocket upgrade request: the `Sec-WebSocket-Accept` value to answer it with (the
 * {@link WsLink} writes the `101`), or `undefined` after a `400` for a request that is not a valid
 * version-13 WebSocket handshake (the socket is then closed).
 */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex): string | undefined {
  const key = req.headers['sec-websocket-key'];
  const valid = req.method === 'GET'
    && String(req.headers.upgrade).toLowerCase() === 'websocket'
    && req.headers['sec-websocket-version'] === '13'
    && typeof key === 'string' && /^[+/0-9A-Za-z]{21}[AQgw]==$/.test(key);
  if (!valid) {
    // Closed once the answer is out, whether or not the client closes its side.
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nnot a WebSocket version 13 handshake\n',
      () => socket.destroy());
    setTimeout(() => socket.destroy(), 2000).unref();
    return undefined;
  }
  return createHash('sha1').update(key + WS_GUID).digest('base64');
}

/** Pings are answered only while less than this is queued for the client (RFC 6455 lets pongs be skipped). */
const PONG_BACKLOG_BYTES = 64 * 1024;

/** A link over a WebSocket connection whose handshake {@link acceptUpgrade} answered. @internal */
export class WsLink implements PeerLink {
  readonly transport = 'websocket' as const;
  readonly remoteAddress: string;
  readonly #socket: Socket;
  readonly #reader: WsFrameReader;
  #handlers: LinkHandlers | undefined;
  /** The relay's close frame is sent; nothing more is. */
  #closeSent = false;
  /** Why the connection broke the protocol, for {@link LinkHandlers.closed}. */
  #broken: string | undefined;

  /**
   * A link over `socket`, the upgraded connection: it answers the handshake with a `101` carrying
   * `accept` (from {@link acceptUpgrade}); `head` are bytes read past the handshake. Messages over
   * `maxPayload` bytes close it with 1009.
   */
  constructor(socket: Socket, accept: string, head: Uint8Array, maxPayload: number) {
    this.#reader = new WsFrameReader({ role: 'server', maxPayload, alloc: chunkBuffer, release: releaseChunkBuffer }, {
      text: (text) => this.#handlers?.text(text),
      binary: (bytes) => this.#handlers?.binary(bytes, bytes.byteLength > 0),
      ping: (payload) => {
        if (this.#socket.writableLength < PONG_BACKLOG_BYTES) this.#send(WsOp.Pong, payload);
      },
      // The client's close: answer it and end the connection.
      close: (status) => {
        this.#close(status === 1005 || isSendableCloseStatus(status) ? WS_CLOSE.normal : WS_CLOSE.protocol, '');
        this.#socket.end();
      },
    });
    const onBytes = (bytes: Uint8Array) => {
      try {
        this.#reader.push(bytes);
      } catch (error) {
        // A violation, or anything else going wrong with this connection's bytes (a buffer that cannot
        // be had): that connection closes, the relay goes on.
        const violation = error instanceof WsViolation ? error
          : new WsViolation(WS_CLOSE.error, `the relay could not read the message: ${(error as Error).message}`, ErrorCode.Internal);
        this.#broken = violation.reason;
        this.#close(violation.status, violation.message);
        this.#socket.end();
      }
    };
    // A plain connection stops reading the HTTP way and reads into the relay's shared buffer.
    const reusing = withReusedReadBuffer(socket, onBytes);
    this.#socket = reusing ?? socket;
    this.remoteAddress = normalizeAddress(this.#socket.remoteAddress);
    this.#socket.setNoDelay(true);
    // The answer goes out through the socket that now owns the connection.
    this.#socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    // Bytes a client sent right behind its handshake, once the owner has set its handlers.
    if (head.byteLength > 0) queueMicrotask(() => onBytes(head));
    if (!reusing) {
      socket.on('data', onBytes);
      socket.resume();
    }
    this.#socket.on('close', () => {
      this.#reader.discard();
      this.#handlers?.closed(this.#broken);
    });
    this.#socket.on('error', () => this.#socket.destroy());
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  setHandlers(handlers: LinkHandlers): void {
    this.#handlers = handlers;
  }

  sendText(text: string): void {
    this.#send(WsOp.Text, Buffer.from(text, 'utf8'));
  }

  sendBinary(bytes: Uint8Array, sent?: () => void): void {
    if (!this.#send(WsOp.Binary, bytes, sent)) sent?.();
  }

  close(kind: 'normal' | 'policy' | 'tooBig' | 'goingAway' | 'error', reason: string): void {
    this.#close(WS_CLOSE[kind], reason);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Writes one unfragmented frame; `false` when the connection can no longer send. */
  #send(opcode: WsOp, payload: Uint8Array, sent?: () => void): boolean {
    const socket = this.#socket;
    if (this.#closeSent || !socket.writable) return false;
    socket.cork();
    socket.write(wsFrameHeader(opcode, payload.byteLength, false));
    socket.write(payload, sent && (() => sent()));
    socket.uncork();
    return true;
  }

  /** Sends a close frame (once); the connection is dropped 2 s later if the client has not closed it. */
  #close(status: number, reason: string): void {
    if (this.#closeSent) return;
    this.#send(WsOp.Close, wsClosePayload(status, reason));
    this.#closeSent = true;
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }
}
