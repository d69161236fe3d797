// What the adapters do when what they need is missing: no display, a display that goes away while shared, missing
// programs, audify absent. Each is a LanError naming what is missing and how to fix it; nothing crashes, nothing is
// left unhandled, and the adapters that can run still do.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { LanError } from '../../sdk/errors.js';
import type { Session } from '../../sdk/Session.js';
import { CaptureError, ScreenSource, listAllDevices, shareScreen } from '../../relay/capture/index.js';
import { join, leaveAll, startRelay, type TestRelay } from '../helpers.js';
import { startXvfb, type XServer } from './devices.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** A display number nobody listens on. */
function unusedDisplay(): string {
  for (let n = 999; n > 900; n--) if (!existsSync(`/tmp/.X11-unix/X${n}`) && !existsSync(`/tmp/.X${n}-lock`)) return `:${n}`;
  throw new Error('no free X display number between 901 and 999');
}

function isCaptureError(code: string, ...patterns: RegExp[]) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof LanError && e instanceof CaptureError, `a CaptureError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  };
}

describe('capture adapters when something is missing', { timeout: 120_000 }, () => {
  let x: XServer;
  let relay: TestRelay;
  const sessions: Session[] = [];

  before(async () => {
    x = await startXvfb(640, 480);
    await x.solid('#336699');
    relay = await startRelay();
  });
  after(async () => {
    await leaveAll(sessions);
    await relay?.relay.close();
    await x?.stop();
  });

  test('a display nobody serves, DISPLAY unset, xrandr or ImageMagick missing', async () => {
    const nobody = unusedDisplay();
    await assert.rejects(new ScreenSource({ xDisplay: nobody }).start(),
      isCaptureError('LAN_ERR_CAPTURE_UNAVAILABLE', new RegExp(`cannot open the X display ${nobody}`), /xrandr/, /Xvfb/));
    const saved = process.env.DISPLAY;
    delete process.env.DISPLAY;
    try {
      await assert.rejects(new ScreenSource().start(), isCaptureError('LAN_ERR_CAPTURE_UNAVAILABLE', /DISPLAY is not set/, /DISPLAY=:0/));
      await assert.rejects(ScreenSource.listDisplays(), isCaptureError('LAN_ERR_CAPTURE_UNAVAILABLE', /DISPLAY is not set/));
    } finally {
      if (saved !== undefined) process.env.DISPLAY = saved;
    }
    await assert.rejects(new ScreenSource({ xDisplay: x.display, xrandrPath: '/nonexistent/xrandr' }).start(),
      isCaptureError('LAN_ERR_CAPTURE_UNAVAILABLE', /"\/nonexistent\/xrandr" was not found/, /x11-xserver-utils/));
    await assert.rejects(new ScreenSource({ xDisplay: x.display, importPath: '/nonexistent/import' }).start(),
      isCaptureError('LAN_ERR_CAPTURE_UNAVAILABLE', /"\/nonexistent\/import" was not found/, /imagemagick/i));
    await assert.rejects(new ScreenSource({ xDisplay: x.display, device: 'HDMI-9' }).start(),
      isCaptureError('LAN_ERR_DEVICE_NOT_FOUND', /HDMI-9/, /available: "screen"/));
  });

  test('a share whose X server goes away ends with an error and unpublishes its track; the session lives on', async () => {
    const doomed = await startXvfb(320, 240);
    const host = await join(relay.url, 'Gone', 'Kiosk', { transport: 'native' });
    sessions.push(host);
    const share = await shareScreen(host, { xDisplay: doomed.display, fps: 10, maxFailures: 3, captureTimeoutMs: 2000 });
    const warnings: CaptureError[] = [];
    share.on('error', (e) => warnings.push(e));
    const ended = share.waitFor('ended', { timeoutMs: 20_000 });
    await doomed.stop();
    const [error] = await ended;
    assert.ok(error instanceof CaptureError, 'ended with a CaptureError');
    assert.match(error.message, /3 captures in a row failed/);
    assert.match(error.message, new RegExp(`X display ${doomed.display}`));
    assert.equal(warnings.length, 2, 'the first failures were reported as warnings');
    assert.equal(share.track.ended, true);
    assert.equal(host.state, 'connected');
    assert.equal(host.local.tracks.size, 0);
  });

  test('listAllDevices reports each adapter, or why it is unavailable, and never rejects', async () => {
    const all = await listAllDevices({
      screen: { xDisplay: x.display },
      camera: { ffmpegPath: '/nonexistent/ffmpeg' },
      microphone: { audifyModule: 'lanconf-test-no-such-audify' },
      speaker: { audifyModule: 'lanconf-test-no-such-audify' },
    });
    assert.equal(all.screen.available, true);
    assert.ok(all.screen.available && all.screen.devices[0]!.details === '640×480 at +0+0', JSON.stringify(all.screen));
    for (const report of [all.microphone, all.speaker]) {
      assert.equal(report.available, false);
      assert.ok(!report.available && report.error.code === 'LAN_ERR_CAPTURE_UNAVAILABLE' && /npm install audify/.test(report.error.message), JSON.stringify(report));
    }
    // Linux lists cameras from /dev/video*; this machine may have none, which is reported, not thrown.
    assert.ok(all.camera.available ? all.camera.devices.length > 0 : /no camera device was found/.test(all.camera.error.message), JSON.stringify(all.camera));

    const nothing = await listAllDevices({ screen: { xDisplay: unusedDisplay() }, microphone: { audifyModule: 'x-none' }, speaker: { audifyModule: 'x-none' } });
    assert.equal(nothing.screen.available, false);
    assert.ok(!nothing.screen.available && nothing.screen.error.adapter === 'screen', JSON.stringify(nothing.screen));
  });

  test('no unhandled rejections', () => {
    assert.deepEqual(unhandled, []);
  });
});
