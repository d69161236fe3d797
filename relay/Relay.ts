/**
 * The relay: one process that listens on HTTP(S) + WebSocket, TCP control and UDP media. It owns the
 * listeners, the connections ({@link Connection}) and the lifecycle; the meetings ({@link Room}, with
 * their {@link Participant}s) and admission are {@link Meetings}', UDP is {@link UdpEndpoint}'s. Media is
 * forwarded without being decoded.
 * @module
 */
import { X509Certificate } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { join } from 'node:path';
import { ErrorCode, RelayError } from '../sdk/errors.js';
import { TypedEmitter } from '../sdk/TypedEmitter.js';
import {
  DEFAULT_LIMITS, FRAME_HEADER_BYTES, MAX_FILE_CHUNK_BYTES, MEDIA_HEADER_BYTES, PEER_TIMEOUT_MS, PROTOCOL_VERSION, ReassemblyBudget,
  type Limits,
} from '../sdk/protocol/index.js';
import { createHttpHandler } from './http.js';
import { createWebListener } from './web.js';
import { OriginPolicy } from './origins.js';
import { TcpLink, normalizeAddress, type PeerLink } from './links.js';
import { WsLink, createWsServer } from './wsLink.js';
import { isLoopback, reachableHosts, urlFor } from './network.js';
import { defaultDataDir, packageRoot, packageVersion } from './paths.js';
import { Connection, type ConnectionHost } from './Connection.js';
import { Meetings } from './Meetings.js';
import type { Participant } from './Participant.js';
import type { Room, RoomHost } from './Room.js';
import { UdpEndpoint } from './UdpEndpoint.js';
import type { RelayAddresses, RelayEvents, RelayInfo, RelayLog, RelayOptions, RelayStats } from './options.js';
import { FileService } from './files/FileService.js';
import { Store } from './store/Store.js';
import { caIssuedTls, type TlsMaterial } from './tls.js';
import { createTrustRoutes, type TrustRoutes } from './trust/routes.js';

export type { LogFields, RelayAddresses, RelayEvents, RelayInfo, RelayLog, RelayOptions, RelayStats } from './options.js';

/**
 * The lanconf relay.
 *
 * @example
 * ```ts
 * import { Relay } from 'lanconf/relay';
 * const relay = new Relay({ host: '127.0.0.1', port: 0, tcpPort: 0, udpPort: 0, tls: 'off' });
 * const { urls } = await relay.listen();
 * // …
 * await relay.close();
 * ```
 */
export class Relay extends TypedEmitter<RelayEvents> {
  readonly limits: Limits;
  readonly stats: RelayStats;
  readonly #options: RelayOptions;
  /** Every open connection, joined or not. */
  readonly #connections = new Set<Connection>();
  /** Every socket the HTTP(S) and TCP listeners accepted and that is still open, joined or not. */
  readonly #sockets = new Set<Socket>();
  /** Open sockets by remote address. */
  readonly #perAddress = new Map<string, number>();
  #lastRefusalLog = 0;
  readonly #log: RelayLog;
  readonly #connectionHost: ConnectionHost;
  readonly #meetings: Meetings;
  readonly #udp: UdpEndpoint;
  #store: Store | undefined;
  #files: FileService | undefined;
  /** The HTTP(S) server of the demo, bundles, files and WebSocket. */
  #http: HttpServer | undefined;
  /** With TLS: the plain HTTP server of the trust page, fed by {@link Relay.#web}. */
  #plainHttp: HttpServer | undefined;
  /** What listens on the web port: `#http` itself, or with TLS a TCP server that hands each connection to `#http` or `#plainHttp`. */
  #web: HttpServer | TcpServer | undefined;
  #tcp: TcpServer | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #addresses: RelayAddresses | undefined;
  #tlsMaterial: TlsMaterial | undefined;
  #closed = false;
  #sweeps = 0;
  #closing: Promise<void> | undefined;

  /** A relay with `options`; nothing listens until {@link Relay.listen}. */
  constructor(options: RelayOptions = {}) {
    super();
    this.#options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    const reassembly = new ReassemblyBudget(options.maxReassemblyBytes ?? 64 * 1024 * 1024);
    this.stats = {
      connections: 0, udpUnbound: 0, udpBadBind: 0, udpGarbage: 0, udpSendErrors: 0, udpForged: 0, udpReplayed: 0, connectionsRefused: 0, tlsHandshakeFailures: 0, originsRefused: 0,
      get udpReassemblyDropped() {
        return reassembly.dropped;
      },
      get udpReassemblyBytes() {
        return reassembly.held;
      },
    };
    const relay = this;
    this.#log = (level, message, fields) => options.log?.(level, message, fields);
    this.#udp = new UdpEndpoint(this.stats, (message) => this.#log('warn', message));
    this.#connectionHost = {
      limits: this.limits,
      get files() {
        return relay.#files;
      },
      videoHighWater: options.videoHighWater ?? 1024 * 1024,
      maxQueueBytes: options.maxQueueBytes ?? 64 * 1024 * 1024,
      reassemblyBudget: reassembly,
      join: (connection, message) => this.#meetings.join(connection, message),
      sendUdp: (connection, frame) => this.#udp.send(connection, frame),
      closed: (connection) => {
        this.#connections.delete(connection);
        this.#meetings.connectionClosed(connection);
      },
    };
    const roomHost: RoomHost = {
      chatHistory: Math.min(500, options.chatHistory ?? 100),
      get store() {
        return relay.#store;
      },
      maxChatChars: this.limits.maxChatChars,
      maxChatPerSecond: this.limits.maxChatPerSecond,
      maxTracksPerParticipant: this.limits.maxTracksPerParticipant,
      keyFrameInterval: options.keyFrameInterval ?? 500,
      roomEmpty: (room) => {
        this.#meetings.roomEmpty(room);
        if (!this.#closed) this.#store?.meetingEmptied(room.id, Date.now());
      },
      expel: (participant, reason, message) => this.#meetings.expel(participant, reason, message),
    };
    this.#meetings = new Meetings({
      limits: this.limits, passcode: options.passcode, hostKey: options.hostKey, passcodeAttempts: options.passcodeAttempts,
      resumeGraceMs: options.resumeGraceMs ?? 20_000, peerTimeoutMs: options.peerTimeoutMs ?? PEER_TIMEOUT_MS,
      udpPayloadSize: options.udpPayloadSize, udp: this.#udp, roomHost,
      get files() {
        return relay.#files;
      },
      get store() {
        return relay.#store;
      },
      get closing() {
        return relay.#closed;
      },
      log: this.#log,
      joined: (meeting, id, name) => this.emit('participantJoined', meeting, id, name),
      left: (meeting, id, reason) => this.emit('participantLeft', meeting, id, reason),
    });
  }

  /** Meetings in progress, by meeting id. */
  get rooms(): ReadonlyMap<string, Room> {
    return this.#meetings.rooms;
  }

  /** The participant `id` of meeting `meeting`, held for a resume or not. */
  participant(meeting: string, id: string): Participant | undefined {
    return this.#meetings.rooms.get(meeting)?.participants.get(id);
  }

  /** Where the relay listens (after {@link Relay.listen}). */
  get addresses(): RelayAddresses | undefined {
    return this.#addresses;
  }

  /** Starts every listener. Resolves once all listen; rejects (and closes what opened) if one cannot. */
  async listen(): Promise<RelayAddresses> {
    if (this.#addresses) return this.#addresses;
    if (this.#closed) throw new RelayError(ErrorCode.Closed, 'the relay is closed');
    const o = this.#options;
    const host = o.host ?? '0.0.0.0';
    const tls = await this.#loadTls(host);
    await this.#openStore();
    this.#startWeb(tls);
    this.#startTcp(tls);
    // Step 5: UDP media for native clients, sealed by default whenever the control link is TLS.
    this.#udp.sealed = o.udpEncryption ?? !!tls;
    try {
      const port = await listenOn(this.#web!, o.port ?? 8787, host);
      const tcpPort = await listenOn(this.#tcp!, o.tcpPort ?? 8788, host);
      const udpPort = await this.#udp.bind(o.udpPort ?? 8789, host);
      const scheme = tls ? 'https' : 'http';
      const urls = reachableHosts(host).map((h) => urlFor(scheme, h, port));
      this.#addresses = {
        host, port, tcpPort, udpPort, tls: !!tls, udpEncrypted: this.#udp.sealed, urls,
        ...(tls ? {
          fingerprint: tls.ca?.fingerprint ?? tls.fingerprint, certificateFingerprint: tls.fingerprint, certificateCreated: !!tls.created,
          ...(tls.ca ? {
            ca: { fingerprint: tls.ca.fingerprint, name: tls.ca.name, own: tls.ca.own, created: tls.ca.created, path: tls.ca.certPath },
            trustUrls: urls.map((u) => `${u.replace(/^https:/, 'http:')}trust`),
          } : {}),
          ...(tls.leftOut?.length ? { leftOut: tls.leftOut } : {}),
        } : {}),
      };
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#timer = setInterval(() => this.#sweep(), 1000);
    this.#timer.unref();
    return this.#addresses;
  }

  /** Step 1 of listen: the TLS material (the CA's server certificate, the admin's own, or none). */
  async #loadTls(host: string): Promise<TlsMaterial | undefined> {
    const o = this.#options;
    const mode = o.tls ?? 'auto';
    let tls: TlsMaterial | undefined;
    if (typeof mode === 'object' && 'cert' in mode) {
      tls = { ...mode, fingerprint: new X509Certificate(mode.cert).fingerprint256, selfSigned: false };
    } else if (typeof mode === 'object' || mode === 'on' || (mode === 'auto' && !isLoopback(host))) {
      const source = typeof mode === 'object' ? { caCert: mode.caCert, caKey: mode.caKey } : {};
      try {
        tls = await caIssuedTls(o.dataDir ?? defaultDataDir(), host, { ...source, ...(o.hostnames ? { hostnames: o.hostnames } : {}) });
      } catch (error) {
        throw new RelayError(ErrorCode.Internal, `cannot set up TLS: ${(error as Error).message}`);
      }
      if (tls.leftOut?.length) {
        this.#log('warn', `left out of the certificate (outside what the relay's CA may vouch for): ${tls.leftOut.join(', ')}`);
      }
    }
    this.#tlsMaterial = tls;
    return tls;
  }

  /** Step 2: the store (chat history, files). */
  async #openStore(): Promise<void> {
    const o = this.#options;
    const dataDir = o.dataDir ?? defaultDataDir();
    try {
      this.#store = new Store(dataDir);
      this.#files = new FileService({
        dataDir, store: this.#store, limits: this.limits, retentionMs: o.fileRetentionMs ?? 24 * 3600_000,
        ...(o.maxFilesPerMeeting !== undefined ? { maxFilesPerMeeting: o.maxFilesPerMeeting } : {}),
        ...(o.maxFilesPerParticipant !== undefined ? { maxFilesPerParticipant: o.maxFilesPerParticipant } : {}),
        ...(o.minFileChargeBytes !== undefined ? { minFileChargeBytes: o.minFileChargeBytes } : {}),
        broadcast: (meeting, message) => this.#meetings.rooms.get(meeting)?.broadcast(message),
        log: this.#log,
      });
      await this.#files.init();
    } catch (error) {
      this.#store?.close();
      throw new RelayError(ErrorCode.Internal, `cannot open the data dir ${dataDir}: ${(error as Error).message}`);
    }
  }

  /** Step 3: HTTP(S) + WebSocket, and with TLS the trust page in plain HTTP on the same port (relay/web.ts). */
  #startWeb(tls: TlsMaterial | undefined): void {
    const o = this.#options;
    const root = packageRoot();
    const trust = tls ? this.#trustRoutes(tls) : undefined;
    const handler = createHttpHandler(
      // The demo pages from dist/demo (precompressed by the build), else as written in demo/.
      o.serveDemo === false ? [] : [{ prefix: '/dist/', dir: join(root, 'dist') }, { prefix: '/', dir: join(root, 'dist', 'demo') }, { prefix: '/', dir: join(root, 'demo') }],
      () => this.info(),
      (req, res, url) => (trust?.(req, res, url, true) ?? false) || (this.#files?.handleHttp(req, res, url) ?? false),
    );
    const maxWsPayload = Math.max(this.limits.maxFrameBytes, MAX_FILE_CHUNK_BYTES) + MEDIA_HEADER_BYTES + 1024;
    const wss = createWsServer(maxWsPayload);
    const origins = new OriginPolicy(o.allowOrigins);
    const listener = createWebListener({
      tls, handler, trust: trust && ((req, res, url) => trust(req, res, url, false)),
      handshakeTimeoutMs: o.handshakeTimeoutMs ?? 5000, joinTimeoutMs: o.joinTimeoutMs ?? 10_000,
      accepted: (socket) => this.#track(socket),
      tlsFailed: () => this.stats.tlsHandshakeFailures++,
      upgrade: (req, socket, head) => {
        if (this.#closed) return socket.destroy();
        // A page of an origin not allowed: refused before the handshake, so it never reaches a meeting.
        const self = (this.#addresses?.urls ?? []).map((u) => new URL(u).origin);
        if (!origins.allows(req.headers.origin, self)) {
          this.stats.originsRefused++;
          socket.end('HTTP/1.1 403 Forbidden\r\nconnection: close\r\ncontent-type: text/plain\r\n\r\nthis page may not join meetings on this relay (--allow-origin)\n', () => socket.destroy());
          setTimeout(() => socket.destroy(), 2000).unref();
          return;
        }
        // ws refuses a bad handshake itself (400, or 405 for a method that is not GET) and destroys the socket once that is out.
        wss.handleUpgrade(req, socket, head, (ws) => this.#accept(new WsLink(ws, req)));
      },
    });
    this.#http = listener.http;
    this.#plainHttp = listener.plain;
    this.#web = listener.web;
  }

  /** Step 4: TCP control for native clients (TLS when the web side is HTTPS). */
  #startTcp(tls: TlsMaterial | undefined): void {
    const onTcp = (socket: Socket) => {
      if (this.#closed || socket.destroyed) return socket.destroy();
      this.#accept(new TcpLink(socket, Math.max(this.limits.maxControlBytes, Math.max(this.limits.maxFrameBytes, MAX_FILE_CHUNK_BYTES) + MEDIA_HEADER_BYTES) + FRAME_HEADER_BYTES));
    };
    const handshakeTimeout = this.#options.handshakeTimeoutMs ?? 5000;
    const tcp = tls ? createTlsServer({ cert: tls.cert, key: tls.key, handshakeTimeout }, onTcp) : createTcpServer({ pauseOnConnect: true }, onTcp);
    this.#tcp = tcp;
    // Before onTcp, which only sees a plain connection once accepted (or a TLS one once its handshake is done).
    tcp.prependListener('connection', (socket: Socket) => this.#track(socket));
    tcp.on('tlsClientError', (_error, socket) => {
      // A failed or timed-out handshake: Node leaves the socket open unless it is destroyed here.
      this.stats.tlsHandshakeFailures++;
      socket.destroy();
    });
  }

  /** The trust page's routes, for the CA (or certificate) in `tls`. */
  #trustRoutes(tls: TlsMaterial): TrustRoutes {
    return createTrustRoutes({
      material: () => this.#tlsMaterial ?? tls,
      httpsOrigins: () => (this.#addresses?.urls ?? []).map((u) => u.replace(/\/$/, '')),
    });
  }

  /** Uploads and downloads in progress. */
  get fileTransfers(): { uploads: number; downloads: number } {
    return this.#files?.activeTransfers ?? { uploads: 0, downloads: 0 };
  }

  /** Bytes of shared file content on disk (each content once, whatever the number of meetings sharing it). */
  storedFileBytes(): Promise<number> {
    return this.#files?.storedBytes() ?? Promise.resolve(0);
  }

  /** The certificate chain in use (PEM: the server certificate, then its CA's), when TLS is on: give it to Node clients as `tls.ca`. */
  get certificate(): string | undefined {
    return this.#tlsMaterial?.cert;
  }

  /** The CA certificate (PEM) the server certificate was issued from, when the relay has one. */
  get caCertificate(): string | undefined {
    return this.#tlsMaterial?.ca?.cert;
  }

  /** What `/.well-known/lanconf` tells clients. */
  info(): RelayInfo {
    const a = this.#addresses;
    return {
      service: 'lanconf', version: packageVersion(), protocol: PROTOCOL_VERSION,
      tcp: { port: a?.tcpPort ?? 0, tls: !!a?.tls }, udp: { port: a?.udpPort ?? 0 },
      passcode: !!this.#options.passcode, limits: this.limits,
    };
  }

  /**
   * Closes every peer cleanly (each gets a `LAN_ERR_SHUTDOWN` error, then a close), then every listener.
   * Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#meetings.close('the relay is shutting down');
    for (const connection of [...this.#connections]) connection.close('goingAway', ErrorCode.Shutdown);
    // Let the close frames reach the clients, then drop whatever is left.
    const deadline = Date.now() + 1000;
    while (this.#connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const connection of [...this.#connections]) connection.link.destroy();
    // Connections that never joined (a TLS handshake in progress, an idle HTTP socket) hold the servers open.
    for (const socket of [...this.#sockets]) socket.destroy();
    this.#http?.closeAllConnections();
    this.#plainHttp?.closeAllConnections();
    if (this.#web !== this.#http) {
      // Not listening: close() only stops their connection tracking.
      this.#http?.close();
      this.#plainHttp?.close();
    }
    await Promise.all([closeServer(this.#web), closeServer(this.#tcp), this.#udp.close(), this.#files?.close()]);
    this.#store?.close();
    this.emit('closed');
  }

  /** Counts an accepted socket against its address, closing it at once past the limit. */
  #track(socket: Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const address = normalizeAddress(socket.remoteAddress);
    const open = this.#perAddress.get(address) ?? 0;
    const max = this.#options.maxConnectionsPerAddress ?? 64;
    if (open >= max) {
      this.stats.connectionsRefused++;
      const now = Date.now();
      if (now - this.#lastRefusalLog > 10_000) {
        this.#lastRefusalLog = now;
        this.#log('warn', `${address} has ${open} connections open (the most one address may have): refusing more`, { address });
      }
      socket.destroy();
      return;
    }
    this.#perAddress.set(address, open + 1);
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      const left = (this.#perAddress.get(address) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(address, left);
      else this.#perAddress.delete(address);
    });
  }

  #accept(link: PeerLink): void {
    this.stats.connections++;
    this.#connections.add(new Connection(link, this.#connectionHost));
  }

  /**
   * Issues the server certificate again from its CA when it nears expiry or the machine's addresses
   * changed (a new DHCP lease, a cable moved), and swaps it into the listeners: nobody is asked to trust
   * anything new. Checked once a minute.
   */
  async #refreshCertificate(): Promise<void> {
    const current = this.#tlsMaterial;
    if (!current?.ca || this.#closed) return;
    const o = this.#options;
    const host = o.host ?? '0.0.0.0';
    const tls = await caIssuedTls(o.dataDir ?? defaultDataDir(), host, {
      ...(current.ca.own ? {} : { caCert: current.ca.cert, caKey: current.ca.key }), ...(o.hostnames ? { hostnames: o.hostnames } : {}),
    });
    if (!tls.created || this.#closed) return;
    this.#tlsMaterial = tls;
    (this.#http as HttpsServer | undefined)?.setSecureContext({ cert: tls.cert, key: tls.key });
    (this.#tcp as TlsServer | undefined)?.setSecureContext({ cert: tls.cert, key: tls.key });
    if (this.#addresses) this.#addresses.certificateFingerprint = tls.fingerprint;
    this.#log('info', `issued a new server certificate from the same authority (${tls.fingerprint}): the machine's addresses changed or it neared expiry`);
  }

  #sweep(): void {
    const now = Date.now();
    if (++this.#sweeps % 60 === 0) {
      void this.#refreshCertificate().catch((error: Error) => this.#log('warn', `cannot issue a new server certificate: ${error.message}`));
    }
    this.#meetings.sweep(now);
    void this.#files?.sweep(now).catch((error: Error) => this.#log('warn', `file housekeeping failed: ${error.message}`));
    const fileRetention = this.#options.fileRetentionMs ?? 24 * 3600_000;
    try {
      for (const meeting of this.#store?.expireChat(now - (this.#options.chatRetentionMs ?? fileRetention), now - fileRetention) ?? []) {
        this.#log('info', `removed the chat of "${meeting}", empty for longer than its retention`, { meeting });
      }
    } catch (error) {
      this.#log('warn', `chat housekeeping failed: ${(error as Error).message}`);
    }
    const silent = this.#options.peerTimeoutMs ?? PEER_TIMEOUT_MS;
    const joinTimeout = this.#options.joinTimeoutMs ?? 10_000;
    for (const connection of [...this.#connections]) {
      if (!connection.participant) {
        if (now - connection.openedAt > joinTimeout) {
          connection.sendError(new RelayError(ErrorCode.Timeout, `no join within ${joinTimeout} ms`), { fatal: true });
        }
      } else if (now - connection.lastHeard > silent) {
        connection.sendError(new RelayError(ErrorCode.Timeout, `nothing heard for ${silent} ms`), { fatal: true });
      } else if (connection.udp?.address) {
        connection.expireFragments();
      }
    }
  }
}

function listenOn(server: HttpServer | TcpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function closeServer(server: HttpServer | TcpServer | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!server || !server.listening) return resolve();
    (server as HttpServer).closeAllConnections?.();
    server.close(() => resolve());
  });
}
