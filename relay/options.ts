/**
 * What a {@link Relay} is given and tells: its options, addresses, counters, events and log lines.
 * @module
 */
import type { Limits } from '../sdk/protocol/index.js';
import type { AttemptLimits } from './AttemptLimiter.js';
import type { Relay } from './Relay.js';

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
   * A key that makes whoever joins with it a host of their meeting, whatever the order of arrival (a teacher,
   * a chair). Wrong keys count against the same per-address limit as wrong passcodes. Default none.
   */
  hostKey?: string;
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
