/**
 * Reassembles fragmented media frames (UDP) into whole-frame packets.
 * @module
 */
import { MEDIA_HEADER_BYTES, FRAGMENT_TIMEOUT_MS } from './constants.js';
import { MediaOffset, type MediaPacket } from './media.js';

interface Pending {
  count: number;
  received: number;
  bytes: number;
  parts: Array<Uint8Array | undefined>;
  header: Uint8Array;
  firstAt: number;
}

/** Options of a {@link Reassembler}. */
export interface ReassemblerOptions {
  /** A frame not whole within this time is dropped (ms). Default 2000. */
  timeoutMs?: number;
  /** Largest frame payload accepted (bytes); a larger frame is dropped. */
  maxFrameBytes: number;
  /** Frames in progress at once, over all sources; the oldest is dropped past this. Default 64. */
  maxPending?: number;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/**
 * Collects fragments of frames and yields each frame whole, as one packet (header with fragment
 * 0 of 1, then the payload), exactly as it would travel over WebSocket.
 * Duplicate fragments are ignored; a frame whose fragments disagree, or that is not whole within the
 * timeout, is dropped and counted.
 */
export class Reassembler {
  readonly #timeoutMs: number;
  readonly #maxFrameBytes: number;
  readonly #maxPending: number;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  /** Frames recently completed or dropped (key → when): their late or duplicate fragments are ignored. */
  readonly #finished = new Map<string, number>();
  /** Frames dropped because they were incomplete, inconsistent or too large. */
  dropped = 0;

  /** A reassembler with the given limits. */
  constructor(options: ReassemblerOptions) {
    this.#timeoutMs = options.timeoutMs ?? FRAGMENT_TIMEOUT_MS;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#maxPending = options.maxPending ?? 64;
    this.#now = options.now ?? Date.now;
  }

  /** Frames in progress. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Adds one decoded fragment (`packet.payload` must be a view into `raw`, the datagram).
   * Returns the whole-frame packet bytes when this fragment completes a frame, else `undefined`.
   */
  push(packet: MediaPacket, raw: Uint8Array): Uint8Array | undefined {
    if (packet.fragmentCount === 1) return raw;
    const key = `${packet.sender}${packet.track}${packet.sequence}`;
    if (this.#finished.has(key)) return undefined;
    let entry = this.#pending.get(key);
    if (!entry) {
      this.expire();
      if (this.#pending.size >= this.#maxPending) this.#drop(this.#pending.keys().next().value as string);
      entry = {
        count: packet.fragmentCount, received: 0, bytes: 0,
        parts: new Array(packet.fragmentCount), header: raw.slice(0, MEDIA_HEADER_BYTES), firstAt: this.#now(),
      };
      this.#pending.set(key, entry);
    } else if (entry.count !== packet.fragmentCount) {
      this.#drop(key);
      return undefined;
    }
    if (entry.parts[packet.fragmentIndex]) return undefined;
    entry.parts[packet.fragmentIndex] = packet.payload.slice();
    entry.received++;
    entry.bytes += packet.payload.byteLength;
    if (entry.bytes > this.#maxFrameBytes) {
      this.#drop(key);
      return undefined;
    }
    if (entry.received < entry.count) return undefined;
    this.#pending.delete(key);
    this.#finish(key);
    const out = new Uint8Array(MEDIA_HEADER_BYTES + entry.bytes);
    out.set(entry.header, 0);
    const view = new DataView(out.buffer);
    view.setUint16(MediaOffset.fragmentIndex, 0);
    view.setUint16(MediaOffset.fragmentCount, 1);
    let at = MEDIA_HEADER_BYTES;
    for (const part of entry.parts) {
      out.set(part!, at);
      at += part!.byteLength;
    }
    return out;
  }

  /** Drops frames older than the timeout. Called on every new frame; call it from a timer too. */
  expire(): void {
    const limit = this.#now() - this.#timeoutMs;
    for (const [key, entry] of this.#pending) {
      if (entry.firstAt > limit) break; // insertion order = age order
      this.#drop(key);
    }
    for (const [key, at] of this.#finished) {
      if (at > limit) break;
      this.#finished.delete(key);
    }
  }

  /** Forgets every frame in progress. */
  clear(): void {
    this.#pending.clear();
    this.#finished.clear();
  }

  #drop(key: string): void {
    this.#pending.delete(key);
    this.dropped++;
    this.#finish(key);
  }

  #finish(key: string): void {
    this.#finished.set(key, this.#now());
    if (this.#finished.size > this.#maxPending * 4) this.#finished.delete(this.#finished.keys().next().value as string);
  }
}
