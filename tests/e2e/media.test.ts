// Browser media end to end: real relay, real headless Chromium with fake camera and microphone, the SDK bundle.
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import sharp from 'sharp';
import type { Session } from '../../sdk/Session.js';
import type { RemoteTrack } from '../../sdk/Track.js';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { join, leaveAll, startRelay, until, type TestRelay } from '../helpers.js';

interface PageOptions {
  meeting: string;
  name: string;
  camera?: boolean;
  microphone?: boolean;
  fallbacks?: Record<string, boolean>;
}

/** Joins from the page through the browser bundle; every remote video gets a canvas, audio plays by itself. */
async function joinFromPage(page: Page, options: PageOptions): Promise<string> {
  return page.evaluate(async (o) => {
    const lanconf = await import('/dist/browser/lanconf.js' as string);
    const s = await lanconf.joinMeeting({ url: location.origin, meeting: o.meeting, name: o.name, fallbacks: o.fallbacks ?? {} });
    const w = window as unknown as Record<string, unknown>;
    w.session = s;
    const show = (t: { id: string; kind: string; participantId: string; attach(el: HTMLCanvasElement): void }) => {
      if (t.kind === 'microphone') return;
      const canvas = document.createElement('canvas');
      canvas.dataset.track = t.id;
      canvas.dataset.kind = t.kind;
      canvas.dataset.participant = t.participantId;
      document.body.append(canvas);
      t.attach(canvas);
    };
    // trackPublished also announces the tracks already in the meeting (right after this code runs).
    s.on('trackPublished', show);
    w.muted = {} as Record<string, boolean>;
    s.on('trackMuted', (t: { id: string }, m: boolean) => ((w.muted as Record<string, boolean>)[t.id] = m));
    const local: Record<string, unknown> = {};
    w.local = local;
    if (o.camera !== false) local.camera = await s.publishCamera();
    if (o.microphone !== false) local.microphone = await s.publishMicrophone();
    await s.startAudio();
    return s.local.id as string;
  }, options);
}

/** What the page's canvas for `participantId`'s `kind` shows: size, distinct colours, a fingerprint of the pixels. */
function canvasInfo(page: Page, participantId: string, kind = 'camera') {
  return page.evaluate((id, k) => {
    const canvas = document.querySelector<HTMLCanvasElement>(`canvas[data-participant="${id}"][data-kind="${k}"]`);
    if (!canvas || canvas.width === 0) return undefined;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set<number>();
    let sum = 0;
    for (let i = 0; i < data.length; i += 4 * 97) {
      colours.add((data[i]! >> 3) << 10 | (data[i + 1]! >> 3) << 5 | (data[i + 2]! >> 3));
      sum = (sum * 31 + data[i]! + data[i + 1]! * 7 + data[i + 2]! * 13) >>> 0;
    }
    return { width: canvas.width, height: canvas.height, colours: colours.size, fingerprint: sum };
  }, participantId, kind);
}

function framesOf(page: Page, participantId: string, kind: string): Promise<number> {
  return page.evaluate((id, k) => {
    const s = (window as unknown as { session: { tracks: Map<string, { participantId: string; kind: string; framesReceived: number }> } }).session;
    for (const t of s.tracks.values()) if (t.participantId === id && t.kind === k) return t.framesReceived;
    return -1;
  }, participantId, kind);
}

function outputLevel(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { session: { audioOutputLevel: number } }).session.audioOutputLevel);
}

async function maxLevel(page: Page, ms: number): Promise<number> {
  let max = 0;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    max = Math.max(max, await outputLevel(page));
    await new Promise((r) => setTimeout(r, 50));
  }
  return max;
}

describe('browser media through the relay', { timeout: 120_000 }, () => {
  let relay: TestRelay;
  let browser: TestBrowser;
  const sessions: Session[] = [];

  before(async () => {
    relay = await startRelay();
    browser = await launchBrowser();
  });
  after(async () => {
    await leaveAll(sessions);
    await browser?.close();
    await relay?.relay.close();
  });
  // Each test's pages go with it: left open, their cameras keep encoding and slow every later test down.
  afterEach(async () => {
    for (const page of await browser.browser.pages()) await page.close().catch(() => {});
  });

  test('two pages see each other at 640×480 with moving pixels and hear each other', async () => {
    const a = await browser.open(relay.url);
    const b = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'AV', name: 'Ana' });
    const bId = await joinFromPage(b, { meeting: 'AV', name: 'Ben' });
    for (const [page, other] of [[a, bId], [b, aId]] as const) {
      await until(async () => (await canvasInfo(page, other))?.width === 640, 'a 640-wide remote video', 15_000);
      const first = (await canvasInfo(page, other))!;
      assert.equal(first.height, 480);
      assert.ok(first.colours > 3, `the remote video has ${first.colours} colours: not a uniform frame`);
      // The picture changes (the fake camera moves): on a loaded machine the next frame may take a while.
      await until(async () => (await canvasInfo(page, other))!.fingerprint !== first.fingerprint, 'the remote video moves', 5000);
      // The fake microphone beeps about once a second: the mixed output must be clearly above silence.
      // A beep lasts 70 ms once a second; a loaded machine may take a few seconds to start the other's microphone.
      let level = 0;
      await until(async () => (level = Math.max(level, await maxLevel(page, 1000))) > 0.02,
        () => `mixed audio output level ${level.toFixed(4)} is above silence`, 10_000);
    }
    assert.deepEqual(browser.errors, []);
  });

  test('the active speaker is the participant whose microphone is heard', async () => {
    const a = await browser.open(relay.url);
    const b = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'Speaker', name: 'Ana', camera: false, microphone: false });
    const bId = await joinFromPage(b, { meeting: 'Speaker', name: 'Ben', camera: false, microphone: false });
    // Ana talks without pause (a tone: the fake microphone's beeps are shorter than a word); Ben is silent.
    await a.evaluate(async () => {
      const ctx = new AudioContext({ sampleRate: 48000 });
      const tone = ctx.createOscillator();
      const gain = ctx.createGain();
      gain.gain.value = 0.3;
      const out = ctx.createMediaStreamDestination();
      tone.connect(gain).connect(out);
      tone.start();
      const w = window as unknown as { session: { publishMediaTrack(t: MediaStreamTrack, k: string): Promise<unknown> } };
      await w.session.publishMediaTrack(out.stream.getAudioTracks()[0]!, 'microphone');
    });
    for (const page of [a, b]) {
      await until(() => page.evaluate(() => (window as unknown as { session: { activeSpeaker?: string } }).session.activeSpeaker),
        'an active speaker', 10_000);
      assert.equal(await page.evaluate(() => (window as unknown as { session: { activeSpeaker?: string } }).session.activeSpeaker), aId);
    }
    assert.notEqual(aId, bId);
  });

  test('a camera frame keeps its colours through VP8 and the renderer', async () => {
    // One frame of the fake camera (I420, BT.601), drawn directly and through VideoEncoder → VideoRenderer:
    // the same frame, so the pixels must agree. Decoding VP8 as BT.709 made it 35 % darker.
    const page = await browser.open(relay.url);
    const [direct, rendered] = await page.evaluate(async () => {
      const lanconf = await import('/dist/browser/lanconf.js' as string);
      const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      const track = stream.getVideoTracks()[0]!;
      const Processor = (window as unknown as { MediaStreamTrackProcessor: new (o: { track: MediaStreamTrack }) => { readable: ReadableStream<VideoFrame> } }).MediaStreamTrackProcessor;
      const reader = new Processor({ track }).readable.getReader();
      const frame = (await reader.read()).value!;
      const sample = (source: CanvasImageSource) => {
        const c = new OffscreenCanvas(640, 480);
        const g = c.getContext('2d')!;
        g.drawImage(source, 0, 0);
        return Array.from(g.getImageData(8, 8, 1, 1).data.slice(0, 3));
      };
      const directPx = sample(frame);
      const chunks: Uint8Array[] = [];
      const encoder = new VideoEncoder({ output: (chunk) => {
        const data = new Uint8Array(chunk.byteLength);
        chunk.copyTo(data);
        chunks.push(data);
      }, error: () => {} });
      encoder.configure({ codec: 'vp8', width: 640, height: 480, bitrate: 800_000 });
      encoder.encode(frame, { keyFrame: true });
      await encoder.flush();
      frame.close();
      track.stop();
      const listeners: Array<(f: unknown) => void> = [];
      const source = { on: (_e: string, l: (f: unknown) => void) => listeners.push(l), off: () => {} };
      const renderer = new lanconf.VideoRenderer(source);
      const canvas = document.createElement('canvas');
      renderer.attach(canvas);
      const drawn = new Promise((r) => renderer.once('frame', r));
      renderer.push({ data: chunks[0], codec: 'vp8', kind: 'camera', keyFrame: true, sequence: 0, timestamp: Date.now() * 1000,
        audioLevel: 127, voice: false, discontinuity: false });
      await drawn;
      const renderedPx = Array.from(canvas.getContext('2d')!.getImageData(8, 8, 1, 1).data.slice(0, 3));
      renderer.close();
      return [directPx, renderedPx] as [number[], number[]];
    });
    for (let i = 0; i < 3; i++) {
      assert.ok(Math.abs(rendered[i]! - direct[i]!) <= 12, `rendered colour ${rendered} is the camera's ${direct}`);
    }
  });

  test('mute stops frames and shows the mute state on the other side; unmute resumes', async () => {
    const a = await browser.open(relay.url);
    const b = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'Mute', name: 'Ana', microphone: false });
    await joinFromPage(b, { meeting: 'Mute', name: 'Ben', microphone: false, camera: false });
    await until(async () => (await framesOf(b, aId, 'camera')) > 5, 'frames before mute', 15_000);
    const trackId = await a.evaluate(async () => {
      const w = window as unknown as { local: { camera: { id: string; mute(): Promise<void> } } };
      await w.local.camera.mute();
      return w.local.camera.id;
    });
    await until(() => b.evaluate((id) => (window as unknown as { muted: Record<string, boolean> }).muted[id] === true, trackId), 'mute seen', 5000);
    await new Promise((r) => setTimeout(r, 300));
    const atMute = await framesOf(b, aId, 'camera');
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok((await framesOf(b, aId, 'camera')) - atMute <= 1, 'no frames while muted');
    await a.evaluate(() => (window as unknown as { local: { camera: { unmute(): Promise<void> } } }).local.camera.unmute());
    await until(() => b.evaluate((id) => (window as unknown as { muted: Record<string, boolean> }).muted[id] === false, trackId), 'unmute seen', 5000);
    await until(async () => (await framesOf(b, aId, 'camera')) > atMute + 5, 'frames after unmute', 5000);
  });

  test('a remote video detached from its last element is paused at the relay; attached again it resumes from a key frame and renders', async () => {
    const a = await browser.open(relay.url);
    const b = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'Unseen', name: 'Ana', microphone: false });
    const bId = await joinFromPage(b, { meeting: 'Unseen', name: 'Ben', microphone: false, camera: false });
    await until(async () => (await canvasInfo(b, aId))?.width === 640, 'Ana rendered on Ben\'s page', 15_000);
    const trackOf = (page: Page) => page.evaluate((id) => {
      const s = (window as unknown as { session: { tracks: Map<string, { participantId: string; kind: string; paused: boolean; id: string }> } }).session;
      const t = [...s.tracks.values()].find((x) => x.participantId === id && x.kind === 'camera')!;
      return { id: t.id, paused: t.paused };
    }, aId);
    const { id: trackId } = await trackOf(b);
    const peer = () => relay.relay.rooms.get('Unseen')!.participants.get(bId)!;

    // Detach the canvas (a tile scrolled away): the track pauses, the relay stops sending it to Ben.
    await b.evaluate((id) => {
      const s = (window as unknown as { session: { tracks: Map<string, { detach(el: HTMLCanvasElement): void }> } }).session;
      s.tracks.get(id)!.detach(document.querySelector<HTMLCanvasElement>(`canvas[data-track="${id}"]`)!);
    }, trackId);
    assert.equal((await trackOf(b)).paused, true, 'the track reports paused');
    await until(() => peer().paused.has(trackId), 'the relay has Ben\'s pause', 5000);
    await new Promise((r) => setTimeout(r, 300));
    const atPause = await framesOf(b, aId, 'camera');
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok((await framesOf(b, aId, 'camera')) - atPause <= 1, 'no frames reach Ben while nothing shows the video');

    // A new canvas: received again, decoded from a key frame, drawn.
    await b.evaluate((id) => {
      const s = (window as unknown as { session: { tracks: Map<string, { attach(el: HTMLCanvasElement): void }> } }).session;
      const canvas = document.createElement('canvas');
      canvas.dataset.participant = 'again';
      canvas.dataset.kind = 'camera';
      document.body.append(canvas);
      s.tracks.get(id)!.attach(canvas);
    }, trackId);
    assert.equal((await trackOf(b)).paused, false, 'attached again: not paused');
    await until(() => !peer().paused.has(trackId), 'the relay forwards again', 5000);
    await until(async () => (await canvasInfo(b, 'again'))?.width === 640, 'the video renders in the new canvas', 10_000);
    assert.ok(((await canvasInfo(b, 'again'))?.colours ?? 0) > 3, 'a real picture, not a blank canvas');
  });

  test('a remote video never attached is not received (pauseUnseenVideo), unless the page turns that off', async () => {
    const a = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'Never', name: 'Ana', microphone: false });
    // Two pages that attach nothing: one with the default, one with pauseUnseenVideo: false.
    const joinBare = (page: Page, name: string, pauseUnseenVideo?: boolean) => page.evaluate(async (n, p) => {
      const lanconf = await import('/dist/browser/lanconf.js' as string);
      const s = await lanconf.joinMeeting({ url: location.origin, meeting: 'Never', name: n, ...(p === undefined ? {} : { pauseUnseenVideo: p }) });
      (window as unknown as Record<string, unknown>).session = s;
      return s.local.id as string;
    }, name, pauseUnseenVideo);
    const b = await browser.open(relay.url);
    const c = await browser.open(relay.url);
    const bId = await joinBare(b, 'Ben');
    const cId = await joinBare(c, 'Cy', false);
    const trackId = await a.evaluate(() => (window as unknown as { local: { camera: { id: string } } }).local.camera.id);
    const peers = relay.relay.rooms.get('Never')!.participants;
    await until(() => peers.get(bId)!.paused.has(trackId), 'Ben, who shows nothing, has Ana\'s camera paused', 5000);
    await until(async () => (await framesOf(c, aId, 'camera')) > 10, 'Cy (pauseUnseenVideo: false) gets the frames unattached', 10_000);
    assert.equal(peers.get(cId)!.paused.size, 0, 'Cy paused nothing');
    const atB = await framesOf(b, aId, 'camera');
    await new Promise((r) => setTimeout(r, 800));
    assert.ok((await framesOf(b, aId, 'camera')) - atB <= 1, 'Ben receives none');
    assert.equal(await b.evaluate((id) => (window as unknown as { session: { tracks: Map<string, { paused: boolean }> } }).session.tracks.get(id)!.paused, trackId), true);
  });

  test('a screen share arrives as a screen track beside the camera', async () => {
    const a = await browser.open(relay.url);
    const b = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'Screen', name: 'Ana', microphone: false });
    await joinFromPage(b, { meeting: 'Screen', name: 'Ben', microphone: false, camera: false });
    await a.evaluate(async () => {
      const w = window as unknown as { session: { publishScreen(): Promise<unknown> }; local: Record<string, unknown> };
      w.local.screen = await w.session.publishScreen();
    });
    await until(async () => ((await canvasInfo(b, aId, 'screen'))?.width ?? 0) > 0, 'a rendered screen track', 15_000);
    await until(async () => ((await canvasInfo(b, aId, 'camera'))?.width ?? 0) === 640, 'the camera beside it', 15_000);
    const screen = (await canvasInfo(b, aId, 'screen'))!;
    assert.ok(screen.width <= 1920);
  });

  test('a participant that only decodes JPEG makes the browser switch to JPEG; it gets 640×480 JPEG frames', async () => {
    const a = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'Jpeg', name: 'Ana', microphone: false });
    const codec = () => a.evaluate(() => (window as unknown as { local: { camera: { encoderCodec: string } } }).local.camera.encoderCodec);
    assert.equal(await codec(), 'vp8', 'alone, the browser publishes VP8');
    const node = await join(relay.url, 'Jpeg', 'Kiosk', { transport: 'native', decode: ['jpeg', 'opus', 'pcm16'] });
    sessions.push(node);
    const camera = await until(() => [...node.tracks.values()].find((t) => t.participantId === aId && t.kind === 'camera'), 'the camera track', 5000)
      .then(() => [...node.tracks.values()].find((t) => t.participantId === aId && t.kind === 'camera') as RemoteTrack);
    const jpeg = await new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no JPEG frame within 10 s')), 10_000);
      camera.on('frame', (f) => {
        if (f.codec === 'jpeg') {
          clearTimeout(timer);
          resolve(f.data.slice());
        }
      });
    });
    const meta = await sharp(jpeg).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.width, 640);
    assert.equal(meta.height, 480);
    assert.equal(await codec(), 'jpeg');
    await node.leave();
    await until(async () => (await codec()) === 'vp8', 'back to VP8 once the JPEG-only participant left', 5000);
  });

  test('forced fallbacks (canvas capture, JPEG video, PCM audio) are seen and heard', async () => {
    const a = await browser.open(relay.url);
    const b = await browser.open(relay.url);
    const aId = await joinFromPage(a, { meeting: 'Fallback', name: 'Ana', fallbacks: { noTrackProcessor: true, jpegOnly: true, pcmOnly: true } });
    await joinFromPage(b, { meeting: 'Fallback', name: 'Ben', microphone: false, camera: false, fallbacks: { noWebCodecsDecode: true } });
    await until(async () => (await canvasInfo(b, aId))?.width === 640, 'a 640-wide remote video', 15_000);
    assert.ok((await canvasInfo(b, aId))!.colours > 3);
    const codecs = await b.evaluate((id) => {
      const s = (window as unknown as { session: { tracks: Map<string, { participantId: string; kind: string; codec: string }> } }).session;
      return [...s.tracks.values()].filter((t) => t.participantId === id).map((t) => `${t.kind}:${t.codec}`).sort();
    }, aId);
    assert.deepEqual(codecs, ['camera:jpeg', 'microphone:pcm16']);
    // The fake microphone beeps ~70 ms a second; a loaded machine samples the level less often: listen for 5 s.
    const level = await maxLevel(b, 5000);
    assert.ok(level > 0.02, `PCM audio output level ${level.toFixed(4)} is above silence`);
  });
});
