// `lanconf-relay join` with real devices of this machine's kind: an Xvfb screen, a PulseAudio null sink, ffmpeg's
// test pattern as the camera. The command runs as a child process, as an admin would run it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { runCli } from '../cli-process.js';
import { join, leaveAll, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';
import { startPulse, startXvfb, type PulseServer, type XServer } from './devices.js';

const cli = (t: TestContext, args: string[], env: Record<string, string>) => runCli(t, args, env);

function framesOf(session: Session, participant: string, kind: string): number {
  for (const track of session.tracks.values()) if (track.participantId === participant && track.kind === kind) return track.framesReceived;
  return -1;
}

describe('lanconf-relay join and devices with this machine\'s devices', { timeout: 120_000 }, () => {
  let x: XServer;
  let pulse: PulseServer;
  let relay: TestRelay;
  const sessions: Session[] = [];
  let noSound: string;

  before(async () => {
    x = await startXvfb(640, 360);
    await x.solid('#2060d0');
    pulse = await startPulse();
    relay = await startRelay();
    noSound = mkdtempSync(joinPath(tmpdir(), 'lanconf-nosound-'));
  });
  after(async () => {
    await leaveAll(sessions);
    await relay?.relay.close();
    await pulse?.stop();
    await x?.stop();
    rmSync(noSound, { recursive: true, force: true });
  });

  test('devices lists the display, the camera pattern is not a device, the null sink and its monitor', async (t) => {
    const run = cli(t, ['devices'], { DISPLAY: x.display, ...pulse.env });
    assert.equal(await withTimeout(run.exited, 30_000, 'devices'), 0, run.err().slice(-3000));
    const out = run.out();
    assert.match(out, /^screen \(--screen=<id>\):\n {2}\S+.*\(default\)/m, out);
    assert.match(out, /^microphone \(--mic=<id>\):\n.*lan/m, out);
    assert.match(out, /^speaker \(--speaker=<id>\):\n.*lan/m, out);
    assert.match(out, /^camera \(--camera=<id>\):\n {2}unavailable: .*camera/m, 'no /dev/video* here: said so');
  });

  test('join shares screen, camera and microphone and plays the speaker; the others receive all three; Ctrl-C leaves', async (t) => {
    const watcher = await join(relay.url, 'Room PC', 'Watcher');
    sessions.push(watcher);
    const run = cli(t, ['join', relay.url, '--meeting', 'Room PC', '--name', 'Room PC', '--screen', '--camera=lavfi:testsrc2', '--mic', '--speaker'],
      { DISPLAY: x.display, ...pulse.env });
    await until(() => [...watcher.participants.values()].some((p) => p.name === 'Room PC'), () => `the room PC joins\n${run.out()}\n${run.err()}`, 20_000);
    const host = [...watcher.participants.values()].find((p) => p.name === 'Room PC')!.id;
    for (const kind of ['screen', 'camera', 'microphone']) {
      await until(() => framesOf(watcher, host, kind) > 3, () => `frames of the ${kind} arrive\n${run.out()}\n${run.err()}`, 20_000);
    }
    assert.match(run.out(), /Sharing the screen\./);
    assert.match(run.out(), /Sharing the camera\./);
    assert.match(run.out(), /Sharing the microphone\./);
    assert.match(run.out(), /Playing the meeting's audio\./);
    run.child.kill('SIGINT');
    assert.equal(await withTimeout(run.exited, 15_000, 'join exiting on Ctrl-C'), 0, run.err().slice(-3000));
    await until(() => ![...watcher.participants.values()].some((p) => p.name === 'Room PC'), 'the room PC left', 5000);
  });

  test('without a sound server the microphone fails with a clear message, the screen is shared anyway, the exit code is 0', async (t) => {
    const watcher = await join(relay.url, 'Partial', 'Watcher');
    sessions.push(watcher);
    const run = cli(t, ['join', relay.url, '--meeting', 'Partial', '--name', 'Kiosk', '--screen', '--mic'], {
      DISPLAY: x.display, HOME: noSound, XDG_RUNTIME_DIR: noSound, PULSE_SERVER: `unix:${joinPath(noSound, 'none')}`,
    });
    await until(() => /Cannot share the microphone: /.test(run.err()), () => `the microphone failure is told\n${run.out()}\n${run.err()}`, 30_000);
    await until(() => [...watcher.participants.values()].some((p) => p.name === 'Kiosk'), 'the kiosk joined', 10_000);
    const host = [...watcher.participants.values()].find((p) => p.name === 'Kiosk')!.id;
    await until(() => framesOf(watcher, host, 'screen') > 2, 'its screen arrives', 20_000);
    assert.equal(framesOf(watcher, host, 'microphone'), -1, 'no microphone track');
    assert.doesNotMatch(run.err(), /Nothing could be shared/);
    run.child.kill('SIGINT');
    assert.equal(await withTimeout(run.exited, 15_000, 'join exiting'), 0, run.err().slice(-3000));
  });
});
