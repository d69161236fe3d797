/**
 * The relay's WebSocket side, byte by byte: `ws` (relay/wsLink.ts) with the limits lanconf sets on it. A
 * raw TCP client writes the handshake and frames itself, so that every rule is seen on the wire: what RFC
 * 6455 asks, what `ws` answers where the two differ (pinned here, one comment per case), and lanconf's
 * own limits (fragments, reads held, pongs). Each bad frame closes that connection only; a steady
 * participant notices nothing. And the Node client (`ws` too, sdk/node/wsClient.ts) writes nothing
 * to a server whose certificate fails the pin.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { test, type TestContext } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { FILE_CHUNK_HEADER_BYTES } from '../../sdk/protocol/fileChunk.js';
import { nodeWebSocketFactory } from '../../sdk/node/wsClient.js';
import { PONG_BACKLOG_BYTES, WS_MAX_FRAGMENTS, WS_MIN_BUFFERED_READS, closeReason } from '../../relay/wsLink.js';
import { HOST, assertRelayServes, join, joinMessage, leaveAll, pattern, sleep, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';

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

  /**
   * A frame's bytes: `mask` as given (default a random one), `rsv` bits, any opcode, length as it is;
   * `lengthBytes` forces the 16-bit (2) or 64-bit (8) length field whatever the length (RFC 6455 asks for
   * the shortest).
   */
  static frame(opcode: number, payload: Uint8Array, o: { fin?: boolean; mask?: Uint8Array | null; rsv?: number; lengthBytes?: 2 | 8 } = {}): Buffer {
    const n = payload.byteLength;
    const mask = o.mask === undefined ? randomBytes(4) : o.mask;
    const len = o.lengthBytes === 8 ? 10 : o.lengthBytes === 2 ? 4 : n < 126 ? 2 : n < 65536 ? 4 : 10;
    const head = Buffer.alloc(len + (mask ? 4 : 0));
    head[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | opcode;
    if (len === 2) head[1] = n;
    else if (len === 4) {
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

  /** A close frame's body: `status` (two bytes) and `reason`. */
  static closeBody(status: number, reason = ''): Buffer {
    const body = Buffer.alloc(2 + Buffer.byteLength(reason));
    body.writeUInt16BE(status);
    body.write(reason, 2);
    return body;
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

  /**
   * Waits for the relay's close frame and the end of the connection; resolves with the close status
   * (`'none'` for a close frame without one, `undefined` for no close frame).
   */
  async closeStatus(): Promise<number | 'none' | undefined> {
    await withTimeout(this.#closedPromise, 4000, 'the relay closing the connection');
    const close = this.frames.find((f) => f.opcode === 8);
    if (!close) return undefined;
    return close.payload.byteLength >= 2 ? close.payload.readUInt16BE(0) : 'none';
  }
}

interface Scene extends TestRelay {
  steady: Session;
  incidents: string[];
}

async function scene(t: TestContext, meeting: string, options: Parameters<typeof startRelay>[0] = {}): Promise<Scene> {
  const started = await startRelay(options);
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

  // A data frame's length in a longer field than needed: RFC 6455 §5.2 asks for the shortest, ws does
  // not check it for data frames and takes the message.
  ws.send(HandWs.frame(1, Buffer.from(JSON.stringify({ type: 'chat', text: 'a 64-bit length', seq: 1 })), { lengthBytes: 8 }));
  await until(() => s.steady.chat.messages.some((m) => m.text === 'a 64-bit length'), 'the chat with a non-minimal length arrives');

  // A file chunk-sized binary message in two fragments is an ordinary (bad) packet: an error, not a close.
  const big = randomBytes(FILE_CHUNK_HEADER_BYTES + 300_000);
  big[0] = 0x7f;
  ws.send(HandWs.frame(2, big.subarray(0, 100_000), { fin: false }));
  ws.send(HandWs.frame(0, big.subarray(100_000)));
  await until(() => ws.messages.some((m) => m.type === 'error' && m.code === 'LAN_ERR_BAD_PACKET_TYPE'), 'an error for the unknown packet');
  assert.equal(ws.closed, false);

  // The client closes: the relay answers with a close frame and ends the connection.
  ws.send(HandWs.frame(8, HandWs.closeBody(1000)));
  assert.equal(await ws.closeStatus(), 1000);
  await stillServes(s, 'a hand-written client');
});

test(`a message may come in ${WS_MAX_FRAGMENTS} fragments, empty ones included; one more closes with 1008`, { timeout: 20_000 }, async (t) => {
  const s = await scene(t, 'Fragments');
  const port = s.addresses.port;
  // The join in exactly WS_MAX_FRAGMENTS frames: its bytes one per frame, then empty continuations.
  const join = Buffer.from(joinMessage('Fragments', 'Many', 'websocket'));
  assert.ok(join.byteLength < WS_MAX_FRAGMENTS);
  const frames = [HandWs.frame(1, join.subarray(0, 1), { fin: false })];
  for (let i = 1; i < join.byteLength; i++) frames.push(HandWs.frame(0, join.subarray(i, i + 1), { fin: false }));
  while (frames.length < WS_MAX_FRAGMENTS - 1) frames.push(HandWs.frame(0, Buffer.alloc(0), { fin: false }));
  frames.push(HandWs.frame(0, Buffer.alloc(0)));
  const many = await HandWs.open(port);
  many.send(Buffer.concat(frames));
  await many.next('welcome');

  // Empty fragments count nothing against maxPayload, so their number is what is capped. ws keeps no
  // buffer for an empty fragment (only its count), so a flood of them holds no memory until the cap.
  const flood = await HandWs.open(port);
  flood.send(Buffer.concat([HandWs.frame(2, Buffer.alloc(0), { fin: false }),
    ...Array.from({ length: WS_MAX_FRAGMENTS }, () => HandWs.frame(0, Buffer.alloc(0), { fin: false }))]));
  assert.equal(await flood.closeStatus(), 1008, 'ws closes a message over maxFragments with 1008 (policy), not 1009');
  await stillServes(s, 'a flood of empty fragments');
});

test('bad WebSocket frames close that connection with ws\'s status code; the relay serves on', { timeout: 60_000 }, async (t) => {
  const s = await scene(t, 'BadWs');
  const port = s.addresses.port;
  const close = (status: number, reason = '') => HandWs.frame(8, HandWs.closeBody(status, reason));
  const cases: Array<{ label: string; bytes: () => Buffer; status: number | 'none' }> = [
    { label: 'an unmasked frame', bytes: () => HandWs.frame(1, Buffer.from('{}'), { mask: null }), status: 1002 },
    { label: 'reserved bits (compression that was never agreed)', bytes: () => HandWs.frame(1, Buffer.from('{}'), { rsv: 4 }), status: 1002 },
    { label: 'an unknown opcode', bytes: () => HandWs.frame(3, Buffer.from('x')), status: 1002 },
    { label: 'a fragmented ping', bytes: () => HandWs.frame(9, Buffer.from('x'), { fin: false }), status: 1002 },
    { label: 'a 126-byte ping', bytes: () => HandWs.frame(9, Buffer.alloc(126)), status: 1002 },
    // RFC 6455 §5.5: a control frame's length is at most 125, so it always fits the 7-bit field; ws
    // judges that field, so a 5-byte ping written with the 16-bit length is refused. (lanconf's own
    // frame code took it.)
    { label: 'a ping with its length in the 16-bit field (non-minimal)', bytes: () => HandWs.frame(9, Buffer.from('hello'), { lengthBytes: 2 }), status: 1002 },
    { label: 'a close with its length in the 64-bit field (non-minimal)', bytes: () => HandWs.frame(8, HandWs.closeBody(1000), { lengthBytes: 8 }), status: 1002 },
    { label: 'a continuation with nothing to continue', bytes: () => HandWs.frame(0, Buffer.from('x')), status: 1002 },
    {
      label: 'a new message inside a fragmented one',
      bytes: () => Buffer.concat([HandWs.frame(2, Buffer.from('ab'), { fin: false }), HandWs.frame(2, Buffer.from('cd'))]),
      status: 1002,
    },
    { label: 'text that is not UTF-8', bytes: () => HandWs.frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), status: 1007 },
    // A length JavaScript cannot count exactly: ws answers 1009 (too big), where the RFC (whose 64-bit
    // length must have its top bit clear) would say 1002 and lanconf's own code did.
    { label: 'a 2^63-byte length', bytes: () => Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]), status: 1009 },
    { label: 'a 100 MiB length', bytes: () => Buffer.from([0x82, 0xff, 0, 0, 0, 0, 6, 0x40, 0, 0, 1, 2, 3, 4]), status: 1009 },
    { label: 'a close frame with a one-byte body', bytes: () => HandWs.frame(8, Buffer.from([3])), status: 1002 },
    { label: 'a close reason that is not UTF-8', bytes: () => HandWs.frame(8, Buffer.concat([HandWs.closeBody(1000), Buffer.from([0xff])])), status: 1007 },
    // Close codes (RFC 6455 §7.4). A close with no body is answered with a close with no body.
    { label: 'a close without a status', bytes: () => HandWs.frame(8, Buffer.alloc(0)), status: 'none' },
    // 1005 ("no status") must never be sent in a close frame (§7.4.1): ws refuses an explicit one with
    // 1002. (lanconf's own code answered 1000.)
    { label: 'an explicit 1005', bytes: () => close(1005), status: 1002 },
    // 1006 ("abnormal") and 1015 (TLS failure) are for reporting, never for sending: 1002.
    { label: 'an explicit 1006', bytes: () => close(1006), status: 1002 },
    { label: 'an explicit 1015', bytes: () => close(1015), status: 1002 },
    // Unknown and reserved codes: under 1000, 1004 (reserved), 1016–2999 (for this and later RFCs),
    // 5000 and over: ws refuses each with 1002, as the RFC says. (lanconf's own code answered 1000.)
    ...[999, 1004, 1016, 2000, 2999, 5000, 65535].map((code) => ({ label: `the unknown or reserved code ${code}`, bytes: () => close(code), status: 1002 })),
    // Codes a peer may send: ws answers with the client's own code, as §5.5.1 suggests ("typically echos
    // the status code it received"). Among them the IANA-registered 1012 (service restart), 1013 (try
    // again later) and 1014 (bad gateway), which lanconf's own code refused with 1002.
    ...[1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999].map((code) => ({
      label: `the close code ${code}`, bytes: () => close(code, 'bye'), status: code,
    })),
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

test(`a frame trickled a byte per read is refused once the relay holds ${WS_MIN_BUFFERED_READS} reads of it (1008)`, { timeout: 30_000 }, async (t) => {
  // Video frames of at most 256 KiB: the longest message is then a 1 MiB file chunk's, and the cap on
  // reads held is its floor, WS_MIN_BUFFERED_READS.
  const s = await scene(t, 'Trickle', { limits: { maxFrameBytes: 256 * 1024 } });
  const ws = await HandWs.open(s.addresses.port);
  ws.socket.setNoDelay(true);
  // A 64 KiB binary frame, well under maxPayload, sent a byte per write. ws parses a frame only once
  // all of it is there, keeping each read until then; the cap is on those reads.
  const frame = HandWs.frame(2, randomBytes(64 * 1024));
  let sent = 0;
  for (; sent < frame.byteLength && !ws.closed; sent++) {
    ws.send(frame.subarray(sent, sent + 1));
    // Each byte its own TCP segment and, on an idle relay, its own read.
    await new Promise((resolve) => setImmediate(resolve));
  }
  // The frame's 14 bytes of header and mask are parsed as they come; only payload reads are held.
  assert.ok(sent > WS_MIN_BUFFERED_READS && sent < frame.byteLength, `closed after ${sent} of ${frame.byteLength} bytes`);
  assert.equal(await ws.closeStatus(), 1008);
  await stillServes(s, 'a trickled frame');
});

test('pings are answered only while the relay has less than 64 KiB queued for that client', { timeout: 30_000 }, async (t) => {
  const s = await scene(t, 'Pongs');
  const ws = await HandWs.open(s.addresses.port);
  ws.sendText(joinMessage('Pongs', 'Sloth', 'websocket'));
  const welcome = await ws.next('welcome') as { you: { id: string } };
  const peer = s.relay.rooms.get('Pongs')!.participants.get(welcome.you.id)!;
  const track = await s.steady.publish({ kind: 'camera', codec: 'jpeg' });
  await ws.next('trackPublished');
  ws.socket.pause(); // from now on the client reads nothing
  const frame = pattern(256 * 1024, 7);
  for (let i = 0; i < 400 && peer.connection!.link.bufferedAmount < PONG_BACKLOG_BYTES; i++) {
    track.send({ data: frame });
    await sleep(5);
  }
  assert.ok(peer.connection!.link.bufferedAmount >= PONG_BACKLOG_BYTES, `the relay has ${peer.connection!.link.bufferedAmount} bytes queued for the client`);
  ws.send(HandWs.frame(9, Buffer.from('while backlogged')));
  await sleep(300); // the relay reads the ping (the client still reads nothing)
  assert.ok(peer.connection!.link.bufferedAmount >= PONG_BACKLOG_BYTES);

  ws.socket.resume();
  await until(() => peer.connection!.link.bufferedAmount === 0, 'the client drained its queue', 10_000);
  ws.send(HandWs.frame(9, Buffer.from('drained')));
  await until(() => ws.frames.some((f) => f.opcode === 10 && f.payload.toString() === 'drained'), 'a pong once the queue is drained');
  const pongs = ws.frames.filter((f) => f.opcode === 10).map((f) => f.payload.toString());
  assert.deepEqual(pongs, ['drained'], 'no pong for the ping that came while the queue was full');
  assert.equal(ws.closed, false, 'a client behind on video is not closed for it');
  await stillServes(s, 'a backlogged client\'s ping');
});

test('bad WebSocket handshakes get ws\'s 400 or 405 and the socket is closed; over-long headers get 431; the relay serves on', { timeout: 20_000 }, async (t) => {
  const s = await scene(t, 'BadHandshake');
  const port = s.addresses.port;
  const key = () => randomBytes(16).toString('base64');
  const requests: Array<{ request: string; status: number }> = [
    { request: HandWs.handshake('not a key'), status: 400 },
    // ws speaks versions 13 (RFC 6455) and 8 (its last draft, the same frames); anything else is 400.
    { request: HandWs.handshake(key()).replace('Version: 13', 'Version: 7'), status: 400 },
    { request: HandWs.handshake(key()).replace('Upgrade: websocket', 'Upgrade: h2c'), status: 400 },
    { request: HandWs.handshake(key()).replace('GET', 'POST'), status: 405 },
  ];
  for (const { request, status } of requests) {
    // A client that never closes its side: the relay closes the connection itself after its answer.
    const { head, socket } = await HandWs.raw(port, request, true);
    assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), request.split('\r\n')[0]);
    await withTimeout(new Promise((resolve) => socket.once('end', resolve)), 3000, `the end after ${status}`);
    // The relay's side is gone, not only half-closed: what the client still sends is refused.
    socket.on('error', () => { /* the reset */ });
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await sleep(100);
    socket.write('still here?');
    setTimeout(() => socket.writable && socket.write('still here?'), 200);
    await withTimeout(closed, 4000, `the connection gone after ${status}`);
  }
  // The HTTP server's own limit (16 KiB of headers) applies to a handshake like any request: 431, and
  // the relay ends its side (the connection is gone once the client ends its own).
  const long = await HandWs.raw(port, HandWs.handshake(key(), `X-Padding: ${'x'.repeat(20_000)}\r\n`), true);
  assert.match(long.head, /^HTTP\/1\.1 431 /);
  await withTimeout(new Promise((resolve) => long.socket.once('end', resolve)), 3000, 'the end after 431');
  long.socket.destroy();
  // Version 8 is ws's too: answered like 13.
  const v8 = await HandWs.raw(port, HandWs.handshake(key()).replace('Version: 13', 'Version: 8'));
  assert.match(v8.head, /^HTTP\/1\.1 101 /);
  v8.socket.destroy();
  // A permessage-deflate offer is declined (no Sec-WebSocket-Extensions in the answer) and the link works.
  const { head, socket } = await HandWs.raw(port, HandWs.handshake(undefined, 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n'));
  assert.match(head, /^HTTP\/1\.1 101 /);
  assert.doesNotMatch(head, /Sec-WebSocket-Extensions/i);
  socket.destroy();
  await stillServes(s, 'bad handshakes');
});

test('the Node client writes nothing to a server whose certificate fails the pin, and the upgrade once it passes', { timeout: 30_000 }, async (t) => {
  // A real certificate and key: a TLS relay's, from its data dir; then a bare TLS server shows them.
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-pin-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const { relay } = await startRelay({ tls: 'on', dataDir });
  await relay.close();
  const cert = readFileSync(joinPath(dataDir, 'tls', 'cert.pem'), 'utf8');
  const key = readFileSync(joinPath(dataDir, 'tls', 'key.pem'), 'utf8');
  // What the server decrypted, and its TCP connections (open, closed).
  const received: Buffer[] = [];
  const tcp = { opened: 0, closed: 0 };
  const server = createTlsServer({ cert, key }, (socket) => {
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => { /* the client's reset */ });
  });
  server.on('connection', (socket: Socket) => {
    tcp.opened++;
    socket.once('close', () => tcp.closed++);
  });
  server.on('tlsClientError', () => { /* the client left in its handshake */ });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `wss://${HOST}:${(server.address() as { port: number }).port}/`;

  const open = (fingerprint: string) => {
    const ws = nodeWebSocketFactory({ fingerprint })(url);
    const events: string[] = [];
    ws.onerror = (ev) => events.push(`error: ${(ev as Error).message}`);
    ws.onclose = () => events.push('close');
    return { ws, events };
  };
  const wrong = open('00'.repeat(32));
  await until(() => wrong.events.includes('close'), 'the client gives up on the wrong certificate', 5000);
  assert.match(wrong.events[0] ?? '', /^error: .*not the pinned 00:00:/);
  await until(() => tcp.opened === 1 && tcp.closed === 1, 'the connection to the wrong server closed');
  assert.equal(Buffer.concat(received).byteLength, 0, 'not a byte of the upgrade request reached the server with the wrong certificate');

  // The server's own fingerprint: the upgrade request goes out (the server never answers it).
  const right = open(new X509Certificate(cert).fingerprint256);
  await until(() => Buffer.concat(received).toString('latin1').startsWith('GET / HTTP/1.1\r\n'), 'the upgrade request reached the server');
  assert.match(Buffer.concat(received).toString('latin1'), /\r\nUpgrade: websocket\r\n/i);
  right.ws.close();
});

test('a close reason is cut to 123 bytes between characters, never inside one', () => {
  for (const reason of ['é'.repeat(100), 'x' + '€'.repeat(60), '😀'.repeat(40), 'short']) {
    const cut = closeReason(reason);
    assert.ok(Buffer.byteLength(cut) <= 123, `${Buffer.byteLength(cut)} bytes`);
    assert.ok(reason.startsWith(cut), 'a prefix of the reason');
    assert.ok(Buffer.byteLength(reason) <= 123 ? cut === reason : Buffer.byteLength(cut) > 119, 'as long as fits');
    assert.equal(Buffer.from(cut, 'utf8').toString('utf8'), cut, 'whole characters');
  }
});
