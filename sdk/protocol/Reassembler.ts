/**
 * Reassembles fragmented media frames (UDP) into whole-frame packets.
 * @module
 */
import { MEDIA_HEADER_BYTES, FRAGMENT_TIMEOUT_MS, MIN_UDP_PAYLOAD } from './constants.js';
import { MediaOffset, type MediaPacket } from './media.js';

interface Pending {
  count: number;
  received: number;
  /** Payload bytes received. */
  bytes: number;
  /** Bytes charged for this frame: payloads plus bookkeeping (see {@link FRAGMENT_COST}). */
  charged: number;
  /** Only the fragments received: a datagram that declares 65535 fragments costs one slot, not 65535. */
  parts: Map<number, Uint8Array>;
  header: Uint8Array;
  firstAt: number;
}

/** Bytes charged for a frame in progress beyond its payloads (its header copy, map, record). */
const FRAME_COST = 256;
/** Bytes charged per fragment beyond its payload (its Uint8Array and map entry). */
const FRAGMENT_COST = 96;

/**
 * Bytes of frames in progress shared by many {@link Reassembler}s (the relay's, one per native
 * participant). Past its limit the reassembler holding the most bytes gives up its oldest frame, until
 * the total fits: whoever hoards loses first, and a participant holding little keeps its frames.
 */
export class ReassemblyBudget {
  /** The most bytes all members may hold together. */
  readonly maxBytes: number;
  /** Bytes held now by all members. */
  held = 0;
  /** Frames dropped by all members (incomplete, inconsistent, too large, evicted). */
  dropped = 0;
  /** Members holding bytes now. @internal */
  readonly members = new Set<Reassembler>();

  /** A budget of `maxBytes`. */
  constructor(maxBytes: number) {
    if (!(maxBytes > 0)) throw new TypeError(`maxBytes must be positive, not ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  /** Evicts frames of the largest holders until the total fits. @internal */
  enforce(): void {
    while (this.held > this.maxBytes) {
      let largest: Reassembler | undefined;
      for (const member of this.members) if (!largest || member.heldBytes > largest.heldBytes) largest = member;
      if (!largest || !largest.evictOldest()) return;
    }
  }
}

/** Options of a {@link Reassembler}. */
export interface ReassemblerOptions {
  /** A frame not whole within this time is dropped (ms). Default 2000. */
  timeoutMs?: number;
  /** Largest frame payload accepted (bytes); a larger frame is dropped. */
  maxFrameBytes: number;
  /**
   * The payload size of the sender's fragments (its UDP payload size: every fragment but a frame's last
   * is this long). A fragment with a longer payload is dropped, and a frame may declare at most
   * `ceil(maxFrameBytes / fragmentPayload)` fragments. When not given, fragments of any length are taken and
   * the count is bounded by {@link MIN_UDP_PAYLOAD}, the smallest payload size the protocol allows.
   */
  fragmentPayload?: number;
  /** Frames in progress at once, over all sources; the oldest is dropped past this. Default 64. */
  maxPending?: number;
  /**
   * Bytes this reassembler may hold in frames in progress (payloads plus a little bookkeeping each);
   * its oldest frames are dropped past this. Default twice `maxFrameBytes`, so one largest frame can
   * always be completed while another starts.
   */
  maxHeldBytes?: number;
  /** A budget shared with other reassemblers (the relay's total). */
  budget?: ReassemblyBudget;
  /** Clock (ms), for tests. */
  now?: () => number;
}

/**
 * Collects fragments of frames and yields each frame whole, as one packet (header with fragment
 * 0 of 1, then the payload), exactly as it would travel over WebSocket.
 *
 * What it holds is bounded by what was received, never by what a datagram declares: fragment counts are
 * capped by the largest legitimate frame, only fragments that arrived take memory, and the bytes held
 * are capped per reassembler and, through a {@link ReassemblyBudget}, over many.
 * Duplicate fragments are ignored; a frame whose fragments disagree, that breaks a limit, or that is not
 * whole within the timeout, is dropped and counted.
 */
export class Reassembler {
  readonly #timeoutMs: number;
  readonly #maxFrameBytes: number;
  readonly #fragmentPayload: number;
  readonly #maxFragments: number;
  readonly #maxPending: number;
  readonly #maxHeldBytes: number;
  readonly #budget: ReassemblyBudget | undefined;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  /** Frames recently completed or dropped (key → when): their late or duplicate fragments are ignored. */
  readonly #finished = new Map<string, number>();
  #held = 0;
  /** Frames dropped because they were incomplete, inconsistent, over a limit or evicted. */
  dropped = 0;

  /** A reassembler with the given limits. */
  constructor(options: ReassemblerOptions) {
    this.#timeoutMs = options.timeoutMs ?? FRAGMENT_TIMEOUT_MS;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#fragmentPayload = Math.max(1, options.fragmentPayload ?? Infinity);
    this.#maxFragments = Math.max(1, Math.ceil(this.#maxFrameBytes / (options.fragmentPayload ?? MIN_UDP_PAYLOAD)));
    this.#maxPending = options.maxPending ?? 64;
    this.#maxHeldBytes = options.maxHeldBytes ?? 2 * (this.#maxFrameBytes + FRAME_COST) + this.#maxFragments * FRAGMENT_COST;
    this.#budget = options.budget;
    this.#now = options.now ?? Date.now;
  }

  /** Frames in progress. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Bytes held in frames in progress (payloads plus bookkeeping), the figure the limits apply to. */
  get heldBytes(): number {
    return this.#held;
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
      if (packet.fragmentCount > this.#maxFragments || packet.payload.byteLength > this.#fragmentPayload) {
        // More fragments than the largest frame needs, or a fragment longer than the sender's: never legitimate.
        this.#finish(key);
        this.#counted();
        return undefined;
      }
      this.expire();
      if (this.#pending.size >= this.#maxPending) this.#drop(this.#pending.keys().next().value as string);
      entry = {
        count: packet.fragmentCount, received: 0, bytes: 0, charged: FRAME_COST, parts: new Map(),
        header: raw.slice(0, MEDIA_HEADER_BYTES), firstAt: this.#now(),
      };
      this.#pending.set(key, entry);
      this.#charge(FRAME_COST);
    } else if (entry.count !== packet.fragmentCount || packet.payload.byteLength > this.#fragmentPayload) {
      this.#drop(key);
      return undefined;
    }
    if (entry.parts.has(packet.fragmentIndex)) return undefined;
    entry.parts.set(packet.fragmentIndex, packet.payload.slice());
    entry.received++;
    entry.bytes += packet.payload.byteLength;
    const cost = packet.payload.byteLength + FRAGMENT_COST;
    entry.charged += cost;
    this.#charge(cost);
    if (entry.bytes > this.#maxFrameBytes) {
      this.#drop(key);
      return undefined;
    }
    // Over this reassembler's own limit, its oldest frames go first (this one last).
    while (this.#held > this.#maxHeldBytes && this.evictOldest());
    this.#budget?.enforce();
    if (this.#pending.get(key) !== entry) return undefined; // evicted to make room
    if (entry.received < entry.count) return undefined;
    this.#release(key, entry);
    this.#finish(key);
    const out = new Uint8Array(MEDIA_HEADER_BYTES + entry.bytes);
    out.set(entry.header, 0);
    const view = new DataView(out.buffer);
    view.setUint16(MediaOffset.fragmentIndex, 0);
    view.setUint16(MediaOffset.fragmentCount, 1);
    let at = MEDIA_HEADER_BYTES;
    for (let i = 0; i < entry.count; i++) {
      const part = entry.parts.get(i)!;
      out.set(part, at);
      at += part.byteLength;
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

  /** Drops the oldest frame in progress; `false` when there is none. @internal */
  evictOldest(): boolean {
    const oldest = this.#pending.keys().next();
    if (oldest.done) return false;
    this.#drop(oldest.value);
    return true;
  }

  /** Forgets every frame in progress (and gives its bytes back to the budget). */
  clear(): void {
    for (const [key, entry] of [...this.#pending]) this.#release(key, entry);
    this.#finished.clear();
  }

  #charge(bytes: number): void {
    this.#held += bytes;
    if (this.#budget) {
      this.#budget.held += bytes;
      this.#budget.members.add(this);
    }
  }

  #release(key: string, entry: Pending): void {
    this.#pending.delete(key);
    this.#held -= entry.charged;
    if (this.#budget) {
      this.#budget.held -= entry.charged;
      if (this.#pending.size === 0) this.#budget.members.delete(this);
    }
  }

  #drop(key: string): void {
    const entry = this.#pending.get(key);
    if (entry) this.#release(key, entry);
    this.#counted();
    this.#finish(key);
  }

  #counted(): void {
    this.dropped++;
    if (this.#budget) this.#budget.dropped++;
  }

  #finish(key: string): void {
    this.#finished.set(key, this.#now());
    if (this.#finished.size > this.#maxPending * 4) this.#finished.delete(this.#finished.keys().next().value as string);
  }
}
