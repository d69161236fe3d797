// Screen capture adapter against a real X server (Xvfb started here) and a real relay: a native host shares its
// screen, a Node participant and a headless Chromium page decode the pictures and find the pattern's colours.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { LanError } from '../../sdk/errors.js';
import type { Session } from '../../sdk/Session.js';
import type { RemoteFrame, RemoteTrack } from '../../sdk/Track.js';
import { CaptureError, ScreenSource, shareMicrophone, shareScreen, type CaptureShare } from '../../relay/capture/index.js';
import { parseXrandr, selectDisplay } from '../../relay/capture/ScreenSource.js';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { join, leaveAll, startRelay, until, type TestRelay } from '../helpers.js';
import { quadrantImage, startXvfb, type XServer } from './devices.js';

const QUADRANTS = ['#d02020', '#20c040', '#2040d0', '#f0f0f0'] as const;
const RGB = QUADRANTS.map((hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)));
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** Pixel colours at the centres of the four quadrants of a JPEG. */
async function quadrantColours(jpeg: Uint8Array): Promise<{ width: number; height: number; colours: number[][] }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number): number[] => {
    const i = (Math.round(y) * info.width + Math.round(x)) * info.channels;
    return [data[i]!, data[i + 1]!, data[i + 2]!];
  };
  const w = info.width;
  const h = info.height;
  return { width: w, height: h, colours: [at(w / 4, h / 4), at((3 * w) / 4, h / 4), at(w / 4, (3 * h) / 4), at((3 * w) / 4, (3 * h) / 4)] };
}

function near(actual: readonly number[], expected: readonly number[], tolerance = 24): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

/** The first remote track of `kind`, now or when it is published. */
async function remoteTrack(session: Session, kind: string): Promise<RemoteTrack> {
  for (const t of session.tracks.values()) if (t.kind === kind) return t;
  for (;;) {
    const [track] = await session.waitFor('trackPublished', { timeoutMs: 10_000 });
    if (track.kind === kind) return track;
  }
}

describe('screen capture adapter', { timeout: 120_000 }, () => {
  let x: XServer;
  let relay: TestRelay;
  let dir: string;
  const sessions: Session[] = [];
  const shares: CaptureShare[] = [];
  let browser: TestBrowser | undefined;

  before(async () => {
    dir = mkdtempSync(joinPath(tmpdir(), 'lanconf-screen-'));
    x = await startXvfb(1280, 720);
    await quadrantImage(joinPath(dir, 'quad.png'), 1280, 720, QUADRANTS);
    await x.showImage(joinPath(dir, 'quad.png'));
    relay = await startRelay();
  });
  after(async () => {
    await Promise.all(shares.map((s) => s.stop()));
    await leaveAll(sessions);
    await browser?.close();
    await relay?.relay.close();
    await x?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('lists the Xvfb display and picks displays by id, name or index', async () => {
    const displays = await ScreenSource.listDisplays({ xDisplay: x.display });
    assert.equal(displays.length, 1);
    assert.deepEqual([displays[0]!.width, displays[0]!.height], [1280, 720]);
    const devices = await ScreenSource.listDevices({ xDisplay: x.display });
    assert.equal(devices[0]!.isDefault, true);

    // A three-monitor host, as xrandr prints it (screenshot-desktop's sample output).
    const { createRequire } = await import('node:module');
    const sample = (createRequire(import.meta.url)('screenshot-desktop') as { EXAMPLE_DISPLAYS_OUTPUT: string }).EXAMPLE_DISPLAYS_OUTPUT;
    const monitors = parseXrandr(sample);
    assert.deepEqual(monitors.map((d) => d.id), ['HDMI-1', 'DP-2-1', 'DP-2-2']);
    assert.equal(selectDisplay(monitors, undefined).id, 'HDMI-1', 'the primary display by default');
    assert.equal(selectDisplay(monitors, 'DP-2-2').offsetX, 1920);
    assert.equal(selectDisplay(monitors, '1').id, 'DP-2-1');
    assert.throws(() => selectDisplay(monitors, 'VGA-7'), (e: unknown) => e instanceof CaptureError && e.code === 'LAN_ERR_DEVICE_NOT_FOUND'
      && e.message.includes('VGA-7') && e.message.includes('HDMI-1'));
  });

  test('a native host shares its screen through the relay; a Node participant decodes the pattern and sees it change', async () => {
    const host = await join(relay.url, 'Screen', 'Kiosk', { transport: 'native' });
    sessions.push(host);
    const viewer = await join(relay.url, 'Screen', 'Viewer');
    sessions.push(viewer);
    const share = await shareScreen(host, { xDisplay: x.display, fps: 8 });
    shares.push(share);
    assert.equal(share.track.kind, 'screen');
    assert.equal(share.track.codec, 'jpeg');

    const track = await remoteTrack(viewer, 'screen');
    let latest: RemoteFrame | undefined;
    track.on('frame', (f) => (latest = f));
    await until(() => latest, 'a screen frame at the viewer', 10_000);
    const first = await quadrantColours(latest!.data);
    assert.deepEqual([first.width, first.height], [1280, 720]);
    first.colours.forEach((c, i) => assert.ok(near(c, RGB[i]!), `quadrant ${i}: ${c} is ${QUADRANTS[i]}`));

    // An unchanged screen is captured but not sent again (until the refresh). Counted from the first capture
    // skipped: until then the screen may still have been settling (a capture that differs is sent).
    const settled = share.source.stats.skipped;
    await until(() => share.source.stats.skipped > settled, 'a capture of the unchanged screen to be skipped', 15_000);
    const skippedBefore = share.source.stats.skipped;
    const sentBefore = share.track.stats.framesSent;
    const waitStart = Date.now();
    await until(() => share.source.stats.skipped >= skippedBefore + 3, 'captures of an unchanged screen to be skipped', 15_000);
    // Only the refresh (one every 3 s) may send it again.
    const refreshes = 1 + Math.floor((Date.now() - waitStart) / 3000);
    assert.ok(share.track.stats.framesSent - sentBefore <= refreshes, 'an unchanged screen is not sent again but for the refresh');

    // The screen changes: the viewer gets the new picture.
    await x.solid('#20a0e0');
    let changed: number[] | undefined;
    await until(async () => {
      if (!latest) return false;
      const { colours } = await quadrantColours(latest.data);
      changed = colours[0];
      return colours.every((c) => near(c, [0x20, 0xa0, 0xe0]));
    }, () => `the viewer to see the new colour (last ${changed})`, 10_000, 100);
    await x.showImage(joinPath(dir, 'quad.png'));
  });

  test('frames are scaled down to fit the size asked for', async () => {
    const source = new ScreenSource({ xDisplay: x.display, width: 320, height: 320, quality: 50 });
    try {
      await source.start();
      source.requestKeyFrame();
      let frame: Uint8Array | undefined;
      for await (const f of source) {
        frame = f.data;
        break;
      }
      const meta = await sharp(frame!).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 320, 180]);
      assert.ok(source.timing.captureMs.length > 0 && source.timing.encodeMs.length > 0, 'timings are kept');
    } finally {
      await source.stop();
    }
    assert.equal(source.state, 'stopped');
  });

  test('a missing optional dependency rejects its own share only: the screen share goes on', async () => {
    const host = await join(relay.url, 'Partial', 'Kiosk', { transport: 'native' });
    sessions.push(host);
    const share = await shareScreen(host, { xDisplay: x.display, fps: 8 });
    shares.push(share);
    await assert.rejects(shareMicrophone(host, { audifyModule: 'lanconf-test-no-such-audify' }), (e: unknown) =>
      e instanceof LanError && e.code === 'LAN_ERR_CAPTURE_UNAVAILABLE' && /not installed/.test(e.message) && /npm install audify/.test(e.message));
    assert.equal(host.local.tracks.size, 1, 'only the screen track was published');
    const sent = share.track.stats.framesSent;
    await x.solid('#102030');
    await until(() => share.track.stats.framesSent > sent, 'the screen share to send again', 10_000);
    await x.showImage(joinPath(dir, 'quad.png'));
  });

  test('a headless Chromium page in the meeting decodes the screen track to the pattern', async () => {
    assert.ok(existsSync(new URL('../../dist/browser/lanconf.js', import.meta.url)), 'the browser bundle dist/browser/lanconf.js exists (npm run build)');
    const host = await join(relay.url, 'Browser', 'Kiosk', { transport: 'native' });
    sessions.push(host);
    const share = await shareScreen(host, { xDisplay: x.display, fps: 8 });
    shares.push(share);
    browser = await launchBrowser();
    const page = await browser.open(relay.url);
    await page.evaluate(async (hostId) => {
      const lanconf = await import('/dist/browser/lanconf.js' as string);
      const s = await lanconf.joinMeeting({ url: location.origin, meeting: 'Browser', name: 'Page' });
      (window as unknown as { session: unknown }).session = s;
      const show = (t: { kind: string; participantId: string; attach(el: HTMLCanvasElement): void }) => {
        if (t.kind !== 'screen' || t.participantId !== hostId) return;
        const canvas = document.createElement('canvas');
        canvas.id = 'screen';
        document.body.append(canvas);
        t.attach(canvas);
      };
      // trackPublished also announces the tracks already in the meeting.
      s.on('trackPublished', show);
    }, host.local.id);
    const read = () => page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('#screen');
      if (!canvas || canvas.width === 0) return undefined;
      const g = canvas.getContext('2d')!;
      const w = canvas.width;
      const h = canvas.height;
      const px = (x: number, y: number) => Array.from(g.getImageData(Math.round(x), Math.round(y), 1, 1).data.slice(0, 3));
      return { width: w, height: h, colours: [px(w / 4, h / 4), px((3 * w) / 4, h / 4), px(w / 4, (3 * h) / 4), px((3 * w) / 4, (3 * h) / 4)] };
    });
    let seen: Awaited<ReturnType<typeof read>>;
    await until(async () => {
      seen = await read();
      return seen && seen.colours.every((c, i) => near(c, RGB[i]!));
    }, () => `the page's canvas to show the pattern (last ${JSON.stringify(seen)})`, 20_000, 100);
    assert.deepEqual([seen!.width, seen!.height], [1280, 720]);
    assert.deepEqual(browser.errors, []);
  });

  test('no unhandled rejections', () => {
    assert.deepEqual(unhandled, []);
  });
});
