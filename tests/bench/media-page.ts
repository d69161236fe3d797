/**
 * Browser side of the media bench (tests/bench/media.ts). Bundled by esbuild into dist/dev/media-bench.js and
 * imported by two pages the relay serves. The pages join through the SDK bundle `/dist/browser/lanconf.js`
 * (loaded at run time: only types are imported here, so no second copy of the SDK is bundled) and record, per
 * frame, times on the SDK's clock (`nowMicros()`: `performance.timeOrigin + performance.now()`, µs since the epoch).
 * Node reads the records once the measurement window is over, so nothing crosses the DevTools protocol meanwhile.
 *
 * Instrumentation, none of it inside the SDK:
 *  - sender: `send()` of the two local tracks is wrapped on the instances (the SDK calls `local.send(frame)`), to
 *    see each encoded frame with its capture timestamp; a clone of the camera track is read with its own
 *    `MediaStreamTrackProcessor` to see how long after the camera's capture time a frame reaches page script (the
 *    SDK stamps frames when it reads them); a clone of the microphone track is read to find the beeps' onsets;
 *  - receiver: the renderer of the remote camera (`remoteTrack.attach(canvas)` returns it) reports `latencyMs` on
 *    each `frame` event; `AudioNode.prototype.connect` is wrapped before joining so the session's own audio mixer
 *    (the AudioWorkletNode it connects to the destination) is found; an AudioWorklet tap on the mixer's output finds
 *    the beeps' onsets in what is played, and `getOutputTimestamp()` says when that sample leaves for the speaker;
 *    the mixer's port is listened to (jitter-buffer stats) and its `postMessage` wrapped (decode time per packet).
 * @module
 */
import type { Session } from '../../sdk/Session.js';
import type { EncodedFrame, RemoteFrame, RemoteTrack } from '../../sdk/Track.js';
import type { LocalMediaTrack } from '../../sdk/media/LocalMediaTrack.js';
import type { VideoRenderer } from '../../sdk/media/VideoRenderer.js';
import type { JitterBufferStats } from '../../sdk/media/JitterBuffer.js';

type Lanconf = typeof import('../../sdk/index.js');

/** `MediaStreamTrackProcessor` (Chromium; not in TypeScript's DOM types). */
type Processor<T> = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => { readable: ReadableStream<T> };

let lanconfModule: Lanconf | undefined;
/** Loads the SDK bundle: `/dist/browser/lanconf.js`, unless the bench had to bundle the sources itself. */
async function sdk(bundle = '/dist/browser/lanconf.js'): Promise<Lanconf> {
  lanconfModule ??= (await import(bundle)) as Lanconf;
  return lanconfModule;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** Wall clock, µs since the epoch, unrounded (the SDK's `nowMicros` rounds to 1 µs). */
const now = (): number => (performance.timeOrigin + performance.now()) * 1000;

/** Beep detector settings: a sample at or above `threshold` after `quietMs` below it is an onset. */
const ONSET = { threshold: 0.1, quietMs: 200 };

const errors: string[] = [];
let session: Session | undefined;
const stoppers: Array<() => void> = [];

function note(error: unknown): void {
  errors.push(error instanceof Error ? error.message : String(error));
}

/** Main-thread tasks over 50 ms in this page: [start µs, duration ms]. */
const longTasks: Array<[number, number]> = [];
function watchLongTasks(): void {
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) longTasks.push([(performance.timeOrigin + entry.startTime) * 1000, entry.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch {
    // not supported: no long-task figures
  }
}

// ---------------------------------------------------------------------------------------------- sender (page A)

/** What page A recorded. Tuples keep the transfer small. */
export interface SenderRecords {
  /** [capture timestamp µs, send() called µs, bytes, key frame 0/1] per video frame the SDK sent. */
  video: Array<[number, number, number, number]>;
  /** [capture timestamp µs, send() called µs, bytes, audio level 0..127] per audio packet the SDK sent. */
  audio: Array<[number, number, number, number]>;
  /** Camera capture time (CLOCK_MONOTONIC, as `VideoFrame.timestamp`) → read in page script, µs, uncorrected for clock skew. */
  sensorToScriptUs: Array<[number, number]>;
  /** Beep onsets in the microphone clone, on the source's clock (µs), and that clock's offset to the wall clock. */
  micOnsetsSourceUs: number[];
  micOffsetUs: number;
  /** [at µs, camera `encoderStats.encodeMs`, microphone `encoderStats.encodeMs`], every 500 ms. */
  encodeSamples: Array<[number, number, number]>;
  longTasks: Array<[number, number]>;
  errors: string[];
}

export interface SenderMark {
  at: number;
  codec: string;
  videoFramesEncoded: number;
  videoBytesEncoded: number;
  videoEncodeMs: number;
  videoFramesSkipped: number;
  videoFramesDropped: number;
  visibility: string;
  audioFramesEncoded: number;
  audioEncodeMs: number;
  audioFramesSkipped: number;
}

const sent: SenderRecords = { video: [], audio: [], sensorToScriptUs: [], micOnsetsSourceUs: [], micOffsetUs: NaN, encodeSamples: [], longTasks, errors };
let camera: LocalMediaTrack | undefined;
let microphone: LocalMediaTrack | undefined;

function wrapSend(track: LocalMediaTrack, onSend: (frame: EncodedFrame, at: number) => void): void {
  const original = track.send.bind(track);
  track.send = (frame: EncodedFrame): boolean => {
    onSend(frame, now());
    return original(frame);
  };
}

/** Reads a clone of the camera: how long after its capture time (CLOCK_MONOTONIC µs) a frame reaches script. */
function watchCamera(track: MediaStreamTrack, monoBaseUs: number): void {
  const P = (globalThis as { MediaStreamTrackProcessor?: Processor<VideoFrame> }).MediaStreamTrackProcessor;
  if (!P) return;
  const clone = track.clone();
  const reader = new P({ track: clone }).readable.getReader();
  let live = true;
  stoppers.push(() => {
    live = false;
    void reader.cancel().catch(() => undefined);
    clone.stop();
  });
  void (async () => {
    try {
      while (live) {
        const { value, done } = await reader.read();
        if (done || !value) break;
        const at = now();
        sent.sensorToScriptUs.push([at, at - monoBaseUs - value.timestamp]);
        value.close();
      }
    } catch (error) {
      if (live) note(error);
    }
  })();
}

/**
 * Reads a clone of the microphone and finds the beeps' onsets, on the source's clock. The source clock is mapped to
 * the wall clock the way the SDK maps it (the smallest "arrival − end of chunk" seen), so an onset lands on the same
 * clock as the SDK's capture timestamps.
 */
function watchMicrophone(track: MediaStreamTrack): void {
  const P = (globalThis as { MediaStreamTrackProcessor?: Processor<AudioData> }).MediaStreamTrackProcessor;
  if (!P) return;
  const clone = track.clone();
  const reader = new P({ track: clone, maxBufferSize: 50 }).readable.getReader();
  let live = true;
  stoppers.push(() => {
    live = false;
    void reader.cancel().catch(() => undefined);
    clone.stop();
  });
  let quiet = 0;
  let buffer = new Float32Array(480);
  void (async () => {
    try {
      while (live) {
        const { value, done } = await reader.read();
        if (done || !value) break;
        try {
          const n = value.numberOfFrames;
          const rate = value.sampleRate;
          const offset = now() - (value.timestamp + (n / rate) * 1e6);
          if (!(offset >= sent.micOffsetUs)) sent.micOffsetUs = offset;
          if (buffer.length < n) buffer = new Float32Array(n);
          value.copyTo(buffer, { planeIndex: 0, format: 'f32-planar' });
          const quietSamples = (ONSET.quietMs / 1000) * rate;
          for (let i = 0; i < n; i++) {
            const x = buffer[i]!;
            if ((x < 0 ? -x : x) >= ONSET.threshold) {
              if (quiet >= quietSamples) sent.micOnsetsSourceUs.push(value.timestamp + (i / rate) * 1e6);
              quiet = 0;
            } else {
              quiet++;
            }
          }
        } finally {
          value.close();
        }
      }
    } catch (error) {
      if (live) note(error);
    }
  })();
}

/** Page A: joins, publishes the camera (VP8, or JPEG with `jpegOnly`) and the microphone, and records what it sends. */
export async function sender(options: { meeting: string; name: string; jpegOnly: boolean; width: number; monoBaseUs: number; bundle: string }): Promise<{ id: string; codec: string }> {
  watchLongTasks();
  const lanconf = await sdk(options.bundle);
  session = await lanconf.joinMeeting({ url: location.origin, meeting: options.meeting, name: options.name, fallbacks: options.jpegOnly ? { jpegOnly: true } : {} });
  session.on('error', note);
  camera = await session.publishCamera({ width: options.width, height: 480 });
  microphone = await session.publishMicrophone();
  camera.on('error', note);
  microphone.on('error', note);
  wrapSend(camera, (frame, at) => sent.video.push([frame.timestamp ?? NaN, at, frame.data.byteLength, frame.keyFrame ? 1 : 0]));
  wrapSend(microphone, (frame, at) => sent.audio.push([frame.timestamp ?? NaN, at, frame.data.byteLength, frame.audioLevel ?? 127]));
  const timer = setInterval(() => sent.encodeSamples.push([now(), camera?.encoderStats.encodeMs ?? NaN, microphone?.encoderStats.encodeMs ?? NaN]), 500);
  stoppers.push(() => clearInterval(timer));
  watchCamera(camera.mediaStreamTrack, options.monoBaseUs);
  watchMicrophone(microphone.mediaStreamTrack);
  return { id: session.local.id, codec: camera.encoderCodec };
}

/** Page A's counters now (Node calls it at the window's edges). */
export function senderMark(): SenderMark {
  const v = camera?.encoderStats;
  const a = microphone?.encoderStats;
  return {
    at: now(), codec: camera?.encoderCodec ?? '?',
    videoFramesEncoded: v?.framesEncoded ?? 0, videoBytesEncoded: v?.bytesEncoded ?? 0, videoEncodeMs: v?.encodeMs ?? NaN,
    videoFramesSkipped: v?.framesSkipped ?? 0, videoFramesDropped: camera?.stats.framesDropped ?? 0, visibility: document.visibilityState,
    audioFramesEncoded: a?.framesEncoded ?? 0, audioEncodeMs: a?.encodeMs ?? NaN, audioFramesSkipped: a?.framesSkipped ?? 0,
  };
}

export function senderRecords(): SenderRecords {
  return sent;
}

// -------------------------------------------------------------------------------------------- receiver (page B)

export interface ReceiverRecords {
  /** [capture timestamp µs, arrival µs, bytes, key 0/1] per video frame of the remote camera (`frame` event). */
  videoArrivals: Array<[number, number, number, number]>;
  /**
   * [capture timestamp µs, drawn µs, renderer.latencyMs, next animation frame µs (NaN if none yet), 1 when the
   * timestamp was matched to an arrival] per picture the renderer drew into the canvas.
   */
  renders: Array<[number, number, number, number, number]>;
  /** [capture timestamp µs, arrival µs, bytes, audio level] per packet of the remote microphone. */
  audioArrivals: Array<[number, number, number, number]>;
  /** [capture timestamp µs, arrival → handed to the mixer (decoded) ms] per packet the playout decoded. */
  decodes: Array<[number, number]>;
  /** Jitter-buffer stats of the remote microphone, as the mixer reports them every 250 ms. */
  jitter: Array<{ at: number } & JitterBufferStats>;
  /** Beep onsets in the mixed output: [when the sample is output (getOutputTimestamp) µs, when the tap saw it µs]. */
  earOnsets: Array<[number, number]>;
  /** [at µs, time from the sample being rendered now to its output, ms], sampled every 100 ms. */
  renderToOutputMs: Array<[number, number]>;
  context: { sampleRate: number; baseLatencyMs: number; outputLatencyMs: number; state: string } | undefined;
  mixerFound: boolean;
  longTasks: Array<[number, number]>;
  errors: string[];
}

export interface ReceiverMark {
  at: number;
  videoCodec: string;
  framesReceived: number;
  framesDecoded: number;
  framesDropped: number;
  fps: number;
  audioFramesReceived: number;
  visibility: string;
  width: number;
  height: number;
}

const got: ReceiverRecords = {
  videoArrivals: [], renders: [], audioArrivals: [], decodes: [], jitter: [], earOnsets: [], renderToOutputMs: [],
  context: undefined, mixerFound: false, longTasks, errors,
};
let renderer: VideoRenderer | undefined;
let remoteCamera: RemoteTrack | undefined;
let remoteMicrophone: RemoteTrack | undefined;
let mixer: AudioWorkletNode | undefined;

/** Before the session builds its audio graph: remember the AudioWorkletNode it connects to the destination. */
function findMixer(): void {
  const original = AudioNode.prototype.connect;
  AudioNode.prototype.connect = function connect(this: AudioNode, destination: AudioNode | AudioParam, ...rest: number[]) {
    if (this instanceof AudioWorkletNode && destination instanceof AudioDestinationNode) mixer ??= this;
    return (original as (this: AudioNode, d: AudioNode | AudioParam, ...r: number[]) => AudioNode).call(this, destination, ...rest);
  } as typeof AudioNode.prototype.connect;
}

/** The onset detector in the audio thread: posts the context frame of each onset in what the mixer outputs. */
const TAP_PROCESSOR = `
registerProcessor('bench-onset-tap', class extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.threshold = options.processorOptions.threshold;
    this.need = options.processorOptions.quietSamples;
    this.quiet = 0;
  }
  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (!ch) { this.quiet += 128; return true; }
    for (let i = 0; i < ch.length; i++) {
      const x = ch[i];
      if ((x < 0 ? -x : x) >= this.threshold) {
        if (this.quiet >= this.need) this.port.postMessage(currentFrame + i);
        this.quiet = 0;
      } else this.quiet++;
    }
    return true;
  }
});
`;

/** When the sample at context time `t` (s) leaves for the output device, as wall-clock µs. */
function outputWallUs(context: AudioContext, t: number): number {
  const ts = context.getOutputTimestamp();
  const perf = (ts.performanceTime ?? performance.now()) + (t - (ts.contextTime ?? context.currentTime)) * 1000;
  return (performance.timeOrigin + perf) * 1000;
}

async function tapMixer(node: AudioWorkletNode): Promise<void> {
  const context = node.context as AudioContext;
  got.mixerFound = true;
  got.context = { sampleRate: context.sampleRate, baseLatencyMs: context.baseLatency * 1000, outputLatencyMs: (context.outputLatency || 0) * 1000, state: context.state };
  // Jitter-buffer stats: the SDK reads them with `port.onmessage`; another listener sees them too.
  node.port.addEventListener('message', (event: MessageEvent<{ t: string; stats?: Record<string, JitterBufferStats> }>) => {
    if (event.data?.t !== 'stats' || !event.data.stats || !remoteMicrophone) return;
    const stats = event.data.stats[remoteMicrophone.id];
    if (stats) got.jitter.push({ at: now(), ...stats });
  });
  // Decoded PCM on its way to the mixer carries the packet's arrival time (`at`, performance.now() ms).
  const port = node.port;
  const post = port.postMessage.bind(port) as (message: unknown, transfer: Transferable[]) => void;
  (port as { postMessage: unknown }).postMessage = (message: { t?: string; ts?: number; at?: number }, transfer: Transferable[] = []) => {
    if (message?.t === 'frame' && typeof message.at === 'number') got.decodes.push([message.ts ?? NaN, performance.now() - message.at]);
    post(message, transfer);
  };
  const url = URL.createObjectURL(new Blob([TAP_PROCESSOR], { type: 'text/javascript' }));
  try {
    await context.audioWorklet.addModule(url);
  } finally {
    URL.revokeObjectURL(url);
  }
  const tap = new AudioWorkletNode(context, 'bench-onset-tap', {
    numberOfInputs: 1, numberOfOutputs: 0, channelCount: 1, channelCountMode: 'explicit',
    processorOptions: { threshold: ONSET.threshold, quietSamples: (ONSET.quietMs / 1000) * context.sampleRate },
  });
  tap.port.onmessage = (event: MessageEvent<number>) => {
    got.earOnsets.push([outputWallUs(context, event.data / context.sampleRate), now()]);
  };
  node.connect(tap);
  const timer = setInterval(() => {
    got.renderToOutputMs.push([now(), (outputWallUs(context, context.currentTime) - now()) / 1000]);
    got.context!.outputLatencyMs = (context.outputLatency || 0) * 1000;
    got.context!.state = context.state;
  }, 100);
  stoppers.push(() => {
    clearInterval(timer);
    tap.disconnect();
    node.disconnect(tap);
  });
}

function onRemoteTrack(track: RemoteTrack): void {
  if (track.kind === 'camera' && !remoteCamera) {
    remoteCamera = track;
    // Listen before attaching, so a frame's arrival is recorded before the renderer starts decoding it.
    track.on('frame', (frame: RemoteFrame) => got.videoArrivals.push([frame.timestamp, now(), frame.data.byteLength, frame.keyFrame ? 1 : 0]));
    const canvas = document.createElement('canvas');
    document.body.append(canvas);
    const r = track.attach(canvas) as unknown as VideoRenderer;
    renderer = r;
    r.on('frame', () => {
      const latencyMs = r.latencyMs;
      const at = now();
      // latencyMs = (nowMicros() at the draw − capture timestamp) / 1000: recover the timestamp, match an arrival.
      let ts = at - latencyMs * 1000;
      let matched = 0;
      const arrivals = got.videoArrivals;
      for (let i = arrivals.length - 1; i >= Math.max(0, arrivals.length - 12); i--) {
        if (Math.abs(arrivals[i]![0] - ts) < 2000) {
          ts = arrivals[i]![0];
          matched = 1;
          break;
        }
      }
      const record: [number, number, number, number, number] = [ts, at, latencyMs, NaN, matched];
      got.renders.push(record);
      requestAnimationFrame(() => {
        record[3] = now();
      });
    });
  } else if (track.kind === 'microphone' && !remoteMicrophone) {
    remoteMicrophone = track;
    track.on('frame', (frame: RemoteFrame) => got.audioArrivals.push([frame.timestamp, now(), frame.data.byteLength, frame.audioLevel]));
  }
}

/** Page B: joins (publishing nothing), plays remote audio, renders the remote camera into a canvas. */
export async function receiver(options: { meeting: string; name: string; bundle: string }): Promise<{ id: string; mixer: boolean }> {
  findMixer();
  watchLongTasks();
  const lanconf = await sdk(options.bundle);
  session = await lanconf.joinMeeting({ url: location.origin, meeting: options.meeting, name: options.name });
  session.on('error', note);
  for (const track of session.tracks.values()) onRemoteTrack(track);
  session.on('trackPublished', (track) => onRemoteTrack(track));
  await session.startAudio();
  for (let i = 0; i < 50 && !mixer; i++) await sleep(20);
  if (mixer) await tapMixer(mixer).catch(note);
  else note('the session\'s audio mixer was not found: no mouth-to-ear measurement');
  return { id: session.local.id, mixer: Boolean(mixer) };
}

/** Page B's counters now. */
export function receiverMark(): ReceiverMark {
  return {
    at: now(), videoCodec: remoteCamera?.codec ?? '?', framesReceived: remoteCamera?.framesReceived ?? 0,
    framesDecoded: renderer?.framesDecoded ?? 0, framesDropped: renderer?.framesDropped ?? 0, fps: renderer?.fps ?? 0,
    audioFramesReceived: remoteMicrophone?.framesReceived ?? 0, visibility: document.visibilityState,
    width: renderer?.width ?? 0, height: renderer?.height ?? 0,
  };
}

export function receiverRecords(): ReceiverRecords {
  return got;
}

// ------------------------------------------------------------------------------------------------------- both

/** Stops the instrumentation and leaves. */
export async function stop(): Promise<void> {
  for (const s of stoppers.splice(0)) {
    try {
      s();
    } catch {
      // already stopped
    }
  }
  await session?.leave().catch(() => undefined);
}
