// The pauses of every retry loop (sdk/backoff.ts), on real timers with short delays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../sdk/backoff.js';

/** Node may fire a timer up to a millisecond before performance.now() says it is due. */
const EARLY_MS = 2;

async function timed(wait: Promise<boolean>): Promise<{ waited: boolean; ms: number }> {
  const start = performance.now();
  const waited = await wait;
  return { waited, ms: performance.now() - start };
}

test('backoff pauses grow by the factor up to the longest pause, each pause at least as long as it said', { timeout: 10_000 }, async () => {
  const backoff = new Backoff({ initialMs: 10, maxMs: 45, factor: 2 });
  const told: number[] = [];
  for (let i = 0; i < 5; i++) {
    const delay = backoff.nextDelayMs;
    told.push(delay);
    const { waited, ms } = await timed(backoff.wait());
    assert.equal(waited, true);
    assert.ok(ms >= delay - EARLY_MS, `pause ${i} lasted ${ms.toFixed(1)} ms, not the ${delay} ms it said`);
  }
  assert.deepEqual(told, [10, 20, 40, 45, 45]);
});

test('backoff reset() starts again from the first pause', { timeout: 10_000 }, async () => {
  const backoff = new Backoff({ initialMs: 5, maxMs: 100 });
  assert.equal(await backoff.wait(), true);
  assert.equal(await backoff.wait(), true);
  assert.equal(backoff.nextDelayMs, 20);
  backoff.reset();
  assert.equal(backoff.nextDelayMs, 5);
  assert.equal(await backoff.wait(), true);
  assert.equal(backoff.nextDelayMs, 10);
});

test('backoff wait() resolves false as soon as its signal aborts, and at once afterwards', { timeout: 10_000 }, async () => {
  const controller = new AbortController();
  const backoff = new Backoff({ initialMs: 5000, maxMs: 5000, signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  const during = await timed(backoff.wait());
  assert.equal(during.waited, false);
  assert.ok(during.ms < 1000, `the abort ended a 5 s pause after ${during.ms.toFixed(0)} ms`);
  const after = await timed(backoff.wait());
  assert.equal(after.waited, false);
  assert.ok(after.ms < 100, `an aborted backoff waited ${after.ms.toFixed(0)} ms`);
});

test('backoff jitter shortens each pause by at most its fraction, and not always by the same', { timeout: 10_000 }, async () => {
  const backoff = new Backoff({ initialMs: 4, maxMs: 8, jitter: 0.5 });
  const bases = [4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8];
  const told: number[] = [];
  for (const base of bases) {
    const delay = backoff.nextDelayMs;
    assert.ok(delay >= base / 2 && delay <= base, `pause ${delay} ms outside ${base / 2}..${base} ms`);
    told.push(delay);
    assert.equal(await backoff.wait(), true);
  }
  assert.ok(new Set(told.slice(1)).size > 1, `every pause was ${told[1]} ms: no jitter`);
});

test('backoff refuses options that make no sense with a TypeError', () => {
  assert.throws(() => new Backoff({ initialMs: -1, maxMs: 10 }), TypeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), TypeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: Infinity }), TypeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 20, factor: 0.5 }), TypeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 20, jitter: 1.5 }), TypeError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 20, jitter: Number.NaN }), TypeError);
});
