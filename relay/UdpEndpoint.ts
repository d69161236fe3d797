/**
 * The relay's UDP side for native clients: one socket, the tokens offered in welcomes, the bindings of
 * (address, port) to connections, sealing when UDP is encrypted. Nothing received on UDP is ever
 * answered but a genuine bind (an answer would make the relay a reflector).
 * @module
 * @internal
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import {
  DEFAULT_UDP_PAYLOAD, MAX_UDP_DATAGRAM, MEDIA_HEADER_BYTES, PacketType, UDP_BIND_ACK, UDP_TOKEN_BYTES, decodeUdpBind, randomToken,
} from '../sdk/protocol/index.js';
import { SEAL_OVERHEAD, SEALED_BIND_BYTES, UdpSeal, newUdpKey, sealedBindToken } from '../sdk/node/udpSeal.js';
import type { Connection, ForwardedFrame, UdpBinding } from './Connection.js';
import { normalizeAddress } from './links.js';

/** UDP socket buffers asked for: a burst from many senders at once must fit (the kernel may cap it). */
export const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** The UDP counters of {@link RelayStats}. */
export interface UdpStats {
  udpUnbound: number;
  udpBadBind: number;
  udpGarbage: number;
  udpSendErrors: number;
  udpForged: number;
  udpReplayed: number;
}

/** What a native client's welcome says about UDP. */
export interface UdpOffer {
  port: number;
  token: string;
  payloadSize: number;
  key?: string;
}

/** The relay's UDP socket and its bindings. @internal */
export class UdpEndpoint {
  readonly #stats: UdpStats;
  readonly #log: (message: string) => void;
  readonly #byToken = new Map<string, Connection>();
  readonly #byAddress = new Map<string, Connection>();
  #socket: UdpSocket | undefined;
  #port = 0;
  /** UDP is sealed for every native connection (RelayOptions.udpEncryption). */
  sealed = false;

  constructor(stats: UdpStats, log: (message: string) => void) {
    this.#stats = stats;
    this.#log = log;
  }

  /** The bound port (after {@link UdpEndpoint.bind}). */
  get port(): number {
    return this.#port;
  }

  /** Opens the socket on `host`:`port` (0 picks one); resolves with the port. */
  bind(port: number, host: string): Promise<number> {
    const udp = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES });
    this.#socket = udp;
    udp.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    return new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        udp.on('error', (error) => this.#log(`UDP socket error: ${error.message}`));
        const got = udp.getRecvBufferSize();
        if (got < UDP_BUFFER_BYTES) {
          this.#log(`UDP receive buffer is ${got} bytes, not ${UDP_BUFFER_BYTES}: bursts of fragments may be lost. ` +
            `Raise the limit (Linux: sysctl -w net.core.rmem_max=${UDP_BUFFER_BYTES}).`);
        }
        this.#port = udp.address().port;
        resolve(this.#port);
      });
    });
  }

  /** Closes the socket. */
  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (!this.#socket) return resolve();
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /**
   * Gives a native connection its UDP side for its welcome: a new token (and a new key, when sealed) each
   * time, forgetting what it had. `payloadSize`: what the client asked for, or the relay's default.
   */
  offer(connection: Connection, payloadSize = DEFAULT_UDP_PAYLOAD): UdpOffer {
    this.forget(connection);
    const token = randomToken(UDP_TOKEN_BYTES);
    const key = this.sealed ? newUdpKey() : undefined;
    // Sealing adds up to SEAL_OVERHEAD bytes, and the datagram must still fit.
    const size = key ? Math.min(payloadSize, MAX_UDP_DATAGRAM - MEDIA_HEADER_BYTES - SEAL_OVERHEAD) : payloadSize;
    const binding: UdpBinding = { token, payloadSize: size, seal: key ? new UdpSeal(key, 'relay') : undefined, inflight: 0 };
    connection.offerUdp(binding);
    this.#byToken.set(token, connection);
    return { port: this.#port, token, payloadSize: size, ...(key ? { key } : {}) };
  }

  /** Forgets a connection's token and binding (it closed, or gets a new one). */
  forget(connection: Connection): void {
    const udp = connection.udp;
    if (!udp) return;
    if (this.#byToken.get(udp.token) === connection) this.#byToken.delete(udp.token);
    if (udp.address) {
      const key = `${udp.address.address}|${udp.address.port}`;
      if (this.#byAddress.get(key) === connection) this.#byAddress.delete(key);
    }
  }

  /** Sends one frame to a bound connection: its fragments, sealed for it when its UDP is encrypted. */
  send(connection: Connection, frame: ForwardedFrame): void {
    const udp = this.#socket;
    const binding = connection.udp;
    const target = binding?.address;
    if (!udp || !binding || !target) return;
    const sent = (bytes: number) => (error: Error | null) => {
      binding.inflight -= bytes;
      if (error) this.#stats.udpSendErrors++;
    };
    const seal = binding.seal;
    if (!seal) {
      for (const d of frame.fragments(binding.payloadSize)) {
        binding.inflight += d.byteLength;
        udp.send(d, target.port, target.address, sent(d.byteLength));
      }
      return;
    }
    // Each fragment's body is encrypted once for every subscriber; this one gets its key sealed under its own
    // connection key, and the pieces go out as one datagram, unjoined.
    for (const shared of frame.sharedBodies(binding.payloadSize)) {
      binding.inflight += shared.body.byteLength;
      udp.send(seal.sealShared(shared), target.port, target.address, sent(shared.body.byteLength));
    }
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    const type = msg[0];
    if (type === PacketType.Media || type === PacketType.Sealed || type === PacketType.SealedShared) {
      const connection = this.#byAddress.get(`${normalizeAddress(rinfo.address)}|${rinfo.port}`);
      if (!connection) {
        this.#stats.udpUnbound++;
        return;
      }
      const seal = connection.udp?.seal;
      if (!seal) {
        if (type === PacketType.Media) connection.handleUdp(msg);
        else this.#stats.udpGarbage++;
        return;
      }
      // This client's media must be sealed: a clear one is someone else's. (A shared-body datagram is the
      // relay's own: sent back, its nonce is the other direction's, and it does not authenticate.)
      const opened = type === PacketType.Media ? 'forged' : seal.open(msg);
      if (opened === 'forged') this.#stats.udpForged++;
      else if (opened === 'replayed') this.#stats.udpReplayed++;
      else if (opened[0] === PacketType.Media) connection.handleUdp(opened);
      else this.#stats.udpGarbage++;
      return;
    }
    if (type === PacketType.UdpBind) {
      this.#onBind(msg, rinfo);
      return;
    }
    this.#stats.udpGarbage++;
  }

  #onBind(msg: Buffer, rinfo: RemoteInfo): void {
    const token = msg.byteLength === SEALED_BIND_BYTES ? sealedBindToken(msg) : decodeUdpBind(msg);
    const connection = token ? this.#byToken.get(token) : undefined;
    const address = normalizeAddress(rinfo.address);
    const binding = connection?.udp;
    // The token proves the session; the address must also be the one its connection came from.
    if (!connection || !binding || connection.closed || connection.link.remoteAddress !== address) {
      this.#stats.udpBadBind++;
      return;
    }
    // And with a key, the bind must carry a tag only its holder can make, on a sequence number not seen.
    const refused = binding.seal ? binding.seal.openBind(msg) : msg.byteLength === SEALED_BIND_BYTES ? 'forged' : undefined;
    if (refused) {
      if (refused === 'replayed') this.#stats.udpReplayed++;
      else this.#stats.udpForged++;
      return;
    }
    if (binding.address) this.#byAddress.delete(`${binding.address.address}|${binding.address.port}`);
    binding.address = { address, port: rinfo.port };
    // Not liveness: only whole messages on the connection are (see Connection.handleUdp).
    this.#byAddress.set(`${address}|${rinfo.port}`, connection);
    this.#socket?.send(binding.seal ? binding.seal.seal(UDP_BIND_ACK) : UDP_BIND_ACK, rinfo.port, rinfo.address);
  }
}
