/**
 * In-page harness for tests/e2e/video-pipeline.test.ts: bundled by esbuild into dist/dev/video-harness.js
 * and imported by a headless Chromium page. Each exported scenario runs the real pipeline
 * (fake camera → createVideoPublisher → VideoRenderer → canvas/video) and returns plain JSON for Node to
 * assert on.
 * @module
 */
import { TypedEmitter } from '../../sdk/TypedEmitter.js';
import { nowMicros, type EncodedFrame, type RemoteFrame, type RemoteTrack } from '../../sdk/Track.js';
import type { Codec } from '../../sdk/protocol/index.js';
import type { MediaFallbacks, MediaPublisher } from '../../sdk/media/types.js';
import { cameraConstraints, createVideoPublisher, listDevices, screenConstraints } from '../../sdk/media/videoCapture.js';
import { VideoRenderer, type VideoFrameSource } from '../../sdk/media/VideoRenderer.js';

/** Stands in for a RemoteTrack: the harness delivers frames with sequence numbers it chooses. */
class FeedTrack extends TypedEmitter<{ frame: [frame: RemoteFrame] }> {
  deliver(frame: RemoteFrame): void {
    this.emit('frame', frame);
  }
}

// The renderer takes a RemoteTrack as its source, and this stand-in too (checked by tsc).
const remoteTrackFits: RemoteTrack extends VideoFrameSource ? true : never = true;
const feedTrackFits: VideoFrameSource = new FeedTrack();
void remoteTrackFits;
void feedTrackFits;

/** What Node gets about each encoded frame. */
export interface FrameInfo {
  codec: Codec;
  key: boolean;
  bytes: number;
  /** Capture time, µs since the epoch. */
  ts: number;
  /** When the pipeline handed it over, µs since the epoch. */
  at: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

async function openCamera(width = 640, height = 480): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints({ width, height }));
  const track = stream.getVideoTracks()[0];
  if (!track) throw new Error('no camera track');
  return track;
}

function toBase64(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** What a picture looks like, in numbers Node can check. */
interface Look {
  width: number;
  height: number;
  distinctColours: number;
  /** Standard deviation of luma (0..255): 0 for a flat picture. */
  lumaStdDev: number;
  /** Mean red, green, blue: the fake camera's picture is green. */
  meanRgb: [number, number, number];
}

/**
 * Pixels of a canvas, and how they look. The fake camera draws a bright green pac-man that turns and a
 * running clock on a dark green ground (few colours, but far from uniform).
 */
function snapshot(canvas: HTMLCanvasElement): Look & { pixels: Uint8ClampedArray } {
  const ctx = canvas.getContext('2d')!;
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const colours = new Set<number>();
  let sum = 0;
  let sumSq = 0;
  const rgb: [number, number, number] = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!;
    colours.add((r << 16) | (g << 8) | b);
    const y = 0.299 * r + 0.587 * g + 0.114 * b;
    sum += y;
    sumSq += y * y;
    rgb[0] += r;
    rgb[1] += g;
    rgb[2] += b;
  }
  const n = Math.max(1, data.length / 4);
  return {
    pixels: data, width: canvas.width, height: canvas.height, distinctColours: colours.size,
    lumaStdDev: Math.sqrt(Math.max(0, sumSq / n - (sum / n) ** 2)),
    meanRgb: rgb.map((c) => Math.round(c / n)) as [number, number, number],
  };
}

function look(s: Look): Look {
  return { width: s.width, height: s.height, distinctColours: s.distinctColours, lumaStdDev: s.lumaStdDev, meanRgb: s.meanRgb };
}

/** Fraction of pixels whose colour moved by more than a little (codec noise aside). */
function changedFraction(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  if (a.length !== b.length || a.length === 0) return 1;
  let changed = 0;
  for (let i = 0; i < a.length; i += 4) {
    const d = Math.abs(a[i]! - b[i]!) + Math.abs(a[i + 1]! - b[i + 1]!) + Math.abs(a[i + 2]! - b[i + 2]!);
    if (d > 30) changed++;
  }
  return changed / (a.length / 4);
}

interface Pipeline {
  publisher: MediaPublisher;
  renderer: VideoRenderer;
  feed: FeedTrack;
  frames: FrameInfo[];
  jpegSamples: Uint8Array[];
  errors: string[];
  keyFrameNeededAt: number[];
  /** Sequence numbers to skip (the frame is "lost" on the way). */
  lose: Set<number>;
  /** Sequence numbers whose bytes arrive as garbage. */
  corrupt: Set<number>;
  /** Every `resize` the renderer fired. */
  resized: Array<[number, number]>;
  canvas: HTMLCanvasElement;
  close(): void;
}

interface PipelineOptions {
  codec: 'vp8' | 'jpeg';
  publisherFallbacks?: MediaFallbacks;
  rendererFallbacks?: MediaFallbacks;
  keyFrameIntervalMs?: number;
  fps?: number;
  /** Answer keyFrameNeeded by asking the publisher (as the session does). Default true. */
  answerKeyFrameRequests?: boolean;
}

async function pipeline(options: PipelineOptions & { track?: MediaStreamTrack }): Promise<Pipeline> {
  const track = options.track ?? (await openCamera());
  const feed = new FeedTrack();
  const renderer = new VideoRenderer(feed, { fallbacks: options.rendererFallbacks ?? {} });
  const canvas = document.createElement('canvas');
  document.body.append(canvas);
  renderer.attach(canvas);
  const frames: FrameInfo[] = [];
  const jpegSamples: Uint8Array[] = [];
  const errors: string[] = [];
  const keyFrameNeededAt: number[] = [];
  const lose = new Set<number>();
  const corrupt = new Set<number>();
  const resized: Array<[number, number]> = [];
  renderer.on('resize', (w, h) => resized.push([w, h]));
  let sequence = 0;
  const publisher = createVideoPublisher(track, {
    codec: options.codec,
    width: 640,
    height: 480,
    fps: options.fps ?? 25,
    keyFrameIntervalMs: options.keyFrameIntervalMs ?? 2000,
    fallbacks: options.publisherFallbacks ?? {},
    output: {
      onFrame(frame: EncodedFrame & { codec: Codec }) {
        frames.push({ codec: frame.codec, key: frame.keyFrame === true, bytes: frame.data.byteLength, ts: frame.timestamp ?? 0, at: nowMicros() });
        if (frame.codec === 'jpeg' && jpegSamples.length < 3) jpegSamples.push(frame.data);
        const seq = sequence++;
        if (lose.has(seq)) return;
        feed.deliver({
          data: corrupt.has(seq) ? frame.data.map((_, i) => (i * 151 + 7) & 0xff) : frame.data, codec: frame.codec, kind: 'camera', keyFrame: frame.keyFrame === true, sequence: seq,
          timestamp: frame.timestamp ?? nowMicros(), audioLevel: 127, voice: false, discontinuity: false,
        });
      },
      onError(error) {
        errors.push(String(error));
      },
    },
  });
  renderer.on('keyFrameNeeded', () => {
    keyFrameNeededAt.push(nowMicros());
    if (options.answerKeyFrameRequests ?? true) publisher.requestKeyFrame();
  });
  await publisher.start();
  return {
    publisher, renderer, feed, frames, jpegSamples, errors, keyFrameNeededAt, lose, corrupt, resized, canvas,
    close() {
      publisher.stop();
      renderer.close();
      canvas.remove();
    },
  };
}

function summary(p: Pipeline, since = 0): Record<string, unknown> {
  const frames = p.frames.filter((f) => f.ts >= since);
  const spanS = frames.length > 1 ? (frames[frames.length - 1]!.ts - frames[0]!.ts) / 1e6 : 0;
  return {
    publisherCodec: p.publisher.codec,
    stats: { ...p.publisher.stats },
    frameCount: frames.length,
    encodedFps: spanS > 0 ? (frames.length - 1) / spanS : 0,
    meanBytes: frames.length ? frames.reduce((s, f) => s + f.bytes, 0) / frames.length : 0,
    renderer: {
      width: p.renderer.width, height: p.renderer.height, fps: p.renderer.fps, framesDecoded: p.renderer.framesDecoded,
      framesDropped: p.renderer.framesDropped, lastFrameAt: p.renderer.lastFrameAt, latencyMs: p.renderer.latencyMs,
    },
    errors: p.errors,
  };
}

/**
 * The fake camera through one codec into a canvas: key frames (first, periodic, on request), pixels that
 * move, JPEG samples for Node to inspect.
 */
export async function cameraToCanvas(options: PipelineOptions & { durationMs?: number }): Promise<Record<string, unknown>> {
  const p = await pipeline(options);
  try {
    await until(() => p.renderer.framesDecoded >= 3, 'three frames are rendered');
    await sleep(300);
    const a = snapshot(p.canvas);
    await sleep(300);
    const b = snapshot(p.canvas);
    // requestKeyFrame: the first frame captured after the call must be a key frame.
    const requestedAt = nowMicros();
    p.publisher.requestKeyFrame();
    await sleep(Math.max(0, (options.durationMs ?? 3000) - 600));
    const afterRequest = p.frames.find((f) => f.ts > requestedAt);
    return {
      ...summary(p),
      frames: p.frames,
      firstFrameKey: p.frames[0]?.key ?? null,
      keyAfterRequest: afterRequest ? afterRequest.key : null,
      requestedAt,
      snapshot: { ...look(a), changedFraction: changedFraction(a.pixels, b.pixels) },
      resized: p.resized,
      jpegSamples: p.jpegSamples.map(toBase64),
    };
  } finally {
    p.close();
  }
}

/** vp8 → jpeg → vp8 mid-stream: rendering goes on in every phase; each switch starts with a key frame. */
export async function codecSwitch(phaseMs = 1200): Promise<Record<string, unknown>> {
  const p = await pipeline({ codec: 'vp8', keyFrameIntervalMs: 10_000 });
  try {
    await until(() => p.renderer.framesDecoded >= 3, 'three VP8 frames are rendered');
    const phases: Array<Record<string, unknown>> = [];
    for (const codec of ['jpeg', 'vp8'] as const) {
      const decodedBefore = p.renderer.framesDecoded;
      const switchedAt = nowMicros();
      const frameIndex = p.frames.length;
      await p.publisher.setCodec(codec);
      await sleep(phaseMs);
      const after = p.frames.slice(frameIndex).filter((f) => f.ts > switchedAt);
      const snap = snapshot(p.canvas);
      phases.push({
        codec,
        publisherCodec: p.publisher.codec,
        framesAfter: after.length,
        firstAfter: after[0] ?? null,
        codecsAfter: [...new Set(after.map((f) => f.codec))],
        decodedDuring: p.renderer.framesDecoded - decodedBefore,
        look: look(snap),
      });
    }
    return { phases, ...summary(p) };
  } finally {
    p.close();
  }
}

/**
 * One VP8 delta frame lost on the way: the renderer drops what follows, fires keyFrameNeeded (at most
 * every 500 ms), and shows pictures again once a key frame comes.
 */
export async function lostFrame(waitMs = 1300): Promise<Record<string, unknown>> {
  const p = await pipeline({ codec: 'vp8', keyFrameIntervalMs: 60_000, answerKeyFrameRequests: false });
  try {
    await until(() => p.frames.length >= 5 && p.renderer.framesDecoded >= 3, 'five frames are encoded');
    const lost = p.frames.length + 1;
    p.lose.add(lost);
    await until(() => p.frames.length > lost, 'the lost frame has been sent');
    const lostTs = p.frames[lost]!.ts;
    const lostWasKey = p.frames[lost]!.key;
    // Do not answer for a while: the renderer keeps dropping and repeats its request, rate-limited.
    await sleep(waitMs);
    const decodedWhileWaiting = p.renderer.framesDecoded;
    const requestsWhileWaiting = p.keyFrameNeededAt.length;
    const droppedWhileWaiting = p.renderer.framesDropped;
    const deliveredAfterGap = p.frames.length - lost - 1;
    const answeredAt = nowMicros();
    p.publisher.requestKeyFrame();
    await until(() => p.renderer.framesDecoded >= decodedWhileWaiting + 5, 'rendering resumes after the key frame');
    const sleepDecoded = p.renderer.framesDecoded;
    await sleep(300);
    return {
      lostWasKey,
      lostTs,
      requestsWhileWaiting,
      // From the arrival of the first frame after the gap (the renderer can notice no earlier).
      firstRequestDelayMs: p.keyFrameNeededAt[0] !== undefined && p.frames[lost + 1] ? (p.keyFrameNeededAt[0] - p.frames[lost + 1]!.at) / 1000 : null,
      keyFrameNeededAt: p.keyFrameNeededAt,
      droppedWhileWaiting,
      deliveredAfterGap,
      framesSentWhileWaiting: p.frames.filter((f) => f.ts > lostTs && f.ts < answeredAt).length,
      resumedWithKey: p.frames.find((f) => f.ts > answeredAt)?.key ?? null,
      decodedAfterResume: p.renderer.framesDecoded - decodedWhileWaiting,
      stillRendering: p.renderer.framesDecoded > sleepDecoded,
      ...summary(p),
    };
  } finally {
    p.close();
  }
}

/** A frame that does not decode: the renderer asks for a key frame (answered at once) and goes on. */
export async function corruptFrame(): Promise<Record<string, unknown>> {
  const p = await pipeline({ codec: 'vp8', keyFrameIntervalMs: 60_000 });
  try {
    await until(() => p.frames.length >= 5 && p.renderer.framesDecoded >= 3, 'five frames are encoded');
    const bad = p.frames.length + 1;
    p.corrupt.add(bad);
    await until(() => p.frames.length > bad, 'the corrupt frame has been sent');
    const badWasKey = p.frames[bad]!.key;
    await until(() => p.keyFrameNeededAt.length > 0, 'keyFrameNeeded after the corrupt frame', 3000);
    const askedAt = p.keyFrameNeededAt[0]!;
    const decodedAtRequest = p.renderer.framesDecoded;
    await until(() => p.renderer.framesDecoded >= decodedAtRequest + 5, 'rendering resumes after the key frame');
    return {
      badWasKey,
      requestDelayMs: (askedAt - p.frames[bad]!.at) / 1000,
      keyFrameNeeded: p.keyFrameNeededAt.length,
      resumedWithKey: p.frames.find((f) => f.ts > askedAt)?.key ?? null,
      look: look(snapshot(p.canvas)),
      ...summary(p),
    };
  } finally {
    p.close();
  }
}

/** A `<video>` element fed by the renderer; `forceCanvasStream` hides the track generators. */
export async function cameraToVideo(options: { forceCanvasStream?: boolean } = {}): Promise<Record<string, unknown>> {
  const g = globalThis as Record<string, unknown>;
  const hidden: Record<string, unknown> = {};
  if (options.forceCanvasStream) {
    for (const name of ['MediaStreamTrackGenerator', 'VideoTrackGenerator']) {
      hidden[name] = g[name];
      delete g[name];
    }
  }
  const p = await pipeline({ codec: 'vp8' });
  const video = document.createElement('video');
  document.body.append(video);
  try {
    p.renderer.attach(video);
    for (const [name, value] of Object.entries(hidden)) if (value !== undefined) g[name] = value;
    let presented = 0;
    const onPresented = (): void => {
      presented++;
      video.requestVideoFrameCallback(onPresented);
    };
    video.requestVideoFrameCallback(onPresented);
    await until(() => video.videoWidth > 0 && presented >= 5, 'the video element presents five frames', 8000);
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext('2d')!.drawImage(video, 0, 0);
    const a = snapshot(canvas);
    await sleep(300);
    canvas.getContext('2d')!.drawImage(video, 0, 0);
    const b = snapshot(canvas);
    const srcObjectSet = video.srcObject !== null;
    // Read before detach(): clearing srcObject resets the element.
    const { videoWidth, videoHeight, paused } = video;
    p.renderer.detach(video);
    return {
      videoWidth,
      videoHeight,
      presented,
      paused,
      srcObjectSet,
      srcObjectAfterDetach: video.srcObject !== null,
      look: look(a),
      changedFraction: changedFraction(a.pixels, b.pixels),
      ...summary(p),
    };
  } finally {
    for (const [name, value] of Object.entries(hidden)) if (value !== undefined) g[name] = value;
    p.close();
    video.remove();
  }
}

/**
 * Mute, device switch, stop: nothing is encoded while paused and the first frame after is a key frame;
 * replaceTrack to a 320×240 camera reconfigures the encoder and resizes the renderer, and stops the old
 * track; stop() ends the track and the frames.
 */
export async function pauseReplaceStop(): Promise<Record<string, unknown>> {
  const p = await pipeline({ codec: 'vp8', keyFrameIntervalMs: 60_000 });
  try {
    await until(() => p.renderer.framesDecoded >= 5, 'five frames are rendered');
    const skippedBefore = p.publisher.stats.framesSkipped;
    p.publisher.setPaused(true);
    const pausedAt = nowMicros();
    await sleep(600);
    const resumedAt = nowMicros();
    p.publisher.setPaused(false);
    const skippedWhilePaused = p.publisher.stats.framesSkipped - skippedBefore;
    await until(() => p.frames.some((f) => f.ts > resumedAt), 'a frame after resuming');
    // Frames still in the encoder may come out after the pause; none may have been captured during it.
    const capturedWhilePaused = p.frames.filter((f) => f.ts > pausedAt && f.ts < resumedAt).length;
    const firstAfterResume = p.frames.find((f) => f.ts > resumedAt)!;

    const oldTrack = p.publisher.track;
    const small = await openCamera(320, 240);
    const replacedAt = nowMicros();
    await p.publisher.replaceTrack(small);
    await until(() => p.renderer.width === 320 && p.renderer.framesDecoded > 0, 'the renderer shows 320×240', 5000);
    const firstAfterReplace = p.frames.find((f) => f.ts > replacedAt)!;
    const decodedAt320 = p.renderer.framesDecoded;
    await sleep(300);
    const keepsRendering = p.renderer.framesDecoded > decodedAt320;

    p.publisher.stop();
    const stoppedAt = nowMicros();
    const count = p.frames.length;
    await sleep(300);
    return {
      skippedWhilePaused,
      capturedWhilePaused,
      firstAfterResumeKey: firstAfterResume.key,
      oldTrackState: oldTrack.readyState,
      publisherTrackIsNew: p.publisher.track === small,
      firstAfterReplaceKey: firstAfterReplace.key,
      rendererSize: [p.renderer.width, p.renderer.height],
      resized: p.resized,
      keepsRendering,
      framesAfterStop: p.frames.slice(count).filter((f) => f.ts > stoppedAt).length,
      trackStateAfterStop: small.readyState,
      ...summary(p),
    };
  } finally {
    p.close();
  }
}

/** The helpers that need no pipeline: constraints and the device list. */
export async function helpers(): Promise<Record<string, unknown>> {
  const before = await listDevices();
  const track = await openCamera();
  const settings = track.getSettings();
  track.stop();
  const after = await listDevices();
  const count = (l: { cameras: unknown[]; microphones: unknown[]; speakers: unknown[] }): number[] => [l.cameras.length, l.microphones.length, l.speakers.length];
  return {
    camera: cameraConstraints(),
    cameraWithDevice: cameraConstraints({ deviceId: 'abc', fps: 15 }),
    screen: screenConstraints(),
    settings: { width: settings.width, height: settings.height, frameRate: settings.frameRate },
    countsBefore: count(before),
    countsAfter: count(after),
    cameraLabelAfter: after.cameras[0]?.label ?? '',
    supportedCodecs: await VideoRenderer.supportedCodecs(),
    supportedWithoutWebCodecs: await VideoRenderer.supportedCodecs({ noWebCodecsDecode: true }),
  };
}

/**
 * A 640×480 scene busier than the fake camera (which is flat green): a moving gradient, coloured
 * shapes, text and sensor-like noise, drawn at `fps` and captured with `canvas.captureStream()`.
 */
function busySceneTrack(fps: number): { track: MediaStreamTrack; stop(): void } {
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 480;
  const ctx = canvas.getContext('2d')!;
  const noise = document.createElement('canvas');
  noise.width = 256;
  noise.height = 256;
  const noiseCtx = noise.getContext('2d')!;
  const grain = noiseCtx.createImageData(256, 256);
  let seed = 12345;
  for (let i = 0; i < grain.data.length; i += 4) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const v = seed >>> 24;
    grain.data[i] = v;
    grain.data[i + 1] = v;
    grain.data[i + 2] = v;
    grain.data[i + 3] = 255;
  }
  noiseCtx.putImageData(grain, 0, 0);
  let t = 0;
  const draw = (): void => {
    t++;
    const g = ctx.createLinearGradient(0, 0, 640, 480);
    g.addColorStop(0, `hsl(${(t * 2) % 360} 60% 45%)`);
    g.addColorStop(1, `hsl(${(t * 2 + 140) % 360} 55% 35%)`);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, 640, 480);
    for (let i = 0; i < 40; i++) {
      ctx.fillStyle = `hsl(${(i * 37) % 360} 70% ${35 + (i % 5) * 8}%)`;
      ctx.beginPath();
      ctx.arc(320 + Math.cos(i + t / 30) * (60 + i * 6), 240 + Math.sin(i * 1.7 + t / 25) * (40 + i * 4), 12 + (i % 7) * 4, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.fillStyle = '#fff';
    ctx.font = '28px sans-serif';
    ctx.fillText(`lanconf ${t} — the quick brown fox`, 20, 40);
    ctx.globalAlpha = 0.12;
    ctx.drawImage(noise, -(t * 37) % 256, -(t * 53) % 256, 1024, 1024);
    ctx.globalAlpha = 1;
  };
  draw();
  const timer = setInterval(draw, 1000 / fps);
  const track = canvas.captureStream(fps).getVideoTracks()[0]!;
  return { track, stop: () => clearInterval(timer) };
}

/** Figures for one codec on the busy scene (printed by the test, not asserted). */
export async function benchBusyScene(options: { codec: 'vp8' | 'jpeg'; durationMs?: number }): Promise<Record<string, unknown>> {
  const scene = busySceneTrack(20);
  const p = await pipeline({ codec: options.codec, track: scene.track });
  try {
    await until(() => p.renderer.framesDecoded >= 3, 'three frames are rendered');
    await sleep(options.durationMs ?? 3000);
    return { ...summary(p), frames: p.frames };
  } finally {
    p.close();
    scene.stop();
  }
}
