// The browser audio pipeline in real headless Chromium: the fake microphone (it beeps) → createAudioPublisher
// (Opus, PCM, and the AudioWorklet capture fallback) → frames; and frames → AudioPlayout → the mixed output level.
// The harness (tests/e2e/audio-harness.ts) is bundled with esbuild into dist/dev/, which the relay serves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { startRelay, withTimeout, type TestRelay } from '../helpers.js';
import type * as Harness from './audio-harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

let relay: TestRelay | undefined;
let browser: TestBrowser | undefined;
let page: Page;

before(async () => {
  await build({
    entryPoints: [join(root, 'tests/e2e/audio-harness.ts')],
    outfile: join(root, 'dist/dev/audio-harness.js'),
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', sourcemap: 'inline', logLevel: 'silent',
  });
  relay = await startRelay();
  browser = await launchBrowser();
  page = await browser.open(`${relay.url}/`);
});

after(async () => {
  await browser?.close();
  await relay?.relay.close();
});

type HarnessApi = typeof Harness;

/**
 * Runs `name(arg)` from the harness in the page. The call is sent as source text: tsx compiles this file with
 * esbuild's keepNames, whose `__name` helper would not exist in the page if a function were serialised.
 */
async function run<K extends keyof HarnessApi>(name: K, arg: Parameters<HarnessApi[K]>[0], timeoutMs = 20_000): Promise<Awaited<ReturnType<HarnessApi[K]>>> {
  const expression = `import('/dist/dev/audio-harness.js').then((h) => h.${name}(${JSON.stringify(arg ?? null)}))`;
  return withTimeout(page.evaluate(expression) as Promise<Awaited<ReturnType<HarnessApi[K]>>>, timeoutMs, `harness ${name}`);
}

function assertBeepingFrames(r: Harness.FrameReport, codec: string, label: string): void {
  assert.deepEqual(Object.keys(r.codecs), [codec], `${label}: every frame is ${codec}`);
  assert.ok(r.framesPerSecond >= 45 && r.framesPerSecond <= 55, `${label}: ~50 frames/s (got ${r.framesPerSecond})`);
  assert.ok(r.allKeyFrames, `${label}: every audio frame is a key frame`);
  assert.ok(r.monotonic, `${label}: capture timestamps increase`);
  assert.ok(Math.abs(r.spacingMeanUs - 20000) < 1000, `${label}: frames are 20 ms apart on average (got ${r.spacingMeanUs} µs)`);
  assert.ok(r.lagMedianMs >= 0 && r.lagMedianMs < 100, `${label}: timestamps are capture times shortly before emission (median ${r.lagMedianMs} ms)`);
  assert.ok(r.loudestLevel <= 15, `${label}: the beeps are loud (loudest −${r.loudestLevel} dBov)`);
  assert.ok(r.loudFrames >= 2, `${label}: several beep frames (${r.loudFrames})`);
  assert.equal(r.loudVoiced, r.loudFrames, `${label}: beep frames are flagged as voice`);
  assert.ok(r.quietFrames >= 10, `${label}: the gaps between beeps are quiet (${r.quietFrames} frames at −70 dBov or below)`);
  assert.ok(r.quietVoiced < r.quietFrames, `${label}: quiet frames are mostly not voice`);
  assert.equal(r.stats.framesEncoded >= r.frames, true, `${label}: stats count the frames`);
  assert.deepEqual(r.errors, [], `${label}: no pipeline errors`);
}

test('the fake microphone through createAudioPublisher (opus) gives ~50 Opus frames/s with the beeps\' levels', { timeout: 30_000 }, async () => {
  const r = await run('publishMicrophone', { codec: 'opus', durationMs: 2000 });
  console.log('opus', JSON.stringify(r));
  assert.equal(r.publisherCodec, 'opus');
  assertBeepingFrames(r, 'opus', 'opus');
  assert.ok(r.meanBytes > 5 && r.meanBytes < 200, `Opus frames are small at 32 kbit/s (mean ${r.meanBytes} B)`);
  assert.ok(r.stats.encodeMs < 20, `Opus encodes in real time (mean ${r.stats.encodeMs} ms)`);
  assert.ok(r.trackEnded, 'stop() stops the track');
});

test('createAudioPublisher (pcm16) gives ~50 frames/s of 1920 bytes', { timeout: 30_000 }, async () => {
  const r = await run('publishMicrophone', { codec: 'pcm16', durationMs: 2000 });
  console.log('pcm16', JSON.stringify(r));
  assert.equal(r.publisherCodec, 'pcm16');
  assertBeepingFrames(r, 'pcm16', 'pcm16');
  assert.equal(r.meanBytes, 1920);
});

test('opus with fallbacks.pcmOnly sends PCM', { timeout: 30_000 }, async () => {
  const r = await run('publishMicrophone', { codec: 'opus', fallbacks: { pcmOnly: true }, durationMs: 600 });
  assert.equal(r.publisherCodec, 'pcm16');
  assert.deepEqual(Object.keys(r.codecs), ['pcm16']);
});

test('the AudioWorklet capture fallback (no MediaStreamTrackProcessor) produces the same frames', { timeout: 30_000 }, async () => {
  const r = await run('publishMicrophone', { codec: 'opus', fallbacks: { noTrackProcessor: true }, durationMs: 2000 });
  console.log('worklet capture', JSON.stringify(r));
  assertBeepingFrames(r, 'opus', 'worklet capture');
});

test('pause, device switch and codec switch keep one publisher going', { timeout: 30_000 }, async () => {
  const r = await run('publisherLifecycle', undefined);
  console.log('lifecycle', JSON.stringify(r));
  assert.ok(Number(r.opus) >= 45, `opus phase ~50 frames in 1 s (${r.opus})`);
  assert.ok(Number(r.paused) <= 1, `paused: nothing encoded (${r.paused})`);
  assert.ok(Number(r.skipped) >= 20, `paused frames count as skipped (${r.skipped})`);
  assert.equal(r.oldEnded, true, 'replaceTrack stops the old track');
  assert.ok(Number(r.afterReplace) >= 45, `frames keep coming from the new track (${r.afterReplace})`);
  assert.equal(r.pcmCodec, 'pcm16');
  assert.ok(Number(r.pcm) >= 45, `pcm phase ~50 frames in 1 s (${r.pcm})`);
  assert.equal(r.opusAfterPcm, 0, 'no Opus frame overtakes the switch to PCM');
  assert.equal(r.monotonic, true, 'capture timestamps increase across pause, device and codec switches');
  assert.equal(r.newEnded, true, 'stop() stops the current track');
  assert.equal(r.errors, '');
});

function assertTonePlays(r: Harness.PlayoutReport, label: string): void {
  // A sine of amplitude 0.3 has an RMS of 0.212.
  assert.equal(r.state, 'running', `${label}: the AudioContext runs`);
  assert.equal(r.contextRate, 48000);
  assert.ok(r.levelMean > 0.15 && r.levelMean < 0.3, `${label}: the mix carries the tone (mean RMS ${r.levelMean})`);
  // A window of silence is a dropout. On a 2-core machine shared with other work, the page's own feeding
  // timer can stall once; the jitter buffer then counts an underrun. More than a few is a real fault.
  assert.ok(r.levelMin > 0.05 || (r.stats?.underruns ?? Infinity) <= 3,
    `${label}: no dropouts beyond a scheduling stall (min RMS ${r.levelMin}, underruns ${r.stats?.underruns})`);
  assert.ok(r.levelAfterStop < 0.001, `${label}: silence once frames stop (RMS ${r.levelAfterStop})`);
  assert.ok(r.stats && r.stats.played > 50, `${label}: the jitter buffer played frames (${JSON.stringify(r.stats)})`);
  assert.deepEqual(r.errors, []);
}

test('Opus frames fed to AudioPlayout play: the mixed output carries the tone, then silence', { timeout: 30_000 }, async () => {
  const r = await run('playout', { source: 'tone', codec: 'opus', durationMs: 2000 });
  console.log('playout opus', JSON.stringify(r));
  assertTonePlays(r, 'opus');
  assert.equal(r.stats!.decodeErrors, 0);
  assert.ok(r.stats!.underruns >= 1, 'the end of the stream is an underrun');
});

test('PCM frames fed to AudioPlayout play too, and PCM still decodes with noWebCodecsDecode', { timeout: 30_000 }, async () => {
  const r = await run('playout', { source: 'tone', codec: 'pcm16', durationMs: 1500, fallbacks: { noWebCodecsDecode: true, pcmOnly: true } });
  console.log('playout pcm16', JSON.stringify(r));
  assertTonePlays(r, 'pcm16');
});

test('with noWebCodecsDecode, Opus frames are reported undecodable and not played', { timeout: 30_000 }, async () => {
  const r = await run('playout', { source: 'tone', codec: 'opus', durationMs: 800, fallbacks: { noWebCodecsDecode: true } });
  assert.deepEqual(r.undecodable, ['track-1:opus']);
  assert.ok(r.levelMax < 0.001, `nothing is heard (max RMS ${r.levelMax})`);
  assert.ok(r.stats!.undecodable > 20);
});

test('frames arriving with up to 60 ms of jitter, reordered, still play; the jitter buffer adapts its target', { timeout: 30_000 }, async () => {
  const r = await run('playout', { source: 'tone', codec: 'opus', durationMs: 3000, jitterMs: 60 });
  console.log('playout jitter', JSON.stringify(r));
  assert.ok(r.levelMean > 0.15, `the tone is heard (mean RMS ${r.levelMean})`);
  assert.ok(r.stats!.jitterMs > 5, `jitter is measured (${r.stats!.jitterMs} ms)`);
  assert.ok(r.stats!.targetMs > 60, `the target grew beyond the initial 40 ms (${r.stats!.targetMs} ms)`);
  assert.ok(r.stats!.lost + r.stats!.late < r.stats!.played * 0.05, `under 5 % lost or late (${JSON.stringify(r.stats)})`);
});

test('the fake microphone through Opus into AudioPlayout: the beeps are heard', { timeout: 30_000 }, async () => {
  const r = await run('playout', { source: 'mic', codec: 'opus', durationMs: 2000 });
  console.log('playout mic', JSON.stringify(r));
  assert.ok(r.levelMax > 0.03, `beeps reach the output (max RMS ${r.levelMax})`);
  assert.ok(r.levelAfterStop < 0.001);
});

test('an AudioPlayout with a track but no frames is silent', { timeout: 30_000 }, async () => {
  const r = await run('playout', { source: 'none', codec: 'opus', durationMs: 800 });
  assert.equal(r.state, 'running');
  assert.ok(r.levelMax < 1e-4, `silence (max RMS ${r.levelMax})`);
  assert.equal(r.framesFed, 0);
});

test('through the relay: one page, two sessions, alice\'s Opus microphone is heard in bob\'s AudioPlayout', { timeout: 30_000 }, async () => {
  const r = await run('throughRelay', { url: relay!.url, codec: 'opus', durationMs: 2000 });
  console.log('through relay', JSON.stringify(r));
  assert.deepEqual(r.errors, []);
  assert.ok(r.levelMean > 0.15 && r.levelMin > 0.05, `bob hears the tone (mean RMS ${r.levelMean}, min ${r.levelMin})`);
  assert.ok(r.levelAfterStop < 0.001, `and silence after alice stops (${r.levelAfterStop})`);
  assert.ok(r.stats && r.stats.played > 100 && r.stats.lost === 0 && r.stats.late === 0, JSON.stringify(r.stats));
  assert.ok(r.receivedMedianLagMs > 0 && r.receivedMedianLagMs < 100, `capture → bob's track: median ${r.receivedMedianLagMs} ms`);
});

test('the page logged no errors', () => {
  assert.deepEqual(browser!.errors.filter((e) => !e.includes('favicon') && !e.includes('404')), []);
});
