/**
 * Unit tests of the wire protocol: control messages, the media header, file chunks, UDP binding, ids.
 * Byte fixtures are commented field by field; every error is asserted by its exact code.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, ProtocolError } from '../../sdk/errors.js';
import {
  CLIENT_MESSAGE_TYPES, CODECS, DEFAULT_LIMITS, MEDIA_HEADER_BYTES, MediaOffset, RELAY_MESSAGE_TYPES, TRACK_KINDS,
  UDP_BIND_ACK, UDP_BIND_BYTES, ZERO_ID, audioLevelFromRms, base64UrlToBytes, bytesToBase64Url, decodeClientMessage,
  decodeMediaPacket, decodeRelayMessage, decodeUdpBind, encodeControl, encodeMediaPacket, encodeUdpBind, fragmentPacket,
  idBytesEqual, idFromBytes, idToBytes, isId, randomId, randomToken, writeId,
  FILE_CHUNK_HEADER_BYTES, MAX_FILE_CHUNK_BYTES, decodeFileChunk, encodeFileChunk, encodeFileChunkHeader,
  type ClientMessage, type ClientMessageOf, type MediaHeaderInit, type RelayMessage, type RelayMessageOf,
} from '../../sdk/protocol/index.js';

// ---- helpers ------------------------------------------------------------------------------------

/** Asserts that `fn` throws a {@link ProtocolError} with `code`. */
function throwsProtocol(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    return true;
  });
}

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const utf8 = new TextEncoder();

const ALICE = '0123456789abcdef';
const BOB = 'fedcba9876543210';
const TRACK_A = 'a1a2a3a4a5a6a7a8';
const TRACK_B = 'b1b2b3b4b5b6b7b8';
const CHAT_ID = 'c0c1c2c3c4c5c6c7';

// ---- control: fixtures for every message type ---------------------------------------------------

const aliceInfo = {
  id: ALICE, name: 'Ana María', role: 'host' as const, joinedAt: 1_700_000_000_000, decode: ['vp8' as const, 'jpeg' as const, 'opus' as const],
  tracks: [
    { id: TRACK_A, participantId: ALICE, kind: 'camera' as const, codec: 'vp8' as const, muted: false },
    { id: TRACK_B, participantId: ALICE, kind: 'microphone' as const, codec: 'opus' as const, muted: true },
  ],
};
const bobInfo = { id: BOB, name: 'Bob', role: 'guest' as const, joinedAt: 0, decode: [], tracks: [] };
const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const fileInfo = { id: TRACK_B, name: 'C:\\x', size: 0, sha256: SHA, from: ALICE, fromName: 'Ana', ts: 1_700_000_000_000, url: `/files/${TRACK_B}?t=abc` };
const chatInfo = { id: CHAT_ID, from: ALICE, name: 'Ana María', text: 'hello 👋\nsecond line', ts: 1_700_000_000_500, seq: 3 };

/** Every client message type, each with at least one fixture (the type forces a key per type). */
const CLIENT_FIXTURES: { [K in ClientMessage['type']]: Array<ClientMessageOf<K>> } = {
  join: [
    { type: 'join', v: 1, meeting: 'Room 1', name: 'Ana', transport: 'websocket', decode: ['vp8', 'jpeg', 'opus', 'pcm16'] },
    {
      type: 'join', v: 1, meeting: 'équipe_2.b-c', name: 'Zoë 🎧', passcode: 's3cret', transport: 'native',
      decode: [...CODECS], udp: { payloadSize: 1200 }, resume: 'resume-token',
    },
  ],
  leave: [{ type: 'leave' }],
  ping: [{ type: 'ping', t: 1234.5 }],
  publish: [
    { type: 'publish', requestId: 'req-1', kind: 'camera', codec: 'vp8' },
    { type: 'publish', requestId: 'r', kind: 'microphone', codec: 'opus', muted: true },
  ],
  unpublish: [{ type: 'unpublish', trackId: TRACK_A }],
  mute: [{ type: 'mute', trackId: TRACK_B, muted: true }],
  chat: [{ type: 'chat', text: 'hi there ✓', seq: 0 }, { type: 'chat', text: 'x', seq: Number.MAX_SAFE_INTEGER }],
  keyFrameRequest: [{ type: 'keyFrameRequest', trackId: TRACK_A }],
  subscription: [{ type: 'subscription', trackId: TRACK_A, paused: true }, { type: 'subscription', trackId: TRACK_B, paused: false }],
  fileUpload: [
    { type: 'fileUpload', requestId: 'f1', name: 'report ✓.pdf', size: 0 },
    { type: 'fileUpload', requestId: 'f2', name: '../../x', size: 2 ** 40, uploadId: TRACK_A },
  ],
  fileUploadEnd: [{ type: 'fileUploadEnd', uploadId: TRACK_A, sha256: SHA }],
  fileDownload: [{ type: 'fileDownload', requestId: 'd1', fileId: TRACK_B, offset: 2 ** 33 + 5 }],
  fileAck: [{ type: 'fileAck', transferId: TRACK_A, offset: 1024 }],
  fileCancel: [{ type: 'fileCancel', transferId: TRACK_B }],
  fileList: [{ type: 'fileList', requestId: 'l1' }, { type: 'fileList', requestId: 'l2', before: TRACK_B }],
  host: [
    { type: 'host', requestId: 'h1', action: 'lock' },
    { type: 'host', requestId: 'h2', action: 'remove', participantId: TRACK_A, block: true },
    { type: 'host', requestId: 'h3', action: 'mute', participantId: TRACK_B, kind: 'screen' },
    { type: 'host', requestId: 'h4', action: 'lowerHand', participantId: TRACK_B },
  ],
  hand: [{ type: 'hand', raised: true }, { type: 'hand', raised: false }],
  react: [{ type: 'react', emoji: '👍' }, { type: 'react', emoji: '❤️' }],
};

/** Every relay message type, each with at least one fixture. */
const RELAY_FIXTURES: { [K in RelayMessage['type']]: Array<RelayMessageOf<K>> } = {
  welcome: [
    {
      type: 'welcome', v: 1, meeting: 'Room 1', you: bobInfo, participants: [aliceInfo], chat: [chatInfo],
      resumeToken: 'abc', udp: { port: 8789, token: 'AAAAAAAAAAAAAAAAAAAAAA', payloadSize: 60000 },
      limits: { ...DEFAULT_LIMITS }, serverTime: 1_700_000_000_999,
    },
    {
      type: 'welcome', v: 1, meeting: 'x', you: aliceInfo, participants: [], chat: [], resumeToken: '',
      limits: { ...DEFAULT_LIMITS }, serverTime: 0,
    },
    {
      type: 'welcome', v: 1, meeting: 'x', you: aliceInfo, participants: [], chat: [], resumeToken: 'r', resumed: true,
      files: [fileInfo], limits: { ...DEFAULT_LIMITS }, serverTime: 0,
    },
  ],
  participantJoined: [{ type: 'participantJoined', participant: aliceInfo }],
  participantLeft: [{ type: 'participantLeft', participantId: BOB, reason: 'left' }],
  published: [{ type: 'published', requestId: 'req-1', track: { id: TRACK_A, participantId: ALICE, kind: 'screen', codec: 'jpeg', muted: false } }],
  trackPublished: [{ type: 'trackPublished', track: { id: TRACK_B, participantId: ALICE, kind: 'microphone', codec: 'pcm16', muted: true } }],
  trackUnpublished: [{ type: 'trackUnpublished', trackId: TRACK_A, participantId: ALICE }],
  trackMuted: [{ type: 'trackMuted', trackId: TRACK_B, participantId: ALICE, muted: false }],
  chat: [{ type: 'chat', message: chatInfo }],
  chatAck: [{ type: 'chatAck', seq: 3, id: CHAT_ID }],
  keyFrameRequest: [{ type: 'keyFrameRequest', trackId: TRACK_A }],
  pong: [{ type: 'pong', t: 1234.5, serverTime: 1_700_000_000_000 }],
  error: [
    { type: 'error', code: 'LAN_ERR_ROOM_FULL', message: 'meeting "Room 1" is full (100 participants)', fatal: true },
    { type: 'error', code: 'LAN_ERR_TRACK_LIMIT', message: 'at most 8 tracks per participant', requestId: 'req-1' },
  ],
  fileUploadReady: [{ type: 'fileUploadReady', requestId: 'f1', uploadId: TRACK_A, offset: 0 }],
  fileUploaded: [{ type: 'fileUploaded', uploadId: TRACK_A, file: fileInfo }],
  fileListPage: [{ type: 'fileListPage', requestId: 'l1', files: [fileInfo], more: true }, { type: 'fileListPage', requestId: 'l2', files: [] }],
  fileOffered: [{ type: 'fileOffered', file: fileInfo }],
  fileDownloadReady: [{ type: 'fileDownloadReady', requestId: 'd1', transferId: TRACK_A, file: fileInfo, offset: 7 }],
  fileAck: [{ type: 'fileAck', transferId: TRACK_A, offset: 2 ** 52 }],
  hostDone: [{ type: 'hostDone', requestId: 'h1' }],
  hostAction: [
    { type: 'hostAction', action: 'end', by: TRACK_A },
    { type: 'hostAction', action: 'mute', by: TRACK_A, participantId: TRACK_B, kind: 'microphone' },
  ],
  roleChanged: [{ type: 'roleChanged', participantId: TRACK_B, role: 'host', by: TRACK_A }, { type: 'roleChanged', participantId: TRACK_A, role: 'guest' }],
  hand: [{ type: 'hand', participantId: TRACK_A, raised: true }, { type: 'hand', participantId: TRACK_A, raised: false, by: TRACK_B }],
  reaction: [{ type: 'reaction', participantId: TRACK_A, emoji: '🎉' }],
  unmuteRequested: [{ type: 'unmuteRequested', kind: 'microphone', by: TRACK_A }],
};

function fixturesFor<M>(fixtures: Record<string, M[]>, type: string): M[] {
  return Object.hasOwn(fixtures, type) ? fixtures[type] ?? [] : [];
}

describe('control messages', () => {
  test('every client message type round-trips through encodeControl and decodeClientMessage (text and bytes)', () => {
    assert.ok(CLIENT_MESSAGE_TYPES.length > 0);
    for (const type of CLIENT_MESSAGE_TYPES) {
      const fixtures = fixturesFor<ClientMessage>(CLIENT_FIXTURES, type);
      assert.ok(fixtures.length > 0, `client message type "${type}" has no round-trip fixture`);
      for (const message of fixtures) {
        assert.equal(message.type, type);
        const text = encodeControl(message);
        assert.deepEqual(decodeClientMessage(text), message, text);
        assert.deepEqual(decodeClientMessage(utf8.encode(text)), message, text);
      }
    }
    assert.deepEqual(Object.keys(CLIENT_FIXTURES).sort(), [...CLIENT_MESSAGE_TYPES].sort(), 'a fixture names a type that does not exist');
  });

  test('every relay message type round-trips through encodeControl and decodeRelayMessage (text and bytes)', () => {
    assert.ok(RELAY_MESSAGE_TYPES.length > 0);
    for (const type of RELAY_MESSAGE_TYPES) {
      const fixtures = fixturesFor<RelayMessage>(RELAY_FIXTURES, type);
      assert.ok(fixtures.length > 0, `relay message type "${type}" has no round-trip fixture`);
      for (const message of fixtures) {
        assert.equal(message.type, type);
        const text = encodeControl(message);
        assert.deepEqual(decodeRelayMessage(text), message, text);
        assert.deepEqual(decodeRelayMessage(utf8.encode(text)), message, text);
      }
    }
    assert.deepEqual(Object.keys(RELAY_FIXTURES).sort(), [...RELAY_MESSAGE_TYPES].sort(), 'a fixture names a type that does not exist');
  });

  test('decoding drops unknown fields and returns a new plain object', () => {
    const decoded = decodeClientMessage('{"type":"leave","extra":1,"nested":{"a":2}}');
    assert.deepEqual(decoded, { type: 'leave' });
    assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
  });

  test('decoding trims surrounding white space from names', () => {
    const decoded = decodeClientMessage('{"type":"join","v":1,"meeting":"m","name":"  Ana\\t","transport":"websocket","decode":[]}');
    assert.equal(decoded.type === 'join' && decoded.name, 'Ana');
  });

  test('decodeClientMessage rejects a message over maxBytes with LAN_ERR_TOO_LARGE', () => {
    const big = JSON.stringify({ type: 'chat', text: 'a'.repeat(DEFAULT_LIMITS.maxControlBytes), seq: 0 });
    throwsProtocol(() => decodeClientMessage(big), ErrorCode.TooLarge);
    throwsProtocol(() => decodeClientMessage(utf8.encode(big)), ErrorCode.TooLarge);
    throwsProtocol(() => decodeClientMessage('{"type":"leave"}', 15), ErrorCode.TooLarge);
    assert.deepEqual(decodeClientMessage('{"type":"leave"}', 16), { type: 'leave' });
    throwsProtocol(() => decodeRelayMessage('{"type":"pong","t":1,"serverTime":1}', 10), ErrorCode.TooLarge);
  });

  test('decodeClientMessage counts the size limit in UTF-8 bytes for a multi-byte text message over the limit', () => {
    // 30 000 × "€" is 90 000 UTF-8 bytes but 30 000 UTF-16 units.
    const text = JSON.stringify({ type: 'chat', text: '€'.repeat(30_000), seq: 0 });
    throwsProtocol(() => decodeClientMessage(utf8.encode(text)), ErrorCode.TooLarge);
  });

  test('decodeClientMessage counts a string in UTF-8 bytes, not UTF-16 units, against maxBytes', () => {
    // Fewer UTF-16 units (30 033) than the limit, more UTF-8 bytes (90 033).
    const text = JSON.stringify({ type: 'chat', text: '€'.repeat(30_000), seq: 0 });
    throwsProtocol(() => decodeClientMessage(text), ErrorCode.TooLarge);
    // Exactly at the limit passes; one byte under it does not.
    const small = JSON.stringify({ type: 'chat', text: '€'.repeat(10), seq: 0 });
    const bytes = utf8.encode(small).byteLength;
    assert.equal(bytes, small.length + 20);
    assert.deepEqual(decodeClientMessage(small, bytes), { type: 'chat', text: '€'.repeat(10), seq: 0 });
    throwsProtocol(() => decodeClientMessage(small, bytes - 1), ErrorCode.TooLarge);
  });

  test('decodeClientMessage rejects text that is not JSON with LAN_ERR_BAD_JSON', () => {
    for (const text of ['', '{', 'hello', '{"type":"leave",}', "{'type':'leave'}", '{"type":"leave"} x']) {
      throwsProtocol(() => decodeClientMessage(text), ErrorCode.BadJson);
    }
  });

  test('decodeClientMessage rejects bytes that are not UTF-8 with LAN_ERR_BAD_JSON', () => {
    const cases = [
      Uint8Array.of(0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d), // {"\xff":1}
      Uint8Array.of(...utf8.encode('{"type":"chat","text":"'), 0xc0, 0x80, ...utf8.encode('","seq":0}')), // overlong NUL
      Uint8Array.of(...utf8.encode('{"type":"chat","text":"'), 0xed, 0xa0, 0x80, ...utf8.encode('","seq":0}')), // lone surrogate
      Uint8Array.of(...utf8.encode('{"type":"chat","text":"'), 0xe2, 0x82, ...utf8.encode('","seq":0}')), // truncated sequence
    ];
    for (const bytes of cases) throwsProtocol(() => decodeClientMessage(bytes), ErrorCode.BadJson);
    throwsProtocol(() => decodeRelayMessage(cases[0]!), ErrorCode.BadJson);
  });

  test('decodeClientMessage rejects JSON that is not an object with LAN_ERR_INVALID_MESSAGE', () => {
    for (const text of ['[]', '[{"type":"leave"}]', '42', '"leave"', 'true', 'null']) {
      throwsProtocol(() => decodeClientMessage(text), ErrorCode.InvalidMessage);
    }
  });

  test('decodeClientMessage rejects an unknown or missing type with LAN_ERR_UNKNOWN_TYPE', () => {
    const types = ['nope', '', 'Leave', 'welcome', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    for (const type of types) throwsProtocol(() => decodeClientMessage(JSON.stringify({ type })), ErrorCode.UnknownType);
    for (const text of ['{}', '{"type":42}', '{"type":null}', '{"type":["leave"]}', '{"type":{"toString":"leave"}}']) {
      throwsProtocol(() => decodeClientMessage(text), ErrorCode.UnknownType);
    }
  });

  test('decodeRelayMessage rejects a client-only type with LAN_ERR_UNKNOWN_TYPE', () => {
    for (const type of ['join', 'publish', '__proto__', 'constructor', 'toString']) {
      throwsProtocol(() => decodeRelayMessage(JSON.stringify({ type })), ErrorCode.UnknownType);
    }
  });

  test('decodeClientMessage rejects a wrong field type, a missing field or a value out of range with LAN_ERR_INVALID_MESSAGE', () => {
    const join = { type: 'join', v: 1, meeting: 'Room 1', name: 'Ana', transport: 'websocket', decode: ['vp8'] };
    const invalid: Array<[string, unknown]> = [
      // wrong field types
      ['chat seq as a string', { type: 'chat', text: 'hi', seq: '1' }],
      ['chat text as a number', { type: 'chat', text: 5, seq: 1 }],
      ['ping t as a string', { type: 'ping', t: '1' }],
      ['mute muted as a number', { type: 'mute', trackId: TRACK_A, muted: 1 }],
      ['subscription paused as a string', { type: 'subscription', trackId: TRACK_A, paused: 'true' }],
      ['subscription without paused', { type: 'subscription', trackId: TRACK_A }],
      ['join v as a string', { ...join, v: '1' }],
      ['join decode as a string', { ...join, decode: 'vp8' }],
      ['join udp as a number', { ...join, udp: 1200 }],
      // missing fields
      ['chat without text', { type: 'chat', seq: 1 }],
      ['chat without seq', { type: 'chat', text: 'hi' }],
      ['ping without t', { type: 'ping' }],
      ['join without v', { type: 'join', meeting: 'Room 1', name: 'Ana', transport: 'websocket', decode: [] }],
      ['join without name', { ...join, name: undefined }],
      ['publish without requestId', { type: 'publish', kind: 'camera', codec: 'vp8' }],
      ['unpublish without trackId', { type: 'unpublish' }],
      // out of range / not in the set
      ['chat seq negative', { type: 'chat', text: 'hi', seq: -1 }],
      ['chat seq fractional', { type: 'chat', text: 'hi', seq: 1.5 }],
      ['chat seq over 2^53', { type: 'chat', text: 'hi', seq: 2 ** 53 }],
      ['chat text empty', { type: 'chat', text: '', seq: 0 }],
      ['chat text over 100 000 characters', { type: 'chat', text: 'a'.repeat(100_001), seq: 0 }],
      ['join udp payloadSize 511', { ...join, udp: { payloadSize: 511 } }],
      ['join udp payloadSize 65468', { ...join, udp: { payloadSize: 65468 } }],
      ['join transport unknown', { ...join, transport: 'carrier-pigeon' }],
      ['join decode unknown codec', { ...join, decode: ['mp3'] }],
      ['join decode 17 codecs', { ...join, decode: Array.from({ length: 17 }, () => 'vp8') }],
      ['join passcode 257 characters', { ...join, passcode: 'p'.repeat(257) }],
      ['join name empty', { ...join, name: '' }],
      ['join name only spaces', { ...join, name: '   ' }],
      ['join name 65 characters', { ...join, name: 'n'.repeat(65) }],
      ['publish kind unknown', { type: 'publish', requestId: 'r', kind: 'video', codec: 'vp8' }],
      ['publish codec unknown', { type: 'publish', requestId: 'r', kind: 'camera', codec: 'VP8' }],
      ['publish requestId empty', { type: 'publish', requestId: '', kind: 'camera', codec: 'vp8' }],
      ['publish requestId 65 characters', { type: 'publish', requestId: 'r'.repeat(65), kind: 'camera', codec: 'vp8' }],
      ['unpublish trackId upper case', { type: 'unpublish', trackId: TRACK_A.toUpperCase() }],
      ['unpublish trackId 15 characters', { type: 'unpublish', trackId: TRACK_A.slice(1) }],
      ['ping t not finite', { type: 'ping', t: 1e400 }],
      // control characters in a name
      ['name with NUL', { ...join, name: 'A\u0000na' }],
      ['name with BEL', { ...join, name: 'An\u0007a' }],
      ['name with an inner newline', { ...join, name: 'An\na' }],
      ['name with DEL', { ...join, name: 'Ana\u007f' }],
      ['name with a C1 control', { ...join, name: 'A\u009bna' }],
      ['name with LINE SEPARATOR', { ...join, name: 'A\u2028na' }],
      // bad meeting ids
      ['meeting empty', { ...join, meeting: '' }],
      ['meeting 65 characters', { ...join, meeting: 'm'.repeat(65) }],
      ['meeting with a slash', { ...join, meeting: 'a/b' }],
      ['meeting with angle brackets', { ...join, meeting: 'Room<1>' }],
      ['meeting with a newline', { ...join, meeting: 'Room\n1' }],
      ['meeting with an emoji', { ...join, meeting: 'Room 🎉' }],
      ['meeting as a number', { ...join, meeting: 1 }],
    ];
    for (const [what, message] of invalid) {
      // A generous size limit, so the schema (not the size check) is what answers.
      assert.throws(() => decodeClientMessage(JSON.stringify(message), 1 << 20), (error: unknown) => {
        assert.ok(error instanceof ProtocolError, `${what}: expected a ProtocolError, got ${String(error)}`);
        assert.equal(error.code, ErrorCode.InvalidMessage, `${what}: got ${error.code}: ${error.message}`);
        return true;
      }, what);
    }
  });

  test('decodeRelayMessage rejects a malformed relay message with LAN_ERR_INVALID_MESSAGE', () => {
    const track = { id: TRACK_A, participantId: ALICE, kind: 'camera', codec: 'vp8', muted: false };
    const invalid: Array<[string, unknown]> = [
      ['published with a track without muted', { type: 'published', requestId: 'r', track: { ...track, muted: undefined } }],
      ['trackPublished with a bad participant id', { type: 'trackPublished', track: { ...track, participantId: 'alice' } }],
      ['participantJoined with an unknown role', { type: 'participantJoined', participant: { ...bobInfo, role: 'admin' } }],
      ['chatAck without id', { type: 'chatAck', seq: 1 }],
      ['pong with a negative serverTime', { type: 'pong', t: 1, serverTime: -1 }],
      ['error without message', { type: 'error', code: 'LAN_ERR_INTERNAL' }],
      ['error with a 1001-character message', { type: 'error', code: 'LAN_ERR_INTERNAL', message: 'm'.repeat(1001) }],
      ['welcome with udp port 0', { ...RELAY_FIXTURES.welcome[0], udp: { port: 0, token: 't', payloadSize: 1200 } }],
    ];
    for (const [what, message] of invalid) {
      assert.throws(() => decodeRelayMessage(JSON.stringify(message)), (error: unknown) => {
        assert.ok(error instanceof ProtocolError, `${what}: expected a ProtocolError, got ${String(error)}`);
        assert.equal(error.code, ErrorCode.InvalidMessage, `${what}: got ${error.code}: ${error.message}`);
        return true;
      }, what);
    }
  });

  test('decodeClientMessage rejects join with v:2 with LAN_ERR_BAD_VERSION', () => {
    const join = { type: 'join', meeting: 'Room 1', name: 'Ana', transport: 'websocket', decode: [] };
    throwsProtocol(() => decodeClientMessage(JSON.stringify({ ...join, v: 2 })), ErrorCode.BadVersion);
    throwsProtocol(() => decodeClientMessage(JSON.stringify({ ...join, v: 0 })), ErrorCode.BadVersion);
    // The version is checked before the rest of the schema: an old/new client learns it is the version.
    throwsProtocol(() => decodeClientMessage('{"type":"join","v":2}'), ErrorCode.BadVersion);
  });

  test('decodeRelayMessage rejects welcome with v:2 with LAN_ERR_BAD_VERSION', () => {
    throwsProtocol(() => decodeRelayMessage(JSON.stringify({ ...RELAY_FIXTURES.welcome[0], v: 2 })), ErrorCode.BadVersion);
  });

  test('a "__proto__" key in a control message does not pollute Object.prototype', () => {
    const texts = [
      '{"type":"chat","__proto__":{"polluted":1},"text":"hi","seq":0}',
      '{"type":"join","v":1,"meeting":"m","name":"n","transport":"native","decode":[],"udp":{"payloadSize":1200,"__proto__":{"polluted":1}}}',
      '{"type":"chat","constructor":{"prototype":{"polluted":1}},"text":"hi","seq":0}',
    ];
    for (const text of texts) {
      const decoded = decodeClientMessage(text) as unknown as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(decoded), Object.prototype);
      assert.equal(Object.hasOwn(decoded, '__proto__'), false);
      assert.equal(decoded.polluted, undefined);
    }
    assert.deepEqual(decodeClientMessage(texts[0]!), { type: 'chat', text: 'hi', seq: 0 });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    const welcome = JSON.stringify(RELAY_FIXTURES.welcome[1]).replace('"type"', '"__proto__":{"polluted":1},"type"');
    assert.deepEqual(decodeRelayMessage(welcome), RELAY_FIXTURES.welcome[1]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('random bytes given to decodeClientMessage only ever raise a ProtocolError', () => {
    const random = prng(7);
    const alphabet = utf8.encode('{}[]":,0123456789.-etruflasn \\ptype"join""chat"');
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 80);
      const bytes = new Uint8Array(length);
      for (let j = 0; j < length; j++) {
        bytes[j] = random() < 0.7 ? alphabet[Math.floor(random() * alphabet.length)]! : Math.floor(random() * 256);
      }
      try {
        decodeClientMessage(bytes);
      } catch (error) {
        assert.ok(error instanceof ProtocolError, `bytes ${Buffer.from(bytes).toString('hex')} raised ${String(error)}`);
      }
    }
  });
});

// ---- media header -------------------------------------------------------------------------------

/** A media packet byte by byte: fragment 2 of 3 of a VP8 screen key frame, with a 3-byte payload. */
const MEDIA_FIXTURE = Uint8Array.of(
  0x01, //                                           0  packet type: media
  0x01, //                                           1  version 1
  0x02, //                                           2  kind 2 = screen
  0x01, //                                           3  codec 1 = vp8
  0x05, //                                           4  flags: key frame (0x01) | discontinuity (0x04)
  0x7f, //                                           5  audio level 127 (video carries silence)
  0x00, 0x02, //                                     6  fragment index 2 (u16 BE)
  0x00, 0x03, //                                     8  fragment count 3 (u16 BE)
  0x00, 0x00, //                                    10  reserved
  0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // 12  sender 0123456789abcdef
  0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10, // 20  track fedcba9876543210
  0xde, 0xad, 0xbe, 0xef, //                        28  frame sequence 3735928559 (u32 BE)
  0x43, 0x18, 0x28, 0x90, 0x60, 0x80, 0x89, 0x00, // 32  capture time 1700000000123456 µs (float64 BE)
  0xaa, 0xbb, 0xcc, //                              40  payload
);

const MEDIA_FIXTURE_HEADER = {
  kind: 'screen', codec: 'vp8', keyFrame: true, voice: false, discontinuity: true, audioLevel: 127,
  fragmentIndex: 2, fragmentCount: 3, sender: '0123456789abcdef', track: 'fedcba9876543210',
  sequence: 3735928559, timestamp: 1700000000123456,
} as const;

/** A valid whole-frame packet to patch byte by byte. */
function validPacket(payloadBytes = 10): Uint8Array {
  return encodeMediaPacket(
    { kind: 'camera', codec: 'jpeg', track: TRACK_A, sequence: 7, timestamp: 1_700_000_000_000_000, keyFrame: true },
    new Uint8Array(payloadBytes).fill(0x5a),
  );
}

function patched(offset: number, ...values: number[]): Uint8Array {
  const bytes = validPacket();
  bytes.set(values, offset);
  return bytes;
}

describe('media packets', () => {
  test('decodeMediaPacket reads the commented byte fixture field by field', () => {
    const { payload, ...header } = decodeMediaPacket(MEDIA_FIXTURE);
    assert.deepEqual(header, MEDIA_FIXTURE_HEADER);
    assert.deepEqual([...payload], [0xaa, 0xbb, 0xcc]);
  });

  test('encodeMediaPacket writes exactly the bytes of the fixture', () => {
    const { payload: _payload, ...header } = decodeMediaPacket(MEDIA_FIXTURE);
    const encoded = encodeMediaPacket(header, Uint8Array.of(0xaa, 0xbb, 0xcc));
    assert.deepEqual(encoded, MEDIA_FIXTURE);
  });

  test('MediaOffset names the offsets of the header layout', () => {
    assert.equal(MEDIA_HEADER_BYTES, 40);
    assert.deepEqual(MediaOffset, {
      type: 0, version: 1, kind: 2, codec: 3, flags: 4, audioLevel: 5,
      fragmentIndex: 6, fragmentCount: 8, reserved: 10, sender: 12, track: 20, sequence: 28, timestamp: 32,
    });
  });

  test('decodeMediaPacket returns the payload as a view of the packet, without a copy', () => {
    const packet = decodeMediaPacket(MEDIA_FIXTURE);
    assert.equal(packet.payload.buffer, MEDIA_FIXTURE.buffer);
    assert.equal(packet.payload.byteOffset, MEDIA_FIXTURE.byteOffset + 40);
  });

  test('decodeMediaPacket reads a packet that sits at an offset inside a larger buffer', () => {
    const big = new Uint8Array(MEDIA_FIXTURE.byteLength + 7);
    big.set(MEDIA_FIXTURE, 7);
    const { payload, ...header } = decodeMediaPacket(big.subarray(7));
    assert.deepEqual(header, MEDIA_FIXTURE_HEADER);
    assert.deepEqual([...payload], [0xaa, 0xbb, 0xcc]);
  });

  test('every kind × codec × flag combination round-trips through encodeMediaPacket and decodeMediaPacket', () => {
    const random = prng(42);
    let n = 0;
    for (const kind of TRACK_KINDS) {
      for (const codec of CODECS) {
        for (let flags = 0; flags < 8; flags++) {
          const init: Required<MediaHeaderInit> = {
            kind, codec,
            keyFrame: (flags & 1) !== 0, voice: (flags & 2) !== 0, discontinuity: (flags & 4) !== 0,
            audioLevel: Math.floor(random() * 128),
            fragmentCount: 1 + Math.floor(random() * 0xffff),
            fragmentIndex: 0,
            sender: n % 2 ? ZERO_ID : randomId(),
            track: randomId(),
            sequence: Math.floor(random() * 2 ** 32),
            timestamp: Math.floor(random() * 2 ** 52),
          };
          init.fragmentIndex = Math.floor(random() * init.fragmentCount);
          const payload = new Uint8Array(Math.floor(random() * 64)).map(() => Math.floor(random() * 256));
          const { payload: decodedPayload, ...header } = decodeMediaPacket(encodeMediaPacket(init, payload));
          assert.deepEqual(header, init);
          assert.deepEqual(decodedPayload, payload);
          n++;
        }
      }
    }
    assert.equal(n, TRACK_KINDS.length * CODECS.length * 8);
  });

  test('encodeMediaPacket defaults to fragment 0 of 1, audio level 127, no flags and the zero sender', () => {
    const { payload, ...header } = decodeMediaPacket(encodeMediaPacket({ kind: 'microphone', codec: 'opus', track: TRACK_B, sequence: 1, timestamp: 0 }, new Uint8Array(0)));
    assert.deepEqual(header, {
      kind: 'microphone', codec: 'opus', keyFrame: false, voice: false, discontinuity: false, audioLevel: 127,
      fragmentIndex: 0, fragmentCount: 1, sender: ZERO_ID, track: TRACK_B, sequence: 1, timestamp: 0,
    });
    assert.equal(payload.byteLength, 0);
  });

  test('the frame sequence is a u32 that wraps', () => {
    const seq = (sequence: number) => decodeMediaPacket(encodeMediaPacket({ kind: 'camera', codec: 'jpeg', track: TRACK_A, sequence, timestamp: 0 }, new Uint8Array(0))).sequence;
    assert.equal(seq(0xffffffff), 0xffffffff);
    assert.equal(seq(2 ** 32 + 5), 5);
    assert.equal(seq(-1), 0xffffffff);
  });

  test('encodeMediaPacket rejects bad arguments with TypeError', () => {
    const base: MediaHeaderInit = { kind: 'camera', codec: 'jpeg', track: TRACK_A, sequence: 0, timestamp: 0 };
    const bad: MediaHeaderInit[] = [
      { ...base, kind: 'video' as never },
      { ...base, codec: 'mp3' as never },
      { ...base, audioLevel: 128 },
      { ...base, audioLevel: -1 },
      { ...base, audioLevel: 1.5 },
      { ...base, fragmentCount: 0 },
      { ...base, fragmentCount: 0x10000 },
      { ...base, fragmentIndex: 2, fragmentCount: 2 },
      { ...base, track: 'not-an-id' },
      { ...base, sender: TRACK_A.toUpperCase() },
    ];
    for (const init of bad) assert.throws(() => encodeMediaPacket(init, new Uint8Array(1)), TypeError, JSON.stringify(init));
  });

  test('decodeMediaPacket rejects a 39-byte packet with LAN_ERR_SHORT_HEADER', () => {
    throwsProtocol(() => decodeMediaPacket(validPacket().subarray(0, 39)), ErrorCode.ShortHeader);
    throwsProtocol(() => decodeMediaPacket(new Uint8Array(0)), ErrorCode.ShortHeader);
    throwsProtocol(() => decodeMediaPacket(Uint8Array.of(0x01)), ErrorCode.ShortHeader);
    assert.equal(decodeMediaPacket(validPacket(0)).payload.byteLength, 0);
  });

  test('decodeMediaPacket rejects a first byte other than 0x01 with LAN_ERR_BAD_PACKET_TYPE', () => {
    for (const type of [0x00, 0x02, 0x03, 0x04, 0x7b, 0xff]) throwsProtocol(() => decodeMediaPacket(patched(0, type)), ErrorCode.BadPacketType);
  });

  test('decodeMediaPacket rejects version 2 with LAN_ERR_BAD_VERSION', () => {
    throwsProtocol(() => decodeMediaPacket(patched(1, 2)), ErrorCode.BadVersion);
    throwsProtocol(() => decodeMediaPacket(patched(1, 0)), ErrorCode.BadVersion);
  });

  test('decodeMediaPacket rejects kind 9 with LAN_ERR_BAD_KIND', () => {
    throwsProtocol(() => decodeMediaPacket(patched(2, 9)), ErrorCode.BadKind);
    throwsProtocol(() => decodeMediaPacket(patched(2, 3)), ErrorCode.BadKind);
  });

  test('decodeMediaPacket rejects codec 99 with LAN_ERR_BAD_CODEC', () => {
    throwsProtocol(() => decodeMediaPacket(patched(3, 99)), ErrorCode.BadCodec);
    throwsProtocol(() => decodeMediaPacket(patched(3, 6)), ErrorCode.BadCodec);
  });

  test('decodeMediaPacket rejects unknown flag bits with LAN_ERR_INVALID_MESSAGE', () => {
    for (const flags of [0x08, 0x10, 0x80, 0xff]) throwsProtocol(() => decodeMediaPacket(patched(4, flags)), ErrorCode.InvalidMessage);
  });

  test('decodeMediaPacket rejects audio level 200 with LAN_ERR_INVALID_MESSAGE', () => {
    throwsProtocol(() => decodeMediaPacket(patched(5, 200)), ErrorCode.InvalidMessage);
    throwsProtocol(() => decodeMediaPacket(patched(5, 128)), ErrorCode.InvalidMessage);
    assert.equal(decodeMediaPacket(patched(5, 0)).audioLevel, 0);
  });

  test('decodeMediaPacket rejects fragment count 0 or index ≥ count with LAN_ERR_BAD_FRAGMENT', () => {
    throwsProtocol(() => decodeMediaPacket(patched(6, 0x00, 0x00, 0x00, 0x00)), ErrorCode.BadFragment); // 0 of 0
    throwsProtocol(() => decodeMediaPacket(patched(6, 0x00, 0x03, 0x00, 0x03)), ErrorCode.BadFragment); // 3 of 3
    throwsProtocol(() => decodeMediaPacket(patched(6, 0xff, 0xff, 0xff, 0xff)), ErrorCode.BadFragment); // 65535 of 65535
    throwsProtocol(() => decodeMediaPacket(patched(6, 0x00, 0x01, 0x00, 0x01)), ErrorCode.BadFragment); // 1 of 1
    const last = decodeMediaPacket(patched(6, 0xff, 0xfe, 0xff, 0xff)); // 65534 of 65535
    assert.equal(last.fragmentIndex, 65534);
    assert.equal(last.fragmentCount, 65535);
  });

  test('decodeMediaPacket rejects a NaN or infinite capture time with LAN_ERR_INVALID_MESSAGE', () => {
    for (const value of [NaN, Infinity, -Infinity]) {
      const bytes = validPacket();
      new DataView(bytes.buffer).setFloat64(MediaOffset.timestamp, value);
      throwsProtocol(() => decodeMediaPacket(bytes), ErrorCode.InvalidMessage);
    }
  });

  test('decodeMediaPacket rejects a payload over maxPayload with LAN_ERR_TOO_LARGE', () => {
    throwsProtocol(() => decodeMediaPacket(validPacket(101), 100), ErrorCode.TooLarge);
    assert.equal(decodeMediaPacket(validPacket(100), 100).payload.byteLength, 100);
    throwsProtocol(() => decodeMediaPacket(validPacket(1), 0), ErrorCode.TooLarge);
  });

  test('decodeMediaPacket ignores the reserved bytes', () => {
    assert.equal(decodeMediaPacket(patched(10, 0xff, 0xff)).kind, 'camera');
  });

  test('decodeMediaPacket reports the first failing field, in header order', () => {
    const bytes = validPacket();
    bytes.set([2, 9, 99, 0xff, 200, 0, 0, 0, 0], 1); // bad version, kind, codec, flags, level, fragment
    throwsProtocol(() => decodeMediaPacket(bytes), ErrorCode.BadVersion);
    bytes[1] = 1;
    throwsProtocol(() => decodeMediaPacket(bytes), ErrorCode.BadKind);
    bytes[2] = 0;
    throwsProtocol(() => decodeMediaPacket(bytes), ErrorCode.BadCodec);
    bytes[3] = 0;
    throwsProtocol(() => decodeMediaPacket(bytes), ErrorCode.InvalidMessage); // flags
    bytes[4] = 0;
    throwsProtocol(() => decodeMediaPacket(bytes), ErrorCode.InvalidMessage); // audio level
    bytes[5] = 0;
    throwsProtocol(() => decodeMediaPacket(bytes, 0), ErrorCode.BadFragment);
    bytes[9] = 1;
    throwsProtocol(() => decodeMediaPacket(bytes, 0), ErrorCode.TooLarge);
  });

  test('random garbage bytes given to decodeMediaPacket only ever raise a ProtocolError', () => {
    const random = prng(20240501);
    let decoded = 0;
    for (let i = 0; i < 5000; i++) {
      const length = Math.floor(random() * 120);
      const bytes = new Uint8Array(length).map(() => Math.floor(random() * 256));
      // Half the buffers get a plausible start, so the later checks are reached too.
      if (i % 2 === 0 && length >= 10) {
        bytes[0] = 0x01;
        bytes[1] = 0x01;
        bytes[2] = Math.floor(random() * 4);
        bytes[3] = Math.floor(random() * 7);
        bytes[4] = Math.floor(random() * 9);
        bytes[5] = Math.floor(random() * 130);
        bytes[6] = 0;
        bytes[8] = random() < 0.1 ? 0 : 0x01;
      }
      try {
        decodeMediaPacket(bytes, 64);
        decoded++;
      } catch (error) {
        assert.ok(error instanceof ProtocolError, `bytes ${Buffer.from(bytes).toString('hex')} raised ${String(error)}`);
      }
    }
    assert.ok(decoded > 0, 'no random buffer was a valid packet: the loop did not reach the end of the decoder');
  });

  test('fragmentPacket returns a frame that fits unchanged', () => {
    const packet = validPacket(1200);
    const fragments = fragmentPacket(packet, 1200);
    assert.equal(fragments.length, 1);
    assert.equal(fragments[0], packet);
  });

  test('fragmentPacket splits a frame into fragments of at most the payload size, with index and count set', () => {
    const packet = validPacket(2500);
    const fragments = fragmentPacket(packet, 1000);
    assert.deepEqual(fragments.map((f) => f.byteLength), [1040, 1040, 540]);
    fragments.forEach((fragment, i) => {
      const decoded = decodeMediaPacket(fragment, 1000);
      assert.equal(decoded.fragmentIndex, i);
      assert.equal(decoded.fragmentCount, 3);
      // Every other header byte is the frame's own.
      assert.deepEqual(fragment.subarray(0, 6), packet.subarray(0, 6));
      assert.deepEqual(fragment.subarray(10, 40), packet.subarray(10, 40));
    });
  });

  test('fragmentPacket refuses a frame that would need more than 65535 fragments', () => {
    assert.throws(() => fragmentPacket(validPacket(65536), 1), TypeError);
    assert.equal(fragmentPacket(validPacket(65535), 1).length, 65535);
  });

  test('audioLevelFromRms maps RMS 0 to 127, 1 to 0 and 0.1 to 20', () => {
    assert.equal(audioLevelFromRms(0), 127);
    assert.equal(audioLevelFromRms(1), 0);
    assert.equal(audioLevelFromRms(0.1), 20);
    assert.equal(audioLevelFromRms(0.01), 40);
    assert.equal(audioLevelFromRms(1e-9), 127); // −180 dBov clamps to silence
    assert.equal(audioLevelFromRms(2), 0); // clipped input clamps to the loudest
    assert.equal(audioLevelFromRms(-0.5), 127);
    assert.equal(audioLevelFromRms(NaN), 127);
  });
});

// ---- UDP binding --------------------------------------------------------------------------------

describe('UDP binding datagrams', () => {
  test('encodeUdpBind and decodeUdpBind round-trip a 16-byte token', () => {
    for (let i = 0; i < 100; i++) {
      const token = randomToken(16);
      const bytes = encodeUdpBind(token);
      assert.equal(bytes.byteLength, UDP_BIND_BYTES);
      assert.equal(bytes[0], 0x03); // packet type: bind
      assert.equal(bytes[1], 0x01); // version 1
      assert.deepEqual(bytes.subarray(2), base64UrlToBytes(token));
      assert.equal(decodeUdpBind(bytes), token);
    }
  });

  test('a bind datagram is [0x03][0x01][16 token bytes]', () => {
    const token = bytesToBase64Url(Uint8Array.from({ length: 16 }, (_, i) => i));
    assert.deepEqual(encodeUdpBind(token), Uint8Array.of(0x03, 0x01, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    assert.deepEqual(UDP_BIND_ACK, Uint8Array.of(0x04, 0x01));
  });

  test('decodeUdpBind returns undefined for a datagram of the wrong length, type or version', () => {
    const good = encodeUdpBind(randomToken(16));
    const cases: Array<[string, Uint8Array]> = [
      ['17 bytes', good.subarray(0, 17)],
      ['19 bytes', Uint8Array.of(...good, 0)],
      ['empty', new Uint8Array(0)],
      ['type 0x04', Uint8Array.of(0x04, ...good.subarray(1))],
      ['type 0x01', Uint8Array.of(0x01, ...good.subarray(1))],
      ['version 2', Uint8Array.of(0x03, 0x02, ...good.subarray(2))],
      ['the bind ack', UDP_BIND_ACK],
    ];
    for (const [what, bytes] of cases) assert.equal(decodeUdpBind(bytes), undefined, what);
    const random = prng(3);
    for (let i = 0; i < 1000; i++) {
      const bytes = new Uint8Array(Math.floor(random() * 40)).map(() => Math.floor(random() * 256));
      const token = decodeUdpBind(bytes);
      if (token !== undefined) assert.deepEqual(encodeUdpBind(token), bytes);
    }
  });

  test('encodeUdpBind rejects a token that is not 16 bytes with TypeError', () => {
    assert.throws(() => encodeUdpBind(randomToken(15)), TypeError);
    assert.throws(() => encodeUdpBind(randomToken(17)), TypeError);
    assert.throws(() => encodeUdpBind('not base64url!'), TypeError);
  });
});

// ---- ids and tokens -----------------------------------------------------------------------------

describe('ids', () => {
  test('randomId returns 16 lowercase hex characters, never the zero id, unique over 10 000 draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = randomId();
      assert.match(id, /^[0-9a-f]{16}$/);
      assert.notEqual(id, ZERO_ID);
      assert.ok(isId(id));
      seen.add(id);
    }
    assert.equal(seen.size, 10_000);
  });

  test('idToBytes and idFromBytes round-trip, also at an offset', () => {
    assert.deepEqual(idToBytes('0123456789abcdef'), Uint8Array.of(0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef));
    assert.equal(idFromBytes(Uint8Array.of(0xff, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff), 1), '0000000000000001');
    for (let i = 0; i < 1000; i++) {
      const id = randomId();
      const bytes = idToBytes(id);
      assert.equal(bytes.byteLength, 8);
      assert.equal(idFromBytes(bytes, 0), id);
      const big = new Uint8Array(20);
      writeId(big, 5, id);
      assert.equal(idFromBytes(big, 5), id);
      assert.ok(idBytesEqual(big, 5, bytes));
      assert.ok(!idBytesEqual(big, 4, bytes) || id === ZERO_ID);
    }
  });

  test('writeId rejects a string that is not an id with TypeError', () => {
    for (const bad of ['', '0123456789ABCDEF', '0123456789abcde', '0123456789abcdef0', 'g123456789abcdef']) {
      assert.throws(() => idToBytes(bad), TypeError, bad);
      assert.equal(isId(bad), false);
    }
    assert.equal(isId(42), false);
  });

  test('bytesToBase64Url and base64UrlToBytes round-trip every length and byte value, without padding', () => {
    const random = prng(99);
    for (let length = 0; length <= 48; length++) {
      const bytes = new Uint8Array(length).map(() => Math.floor(random() * 256));
      const text = bytesToBase64Url(bytes);
      assert.match(text, /^[A-Za-z0-9_-]*$/);
      assert.deepEqual(base64UrlToBytes(text), bytes);
    }
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(base64UrlToBytes(bytesToBase64Url(all)), all);
    assert.equal(bytesToBase64Url(Uint8Array.of(0xfb, 0xff)), '-_8'); // "+/8=" in standard base64
  });

  test('base64UrlToBytes rejects standard-base64 characters with TypeError', () => {
    for (const bad of ['+/8', 'ab cd', 'ab.cd']) assert.throws(() => base64UrlToBytes(bad), TypeError, bad);
  });

  test('randomToken(16) is 22 base64url characters of 16 random bytes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const token = randomToken(16);
      assert.match(token, /^[A-Za-z0-9_-]{22}$/);
      assert.equal(base64UrlToBytes(token).byteLength, 16);
      seen.add(token);
    }
    assert.equal(seen.size, 1000);
  });
});

describe('file chunk packets', () => {
  // type, version, reserved ×2, transfer id (8), offset u64 BE = 2^32 + 5, data "abc"
  const FIXTURE = new Uint8Array([
    0x02, 0x01, 0x00, 0x00,
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05,
    0x61, 0x62, 0x63,
  ]);

  test('decodeFileChunk reads the commented byte fixture; encodeFileChunk writes it', () => {
    const chunk = decodeFileChunk(FIXTURE);
    assert.equal(chunk.transfer, '0123456789abcdef');
    assert.equal(chunk.offset, 2 ** 32 + 5);
    assert.deepEqual([...chunk.data], [0x61, 0x62, 0x63]);
    assert.equal(chunk.data.buffer, FIXTURE.buffer, 'the data is a view, not a copy');
    assert.deepEqual(encodeFileChunk('0123456789abcdef', 2 ** 32 + 5, new Uint8Array([0x61, 0x62, 0x63])), FIXTURE);
    assert.deepEqual(encodeFileChunkHeader('0123456789abcdef', 2 ** 32 + 5), FIXTURE.subarray(0, FILE_CHUNK_HEADER_BYTES));
  });

  test('offsets round-trip up to 2^53 − 1; an empty chunk is valid', () => {
    for (const offset of [0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, Number.MAX_SAFE_INTEGER]) {
      assert.equal(decodeFileChunk(encodeFileChunk('ffffffffffffffff', offset, new Uint8Array(0))).offset, offset);
    }
    assert.throws(() => encodeFileChunkHeader('ffffffffffffffff', -1), RangeError);
    assert.throws(() => encodeFileChunkHeader('ffffffffffffffff', 1.5), RangeError);
  });

  const bad: Array<[string, Uint8Array, string]> = [
    ['shorter than the header', FIXTURE.subarray(0, 19), 'LAN_ERR_SHORT_HEADER'],
    ['a media packet type', Uint8Array.of(0x01, ...FIXTURE.subarray(1)), 'LAN_ERR_BAD_PACKET_TYPE'],
    ['another version', Uint8Array.of(0x02, 0x07, ...FIXTURE.subarray(2)), 'LAN_ERR_BAD_VERSION'],
    ['an offset past 2^53', Uint8Array.of(...FIXTURE.subarray(0, 12), 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0), 'LAN_ERR_BAD_OFFSET'],
  ];
  for (const [what, bytes, code] of bad) {
    test(`decodeFileChunk refuses ${what} with ${code}`, () => {
      assert.throws(() => decodeFileChunk(bytes), (e: unknown) => e instanceof ProtocolError && e.code === code);
    });
  }

  test('decodeFileChunk refuses more data than allowed with LAN_ERR_TOO_LARGE', () => {
    const big = encodeFileChunk('0123456789abcdef', 0, new Uint8Array(MAX_FILE_CHUNK_BYTES + 1));
    assert.throws(() => decodeFileChunk(big), (e: unknown) => e instanceof ProtocolError && e.code === 'LAN_ERR_TOO_LARGE');
    assert.equal(decodeFileChunk(big, MAX_FILE_CHUNK_BYTES + 1).data.byteLength, MAX_FILE_CHUNK_BYTES + 1);
  });
});
