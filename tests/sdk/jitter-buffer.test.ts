// The adaptive jitter buffer on a virtual clock: frames pushed at chosen arrival times, pulled at the audio
// clock's pace, and the played-out frames read back from the samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from '../../sdk/media/JitterBuffer.js';
import { mixerWorkletSource } from '../../sdk/media/AudioPlayout.js';

const FRAME = 960;

/** A 20 ms frame whose every sample says which frame it is (label 0..39 → 0.10..0.49); `quiet` frames are zero. */
function frame(label: number, quiet = false): Float32Array {
  return new Float32Array(FRAME).fill(quiet ? 0 : 0.1 + (label % 40) * 0.01);
}

/** The label a played 20 ms block carries ('-' for silence), read in the middle, away from fades. */
function labelOf(block: Float32Array): string {
  const x = block[FRAME / 2]!;
  return Math.abs(x) < 0.05 ? '-' : String(Math.round((x - 0.1) / 0.01));
}

interface Push {
  /** Arrival time (ms). */
  at: number;
  seq: number;
  /** Label of the frame's samples. Default: its index in the stream (`label`), or seq. */
  label?: number;
  /** Capture time (ms). Default: label × 20. */
  ts?: number;
  quiet?: boolean;
}

/** Pushes `pushes` and pulls 20 ms every 20 ms from t = 0 to `untilMs`; returns the labels played. */
function run(pushes: Push[], untilMs: number, options: JitterBufferOptions = {}, jb = new JitterBuffer(options), fromMs = 0,
  onTick?: (t: number, jb: JitterBuffer) => void) {
  const sorted = [...pushes].sort((a, b) => a.at - b.at);
  const played: string[] = [];
  let next = 0;
  for (let t = fromMs; t <= untilMs; t += 20) {
    while (next < sorted.length && sorted[next]!.at <= t) {
      const p = sorted[next++]!;
      const label = p.label ?? p.seq;
      jb.push(p.seq, (p.ts ?? label * 20) * 1000, frame(label, p.quiet), p.at);
    }
    played.push(labelOf(jb.pull(FRAME)));
    onTick?.(t, jb);
  }
  return { played: played.join(' '), stats: jb.stats(), jb };
}

/** Frames 0..n−1 arriving every 20 ms from `start`. */
function steady(n: number, start = 0, firstSeq = 0): Push[] {
  return Array.from({ length: n }, (_, i) => ({ at: start + i * 20, seq: (firstSeq + i) >>> 0, label: i }));
}

const zero: Partial<JitterBufferStats> = { late: 0, lost: 0, duplicates: 0 };

const cases: Array<{ name: string; pushes: Push[]; until: number; played: string | RegExp; stats: Partial<JitterBufferStats> }> = [
  {
    name: 'in order: starts once 40 ms are buffered, plays every frame once, runs dry at the end',
    pushes: steady(10), until: 240,
    played: '- 0 1 2 3 4 5 6 7 8 9 - -',
    stats: { ...zero, played: 10, underruns: 1, received: 10 },
  },
  {
    name: 'reordered within the buffer: played in sequence order',
    pushes: [0, 2, 1, 3, 5, 4, 6, 7].map((seq, i) => ({ at: i * 20, seq })), until: 200,
    played: '- 0 1 2 3 4 5 6 7 - -',
    stats: { ...zero, played: 8 },
  },
  {
    name: 'lost: a frame that never comes is a frame of silence; the stream goes on',
    pushes: steady(10).filter((p) => p.seq !== 4), until: 240,
    played: '- 0 1 2 3 - 5 6 7 8 9 - -',
    stats: { late: 0, duplicates: 0, lost: 1, played: 9 },
  },
  {
    name: 'late: a frame arriving after its playout point is dropped and counted (and was lost)',
    pushes: [...steady(10).filter((p) => p.seq !== 4), { at: 130, seq: 4 }], until: 240,
    played: '- 0 1 2 3 - 5 6 7 8 9 - -',
    stats: { late: 1, lost: 1, duplicates: 0, played: 9 },
  },
  {
    name: 'duplicate: the second copy is dropped and counted',
    // seq 5 comes early at 70 ms, so its copy at 100 ms is the duplicate; seq 1 at 75 ms was played at 40 ms: late.
    pushes: [...steady(10), { at: 70, seq: 5 }, { at: 75, seq: 1 }], until: 240,
    played: '- 0 1 2 3 4 5 6 7 8 9 - -',
    stats: { late: 1, duplicates: 1, lost: 0, played: 10 },
  },
  {
    name: 'sequence wrap at 2^32: 4294967294, 4294967295, 0, 1… play in order',
    pushes: steady(8, 0, 0xfffffffe), until: 200,
    played: '- 0 1 2 3 4 5 6 7 - -',
    stats: { ...zero, played: 8 },
  },
  {
    name: 'reordered across the wrap',
    pushes: [0xfffffffe, 0, 0xffffffff, 1, 2, 3].map((seq, i) => ({ at: i * 20, seq, label: (seq + 2) >>> 0 })), until: 160,
    played: '- 0 1 2 3 4 5 - -',
    stats: { ...zero, played: 6 },
  },
  {
    name: 'underrun: the sender stalls 200 ms; playout waits for the target again and resumes where it was',
    pushes: [...steady(5), ...steady(5, 300, 5).map((p) => ({ ...p, label: p.seq }))], until: 460,
    // The stall also raises the target (a 200 ms jump in transit time is jitter), so the restart waits longer.
    played: /^- 0 1 2 3 4 (- ){9,12}5 6 7 8 9 -/,
    stats: { ...zero, underruns: 2, played: 10 },
  },
];

for (const c of cases) {
  test(`jitter buffer — ${c.name}`, () => {
    const { played, stats } = run(c.pushes, c.until);
    if (typeof c.played === 'string') assert.equal(played, c.played);
    else assert.match(played, c.played);
    for (const [key, value] of Object.entries(c.stats)) assert.equal(stats[key as keyof JitterBufferStats], value, `${key} in ${JSON.stringify(stats)}`);
  });
}

test('jitter buffer — pulls of any size join frames without a seam (128-sample render quanta)', () => {
  const jb = new JitterBuffer();
  const ramp = (seq: number) => Float32Array.from({ length: FRAME }, (_, i) => 0.2 + (seq * FRAME + i) / 100000);
  for (let seq = 0; seq < 3; seq++) jb.push(seq, seq * 20000, ramp(seq), seq * 20);
  const out: number[] = [];
  for (let i = 0; i < 23; i++) out.push(...jb.pull(128));
  // After the 2 ms fade-in, samples follow the ramp exactly across frame boundaries.
  for (let i = 96; i < 3 * FRAME; i++) assert.ok(Math.abs(out[i]! - (0.2 + i / 100000)) < 1e-6, `sample ${i}: ${out[i]}`);
  assert.equal(jb.stats().played, 3);
});

test('jitter buffer — fades instead of clicking: into a lost frame, and back out of it', () => {
  const jb = new JitterBuffer();
  for (const seq of [0, 1, 3, 4]) jb.push(seq, seq * 20000, new Float32Array(FRAME).fill(0.5), seq * 20);
  const out = jb.pull(5 * FRAME);
  const steps = out.slice(1).map((x, i) => Math.abs(x - out[i]!));
  assert.ok(Math.max(...steps) < 0.03, `largest step between samples ${Math.max(...steps)}`);
  assert.ok(Math.abs(out[2 * FRAME + 480]!) < 1e-4, 'the lost frame is silent in its middle');
  assert.equal(jb.stats().lost, 1);
});

/** Deterministic pseudo-random numbers in [0, 1). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

test('jitter buffer — the target grows at once with jitter and shrinks slowly when it calms down', () => {
  const jb = new JitterBuffer();
  const random = lcg(7);
  assert.equal(jb.targetMs, 40, 'starts at 40 ms');
  // 4 s of frames delayed by 0..40 ms each (reordered at times).
  const noisy: Push[] = Array.from({ length: 200 }, (_, i) => ({ at: i * 20 + random() * 40, seq: i, label: i }));
  const first = run(noisy, 4000, {}, jb);
  assert.ok(first.stats.jitterMs > 8 && first.stats.jitterMs < 20, `jitter measured ${first.stats.jitterMs} ms`);
  const grown = first.stats.targetMs;
  assert.ok(grown > 60 && grown <= 200, `target grew to ${grown} ms`);
  // Then a calm network: every frame exactly on time for 12 s.
  const calm: Push[] = Array.from({ length: 600 }, (_, i) => ({ at: 4020 + i * 20, seq: 200 + i, label: i, ts: 4020 + i * 20 }));
  const tracked: number[] = [];
  run(calm, 16000, {}, jb, 4020, (t, b) => {
    if ((t - 4000) % 1000 === 0) tracked.push(b.targetMs);
  });
  const jb2 = jb;
  assert.ok(tracked[0]! > grown - 10, `one second later it fell by at most ~5 ms a second (${grown} → ${tracked[0]})`);
  assert.ok(tracked.every((t, i) => i === 0 || t <= tracked[i - 1]!), `it falls steadily: ${tracked.map((t) => t.toFixed(1)).join(' ')}`);
  assert.ok(tracked.at(-1)! <= grown - 50, `12 s later it is down by ~60 ms (${grown} → ${tracked.at(-1)})`);
  assert.ok(jb2.targetMs >= 20, 'never below the 20 ms minimum');
});

test('jitter buffer — target bounded by maxMs under huge jitter', () => {
  const random = lcg(3);
  const { stats } = run(Array.from({ length: 150 }, (_, i) => ({ at: i * 20 + random() * 400, seq: i, label: i })), 3500);
  assert.equal(stats.targetMs, 200);
});

test('jitter buffer — a stall grows the target by half a frame; a long pause (mute) does not', () => {
  const stall = run([...steady(10), ...steady(10, 400, 10)], 800).stats;
  const mute = run([...steady(10), ...steady(10, 3000, 10)], 3400).stats;
  assert.equal(stall.underruns, 2);
  assert.equal(mute.underruns, 2);
  assert.ok(stall.targetMs > mute.targetMs + 8, `stall ${stall.targetMs} vs mute ${mute.targetMs}`);
});

test('jitter buffer — after a stall, the backlog is not played late: playout restarts near the target', () => {
  // Steady, then nothing for 200 ms, then the 10 held-up frames at once with the rest on time.
  const pushes: Push[] = steady(40).map((p) => (p.seq >= 10 && p.seq < 20 ? { ...p, at: 400 } : p));
  const { played, stats, jb } = run(pushes, 900);
  assert.ok(stats.dropped >= 3, `frames dropped to catch up (${JSON.stringify(stats)})`);
  assert.ok(jb.stats().lost === 0 && stats.late === 0);
  assert.match(played, /^- 0 1 2 3 4 5 6 7 8 9 (- )+(1\d )+2\d .*39 - -$/, 'the newest frames play on time');
});

test('jitter buffer — a sender clock running 5 % fast: speech frames are dropped (crossfaded) to stay near the target', () => {
  const pushes: Push[] = Array.from({ length: 320 }, (_, i) => ({ at: i * 19, seq: i, label: i, ts: i * 20 }));
  let maxBuffered = 0;
  const { stats } = run(pushes, 6400, {}, undefined, 0, (t, jb) => {
    if (t > 500) maxBuffered = Math.max(maxBuffered, jb.bufferedMs);
  });
  assert.ok(stats.dropped >= 5, `dropped ${stats.dropped}`);
  assert.ok(maxBuffered <= stats.targetMs + 50 + 20, `the delay stayed bounded (max ${maxBuffered} ms, target ${stats.targetMs})`);
  assert.equal(stats.lost, 0);
  assert.equal(stats.underruns, 1, 'only the end of the stream');
});

test('jitter buffer — the crossfade of a catch-up does not click', () => {
  const jb = new JitterBuffer({ catchUpMs: 30 });
  const sine = (seq: number) => Float32Array.from({ length: FRAME }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 210 * (seq * FRAME + i)) / 48000));
  const out: number[] = [];
  // One frame in, 0.9 of a frame out per step: the buffer grows until it has to drop speech.
  for (let seq = 0; seq < 80; seq++) {
    jb.push(seq, seq * 20000, sine(seq), seq * 18);
    out.push(...jb.pull(seq % 2 === 0 ? 1.5 * FRAME : 0.3 * FRAME));
  }
  const steps = out.slice(1).map((x, i) => Math.abs(x - out[i]!));
  assert.ok(jb.stats().dropped >= 1, JSON.stringify(jb.stats()));
  // A 210 Hz sine of amplitude 0.5 moves at most 0.014 a sample (and a frame is not a whole number of its periods,
  // so a splice without a crossfade jumps).
  assert.ok(Math.max(...steps) < 0.05, `largest step ${Math.max(...steps)}`);
});

test('jitter buffer — in a pause it inserts or drops silent frames to reach the target, never in speech', () => {
  const random = lcg(11);
  // Quiet frames with growing jitter: the delay is raised by inserting silence, without underruns.
  const quiet: Push[] = Array.from({ length: 150 }, (_, i) => ({ at: i * 20 + (i > 30 ? random() * 30 : 0), seq: i, quiet: true }));
  const jb = new JitterBuffer();
  let minBuffered = Infinity;
  for (let t = 0, k = 0; t <= 3000; t += 20) {
    while (k < quiet.length && quiet[k]!.at <= t) jb.push(quiet[k]!.seq, quiet[k]!.seq * 20000, frame(0, true), quiet[k++]!.at);
    jb.pull(FRAME);
    if (t > 2000) minBuffered = Math.min(minBuffered, jb.bufferedMs);
  }
  const stats = jb.stats();
  assert.ok(stats.targetMs > 50, `target ${stats.targetMs}`);
  assert.ok(minBuffered > 20, `the buffer grew toward the target in silence (min ${minBuffered} ms)`);
  assert.ok(stats.played < 150, 'silence frames were inserted (fewer frames played than time passed)');
  // Speech with the same arrivals: no insertion, every frame played exactly once, in order.
  const speech = run(quiet.map((p) => ({ ...p, quiet: false, label: p.seq })), 3400);
  assert.match(speech.played, /^[- ]*0 1 2 3 4 5 6 7 8 9 10 11/);
});

test('jitter buffer — a sender that starts its numbering over is followed, not dropped as late', () => {
  const pushes = [...steady(10), ...steady(10, 200, 5000).map((p) => ({ ...p, label: p.label! + 10 }))];
  const { played, stats } = run(pushes, 500);
  // The frame still buffered when the new numbering arrives may go with the old numbering; the new stream plays whole.
  assert.match(played, /^- 0 1 2 3 4 5 6 7 8 (9 )?(- )*10 11 12 13 14 15 16 17 18 19 -/);
  assert.equal(stats.late, 0);
});

test('jitter buffer — memory stays bounded when nobody pulls (suspended AudioContext)', () => {
  const jb = new JitterBuffer();
  for (let i = 0; i < 1000; i++) jb.push(i, i * 20000, frame(i), i * 20);
  assert.ok(jb.bufferedMs <= 2 * 200 + 40, `${jb.bufferedMs} ms held`);
  const played = run([], 100, {}, jb).played;
  assert.doesNotMatch(played, /^- /, 'plays at once from what it kept');
  assert.ok(jb.stats().dropped > 900);
});

test('jitter buffer — reset() forgets everything', () => {
  const { jb } = run(steady(5), 60);
  jb.reset();
  assert.deepEqual({ ...jb.stats(), targetMs: 0 }, {
    bufferedMs: 0, targetMs: 0, jitterMs: 0, received: 0, played: 0, late: 0, duplicates: 0, lost: 0, dropped: 0, underruns: 0, playing: false,
  });
  assert.equal(jb.targetMs, 40);
});

/** The mixer worklet module evaluated with stand-ins for the AudioWorklet globals. */
function loadMixer() {
  let Processor: (new (options: unknown) => { port: Port; process(i: unknown[], o: Float32Array[][]): boolean }) | undefined;
  class Port {
    onmessage: ((e: { data: unknown }) => void) | null = null;
    posted: unknown[] = [];
    postMessage(m: unknown) {
      this.posted.push(m);
    }
  }
  class AudioWorkletProcessor {
    port = new Port();
  }
  new Function('AudioWorkletProcessor', 'registerProcessor', 'sampleRate', mixerWorkletSource())(
    AudioWorkletProcessor, (name: string, ctor: typeof Processor) => {
      assert.equal(name, 'lanconf-mixer');
      Processor = ctor;
    }, 48000);
  return new Processor!({ processorOptions: { jitter: {}, statsIntervalMs: 250 } });
}

test('the mixer worklet module carries a self-contained JitterBuffer (its source text runs without imports)', () => {
  const mixer = loadMixer();
  const send = (id: string, seq: number, value: number) =>
    mixer.port.onmessage!({ data: { t: 'frame', id, seq, ts: seq * 20000, at: seq * 20, pcm: new Float32Array(FRAME).fill(value) } });
  const out = [new Float32Array(128)];
  const heard: number[] = [];
  let pushed = 0;
  // Frames arrive at the pace they are played (one per 7.5 render quanta), a little ahead.
  for (let q = 0; q < 400; q++) {
    while (pushed < 40 && pushed * FRAME <= q * 128 + 2 * FRAME) {
      send('a', pushed, pushed < 20 ? 0.3 : 0.9);
      send('b', pushed, pushed < 20 ? 0.2 : 0.9);
      pushed++;
    }
    out[0]!.fill(0);
    assert.equal(mixer.process([], [out]), true);
    heard.push(out[0]![64]!);
  }
  assert.ok(Math.abs(heard[30]! - 0.5) < 1e-6, `two tracks are summed (${heard[30]})`);
  // Loud overlap is soft-clipped below 1 instead of wrapping or hard-clipping.
  const loud = Math.max(...heard);
  assert.ok(loud > 0.95 && loud < 1, `1.8 becomes ${loud}`);
  assert.ok(heard.at(-1)! < 1e-3, 'silence once the frames run out');
  const stats = mixer.port.posted.find((m) => (m as { t: string }).t === 'stats') as { stats: Record<string, JitterBufferStats> } | undefined;
  assert.ok(stats && stats.stats.a && stats.stats.b, 'stats are posted back for every track');
  mixer.port.onmessage!({ data: { t: 'remove', id: 'a' } });
  mixer.port.onmessage!({ data: { t: 'close' } });
  assert.equal(mixer.process([], [out]), false, 'close ends the processor');
});
