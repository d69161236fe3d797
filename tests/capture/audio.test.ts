// Microphone and speaker adapters against a real sound server (a private PulseAudio with a null sink, started here)
// and a real relay: a tone played into the sink is captured by the native host and heard by a Node participant at
// its frequency; and the reverse, remote Opus and PCM tones played by the speaker adapter come out of the sink.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import type { RemoteFrame, RemoteTrack } from '../../sdk/Track.js';
import { CaptureError, MicrophoneSource, SpeakerOutput, playSpeaker, shareMicrophone, type CaptureShare } from '../../relay/capture/index.js';
import { join, leaveAll, sleep, startRelay, until, type TestRelay } from '../helpers.js';
import { spectrum, startPulse, writeToneWav, type PulseServer } from './devices.js';
import { decodeOpus, encodeTone } from './opus.js';

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));

async function remoteTrack(session: Session, kind: string, participantId?: string): Promise<RemoteTrack> {
  const fits = (t: RemoteTrack): boolean => t.kind === kind && (participantId === undefined || t.participantId === participantId);
  for (const t of session.tracks.values()) if (fits(t)) return t;
  for (;;) {
    const [track] = await session.waitFor('trackPublished', { timeoutMs: 10_000 });
    if (fits(track)) return track;
  }
}

function pcm16Frame(frequency: number, amplitude: number, index: number): Uint8Array {
  const out = Buffer.alloc(960 * 2);
  for (let i = 0; i < 960; i++) {
    const n = index * 960 + i;
    out.writeInt16LE(Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * n) / 48000)), i * 2);
  }
  return new Uint8Array(out);
}

describe('microphone and speaker adapters', { timeout: 120_000 }, () => {
  let pulse: PulseServer;
  let restoreEnv: (() => void) | undefined;
  let relay: TestRelay;
  let dir: string;
  const sessions: Session[] = [];
  const shares: CaptureShare[] = [];
  const speakers: SpeakerOutput[] = [];

  before(async () => {
    dir = mkdtempSync(joinPath(tmpdir(), 'lanconf-audio-'));
    pulse = await startPulse();
    restoreEnv = pulse.useInThisProcess();
    relay = await startRelay();
  });
  after(async () => {
    await Promise.all(shares.map((s) => s.stop()));
    await Promise.all(speakers.map((s) => s.stop()));
    await leaveAll(sessions);
    await relay?.relay.close();
    restoreEnv?.();
    await pulse?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('lists the null sink as the default output and its monitor as the default input', async () => {
    const inputs = await MicrophoneSource.listDevices();
    const outputs = await SpeakerOutput.listDevices();
    assert.ok(inputs.some((d) => d.name === 'Monitor of lan' && d.isDefault), `inputs: ${JSON.stringify(inputs)}`);
    assert.ok(outputs.some((d) => d.name === 'lan' && d.isDefault), `outputs: ${JSON.stringify(outputs)}`);
  });

  test('a tone played into the sink is captured, sent as Opus, and heard at its frequency by a Node participant', async () => {
    const host = await join(relay.url, 'Mic', 'Kiosk', { transport: 'native' });
    sessions.push(host);
    const listener = await join(relay.url, 'Mic', 'Listener');
    sessions.push(listener);
    const share = await shareMicrophone(host);
    shares.push(share);
    assert.equal((share.source as MicrophoneSource).device?.name, 'Monitor of lan');
    const track = await remoteTrack(listener, 'microphone');
    assert.equal(track.codec, 'opus');
    const frames: RemoteFrame[] = [];
    track.on('frame', (f) => frames.push(f));
    await until(() => frames.length >= 10, 'the first microphone frames', 10_000);

    const wav = joinPath(dir, 'tone880.wav');
    writeToneWav(wav, 880, 2, 0.5);
    await pulse.play(wav);
    await sleep(300);
    await share.stop();

    frames.sort((a, b) => a.sequence - b.sequence);
    const loud = frames.filter((f) => f.audioLevel <= 20);
    assert.ok(loud.length >= 50, `${loud.length} frames of the tone arrived (of ${frames.length})`);
    // A 0.5 sine is −9 dBov.
    for (const f of loud) assert.ok(f.voice, 'a loud frame is flagged as voice');
    const levels = loud.map((f) => f.audioLevel).sort((a, b) => a - b);
    const median = levels[levels.length >> 1]!;
    assert.ok(median >= 6 && median <= 12, `median level of the tone ${median} is about 9 (−9 dBov)`);
    const before = frames.slice(0, 5);
    assert.ok(before.every((f) => f.audioLevel === 127), `the frames before the tone are silent: ${before.map((f) => f.audioLevel)}`);
    assert.ok(frames.some((f) => f.audioLevel === 127 && !f.voice), 'silence is not voice');

    // Decode every packet in order (the decoder carries state), then look at the loud part only.
    const samples = await decodeOpus(frames.map((f) => f.data));
    const parts: Float32Array[] = [];
    frames.forEach((f, i) => {
      if (f.audioLevel <= 20) parts.push(samples.subarray(i * 960, (i + 1) * 960));
    });
    const tone = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      tone.set(p, at);
      at += p.length;
    }
    const { peak, power, median: floor } = spectrum(tone, 48000);
    assert.equal(peak, 880, `the received audio's dominant frequency is ${peak} Hz`);
    assert.ok(power.get(880)! > 100 * floor, 'the tone stands far above the rest of the spectrum');
  });

  test('the speaker plays remote Opus and PCM tracks, mixed, into the sink', async () => {
    const host = await join(relay.url, 'Speaker', 'Kiosk', { transport: 'native' });
    sessions.push(host);
    const speaker = await playSpeaker(host);
    speakers.push(speaker);
    assert.equal(speaker.device?.name, 'lan');
    const opusSender = await join(relay.url, 'Speaker', 'Opus talker');
    const pcmSender = await join(relay.url, 'Speaker', 'PCM talker');
    sessions.push(opusSender, pcmSender);
    const opusTrack = await opusSender.publish({ kind: 'microphone', codec: 'opus' });
    const pcmTrack = await pcmSender.publish({ kind: 'microphone', codec: 'pcm16' });
    await until(() => speaker.tracks.size === 2, 'the speaker to pick both tracks up', 10_000);

    const packets = await encodeTone(660, 4, 0.3);
    // Paced like a live microphone: one 20 ms frame of each every 20 ms.
    const sending = (async () => {
      const start = performance.now();
      for (let i = 0; i < packets.length; i++) {
        const due = start + i * 20 - performance.now();
        if (due > 0) await sleep(due);
        opusTrack.send({ data: packets[i]!, audioLevel: 13, voice: true });
        pcmTrack.send({ data: pcm16Frame(1320, 0.3, i), audioLevel: 13, voice: true });
      }
    })();
    await sleep(1200);
    const recorded = await pulse.record(1500);
    await sending;

    assert.ok(recorded.length > 48000, `recorded ${recorded.length} samples`);
    const { peak, power, median } = spectrum(recorded, 48000);
    assert.ok(peak === 660 || peak === 1320, `the loudest frequency coming out of the sink is ${peak} Hz`);
    assert.ok(power.get(660)! > 100 * median, 'the Opus tone (660 Hz) is heard');
    assert.ok(power.get(1320)! > 100 * median, 'the PCM tone (1320 Hz) is heard');
    const stats = await speaker.stats();
    assert.ok(stats, 'speaker stats');
    const perTrack = Object.values(stats.tracks);
    assert.equal(perTrack.length, 2);
    for (const t of perTrack) {
      assert.ok(t.decoded >= 100, `decoded ${t.decoded} frames`);
      assert.equal(t.decodeErrors, 0);
    }

    // Leaving the meeting stops the speaker and releases the device.
    await host.leave();
    await until(() => speaker.state === 'stopped', 'the speaker to stop with the session');
    assert.equal(speaker.tracks.size, 0);
    assert.equal(await speaker.stats(), undefined);
  });

  test('a device that does not exist is named, with the ones that do', async () => {
    await assert.rejects(new MicrophoneSource({ device: 'no-such-microphone' }).start(), (e: unknown) =>
      e instanceof CaptureError && e.code === 'LAN_ERR_DEVICE_NOT_FOUND' && e.message.includes('no-such-microphone') && e.message.includes('Monitor of lan'));
    await assert.rejects(new SpeakerOutput({ device: 'no-such-speaker' }).start(), (e: unknown) =>
      e instanceof CaptureError && e.code === 'LAN_ERR_DEVICE_NOT_FOUND' && e.message.includes('no-such-speaker') && e.message.includes('"lan"'));
  });

  test('with no sound server answering, the microphone and speaker say so', async () => {
    const saved = process.env.PULSE_SERVER;
    process.env.PULSE_SERVER = `unix:${joinPath(dir, 'no-such-socket')}`;
    try {
      await assert.rejects(new MicrophoneSource({ api: 'pulse' }).start(), (e: unknown) =>
        e instanceof CaptureError && e.code === 'LAN_ERR_CAPTURE_UNAVAILABLE' && /no audio input device/.test(e.message) && /PulseAudio/.test(e.message));
      await assert.rejects(new SpeakerOutput({ api: 'pulse' }).start(), (e: unknown) =>
        e instanceof CaptureError && e.code === 'LAN_ERR_CAPTURE_UNAVAILABLE' && /no audio output device/.test(e.message));
    } finally {
      process.env.PULSE_SERVER = saved;
    }
  });

  test('audify absent: a clear error for the microphone, the speaker and their device lists', async () => {
    const audifyModule = 'lanconf-test-no-such-audify';
    for (const attempt of [
      new MicrophoneSource({ audifyModule }).start(), new SpeakerOutput({ audifyModule }).start(),
      MicrophoneSource.listDevices({ audifyModule }), SpeakerOutput.listDevices({ audifyModule }),
    ]) {
      await assert.rejects(attempt, (e: unknown) => e instanceof CaptureError && e.code === 'LAN_ERR_CAPTURE_UNAVAILABLE'
        && e.message.includes(`"${audifyModule}" is not installed`) && e.message.includes('npm install audify'));
    }
  });

  test('no unhandled rejections', () => {
    assert.deepEqual(unhandled, []);
  });
});
