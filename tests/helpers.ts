/**
 * Helpers shared by the integration tests: a relay on 127.0.0.1 with free ports, bounded waits,
 * deterministic byte patterns, and raw clients (WebSocket, TCP, UDP) that speak the wire by hand
 * so tests can send what the SDK never would.
 * @module
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { joinMeeting, type NodeJoinOptions } from '../sdk/node.js';
import type { Session } from '../sdk/Session.js';
import {
  CODECS, FrameParser, Opcode, decodeMediaPacket, encodeTextFrame, type MediaPacket,
} from '../sdk/protocol/index.js';
import { Relay, type RelayOptions, type RelayAddresses } from '../relay/Relay.js';

export const HOST = '127.0.0.1';

/** A listening relay and its addresses. */
export interface TestRelay {
  relay: Relay;
  addresses: RelayAddresses;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `ws://127.0.0.1:PORT/` */
  wsUrl: string;
}

/**
 * Starts a relay on 127.0.0.1 with free ports and plain HTTP. Its data dir (chat, files) is a fresh
 * temporary folder, removed when the relay closes, unless `options.dataDir` names one.
 */
export async function startRelay(options: RelayOptions = {}): Promise<TestRelay> {
  let scratch: string | undefined;
  if (options.dataDir === undefined) scratch = mkdtempSync(joinPath(tmpdir(), 'lanconf-test-'));
  const relay = new Relay({ host: HOST, port: 0, tcpPort: 0, udpPort: 0, tls: 'off', ...(scratch ? { dataDir: scratch } : {}), ...options });
  if (scratch) relay.once('closed', () => rmSync(scratch, { recursive: true, force: true }));
  const addresses = await relay.listen();
  return { relay, addresses, url: `http://${HOST}:${addresses.port}`, wsUrl: `ws://${HOST}:${addresses.port}/` };
}

/** Joins with the Node SDK; `transport` defaults to WebSocket. */
export function join(url: string, meeting: string, name: string, extra: Partial<NodeJoinOptions> = {}): Promise<Session> {
  return joinMeeting({ url, meeting, name, timeoutMs: 5000, ...extra });
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects when `promise` does not settle within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `predicate` (awaited when it returns a promise) until it is truthy; fails the test after `timeoutMs`. */
export async function until(predicate: () => unknown, what: string | (() => string), timeoutMs = 3000, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${typeof what === 'function' ? what() : what}`);
    await sleep(everyMs);
  }
}

/** Deterministic, varied bytes (xorshift), different for each seed. */
export function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Leaves every session, ignoring errors (cleanup). */
export async function leaveAll(sessions: Iterable<Session | undefined>): Promise<void> {
  await Promise.all([...sessions].map((s) => s?.leave().catch(() => undefined)));
}

/** A `join` message as a raw client sends it. */
export function joinMessage(meeting: string, name: string, transport: 'websocket' | 'native', extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ type: 'join', v: 1, meeting, name, transport, decode: [...CODECS], ...extra });
}

/** What a raw client has received: JSON control messages and decoded media packets. */
abstract class RawClient {
  readonly messages: Array<Record<string, unknown> & { type: string }> = [];
  readonly media: MediaPacket[] = [];
  /** Binary messages that did not decode as media. */
  readonly badBinary: Uint8Array[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;
  protected markClosed!: () => void;

  constructor() {
    this.closedPromise = new Promise((resolve) => {
      this.markClosed = () => {
        this.closed = true;
        resolve();
      };
    });
  }

  protected onText(text: string): void {
    this.messages.push(JSON.parse(text) as Record<string, unknown> & { type: string });
  }

  protected onBinary(bytes: Uint8Array): void {
    try {
      this.media.push(decodeMediaPacket(bytes.slice()));
    } catch {
      this.badBinary.push(bytes.slice());
    }
  }

  /** The first message of `type` (matching `where`) received so far, or the next one within `timeoutMs`. */
  async next(type: string, timeoutMs = 3000, where: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    let found: Record<string, unknown> | undefined;
    await until(() => (found = this.messages.find((m) => m.type === type && where(m))), `a "${type}" message`, timeoutMs);
    return found!;
  }

  /** Waits for the connection to close. */
  waitClosed(timeoutMs = 3000): Promise<void> {
    return withTimeout(this.closedPromise, timeoutMs, 'the relay closing the connection');
  }

  /** Sends a control message. */
  abstract sendJson(message: unknown): void;
  abstract close(): void;
}

/** A raw WebSocket client. */
export class RawWs extends RawClient {
  readonly ws: WebSocket;
  closeCode: number | undefined;

  private constructor(ws: WebSocket) {
    super();
    this.ws = ws;
    ws.on('message', (data, isBinary) => {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
      if (isBinary) this.onBinary(bytes);
      else this.onText(bytes.toString('utf8'));
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.markClosed();
    });
    ws.on('error', () => { /* followed by close */ });
  }

  /** Opens a WebSocket to `wsUrl`, from `localAddress` (a loopback address such as 127.0.0.2) when given. */
  static async open(wsUrl: string, localAddress?: string): Promise<RawWs> {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, ...(localAddress ? { localAddress } : {}) });
    const client = new RawWs(ws);
    await withTimeout(new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }), 3000, 'a raw WebSocket opening');
    return client;
  }

  /** Opens and joins; resolves with the welcome. */
  static async join(wsUrl: string, meeting: string, name: string, extra: Record<string, unknown> = {}, localAddress?: string): Promise<{ client: RawWs; welcome: Welcome }> {
    const client = await RawWs.open(wsUrl, localAddress);
    client.ws.send(joinMessage(meeting, name, 'websocket', extra));
    const welcome = (await client.next('welcome')) as unknown as Welcome;
    return { client, welcome };
  }

  sendJson(message: unknown): void {
    this.ws.send(JSON.stringify(message));
  }

  sendBinary(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  close(): void {
    this.ws.terminate();
  }
}

/** The parts of `welcome` the tests use. */
export interface Welcome {
  type: 'welcome';
  you: { id: string; name: string };
  participants: Array<{ id: string; name: string }>;
  udp?: { port: number; token: string; payloadSize: number };
}

/** A raw native client: the TCP control connection with lanconf framing. */
export class RawTcp extends RawClient {
  readonly socket: Socket;
  /** Raw bytes received (for garbage tests that may get something unframed). */
  received = 0;
  parseError: Error | undefined;

  private constructor(socket: Socket) {
    super();
    this.socket = socket;
    const parser = new FrameParser(64 * 1024 * 1024, (opcode, payload) => {
      if (opcode === Opcode.Text) this.onText(new TextDecoder().decode(payload));
      else this.onBinary(payload);
    });
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.byteLength;
      if (this.parseError) return;
      try {
        parser.push(chunk);
      } catch (error) {
        this.parseError = error as Error;
      }
    });
    socket.on('close', () => this.markClosed());
    socket.on('error', () => { /* followed by close */ });
  }

  static async open(port: number): Promise<RawTcp> {
    const socket = netConnect({ host: HOST, port });
    const client = new RawTcp(socket);
    await withTimeout(new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }), 3000, 'a raw TCP connection opening');
    return client;
  }

  /** Opens and joins as a native client; resolves with the welcome (which carries the UDP token). */
  static async join(port: number, meeting: string, name: string, extra: Record<string, unknown> = {}): Promise<{ client: RawTcp; welcome: Welcome }> {
    const client = await RawTcp.open(port);
    client.socket.write(encodeTextFrame(joinMessage(meeting, name, 'native', { udp: { payloadSize: 60000 }, ...extra })));
    const welcome = (await client.next('welcome')) as unknown as Welcome;
    return { client, welcome };
  }

  sendJson(message: unknown): void {
    this.socket.write(encodeTextFrame(JSON.stringify(message)));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A raw UDP socket on 127.0.0.1 that records what it receives. */
export class RawUdp {
  readonly socket: UdpSocket;
  readonly received: Buffer[] = [];

  private constructor(socket: UdpSocket) {
    this.socket = socket;
    socket.on('message', (msg) => this.received.push(msg));
    socket.on('error', () => { /* ignore */ });
  }

  static async open(): Promise<RawUdp> {
    // As large a receive buffer as the SDK asks for: bursts of fragments must not overflow it.
    const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    await new Promise<void>((resolve) => socket.bind(0, HOST, () => resolve()));
    return new RawUdp(socket);
  }

  send(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, port, HOST, (error) => (error ? reject(error) : resolve())));
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}

/**
 * Checks the relay still serves: `session` can chat (and gets the ack), and a new client can join
 * the same meeting and see `session` there.
 */
export async function assertRelayServes(url: string, session: Session, label: string): Promise<void> {
  const sent = await withTimeout(session.chat.send(`still here after ${label}`), 3000, `chat after ${label}`);
  assert.equal(sent.text, `still here after ${label}`);
  const probe = await join(url, session.meeting, `probe ${label}`.slice(0, 64));
  try {
    assert.ok(probe.participants.has(session.local.id), `a new join after ${label} sees the existing participant`);
  } finally {
    await probe.leave();
  }
}
