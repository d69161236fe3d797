/**
 * The WebSocket transport: control as text messages, media as binary messages (one whole frame each).
 * Works with the browser's `WebSocket` and, in Node, with the `ws` package's (wsClient.ts, given by `lanconf/node`).
 * @module
 */
import { ConnectionError, type LanError, ProtocolError } from '../errors.js';
import { PacketType, decodeMediaPacket, decodeRelayMessage, encodeControl, type ClientMessage } from '../protocol/index.js';
import { SENDER_VIDEO_HIGH_WATER, Transport } from './Transport.js';

/** The subset of the WebSocket API the transport uses (the browser's `WebSocket` and the `ws` package's both have it). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount: number;
  /** Called when the connection opens. */
  onopen: ((ev: unknown) => void) | null;
  /** Called with each message: a string (control) or binary data (media). */
  onmessage: ((ev: { data: unknown }) => void) | null;
  /** Called on an error (a close follows): an `Event` in a browser, the `Error` in Node. */
  onerror: ((ev: unknown) => void) | null;
  /** Called when the connection closes. */
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  /** Sends text or binary data. */
  send(data: string | ArrayBufferView | ArrayBuffer): void;
  /** Closes the connection. */
  close(code?: number, reason?: string): void;
  /** Sends `parts` as one binary message, joined into a buffer it reuses (Node's, wsClient.ts, has it). */
  sendJoined?(parts: Uint8Array[]): void;
}

/** Makes a WebSocket for a URL. */
export type WebSocketFactory = (url: string) => WebSocketLike;

const OPEN = 1;

/** The WebSocket transport. */
export class WebSocketTransport extends Transport {
  readonly kind = 'websocket' as const;
  readonly #url: string;
  readonly #factory: WebSocketFactory;
  #ws: WebSocketLike | undefined;
  #closed = false;

  readonly #binaryType: string;
  readonly #alloc: (size: number) => Uint8Array;

  /**
   * A transport to the WebSocket `url`; `factory` makes the socket (the browser's `WebSocket`, or `ws`'s in Node).
   * `binaryType` is `'arraybuffer'` for browsers; in Node `'nodebuffer'` hands each message over in the buffer it was read into.
   * `alloc` makes the buffer a file chunk is joined into (Node passes `Buffer.allocUnsafeSlow`: no zeroing).
   */
  constructor(url: string, factory: WebSocketFactory, binaryType = 'arraybuffer',
    alloc: (size: number) => Uint8Array = (size) => new Uint8Array(size)) {
    super();
    this.#url = url;
    this.#factory = factory;
    this.#binaryType = binaryType;
    this.#alloc = alloc;
  }

  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  connect(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = this.#factory(this.#url);
      } catch (error) {
        reject(ConnectionError.unreachable(this.#url, error));
        return;
      }
      this.#ws = ws;
      ws.binaryType = this.#binaryType;
      let opened = false;
      const onAbort = () => {
        ws.close();
        reject(signal?.reason ?? ConnectionError.closed('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      ws.onopen = () => {
        opened = true;
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      // Followed by close; Node's WebSocket gives an Error that says why (a browser, an Event that does not).
      let why: Error | undefined;
      ws.onerror = (ev) => {
        if (ev instanceof Error) why = ev;
      };
      ws.onclose = (ev) => {
        signal?.removeEventListener('abort', onAbort);
        if (!opened) {
          reject(ConnectionError.unreachable(this.#url, why));
          return;
        }
        this.#finish(this.#closed ? undefined : ConnectionError.closed(`the relay closed the connection (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`));
      };
      ws.onmessage = (ev) => this.#onMessage(ev.data);
    });
  }

  sendControl(message: ClientMessage): void {
    if (this.#ws?.readyState === OPEN) this.#ws.send(encodeControl(message));
  }

  sendMedia(packet: Uint8Array, droppable: boolean): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== OPEN) return false;
    if (droppable && ws.bufferedAmount > SENDER_VIDEO_HIGH_WATER) return false;
    ws.send(packet);
    return true;
  }

  sendFile(header: Uint8Array, data: Uint8Array): void {
    if (this.#ws?.readyState !== OPEN) return;
    // One WebSocket message per chunk: the relay gets it in one frame, which `ws` there reads with one
    // copy (fragments would cost it a second one to join them).
    if (this.#ws.sendJoined) return this.#ws.sendJoined([header, data]);
    const packet = this.#alloc(header.byteLength + data.byteLength);
    packet.set(header);
    packet.set(data, header.byteLength);
    this.#ws.send(packet);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#ws?.close(1000, 'bye');
    } catch {
      // already closing
    }
    this.#finish(undefined);
  }

  #finishedOnce = false;
  #finish(error: LanError | undefined): void {
    if (this.#finishedOnce) return;
    this.#finishedOnce = true;
    this.#closed = true;
    this.emit('closed', error);
  }

  #onMessage(data: unknown): void {
    try {
      if (typeof data === 'string') {
        this.emit('control', decodeRelayMessage(data));
      } else {
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
        if (!bytes) return;
        if (bytes[0] === PacketType.FileChunk) this.emit('file', bytes);
        else this.emit('media', decodeMediaPacket(bytes));
      }
    } catch (error) {
      if (error instanceof ProtocolError) this.emit('protocolError', error);
      else throw error;
    }
  }
}
