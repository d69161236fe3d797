/**
 * A link is one client connection as the relay sees it: WebSocket or native TCP. Both carry text
 * (JSON control) and binary (packets) messages, so {@link Peer} handles them alike.
 * @module
 * @internal
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { FrameParser, Opcode, encodeTextFrame, binaryFrameHeader } from '../sdk/protocol/framing.js';
import { ErrorCode, type ProtocolError } from '../sdk/errors.js';
import { chunkBuffer } from './files/chunkBuffers.js';
import { fillCopy } from '../sdk/transport/nodeCopy.js';

/** Events a link reports to its owner. @internal */
export interface LinkHandlers {
  /** A text message: a string (WebSocket, already valid UTF-8) or raw bytes (TCP, validated on decode). */
  text(text: string | Uint8Array): void;
  /** A binary message; `owned`: it fills a buffer of its own that nothing else uses (it may be transferred). */
  binary(bytes: Uint8Array, owned: boolean): void;
  /** The stream broke the framing (TCP only); the link is closing. */
  protocolError(error: ProtocolError): void;
  /**
   * The connection is gone. `reason`: an error code when the link broke the protocol below us (a
   * WebSocket message over the size limit, a bad frame), absent when the network simply dropped it.
   */
  closed(reason?: string): void;
}

/** One client connection. @internal */
export interface PeerLink {
  readonly transport: 'websocket' | 'native';
  /** The client's IP address (IPv4-mapped IPv6 unwrapped). */
  readonly remoteAddress: string;
  /** Bytes queued for sending and not yet taken by the kernel. */
  readonly bufferedAmount: number;
  sendText(text: string): void;
  /**
   * Sends a binary message. `sent`, when given, is called once the link no longer needs `bytes`
   * (handed to the kernel, or the connection is gone), so the caller may reuse the buffer.
   */
  sendBinary(bytes: Uint8Array, sent?: () => void): void;
  /** Flushes what is queued, then closes. `kind` picks the WebSocket close code. */
  close(kind: 'normal' | 'policy' | 'tooBig' | 'goingAway' | 'error', reason: string): void;
  /** Drops the connection at once. */
  destroy(): void;
  setHandlers(handlers: LinkHandlers): void;
}

/** Unwraps `::ffff:1.2.3.4` to `1.2.3.4`. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

const WS_CLOSE = { normal: 1000, goingAway: 1001, policy: 1008, tooBig: 1009, error: 1011 } as const;

/** @internal */
export class WsLink implements PeerLink {
  readonly transport = 'websocket' as const;
  readonly remoteAddress: string;
  readonly #ws: WebSocket;
  #handlers: LinkHandlers | undefined;

  constructor(ws: WebSocket, remoteAddress: string | undefined) {
    this.#ws = ws;
    this.remoteAddress = normalizeAddress(remoteAddress);
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data, isBinary) => {
      const h = this.#handlers;
      if (!h) return;
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      // ws may hand over a view of a buffer it still reads from: never owned.
      if (isBinary) h.binary(bytes, false);
      else h.text(bytes.toString('utf8'));
    });
    let broken: string | undefined;
    ws.on('close', () => this.#handlers?.closed(broken));
    ws.on('error', (error: Error & { code?: string }) => {
      broken = error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' ? ErrorCode.TooLarge : ErrorCode.InvalidMessage;
      ws.terminate();
    });
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  sendText(text: string): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  sendBinary(bytes: Uint8Array, sent?: () => void): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(bytes, { binary: true }, sent && (() => sent()));
    else sent?.();
  }

  close(kind: keyof typeof WS_CLOSE, reason: string): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.close(WS_CLOSE[kind], reason.slice(0, 120));
    // A peer that does not answer the close handshake is dropped.
    setTimeout(() => this.#ws.terminate(), 2000).unref();
  }

  destroy(): void {
    this.#ws.terminate();
  }

  setHandlers(handlers: LinkHandlers): void {
    this.#handlers = handlers;
  }
}

/** @internal */
export class TcpLink implements PeerLink {
  readonly transport = 'native' as const;
  readonly remoteAddress: string;
  readonly #socket: Socket;
  readonly #parser: FrameParser;
  #handlers: LinkHandlers | undefined;
  #closing = false;

  constructor(socket: Socket, maxFrameBytes: number) {
    this.#socket = socket;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    socket.setNoDelay(true);
    this.#parser = new FrameParser(maxFrameBytes, (opcode, payload, owned) => {
      if (opcode === Opcode.Text) this.#handlers?.text(payload);
      else this.#handlers?.binary(payload, owned);
    }, { alloc: chunkBuffer, copy: fillCopy });
    socket.on('data', (chunk: Buffer) => {
      if (this.#closing) return;
      try {
        this.#parser.push(chunk);
      } catch (error) {
        this.#handlers?.protocolError(error as ProtocolError);
      }
    });
    socket.on('close', () => this.#handlers?.closed());
    socket.on('error', () => socket.destroy());
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  sendText(text: string): void {
    if (this.#socket.writable) this.#socket.write(encodeTextFrame(text));
  }

  sendBinary(bytes: Uint8Array, sent?: () => void): void {
    if (!this.#socket.writable) {
      sent?.();
      return;
    }
    this.#socket.cork();
    this.#socket.write(binaryFrameHeader(bytes.byteLength));
    this.#socket.write(bytes, sent && (() => sent()));
    this.#socket.uncork();
  }

  close(_kind: string, _reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  setHandlers(handlers: LinkHandlers): void {
    this.#handlers = handlers;
  }
}
