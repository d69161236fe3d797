/**
 * The relay's own WebSocket server side (relay/wsLink.ts), byte by byte: a raw TCP client writes the
 * handshake and frames itself, so that every rule of RFC 6455 the relay enforces is seen on the wire.
 * Each bad frame closes that connection with the RFC's status code; a steady participant notices nothing.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { FILE_CHUNK_HEADER_BYTES } from '../../sdk/protocol/fileChunk.js';
import { unmask } from '../../relay/wsLink.js';
import { WS_MAX_FRAGMENTS, wsClosePayload } from '../../sdk/transport/wsFrames.js';
import { isUtf8 } from 'node:buffer';
import { HOST, assertRelayServes, join, joinMessage, leaveAll, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** A WebSocket client written by hand: it sends exactly the bytes a test asks for. */
class HandWs {
  readonly frames: Frame[] = [];
  closed = false;
  #buffer = Buffer.alloc(0);
  readonly #closedPromise: Promise<void>;

  private constructor(readonly socket: Socket, rest: Buffer) {
    this.#closedPromise = new Promise((resolve) => socket.once('close', () => {
      this.closed = true;
      resolve();
    }));
    socket.on('data', (d: Buffer) => this.#read(d));
    socket.on('error', () => { /* followed by close */ });
    if (rest.byteLength > 0) this.#read(rest);
  }

  /** Sends `request` (a handshake, or anything else) and resolves with the HTTP response head and the socket. */
  static async raw(port: number, request: string, allowHalfOpen = false): Promise<{ head: string; socket: Socket; rest: Buffer }> {
    const socket = connect({ port, host: HOST, allowHalfOpen });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(request);
    let got = Buffer.alloc(0);
    return withTimeout(new Promise((resolve, reject) => {
      const onData = (d: Buffer) => {
        got = Buffer.concat([got, d]);
        const end = got.indexOf('\r\n\r\n');
        if (end < 0) return;
        socket.off('data', onData);
        resolve({ head: got.subarray(0, end).toString('latin1'), socket, rest: got.subarray(end + 4) });
      };
      socket.on('data', onData);
      socket.once('close', () => reject(new Error(`closed before a response: ${got.toString('latin1')}`)));
    }), 3000, 'the handshake response');
  }

  static handshake(key = randomBytes(16).toString('base64'), extra = ''): string {
    return `GET / HTTP/1.1\r\nHost: ${HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
  }

  static async open(port: number): Promise<HandWs> {
    const key = randomBytes(16).toString('base64');
    const { head, socket, rest } = await HandWs.raw(port, HandWs.handshake(key));
    assert.match(head, /^HTTP\/1\.1 101 /);
    const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    assert.match(head, new RegExp(`\\r\\nSec-WebSocket-Accept: ${accept.replace(/[+/]/g, '\\$&')}(\\r\\n|$)`, 'i'));
    return new HandWs(socket, rest);
  }

  /** A frame's bytes: `mask` as given (default a random one), `rsv` bits, any opcode, length as it is. */
  static frame(opcode: number, payload: Uint8Array, o: { fin?: boolean; mask?: Uint8Array | null; rsv?: number } = {}): Buffer {
    const n = payload.byteLength;
    const mask = o.mask === undefined ? randomBytes(4) : o.mask;
    const len = n < 126 ? 2 : n < 65536 ? 4 : 10;
    const head = Buffer.alloc(len + (mask ? 4 : 0));
    head[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
    if (n < 126) head[1] = n;
    else if (n < 65536) {
      head[1] = 126;
      head.writeUInt16BE(n, 2);
    } else {
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(n), 2);
    }
    const body = Buffer.from(payload);
    if (mask) {
      head[1] |= 0x80;
      head.set(mask, len);
      for (let i = 0; i < n; i++) body[i]! ^= mask[i & 3]!;
    }
    return Buffer.concat([head, body]);
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  sendText(text: string, o: Parameters<typeof HandWs.frame>[2] = {}): void {
    this.send(HandWs.frame(1, Buffer.from(text), o));
  }

  #read(d: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, d]);
    for (;;) {
      const b = this.#buffer;
      if (b.byteLength < 2) return;
      let n = b[1]! & 0x7f;
      let at = 2;
      if (n === 126) {
        if (b.byteLength < 4) return;
        n = b.readUInt16BE(2);
        at = 4;
      } else if (n === 127) {
        if (b.byteLength < 10) return;
        n = Number(b.readBigUInt64BE(2));
        at = 10;
      }
      assert.equal(b[1]! & 0x80, 0, 'the relay never masks');
      if (b.byteLength < at + n) return;
      this.frames.push({ fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, payload: b.subarray(at, at + n) });
      this.#buffer = b.subarray(at + n);
    }
  }

  /** The JSON control messages received. */
  get messages(): Array<Record<string, unknown>> {
    return this.frames.filter((f) => f.opcode === 1).map((f) => JSON.parse(f.payload.toString('utf8')) as Record<string, unknown>);
  }

  async next(type: string): Promise<Record<string, unknown>> {
    await until(() => this.messages.some((m) => m.type === type), `a "${type}" message`);
    return this.messages.find((m) => m.type === type)!;
  }

  /** Waits for the relay's close frame and the end of the connection; resolves with the close status. */
  async closeStatus(): Promise<number | undefined> {
    await withTimeout(this.#closedPromise, 4000, 'the relay closing the connection');
    const close = this.frames.find((f) => f.opcode === 8);
    return close && close.payload.byteLength >= 2 ? close.payload.readUInt16BE(0) : undefined;
  }
}

interface Scene extends TestRelay {
  steady: Session;
  incidents: string[];
}

async function scene(t: TestContext, meeting: string): Promise<Scene> {
  const started = await startRelay();
  const steady = await join(started.url, meeting, 'Steady');
  const incidents: string[] = [];
  steady.on('disconnected', (error) => incidents.push(`disconnected: ${error?.code}`));
  steady.on('error', (error) => incidents.push(`error: ${error.code}`));
  t.after(async () => {
    await leaveAll([steady]);
    await started.relay.close();
  });
  return { ...started, steady, incidents };
}

async function stillServes(s: Scene, label: string): Promise<void> {
  await assertRelayServes(s.url, s.steady, label);
  assert.deepEqual(s.incidents, [], `the steady participant noticed nothing of ${label}`);
}

test('a hand-written WebSocket client joins with masked, fragmented and unmasked-by-zero frames; ping gets pong; close is answered', { timeout: 20_000 }, async (t) => {
  const s = await scene(t, 'HandWs');
  const port = s.addresses.port;
  const ws = await HandWs.open(port);
  // The join in three fragments, with a ping between them (control frames may come mid-message).
  const join = Buffer.from(joinMessage('HandWs', 'Hand', 'websocket'));
  ws.send(HandWs.frame(1, join.subarray(0, 10), { fin: false }));
  ws.send(HandWs.frame(9, Buffer.from('are you there')));
  ws.send(HandWs.frame(0, join.subarray(10, 30), { fin: false, mask: new Uint8Array(4) }));
  ws.send(HandWs.frame(0, join.subarray(30)));
  await ws.next('welcome');
  const pong = ws.frames.find((f) => f.opcode === 10);
  assert.equal(pong?.payload.toString(), 'are you there', 'the pong carries the ping\'s payload');
  await until(() => [...s.steady.participants.values()].some((p) => p.name === 'Hand'), 'the steady participant sees Hand join');

  // Chat, one byte per write: the frame is read across many reads.
  const chat = HandWs.frame(1, Buffer.from(JSON.stringify({ type: 'chat', text: 'é — byte by byte', seq: 0 })));
  for (const byte of chat) ws.send(Uint8Array.of(byte));
  await until(() => s.steady.chat.messages.some((m) => m.text === 'é — byte by byte'), 'the chat arrives');

  // A file chunk-sized binary message in two fragments is an ordinary (bad) packet: an error, not a close.
  const big = randomBytes(FILE_CHUNK_HEADER_BYTES + 300_000);
  big[0] = 0x7f;
  ws.send(HandWs.frame(2, big.subarray(0, 100_000), { fin: false }));
  ws.send(HandWs.frame(0, big.subarray(100_000)));
  await until(() => ws.messages.some((m) => m.type === 'error' && m.code === 'LAN_ERR_BAD_PACKET_TYPE'), 'an error for the unknown packet');
  assert.equal(ws.closed, false);

  // The client closes: the relay answers with a close frame and ends the connection.
  const body = Buffer.alloc(2);
  body.writeUInt16BE(1000);
  ws.send(HandWs.frame(8, body));
  assert.equal(await ws.closeStatus(), 1000);
  await stillServes(s, 'a hand-written client');
});

test('bad WebSocket frames close that connection with the RFC status code; the relay serves on', { timeout: 30_000 }, async (t) => {
  const s = await scene(t, 'BadWs');
  const port = s.addresses.port;
  const cases: Array<{ label: string; bytes: () => Buffer; status: number }> = [
    { label: 'an unmasked frame', bytes: () => HandWs.frame(1, Buffer.from('{}'), { mask: null }), status: 1002 },
    { label: 'reserved bits (compression that was never agreed)', bytes: () => HandWs.frame(1, Buffer.from('{}'), { rsv: 4 }), status: 1002 },
    { label: 'an unknown opcode', bytes: () => HandWs.frame(3, Buffer.from('x')), status: 1002 },
    { label: 'a fragmented ping', bytes: () => HandWs.frame(9, Buffer.from('x'), { fin: false }), status: 1002 },
    { label: 'a 126-byte ping', bytes: () => HandWs.frame(9, Buffer.alloc(126)), status: 1002 },
    { label: 'a continuation with nothing to continue', bytes: () => HandWs.frame(0, Buffer.from('x')), status: 1002 },
    {
      label: 'a new message inside a fragmented one',
      bytes: () => Buffer.concat([HandWs.frame(2, Buffer.from('ab'), { fin: false }), HandWs.frame(2, Buffer.from('cd'))]),
      status: 1002,
    },
    { label: 'text that is not UTF-8', bytes: () => HandWs.frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), status: 1007 },
    { label: 'a 2^63-byte length', bytes: () => Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]), status: 1002 },
    { label: 'a 100 MiB length', bytes: () => Buffer.from([0x82, 0xff, 0, 0, 0, 0, 6, 0x40, 0, 0, 1, 2, 3, 4]), status: 1009 },
    { label: 'a close frame with a one-byte body', bytes: () => HandWs.frame(8, Buffer.from([3])), status: 1002 },
    {
      // Empty fragments count nothing against the size limit: their number is capped instead.
      label: `a message in ${WS_MAX_FRAGMENTS + 1} empty fragments`,
      bytes: () => Buffer.concat([HandWs.frame(2, Buffer.alloc(0), { fin: false }),
        ...Array.from({ length: WS_MAX_FRAGMENTS }, () => HandWs.frame(0, Buffer.alloc(0), { fin: false }))]),
      status: 1009,
    },
  ];
  for (const c of cases) {
    const ws = await HandWs.open(port);
    ws.send(c.bytes());
    assert.equal(await ws.closeStatus().catch((e) => { throw new Error(`${c.label}: ${e.message}; frames ${JSON.stringify(ws.frames)}`); }), c.status, c.label);
  }
  await stillServes(s, 'bad frames');

  // The same, from a participant that has joined: it leaves, the others stay.
  const joined = await HandWs.open(port);
  joined.sendText(joinMessage('BadWs', 'Joined', 'websocket'));
  await joined.next('welcome');
  const left = s.steady.waitFor('participantLeft', { timeoutMs: 5000 });
  joined.send(HandWs.frame(1, Buffer.from('{}'), { mask: null }));
  assert.equal(await joined.closeStatus(), 1002);
  assert.equal((await left)[0].name, 'Joined');
  await stillServes(s, 'a bad frame from a participant');
});

test('a bad WebSocket handshake gets 400 and a close; the relay serves on', { timeout: 15_000 }, async (t) => {
  const s = await scene(t, 'BadHandshake');
  const port = s.addresses.port;
  const requests = [
    HandWs.handshake('not a key'),
    HandWs.handshake(randomBytes(16).toString('base64')).replace('Version: 13', 'Version: 8'),
    HandWs.handshake(randomBytes(16).toString('base64')).replace('GET', 'POST'),
  ];
  for (const request of requests) {
    // A client that never closes its side: the relay closes the connection itself after the 400.
    const { head, socket } = await HandWs.raw(port, request, true);
    assert.match(head, /^HTTP\/1\.1 400 /, request.split('\r\n')[0]);
    await withTimeout(new Promise((resolve) => socket.once('end', resolve)), 3000, 'the end after 400');
    // The relay's side is gone, not only half-closed: what the client still sends is refused.
    socket.on('error', () => { /* the reset */ });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await new Promise((r) => setTimeout(r, 100));
    socket.write('still here?');
    setTimeout(() => socket.writable && socket.write('still here?'), 200);
    await withTimeout(closed, 4000, 'the connection gone after 400');
  }
  // A permessage-deflate offer is declined (no Sec-WebSocket-Extensions in the answer) and the link works.
  const { head, socket } = await HandWs.raw(port, HandWs.handshake(undefined, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n'));
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.doesNotMatch(head, /Sec-WebSocket-Extensions/i);
  socket.destroy();
  await stillServes(s, 'bad handshakes');
});

test('unmask matches the byte-by-byte XOR of RFC 6455 at every alignment, length and phase', () => {
  const mask = Uint8Array.of(0x12, 0x9a, 0xff, 0x01);
  const source = randomBytes(300);
  for (let offset = 0; offset < 8; offset++) {
    for (const length of [0, 1, 3, 4, 5, 7, 8, 9, 31, 64, 255]) {
      for (let phase = 0; phase < 4; phase++) {
        const backing = new Uint8Array(length + 16);
        const bytes = backing.subarray(offset, offset + length);
        bytes.set(source.subarray(0, length));
        unmask(bytes, mask, phase);
        for (let i = 0; i < length; i++) {
          assert.equal(bytes[i], source[i]! ^ mask[(phase + i) & 3]!, `offset ${offset}, length ${length}, phase ${phase}, byte ${i}`);
        }
      }
    }
  }
});

test('a close reason is cut to 123 bytes between characters, never inside one', () => {
  for (const reason of ['é'.repeat(100), 'x' + '€'.repeat(60), '😀'.repeat(40), 'short']) {
    const payload = wsClosePayload(1008, reason);
    assert.ok(payload.byteLength <= 125, `${payload.byteLength} bytes`);
    assert.equal(payload.readUInt16BE(0), 1008);
    assert.ok(isUtf8(payload.subarray(2)), 'the reason is whole UTF-8');
    assert.ok(reason.startsWith(payload.subarray(2).toString('utf8')), 'a prefix of the reason');
  }
});
