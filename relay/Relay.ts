/**
 * The relay: one process that listens on HTTP(S) + WebSocket, TCP control and UDP media, keeps the
 * meetings ({@link Room}) and their clients ({@link Peer}), and forwards media without decoding it.
 * @module
 */
import { X509Certificate, timingSafeEqual, createHash } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import { ErrorCode, RelayError } from '../sdk/errors.js';
import { TypedEmitter } from '../sdk/TypedEmitter.js';
import {
  DEFAULT_LIMITS, DEFAULT_UDP_PAYLOAD, FRAME_HEADER_BYTES, MAX_FILE_CHUNK_BYTES, MAX_UDP_DATAGRAM, MEDIA_HEADER_BYTES, PacketType, PEER_TIMEOUT_MS, PING_INTERVAL_MS,
  PROTOCOL_VERSION, ReassemblyBudget, UDP_BIND_ACK, UDP_TOKEN_BYTES, decodeUdpBind, randomId, randomToken,
  type ClientMessageOf, type Limits,
} from '../sdk/protocol/index.js';
import { createHttpHandler } from './http.js';
import { AttemptLimiter, type AttemptLimits } from './AttemptLimiter.js';
import { OriginPolicy } from './origins.js';
import { TcpLink, normalizeAddress, type PeerLink } from './links.js';
import { WsLink, createWsServer } from './wsLink.js';
import { SEAL_OVERHEAD, SEALED_BIND_BYTES, UdpSeal, newUdpKey, sealedBindToken } from '../sdk/transport/udpSeal.js';
import { isLoopback, reachableHosts, urlFor } from './network.js';
import { defaultDataDir, packageRoot, packageVersion } from './paths.js';
import { Peer, type ForwardedFrame, type PeerHost } from './Peer.js';
import { Room, type RoomHost } from './Room.js';
import { FileService } from './files/FileService.js';
import { Store } from './store/Store.js';
import { caIssuedTls, type TlsMaterial } from './tls.js';
import { createTrustRoutes, type TrustRoutes } from './trust/routes.js';

/** Options of a {@link Relay}. Every one has a default fit for a LAN. */
export interface RelayOptions {
  /** Address to listen on. Default `0.0.0.0` (the whole LAN). */
  host?: string;
  /** HTTP(S) + WebSocket port. Default 8787; 0 picks a free one. */
  port?: number;
  /** TCP control port for native clients. Default 8788; 0 picks a free one. */
  tcpPort?: number;
  /** UDP media port for native clients. Default 8789; 0 picks a free one. */
  udpPort?: number;
  /**
   * `'auto'` (default): HTTPS with a certificate from the relay's own certificate authority (a CA made
   * once in the data dir, name-constrained to private addresses and local names, that people trust once
   * through the trust page at `http://…/trust`), unless the relay listens on loopback only, where plain
   * HTTP is a secure context already. `'on'` forces it, `'off'` plain HTTP. Or give the admin's own
   * ready certificate and key (PEM, `{ cert, key }`), or an organisation's CA to issue the server
   * certificate from (`{ caCert, caKey }`).
   */
  tls?: 'auto' | 'on' | 'off' | { cert: string; key: string } | { caCert: string; caKey: string };
  /**
   * DNS names (besides `localhost`, `.local` names and this machine's host name) the relay's own CA may
   * vouch for and its certificate covers. Fixed when the CA is made, at first start: a name added later
   * needs a new CA (`lanconf-relay ca --renew`), and so a new trust step for everyone.
   */
  hostnames?: string[];
  /** Where the relay keeps its certificate, chat history (SQLite) and shared files. */
  dataDir?: string;
  /**
   * Web pages (origins, `https://intranet.example`) whose scripts may open a WebSocket to the relay, besides the
   * relay's own demo page. Default: any (`['*']`), as browsers let any page try; a page of another origin is
   * refused with 403 before any meeting is touched. Native and Node clients send no origin and are not affected.
   */
  allowOrigins?: string[];
  /** A passcode every participant must give. Default none. */
  passcode?: string;
  /**
   * How passcode guessing is slowed down, per source address: after `freeFailures` (3) wrong ones, each makes
   * the address wait `baseDelayMs` (1 s) doubled per further failure, up to `maxDelayMs` (15 min, the lockout).
   */
  passcodeAttempts?: Partial<AttemptLimits>;
  /** Limits; each one defaults to {@link DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  /** UDP payload size for native subscribers that do not choose one. Default 60000. */
  udpPayloadSize?: number;
  /**
   * Native clients' UDP media encrypted and authenticated (AES-128-GCM, a key per connection sent over the
   * control link; docs/security.md). Default: on whenever the control link is TLS. Without TLS the key
   * would cross the LAN in the clear, so it only keeps out spoofers who cannot also read the control link.
   */
  udpEncryption?: boolean;
  /**
   * Chat messages a late joiner gets in `welcome` (all are kept, up to 10 000 per meeting). Default 100, at
   * most 500 (a welcome must stay far below the SDK's 16 MiB message limit: see docs/protocol.md).
   */
  chatHistory?: number;
  /** Files one meeting may hold, uploads in progress included. Default 1000. */
  maxFilesPerMeeting?: number;
  /** Files one participant may share in a meeting, uploads in progress included. Default 200. */
  maxFilesPerParticipant?: number;
  /** Each file counts at least this much against the meeting's quota (bytes). Default 64 KiB. */
  minFileChargeBytes?: number;
  /** Shared files of a meeting are removed this long after its last participant left (ms). Default 24 h. */
  fileRetentionMs?: number;
  /**
   * A meeting's chat is removed this long after its last participant left (ms), so a later meeting of the
   * same name starts with no history. Default: `fileRetentionMs`.
   */
  chatRetentionMs?: number;
  /**
   * A participant whose connection dropped is held this long (ms) for its client to reconnect with its
   * resume token and carry on as the same participant. Default 20000; 0 turns resume off.
   */
  resumeGraceMs?: number;
  /** A subscriber with more than this many bytes queued gets no video until it catches up. Default 1 MiB. */
  videoHighWater?: number;
  /** A subscriber with more than this many bytes queued is disconnected (it stopped reading). Default 64 MiB. */
  maxQueueBytes?: number;
  /**
   * Bytes all native participants may hold together in UDP frames being reassembled (each one also at
   * most twice `limits.maxFrameBytes`). Past it, whoever holds the most loses its oldest frame. Default 64 MiB.
   */
  maxReassemblyBytes?: number;
  /** Smallest interval between key-frame requests per track (ms). Default 500. */
  keyFrameInterval?: number;
  /** A peer silent this long is removed (ms). Default 6000. */
  peerTimeoutMs?: number;
  /** A connection that has not joined within this time is closed (ms). Default 10000. */
  joinTimeoutMs?: number;
  /**
   * A TLS connection (HTTPS or native TCP) whose handshake is not done within this time is closed (ms).
   * Default 5000.
   */
  handshakeTimeoutMs?: number;
  /**
   * Connections open at once from one IP address, over the HTTP(S) and TCP listeners together (a browser
   * holds a few for the page and one for its session); more are closed at once. Default 64; raise it for a
   * load test that runs many clients from one address.
   */
  maxConnectionsPerAddress?: number;
  /** Serve the demo page and bundles over HTTP. Default `true`. */
  serveDemo?: boolean;
  /** Where log lines go. Default: none. The CLI prints them. */
  log?: RelayLog;
}

/** What a log line is about, where it knows: the meeting, the participant (id and name), the remote address. */
export interface LogFields {
  meeting?: string;
  participant?: string;
  name?: string;
  address?: string;
}

/** Where the relay's log lines go: a level, a sentence for people, and the fields it is about. */
export type RelayLog = (level: 'info' | 'warn', message: string, fields?: LogFields) => void;

/** Where a listening relay can be reached. */
export interface RelayAddresses {
  host: string;
  /** HTTP(S) + WebSocket port. */
  port: number;
  tcpPort: number;
  udpPort: number;
  /** `true` when HTTP is HTTPS (and WebSocket is WSS). */
  tls: boolean;
  /** Native clients' UDP media is encrypted and authenticated (RelayOptions.udpEncryption). */
  udpEncrypted: boolean;
  /**
   * SHA-256 fingerprint to pin (a Node client's `tls.fingerprint`), when TLS is on: the CA's, so server
   * certificates it issues later keep matching; the certificate's own with the admin's ready certificate.
   */
  fingerprint?: string;
  /** SHA-256 fingerprint of the server certificate itself. */
  certificateFingerprint?: string;
  /** `true` when the server certificate was made now. */
  certificateCreated?: boolean;
  /** The CA the server certificate comes from (absent with the admin's ready certificate). */
  ca?: { fingerprint: string; name: string; own: boolean; created: boolean; path: string };
  /** The trust page at each URL (plain `http://…/trust`), when the relay has a CA. */
  trustUrls?: string[];
  /** This machine's names or addresses the certificate leaves out (outside the CA's constraints). */
  leftOut?: string[];
  /** Every base URL a browser or client on the LAN can use (`https://192.168.1.20:8787/`…). */
  urls: string[];
}

/** What `/.well-known/lanconf` answers. */
export interface RelayInfo {
  service: 'lanconf';
  version: string;
  protocol: number;
  tcp: { port: number; tls: boolean };
  udp: { port: number };
  passcode: boolean;
  limits: Limits;
}

/** Relay-wide counters. */
export interface RelayStats {
  connections: number;
  udpUnbound: number;
  udpBadBind: number;
  udpGarbage: number;
  udpSendErrors: number;
  /** Connections closed at once because their address had `maxConnectionsPerAddress` open already. */
  connectionsRefused: number;
  /** TLS connections closed because their handshake failed or did not finish in time. */
  tlsHandshakeFailures: number;
  /** WebSocket handshakes refused because their page's origin is not in `allowOrigins`. */
  originsRefused: number;
  /**
   * Sealed UDP datagrams (and binds) dropped because they did not authenticate: made up, changed, sealed under
   * another connection's key, or unsealed media from a client whose media must be sealed.
   */
  udpForged: number;
  /** Sealed UDP datagrams dropped because their sequence number was seen before or is older than the replay window. */
  udpReplayed: number;
  /** UDP frames dropped in reassembly, over all participants: incomplete in time, inconsistent, over a limit, evicted. */
  readonly udpReassemblyDropped: number;
  /** Bytes held now in UDP frames being reassembled, over all participants. */
  readonly udpReassemblyBytes: number;
}

/** Events of a {@link Relay}. */
export type RelayEvents = {
  /** A participant joined a meeting. */
  participantJoined: [meeting: string, participantId: string, name: string];
  /** A participant left a meeting (or was removed). */
  participantLeft: [meeting: string, participantId: string, reason: string];
  /** The relay closed. */
  closed: [];
};

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
  readonly #rooms = new Map<string, Room>();
  readonly #peers = new Set<Peer>();
  /** Every socket the HTTP(S) and TCP listeners accepted and that is still open, joined or not. */
  readonly #sockets = new Set<Socket>();
  /** Open sockets by remote address. */
  readonly #perAddress = new Map<string, number>();
  #lastRefusalLog = 0;
  /** Wrong passcodes per source address. */
  readonly #attempts: AttemptLimiter;
  readonly #linkOpenedAt = new WeakMap<Peer, number>();
  readonly #udpTokens = new Map<string, Peer>();
  readonly #udpBindings = new Map<string, Peer>();
  /** Native clients' UDP is sealed (RelayOptions.udpEncryption), decided once the TLS set-up is known. */
  #sealUdp = false;
  readonly #peerHost: PeerHost;
  readonly #roomHost: RoomHost;
  /** Joined participants (those held for a resume included) by their current resume token. */
  readonly #byResumeToken = new Map<string, Peer>();
  /** Participants whose connection dropped, held for a resume: until when (ms). */
  readonly #held = new Map<Peer, number>();
  #store: Store | undefined;
  #files: FileService | undefined;
  /** The HTTP(S) server of the demo, bundles, files and WebSocket. */
  #http: HttpServer | undefined;
  /** With TLS: the plain HTTP server of the trust page, fed by {@link Relay.#web}. */
  #plainHttp: HttpServer | undefined;
  /** What listens on the web port: `#http` itself, or with TLS a TCP server that hands each connection to `#http` or `#plainHttp`. */
  #web: HttpServer | TcpServer | undefined;
  #tcp: TcpServer | undefined;
  #udp: UdpSocket | undefined;
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
    this.#attempts = new AttemptLimiter(options.passcodeAttempts);
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
    const log: RelayLog = (level, message, fields) => options.log?.(level, message, fields);
    this.#peerHost = {
      limits: this.limits,
      get files() {
        return relay.#files;
      },
      videoHighWater: options.videoHighWater ?? 1024 * 1024,
      maxQueueBytes: options.maxQueueBytes ?? 64 * 1024 * 1024,
      reassemblyBudget: reassembly,
      join: (peer, message) => relay.#join(peer, message),
      sendUdp: (peer, frame) => relay.#sendUdp(peer, frame),
      peerClosed: (peer) => relay.#peerClosed(peer),
      log,
    };
    this.#roomHost = {
      chatHistory: Math.min(500, options.chatHistory ?? 100),
      get store() {
        return relay.#store;
      },
      maxChatChars: this.limits.maxChatChars,
      maxChatPerSecond: this.limits.maxChatPerSecond,
      maxTracksPerParticipant: this.limits.maxTracksPerParticipant,
      keyFrameInterval: options.keyFrameInterval ?? 500,
      roomEmpty: (room) => {
        if (this.#rooms.get(room.id) === room) this.#rooms.delete(room.id);
        if (!this.#closed) this.#store?.meetingEmptied(room.id, Date.now());
      },
    };
  }

  /** Meetings in progress, by meeting id. */
  get rooms(): ReadonlyMap<string, Room> {
    return this.#rooms;
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
    this.#sealUdp = o.udpEncryption ?? !!tls;
    await this.#openStore();
    this.#startWeb(tls);
    this.#startTcp(tls);
    this.#startUdp(host);
    try {
      const port = await listenOn(this.#web!, o.port ?? 8787, host);
      const tcpPort = await listenOn(this.#tcp!, o.tcpPort ?? 8788, host);
      const udpPort = await this.#bindUdp(o.udpPort ?? 8789, host);
      const scheme = tls ? 'https' : 'http';
      const urls = reachableHosts(host).map((h) => urlFor(scheme, h, port));
      this.#addresses = {
        host, port, tcpPort, udpPort, tls: !!tls, udpEncrypted: this.#sealUdp, urls,
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
        this.#peerHost.log('warn', `left out of the certificate (outside what the relay's CA may vouch for): ${tls.leftOut.join(', ')}`);
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
        broadcast: (meeting, message) => this.#rooms.get(meeting)?.broadcast(message),
        log: this.#peerHost.log,
      });
      await this.#files.init();
    } catch (error) {
      this.#store?.close();
      throw new RelayError(ErrorCode.Internal, `cannot open the data dir ${dataDir}: ${(error as Error).message}`);
    }
  }

  /**
   * Step 3: HTTP(S) + WebSocket. With TLS, one port serves HTTPS and, for people whose browser does not
   * trust the relay yet, plain HTTP with the trust page only: the first byte of a connection tells them
   * apart (a TLS handshake starts with 0x16).
   */
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
    const handshakeTimeout = o.handshakeTimeoutMs ?? 5000;
    // An HTTP request's headers (a WebSocket's handshake) must come within the join timeout. Node checks
    // these timeouts on connectionsCheckingInterval (30 s by default: a silent connection stayed up to 40 s).
    const joinTimeout = o.joinTimeoutMs ?? 10_000;
    const httpOptions = { connectionsCheckingInterval: Math.min(1000, joinTimeout), headersTimeout: joinTimeout, requestTimeout: Math.max(30_000, joinTimeout) };
    const http = tls ? createHttpsServer({ ...httpOptions, cert: tls.cert, key: tls.key, handshakeTimeout }, handler) : createHttpServer(httpOptions, handler);
    this.#http = http;
    const maxWsPayload = Math.max(this.limits.maxFrameBytes, MAX_FILE_CHUNK_BYTES) + MEDIA_HEADER_BYTES + 1024;
    const wss = createWsServer(maxWsPayload);
    const origins = new OriginPolicy(o.allowOrigins);
    http.on('upgrade', (req, socket: Socket, head: Buffer) => {
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
    });
    http.on('clientError', (err: NodeJS.ErrnoException, socket) => this.#httpClientError(err, socket));
    if (!tls) {
      http.on('connection', (socket: Socket) => this.#track(socket));
      this.#web = http;
      return;
    }
    // Plain HTTP next to HTTPS: the trust page and its downloads; any other path is sent to it.
    const plain = createHttpServer(httpOptions, (req, res) => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://relay');
      } catch {
        url = new URL('http://relay/');
      }
      if (!trust!(req, res, url, false)) {
        res.writeHead(303, { location: '/trust', 'content-length': 0, 'cache-control': 'no-store' });
        res.end();
      }
    });
    plain.on('clientError', (err: NodeJS.ErrnoException, socket) => this.#httpClientError(err, socket));
    this.#plainHttp = plain;
    // Neither server listens itself (the TCP server below does), but Node starts an HTTP server's tracking of
    // its connections (closeAllConnections, the headers and request timeouts) on 'listening'.
    http.emit('listening');
    plain.emit('listening');
    this.#web = createTcpServer({ pauseOnConnect: true }, (socket) => {
      this.#track(socket);
      if (socket.destroyed) return;
      socket.on('error', () => socket.destroy());
      // A connection that sends nothing at all is closed like one whose handshake never ends.
      socket.setTimeout(handshakeTimeout, () => {
        this.stats.tlsHandshakeFailures++;
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
  }

  #httpClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    // A TLS handshake that failed or timed out: there is no HTTP to answer on (an answer would wait for
    // a handshake that never comes, and keep the socket open for ever).
    if (isTlsFailure(err)) {
      this.stats.tlsHandshakeFailures++;
      socket.destroy();
      return;
    }
    // 408 for an idle kept-alive socket, which browsers retry; 400 only for real garbage.
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout'
      : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (err.code !== 'ECONNRESET' && socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
    else socket.destroy();
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

  /** Step 5: UDP media for native clients. */
  #startUdp(host: string): void {
    this.#udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
    this.#udp.on('message', (msg, rinfo) => this.#onUdp(msg, rinfo));
    this.#udp.on('error', (error) => this.#peerHost.log('warn', `UDP socket error: ${error.message}`));
  }

  #bindUdp(port: number, host: string): Promise<number> {
    const udp = this.#udp!;
    return new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        const got = udp.getRecvBufferSize();
        if (got < UDP_BUFFER_BYTES) {
          this.#peerHost.log('warn', `UDP receive buffer is ${got} bytes, not ${UDP_BUFFER_BYTES}: bursts of fragments may be lost. ` +
            `Raise the limit (Linux: sysctl -w net.core.rmem_max=${UDP_BUFFER_BYTES}).`);
        }
        resolve(udp.address().port);
      });
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
    this.#held.clear();
    for (const room of [...this.#rooms.values()]) room.close('the relay is shutting down');
    for (const peer of [...this.#peers]) peer.close('goingAway', ErrorCode.Shutdown);
    // Let the close frames reach the clients, then drop whatever is left.
    const deadline = Date.now() + 1000;
    while (this.#peers.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const peer of [...this.#peers]) peer.link.destroy();
    // Connections that never joined (a TLS handshake in progress, an idle HTTP socket) hold the servers open.
    for (const socket of [...this.#sockets]) socket.destroy();
    this.#http?.closeAllConnections();
    this.#plainHttp?.closeAllConnections();
    if (this.#web !== this.#http) {
      // Not listening: close() only stops their connection tracking.
      this.#http?.close();
      this.#plainHttp?.close();
    }
    await Promise.all([
      closeServer(this.#web),
      closeServer(this.#tcp),
      new Promise<void>((r) => {
        if (!this.#udp) return r();
        try {
          this.#udp.close(() => r());
        } catch {
          r();
        }
      }),
      this.#files?.close(),
    ]);
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
        this.#peerHost.log('warn', `${address} has ${open} connections open (the most one address may have): refusing more`, { address });
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
    const peer = new Peer(link, this.#peerHost);
    this.#peers.add(peer);
    this.#linkOpenedAt.set(peer, Date.now());
  }

  #join(peer: Peer, message: ClientMessageOf<'join'>): void {
    const passcode = this.#options.passcode;
    if (passcode !== undefined && !this.#checkSecret('passcode', passcode, message.passcode, peer, message.meeting)) return;
    if (message.transport !== peer.link.transport) {
      peer.sendError(new RelayError(ErrorCode.InvalidMessage, `join says transport "${message.transport}" on a ${peer.link.transport} connection`), { fatal: true });
      return;
    }
    const previous = message.resume !== undefined ? this.#byResumeToken.get(message.resume) : undefined;
    if (previous && previous.room?.id === message.meeting && previous.room.peers.get(previous.id) === previous) {
      // Held after a drop, or still thought alive (the client saw the drop first): the new connection takes over.
      this.#resume(peer, previous, message);
      return;
    }
    let room = this.#rooms.get(message.meeting);
    if (room && room.peers.size >= this.limits.maxParticipants) {
      peer.sendError(new RelayError(ErrorCode.RoomFull, `meeting "${message.meeting}" is full (${this.limits.maxParticipants} participants)`), { fatal: true });
      return;
    }
    if (!room) {
      this.#rooms.set(message.meeting, (room = new Room(message.meeting, this.#roomHost)));
      this.#store?.meetingActive(room.id);
    }
    if (message.udp) peer.udpPayloadSize = message.udp.payloadSize;
    peer.admit(randomId(), message.name, [...new Set(message.decode)], room, room.peers.size === 0 ? 'host' : 'guest');
    this.#welcome(peer, room, false);
    room.add(peer);
    this.#peerHost.log('info', `${peer.name} (${peer.id}) joined "${room.id}" over ${peer.link.transport} from ${peer.link.remoteAddress}`, who(peer));
    this.emit('participantJoined', room.id, peer.id, peer.name);
  }

  /**
   * Checks a secret a join gives (`given`) against `expected`, slowing down guessing per source address: an
   * address that must wait is refused (LAN_ERR_RATE_LIMITED, with the wait) without its secret being looked at,
   * and each wrong one is logged with the address, the meeting and the count. `true` when it may go on.
   */
  #checkSecret(what: 'passcode', expected: string, given: string | undefined, peer: Peer, meeting: string): boolean {
    const address = peer.link.remoteAddress;
    const now = Date.now();
    const wait = this.#attempts.wait(address, now);
    if (wait > 0) {
      peer.sendError(new RelayError(ErrorCode.RateLimited, `too many wrong ${what}s from ${address}: try again in ${Math.ceil(wait / 1000)} s`), { fatal: true });
      return false;
    }
    if (sameSecret(expected, given ?? '')) {
      this.#attempts.succeeded(address);
      return true;
    }
    const { failures, waitMs } = this.#attempts.failed(address, now);
    this.#peerHost.log('warn', `wrong ${what} from ${address} for "${meeting}" (${failures} in a row${waitMs ? `; next try in ${Math.ceil(waitMs / 1000)} s` : ''})`, { address, meeting });
    const why = given ? `wrong ${what}` : `this relay needs a ${what}`;
    peer.sendError(new RelayError(ErrorCode.BadPasscode, waitMs ? `${why}; try again in ${Math.ceil(waitMs / 1000)} s` : why), { fatal: true });
    return false;
  }

  /** Sends `welcome`: UDP binding for native clients, the others, chat history, files, a resume token. */
  #welcome(peer: Peer, room: Room, resumed: boolean): void {
    let udp: { port: number; token: string; payloadSize: number; key?: string } | undefined;
    if (peer.link.transport === 'native' && this.#addresses) {
      peer.udpToken = randomToken(UDP_TOKEN_BYTES);
      peer.udpPayloadSize = peer.udpPayloadSize || (this.#options.udpPayloadSize ?? DEFAULT_UDP_PAYLOAD);
      this.#udpTokens.set(peer.udpToken, peer);
      // A new key for every connection, resumed or not: its sequence numbers start again.
      const key = this.#sealUdp ? newUdpKey() : undefined;
      peer.udpSeal = key ? new UdpSeal(key, 'relay') : undefined;
      // The seal's 24 bytes must still fit the largest UDP datagram.
      if (key) peer.udpPayloadSize = Math.min(peer.udpPayloadSize, MAX_UDP_DATAGRAM - MEDIA_HEADER_BYTES - SEAL_OVERHEAD);
      udp = { port: this.#addresses.udpPort, token: peer.udpToken, payloadSize: peer.udpPayloadSize, ...(key ? { key } : {}) };
    }
    if (peer.resumeToken) this.#byResumeToken.delete(peer.resumeToken);
    peer.resumeToken = randomToken(24);
    this.#byResumeToken.set(peer.resumeToken, peer);
    const others = [...room.peers.values()].filter((p) => p.id !== peer.id).map((p) => p.info());
    peer.send({
      type: 'welcome', v: PROTOCOL_VERSION, meeting: room.id, you: peer.info(), participants: others,
      chat: room.chatLog, resumeToken: peer.resumeToken, ...(resumed ? { resumed: true } : {}),
      files: this.#files?.list(room.id) ?? [], ...(udp ? { udp } : {}), limits: this.limits, serverTime: Date.now(),
      // Three pings fit in the silence a peer is allowed, so one lost or late ping never removes it.
      pingIntervalMs: Math.max(100, Math.min(PING_INTERVAL_MS, Math.floor((this.#options.peerTimeoutMs ?? PEER_TIMEOUT_MS) / 3))),
    });
  }

  /** A reconnecting client takes back its participant: same id and tracks; the others see nothing. */
  #resume(peer: Peer, old: Peer, message: ClientMessageOf<'join'>): void {
    const room = old.room!;
    this.#held.delete(old);
    this.#byResumeToken.delete(old.resumeToken);
    if (message.udp) peer.udpPayloadSize = message.udp.payloadSize;
    peer.resumeFrom(old, [...new Set(message.decode)], room);
    this.#welcome(peer, room, true);
    room.replace(old, peer);
    // An old connection still open is dropped now; being replaced, it leaves nothing behind.
    if (!old.closed) old.close('goingAway', 'replaced');
    this.#peerHost.log('info', `${peer.name} (${peer.id}) is back in "${room.id}" over ${peer.link.transport} from ${peer.link.remoteAddress}`, who(peer));
  }

  #peerClosed(peer: Peer): void {
    this.#peers.delete(peer);
    if (peer.udpToken) this.#udpTokens.delete(peer.udpToken);
    if (peer.udp) this.#udpBindings.delete(`${peer.udp.address}|${peer.udp.port}`);
    this.#files?.peerGone(peer);
    const room = peer.room;
    if (!room || room.peers.get(peer.id) !== peer) return;
    const grace = this.#options.resumeGraceMs ?? 20_000;
    const dropped = peer.closeReason === 'disconnected' || peer.closeReason === ErrorCode.Timeout;
    if (dropped && grace > 0 && !this.#closed) {
      // Held: the others keep seeing the participant; its client may come back with the resume token.
      this.#held.set(peer, Date.now() + grace);
      this.#peerHost.log('info', `${peer.name} (${peer.id}) lost its connection to "${room.id}"; held ${grace} ms for a reconnect`, who(peer));
      return;
    }
    this.#leave(peer, peer.closeReason);
  }

  #leave(peer: Peer, reason: string): void {
    const room = peer.room;
    if (!room) return;
    this.#byResumeToken.delete(peer.resumeToken);
    room.remove(peer, reason);
    this.#files?.participantLeft(room.id, peer.id);
    this.#peerHost.log('info', `${peer.name} (${peer.id}) left "${room.id}" (${reason})`, who(peer));
    this.emit('participantLeft', room.id, peer.id, reason);
  }

  #onUdp(msg: Buffer, rinfo: RemoteInfo): void {
    const type = msg[0];
    if (type === PacketType.Media || type === PacketType.Sealed || type === PacketType.SealedShared) {
      const peer = this.#udpBindings.get(`${normalizeAddress(rinfo.address)}|${rinfo.port}`);
      if (!peer) {
        this.stats.udpUnbound++;
        return;
      }
      const seal = peer.udpSeal;
      if (!seal) {
        if (type === PacketType.Media) peer.handleUdp(msg);
        else this.stats.udpGarbage++;
        return;
      }
      // This client's media must be sealed: a clear one is someone else's. (A shared-body datagram is the
      // relay's own: sent back, its nonce is the other direction's, and it does not authenticate.)
      const opened = type === PacketType.Media ? 'forged' : seal.open(msg);
      if (opened === 'forged') this.stats.udpForged++;
      else if (opened === 'replayed') this.stats.udpReplayed++;
      else if (opened[0] === PacketType.Media) peer.handleUdp(opened);
      else this.stats.udpGarbage++;
      return;
    }
    if (type === PacketType.UdpBind) {
      const token = msg.byteLength === SEALED_BIND_BYTES ? sealedBindToken(msg) : decodeUdpBind(msg);
      const peer = token ? this.#udpTokens.get(token) : undefined;
      const address = normalizeAddress(rinfo.address);
      // The token proves the session; the address must also be the one its TCP connection came from.
      if (!peer || peer.closed || peer.link.remoteAddress !== address) {
        this.stats.udpBadBind++;
        return;
      }
      // And with a key, the bind must carry a tag only its holder can make, on a sequence number not seen.
      const refused = peer.udpSeal ? peer.udpSeal.openBind(msg) : msg.byteLength === SEALED_BIND_BYTES ? 'forged' : undefined;
      if (refused) {
        if (refused === 'replayed') this.stats.udpReplayed++;
        else this.stats.udpForged++;
        return;
      }
      if (peer.udp) this.#udpBindings.delete(`${peer.udp.address}|${peer.udp.port}`);
      peer.udp = { address, port: rinfo.port };
      // Not liveness: only whole messages on the peer's connection are (see Peer.handleUdp).
      this.#udpBindings.set(`${address}|${rinfo.port}`, peer);
      this.#udp?.send(peer.udpSeal ? peer.udpSeal.seal(UDP_BIND_ACK) : UDP_BIND_ACK, rinfo.port, rinfo.address);
      return;
    }
    // Never answer garbage on UDP: an answer would make the relay a reflector.
    this.stats.udpGarbage++;
  }

  #sendUdp(peer: Peer, frame: ForwardedFrame): void {
    const udp = this.#udp;
    const target = peer.udp;
    if (!udp || !target) return;
    const sent = (bytes: number) => (error: Error | null) => {
      peer.udpInflight -= bytes;
      if (error) this.stats.udpSendErrors++;
    };
    const seal = peer.udpSeal;
    if (!seal) {
      for (const d of frame.fragments(peer.udpPayloadSize)) {
        peer.udpInflight += d.byteLength;
        udp.send(d, target.port, target.address, sent(d.byteLength));
      }
      return;
    }
    // Each fragment's body is encrypted once for every subscriber; this one gets its key sealed under its own
    // connection key, and the pieces go out as one datagram, unjoined.
    for (const shared of frame.sharedBodies(peer.udpPayloadSize)) {
      peer.udpInflight += shared.body.byteLength;
      udp.send(seal.sealShared(shared), target.port, target.address, sent(shared.body.byteLength));
    }
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
    this.#peerHost.log('info', `issued a new server certificate from the same authority (${tls.fingerprint}): the machine's addresses changed or it neared expiry`);
  }

  #sweep(): void {
    const now = Date.now();
    if (++this.#sweeps % 60 === 0) {
      void this.#refreshCertificate().catch((error: Error) => this.#peerHost.log('warn', `cannot issue a new server certificate: ${error.message}`));
    }
    for (const [peer, until] of [...this.#held]) {
      if (now < until) continue;
      this.#held.delete(peer);
      this.#leave(peer, 'disconnected');
    }
    void this.#files?.sweep(now).catch((error: Error) => this.#peerHost.log('warn', `file housekeeping failed: ${error.message}`));
    const fileRetention = this.#options.fileRetentionMs ?? 24 * 3600_000;
    try {
      for (const meeting of this.#store?.expireChat(now - (this.#options.chatRetentionMs ?? fileRetention), now - fileRetention) ?? []) {
        this.#peerHost.log('info', `removed the chat of "${meeting}", empty for longer than its retention`, { meeting });
      }
    } catch (error) {
      this.#peerHost.log('warn', `chat housekeeping failed: ${(error as Error).message}`);
    }
    const silent = this.#options.peerTimeoutMs ?? PEER_TIMEOUT_MS;
    const joinTimeout = this.#options.joinTimeoutMs ?? 10_000;
    for (const peer of [...this.#peers]) {
      if (!peer.joined) {
        if (now - (this.#linkOpenedAt.get(peer) ?? now) > joinTimeout) {
          peer.sendError(new RelayError(ErrorCode.Timeout, `no join within ${joinTimeout} ms`), { fatal: true });
        }
      } else if (now - peer.lastHeard > silent) {
        peer.sendError(new RelayError(ErrorCode.Timeout, `nothing heard for ${silent} ms`), { fatal: true });
      } else if (peer.udp) {
        peer.expireFragments();
      }
    }
  }
}

/** The log fields of a participant. */
function who(peer: Peer): LogFields {
  return { meeting: peer.room?.id, participant: peer.id, name: peer.name, address: peer.link.remoteAddress };
}

/** UDP socket buffers asked for: a burst from many senders at once must fit (the kernel may cap it). */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** An error of a TLS handshake (failed, or not done in time), as the HTTPS server reports it. */
function isTlsFailure(error: NodeJS.ErrnoException & { library?: string }): boolean {
  const code = error.code ?? '';
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || error.library !== undefined;
}

function sameSecret(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
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
