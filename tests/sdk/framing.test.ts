/**
 * Unit tests of the TCP framing: [u32 length][u8 opcode][payload], parsed by a streaming FrameParser.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, ProtocolError } from '../../sdk/errors.js';
import {
  FRAME_HEADER_BYTES, FrameParser, Opcode, binaryFrameHeader, encodeMediaPacket, encodeTextFrame,
} from '../../sdk/protocol/index.js';

function throwsProtocol(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    return true;
  });
}

type Frame = [opcode: number, payload: string];

/** A parser that records each frame as [opcode, hex of the payload] (copied: payloads may be views). */
function recorder(maxPayload = 1 << 20): { parser: FrameParser; frames: Frame[] } {
  const frames: Frame[] = [];
  const parser = new FrameParser(maxPayload, (opcode, payload) => frames.push([opcode, Buffer.from(payload).toString('hex')]));
  return { parser, frames };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

const media = encodeMediaPacket({ kind: 'camera', codec: 'jpeg', track: 'a1a2a3a4a5a6a7a8', sequence: 9, timestamp: 1, keyFrame: true },
  Uint8Array.from({ length: 300 }, (_, i) => i & 0xff));
const texts = ['{"type":"ping","t":1}', 'héllo € 👋', ''];

/** A stream of several frames, and the frames it carries. */
const STREAM = concat(
  encodeTextFrame(texts[0]!),
  binaryFrameHeader(media.byteLength), media,
  encodeTextFrame(texts[2]!), // zero-length text frame
  binaryFrameHeader(0), // zero-length binary frame
  encodeTextFrame(texts[1]!),
);
const EXPECTED: Frame[] = [
  [Opcode.Text, hex(new TextEncoder().encode(texts[0]!))],
  [Opcode.Binary, hex(media)],
  [Opcode.Text, ''],
  [Opcode.Binary, ''],
  [Opcode.Text, hex(new TextEncoder().encode(texts[1]!))],
];

describe('TCP framing', () => {
  test('encodeTextFrame writes [u32 BE length][0x01][UTF-8 JSON]', () => {
    assert.deepEqual(encodeTextFrame('{"type":"leave"}'), concat(
      Uint8Array.of(0x00, 0x00, 0x00, 0x10), // length 16
      Uint8Array.of(0x01), //                   opcode 1 = text
      new TextEncoder().encode('{"type":"leave"}'),
    ));
    assert.deepEqual(encodeTextFrame('€'), Uint8Array.of(0, 0, 0, 3, 0x01, 0xe2, 0x82, 0xac)); // length in bytes, not characters
  });

  test('binaryFrameHeader writes [u32 BE length][0x02]', () => {
    assert.equal(FRAME_HEADER_BYTES, 5);
    assert.deepEqual(binaryFrameHeader(0x01020304), Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x02));
  });

  test('FrameParser delivers frames coalesced in one chunk', () => {
    const { parser, frames } = recorder();
    parser.push(STREAM);
    assert.deepEqual(frames, EXPECTED);
    assert.equal(parser.buffered, 0);
  });

  test('FrameParser delivers the same frames when the stream is split at every byte boundary', () => {
    for (let at = 0; at <= STREAM.byteLength; at++) {
      const { parser, frames } = recorder();
      parser.push(STREAM.subarray(0, at));
      parser.push(STREAM.subarray(at));
      assert.deepEqual(frames, EXPECTED, `split at byte ${at}`);
    }
  });

  test('FrameParser delivers the same frames when the stream comes one byte at a time', () => {
    const { parser, frames } = recorder();
    for (let i = 0; i < STREAM.byteLength; i++) parser.push(STREAM.subarray(i, i + 1));
    assert.deepEqual(frames, EXPECTED);
  });

  test('FrameParser delivers the same frames from chunks of every size 1–64, empty chunks included', () => {
    for (let size = 1; size <= 64; size++) {
      const { parser, frames } = recorder();
      for (let i = 0; i < STREAM.byteLength; i += size) {
        parser.push(new Uint8Array(0));
        parser.push(STREAM.subarray(i, i + size));
      }
      assert.deepEqual(frames, EXPECTED, `chunks of ${size}`);
    }
  });

  test('a transient FrameParser copies every payload and every leftover out of a buffer the caller reuses', () => {
    for (const size of [1, 3, 7, 64, 200, STREAM.byteLength]) {
      const frames: { opcode: number; payload: Uint8Array; owned: boolean }[] = [];
      const parser = new FrameParser(1 << 20, (opcode, payload, owned) => frames.push({ opcode, payload, owned }),
        { alloc: (n) => new Uint8Array(n), transient: true });
      const reused = new Uint8Array(size);
      for (let at = 0; at < STREAM.byteLength; at += size) {
        const piece = STREAM.subarray(at, at + size);
        reused.set(piece);
        parser.push(reused.subarray(0, piece.byteLength));
        reused.fill(0xee); // the caller's next read overwrites the buffer
      }
      assert.deepEqual(frames.map((f) => [f.opcode, hex(f.payload)]), EXPECTED, `reads of ${size} bytes`);
      for (const f of frames) assert.notEqual(f.payload.buffer, reused.buffer, 'no payload is a view of the reused buffer');
      assert.ok(frames.filter((f) => f.payload.byteLength > 0).every((f) => f.owned), 'every payload owns its buffer');
    }
  });

  test('a transient FrameParser copies each byte of a big frame once, however many reads it spans', () => {
    const size = 1 << 20;
    const frame = concat(binaryFrameHeader(size), new Uint8Array(size).fill(7));
    let copied = 0;
    const frames: number[] = [];
    const parser = new FrameParser(2 << 20, (_opcode, payload) => frames.push(payload.byteLength), {
      transient: true,
      copy: (target, source, at) => {
        copied += source.byteLength;
        target.set(source, at);
      },
    });
    const reused = new Uint8Array(16 * 1024);
    for (let at = 0; at < frame.byteLength; at += reused.byteLength) {
      const piece = frame.subarray(at, at + reused.byteLength);
      reused.set(piece);
      parser.push(reused.subarray(0, piece.byteLength));
    }
    assert.deepEqual(frames, [size]);
    // Straight into the frame's own buffer as each read arrives: not once more as a leftover of its read.
    assert.ok(copied <= frame.byteLength, `copied ${copied} bytes for a ${frame.byteLength}-byte frame`);
  });

  test('a transient FrameParser gives a half-filled payload buffer back on discard, and takes no more bytes', () => {
    const made: Uint8Array[] = [];
    const released: Uint8Array[] = [];
    const frames: number[] = [];
    const parser = new FrameParser(1 << 20, (_opcode, payload) => frames.push(payload.byteLength), {
      transient: true,
      alloc: (n) => {
        const b = new Uint8Array(n);
        made.push(b);
        return b;
      },
      release: (b) => released.push(b),
    });
    const frame = concat(binaryFrameHeader(1000), new Uint8Array(1000).fill(3));
    parser.push(frame.subarray(0, 600));
    assert.equal(parser.buffered, 600 - 5);
    parser.discard();
    assert.deepEqual(frames, []);
    assert.equal(released.length, 1);
    assert.equal(released[0], made.at(-1), 'the payload buffer it made, given back');
    assert.equal(released[0]!.byteLength, 1000);
    throwsProtocol(() => parser.push(frame.subarray(600)), ErrorCode.InvalidMessage);
    parser.discard(); // twice is harmless
    assert.equal(released.length, 1);
  });

  test('FrameParser counts bytes held back until a frame is whole', () => {
    const { parser, frames } = recorder();
    const frame = encodeTextFrame('{"type":"leave"}');
    parser.push(frame.subarray(0, 3));
    assert.equal(parser.buffered, 3);
    parser.push(frame.subarray(3, 10));
    assert.equal(parser.buffered, 5); // header consumed, 5 payload bytes held
    assert.equal(frames.length, 0);
    parser.push(frame.subarray(10));
    assert.equal(parser.buffered, 0);
    assert.equal(frames.length, 1);
  });

  test('FrameParser accepts a frame of exactly maxPayload bytes', () => {
    const { parser, frames } = recorder(16);
    parser.push(encodeTextFrame('{"type":"leave"}'));
    assert.equal(frames.length, 1);
  });

  test('FrameParser rejects a length over maxPayload with LAN_ERR_TOO_LARGE as soon as the header is in', () => {
    const { parser, frames } = recorder(15);
    throwsProtocol(() => parser.push(encodeTextFrame('{"type":"leave"}').subarray(0, 5)), ErrorCode.TooLarge);
    assert.equal(frames.length, 0);
    throwsProtocol(() => recorder(1 << 20).parser.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x02)), ErrorCode.TooLarge);
  });

  test('FrameParser rejects an opcode other than 1 or 2 with LAN_ERR_BAD_PACKET_TYPE', () => {
    for (const opcode of [0, 3, 0x7f, 0xff]) {
      throwsProtocol(() => recorder().parser.push(Uint8Array.of(0, 0, 0, 0, opcode)), ErrorCode.BadPacketType);
    }
  });

  test('FrameParser rejects an HTTP request line with an error instead of waiting for 1 GB', () => {
    const http = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: relay\r\n\r\n');
    throwsProtocol(() => recorder(64 * 1024 * 1024).parser.push(http), ErrorCode.BadPacketType);
    // Also when the bytes trickle in: the error comes with the fifth byte.
    const { parser } = recorder(64 * 1024 * 1024);
    for (let i = 0; i < 4; i++) parser.push(http.subarray(i, i + 1));
    throwsProtocol(() => parser.push(http.subarray(4, 5)), ErrorCode.BadPacketType);
  });

  test('FrameParser refuses more bytes after it failed', () => {
    const { parser } = recorder();
    throwsProtocol(() => parser.push(Uint8Array.of(0, 0, 0, 0, 9)), ErrorCode.BadPacketType);
    throwsProtocol(() => parser.push(encodeTextFrame('{}')), ErrorCode.InvalidMessage);
  });

  test('FrameParser delivers the frames before a bad header, then fails', () => {
    const { parser, frames } = recorder();
    throwsProtocol(() => parser.push(concat(encodeTextFrame('a'), Uint8Array.of(0, 0, 0, 1, 0x07, 0x00))), ErrorCode.BadPacketType);
    assert.deepEqual(frames, [[Opcode.Text, '61']]);
  });

  test('random bytes given to FrameParser only ever raise a ProtocolError', () => {
    let seed = 12345;
    const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
    for (let i = 0; i < 2000; i++) {
      const { parser } = recorder(1024);
      const bytes = new Uint8Array(Math.floor(random() * 64)).map(() => Math.floor(random() * 256));
      if (i % 2 === 0 && bytes.byteLength >= 5) bytes.set([0, 0, 0, Math.floor(random() * 8)], 0);
      try {
        parser.push(bytes);
      } catch (error) {
        assert.ok(error instanceof ProtocolError, `bytes ${hex(bytes)} raised ${String(error)}`);
      }
    }
  });
});
