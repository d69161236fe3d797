// Browser-side harness of tests/e2e/audio-pipeline.test.ts: bundled by esbuild into dist/dev/audio-harness.js and
// imported by a page the relay serves. Each export runs one scenario in real Chromium and returns plain numbers.
import { createAudioPublisher, microphoneConstraints } from '../../sdk/media/audioCapture.js';
import { AudioPlayout, type AudioTrackStats } from '../../sdk/media/AudioPlayout.js';
import type { MediaFallbacks, MediaPublisher, PublisherStats } from '../../sdk/media/types.js';
import { RemoteTrack, nowMicros, type EncodedFrame } from '../../sdk/Track.js';
import type { Codec } from '../../sdk/protocol/index.js';
import { joinMeeting } from '../../sdk/index.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a run of a publisher produced. */
export interface FrameReport {
  frames: number;
  framesPerSecond: number;
  codecs: Record<string, number>;
  meanBytes: number;
  /** Loudest frame's level (0..127, −dBov). */
  loudestLevel: number;
  /** Frames at −20 dBov or louder (a beep), and how many of those were flagged as voice. */
  loudFrames: number;
  loudVoiced: number;
  /** Frames at −70 dBov or quieter, and how many of those were flagged as voice. */
  quietFrames: number;
  quietVoiced: number;
  allKeyFrames: boolean;
  /** Capture timestamps: strictly increasing, spacing (µs), and how long before emission they lie (ms). */
  monotonic: boolean;
  spacingMinUs: number;
  spacingMaxUs: number;
  spacingMeanUs: number;
  lagMedianMs: number;
  lagMaxMs: number;
  stats: PublisherStats;
  errors: string[];
}

function collector() {
  const frames: Array<EncodedFrame & { codec: Codec; emittedUs: number }> = [];
  const errors: string[] = [];
  return {
    frames, errors,
    output: {
      onFrame: (frame: EncodedFrame & { codec: Codec }) => frames.push({ ...frame, emittedUs: nowMicros() }),
      onError: (error: Error) => errors.push(error.message),
    },
  };
}

function report(frames: ReturnType<typeof collector>['frames'], seconds: number, stats: PublisherStats, errors: string[]): FrameReport {
  const codecs: Record<string, number> = {};
  let bytes = 0;
  let monotonic = true;
  const spacing: number[] = [];
  const lags: number[] = [];
  frames.forEach((f, i) => {
    codecs[f.codec] = (codecs[f.codec] ?? 0) + 1;
    bytes += f.data.byteLength;
    lags.push((f.emittedUs - f.timestamp!) / 1000);
    const prev = frames[i - 1];
    if (prev) {
      spacing.push(f.timestamp! - prev.timestamp!);
      if (f.timestamp! <= prev.timestamp!) monotonic = false;
    }
  });
  const levels = frames.map((f) => f.audioLevel ?? 127);
  lags.sort((a, b) => a - b);
  return {
    frames: frames.length,
    framesPerSecond: frames.length / seconds,
    codecs,
    meanBytes: frames.length ? bytes / frames.length : 0,
    loudestLevel: Math.min(127, ...levels),
    loudFrames: frames.filter((f) => (f.audioLevel ?? 127) <= 20).length,
    loudVoiced: frames.filter((f) => (f.audioLevel ?? 127) <= 20 && f.voice).length,
    quietFrames: frames.filter((f) => (f.audioLevel ?? 127) >= 70).length,
    quietVoiced: frames.filter((f) => (f.audioLevel ?? 127) >= 70 && f.voice).length,
    allKeyFrames: frames.every((f) => f.keyFrame === true),
    monotonic,
    spacingMinUs: spacing.length ? Math.min(...spacing) : 0,
    spacingMaxUs: spacing.length ? Math.max(...spacing) : 0,
    spacingMeanUs: spacing.length ? spacing.reduce((a, b) => a + b, 0) / spacing.length : 0,
    lagMedianMs: lags[Math.floor(lags.length / 2)] ?? 0,
    lagMaxMs: lags[lags.length - 1] ?? 0,
    stats: { ...stats },
    errors,
  };
}

async function microphone(): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints() });
  return stream.getAudioTracks()[0]!;
}

/** Captures the fake microphone for `durationMs` with `codec`; reports the frames. */
export async function publishMicrophone(options: { codec: 'opus' | 'pcm16'; fallbacks?: MediaFallbacks; durationMs: number }): Promise<FrameReport & { publisherCodec: Codec; trackEnded: boolean }> {
  const track = await microphone();
  const c = collector();
  const publisher = createAudioPublisher(track, { codec: options.codec, fallbacks: options.fallbacks ?? {}, output: c.output });
  await publisher.start();
  // Count from the first frame on: the pipeline's start-up (encoder warm-up, worklet load) is not the rate.
  const deadline = performance.now() + 3000;
  while (c.frames.length === 0 && performance.now() < deadline) await sleep(5);
  const first = c.frames.length;
  await sleep(options.durationMs);
  const frames = c.frames.slice(first);
  const publisherCodec = publisher.codec;
  publisher.stop();
  return { ...report(frames, options.durationMs / 1000, publisher.stats, c.errors), publisherCodec, trackEnded: track.readyState === 'ended' };
}

/** Pause, device switch and codec switch on one publisher; frame counts per phase. */
export async function publisherLifecycle(): Promise<Record<string, number | string | boolean>> {
  const c = collector();
  const publisher = createAudioPublisher(await microphone(), { codec: 'opus', output: c.output });
  await publisher.start();
  const phase = async (ms: number) => {
    const before = c.frames.length;
    await sleep(ms);
    return c.frames.length - before;
  };
  await sleep(200);
  const opus = await phase(1000);
  publisher.setPaused(true);
  await sleep(60); // frames already inside the encoder still come out
  const paused = await phase(500);
  publisher.setPaused(false);
  const oldTrack = publisher.track;
  await publisher.replaceTrack(await microphone());
  const oldEnded = oldTrack.readyState === 'ended';
  await sleep(100);
  const afterReplace = await phase(1000);
  const switchedAt = c.frames.length;
  await publisher.setCodec('pcm16');
  const pcmCodec = publisher.codec;
  await sleep(100);
  const pcm = await phase(1000);
  const afterSwitch = c.frames.slice(switchedAt);
  // Once the first PCM frame is out, no Opus frame may follow (the switch drains the old encoder first).
  const firstPcm = afterSwitch.findIndex((f) => f.codec === 'pcm16');
  const opusAfterPcm = firstPcm < 0 ? -1 : afterSwitch.slice(firstPcm).filter((f) => f.codec === 'opus').length;
  let monotonic = true;
  for (let i = 1; i < c.frames.length; i++) if (c.frames[i]!.timestamp! <= c.frames[i - 1]!.timestamp!) monotonic = false;
  const track = publisher.track;
  publisher.stop();
  publisher.stop(); // idempotent
  return {
    opus, paused, skipped: publisher.stats.framesSkipped, afterReplace, oldEnded, pcm, pcmCodec, opusAfterPcm, monotonic,
    newEnded: track.readyState === 'ended', errors: c.errors.join('; '),
  };
}

/** What a playout run measured. */
export interface PlayoutReport {
  state: string;
  contextRate: number;
  /** `playout.level()` sampled every 50 ms while frames flow (after a warm-up), and after they stop. */
  levelMin: number;
  levelMean: number;
  levelMax: number;
  levelAfterStop: number;
  stats: AudioTrackStats | undefined;
  undecodable: string[];
  framesFed: number;
  errors: string[];
}

/**
 * Feeds a RemoteTrack (the real class, delivered to by hand as the session would) into an AudioPlayout and
 * measures the mixed output. `source`: `tone` (a 440 Hz sine at amplitude 0.3 captured and encoded by the real
 * publisher), `mic` (the fake microphone) or `none`. `jitterMs`: each frame is delivered after a random delay
 * of 0..jitterMs (so frames also arrive reordered).
 */
export async function playout(options: {
  source: 'tone' | 'mic' | 'none'; codec: 'opus' | 'pcm16'; durationMs: number; jitterMs?: number; fallbacks?: MediaFallbacks;
}): Promise<PlayoutReport> {
  const player = new AudioPlayout({ fallbacks: options.fallbacks ?? {} });
  const undecodable: string[] = [];
  const errors: string[] = [];
  player.on('undecodable', (id, codec) => undecodable.push(`${id}:${codec}`));
  player.on('error', (e) => errors.push(e.message));
  await player.start();
  const remote = new RemoteTrack({ requestKeyFrame() {}, setPaused() {} }, { id: 'track-1', participantId: 'alice', kind: 'microphone', codec: options.codec, muted: false });
  player.addTrack(remote);

  let toneContext: AudioContext | undefined;
  let publisher: MediaPublisher | undefined;
  let sequence = 0x7ffffff0 * 2 + 10; // near 2^32, so the run crosses the wrap
  let fed = 0;
  if (options.source !== 'none') {
    let track: MediaStreamTrack;
    if (options.source === 'tone') {
      toneContext = new AudioContext({ sampleRate: 48000 });
      const oscillator = new OscillatorNode(toneContext, { frequency: 440 });
      const gain = new GainNode(toneContext, { gain: 0.3 });
      const destination = toneContext.createMediaStreamDestination();
      oscillator.connect(gain).connect(destination);
      oscillator.start();
      track = destination.stream.getAudioTracks()[0]!;
    } else {
      track = await microphone();
    }
    publisher = createAudioPublisher(track, {
      codec: options.codec,
      fallbacks: options.fallbacks?.pcmOnly ? { pcmOnly: true } : {},
      output: {
        onFrame: (frame) => {
          const deliver = () => {
            fed++;
            remote.deliver({
              data: frame.data, codec: frame.codec, kind: 'microphone', keyFrame: true, sequence: seq,
              timestamp: frame.timestamp!, audioLevel: frame.audioLevel ?? 127, voice: frame.voice ?? false, discontinuity: false,
            });
          };
          const seq = sequence;
          sequence = (sequence + 1) >>> 0;
          if (options.jitterMs) setTimeout(deliver, Math.random() * options.jitterMs);
          else deliver();
        },
        onError: (e) => errors.push(e.message),
      },
    });
    await publisher.start();
  }
  await sleep(600);
  const levels: number[] = [];
  const until = performance.now() + options.durationMs;
  while (performance.now() < until) {
    levels.push(player.level());
    await sleep(50);
  }
  publisher?.stop();
  await sleep(400);
  const levelAfterStop = player.level();
  const stats = player.stats('track-1');
  const report: PlayoutReport = {
    state: player.state,
    contextRate: player.context?.sampleRate ?? 0,
    levelMin: Math.min(...levels),
    levelMean: levels.reduce((a, b) => a + b, 0) / levels.length,
    levelMax: Math.max(...levels),
    levelAfterStop,
    stats,
    undecodable,
    framesFed: fed,
    errors,
  };
  await player.close();
  await toneContext?.close();
  return report;
}

/**
 * Two real sessions in this page, through the relay over WebSocket: alice publishes a 440 Hz tone (amplitude 0.3)
 * captured and encoded by createAudioPublisher; bob plays her microphone track with an AudioPlayout.
 */
export async function throughRelay(options: { url: string; codec: 'opus' | 'pcm16'; durationMs: number }): Promise<{
  levelMean: number; levelMin: number; levelAfterStop: number; stats: AudioTrackStats | undefined;
  sent: number; receivedMedianLagMs: number; receivedMaxLagMs: number; outputLatencyMs: number; errors: string[];
}> {
  const meeting = `audio-${Math.random().toString(36).slice(2, 8)}`;
  const alice = await joinMeeting({ url: options.url, meeting, name: 'alice' });
  const bob = await joinMeeting({ url: options.url, meeting, name: 'bob' });
  const errors: string[] = [];
  const player = new AudioPlayout();
  player.on('error', (e) => errors.push(e.message));
  await player.start();
  const lags: number[] = [];
  let trackId = '';
  bob.on('trackPublished', (track) => {
    if (track.kind !== 'microphone') return;
    trackId = track.id;
    track.on('frame', (frame) => lags.push((nowMicros() - frame.timestamp) / 1000));
    player.addTrack(track);
  });
  const toneContext = new AudioContext({ sampleRate: 48000 });
  const oscillator = new OscillatorNode(toneContext, { frequency: 440 });
  const destination = toneContext.createMediaStreamDestination();
  oscillator.connect(new GainNode(toneContext, { gain: 0.3 })).connect(destination);
  oscillator.start();
  const local = await alice.publish({ kind: 'microphone', codec: options.codec });
  const publisher = createAudioPublisher(destination.stream.getAudioTracks()[0]!, {
    codec: options.codec,
    output: { onFrame: (frame) => local.send(frame), onError: (e) => errors.push(e.message) },
  });
  await publisher.start();
  await sleep(600);
  const levels: number[] = [];
  const until = performance.now() + options.durationMs;
  while (performance.now() < until) {
    levels.push(player.level());
    await sleep(50);
  }
  const stats = player.stats(trackId);
  publisher.stop();
  await sleep(400);
  const levelAfterStop = player.level();
  const context = player.context!;
  const outputLatencyMs = ((context.outputLatency || 0) + context.baseLatency) * 1000;
  await player.close();
  await toneContext.close();
  await alice.leave();
  await bob.leave();
  lags.sort((a, b) => a - b);
  return {
    levelMean: levels.reduce((a, b) => a + b, 0) / levels.length,
    levelMin: Math.min(...levels),
    levelAfterStop, stats, sent: local.stats.framesSent,
    receivedMedianLagMs: lags[Math.floor(lags.length / 2)] ?? -1,
    receivedMaxLagMs: lags.at(-1) ?? -1,
    outputLatencyMs, errors,
  };
}
