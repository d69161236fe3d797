/**
 * The Node SDK's WebSocket: the `ws` package's client, set up for a relay and seen through the
 * {@link WebSocketLike} interface the transport uses. Node only: `lanconf/node` passes
 * {@link nodeWebSocketFactory} to the WebSocket transport, and the browser entry never imports this
 * module (a browser has its own `WebSocket`).
 * @module
 * @internal
 */
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { WebSocket, type ClientOptions } from 'ws';
import { pinMismatch, tlsConnectOptions, type NodeTlsOptions } from './nodeTls.js';
import type { WebSocketFactory, WebSocketLike } from '../transport/WebSocketTransport.js';

/** The longest message the Node client takes from a relay (ws's default is 100 MiB). */
export const NODE_WS_MAX_PAYLOAD = 64 * 1024 * 1024;

/** Pings are answered only while less than this is queued for the relay (RFC 6455 lets pongs be skipped). */
const PONG_BACKLOG_BYTES = 64 * 1024;

/**
 * Joined packets kept for reuse per connection (a file chunk's: 20 bytes of header and 256 KiB; the
 * upload window is 8 MiB, so 32 are in flight at most). A new 256 KiB buffer per chunk cost a Node
 * uploader more than sending it: fresh memory that the kernel must map and V8's collector must free.
 */
const POOLED_PACKETS = 40;

/**
 * A zero masking key. RFC 6455 has clients XOR every byte they send with a random key so that a page's
 * script cannot make a browser emit bytes that an old proxy would take for a request of its own; a Node
 * program is no such page. With a zero key ws sends the caller's buffer as it is instead of copying it
 * masked, which was a third of a Node uploader's time. The relay accepts either.
 */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/**
 * Makes `ws` WebSockets for a relay: no `permessage-deflate` (media and file chunks do not compress),
 * a zero masking key, messages up to `maxPayload` bytes (a longer one closes with 1009), and `tls` for a
 * `wss:` URL: a CA, or a pinned fingerprint checked before the upgrade request is written.
 */
export function nodeWebSocketFactory(tls: NodeTlsOptions | undefined, maxPayload = NODE_WS_MAX_PAYLOAD): WebSocketFactory {
  return (url: string): WebSocketLike => {
    const options: ClientOptions = {
      perMessageDeflate: false,
      maxPayload,
      generateMask: zeroMask,
      autoPong: false,
    };
    // What nodeTls.ts sets for a relay: its CA, or no chain check for a pinned or insecure connection.
    const { ca, rejectUnauthorized } = tlsConnectOptions(tls);
    if (ca !== undefined) options.ca = ca;
    if (rejectUnauthorized !== undefined) options.rejectUnauthorized = rejectUnauthorized;
    const target = new URL(url);
    if (target.protocol === 'wss:' && tls?.fingerprint) Object.assign(options, pinnedConnection(tls, target.hostname.replace(/^\[|\]$/g, '')));
    return new NodeWs(new WebSocket(url, options));
  };
}

/** A `ws` WebSocket as the transport sees it; joined packets go out from reused buffers. */
class NodeWs implements WebSocketLike {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  readonly #ws: WebSocket;
  /** Buffers of `#poolSize` bytes that no send holds any more. */
  #pool: Buffer[] = [];
  #poolSize = 0;

  constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('open', () => this.onopen?.({}));
    ws.on('message', (data: Buffer, isBinary: boolean) => this.onmessage?.({ data: isBinary ? data : data.toString('utf8') }));
    // The Error itself: it says why (a refused handshake, a certificate that fails the pin).
    ws.on('error', (error: Error) => this.onerror?.(error));
    ws.on('close', (code: number, reason: Buffer) => this.onclose?.({ code, reason: reason.toString('utf8') }));
    ws.on('ping', (payload: Buffer) => {
      if (ws.bufferedAmount < PONG_BACKLOG_BYTES) ws.pong(payload);
    });
  }

  get binaryType(): string {
    return this.#ws.binaryType;
  }

  set binaryType(type: string) {
    this.#ws.binaryType = type as WebSocket['binaryType'];
  }

  get readyState(): number {
    return this.#ws.readyState;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(data: string | ArrayBufferView | ArrayBuffer): void {
    this.#ws.send(data);
  }

  /**
   * Sends `parts` as one binary message (one frame, which the relay's `ws` reads with one copy),
   * joined into a buffer that is reused once ws has handed it to the kernel.
   */
  sendJoined(parts: Uint8Array[]): void {
    let size = 0;
    for (const p of parts) size += p.byteLength;
    // The pool holds buffers of the largest packet seen (a full chunk); a shorter one (a file's last
    // chunk) gets a buffer of its own.
    if (size < this.#poolSize) return this.#ws.send(join(Buffer.allocUnsafeSlow(size), parts));
    if (size > this.#poolSize) {
      this.#pool = [];
      this.#poolSize = size;
    }
    const packet = join(this.#pool.pop() ?? Buffer.allocUnsafeSlow(size), parts);
    this.#ws.send(packet, () => {
      if (packet.byteLength === this.#poolSize && this.#pool.length < POOLED_PACKETS) this.#pool.push(packet);
    });
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }
}

/** Copies `parts` one after the other into `target` and returns it. */
function join(target: Buffer, parts: Uint8Array[]): Buffer {
  let at = 0;
  for (const p of parts) {
    target.set(p, at);
    at += p.byteLength;
  }
  return target;
}

/**
 * ws options that hold the upgrade request back until the relay's certificate has passed the pin:
 * `createConnection` makes the TLS socket and checks it on `secureConnect` (Node's chain check is off
 * for a pinned connection), `finishRequest` ends the request (which writes it) only after a pass. A
 * wrong certificate is never sent a byte: the socket is destroyed with the reason, which ws reports as
 * the WebSocket's error.
 */
function pinnedConnection(tls: NodeTlsOptions, host: string): Pick<ClientOptions, 'createConnection' | 'finishRequest'> {
  /** `undefined` until the handshake is done; then `null` (the pin holds) or why not. */
  let verdict: Error | null | undefined;
  let whenChecked: (() => void) | undefined;
  const createConnection = (options: ConnectionOptions & { path?: string }) => {
    const socket: TLSSocket = tlsConnect({
      ...options,
      // `path` is the URL's path here, which net would take for a Unix socket (ws's own connect clears it too).
      path: undefined,
      servername: isIP(host) ? '' : host,
    });
    socket.once('secureConnect', () => {
      verdict = pinMismatch(socket, tls, host) ?? null;
      if (verdict) socket.destroy(verdict);
      whenChecked?.();
    });
    return socket;
  };
  return {
    createConnection: createConnection as unknown as ClientOptions['createConnection'],
    finishRequest: (request) => {
      const end = () => {
        if (verdict === null) request.end();
      };
      if (verdict === undefined) whenChecked = end;
      else end();
    },
  };
}
