// Camera adapter with ffmpeg's lavfi testsrc2 as the device, through a real relay; plus its pure parts: the MJPEG
// splitter, the ffmpeg input arguments and the device-list parsers.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { Session } from '../../sdk/Session.js';
import type { RemoteFrame, RemoteTrack } from '../../sdk/Track.js';
import { CameraSource, CaptureError, MjpegSplitter, shareCamera, type CaptureShare } from '../../relay/capture/index.js';
import { ffmpegInput, qscaleFor } from '../../relay/capture/CameraSource.js';
import { parseAvfoundationDevices, parseDshowDevices } from '../../relay/capture/ffmpegDevices.js';
import { join, leaveAll, sleep, startRelay, until, type TestRelay } from '../helpers.js';
import { requireTools } from './devices.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

/** ffmpeg processes that are children of this process and read the given input. */
function ffmpegChildren(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (ppid === process.pid && cmdline.includes('ffmpeg') && cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function remoteTrack(session: Session, kind: string): Promise<RemoteTrack> {
  for (const t of session.tracks.values()) if (t.kind === kind) return t;
  for (;;) {
    const [track] = await session.waitFor('trackPublished', { timeoutMs: 10_000 });
    if (track.kind === kind) return track;
  }
}

/** Three different small JPEGs. */
async function jpegs(): Promise<Buffer[]> {
  return Promise.all(['#ff0000', '#00ff00', '#0000ff'].map((background, i) =>
    sharp({ create: { width: 64 + i * 8, height: 48, channels: 3, background } }).jpeg({ quality: 80 }).toBuffer()));
}

describe('camera capture adapter', { timeout: 120_000 }, () => {
  let relay: TestRelay;
  const sessions: Session[] = [];
  const shares: CaptureShare[] = [];

  before(async () => {
    requireTools(['ffmpeg']);
    relay = await startRelay();
  });
  after(async () => {
    await Promise.all(shares.map((s) => s.stop()));
    await leaveAll(sessions);
    await relay?.relay.close();
  });

  test('a testsrc2 camera arrives at a Node participant as 640×480 JPEG at close to 25 fps, and stopping ends ffmpeg', async () => {
    const host = await join(relay.url, 'Camera', 'Kiosk', { transport: 'native' });
    const viewer = await join(relay.url, 'Camera', 'Viewer');
    sessions.push(host, viewer);
    const share = await shareCamera(host, { device: 'lavfi:testsrc2' });
    shares.push(share);
    assert.equal(ffmpegChildren('testsrc2').length, 1, 'one ffmpeg runs');
    const track = await remoteTrack(viewer, 'camera');
    const frames: RemoteFrame[] = [];
    track.on('frame', (f) => frames.push(f));
    await until(() => frames.length > 0, 'the first camera frame', 10_000);
    // Count over a few seconds from the first frame: generous bounds, this is not a timing test.
    const startCount = frames.length;
    const started = performance.now();
    await sleep(3000);
    const fps = ((frames.length - startCount) * 1000) / (performance.now() - started);
    assert.ok(fps >= 15 && fps <= 35, `${fps.toFixed(1)} fps arrive (25 expected)`);

    const sample = frames.slice(-5);
    const fingerprints = new Set<string>();
    for (const f of sample) {
      assert.equal(f.codec, 'jpeg');
      const meta = await sharp(f.data).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 480]);
      fingerprints.add(Buffer.from(f.data).toString('base64').slice(-200));
    }
    assert.ok(fingerprints.size > 1, 'the picture moves');

    await share.stop();
    assert.equal(share.ended, true);
    assert.deepEqual(ffmpegChildren('testsrc2'), [], 'ffmpeg is gone');
    await until(() => track.ended, 'the viewer to see the track end');
  });

  test('leaving the meeting stops the camera: ffmpeg ends', async () => {
    const host = await join(relay.url, 'Leave', 'Kiosk', { transport: 'native' });
    const share = await shareCamera(host, { device: 'lavfi:testsrc2=size=320x240' });
    shares.push(share);
    assert.equal(ffmpegChildren('size=320x240').length, 1);
    await host.leave();
    await until(() => share.ended, 'the share to end with the session');
    assert.deepEqual(ffmpegChildren('size=320x240'), [], 'ffmpeg is gone');
  });

  test('re-encoding with sharp gives 640×480 JPEG frames and per-frame timings', async () => {
    const camera = new CameraSource({ device: 'lavfi:testsrc2', reencode: true, quality: 70 });
    await camera.start();
    let count = 0;
    try {
      for await (const frame of camera) {
        const meta = await sharp(frame.data).metadata();
        assert.deepEqual([meta.width, meta.height], [640, 480]);
        if (++count >= 10) break;
      }
    } finally {
      await camera.stop();
    }
    assert.equal(camera.state, 'stopped', 'leaving the loop stopped the camera');
    assert.ok(camera.timing.encodeMs.length >= 5, 'sharp re-encoded the frames');
  });

  test('ffmpeg dying while sharing ends the share with an error; the track is unpublished', async () => {
    const host = await join(relay.url, 'Crash', 'Kiosk', { transport: 'native' });
    sessions.push(host);
    const share = await shareCamera(host, { device: 'lavfi:testsrc2=duration=1' });
    shares.push(share);
    const [error] = await share.waitFor('ended', { timeoutMs: 10_000 });
    assert.ok(error instanceof CaptureError && error.code === 'LAN_ERR_CAPTURE_UNAVAILABLE' && /ffmpeg exited/.test(error.message), String(error));
    assert.equal(share.track.ended, true);
    assert.equal(host.local.tracks.size, 0);
  });

  test('missing ffmpeg, a missing camera and a bad ffmpeg input are clear errors', async () => {
    await assert.rejects(new CameraSource({ device: 'lavfi:testsrc2', ffmpegPath: '/nonexistent/ffmpeg' }).start(), (e: unknown) =>
      e instanceof CaptureError && e.code === 'LAN_ERR_CAPTURE_UNAVAILABLE' && e.message.includes('/nonexistent/ffmpeg') && /install ffmpeg/.test(e.message));
    await assert.rejects(new CameraSource({ device: '/dev/video99' }).start(), (e: unknown) =>
      e instanceof CaptureError && e.code === 'LAN_ERR_DEVICE_NOT_FOUND' && e.message.includes('/dev/video99'));
    await assert.rejects(new CameraSource({ device: 'lavfi:nosuchsource' }).start(), (e: unknown) =>
      e instanceof CaptureError && e.code === 'LAN_ERR_CAPTURE_UNAVAILABLE' && /No such filter/.test(e.message));
    assert.deepEqual(ffmpegChildren('nosuchsource'), []);
  });

  test('the MJPEG splitter finds every image however the stream is cut', async () => {
    const images = await jpegs();
    const stream = Buffer.concat(images);
    for (const size of [1, 2, 7, 100, 4096, stream.length]) {
      const splitter = new MjpegSplitter();
      const out: Uint8Array[] = [];
      for (let i = 0; i < stream.length; i += size) out.push(...splitter.push(stream.subarray(i, i + size)));
      assert.equal(out.length, 3, `chunks of ${size}`);
      out.forEach((o, i) => assert.ok(Buffer.from(o).equals(images[i]!), `image ${i} intact with chunks of ${size}`));
      assert.equal(splitter.buffered, 0);
    }
  });

  test('the MJPEG splitter skips garbage, drops a truncated image, and is not fooled by FF D9 inside a segment', async () => {
    const [a, b] = await jpegs();
    // Garbage, then an image cut inside its entropy-coded data (just after the start-of-scan header), then a whole one.
    const sos = a!.indexOf(Buffer.from([0xff, 0xda]));
    const cut = sos + 2 + a!.readUInt16BE(sos + 2) + 3;
    const splitter = new MjpegSplitter();
    const out = splitter.push(Buffer.concat([Buffer.from([0x6e, 0x6f, 0x69, 0x73, 0x65, 0xff]), a!.subarray(0, cut), b!]));
    assert.equal(out.length, 1);
    assert.ok(Buffer.from(out[0]!).equals(b!), 'the whole image comes out intact');
    assert.equal(splitter.dropped, 1);
    assert.equal(splitter.skippedBytes, 6 + cut, 'the garbage and the broken image were skipped');

    // A COM segment holding FF D9 right after SOI: a naive splitter would cut the image there.
    const comment = Buffer.from([0xff, 0xfe, 0x00, 0x06, 0xff, 0xd9, 0xff, 0xd9]);
    const tricky = Buffer.concat([a!.subarray(0, 2), comment, a!.subarray(2)]);
    const whole = new MjpegSplitter().push(Buffer.concat([tricky, b!]));
    assert.equal(whole.length, 2);
    assert.ok(Buffer.from(whole[0]!).equals(tricky), 'the image with the comment is whole');
    assert.equal((await sharp(whole[0]!).metadata()).width, 64);

    // Images larger than the limit are dropped, whether they come whole or in pieces.
    const small = new MjpegSplitter(100);
    assert.equal(small.push(Buffer.concat([a!, b!])).length, 0);
    assert.equal(small.dropped, 2);
    const pieces = new MjpegSplitter(100);
    let count = 0;
    for (let i = 0; i < a!.length; i += 10) count += pieces.push(a!.subarray(i, i + 10)).length;
    assert.equal(count, 0);
    assert.equal(pieces.dropped, 1);
    assert.ok(pieces.buffered < 200, `the splitter holds ${pieces.buffered} bytes, not the whole image`);
  });

  test('ffmpeg input arguments for each platform and for explicit inputs', () => {
    const o = { width: 640, height: 480, fps: 25 };
    assert.deepEqual(ffmpegInput('/dev/video0', o, 'linux'), ['-f', 'v4l2', '-framerate', '25', '-video_size', '640x480', '-i', '/dev/video0']);
    assert.deepEqual(ffmpegInput('0', o, 'darwin'), ['-f', 'avfoundation', '-framerate', '25', '-video_size', '640x480', '-i', '0']);
    assert.deepEqual(ffmpegInput('Integrated Camera', o, 'win32'), ['-f', 'dshow', '-framerate', '25', '-video_size', '640x480', '-i', 'video=Integrated Camera']);
    assert.deepEqual(ffmpegInput('lavfi:testsrc2', o, 'linux'), ['-re', '-f', 'lavfi', '-i', 'testsrc2=size=640x480:rate=25']);
    assert.deepEqual(ffmpegInput('lavfi:testsrc2=duration=1', o, 'linux'), ['-re', '-f', 'lavfi', '-i', 'testsrc2=duration=1']);
    assert.deepEqual(ffmpegInput('v4l2:/dev/video2', { ...o, realtime: true }, 'linux'), ['-re', '-f', 'v4l2', '-framerate', '25', '-video_size', '640x480', '-i', '/dev/video2']);
    assert.equal(qscaleFor(70), 5);
    assert.equal(qscaleFor(100), 2);
    assert.equal(qscaleFor(1), 17);
  });

  test('device lists printed by ffmpeg on macOS and Windows', () => {
    const mac = [
      '[AVFoundation indev @ 0x7f9] AVFoundation video devices:',
      '[AVFoundation indev @ 0x7f9] [0] FaceTime HD Camera',
      '[AVFoundation indev @ 0x7f9] [1] Capture screen 0',
      '[AVFoundation indev @ 0x7f9] AVFoundation audio devices:',
      '[AVFoundation indev @ 0x7f9] [0] MacBook Pro Microphone',
      '[in#0 @ 0x600] Error opening input: Input/output error',
    ].join('\n');
    assert.deepEqual(parseAvfoundationDevices(mac), [
      { id: '0', name: 'FaceTime HD Camera', isDefault: true }, { id: '1', name: 'Capture screen 0', isDefault: false },
    ]);
    const winNew = [
      '[dshow @ 000001] "Integrated Camera" (video)',
      '[dshow @ 000001]   Alternative name "@device_pnp_\\\\?\\usb#vid_04f2"',
      '[dshow @ 000001] "Microphone Array (Realtek)" (audio)',
      '[dshow @ 000001] "OBS Virtual Camera" (video)',
    ].join('\r\n');
    const winOld = [
      '[dshow @ 0000] DirectShow video devices (some may be both video and audio devices)',
      '[dshow @ 0000]  "Integrated Camera"',
      '[dshow @ 0000]     Alternative name "@device_pnp_\\\\?\\usb"',
      '[dshow @ 0000]  "OBS Virtual Camera"',
      '[dshow @ 0000] DirectShow audio devices',
      '[dshow @ 0000]  "Microphone Array (Realtek)"',
    ].join('\r\n');
    for (const text of [winNew, winOld]) {
      assert.deepEqual(parseDshowDevices(text), [
        { id: 'video=Integrated Camera', name: 'Integrated Camera', isDefault: true },
        { id: 'video=OBS Virtual Camera', name: 'OBS Virtual Camera', isDefault: false },
      ]);
    }
  });

  test('no unhandled rejections', () => {
    assert.deepEqual(unhandled, []);
  });
});
