/**
 * The relay's WebSocket side: the `ws` package's server (`noServer`, fed by the relay's own HTTP(S)
 * server's `upgrade` event) and {@link WsLink}, one `ws` connection seen as a {@link PeerLink}. `ws` does
 * the protocol (handshake, frames, masking, fragments, UTF-8, close codes); lanconf sets its limits
 * and adds the one rule `ws` has no option for: pings are answered only while the other end keeps
 * reading. Why `ws` and not lanconf's own frame code any more: docs/architecture.md, "WebSocket is `ws`".
 * @module
 * @internal
 */
import type { IncomingMessage } from 'node:http';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { ErrorCode } from '../sdk/errors.js';
import { normalizeAddress, type LinkHandlers, type PeerLink } from './links.js';

/** Close status codes the relay sends (RFC 6455 §7.4.1), by {@link PeerLink.close}'s `kind`. */
export const WS_CLOSE = { normal: 1000, goingAway: 1001, protocol: 1002, badData: 1007, policy: 1008, tooBig: 1009, error: 1011 } as const;

/**
 * Fragments one message may come in (`ws`'s `maxFragments`; its default is 16384). Empty fragments
 * count nothing against `maxPayload`; `ws` keeps no buffer for them (only their count), but each still
 * costs a parse, so a message that needs more than this is refused (close 1008).
 */
export const WS_MAX_FRAGMENTS = 1024;

/**
 * Socket reads `ws` may hold while it waits for the rest of a frame (`maxBufferedChunks`; its default is
 * 262144): at least this many, and one per 512 bytes of `maxPayload` beyond. `ws` parses a frame once
 * all of it has arrived, and each read waiting for that is a buffer of its own, about 1 KiB of memory
 * even when it holds one byte (measured on Node 20): a client trickling a frame a byte per TCP segment
 * could make the relay hold 262144 of them, a quarter of a GiB, for 17 MB sent. A real client's frame
 * takes at most one read per segment (about 1.4 KB on the slowest link), so this never refuses one;
 * passing it closes the connection with 1008.
 */
export const WS_MIN_BUFFERED_READS = 4096;

/** The `maxBufferedChunks` for messages of up to `maxPayload` bytes (see {@link WS_MIN_BUFFERED_READS}). */
export function maxBufferedReads(maxPayload: number): number {
  return Math.max(WS_MIN_BUFFERED_READS, Math.ceil(maxPayload / 512));
}

/** Pings are answered only while less than this is queued for the client (RFC 6455 lets pongs be skipped). */
export const PONG_BACKLOG_BYTES = 64 * 1024;

/** A close frame's reason is at most 123 bytes (RFC 6455 §5.5: a control frame's body is at most 125). */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * The relay's WebSocket server. It listens on nothing: the relay's HTTP(S) server hands it each
 * `upgrade` ({@link WebSocketServer.handleUpgrade}), which answers a bad handshake with a 400 (405 for
 * a method that is not GET) and destroys the socket once that is out. `maxPayload`: the longest message
 * (a longer one closes that connection with 1009).
 */
export function createWsServer(maxPayload: number): WebSocketServer {
  const options: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    // Media and file chunks do not compress; an offer is declined (no Sec-WebSocket-Extensions in the answer).
    perMessageDeflate: false,
    maxPayload,
    maxFragments: WS_MAX_FRAGMENTS,
    maxBufferedChunks: maxBufferedReads(maxPayload),
    skipUTF8Validation: false,
    // The relay keeps its own peers; ws's set of clients would be a second list to keep in step.
    clientTracking: false,
    // Pongs are the link's own (see WsLink): ws would queue one for every ping, however much is already
    // queued (and drop the connection past 60 unsent).
    autoPong: false,
    // A client that does not answer the relay's close frame is dropped after 2 s (ws waits 30 s).
    closeTimeout: 2000,
  };
  return new WebSocketServer(options);
}

/** A link over one `ws` connection that {@link createWsServer}'s server accepted. @internal */
export class WsLink implements PeerLink {
  readonly transport = 'websocket' as const;
  readonly remoteAddress: string;
  readonly #ws: WebSocket;
  #handlers: LinkHandlers | undefined;
  /** Why the client broke the protocol (an error code), for {@link LinkHandlers.closed}. */
  #broken: string | undefined;

  /** A link over `ws`, accepted for the upgrade request `req`. */
  constructor(ws: WebSocket, req: IncomingMessage) {
    this.#ws = ws;
    this.remoteAddress = normalizeAddress(req.socket.remoteAddress);
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.#handlers?.text(data.toString('utf8'));
      else this.#handlers?.binary(data, ownsItsMemory(data));
    });
    ws.on('ping', (payload: Buffer) => {
      if (ws.bufferedAmount < PONG_BACKLOG_BYTES) ws.pong(payload);
    });
    // ws has closed the connection with the RFC's status code (1002, 1007, 1008, 1009) or will; the
    // close that follows reports why. Errors of the socket itself are not violations: the client is gone.
    ws.on('error', (error: Error & { code?: string }) => {
      if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) this.#broken ??= violationReason(error.code);
    });
    ws.on('close', () => this.#handlers?.closed(this.#broken));
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  setHandlers(handlers: LinkHandlers): void {
    this.#handlers = handlers;
  }

  sendText(text: string): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  sendBinary(bytes: Uint8Array, sent?: () => void): void {
    if (this.#ws.readyState !== this.#ws.OPEN) {
      sent?.();
      return;
    }
    // ws calls back once the socket has the bytes, or with an error when it never will: either way the
    // caller may reuse the buffer.
    this.#ws.send(bytes, { binary: true }, sent && (() => sent()));
  }

  close(kind: keyof typeof WS_CLOSE, reason: string): void {
    this.#ws.close(WS_CLOSE[kind], closeReason(reason));
  }

  destroy(): void {
    this.#ws.terminate();
  }
}

/**
 * `true` when `data` is the whole of its memory, which then holds nothing else: ws joins a message that
 * came in several socket reads (every file chunk does: reads are 64 KiB, chunks 256 KiB) into a buffer
 * of its own, and nothing keeps it after the message event. The store thread then takes that buffer
 * over (moved, not copied) and frees it there, instead of the relay copying the chunk into a slot of its
 * own (relay/files/chunkBuffers.ts) and its event loop collecting ws's buffer: measured, about 4.0
 * against 5.9 s of relay CPU per GiB uploaded (docs/architecture.md). A message read whole from one
 * socket read is a view into that read's buffer, which may hold the next message's bytes too: it is
 * not owned, and a file chunk in it is copied.
 */
function ownsItsMemory(data: Buffer): boolean {
  return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && !(data.buffer instanceof SharedArrayBuffer);
}

/** The lanconf error code for one of ws's `WS_ERR_*` protocol errors. */
function violationReason(code: string): string {
  switch (code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH': // over maxPayload: 1009
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH': // a length over 2^53 - 1: 1009
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS': // over maxFragments or maxBufferedChunks: 1008
      return ErrorCode.TooLarge;
    default:
      return ErrorCode.InvalidMessage;
  }
}

/**
 * `reason` cut to what a close frame carries (123 bytes of UTF-8), between characters, never inside
 * one: ws would throw on a longer one, and the other end checks that the reason is UTF-8.
 */
export function closeReason(reason: string): string {
  if (Buffer.byteLength(reason, 'utf8') <= MAX_CLOSE_REASON_BYTES) return reason;
  let cut = '';
  let bytes = 0;
  for (const char of reason) {
    const n = Buffer.byteLength(char, 'utf8');
    if (bytes + n > MAX_CLOSE_REASON_BYTES) break;
    cut += char;
    bytes += n;
  }
  return cut;
}
