/**
 * The relay's web port: HTTP(S) for the demo page, the bundles, file downloads and WebSocket upgrades.
 * With TLS, the same port also answers plain HTTP for people whose browser does not trust the relay
 * yet, with the trust page only: the first byte of a connection tells them apart (a TLS handshake
 * starts with 0x16).
 * @module
 * @internal
 */
import type { IncomingMessage, RequestListener } from 'node:http';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** What the web port is built from. @internal */
export interface WebOptions {
  /** The server certificate and key, for HTTPS; absent for plain HTTP. */
  tls: { cert: string; key: string } | undefined;
  /** The HTTP(S) request handler. */
  handler: RequestListener;
  /** With TLS: answers a plain HTTP request with the trust routes; `false` when the path is not one of them. */
  trust: ((req: IncomingMessage, res: import('node:http').ServerResponse, url: URL) => boolean) | undefined;
  /** A TLS handshake must finish within this (ms). */
  handshakeTimeoutMs: number;
  /** An HTTP request's headers (a WebSocket's handshake) must come within this (ms). */
  joinTimeoutMs: number;
  /** A WebSocket upgrade request. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Every accepted socket, before anything is read from it (it may destroy it). */
  accepted(socket: Socket): void;
  /** A TLS handshake failed or did not finish in time. */
  tlsFailed(): void;
}

/** The servers of the web port: `web` listens; `http` (and with TLS `plain`) are fed by it. @internal */
export interface WebListener {
  web: HttpServer | TcpServer;
  http: HttpServer;
  plain: HttpServer | undefined;
}

/** Builds the web port's servers (nothing listens yet). */
export function createWebListener(o: WebOptions): WebListener {
  // Node checks the headers and request timeouts on connectionsCheckingInterval (30 s by default: a silent
  // connection stayed up to 40 s).
  const httpOptions = {
    connectionsCheckingInterval: Math.min(1000, o.joinTimeoutMs), headersTimeout: o.joinTimeoutMs, requestTimeout: Math.max(30_000, o.joinTimeoutMs),
  };
  const tls = o.tls;
  const http = tls ? createHttpsServer({ ...httpOptions, cert: tls.cert, key: tls.key, handshakeTimeout: o.handshakeTimeoutMs }, o.handler) : createHttpServer(httpOptions, o.handler);
  http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => o.upgrade(req, socket, head));
  const clientError = (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A TLS handshake that failed or timed out: there is no HTTP to answer on (an answer would wait for
    // a handshake that never comes, and keep the socket open for ever).
    if (isTlsFailure(err)) {
      o.tlsFailed();
      socket.destroy();
      return;
    }
    // 408 for an idle kept-alive socket, which browsers retry; 400 only for real garbage.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
      : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (err.code !== 'ECONNRESET' && socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    else socket.destroy();
  };
  http.on('clientError', clientError);
  if (!tls) {
    http.on('connection', (socket: Socket) => o.accepted(socket));
    return { web: http, http, plain: undefined };
  }
  // Plain HTTP next to HTTPS: the trust page and its downloads; any other path is sent to it.
  const plain = createHttpServer(httpOptions, (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://relay');
    } catch {
      url = new URL('http://relay/');
    }
    if (!o.trust?.(req, res, url)) {
      res.writeHead(303, { location: '/trust', 'content-length': 0, 'cache-control': 'no-store' });
      res.end();
    }
  });
  plain.on('clientError', clientError);
  // Neither server listens itself (the TCP server below does), but Node starts an HTTP server's tracking of
  // its connections (closeAllConnections, the headers and request timeouts) on 'listening'.
  http.emit('listening');
  plain.emit('listening');
  const web = createTcpServer({ pauseOnConnect: true }, (socket) => {
    o.accepted(socket);
    if (socket.destroyed) return;
    socket.on('error', () => socket.destroy());
    // A connection that sends nothing at all is closed like one whose handshake never ends.
    socket.setTimeout(o.handshakeTimeoutMs, () => {
      o.tlsFailed();
      socket.destroy();
    });
    socket.once('data', (chunk: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(chunk);
      (chunk[0] === 0x16 ? http : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.resume();
  });
  return { web, http, plain };
}

/** An error of a TLS handshake (failed, or not done in time), as the HTTPS server reports it. */
function isTlsFailure(error: NodeJS.ErrnoException & { library?: string }): boolean {
  const code = error.code ?? '';
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || error.library !== undefined;
}
