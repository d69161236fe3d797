/**
 * Native UDP media, encrypted and authenticated hop by hop: AES-128-GCM from `node:crypto`, one key
 * per connection. The relay makes the key and sends it in `welcome.udp.key` over the control link
 * (TLS whenever the relay has it), so only the two ends of that link hold it. Someone on the LAN
 * who can see or spoof datagrams can then neither read a native host's screen and microphone nor
 * inject frames as it: a datagram that does not authenticate, or that was seen before, is dropped
 * and counted.
 *
 * ```
 * sealed datagram (either way)             sealed bind (client → relay), 40 bytes
 *  0  1  packet type 0x05 (sealed)            0  1  packet type 0x03 (bind)
 *  1  1  version 1                            1  1  version 1
 *  2  6  sequence, u48 big-endian             2 16  token from `welcome.udp.token`
 *  8  …  ciphertext of the datagram carried  18  6  sequence, u48 big-endian
 *  …  16 GCM tag                             24 16  GCM tag (no plaintext)
 *
 * media from the relay, the body encrypted once for all its subscribers (relay → client)
 *  0  1  packet type 0x06 (sealed, shared body)
 *  1  1  version 1
 *  2  6  sequence, u48 big-endian
 *  8 16  the body's key, GCM ciphertext under the connection key
 * 24  …  body: the datagram carried, AES-128-CTR under the body's key (counter block 0)
 *  …  16 GCM tag over bytes 0..7 and the body (additional data) and the body's key (plaintext)
 * ```
 *
 * The carried datagram is a media packet or fragment (either way) or the bind ack (relay → client).
 * The bind stays readable because the relay finds the session by its token before it knows the
 * sender's address; its tag proves the sender holds the key. The clear bytes before the ciphertext
 * (or the tag) are the GCM additional data. The 96-bit nonce is the direction (0 client → relay,
 * 1 relay → client), five zero bytes and the sequence: each side counts its own datagrams from 1,
 * binds included, so no nonce repeats under one key (2^48 datagrams outlast any connection). A new
 * connection, resumed or not, gets a new key. Replays are refused with a sliding window over the
 * last {@link REPLAY_WINDOW} sequence numbers (as IPsec and DTLS do): a datagram older than the window
 * or already seen is dropped, one reordered within it is taken.
 *
 * Why media from the relay has its own form: the relay sends every frame to every subscriber, each
 * under its own key. Encrypting the whole frame once per subscriber (a copy of it each time) cost the
 * relay about three times the CPU of forwarding it in the clear, most of it in allocating and
 * collecting those copies (docs/performance.md). Instead the relay encrypts each datagram's body once,
 * under a fresh random key used for nothing else, sends that same body to every subscriber, and seals
 * for each only that 16-byte key, with a tag over the body: per subscriber, one pass of GHASH and no
 * copy. A subscriber learns the body's key of the frames it is sent, which it may read anyway; the tag
 * under its own connection key still proves that the relay sent that body to it, unchanged.
 * @module
 * @internal
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type CipherGCM, type KeyObject } from 'node:crypto';
import { PacketType, PROTOCOL_VERSION, UDP_TOKEN_BYTES } from '../protocol/constants.js';
import { base64UrlToBytes, bytesToBase64Url } from '../protocol/ids.js';

/** The AEAD: AES with a 128-bit key in Galois/Counter Mode. */
export const UDP_CIPHER = 'aes-128-gcm';
/** Bytes of a key. */
export const UDP_KEY_BYTES = 16;
/** Bytes of the clear header before a sealed datagram's ciphertext. */
export const SEAL_HEADER_BYTES = 8;
/** Bytes of the GCM tag. */
export const SEAL_TAG_BYTES = 16;
/** Bytes of a shared body's key, and of its encrypted copy in a `0x06` datagram. */
export const BODY_KEY_BYTES = 16;
/** The most bytes sealing adds to a datagram (a `0x06` one: header, the body's key, tag). */
export const SEAL_OVERHEAD = SEAL_HEADER_BYTES + BODY_KEY_BYTES + SEAL_TAG_BYTES;
/** The body cipher of `0x06` datagrams: its key is used once, so its counter starts at 0. */
const BODY_CIPHER = 'aes-128-ctr';
const ZERO_COUNTER = Buffer.alloc(16);
/** Bytes of a sealed bind. */
export const SEALED_BIND_BYTES = 2 + UDP_TOKEN_BYTES + 6 + SEAL_TAG_BYTES;
/** Sequence numbers behind the highest seen that may still arrive (reordered) once. */
export const REPLAY_WINDOW = 1024;
const MAX_SEQUENCE = 2 ** 48 - 1;

/** Which end seals: the nonce's first byte, so the two directions never share a nonce. */
export type SealSide = 'client' | 'relay';
const DIRECTION: Record<SealSide, number> = { client: 0, relay: 1 };

/** A new random key, base64url, for `welcome.udp.key`. */
export function newUdpKey(): string {
  return bytesToBase64Url(randomBytes(UDP_KEY_BYTES));
}

/**
 * A datagram encrypted once for every subscriber it goes to ({@link encryptBody}); each then gets it
 * with {@link UdpSeal.sealShared}.
 */
export interface SharedBody {
  /** A fresh random key, for this body only. */
  readonly key: Buffer;
  /** The datagram, AES-128-CTR under `key`. */
  readonly body: Buffer;
}

/** `datagram` encrypted under a fresh random key, to be sealed for each subscriber with {@link UdpSeal.sealShared}. */
export function encryptBody(datagram: Uint8Array): SharedBody {
  const key = randomBytes(BODY_KEY_BYTES);
  return { key, body: createCipheriv(BODY_CIPHER, key, ZERO_COUNTER).update(datagram) };
}

/** Why {@link UdpSeal.open} refused a datagram. */
export type OpenRefusal = 'forged' | 'replayed';

/**
 * One end's half of a sealed UDP path: it seals what this side sends and opens what the other side
 * sent, refusing forgeries and replays.
 */
export class UdpSeal {
  readonly #key: KeyObject;
  readonly #out: number;
  readonly #in: number;
  #sent = 0;
  readonly #window = new ReplayWindow();

  /** The seal for `side` with the base64url `key` of `welcome.udp.key`. */
  constructor(key: string, side: SealSide) {
    const raw = base64UrlToBytes(key);
    if (raw.byteLength !== UDP_KEY_BYTES) throw new TypeError(`a UDP key has ${UDP_KEY_BYTES} bytes`);
    this.#key = createSecretKey(raw);
    this.#out = DIRECTION[side];
    this.#in = 1 - this.#out;
  }

  /**
   * `datagram` sealed, as the pieces of one datagram (header, ciphertext, tag: `dgram`'s `send` takes
   * the list and writes it without joining it).
   */
  seal(datagram: Uint8Array): [Buffer, Buffer, Buffer] {
    const { header, cipher } = this.#begin(PacketType.Sealed);
    const body = cipher.update(datagram);
    cipher.final();
    return [header, body, cipher.getAuthTag()];
  }

  /**
   * A shared body ({@link encryptBody}) sealed for this connection, as the pieces of one `0x06` datagram
   * (header, the body's key encrypted, the body itself (not copied), tag). Relay side.
   */
  sealShared(shared: SharedBody): [Buffer, Buffer, Buffer, Buffer] {
    const { header, cipher } = this.#begin(PacketType.SealedShared);
    cipher.setAAD(shared.body);
    const key = cipher.update(shared.key);
    cipher.final();
    return [header, key, shared.body, cipher.getAuthTag()];
  }

  /** A sealed bind for the base64url `token`. */
  sealBind(token: string): Buffer {
    const raw = base64UrlToBytes(token);
    if (raw.byteLength !== UDP_TOKEN_BYTES) throw new TypeError(`a UDP token has ${UDP_TOKEN_BYTES} bytes`);
    const sequence = this.#next();
    const out = Buffer.allocUnsafe(SEALED_BIND_BYTES);
    out[0] = PacketType.UdpBind;
    out[1] = PROTOCOL_VERSION;
    out.set(raw, 2);
    out.writeUIntBE(sequence, 2 + UDP_TOKEN_BYTES, 6);
    const aad = out.subarray(0, SEALED_BIND_BYTES - SEAL_TAG_BYTES);
    const cipher = createCipheriv(UDP_CIPHER, this.#key, nonce(this.#out, sequence));
    cipher.setAAD(aad);
    cipher.final();
    cipher.getAuthTag().copy(out, aad.byteLength);
    return out;
  }

  /**
   * The datagram a sealed one carries, or why it was refused: it did not authenticate under this key
   * (`forged`: changed, made up, or sealed for another connection) or its sequence number was seen
   * before or is older than the window (`replayed`). A refused datagram changes nothing.
   */
  open(sealed: Uint8Array): Buffer | OpenRefusal {
    const shared = sealed[0] === PacketType.SealedShared;
    // Shared bodies go from the relay to its clients only: the relay takes none, even one sealed with the key.
    if (shared && this.#in !== DIRECTION.relay) return 'forged';
    if (sealed.byteLength < (shared ? SEAL_OVERHEAD : SEAL_HEADER_BYTES + SEAL_TAG_BYTES) || (!shared && sealed[0] !== PacketType.Sealed)
      || sealed[1] !== PROTOCOL_VERSION) return 'forged';
    const sequence = readU48(sealed, 2);
    if (!this.#window.fresh(sequence)) return 'replayed';
    const end = sealed.byteLength - SEAL_TAG_BYTES;
    const decipher = createDecipheriv(UDP_CIPHER, this.#key, nonce(this.#in, sequence));
    decipher.setAAD(sealed.subarray(0, SEAL_HEADER_BYTES));
    if (shared) decipher.setAAD(sealed.subarray(SEAL_OVERHEAD - SEAL_TAG_BYTES, end));
    decipher.setAuthTag(sealed.subarray(end));
    const plain = decipher.update(sealed.subarray(SEAL_HEADER_BYTES, shared ? SEAL_HEADER_BYTES + BODY_KEY_BYTES : end));
    try {
      decipher.final();
    } catch {
      return 'forged';
    }
    this.#window.saw(sequence);
    if (!shared) return plain;
    return createDecipheriv(BODY_CIPHER, plain, ZERO_COUNTER).update(sealed.subarray(SEAL_OVERHEAD - SEAL_TAG_BYTES, end));
  }

  /** Checks a sealed bind (the relay has found this seal by its token): `undefined` when it is genuine and new. */
  openBind(bind: Uint8Array): OpenRefusal | undefined {
    if (bind.byteLength !== SEALED_BIND_BYTES || bind[0] !== PacketType.UdpBind || bind[1] !== PROTOCOL_VERSION) return 'forged';
    const sequence = readU48(bind, 2 + UDP_TOKEN_BYTES);
    if (!this.#window.fresh(sequence)) return 'replayed';
    const end = SEALED_BIND_BYTES - SEAL_TAG_BYTES;
    const decipher = createDecipheriv(UDP_CIPHER, this.#key, nonce(this.#in, sequence));
    decipher.setAAD(bind.subarray(0, end));
    decipher.setAuthTag(bind.subarray(end));
    try {
      decipher.final();
    } catch {
      return 'forged';
    }
    this.#window.saw(sequence);
    return undefined;
  }

  /** The clear header of the next datagram of `type`, and its cipher with that header as additional data. */
  #begin(type: number): { header: Buffer; cipher: CipherGCM } {
    const sequence = this.#next();
    const header = Buffer.allocUnsafe(SEAL_HEADER_BYTES);
    header[0] = type;
    header[1] = PROTOCOL_VERSION;
    header.writeUIntBE(sequence, 2, 6);
    const cipher = createCipheriv(UDP_CIPHER, this.#key, nonce(this.#out, sequence));
    cipher.setAAD(header);
    return { header, cipher };
  }

  #next(): number {
    // Never reached by a real connection (2^48 datagrams); refusing beats reusing a nonce.
    if (this.#sent >= MAX_SEQUENCE) throw new RangeError('this UDP key has sealed all it may; reconnect for a new one');
    return ++this.#sent;
  }
}

/** The token of a sealed bind (which the relay looks up before it can check the tag), or `undefined`. */
export function sealedBindToken(bytes: Uint8Array): string | undefined {
  if (bytes.byteLength !== SEALED_BIND_BYTES || bytes[0] !== PacketType.UdpBind || bytes[1] !== PROTOCOL_VERSION) return undefined;
  return bytesToBase64Url(bytes.subarray(2, 2 + UDP_TOKEN_BYTES));
}

function nonce(direction: number, sequence: number): Buffer {
  const out = Buffer.alloc(12);
  out[0] = direction;
  out.writeUIntBE(sequence, 6, 6);
  return out;
}

function readU48(bytes: Uint8Array, at: number): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUIntBE(at, 6);
}

/**
 * The sequence numbers seen among the last {@link REPLAY_WINDOW}: one bit each in a ring, and the
 * highest seen. Sequence numbers start at 1.
 */
export class ReplayWindow {
  readonly #bits = new Uint32Array(REPLAY_WINDOW / 32);
  #highest = 0;

  /** `true` when `sequence` is new: above the highest seen, or within the window and not seen. */
  fresh(sequence: number): boolean {
    if (sequence < 1) return false;
    if (sequence > this.#highest) return true;
    if (this.#highest - sequence >= REPLAY_WINDOW) return false;
    return !this.#has(sequence);
  }

  /** Marks `sequence` seen (call only once it authenticated). */
  saw(sequence: number): void {
    if (sequence > this.#highest) {
      const ahead = sequence - this.#highest;
      if (ahead >= REPLAY_WINDOW) this.#bits.fill(0);
      else for (let s = this.#highest + 1; s < sequence; s++) this.#clear(s);
      this.#highest = sequence;
    }
    const slot = sequence % REPLAY_WINDOW;
    this.#bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  #has(sequence: number): boolean {
    const slot = sequence % REPLAY_WINDOW;
    return (this.#bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  #clear(sequence: number): void {
    const slot = sequence % REPLAY_WINDOW;
    this.#bits[slot >>> 5]! &= ~(1 << (slot & 31));
  }
}
