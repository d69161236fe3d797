// The browser video pipeline in real headless Chromium: the fake camera → createVideoPublisher (VP8 and
// JPEG, MediaStreamTrackProcessor and <video>+canvas capture) → VideoRenderer → <canvas>/<video>.
// The harness (tests/e2e/video-harness.ts) runs in the page, bundled by esbuild into dist/dev/.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import sharp from 'sharp';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { startRelay, type TestRelay } from '../helpers.js';
import type { FrameInfo } from './video-harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HARNESS = '/dist/dev/video-harness.js';

// Loose shapes of what the harness returns (plain JSON).
interface Summary {
  publisherCodec: string;
  stats: { framesEncoded: number; bytesEncoded: number; encodeMs: number; framesSkipped: number };
  frameCount: number;
  encodedFps: number;
  meanBytes: number;
  renderer: { width: number; height: number; fps: number; framesDecoded: number; framesDropped: number; lastFrameAt: number; latencyMs: number };
  errors: string[];
}
interface CanvasRun extends Summary {
  frames: FrameInfo[];
  firstFrameKey: boolean | null;
  keyAfterRequest: boolean | null;
  snapshot: Look & { changedFraction: number };
  resized: Array<[number, number]>;
  jpegSamples: string[];
}

/** What a rendered picture looks like (see the harness's snapshot()). */
interface Look {
  width: number;
  height: number;
  distinctColours: number;
  lumaStdDev: number;
  meanRgb: [number, number, number];
}

/**
 * The picture is the fake camera's, 640×480 unless told: a bright pac-man and a clock on dark green —
 * not a flat fill, not decoder garbage.
 */
function assertFakeCameraPicture(look: Look, label: string, size: [number, number] = [640, 480]): void {
  assert.deepEqual([look.width, look.height], size, `${label}: picture size`);
  assert.ok(look.distinctColours >= 8, `${label}: several colours (${look.distinctColours})`);
  assert.ok(look.lumaStdDev > 10, `${label}: not uniform (luma σ ${look.lumaStdDev.toFixed(1)})`);
  const [r, g, b] = look.meanRgb;
  assert.ok(g > r + 40 && g > b + 40, `${label}: green like the fake camera (mean rgb ${look.meanRgb})`);
}

describe('browser video pipeline (headless Chromium)', {}, () => {
  let relay: TestRelay;
  let browser: TestBrowser;
  let page: Page;
  const frameLeaks: string[] = [];
  const figures: Array<Record<string, string | number>> = [];

  /** Runs an exported harness scenario in the page. */
  function run<T>(name: string, ...args: unknown[]): Promise<T> {
    const argList = args.map((a) => JSON.stringify(a)).join(', ');
    return page.evaluate(`import(${JSON.stringify(HARNESS)}).then((h) => h.${name}(${argList}))`) as Promise<T>;
  }

  function record(label: string, r: Summary & { frames?: FrameInfo[] }): void {
    const mean = (xs: number[]): number => (xs.length ? Math.round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
    const frames = r.frames ?? [];
    figures.push({
      pipeline: label,
      'encoded fps': r.encodedFps.toFixed(1),
      'rendered fps': r.renderer.fps,
      'encode ms/frame': r.stats.encodeMs.toFixed(2),
      'bytes/frame': Math.round(r.meanBytes),
      'key frame bytes': mean(frames.filter((f) => f.key).map((f) => f.bytes)),
      'delta frame bytes': mean(frames.filter((f) => !f.key).map((f) => f.bytes)),
      'kbit/s': Math.round((r.meanBytes * 8 * r.encodedFps) / 1000),
      'capture→render ms': r.renderer.latencyMs.toFixed(1),
    });
  }

  function assertNoErrors(r: Summary): void {
    assert.deepEqual(r.errors, [], 'the publisher reported no error');
  }

  before(async () => {
    await build({
      entryPoints: [fileURLToPath(new URL('./video-harness.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      outfile: `${ROOT}dist/dev/video-harness.js`,
      logLevel: 'error',
    });
    relay = await startRelay();
    // --expose-gc: the suite ends with a collection, so a VideoFrame that was never closed gets reported.
    browser = await launchBrowser(['--js-flags=--expose-gc']);
    page = await browser.open(`${relay.url}/`);
    page.on('console', (message) => {
      if (/garbage collected without being closed/i.test(message.text())) frameLeaks.push(`${message.text()} (after: ${lastTest})`);
    });
  });

  // A collection after each test, so that a leaked VideoFrame is reported next to the pipeline that
  // dropped it (the warning comes when the frame is collected, which may be tests later otherwise).
  let lastTest = '(set-up)';
  afterEach(async (t) => {
    lastTest = t.name;
    await page.evaluate('globalThis.gc?.()');
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  after(async () => {
    if (figures.length > 0) {
      console.log('\nvideo pipeline figures (headless Chromium, 640×480: the fake camera, and a busy canvas scene; printed, not asserted):');
      console.table(figures);
    }
    await browser?.close();
    await relay?.relay.close();
  });

  test('VP8: the fake camera gives frames, the first a key frame, key frames every interval and on request; the renderer draws a moving 640×480 picture', { timeout: 30_000 }, async () => {
    const r = await run<CanvasRun>('cameraToCanvas', { codec: 'vp8', keyFrameIntervalMs: 1000, durationMs: 3500 });
    assertNoErrors(r);
    assert.equal(r.publisherCodec, 'vp8');
    // The fake camera gives ≈20 fps; a loaded machine encodes fewer (the figures print the real rate).
    assert.ok(r.frameCount >= 20, `at least 20 frames in ~3.5 s (got ${r.frameCount})`);
    assert.ok(r.frames.every((f) => f.codec === 'vp8'), 'every frame is VP8');
    assert.equal(r.firstFrameKey, true, 'the first frame is a key frame');
    assert.equal(r.keyAfterRequest, true, 'the first frame captured after requestKeyFrame() is a key frame');
    const keys = r.frames.filter((f) => f.key);
    assert.ok(keys.length >= 3, `periodic key frames (${keys.length} in ${r.frameCount} frames)`);
    assert.ok(keys.length < r.frameCount / 3, 'most frames are delta frames');
    // Periodic: no gap between key frames much longer than the 1 s interval.
    for (let i = 1; i < keys.length; i++) {
      const gapMs = (keys[i]!.ts - keys[i - 1]!.ts) / 1000;
      // 1 s plus a frame or two: the interval is checked when a frame is taken, and a busy encoder skips some.
      assert.ok(gapMs < 1600, `key frames about 1 s apart (gap ${gapMs.toFixed(0)} ms)`);
    }
    assert.ok(r.frames.every((f, i) => i === 0 || f.ts > r.frames[i - 1]!.ts), 'capture timestamps increase');
    const skewMs = Math.abs(r.frames[0]!.ts / 1000 - Date.now());
    assert.ok(skewMs < 60_000, 'timestamps are µs since the Unix epoch');
    assert.equal(r.renderer.width, 640);
    assert.equal(r.renderer.height, 480);
    assert.deepEqual(r.resized, [[640, 480]], 'resize fired once, for the first picture');
    assertFakeCameraPicture(r.snapshot, 'vp8 canvas (resized to the picture)');
    assert.ok(r.snapshot.changedFraction > 0.001, `the picture moves between two frames 300 ms apart (${(r.snapshot.changedFraction * 100).toFixed(2)} % of pixels)`);
    assert.ok(r.renderer.framesDecoded >= r.frameCount * 0.8, `nearly every frame was decoded (${r.renderer.framesDecoded} of ${r.frameCount})`);
    assert.ok(r.renderer.fps >= 3, `frames rendered during the last second (${r.renderer.fps})`);
    record('vp8 800k (track processor)', r);
  });

  test('JPEG: every frame is a key frame whose bytes are a 640×480 JPEG; the renderer draws the moving picture', { timeout: 30_000 }, async () => {
    const r = await run<CanvasRun>('cameraToCanvas', { codec: 'jpeg', durationMs: 3000 });
    assertNoErrors(r);
    assert.equal(r.publisherCodec, 'jpeg');
    assert.ok(r.frameCount >= 20, `at least 20 frames in ~3 s (got ${r.frameCount})`);
    assert.ok(r.frames.every((f) => f.codec === 'jpeg' && f.key), 'every frame is a JPEG key frame');
    assert.ok(r.jpegSamples.length > 0);
    for (const sample of r.jpegSamples) {
      const bytes = Buffer.from(sample, 'base64');
      assert.equal(bytes[0], 0xff, 'JPEG SOI');
      assert.equal(bytes[1], 0xd8, 'JPEG SOI');
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.format, 'jpeg');
      assert.equal(meta.width, 640);
      assert.equal(meta.height, 480);
    }
    assert.equal(r.renderer.width, 640);
    assert.equal(r.renderer.height, 480);
    assertFakeCameraPicture(r.snapshot, 'jpeg canvas');
    assert.ok(r.snapshot.changedFraction > 0.001, 'the picture moves');
    record('jpeg q0.7 (track processor)', r);
  });

  test('JPEG renders through createImageBitmap when WebCodecs decoding is off (noWebCodecsDecode)', { timeout: 30_000 }, async () => {
    const r = await run<CanvasRun>('cameraToCanvas', { codec: 'jpeg', durationMs: 1500, rendererFallbacks: { noWebCodecsDecode: true } });
    assertNoErrors(r);
    assert.equal(r.renderer.width, 640);
    assert.equal(r.renderer.height, 480);
    assert.ok(r.renderer.framesDecoded >= 10, `frames decoded (${r.renderer.framesDecoded})`);
    assertFakeCameraPicture(r.snapshot, 'jpeg via createImageBitmap');
    assert.ok(r.snapshot.changedFraction > 0.001, 'the picture moves');
  });

  test('the noTrackProcessor fallback (<video> + requestVideoFrameCallback) produces VP8 and JPEG frames that render', { timeout: 30_000 }, async () => {
    for (const codec of ['vp8', 'jpeg'] as const) {
      const r = await run<CanvasRun>('cameraToCanvas', { codec, durationMs: 3000, publisherFallbacks: { noTrackProcessor: true } });
      assertNoErrors(r);
      assert.equal(r.publisherCodec, codec);
      assert.ok(r.frameCount >= 15, `${codec}: at least 15 frames in ~3 s (got ${r.frameCount})`);
      assert.equal(r.firstFrameKey, true, `${codec}: first frame is a key frame`);
      assert.equal(r.keyAfterRequest, true, `${codec}: key frame after requestKeyFrame()`);
      assert.equal(r.renderer.width, 640);
      assert.equal(r.renderer.height, 480);
      assertFakeCameraPicture(r.snapshot, `${codec} from <video> capture`);
      assert.ok(r.snapshot.changedFraction > 0.001, `${codec}: the picture moves`);
      record(`${codec} (<video> fallback)`, r);
    }
  });

  test('jpegOnly makes a VP8 publisher produce JPEG', { timeout: 30_000 }, async () => {
    const r = await run<CanvasRun>('cameraToCanvas', { codec: 'vp8', durationMs: 1000, publisherFallbacks: { jpegOnly: true } });
    assertNoErrors(r);
    assert.equal(r.publisherCodec, 'jpeg');
    assert.ok(r.frameCount > 5 && r.frames.every((f) => f.codec === 'jpeg'));
    assert.equal(r.renderer.width, 640);
  });

  test('setCodec vp8 → jpeg → vp8 mid-stream keeps rendering, and each switch starts with a key frame', { timeout: 30_000 }, async () => {
    interface Phase { codec: string; publisherCodec: string; framesAfter: number; firstAfter: FrameInfo | null; codecsAfter: string[]; decodedDuring: number; look: Look }
    const r = await run<Summary & { phases: Phase[] }>('codecSwitch', 1200);
    assertNoErrors(r);
    assert.equal(r.phases.length, 2);
    for (const phase of r.phases) {
      assert.equal(phase.publisherCodec, phase.codec);
      assert.ok(phase.framesAfter >= 5, `${phase.codec}: frames after the switch (${phase.framesAfter})`);
      assert.deepEqual(phase.codecsAfter, [phase.codec], `${phase.codec}: every frame captured after the switch is ${phase.codec}`);
      assert.equal(phase.firstAfter?.key, true, `${phase.codec}: the first frame after the switch is a key frame`);
      assert.ok(phase.decodedDuring >= 5, `${phase.codec}: the renderer kept decoding (${phase.decodedDuring})`);
      assertFakeCameraPicture(phase.look, `after switching to ${phase.codec}`);
    }
    assert.ok(r.renderer.framesDropped <= 3, `switching drops (almost) nothing (${r.renderer.framesDropped})`);
  });

  test('a lost VP8 frame makes the renderer ask for a key frame (at most every 500 ms) and resume after it', { timeout: 30_000 }, async () => {
    const r = await run<Summary & {
      lostWasKey: boolean; requestsWhileWaiting: number; keyFrameNeededAt: number[]; firstRequestDelayMs: number | null; droppedWhileWaiting: number; deliveredAfterGap: number;
      framesSentWhileWaiting: number; resumedWithKey: boolean | null; decodedAfterResume: number; stillRendering: boolean;
    }>('lostFrame', 1300);
    assertNoErrors(r);
    assert.equal(r.lostWasKey, false, 'the lost frame was a delta frame');
    assert.ok(r.firstRequestDelayMs !== null && r.firstRequestDelayMs < 50, `keyFrameNeeded as the frame after the gap arrives (${r.firstRequestDelayMs} ms)`);
    assert.ok(r.framesSentWhileWaiting >= 5, `delta frames kept coming (${r.framesSentWhileWaiting})`);
    // 1.3 s of unanswered waiting: the renderer repeats its request, but at most once per 500 ms.
    assert.ok(r.requestsWhileWaiting >= 2, `the request is repeated while no key frame comes (${r.requestsWhileWaiting})`);
    for (let i = 1; i < r.keyFrameNeededAt.length; i++) {
      const gapMs = (r.keyFrameNeededAt[i]! - r.keyFrameNeededAt[i - 1]!) / 1000;
      assert.ok(gapMs >= 499, `keyFrameNeeded at most every 500 ms (gap ${gapMs.toFixed(0)} ms)`);
    }
    assert.equal(r.droppedWhileWaiting, r.deliveredAfterGap, 'every delta after the gap was dropped, none decoded');
    assert.equal(r.resumedWithKey, true, 'the publisher answered with a key frame');
    assert.ok(r.decodedAfterResume >= 5, 'rendering resumed');
    assert.ok(r.stillRendering, 'and goes on');
    assert.equal(r.renderer.width, 640);
  });

  test('a VP8 frame that fails to decode makes the renderer ask for a key frame and resume after it', { timeout: 30_000 }, async () => {
    const r = await run<Summary & { badWasKey: boolean; requestDelayMs: number; keyFrameNeeded: number; resumedWithKey: boolean | null; look: Look }>('corruptFrame');
    assertNoErrors(r);
    assert.equal(r.badWasKey, false, 'the corrupt frame was a delta frame');
    assert.ok(r.requestDelayMs < 200, `keyFrameNeeded soon after the corrupt frame (${r.requestDelayMs} ms)`);
    assert.equal(r.resumedWithKey, true, 'the publisher answered with a key frame');
    assertFakeCameraPicture(r.look, 'after the decode error');
  });

  test('a <video> element shows the frames (MediaStreamTrackGenerator, and canvas.captureStream() without it)', { timeout: 40_000 }, async () => {
    for (const forceCanvasStream of [false, true]) {
      const label = forceCanvasStream ? 'canvas.captureStream' : 'track generator';
      const r = await run<Summary & {
        videoWidth: number; videoHeight: number; presented: number; paused: boolean; srcObjectSet: boolean;
        srcObjectAfterDetach: boolean; look: Look; changedFraction: number;
      }>('cameraToVideo', { forceCanvasStream });
      assertNoErrors(r);
      assert.equal(r.videoWidth, 640, `${label}: videoWidth`);
      assert.equal(r.videoHeight, 480, `${label}: videoHeight`);
      assert.ok(r.presented >= 5, `${label}: the video presented frames`);
      assert.equal(r.paused, false, `${label}: the video plays`);
      assert.ok(r.srcObjectSet);
      assert.equal(r.srcObjectAfterDetach, false, `${label}: detach() clears srcObject`);
      assertFakeCameraPicture(r.look, `${label}: the picture the video shows`);
      assert.ok(r.changedFraction > 0.001, `${label}: the picture moves`);
    }
  });

  test('pause skips capture and resumes with a key frame; replaceTrack to 320×240 reconfigures and resizes; stop() ends the track', { timeout: 30_000 }, async () => {
    const r = await run<Summary & {
      skippedWhilePaused: number; capturedWhilePaused: number; firstAfterResumeKey: boolean; oldTrackState: string;
      publisherTrackIsNew: boolean; firstAfterReplaceKey: boolean; rendererSize: [number, number]; resized: Array<[number, number]>;
      keepsRendering: boolean; framesAfterStop: number; trackStateAfterStop: string;
    }>('pauseReplaceStop');
    assertNoErrors(r);
    assert.ok(r.skippedWhilePaused >= 5, `frames released while paused (${r.skippedWhilePaused})`);
    assert.equal(r.capturedWhilePaused, 0, 'nothing captured while paused was encoded');
    assert.equal(r.firstAfterResumeKey, true, 'the first frame after resuming is a key frame');
    assert.equal(r.oldTrackState, 'ended', 'replaceTrack stopped the old track');
    assert.equal(r.publisherTrackIsNew, true);
    assert.equal(r.firstAfterReplaceKey, true, 'the first frame from the new track is a key frame');
    assert.deepEqual(r.rendererSize, [320, 240]);
    assert.deepEqual(r.resized, [[640, 480], [320, 240]], 'the renderer fired resize for the first picture and the new size');
    assert.ok(r.keepsRendering);
    assert.equal(r.framesAfterStop, 0, 'no frame captured after stop()');
    assert.equal(r.trackStateAfterStop, 'ended', 'stop() stopped the track');
  });

  test('cameraConstraints, screenConstraints, listDevices and the decodable codecs', { timeout: 30_000 }, async () => {
    const r = await run<{
      camera: MediaStreamConstraints; cameraWithDevice: MediaStreamConstraints; screen: DisplayMediaStreamOptions;
      settings: { width: number; height: number; frameRate: number }; countsBefore: number[]; countsAfter: number[];
      cameraLabelAfter: string; supportedCodecs: string[]; supportedWithoutWebCodecs: string[];
    }>('helpers');
    assert.deepEqual(r.camera, { video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25, max: 25 } }, audio: false });
    assert.deepEqual((r.cameraWithDevice.video as MediaTrackConstraints).deviceId, { exact: 'abc' });
    assert.deepEqual(r.screen, { video: { width: { max: 1920 }, frameRate: { ideal: 15, max: 15 } }, audio: false });
    assert.equal(r.settings.width, 640);
    assert.equal(r.settings.height, 480);
    assert.ok(r.countsAfter[0]! >= 1 && r.countsAfter[1]! >= 1, `a camera and a microphone are listed (${r.countsAfter})`);
    assert.notEqual(r.cameraLabelAfter, '', 'labels are there once permission is granted');
    assert.deepEqual(r.supportedCodecs.slice(0, 2), ['jpeg', 'vp8']);
    assert.deepEqual(r.supportedWithoutWebCodecs, ['jpeg']);
  });

  test('figures on a busy 640×480 scene (gradient, shapes, text, noise) for VP8 and JPEG', { timeout: 30_000 }, async () => {
    for (const codec of ['vp8', 'jpeg'] as const) {
      const r = await run<Summary & { frames: FrameInfo[] }>('benchBusyScene', { codec, durationMs: 3000 });
      assertNoErrors(r);
      assert.ok(r.frameCount > 10, `${codec}: frames from the canvas track (${r.frameCount})`);
      assert.equal(r.renderer.width, 640);
      record(`${codec} busy scene`, r);
    }
  });

  test('no VideoFrame was left for the garbage collector, and the page logged no error', { timeout: 30_000 }, async () => {
    await page.evaluate('globalThis.gc?.()');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await page.evaluate('globalThis.gc?.()');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(frameLeaks, []);
    assert.deepEqual(browser.errors.filter((e) => !/favicon|404/.test(e)), []);
  });
});
