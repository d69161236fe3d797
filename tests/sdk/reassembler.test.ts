/**
 * Unit tests of UDP fragmentation and reassembly: fragmentPacket splits, Reassembler rebuilds.
 * The Reassembler's clock is injected (`now`), so timeouts are tested without waiting.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  FRAGMENT_TIMEOUT_MS, MEDIA_HEADER_BYTES, MTU_SAFE_UDP_PAYLOAD, DEFAULT_UDP_PAYLOAD, Reassembler, ReassemblyBudget,
  decodeMediaPacket, encodeMediaPacket, fragmentPacket,
} from '../../sdk/protocol/index.js';

/** A small seeded PRNG (mulberry32), so shuffles reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const SENDER = '0123456789abcdef';
const OTHER_SENDER = '1111111111111111';
const TRACK = 'a1a2a3a4a5a6a7a8';

/** A whole-frame packet with a random payload of `bytes` bytes. */
function frame(bytes: number, sequence = 1, sender = SENDER, seed = bytes + sequence): Uint8Array {
  const random = prng(seed);
  const payload = new Uint8Array(bytes).map(() => Math.floor(random() * 256));
  return encodeMediaPacket(
    { kind: 'camera', codec: 'vp8', keyFrame: true, sender, track: TRACK, sequence, timestamp: 1_700_000_000_000_000 + sequence },
    payload,
  );
}

/** Feeds datagrams to the reassembler; returns every whole frame it yields. */
function feed(reassembler: Reassembler, datagrams: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const datagram of datagrams) {
    const whole = reassembler.push(decodeMediaPacket(datagram), datagram);
    if (whole) out.push(whole);
  }
  return out;
}

/** A fake clock for the reassembler. */
function clock(start = 0): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

const FRAME_300K = 300 * 1024;

describe('fragmentation and reassembly', () => {
  for (const size of [MTU_SAFE_UDP_PAYLOAD, DEFAULT_UDP_PAYLOAD]) {
    const packet = frame(FRAME_300K);
    const fragments = fragmentPacket(packet, size);
    const expectedCount = Math.ceil(FRAME_300K / size);
    const orders: Array<[string, Uint8Array[]]> = [
      ['in order', fragments],
      ['in reverse order', [...fragments].reverse()],
      ['in shuffled order', shuffled(fragments, prng(size))],
    ];
    for (const [order, datagrams] of orders) {
      test(`a 300 KB frame fragmented at payload ${size} reassembles byte-identical ${order}`, () => {
        assert.equal(fragments.length, expectedCount);
        for (const f of fragments) assert.ok(f.byteLength <= MEDIA_HEADER_BYTES + size);
        const reassembler = new Reassembler({ maxFrameBytes: 4 * 1024 * 1024 });
        const whole = feed(reassembler, datagrams);
        assert.equal(whole.length, 1);
        assert.ok(Buffer.from(whole[0]!).equals(Buffer.from(packet)), 'reassembled bytes differ from the original packet');
        const decoded = decodeMediaPacket(whole[0]!);
        assert.equal(decoded.fragmentIndex, 0);
        assert.equal(decoded.fragmentCount, 1);
        assert.equal(reassembler.pending, 0);
        assert.equal(reassembler.dropped, 0);
      });
    }
  }

  test('Reassembler returns a one-fragment packet as is, without keeping anything', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 1000 });
    const packet = frame(500);
    assert.equal(reassembler.push(decodeMediaPacket(packet), packet), packet);
    assert.equal(reassembler.pending, 0);
  });

  test('Reassembler ignores duplicate fragments', () => {
    const packet = frame(3000);
    const [a, b, c] = fragmentPacket(packet, 1000) as [Uint8Array, Uint8Array, Uint8Array];
    const reassembler = new Reassembler({ maxFrameBytes: 10_000 });
    assert.equal(reassembler.push(decodeMediaPacket(a), a), undefined);
    assert.equal(reassembler.push(decodeMediaPacket(a), a), undefined);
    assert.equal(reassembler.push(decodeMediaPacket(b), b), undefined);
    assert.equal(reassembler.push(decodeMediaPacket(b), b), undefined);
    assert.equal(reassembler.pending, 1);
    const whole = reassembler.push(decodeMediaPacket(c), c);
    assert.ok(whole && Buffer.from(whole).equals(Buffer.from(packet)));
    assert.equal(reassembler.dropped, 0);
  });

  test('Reassembler keeps the fragment it saw first when a duplicate index carries other bytes', () => {
    const packet = frame(2000);
    const [a, b] = fragmentPacket(packet, 1000) as [Uint8Array, Uint8Array];
    const forged = a.slice();
    forged.fill(0xee, MEDIA_HEADER_BYTES);
    const reassembler = new Reassembler({ maxFrameBytes: 10_000 });
    const whole = feed(reassembler, [a, forged, b]);
    assert.equal(whole.length, 1);
    assert.ok(Buffer.from(whole[0]!).equals(Buffer.from(packet)));
  });

  test('Reassembler drops a frame whose fragments disagree on the fragment count, and counts it', () => {
    const packet = frame(3000);
    const byThree = fragmentPacket(packet, 1000); // 3 fragments
    const byTwo = fragmentPacket(packet, 1500); // 2 fragments, same sender/track/sequence
    const reassembler = new Reassembler({ maxFrameBytes: 10_000 });
    assert.equal(reassembler.push(decodeMediaPacket(byThree[0]!), byThree[0]!), undefined);
    assert.equal(reassembler.push(decodeMediaPacket(byTwo[1]!), byTwo[1]!), undefined);
    assert.equal(reassembler.dropped, 1);
    assert.equal(reassembler.pending, 0);
  });

  test('Reassembler drops a frame larger than maxFrameBytes, and counts it', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 2500 });
    assert.deepEqual(feed(reassembler, fragmentPacket(frame(3000), 1000)), []);
    assert.equal(reassembler.dropped, 1);
    assert.equal(reassembler.pending, 0);
    // A frame of exactly maxFrameBytes is whole.
    const exact = frame(2500, 2);
    const whole = feed(reassembler, fragmentPacket(exact, 1000));
    assert.equal(whole.length, 1);
    assert.ok(Buffer.from(whole[0]!).equals(Buffer.from(exact)));
  });

  test('Reassembler drops a frame missing a fragment once timeoutMs has passed', () => {
    const time = clock(10_000);
    const reassembler = new Reassembler({ maxFrameBytes: 10_000, now: time.now });
    const [a, b, c] = fragmentPacket(frame(3000), 1000) as [Uint8Array, Uint8Array, Uint8Array];
    feed(reassembler, [a, b]);
    time.advance(FRAGMENT_TIMEOUT_MS - 1);
    reassembler.expire();
    assert.equal(reassembler.pending, 1, 'expired before the timeout');
    assert.equal(reassembler.dropped, 0);
    time.advance(1);
    reassembler.expire();
    assert.equal(reassembler.pending, 0, 'still pending at the timeout');
    assert.equal(reassembler.dropped, 1);
    // The late fragment of a dropped frame is ignored: no new partial frame, no second drop.
    assert.equal(reassembler.push(decodeMediaPacket(c), c), undefined);
    assert.equal(reassembler.pending, 0);
    time.advance(FRAGMENT_TIMEOUT_MS * 2);
    reassembler.expire();
    assert.equal(reassembler.dropped, 1);
  });

  test('Reassembler counts a frame over maxFrameBytes as one drop, whatever comes after', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 2500 });
    const fragments = fragmentPacket(frame(6000), 1000);
    assert.equal(fragments.length, 6);
    assert.deepEqual(feed(reassembler, fragments), []);
    assert.equal(reassembler.dropped, 1);
    assert.equal(reassembler.pending, 0);
  });

  test('Reassembler ignores a duplicate fragment arriving after its frame completed', () => {
    const time = clock();
    const reassembler = new Reassembler({ maxFrameBytes: 10_000, now: time.now });
    const fragments = fragmentPacket(frame(3000), 1000);
    assert.equal(feed(reassembler, fragments).length, 1);
    assert.deepEqual(feed(reassembler, [fragments[0]!]), []);
    assert.equal(reassembler.pending, 0);
    time.advance(FRAGMENT_TIMEOUT_MS * 2);
    reassembler.expire();
    assert.equal(reassembler.dropped, 0);
  });

  test('Reassembler completes a frame whose last fragment comes just within timeoutMs', () => {
    const time = clock();
    const reassembler = new Reassembler({ maxFrameBytes: 10_000, now: time.now });
    const packet = frame(3000);
    const [a, b, c] = fragmentPacket(packet, 1000) as [Uint8Array, Uint8Array, Uint8Array];
    feed(reassembler, [a, b]);
    time.advance(FRAGMENT_TIMEOUT_MS - 1);
    reassembler.expire();
    const whole = reassembler.push(decodeMediaPacket(c), c);
    assert.ok(whole && Buffer.from(whole).equals(Buffer.from(packet)));
  });

  test('Reassembler expires old frames when the first fragment of a new frame arrives', () => {
    const time = clock();
    const reassembler = new Reassembler({ maxFrameBytes: 10_000, timeoutMs: 500, now: time.now });
    const first = fragmentPacket(frame(3000, 1), 1000);
    const second = fragmentPacket(frame(3000, 2), 1000);
    feed(reassembler, first.slice(0, 2));
    time.advance(500);
    feed(reassembler, second.slice(0, 1));
    assert.equal(reassembler.dropped, 1);
    assert.equal(reassembler.pending, 1);
    assert.deepEqual(feed(reassembler, first.slice(2)), [], 'the expired frame completed');
  });

  test('Reassembler evicts the oldest frame in progress past maxPending, and counts it', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 10_000, maxPending: 2 });
    const frames = [1, 2, 3].map((sequence) => frame(2000, sequence));
    const [f1, f2, f3] = frames.map((f) => fragmentPacket(f, 1000)) as [Uint8Array[], Uint8Array[], Uint8Array[]];
    feed(reassembler, [f1[0]!, f2[0]!]);
    assert.equal(reassembler.pending, 2);
    feed(reassembler, [f3[0]!]);
    assert.equal(reassembler.pending, 2);
    assert.equal(reassembler.dropped, 1);
    const done = feed(reassembler, [f2[1]!, f3[1]!]);
    assert.equal(done.length, 2);
    assert.ok(Buffer.from(done[0]!).equals(Buffer.from(frames[1]!)));
    assert.ok(Buffer.from(done[1]!).equals(Buffer.from(frames[2]!)));
    assert.deepEqual(feed(reassembler, [f1[1]!]), [], 'the evicted frame completed');
  });

  test('Reassembler keeps frames of different senders with the same track and sequence apart', () => {
    const mine = frame(2000, 5, SENDER, 1);
    const theirs = frame(2000, 5, OTHER_SENDER, 2);
    const a = fragmentPacket(mine, 1000);
    const b = fragmentPacket(theirs, 1000);
    const reassembler = new Reassembler({ maxFrameBytes: 10_000 });
    const done = feed(reassembler, [a[0]!, b[0]!, b[1]!, a[1]!]);
    assert.equal(done.length, 2);
    assert.ok(Buffer.from(done[0]!).equals(Buffer.from(theirs)));
    assert.ok(Buffer.from(done[1]!).equals(Buffer.from(mine)));
  });

  test('Reassembler reassembles interleaved frames of one track', () => {
    const frames = [1, 2, 3].map((sequence) => frame(5000, sequence));
    const all = shuffled(frames.flatMap((f) => fragmentPacket(f, 1200)), prng(11));
    const reassembler = new Reassembler({ maxFrameBytes: 10_000 });
    const done = feed(reassembler, all).map((w) => decodeMediaPacket(w).sequence).sort();
    assert.deepEqual(done, [1, 2, 3]);
    assert.equal(reassembler.dropped, 0);
  });

  test('Reassembler.clear forgets every frame in progress', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 10_000 });
    const fragments = fragmentPacket(frame(3000), 1000);
    feed(reassembler, fragments.slice(0, 2));
    reassembler.clear();
    assert.equal(reassembler.pending, 0);
    assert.deepEqual(feed(reassembler, fragments.slice(2)), []);
  });
});

/** A fragment as an attacker sends it: `count` fragments declared, `payload` bytes carried. */
function declared(sequence: number, count: number, index = 0, payload = 1, sender = SENDER): Uint8Array {
  return encodeMediaPacket(
    { kind: 'camera', codec: 'vp8', keyFrame: true, sender, track: TRACK, sequence, timestamp: 1, fragmentIndex: index, fragmentCount: count },
    new Uint8Array(payload).fill(7),
  );
}

describe('reassembly limits (what a datagram declares costs nothing)', () => {
  test('Reassembler drops a fragment declaring more fragments than the largest frame needs, holding nothing', () => {
    // 4 MiB frames in fragments of 1200 bytes need at most 3496 of them.
    const reassembler = new Reassembler({ maxFrameBytes: 4 * 1024 * 1024, fragmentPayload: 1200 });
    assert.deepEqual(feed(reassembler, [declared(1, 65535), declared(2, 3497)]), []);
    assert.equal(reassembler.pending, 0);
    assert.equal(reassembler.heldBytes, 0);
    assert.equal(reassembler.dropped, 2);
    // Later fragments of a refused frame are ignored, not counted again; the largest legal count is taken.
    feed(reassembler, [declared(1, 65535, 1)]);
    assert.equal(reassembler.dropped, 2);
    feed(reassembler, [declared(3, 3496)]);
    assert.equal(reassembler.pending, 1);
  });

  test('Reassembler with no fragment size bounds counts by the smallest UDP payload the protocol allows', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 1024 * 1024 }); // at least 512 bytes a fragment: 2048 fragments
    feed(reassembler, [declared(1, 2049), declared(2, 2048)]);
    assert.equal(reassembler.dropped, 1);
    assert.equal(reassembler.pending, 1);
  });

  test('Reassembler drops a fragment longer than the sender\'s fragment size', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 100_000, fragmentPayload: 1200 });
    feed(reassembler, [declared(1, 3, 0, 1201)]);
    assert.equal(reassembler.pending, 0);
    assert.equal(reassembler.dropped, 1);
    const ok = fragmentPacket(frame(3000, 2), 1200);
    feed(reassembler, [ok[0]!, declared(2, 3, 1, 1201)]);
    assert.equal(reassembler.pending, 0, 'a frame with one oversized fragment is dropped whole');
    assert.equal(reassembler.dropped, 2);
    assert.equal(feed(reassembler, fragmentPacket(frame(3000, 3), 1200)).length, 1, 'an honest frame still goes through');
  });

  test('Reassembler holds only the fragments received: 64 frames declaring 65535 fragments each stay tiny', async () => {
    // Before, each such frame allocated an array of 65535 slots (512 KiB): 64 of them held 32 MiB.
    const reassembler = new Reassembler({ maxFrameBytes: 64 * 1024 * 1024, fragmentPayload: 1024 });
    const heapBefore = process.memoryUsage().heapUsed;
    for (let sequence = 0; sequence < 64; sequence++) feed(reassembler, [declared(sequence, 65535)]);
    const heapAfter = process.memoryUsage().heapUsed;
    assert.equal(reassembler.pending, 64);
    assert.ok(reassembler.heldBytes < 64 * 1024, `${reassembler.heldBytes} bytes accounted for 64 one-byte fragments`);
    assert.ok(heapAfter - heapBefore < 8 * 1024 * 1024, `the heap grew ${heapAfter - heapBefore} bytes for 64 one-byte fragments`);
  });

  test('Reassembler keeps what it holds under maxHeldBytes, dropping its oldest frames first', () => {
    const reassembler = new Reassembler({ maxFrameBytes: 100_000, fragmentPayload: 1000, maxHeldBytes: 4500 });
    const frames = [1, 2, 3].map((sequence) => fragmentPacket(frame(4000, sequence), 1000));
    feed(reassembler, frames[0]!.slice(0, 2)); // ~2.4 KB held
    feed(reassembler, frames[1]!.slice(0, 2)); // ~4.9 KB: over, frame 1 goes
    assert.equal(reassembler.dropped, 1);
    assert.ok(reassembler.heldBytes <= 4500, `${reassembler.heldBytes} held`);
    assert.equal(feed(reassembler, frames[1]!.slice(2)).length, 0, 'frame 2 finishing would exceed the limit alone');
    assert.equal(reassembler.pending, 0);
    const small = new Reassembler({ maxFrameBytes: 100_000, fragmentPayload: 1000, maxHeldBytes: 6000 });
    assert.equal(feed(small, frames[2]!).length, 1, 'a frame that fits completes');
    assert.equal(small.heldBytes, 0);
  });

  test('ReassemblyBudget: past the shared limit the largest holder loses its oldest frames, a small holder keeps its frame', () => {
    const budget = new ReassemblyBudget(200_000);
    const hoarder = new Reassembler({ maxFrameBytes: 1024 * 1024, fragmentPayload: 1200, budget });
    const honest = new Reassembler({ maxFrameBytes: 1024 * 1024, fragmentPayload: 1200, budget });
    const honestFrame = fragmentPacket(frame(30_000, 1, OTHER_SENDER), 1200);
    feed(honest, honestFrame.slice(0, 10));
    // The hoarder sends the first 20 fragments of many frames it never finishes.
    for (let sequence = 0; sequence < 40; sequence++) feed(hoarder, fragmentPacket(frame(100_000, sequence, SENDER, 5), 1200).slice(0, 20));
    assert.ok(budget.held <= budget.maxBytes, `${budget.held} held over ${budget.maxBytes}`);
    assert.ok(hoarder.dropped > 0, 'the hoarder lost frames');
    assert.equal(honest.dropped, 0, 'the small holder lost nothing');
    const done = feed(honest, honestFrame.slice(10));
    assert.equal(done.length, 1, 'the honest frame completed');
    assert.equal(budget.dropped, hoarder.dropped);
    hoarder.clear();
    assert.equal(budget.held, honest.heldBytes);
    assert.equal(budget.held, 0);
  });
});
