/**
 * The Node SDK's WebSocket client: the {@link WebSocketLike} subset lanconf uses, over `node:net` /
 * `node:tls`. A plain connection reads into one reused 1 MiB buffer (Node's `onread`) and each message
 * is copied once, straight into the buffer it is delivered in (sdk/transport/wsFrames.ts); `ws`
 * allocated a buffer per 64 KiB read and joined each message into another, which made a WebSocket
 * download cost the Node client about half again the CPU of a native one. Frames go out with a zero
 * masking key, and a file chunk's header and data in one `writev` without being joined.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { pinMismatch, tlsConnectOptions, type NodeTlsOptions } from './nodeTls.js';
import type { WebSocketLike } from './WebSocketTransport.js';
import { WS_CLOSE, WS_GUID, WsFrameReader, WsOp, WsViolation, isSendableCloseStatus, wsClosePayload, wsFrameHeader } from './wsFrames.js';

const READ_BUFFER_BYTES = 1024 * 1024;
/** Longest handshake response read. */
const MAX_RESPONSE_HEAD = 16 * 1024;

const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;

/** A WebSocket client connection (`ws:` or `wss:`), opening as soon as it is made. */
export class NodeWebSocket implements WebSocketLike {
  binaryType = 'nodebuffer';
  readyState = CONNECTING;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;

  readonly #socket: Socket;
  readonly #reader: WsFrameReader;
  readonly #accept: string;
  #head: Buffer | undefined = Buffer.alloc(0);
  #closeSent = false;
  #closeEvent: { code: number; reason: string } = { code: 1006, reason: '' };

  /** Connects to `url` (`ws:` or `wss:`); messages over `maxPayload` bytes close it with 1009. */
  constructor(url: string, tls: NodeTlsOptions = {}, maxPayload = 64 * 1024 * 1024) {
    const u = new URL(url);
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TypeError(`not a WebSocket URL: ${url}`);
    const secure = u.protocol === 'wss:';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || (secure ? 443 : 80));
    const key = randomBytes(16).toString('base64');
    this.#accept = createHash('sha1').update(key + WS_GUID).digest('base64');
    this.#reader = new WsFrameReader({ role: 'client', maxPayload }, {
      text: (text) => this.onmessage?.({ data: text }),
      binary: (bytes) => this.onmessage?.({ data: bytes }),
      // Pings are answered only while little is queued for the server (RFC 6455 lets pongs be skipped).
      ping: (payload) => {
        if (this.#socket.writableLength < 64 * 1024) this.#send(WsOp.Pong, payload);
      },
      close: (code, reason) => {
        this.#closeEvent = { code, reason };
        this.#sendClose(isSendableCloseStatus(code) ? code : WS_CLOSE.normal, '');
        this.#socket.end();
      },
    });
    const onBytes = (bytes: Buffer) => this.#onBytes(bytes);
    this.#socket = secure
      ? tlsConnect({
        host, port, servername: isIP(host) ? undefined : host, ...tlsConnectOptions(tls),
      })
      : netConnect({ host, port, onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (n, buffer) => {
        onBytes(Buffer.from(buffer.buffer, buffer.byteOffset, n));
        return true;
      } } });
    if (secure) this.#socket.on('data', onBytes);
    this.#socket.setNoDelay(true);
    this.#socket.once(secure ? 'secureConnect' : 'connect', () => {
      // A pinned certificate is checked before the handshake (and later the join, with its passcode) goes out.
      const mismatch = secure ? pinMismatch(this.#socket as TLSSocket, tls, host) : undefined;
      if (mismatch) {
        this.onerror?.(mismatch);
        this.#socket.destroy();
        return;
      }
      const path = `${u.pathname || '/'}${u.search}`;
      this.#socket.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
        + `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    this.#socket.on('error', (error) => {
      this.onerror?.(error);
      this.#socket.destroy();
    });
    this.#socket.on('close', () => {
      this.#reader.discard();
      this.readyState = CLOSED;
      this.onclose?.(this.#closeEvent);
    });
  }

  /** Bytes queued for sending and not yet taken by the kernel. */
  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  /** Sends a text (string) or binary message. */
  send(data: string | ArrayBufferView | ArrayBuffer): void {
    if (typeof data === 'string') this.#send(WsOp.Text, Buffer.from(data, 'utf8'));
    else if (data instanceof ArrayBuffer) this.#send(WsOp.Binary, new Uint8Array(data));
    else this.#send(WsOp.Binary, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Sends one binary message made of `parts`, written as they are (one `writev`, nothing joined). */
  sendParts(parts: Uint8Array[]): void {
    this.#send(WsOp.Binary, ...parts);
  }

  /** Starts the closing handshake (the relay answers, then the connection ends; at most 2 s). */
  close(code: number = WS_CLOSE.normal, reason = ''): void {
    if (this.readyState === CLOSED) return;
    if (this.readyState === CONNECTING) {
      this.#socket.destroy();
      return;
    }
    this.#sendClose(code, reason);
  }

  #sendClose(code: number, reason: string): void {
    if (this.#closeSent) return;
    this.#send(WsOp.Close, wsClosePayload(code, reason));
    this.#closeSent = true;
    this.readyState = CLOSING;
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }

  #send(opcode: WsOp, ...parts: Uint8Array[]): void {
    const socket = this.#socket;
    if (this.readyState !== OPEN || this.#closeSent || !socket.writable) return;
    let length = 0;
    for (const p of parts) length += p.byteLength;
    socket.cork();
    socket.write(wsFrameHeader(opcode, length, true));
    for (const p of parts) socket.write(p);
    socket.uncork();
  }

  #onBytes(bytes: Buffer): void {
    if (this.#head) {
      // The handshake response: the bytes read may be reused, so they are kept as a copy.
      const head = Buffer.concat([this.#head, bytes]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.byteLength > MAX_RESPONSE_HEAD) this.#refuse('a handshake response over 16 KiB');
        else this.#head = head;
        return;
      }
      this.#head = undefined;
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const accept = lines.find((l) => /^sec-websocket-accept:/i.test(l))?.slice(21).trim();
      if (!/^HTTP\/1\.1 101 /.test(lines[0] ?? '')) return this.#refuse(`the server answered ${lines[0]}`);
      const header = (name: string) => lines.find((l) => l.toLowerCase().startsWith(`${name}:`))?.slice(name.length + 1).trim().toLowerCase();
      if (header('upgrade') !== 'websocket' || !header('connection')?.split(/\s*,\s*/).includes('upgrade')) {
        return this.#refuse('a 101 without Upgrade: websocket and Connection: Upgrade');
      }
      if (header('sec-websocket-protocol') !== undefined) return this.#refuse('a subprotocol that was not asked for');
      if (accept !== this.#accept) return this.#refuse('a wrong Sec-WebSocket-Accept');
      if (lines.some((l) => /^sec-websocket-extensions:/i.test(l))) return this.#refuse('an extension that was not offered');
      this.readyState = OPEN;
      this.onopen?.({});
      bytes = head.subarray(end + 4);
      if (bytes.byteLength === 0) return;
    }
    try {
      this.#reader.push(bytes);
    } catch (error) {
      const violation = error instanceof WsViolation ? error
        : new WsViolation(WS_CLOSE.error, `could not read the message: ${(error as Error).message}`);
      this.#closeEvent = { code: violation.status, reason: violation.message };
      this.onerror?.(violation);
      this.#sendClose(violation.status, violation.message);
      this.#socket.end();
    }
  }

  #refuse(why: string): void {
    this.#head = undefined;
    this.onerror?.(new Error(`WebSocket handshake failed: ${why}`));
    this.#socket.destroy();
  }
}
