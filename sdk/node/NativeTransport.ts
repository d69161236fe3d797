/**
 * The native transport (Node only): TCP for control, UDP for media, as on the original LAN design.
 * The client learns the relay's TCP and UDP ports from `/.well-known/lanconf`, then proves on UDP who it
 * is with the token from its `welcome`. If UDP cannot be bound (a firewall), media goes over TCP.
 * @module
 */
import { fillCopy } from './nodeCopy.js';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { UdpSeal } from './udpSeal.js';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { lookup } from 'node:dns/promises';
import { ConnectionError, LanError, ProtocolError } from '../errors.js';
import {
  DEFAULT_UDP_PAYLOAD, FrameParser, MAX_UDP_DATAGRAM, MEDIA_HEADER_BYTES, Opcode, PacketType,
  Reassembler, binaryFrameHeader, decodeMediaPacket, decodeRelayMessage, encodeControl, encodeTextFrame,
  encodeUdpBind, fragmentPacket, type ClientMessage, type RelayMessageOf,
} from '../protocol/index.js';
import type { RelayUrls } from '../url.js';
import { SENDER_VIDEO_HIGH_WATER, Transport } from '../transport/Transport.js';
import { pinMismatch, pinProblem, tlsConnectOptions, type NodeTlsOptions } from './nodeTls.js';


/** Bytes of the buffer plain TCP reads into. */
const READ_BUFFER_BYTES = 1024 * 1024;
export type { NodeTlsOptions } from './nodeTls.js';

/** Options of the native transport. */
export interface NativeTransportOptions {
  /** UDP payload size per datagram. Default 60000; use 1200 (`MTU_SAFE_UDP_PAYLOAD`) where IP fragments are dropped. */
  udpPayloadSize?: number;
  tls?: NodeTlsOptions;
  /** Give up binding UDP after this long and send media over TCP (ms). Default 3000. */
  udpBindTimeoutMs?: number;
}

/** What a relay answers at `/.well-known/lanconf` (the fields a client needs). */
export interface RelayDiscovery {
  /** Always `'lanconf'`. */
  service: string;
  /** Protocol version the relay speaks. */
  protocol: number;
  /** TCP control port; `tls` when it expects TLS. */
  tcp: { port: number; tls: boolean };
  /** UDP media port. */
  udp: { port: number };
}

/** Fetches `/.well-known/lanconf` from the relay. */
export function fetchRelayInfo(urls: RelayUrls, tls?: NodeTlsOptions, signal?: AbortSignal): Promise<RelayDiscovery> {
  const problem = pinProblem(tls, urls.secure, urls.http);
  if (problem) return Promise.reject(problem);
  const url = new URL('.well-known/lanconf', urls.http);
  return new Promise((resolve, reject) => {
    // A connection of its own (no agent), so a pinned certificate is checked on this very connection.
    const req = (urls.secure ? httpsRequest : httpRequest)(url, { ...tlsConnectOptions(tls), agent: false, signal, timeout: 5000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(ConnectionError.unreachable(urls.http, new Error(`HTTP ${res.statusCode} from /.well-known/lanconf: is this a lanconf relay?`)));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.byteLength;
        if (size > 65536) req.destroy(new Error('answer too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        try {
          const info = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RelayDiscovery;
          if (info.service !== 'lanconf' || !info.tcp?.port || !info.udp?.port) throw new Error('not a lanconf relay');
          resolve(info);
        } catch (error) {
          reject(ConnectionError.unreachable(urls.http, error));
        }
      });
    });
    if (urls.secure) {
      req.on('socket', (socket) => socket.once('secureConnect', () => {
        const mismatch = pinMismatch(socket as TLSSocket, tls, new URL(urls.http).hostname);
        if (mismatch) req.destroy(mismatch);
      }));
    }
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (error) => reject(ConnectionError.unreachable(urls.http, error)));
    req.end();
  });
}

/** The native TCP + UDP transport. */
export class NativeTransport extends Transport {
  readonly kind = 'native' as const;
  readonly #urls: RelayUrls;
  readonly #options: NativeTransportOptions;
  #tcp: Socket | undefined;
  #udp: UdpSocket | undefined;
  #relayUdp: { address: string; port: number } | undefined;
  #udpBound = false;
  #payloadSize: number;
  #inflight = 0;
  #reassembler: Reassembler | undefined;
  /** This connection's UDP key, when the relay seals UDP (`welcome.udp.key`). */
  #seal: UdpSeal | undefined;
  #closed = false;
  #finished = false;
  #sweep: ReturnType<typeof setInterval> | undefined;

  /** A transport to the relay at `urls`; connects on {@link NativeTransport.connect}. */
  constructor(urls: RelayUrls, options: NativeTransportOptions = {}) {
    super();
    this.#urls = urls;
    this.#options = options;
    this.#payloadSize = options.udpPayloadSize ?? DEFAULT_UDP_PAYLOAD;
    if (!Number.isInteger(this.#payloadSize) || this.#payloadSize < 512 || this.#payloadSize > MAX_UDP_DATAGRAM - MEDIA_HEADER_BYTES) {
      throw new TypeError(`udpPayloadSize must be an integer from 512 to ${MAX_UDP_DATAGRAM - MEDIA_HEADER_BYTES}`);
    }
  }

  /** `true` once media flows over UDP (else over TCP). */
  get udpBound(): boolean {
    return this.#udpBound;
  }

  /** `true` when this connection's UDP datagrams are encrypted and authenticated (`welcome.udp.key`). */
  get udpSealed(): boolean {
    return this.#seal !== undefined;
  }

  /** Sealed UDP datagrams dropped: `forged` did not authenticate (or came unsealed), `replayed` were seen before. */
  readonly udpRefused = { forged: 0, replayed: 0 };

  get bufferedAmount(): number {
    return (this.#tcp?.writableLength ?? 0) + this.#inflight;
  }

  override joinExtras(): Partial<Extract<ClientMessage, { type: 'join' }>> {
    return { udp: { payloadSize: this.#payloadSize } };
  }

  async connect(signal?: AbortSignal): Promise<void> {
    const info = await fetchRelayInfo(this.#urls, this.#options.tls, signal);
    const host = this.#urls.hostname;
    const address = isIP(host) ? host : (await lookup(host)).address;
    this.#relayUdp = { address, port: info.udp.port };
    // Plain TCP reads into one reused 1 MiB buffer (Node's `onread`): a quarter of the reads of the
    // default 64 KiB, and no buffer allocated per read. The parser copies every frame out of it.
    const reused = !info.tcp.tls;
    const parser = new FrameParser(64 * 1024 * 1024, (opcode, payload) => {
      try {
        if (opcode === Opcode.Text) this.emit('control', decodeRelayMessage(payload));
        else if (payload[0] === PacketType.FileChunk) this.emit('file', payload);
        else this.emit('media', decodeMediaPacket(payload));
      } catch (error) {
        if (error instanceof ProtocolError) this.emit('protocolError', error);
        else throw error;
      }
    }, { alloc: Buffer.allocUnsafeSlow, copy: fillCopy, transient: reused });
    const onBytes = (bytes: Uint8Array): true => {
      try {
        parser.push(bytes);
      } catch (error) {
        this.emit('protocolError', error as LanError);
        this.#tcp?.destroy();
      }
      return true;
    };
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(ConnectionError.unreachable(`tcp://${host}:${info.tcp.port}`, error));
      const socket = info.tcp.tls
        ? tlsConnect({ host: address, port: info.tcp.port, servername: isIP(host) ? undefined : host, ...tlsConnectOptions(this.#options.tls) }, () => {
          const mismatch = pinMismatch(socket as TLSSocket, this.#options.tls, host);
          if (!mismatch) return done();
          socket.destroy();
          onError(mismatch);
        })
        : netConnect({
          host: address, port: info.tcp.port,
          onread: { buffer: Buffer.allocUnsafe(READ_BUFFER_BYTES), callback: (n, buffer) => onBytes(buffer.subarray(0, n)) },
        }, () => done());
      const done = () => {
        socket.off('error', onError);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        socket.destroy();
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', onError);
      this.#tcp = socket;
    });
    const tcp = this.#tcp!;
    tcp.setNoDelay(true);
    if (!reused) tcp.on('data', onBytes);
    tcp.on('error', () => tcp.destroy());
    tcp.on('close', () => this.#finish(this.#closed ? undefined : ConnectionError.closed('the relay closed the TCP connection')));
  }

  override async ready(welcome: RelayMessageOf<'welcome'>): Promise<void> {
    if (!welcome.udp || !this.#relayUdp) return;
    this.#relayUdp.port = welcome.udp.port;
    this.#payloadSize = welcome.udp.payloadSize;
    this.#reassembler = new Reassembler({ maxFrameBytes: welcome.limits.maxFrameBytes, fragmentPayload: welcome.udp.payloadSize });
    const relay = this.#relayUdp;
    const udp = createSocket({ type: relay.address.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 4 * 1024 * 1024 });
    this.#udp = udp;
    udp.on('error', () => { /* a send error on one datagram only loses that datagram */ });
    const seal = welcome.udp.key ? new UdpSeal(welcome.udp.key, 'client') : undefined;
    this.#seal = seal;
    const token = welcome.udp.token;
    const bound = new Promise<boolean>((resolve) => {
      udp.on('message', (msg, rinfo) => {
        // Only the relay's address speaks to us on UDP, and with a key, only in datagrams sealed with it.
        if (rinfo.port !== relay.port || rinfo.address.replace(/^::ffff:/, '') !== relay.address) return;
        let datagram: Buffer = msg;
        if (seal) {
          const opened = msg[0] === PacketType.Sealed || msg[0] === PacketType.SealedShared ? seal.open(msg) : 'forged';
          if (typeof opened === 'string') {
            this.udpRefused[opened]++;
            return;
          }
          datagram = opened;
        }
        if (datagram[0] === PacketType.UdpBindAck) {
          this.#udpBound = true;
          resolve(true);
        } else if (datagram[0] === PacketType.Media) this.#onDatagram(datagram);
      });
      setTimeout(() => resolve(false), this.#options.udpBindTimeoutMs ?? 3000).unref();
    });
    await new Promise<void>((resolve) => udp.bind(0, resolve));
    if (udp.getRecvBufferSize() < 4 * 1024 * 1024) {
      process.emitWarning(`lanconf: the UDP receive buffer is capped at ${udp.getRecvBufferSize()} bytes; bursts of fragments ` +
        'may be lost (Linux: sysctl -w net.core.rmem_max=4194304)', { code: 'LANCONF_UDP_BUFFER' });
    }
    const send = () => {
      // A sealed bind takes the next sequence number each time: a resent one is never a replay.
      if (!this.#udpBound && !this.#closed) udp.send(seal ? seal.sealBind(token) : encodeUdpBind(token), relay.port, relay.address);
    };
    send();
    const retry = setInterval(send, 150);
    await bound;
    clearInterval(retry);
    this.#sweep = setInterval(() => this.#reassembler?.expire(), 1000);
    this.#sweep.unref();
  }

  sendControl(message: ClientMessage): void {
    if (this.#tcp?.writable) this.#tcp.write(encodeTextFrame(encodeControl(message)));
  }

  sendMedia(packet: Uint8Array, droppable: boolean): boolean {
    if (this.#closed) return false;
    if (droppable && this.bufferedAmount > SENDER_VIDEO_HIGH_WATER) return false;
    const relay = this.#relayUdp;
    if (this.#udpBound && this.#udp && relay) {
      const seal = this.#seal;
      for (const datagram of fragmentPacket(packet, this.#payloadSize)) {
        this.#inflight += datagram.byteLength;
        this.#udp.send(seal ? seal.seal(datagram) : datagram, relay.port, relay.address, () => {
          this.#inflight -= datagram.byteLength;
        });
      }
      return true;
    }
    const tcp = this.#tcp;
    if (!tcp?.writable) return false;
    tcp.cork();
    tcp.write(binaryFrameHeader(packet.byteLength));
    tcp.write(packet);
    tcp.uncork();
    return true;
  }

  sendFile(header: Uint8Array, data: Uint8Array): void {
    const tcp = this.#tcp;
    if (this.#closed || !tcp?.writable) return;
    // One writev of the three pieces: the data is never copied into a joined packet.
    tcp.cork();
    tcp.write(binaryFrameHeader(header.byteLength + data.byteLength));
    tcp.write(header);
    tcp.write(data);
    tcp.uncork();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#tcp?.end();
    setTimeout(() => this.#tcp?.destroy(), 1000).unref();
    this.#finish(undefined);
  }

  #finish(error: LanError | undefined): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#closed = true;
    clearInterval(this.#sweep);
    try {
      this.#udp?.close();
    } catch {
      // already closed
    }
    this.#reassembler?.clear();
    this.emit('closed', error);
  }

  #onDatagram(msg: Buffer): void {
    let packet;
    try {
      packet = decodeMediaPacket(msg, MAX_UDP_DATAGRAM);
    } catch (error) {
      this.emit('protocolError', error as LanError);
      return;
    }
    const whole = this.#reassembler?.push(packet, msg);
    if (!whole) return;
    this.emit('media', whole === msg ? packet : decodeMediaPacket(whole));
  }
}

