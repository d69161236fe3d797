/**
 * The relay's side of a WebSocket (RFC 6455): the opening handshake, then frames read straight into
 * the buffers the relay keeps them in. The `ws` package, which the Node SDK uses as its client, reads
 * every 64 KiB into a new buffer and joins each message into another new one; at file-transfer rates
 * that allocation and its garbage collection cost the relay more CPU than storing the bytes (see
 * docs/architecture.md, "WebSocket frames"). Here a plain connection reads into the relay's one shared
 * read buffer, and a binary message is unmasked as it is copied into its packet buffer (a chunk slot
 * for a file chunk): one copy per byte, nothing allocated per read.
 *
 * What the relay needs of the protocol, no more: no extensions (a `permessage-deflate` offer is
 * declined), no subprotocol, and the server side only (frames from clients must be masked). Every
 * violation closes that connection with the RFC's status code and changes nothing else.
 * @module
 * @internal
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { isUtf8 } from 'node:buffer';
import { ErrorCode } from '../sdk/errors.js';
import { fillCopy } from '../sdk/transport/nodeCopy.js';
import { chunkBuffer, releaseChunkBuffer } from './files/chunkBuffers.js';
import { normalizeAddress, withReusedReadBuffer, type LinkHandlers, type PeerLink } from './links.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** WebSocket opcodes (RFC 6455 §5.2). */
const enum Op {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

/** Close status codes (RFC 6455 §7.4.1). */
const CLOSE = { normal: 1000, goingAway: 1001, protocol: 1002, badData: 1007, policy: 1008, tooBig: 1009, error: 1011 } as const;

/**
 * Answers a WebSocket upgrade request: `true` once the `101` is written, `false` after a `400` for a
 * request that is not a valid version-13 WebSocket handshake (the socket is then closed).
 */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex): boolean {
  const key = req.headers['sec-websocket-key'];
  const valid = req.method === 'GET'
    && String(req.headers.upgrade).toLowerCase() === 'websocket'
    && req.headers['sec-websocket-version'] === '13'
    && typeof key === 'string' && /^[+/0-9A-Za-z]{21}[AQgw]==$/.test(key);
  if (!valid) {
    socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nnot a WebSocket version 13 handshake\n');
    return false;
  }
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  return true;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Unmasks `bytes` in place; `phase` is the offset of `bytes[0]` in the frame payload. */
export function unmask(bytes: Uint8Array, mask: Uint8Array, phase: number): void {
  const m0 = mask[phase & 3]!, m1 = mask[(phase + 1) & 3]!, m2 = mask[(phase + 2) & 3]!, m3 = mask[(phase + 3) & 3]!;
  const n = bytes.byteLength;
  let i = 0;
  // Four bytes at a time through an aligned 32-bit view where the buffer allows it.
  const lead = (4 - ((bytes.byteOffset) & 3)) & 3;
  for (; i < lead && i < n; i++) bytes[i]! ^= mask[(phase + i) & 3]!;
  const words = LITTLE_ENDIAN ? (n - i) >>> 2 : 0;
  if (words > 0) {
    const r = i & 3;
    const k = [m0, m1, m2, m3];
    // Little-endian word of the mask as it lines up from byte i on.
    const word = (k[r]! | (k[(r + 1) & 3]! << 8) | (k[(r + 2) & 3]! << 16) | (k[(r + 3) & 3]! << 24)) >>> 0;
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= word;
    i += words * 4;
  }
  for (; i < n; i++) bytes[i]! ^= mask[(phase + i) & 3]!;
}

/** A protocol violation: closes the connection with `status`; `reason` is the relay's error code. */
class WsViolation extends Error {
  constructor(readonly status: number, message: string, readonly reason: string = ErrorCode.InvalidMessage) {
    super(message);
  }
}

/** A link over a WebSocket connection whose handshake {@link acceptUpgrade} answered. @internal */
export class WsLink implements PeerLink {
  readonly transport = 'websocket' as const;
  readonly remoteAddress: string;
  readonly #socket: Socket;
  readonly #maxPayload: number;
  #handlers: LinkHandlers | undefined;
  /** The relay's close frame is sent; nothing more is. */
  #closeSent = false;
  /** Why the connection broke the protocol, for {@link LinkHandlers.closed}. */
  #broken: string | undefined;
  #failed = false;

  // The frame being read.
  readonly #head = new Uint8Array(14);
  #headHave = 0;
  #fin = false;
  #opcode = 0;
  readonly #mask = new Uint8Array(4);
  /** Payload bytes are being read (its buffer is made when the first one comes). */
  #inPayload = false;
  #payload: Uint8Array | undefined;
  #payloadHave = 0;
  #payloadLength = 0;
  // A message in fragments: its opcode, the fragments so far and their size.
  #messageOpcode = 0;
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;

  /**
   * A link over `socket`, the upgraded connection (after a `101` from {@link acceptUpgrade}); `head`
   * are bytes read past the handshake. Messages over `maxPayload` bytes close it with 1009.
   */
  constructor(socket: Socket, head: Uint8Array, maxPayload: number) {
    this.#maxPayload = maxPayload;
    const onBytes = (bytes: Uint8Array) => this.#push(bytes);
    // A plain connection stops reading the HTTP way and reads into the relay's shared buffer.
    const reusing = withReusedReadBuffer(socket, onBytes);
    this.#socket = reusing ?? socket;
    this.remoteAddress = normalizeAddress(this.#socket.remoteAddress);
    this.#socket.setNoDelay(true);
    // Bytes a client sent right behind its handshake, once the owner has set its handlers.
    if (head.byteLength > 0) queueMicrotask(() => this.#push(head));
    if (!reusing) {
      socket.on('data', onBytes);
      socket.resume();
    }
    this.#socket.on('close', () => {
      this.#dropMessage();
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
    this.#send(Op.Text, Buffer.from(text, 'utf8'));
  }

  sendBinary(bytes: Uint8Array, sent?: () => void): void {
    if (!this.#send(Op.Binary, bytes, sent)) sent?.();
  }

  close(kind: 'normal' | 'policy' | 'tooBig' | 'goingAway' | 'error', reason: string): void {
    this.#close(CLOSE[kind], reason);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Writes one unfragmented frame; `false` when the connection can no longer send. */
  #send(opcode: Op, payload: Uint8Array, sent?: () => void): boolean {
    const socket = this.#socket;
    if (this.#closeSent || !socket.writable) return false;
    const n = payload.byteLength;
    const header = Buffer.allocUnsafe(n < 126 ? 2 : n < 65536 ? 4 : 10);
    header[0] = 0x80 | opcode;
    if (n < 126) header[1] = n;
    else if (n < 65536) {
      header[1] = 126;
      header.writeUInt16BE(n, 2);
    } else {
      header[1] = 127;
      header.writeUInt32BE(Math.floor(n / 2 ** 32), 2);
      header.writeUInt32BE(n >>> 0, 6);
    }
    socket.cork();
    socket.write(header);
    socket.write(payload, sent && (() => sent()));
    socket.uncork();
    return true;
  }

  /** Sends a close frame (once), then ends the connection when the client answers, or after 2 s. */
  #close(status: number, reason: string): void {
    if (this.#closeSent) return;
    const text = Buffer.from(reason, 'utf8').subarray(0, 123);
    const payload = Buffer.allocUnsafe(2 + text.byteLength);
    payload.writeUInt16BE(status, 0);
    payload.set(text, 2);
    this.#send(Op.Close, payload);
    this.#closeSent = true;
    setTimeout(() => this.#socket.destroy(), 2000).unref();
  }

  #fail(violation: WsViolation): void {
    this.#failed = true;
    this.#broken = violation.reason;
    this.#dropMessage();
    this.#close(violation.status, violation.message);
    this.#socket.end();
  }

  /** Gives back the buffers of a message that will not be finished. */
  #dropMessage(): void {
    if (this.#payload) releaseChunkBuffer(this.#payload);
    this.#payload = undefined;
    for (const f of this.#fragments) releaseChunkBuffer(f);
    this.#fragments = [];
  }

  #push(bytes: Uint8Array): void {
    if (this.#failed) return;
    try {
      let at = 0;
      while (at < bytes.byteLength && !this.#failed) {
        at = this.#inPayload ? this.#fillPayload(bytes, at) : this.#readHead(bytes, at);
      }
    } catch (error) {
      if (error instanceof WsViolation) this.#fail(error);
      else throw error;
    }
  }

  /** Reads frame header bytes from `bytes[at…]`; returns where it stopped. */
  #readHead(bytes: Uint8Array, at: number): number {
    const head = this.#head;
    const want = () => {
      if (this.#headHave < 2) return 2;
      const len = head[1]! & 0x7f;
      return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + 4;
    };
    while (at < bytes.byteLength && this.#headHave < 2) head[this.#headHave++] = bytes[at++]!;
    if (this.#headHave < 2) return at;
    const b0 = head[0]!, b1 = head[1]!;
    // What the first two bytes break is refused before waiting for the rest of the header.
    if (b0 & 0x70) throw new WsViolation(CLOSE.protocol, 'reserved bits set: no extension was agreed');
    if (!(b1 & 0x80)) throw new WsViolation(CLOSE.protocol, 'a client frame must be masked');
    while (at < bytes.byteLength && this.#headHave < want()) head[this.#headHave++] = bytes[at++]!;
    if (this.#headHave < want()) return at;

    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    let length = b1 & 0x7f;
    let maskAt = 2;
    if (length === 126) {
      length = (head[2]! << 8) | head[3]!;
      maskAt = 4;
    } else if (length === 127) {
      const high = ((head[2]! << 24) | (head[3]! << 16) | (head[4]! << 8) | head[5]!) >>> 0;
      if (high > 0x1fffff) throw new WsViolation(CLOSE.protocol, 'frame length over 2^53');
      length = high * 2 ** 32 + (((head[6]! << 24) | (head[7]! << 16) | (head[8]! << 8) | head[9]!) >>> 0);
      maskAt = 10;
    }
    this.#mask.set(head.subarray(maskAt, maskAt + 4));
    this.#headHave = 0;

    const control = opcode >= 0x8;
    if (control) {
      if (opcode !== Op.Close && opcode !== Op.Ping && opcode !== Op.Pong) throw new WsViolation(CLOSE.protocol, `unknown opcode ${opcode}`);
      if (!fin || length > 125) throw new WsViolation(CLOSE.protocol, 'a control frame must be whole and at most 125 bytes');
    } else if (opcode === Op.Continuation) {
      if (this.#messageOpcode === 0) throw new WsViolation(CLOSE.protocol, 'a continuation frame with no message to continue');
    } else if (opcode === Op.Text || opcode === Op.Binary) {
      if (this.#messageOpcode !== 0) throw new WsViolation(CLOSE.protocol, 'a new message before the last one ended');
    } else {
      throw new WsViolation(CLOSE.protocol, `unknown opcode ${opcode}`);
    }
    if (!control && this.#fragmentBytes + length > this.#maxPayload) {
      throw new WsViolation(CLOSE.tooBig, `message over ${this.#maxPayload} bytes`, ErrorCode.TooLarge);
    }
    this.#fin = fin;
    this.#opcode = opcode;
    this.#payloadLength = length;
    this.#payloadHave = 0;
    if (!control && opcode !== Op.Continuation) this.#messageOpcode = opcode;
    if (length === 0) this.#frameDone(new Uint8Array(0));
    else this.#inPayload = true;
    return at;
  }

  /** Copies payload bytes from `bytes[at…]`, unmasking them; returns where it stopped. */
  #fillPayload(bytes: Uint8Array, at: number): number {
    // A whole binary message goes into a chunk slot when it is a file chunk (its first byte, unmasked,
    // tells), anything else into a buffer of its own (not zeroed).
    this.#payload ??= this.#fin && this.#opcode === Op.Binary
      ? chunkBuffer(this.#payloadLength, bytes[at]! ^ this.#mask[0]!)
      : Buffer.allocUnsafeSlow(this.#payloadLength);
    const payload = this.#payload;
    const n = Math.min(bytes.byteLength - at, this.#payloadLength - this.#payloadHave);
    const target = payload.subarray(this.#payloadHave, this.#payloadHave + n);
    fillCopy(payload, bytes.subarray(at, at + n), this.#payloadHave);
    if (this.#mask[0]! | this.#mask[1]! | this.#mask[2]! | this.#mask[3]!) unmask(target, this.#mask, this.#payloadHave);
    this.#payloadHave += n;
    if (this.#payloadHave === this.#payloadLength) {
      this.#payload = undefined;
      this.#inPayload = false;
      this.#frameDone(payload);
    }
    return at + n;
  }

  /** A whole frame's payload (unmasked) is in. */
  #frameDone(payload: Uint8Array): void {
    switch (this.#opcode) {
      case Op.Ping:
        this.#send(Op.Pong, payload);
        return;
      case Op.Pong:
        return;
      case Op.Close:
        return this.#onClose(payload);
    }
    if (!this.#fin) {
      this.#fragments.push(payload);
      this.#fragmentBytes += payload.byteLength;
      return;
    }
    let message = payload;
    if (this.#fragments.length > 0) {
      this.#fragments.push(payload);
      const total = this.#fragmentBytes + payload.byteLength;
      const first = this.#fragments.find((f) => f.byteLength > 0);
      message = this.#messageOpcode === Op.Binary && first ? chunkBuffer(total, first[0]!) : Buffer.allocUnsafeSlow(total);
      let at = 0;
      for (const f of this.#fragments) {
        fillCopy(message, f, at);
        at += f.byteLength;
      }
      this.#fragments = [];
      this.#fragmentBytes = 0;
    }
    const opcode = this.#messageOpcode;
    this.#messageOpcode = 0;
    if (opcode === Op.Text) {
      if (!isUtf8(message)) throw new WsViolation(CLOSE.badData, 'a text message that is not UTF-8');
      this.#handlers?.text(Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8'));
    } else {
      this.#handlers?.binary(message, message.byteLength > 0);
    }
  }

  /** The client's close frame: answer it (echoing its status) and end the connection. */
  #onClose(payload: Uint8Array): void {
    if (payload.byteLength === 1) throw new WsViolation(CLOSE.protocol, 'a close frame with a one-byte body');
    const status = payload.byteLength >= 2 ? (payload[0]! << 8) | payload[1]! : CLOSE.normal;
    if (payload.byteLength > 2 && !isUtf8(payload.subarray(2))) throw new WsViolation(CLOSE.badData, 'a close reason that is not UTF-8');
    this.#failed = true; // nothing is read after a close
    this.#close(status >= 1000 && status < 5000 && status !== 1005 && status !== 1006 ? CLOSE.normal : CLOSE.protocol, '');
    this.#socket.end();
  }
}
