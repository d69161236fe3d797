/**
 * The Node entry of the SDK: everything in `lanconf`, with a `joinMeeting` that also speaks the native
 * TCP + UDP transport (`transport: 'native'`), pins a relay's certificate (`tls`), and has a WebSocket that
 * works in Node 20.
 *
 * @example
 * ```ts
 * import { joinMeeting } from 'lanconf/node';
 * const s = await joinMeeting({ url: 'http://192.168.1.20:8787', meeting: 'Room1', name: 'Kiosk', transport: 'native' });
 * ```
 * @module lanconf/node
 */
import { createHash } from 'node:crypto';
import type { Sha256Factory } from './files/sha256.js';
import { startSession, type JoinOptions, type Session } from './Session.js';
import { NativeTransport, type NativeTransportOptions, type NodeTlsOptions } from './node/NativeTransport.js';
import { pinProblem } from './node/nodeTls.js';
import { WebSocketTransport } from './transport/WebSocketTransport.js';
import { nodeWebSocketFactory } from './node/wsClient.js';
import { relayUrls } from './url.js';

/** Options of {@link joinMeeting} in Node. */
export interface NodeJoinOptions extends JoinOptions, NativeTransportOptions {
  /** `'websocket'` (default) or `'native'`: TCP for control and chat, UDP for media. */
  transport?: 'websocket' | 'native';
  /** TLS options for a relay whose certificate this machine does not trust: a pinned fingerprint or a CA (`wss://`, `https://`). */
  tls?: NodeTlsOptions;
}

/**
 * Joins a meeting from Node, over WebSocket or the native TCP + UDP transport. The native transport
 * learns the relay's TCP and UDP ports from the relay: give the same URL as browsers use.
 *
 * @throws The same errors as the browser `joinMeeting`.
 */
export function joinMeeting(options: NodeJoinOptions): Promise<Session> {
  let urls: ReturnType<typeof relayUrls>;
  try {
    urls = relayUrls(options.url);
  } catch (error) {
    return Promise.reject(error);
  }
  const problem = pinProblem(options.tls, urls.secure, String(options.url));
  if (problem) return Promise.reject(problem);
  const withHash = { ...options, sha256: options.sha256 ?? nodeSha256 };
  if (options.transport === 'native') return startSession(() => new NativeTransport(urls, options), withHash);
  if (options.transport !== undefined && options.transport !== 'websocket') {
    return Promise.reject(new TypeError(`transport must be "websocket" or "native", not ${JSON.stringify(options.transport)}`));
  }
  // `ws`, with a zero masking key: it then sends data as it is instead of XOR-copying every byte.
  // Masking guards proxies against pages scripting a browser's socket; a Node client is no such page.
  const factory = nodeWebSocketFactory(options.tls);
  return startSession(() => new WebSocketTransport(urls.ws, factory, 'nodebuffer', Buffer.allocUnsafeSlow), withHash);
}

/** SHA-256 from `node:crypto` (native, about ten times the portable one). */
const nodeSha256: Sha256Factory = () => {
  const hash = createHash('sha256');
  return { update: (data) => void hash.update(data), digestHex: () => hash.digest('hex') };
};

// Everything of the browser entry (its list is the one to read); this module's `joinMeeting` takes the
// place of the browser's. The transports themselves stay internal: `transport: 'native'` picks one.
export * from './index.js';
export type { NativeTransportOptions, NodeTlsOptions } from './node/NativeTransport.js';
