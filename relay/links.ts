/**
 * A link is one client connection as the relay sees it: WebSocket or native TCP. Both carry text
 * (JSON control) and binary (packets) messages, so a `Connection` handles them alike.
 * @module
 * @internal
 */
import { Socket } from 'node:net';
import { FrameParser, Opcode, encodeTextFrame, binaryFrameHeader } from '../sdk/protocol/framing.js';
import { ErrorCode, type ProtocolError } from '../sdk/errors.js';
import { chunkBuffer, releaseChunkBuffer } from './files/chunkBuffers.js';
import { fillCopy } from '../sdk/node/nodeCopy.js';

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

/** Bytes of the read buffer every plain TCP link shares. */
const READ_BUFFER_BYTES = 1024 * 1024;
let sharedReadBuffer: Buffer | undefined;

/**
 * Moves an accepted plain TCP connection (the server made with `pauseOnConnect`) onto a socket that
 * reads into one buffer the relay reuses for every read of every link (Node's `onread`), and calls
 * `onBytes` with each read's bytes, valid only until it returns. Node's default is a new 64 KiB buffer
 * per read; at file-transfer speeds those buffers cost more CPU than the reads themselves (a
 * 1 GiB native upload: 0.6–0.75 s of relay CPU reading the socket the default way, 0.15–0.2 s this
 * way, measured in docs/performance.md, "Design measurements"). One buffer serves all links because a read's bytes are
 * handed over before the next read starts. Node lets `onread` be given only to a socket it creates,
 * so the accepted socket's handle moves to a new one; returns `undefined`, leaving `accepted` as it
 * was, where that cannot be done (TLS, or a Node without the handle).
 * @internal
 */
export function withReusedReadBuffer(accepted: Socket, onBytes: (bytes: Buffer) => void): Socket | undefined {
  const internal = accepted as Socket & { _handle?: { reading?: boolean; readStop?: () => number } | null; encrypted?: boolean };
  const handle = internal._handle;
  if (internal.encrypted || !handle || typeof handle.readStop !== 'function') return undefined;
  // An upgraded HTTP connection is still reading: stop, so that the new socket starts reading its way.
  if (handle.reading) {
    handle.readStop();
    handle.reading = false;
  }
  internal._handle = null;
  sharedReadBuffer ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  const socket = new Socket({
    handle, readable: true, writable: true,
    onread: { buffer: sharedReadBuffer, callback: (n: number, buffer: Buffer) => void onBytes(buffer.subarray(0, n)) },
  } as ConstructorParameters<typeof Socket>[0] & { handle: unknown });
  // The server counts `accepted` as open until it closes: close it with the socket that took over.
  socket.once('close', () => accepted.destroy());
  return socket;
}

/** @internal */
export class TcpLink implements PeerLink {
  readonly transport = 'native' as const;
  readonly remoteAddress: string;
  readonly #socket: Socket;
  readonly #parser: FrameParser;
  #handlers: LinkHandlers | undefined;
  #closing = false;

  /**
   * A link over `accepted`, a connection of a server made with `pauseOnConnect` (plain TCP reads
   * then use the relay's shared buffer, see {@link withReusedReadBuffer}; TLS reads the usual way).
   */
  constructor(accepted: Socket, maxFrameBytes: number) {
    const onBytes = (chunk: Buffer) => {
      if (this.#closing) return;
      try {
        this.#parser.push(chunk);
      } catch (error) {
        this.#handlers?.protocolError(error as ProtocolError);
      }
    };
    const reusing = withReusedReadBuffer(accepted, onBytes);
    const socket = reusing ?? accepted;
    this.#socket = socket;
    this.remoteAddress = normalizeAddress(socket.remoteAddress);
    socket.setNoDelay(true);
    this.#parser = new FrameParser(maxFrameBytes, (opcode, payload, owned) => {
      if (opcode === Opcode.Text) this.#handlers?.text(payload);
      else this.#handlers?.binary(payload, owned);
    }, { alloc: chunkBuffer, copy: fillCopy, transient: !!reusing, release: releaseChunkBuffer });
    if (!reusing) {
      socket.on('data', onBytes);
      socket.resume();
    }
    socket.on('close', () => {
      this.#parser.discard();
      this.#handlers?.closed();
    });
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
