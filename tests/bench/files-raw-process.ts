/**
 * The baseline of the file-transfer bench: the same job without lanconf, plain Node streams over one
 * TCP connection on 127.0.0.1, one process per end (as the uploader and the relay are).
 *
 * BENCH_RAW_ROLE:
 *  - `receive`: listens on 127.0.0.1 (port 0), takes one connection and writes what arrives into BENCH_RAW_FILE:
 *    each chunk with `fs.writeSync` as it comes (BENCH_RAW_WRITE=sync, the default: the fastest plain way found, close
 *    to a C `read`/`write` loop on this machine), or `pipeline(socket, fs.createWriteStream())` (BENCH_RAW_WRITE=stream,
 *    the textbook way, slower: every 64 KiB chunk is a round trip through libuv's thread pool). Without BENCH_RAW_FILE
 *    it only counts the bytes and compares them with the generated content. Reports when the file is closed (or the
 *    socket ended).
 *  - `send`: connects to BENCH_RAW_PORT and writes the generated file (the same 1 MiB block BENCH_FILE_MIB times),
 *    waiting for `drain` whenever `write()` says so.
 *  - `serve`: connects to BENCH_RAW_PORT and sends BENCH_RAW_FILE, read 1 MiB at a time with `fs.readSync` and written
 *    the same way: the shape of a download, from the disk to a socket.
 * BENCH_RAW_HASH=1: SHA-256 of every byte on this end (`node:crypto`, as the SDK and relay use).
 * BENCH_RAW_WS=1: the same copy over one WebSocket (the `ws` package, as the relay and the Node SDK use)
 * instead of a bare TCP connection: the sender sends 256 KiB binary messages, unmasked as the Node SDK
 * sends them, and the receiver writes each message with `fs.writeSync`. What WebSocket itself costs.
 * @module
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, createWriteStream, openSync, readSync, writeSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { pipeline } from 'node:stream/promises';
import { clock } from './common.js';
import { BLOCK_BYTES, block, contentChecker, memorySampler, onOrchestrator, processFigures, toOrchestrator } from './files-common.js';

const env = process.env;
const role = env.BENCH_RAW_ROLE ?? 'receive';
const hash = env.BENCH_RAW_HASH === '1' ? createHash('sha256') : undefined;
const file = env.BENCH_RAW_FILE || undefined;
const streamWrites = env.BENCH_RAW_WRITE === 'stream';
const mib = Number(env.BENCH_FILE_MIB ?? 1024);
const overWebSocket = env.BENCH_RAW_WS === '1';
/** Bytes of one WebSocket message (a lanconf file chunk's data). */
const WS_MESSAGE_BYTES = 256 * 1024;
const memory = memorySampler(clock, 100);

function figures(cpu: NodeJS.CpuUsage, start: number, end: number, rssStart: number) {
  return processFigures(cpu, start, end, rssStart, memory.samples.filter((s) => s.t >= start).reduce((x, s) => Math.max(x, s.rss), 0));
}

async function receive(socket: Socket): Promise<void> {
  const rssStart = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const start = clock();
  let bytes = 0;
  const checker = file ? undefined : contentChecker();
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength;
    hash?.update(chunk);
    checker?.check(chunk);
  });
  if (file && streamWrites) {
    await pipeline(socket, createWriteStream(file));
  } else if (file) {
    const fd = openSync(file, 'w', 0o600);
    try {
      socket.on('data', (chunk: Buffer) => {
        for (let at = 0; at < chunk.byteLength;) at += writeSync(fd, chunk, at);
      });
      await once(socket, 'end');
    } finally {
      closeSync(fd);
    }
  } else {
    socket.resume();
    await once(socket, 'end');
  }
  const end = clock();
  toOrchestrator({
    type: 'rawDone', timing: { start, end, bytes }, sha256: hash?.digest('hex'), contentOk: checker ? checker.ok : true,
    figures: figures(cpu, start, end, rssStart),
  });
}

async function send(port: number): Promise<void> {
  const rssStart = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const start = clock();
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let bytes = 0;
  if (role === 'serve') {
    if (!file) throw new Error('BENCH_RAW_FILE is not set');
    const fd = openSync(file, 'r');
    try {
      for (;;) {
        // A fresh buffer each time: the socket holds on to it until the kernel has taken it.
        const chunk = Buffer.allocUnsafe(BLOCK_BYTES);
        const n = readSync(fd, chunk, 0, BLOCK_BYTES, null);
        if (n === 0) break;
        hash?.update(chunk.subarray(0, n));
        bytes += n;
        if (!socket.write(chunk.subarray(0, n))) await once(socket, 'drain');
      }
    } finally {
      closeSync(fd);
    }
    socket.end();
    await once(socket, 'finish');
  } else {
    const b = block();
    for (let i = 0; i < mib; i++) {
      hash?.update(b);
      bytes += b.byteLength;
      if (!socket.write(b)) await once(socket, 'drain');
    }
    socket.end();
    await once(socket, 'finish');
  }
  const end = clock();
  toOrchestrator({
    type: 'rawDone', timing: { start, end, bytes }, sha256: hash?.digest('hex'), contentOk: true, figures: figures(cpu, start, end, rssStart),
  });
}

async function receiveWebSocket(ws: WebSocket): Promise<void> {
  if (!file) throw new Error('BENCH_RAW_FILE is not set');
  const rssStart = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const start = clock();
  let bytes = 0;
  const fd = openSync(file, 'w', 0o600);
  try {
    ws.on('message', (data: Buffer) => {
      bytes += data.byteLength;
      hash?.update(data);
      for (let at = 0; at < data.byteLength;) at += writeSync(fd, data, at);
    });
    await once(ws, 'close');
  } finally {
    closeSync(fd);
  }
  const end = clock();
  toOrchestrator({
    type: 'rawDone', timing: { start, end, bytes }, sha256: hash?.digest('hex'), contentOk: true, figures: figures(cpu, start, end, rssStart),
  });
}

async function sendWebSocket(port: number): Promise<void> {
  const rssStart = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const start = clock();
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false, generateMask: (mask) => void mask.fill(0) });
  await once(ws, 'open');
  const b = block();
  let bytes = 0;
  for (let i = 0; i < mib; i++) {
    hash?.update(b);
    for (let at = 0; at < b.byteLength; at += WS_MESSAGE_BYTES) {
      const message = b.subarray(at, at + WS_MESSAGE_BYTES);
      bytes += message.byteLength;
      // The socket's queue, as a file upload's window: past 8 MiB, wait until this message is written.
      if (ws.bufferedAmount > 8 * 1024 * 1024) await new Promise((resolve) => ws.send(message, resolve));
      else ws.send(message);
    }
  }
  ws.close();
  await once(ws, 'close');
  const end = clock();
  toOrchestrator({
    type: 'rawDone', timing: { start, end, bytes }, sha256: hash?.digest('hex'), contentOk: true, figures: figures(cpu, start, end, rssStart),
  });
}

onOrchestrator(async (message) => {
  switch (message.type) {
    case 'go':
      if (overWebSocket) await sendWebSocket(Number(env.BENCH_RAW_PORT));
      else await send(Number(env.BENCH_RAW_PORT));
      return;
    case 'stop':
      memory.stop();
      process.exit(0);
      return;
    default:
      return;
  }
});

if (role === 'receive' && overWebSocket) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: 2 * WS_MESSAGE_BYTES });
  wss.once('connection', (ws) => {
    void receiveWebSocket(ws).catch((error: Error) => toOrchestrator({ type: 'fatal', message: error.stack ?? error.message }));
  });
  wss.once('listening', () => {
    const address = wss.address();
    toOrchestrator({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
  });
} else if (role === 'receive') {
  const server = createServer((socket) => {
    server.close();
    void receive(socket).catch((error: Error) => toOrchestrator({ type: 'fatal', message: error.stack ?? error.message }));
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    toOrchestrator({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });
  });
} else {
  toOrchestrator({ type: 'listening', port: 0 });
}
