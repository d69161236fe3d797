/**
 * RFC 6455 frames for Node, both ends: the relay's server side (relay/wsLink.ts) and the Node SDK's
 * client (NodeWebSocket.ts). A {@link WsFrameReader} is fed the bytes of each socket read (which may be a
 * buffer reused for the next read) and copies each payload straight into the buffer it is delivered in,
 * unmasking as it copies: one copy per byte, nothing allocated per read. Why lanconf does not use `ws`
 * here: docs/architecture.md, "The relay reads every plain connection into one buffer".
 * No extensions, no subprotocols.
 * @module
 * @internal
 */
import { isUtf8 } from 'node:buffer';
import { ErrorCode } from '../errors.js';
import { fillCopy } from './nodeCopy.js';

/** The GUID of the opening handshake (RFC 6455 §1.3). */
export const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** WebSocket opcodes (RFC 6455 §5.2). */
export const enum WsOp {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

/** Close status codes (RFC 6455 §7.4.1). */
export const WS_CLOSE = { normal: 1000, goingAway: 1001, protocol: 1002, badData: 1007, policy: 1008, tooBig: 1009, error: 1011 } as const;

/** A protocol violation by the other end: close with `status`; `reason` is lanconf's error code. */
export class WsViolation extends Error {
  constructor(readonly status: number, message: string, readonly reason: string = ErrorCode.InvalidMessage) {
    super(message);
  }
}

/**
 * Fragments one message may come in. Each is a buffer until the message ends; without a cap, a flood of
 * tiny or empty fragments (which count nothing against the size limit) could fill the heap.
 */
export const WS_MAX_FRAGMENTS = 1024;

/** `true` for a status an endpoint may put in a close frame (RFC 6455 §7.4). */
export function isSendableCloseStatus(status: number): boolean {
  return (status >= 1000 && status <= 1003) || (status >= 1007 && status <= 1011) || (status >= 3000 && status <= 4999);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** XORs `bytes` in place with `mask`; `phase` is the offset of `bytes[0]` in the frame payload. */
export function unmask(bytes: Uint8Array, mask: Uint8Array, phase: number): void {
  const n = bytes.byteLength;
  let i = 0;
  // Four bytes at a time through an aligned 32-bit view where the buffer allows it.
  const lead = (4 - (bytes.byteOffset & 3)) & 3;
  for (; i < lead && i < n; i++) bytes[i]! ^= mask[(phase + i) & 3]!;
  const words = LITTLE_ENDIAN ? (n - i) >>> 2 : 0;
  if (words > 0) {
    const k = (j: number) => mask[(phase + i + j) & 3]!;
    const word = (k(0) | (k(1) << 8) | (k(2) << 16) | (k(3) << 24)) >>> 0;
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let w = 0; w < words; w++) view[w]! ^= word;
    i += words * 4;
  }
  for (; i < n; i++) bytes[i]! ^= mask[(phase + i) & 3]!;
}

/**
 * The header of one unfragmented frame carrying `length` bytes. `masked`: a client's frame, with a zero
 * masking key, so the payload goes out as it is (why that is safe for a Node client: docs/architecture.md).
 */
export function wsFrameHeader(opcode: WsOp, length: number, masked: boolean): Buffer {
  const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const header = Buffer.alloc(size + (masked ? 4 : 0));
  header[0] = 0x80 | opcode;
  const maskBit = masked ? 0x80 : 0;
  if (length < 126) header[1] = maskBit | length;
  else if (length < 65536) {
    header[1] = maskBit | 126;
    header.writeUInt16BE(length, 2);
  } else {
    header[1] = maskBit | 127;
    header.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    header.writeUInt32BE(length >>> 0, 6);
  }
  return header;
}

/** A close frame's payload: the status and up to 123 bytes of reason. */
export function wsClosePayload(status: number, reason: string): Buffer {
  // Cut by characters, never inside one: the other end checks the reason is UTF-8.
  let cut = reason;
  while (Buffer.byteLength(cut, 'utf8') > 123) cut = cut.slice(0, -1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1); // half a surrogate pair
  const text = Buffer.from(cut, 'utf8');
  const payload = Buffer.allocUnsafe(2 + text.byteLength);
  payload.writeUInt16BE(status, 0);
  payload.set(text, 2);
  return payload;
}

/** What a {@link WsFrameReader} reports. */
export interface WsFrameHandlers {
  /** A whole text message (valid UTF-8). */
  text(text: string): void;
  /** A whole binary message, in a buffer of its own (from `alloc` when it came in one frame). */
  binary(bytes: Uint8Array): void;
  ping(payload: Uint8Array): void;
  /** The other end's close frame: its status (1005 when it gave none) and reason. */
  close(status: number, reason: string): void;
}

/** How a {@link WsFrameReader} reads. */
export interface WsFrameReaderOptions {
  /** `'server'`: frames must be masked (they come from a client); `'client'`: they must not be. */
  role: 'server' | 'client';
  /** Longest message; a longer one is a violation with status 1009. */
  maxPayload: number;
  /** The buffer a one-frame binary message is read into, given its size and first byte (packet type). */
  alloc?: (size: number, type: number) => Uint8Array;
  /** Gives back an `alloc` buffer of a message that will not be finished. */
  release?: (buffer: Uint8Array) => void;
}

/** A streaming reader of WebSocket frames. {@link push} throws a {@link WsViolation}; the stream is then done. */
export class WsFrameReader {
  readonly #o: WsFrameReaderOptions;
  readonly #h: WsFrameHandlers;
  #failed = false;
  // The frame being read.
  readonly #head = new Uint8Array(14);
  #headHave = 0;
  #fin = false;
  #opcode = 0;
  readonly #mask = new Uint8Array(4);
  #masked = false;
  /** Payload bytes are being read (the buffer is made when the first one comes). */
  #inPayload = false;
  #payload: Uint8Array | undefined;
  #payloadHave = 0;
  #payloadLength = 0;
  // A message in fragments.
  #messageOpcode = 0;
  #fragments: Uint8Array[] = [];
  #fragmentBytes = 0;

  constructor(options: WsFrameReaderOptions, handlers: WsFrameHandlers) {
    this.#o = options;
    this.#h = handlers;
  }

  /** Reads `bytes`, which may be reused once this returns. After a close frame nothing more is read. */
  push(bytes: Uint8Array): void {
    let at = 0;
    try {
      while (at < bytes.byteLength && !this.#failed) {
        at = this.#inPayload ? this.#fillPayload(bytes, at) : this.#readHead(bytes, at);
      }
    } catch (error) {
      this.discard();
      throw error;
    }
  }

  /** Drops an unfinished message (the connection is gone), giving its buffer back; reads nothing more. */
  discard(): void {
    this.#failed = true;
    if (this.#payload) this.#o.release?.(this.#payload);
    this.#payload = undefined;
    for (const f of this.#fragments) this.#o.release?.(f);
    this.#fragments = [];
  }

  #readHead(bytes: Uint8Array, at: number): number {
    const head = this.#head;
    while (at < bytes.byteLength && this.#headHave < 2) head[this.#headHave++] = bytes[at++]!;
    if (this.#headHave < 2) return at;
    const b0 = head[0]!, b1 = head[1]!;
    // What the first two bytes break is refused before waiting for the rest of the header.
    if (b0 & 0x70) throw new WsViolation(WS_CLOSE.protocol, 'reserved bits set: no extension was agreed');
    const masked = (b1 & 0x80) !== 0;
    if (this.#o.role === 'server' && !masked) throw new WsViolation(WS_CLOSE.protocol, 'a client frame must be masked');
    if (this.#o.role === 'client' && masked) throw new WsViolation(WS_CLOSE.protocol, 'a server frame must not be masked');
    const len7 = b1 & 0x7f;
    const want = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    while (at < bytes.byteLength && this.#headHave < want) head[this.#headHave++] = bytes[at++]!;
    if (this.#headHave < want) return at;

    const fin = (b0 & 0x80) !== 0;
    const opcode = b0 & 0x0f;
    let length = len7;
    let maskAt = 2;
    if (len7 === 126) {
      length = (head[2]! << 8) | head[3]!;
      maskAt = 4;
    } else if (len7 === 127) {
      const high = ((head[2]! << 24) | (head[3]! << 16) | (head[4]! << 8) | head[5]!) >>> 0;
      if (high > 0x1fffff) throw new WsViolation(WS_CLOSE.protocol, 'frame length over 2^53');
      length = high * 2 ** 32 + (((head[6]! << 24) | (head[7]! << 16) | (head[8]! << 8) | head[9]!) >>> 0);
      maskAt = 10;
    }
    if (masked) this.#mask.set(head.subarray(maskAt, maskAt + 4));
    this.#masked = masked && (this.#mask[0]! | this.#mask[1]! | this.#mask[2]! | this.#mask[3]!) !== 0;
    this.#headHave = 0;

    const control = opcode >= 0x8;
    if (control) {
      if (opcode !== WsOp.Close && opcode !== WsOp.Ping && opcode !== WsOp.Pong) throw new WsViolation(WS_CLOSE.protocol, `unknown opcode ${opcode}`);
      if (!fin || length > 125) throw new WsViolation(WS_CLOSE.protocol, 'a control frame must be whole and at most 125 bytes');
    } else if (opcode === WsOp.Continuation) {
      if (this.#messageOpcode === 0) throw new WsViolation(WS_CLOSE.protocol, 'a continuation frame with no message to continue');
    } else if (opcode === WsOp.Text || opcode === WsOp.Binary) {
      if (this.#messageOpcode !== 0) throw new WsViolation(WS_CLOSE.protocol, 'a new message before the last one ended');
    } else {
      throw new WsViolation(WS_CLOSE.protocol, `unknown opcode ${opcode}`);
    }
    if (!control && this.#fragments.length >= WS_MAX_FRAGMENTS) {
      throw new WsViolation(WS_CLOSE.tooBig, `message in over ${WS_MAX_FRAGMENTS} fragments`, ErrorCode.TooLarge);
    }
    if (!control && this.#fragmentBytes + length > this.#o.maxPayload) {
      throw new WsViolation(WS_CLOSE.tooBig, `message over ${this.#o.maxPayload} bytes`, ErrorCode.TooLarge);
    }
    this.#fin = fin;
    this.#opcode = opcode;
    this.#payloadLength = length;
    this.#payloadHave = 0;
    if (!control && opcode !== WsOp.Continuation) this.#messageOpcode = opcode;
    if (length === 0) this.#frameDone(new Uint8Array(0));
    else this.#inPayload = true;
    return at;
  }

  #fillPayload(bytes: Uint8Array, at: number): number {
    // A one-frame binary message goes into an `alloc` buffer (its first byte, unmasked, tells the
    // packet type), anything else into a buffer of its own (not zeroed).
    this.#payload ??= this.#fin && this.#opcode === WsOp.Binary && this.#o.alloc
      ? this.#o.alloc(this.#payloadLength, bytes[at]! ^ (this.#masked ? this.#mask[0]! : 0))
      : Buffer.allocUnsafeSlow(this.#payloadLength);
    const payload = this.#payload;
    const n = Math.min(bytes.byteLength - at, this.#payloadLength - this.#payloadHave);
    fillCopy(payload, bytes.subarray(at, at + n), this.#payloadHave);
    if (this.#masked) unmask(payload.subarray(this.#payloadHave, this.#payloadHave + n), this.#mask, this.#payloadHave);
    this.#payloadHave += n;
    if (this.#payloadHave === this.#payloadLength) {
      this.#payload = undefined;
      this.#inPayload = false;
      this.#frameDone(payload);
    }
    return at + n;
  }

  #frameDone(payload: Uint8Array): void {
    switch (this.#opcode) {
      case WsOp.Ping:
        return this.#h.ping(payload);
      case WsOp.Pong:
        return;
      case WsOp.Close: {
        if (payload.byteLength === 1) throw new WsViolation(WS_CLOSE.protocol, 'a close frame with a one-byte body');
        const reason = payload.subarray(2);
        if (!isUtf8(reason)) throw new WsViolation(WS_CLOSE.badData, 'a close reason that is not UTF-8');
        this.#failed = true; // nothing is read after a close
        const status = payload.byteLength >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
        return this.#h.close(status, Buffer.from(reason).toString('utf8'));
      }
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
      message = this.#messageOpcode === WsOp.Binary && first && this.#o.alloc ? this.#o.alloc(total, first[0]!) : Buffer.allocUnsafeSlow(total);
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
    if (opcode === WsOp.Text) {
      if (!isUtf8(message)) throw new WsViolation(WS_CLOSE.badData, 'a text message that is not UTF-8');
      this.#h.text(Buffer.from(message.buffer, message.byteOffset, message.byteLength).toString('utf8'));
    } else {
      this.#h.binary(message);
    }
  }
}
