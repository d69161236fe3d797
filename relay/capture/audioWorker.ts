/**
 * The audio thread of the native host: everything that touches `audify` (RtAudio capture and playback, Opus
 * encode and decode, the jitter buffers and the mix) runs in one worker thread.
 *
 * Why a worker: audify keeps Node alive after `closeStream()` (its thread-safe callbacks are never released), and
 * it keeps some state in process-wide statics that must not be shared between two JavaScript threads. A worker
 * that is terminated tears its callbacks down with it, so stopping the microphone or the speaker lets the process
 * exit; and only this one thread ever loads audify. The body is shipped as source text (`eval` worker), like the
 * browser's AudioWorklet mixer, so no separate file has to be found next to the bundle.
 * @module
 * @internal
 */
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from '../../sdk/media/JitterBuffer.js';
import type { AudifyModule, OpusDecoderInstance, RtAudioDeviceInfo, RtAudioInstance } from './audifyApi.js';

/** A device as the worker reports it. @internal */
export interface WorkerDevice {
  id: number;
  name: string;
  inputChannels: number;
  outputChannels: number;
  isDefaultInput: boolean;
  isDefaultOutput: boolean;
}

/** Messages to the worker. @internal */
export type ToAudioWorker =
  | { t: 'devices'; id: number; apis: number[] }
  | { t: 'openInput'; id: number; stream: number; apis: number[]; device?: string; bitrate: number; name: string; watchdogMs: number }
  | { t: 'openOutput'; id: number; stream: number; apis: number[]; device?: string; name: string; bufferFrames: number; jitter: JitterBufferOptions }
  | { t: 'close'; id: number; stream: number }
  | { t: 'stats'; id: number; stream: number }
  | { t: 'frame'; stream: number; track: string; seq: number; ts: number; codec: string; data: Uint8Array; at: number }
  | { t: 'removeTrack'; stream: number; track: string }
  | { t: 'shutdown'; id: number };

/** Replies and events from the worker. @internal */
export type FromAudioWorker =
  | { t: 'ready' }
  | { t: 'loadFailed'; message: string }
  | { t: 'reply'; id: number; ok: true; value: unknown }
  | { t: 'reply'; id: number; ok: false; code: 'notfound' | 'nodevice' | 'unavailable'; message: string; device?: string; available?: string[] }
  | { t: 'packet'; stream: number; data: Uint8Array; rms: number; ts: number; encodeMs: number }
  | { t: 'problem'; stream: number; message: string; fatal: boolean };

/** What the speaker side reports. @internal */
export interface OutputStats {
  /** Mixed frames written to the device. */
  written: number;
  /** Times the device ran dry because the mixer was late. */
  underruns: number;
  /** RMS (0..1) of the last mixed frame. */
  level: number;
  /** Per track: frames decoded, decode errors, and the jitter buffer. */
  tracks: Record<string, { decoded: number; decodeErrors: number; jitter: JitterBufferStats }>;
}

/** The worker's port, as the body uses it. @internal */
interface Port {
  postMessage(message: FromAudioWorker, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: ToAudioWorker) => void): void;
}

/**
 * The worker body. Runs inside the worker from its source text: it may use only its parameters and globals.
 * @internal
 */
function audioWorkerMain(port: Port, audifyPath: string, load: (id: string) => unknown, JB: typeof JitterBuffer): void {
  const RATE = 48000;
  const FRAME = 960;
  const SINT16 = 0x2;
  let audify: AudifyModule;
  try {
    audify = load(audifyPath) as AudifyModule;
  } catch (error) {
    port.postMessage({ t: 'loadFailed', message: error instanceof Error ? error.message : String(error) });
    return;
  }

  interface InputStream { kind: 'input'; rt: RtAudioInstance; watchdog: ReturnType<typeof setInterval> }
  interface OutputTrack { jb: JitterBuffer; decoder: OpusDecoderInstance | undefined; decoded: number; decodeErrors: number }
  interface OutputStream {
    kind: 'output'; rt: RtAudioInstance; timer: ReturnType<typeof setInterval> | undefined; tracks: Map<string, OutputTrack>;
    jitter: JitterBufferOptions; written: number; underruns: number; level: number;
  }
  const streams = new Map<number, InputStream | OutputStream>();
  const nowMs = (): number => performance.timeOrigin + performance.now();

  const toDevice = (d: RtAudioDeviceInfo): { id: number; name: string; inputChannels: number; outputChannels: number; isDefaultInput: boolean; isDefaultOutput: boolean } => ({
    id: d.id, name: d.name, inputChannels: d.inputChannels, outputChannels: d.outputChannels,
    isDefaultInput: Boolean(d.isDefaultInput), isDefaultOutput: Boolean(d.isDefaultOutput),
  });

  /** The first API (in order) that lists a device of the wanted direction. */
  const probe = (apis: number[], input: boolean): { api: number; apiName: string; devices: RtAudioDeviceInfo[] } | undefined => {
    for (const api of apis) {
      const rt = new audify.RtAudio(api);
      const devices = rt.getDevices();
      if (devices.some((d) => (input ? d.inputChannels : d.outputChannels) > 0)) return { api, apiName: rt.getApi(), devices };
    }
    return undefined;
  };

  class Failure extends Error {
    constructor(readonly code: 'notfound' | 'nodevice' | 'unavailable', message: string, readonly device?: string, readonly available?: string[]) {
      super(message);
    }
  }

  const pick = (apis: number[], wanted: string | undefined, input: boolean): { api: number; device: RtAudioDeviceInfo } => {
    const found = probe(apis, input);
    if (!found) {
      const tried = apis.map((api) => new audify.RtAudio(api).getApi()).join(', ');
      throw new Failure('nodevice', `no audio ${input ? 'input' : 'output'} device was found (${tried} listed none)`);
    }
    const usable = found.devices.filter((d) => (input ? d.inputChannels : d.outputChannels) > 0);
    let device: RtAudioDeviceInfo | undefined;
    if (wanted === undefined || wanted === '' || wanted === 'default') {
      device = usable.find((d) => (input ? d.isDefaultInput : d.isDefaultOutput)) ?? usable[0];
    } else {
      const w = wanted.toLowerCase();
      device = usable.find((d) => String(d.id) === wanted) ?? usable.find((d) => d.name.toLowerCase() === w)
        ?? usable.find((d) => d.name.toLowerCase().includes(w));
    }
    if (!device) throw new Failure('notfound', `no audio ${input ? 'input' : 'output'} device ${JSON.stringify(wanted)}`, wanted, usable.map((d) => d.name));
    return { api: found.api, device };
  };

  /** Opens (with `open`) and starts a stream of `rt`; on failure closes what was opened and says which device. */
  const start = (rt: RtAudioInstance, deviceName: string, open: () => void): void => {
    try {
      open();
      rt.start();
    } catch (error) {
      try {
        if (rt.isStreamOpen()) rt.closeStream();
      } catch {
        // nothing left to close
      }
      throw new Failure('unavailable', `cannot open "${deviceName}": ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  const openInput = (m: Extract<ToAudioWorker, { t: 'openInput' }>): unknown => {
    const { api, device } = pick(m.apis, m.device, true);
    const rt = new audify.RtAudio(api);
    const encoder = new audify.OpusEncoder(RATE, 1, 2048);
    encoder.bitrate = m.bitrate;
    let lastInput = nowMs();
    let reported = false;
    const onInput = (pcm: Buffer): void => {
      lastInput = nowMs();
      reported = false;
      if (pcm.length !== FRAME * 2) return;
      let sum = 0;
      for (let i = 0; i < FRAME; i++) {
        const x = pcm.readInt16LE(i * 2) / 32768;
        sum += x * x;
      }
      const started = performance.now();
      const packet = encoder.encode(pcm, FRAME);
      const encodeMs = performance.now() - started;
      const data = new Uint8Array(packet.length);
      data.set(packet);
      // The buffer holds the last 20 ms: its first sample was captured one frame ago.
      const ts = Math.round(lastInput * 1000) - (FRAME / RATE) * 1e6;
      port.postMessage({ t: 'packet', stream: m.stream, data, rms: Math.sqrt(sum / FRAME), ts, encodeMs }, [data.buffer]);
    };
    start(rt, device.name, () => rt.openStream(null, { deviceId: device.id, nChannels: 1 }, SINT16, RATE, FRAME, m.name, onInput, null, 0, null));
    const watchdog = setInterval(() => {
      if (!reported && nowMs() - lastInput > m.watchdogMs) {
        reported = true;
        port.postMessage({ t: 'problem', stream: m.stream, message: `no audio from "${device.name}" for ${Math.round((nowMs() - lastInput) / 1000)} s`, fatal: false });
      }
    }, Math.min(1000, m.watchdogMs));
    streams.set(m.stream, { kind: 'input', rt, watchdog });
    return { id: device.id, name: device.name, api: rt.getApi() };
  };

  const openOutput = (m: Extract<ToAudioWorker, { t: 'openOutput' }>): unknown => {
    const { api, device } = pick(m.apis, m.device, false);
    const rt = new audify.RtAudio(api);
    const mix = new Float32Array(FRAME);
    const scratch = new Float32Array(FRAME);
    const pcm = Buffer.alloc(FRAME * 2);
    let queued = 0;
    let lastConsumed = nowMs();
    const stream: OutputStream = {
      kind: 'output', rt, timer: undefined, tracks: new Map(), jitter: m.jitter, written: 0, underruns: 0, level: 0,
    };
    const writeOne = (): void => {
      mix.fill(0);
      for (const track of stream.tracks.values()) {
        track.jb.pull(FRAME, scratch);
        for (let i = 0; i < FRAME; i++) mix[i]! += scratch[i]!;
      }
      let sum = 0;
      for (let i = 0; i < FRAME; i++) {
        let x = mix[i]!;
        // Soft clipping above 0.8, as the browser mixer does: overlapping talkers do not wrap around.
        const a = x < 0 ? -x : x;
        if (a > 0.8) x = (x < 0 ? -1 : 1) * (0.8 + 0.2 * Math.tanh((a - 0.8) / 0.2));
        sum += x * x;
        pcm.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(x * 32767))), i * 2);
      }
      stream.level = Math.sqrt(sum / FRAME);
      rt.write(pcm);
      stream.written++;
      queued++;
    };
    const fill = (): void => {
      while (queued < m.bufferFrames) writeOne();
    };
    const onConsumed = (): void => {
      queued = Math.max(0, queued - 1);
      lastConsumed = nowMs();
      fill();
    };
    start(rt, device.name, () => rt.openStream({ deviceId: device.id, nChannels: 1 }, null, SINT16, RATE, FRAME, m.name, null, onConsumed, 0, null));
    fill();
    // audify calls back only when a queued frame is played: if the queue ever runs dry (this thread was late),
    // the callbacks stop, so a timer notices and primes it again.
    stream.timer = setInterval(() => {
      if (nowMs() - lastConsumed > (m.bufferFrames + 2) * (FRAME / RATE) * 1000) {
        stream.underruns++;
        queued = 0;
        lastConsumed = nowMs();
        fill();
      }
    }, 10);
    streams.set(m.stream, stream);
    return { id: device.id, name: device.name, api: rt.getApi() };
  };

  const onFrame = (m: Extract<ToAudioWorker, { t: 'frame' }>): void => {
    const stream = streams.get(m.stream);
    if (!stream || stream.kind !== 'output') return;
    let track = stream.tracks.get(m.track);
    if (!track) {
      track = { jb: new JB({ ...stream.jitter, sampleRate: RATE }), decoder: undefined, decoded: 0, decodeErrors: 0 };
      stream.tracks.set(m.track, track);
    }
    let samples: Float32Array;
    try {
      if (m.codec === 'opus') {
        track.decoder ??= new audify.OpusDecoder(RATE, 1);
        const pcm = track.decoder.decode(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength), FRAME * 6);
        samples = new Float32Array(pcm.length >> 1);
        for (let i = 0; i < samples.length; i++) samples[i] = pcm.readInt16LE(i * 2) / 32768;
      } else if (m.codec === 'pcm16') {
        const view = new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength);
        samples = new Float32Array(m.data.byteLength >> 1);
        for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(i * 2, true) / 32768;
      } else {
        return;
      }
    } catch {
      track.decodeErrors++;
      return;
    }
    track.decoded++;
    track.jb.push(m.seq, m.ts, samples, m.at);
  };

  const close = (id: number): void => {
    const stream = streams.get(id);
    if (!stream) return;
    streams.delete(id);
    if (stream.kind === 'input') clearInterval(stream.watchdog);
    else clearInterval(stream.timer);
    try {
      stream.rt.stop();
    } catch {
      // already stopped
    }
    try {
      stream.rt.closeStream();
    } catch {
      // already closed
    }
  };

  const stats = (id: number): OutputStats | undefined => {
    const stream = streams.get(id);
    if (!stream || stream.kind !== 'output') return undefined;
    const tracks: OutputStats['tracks'] = {};
    for (const [trackId, t] of stream.tracks) tracks[trackId] = { decoded: t.decoded, decodeErrors: t.decodeErrors, jitter: t.jb.stats() };
    return { written: stream.written, underruns: stream.underruns, level: stream.level, tracks };
  };

  port.on('message', (m) => {
    if (m.t === 'frame') {
      onFrame(m);
      return;
    }
    if (m.t === 'removeTrack') {
      const stream = streams.get(m.stream);
      if (stream?.kind === 'output') stream.tracks.delete(m.track);
      return;
    }
    try {
      let value: unknown;
      switch (m.t) {
        case 'devices': {
          // The first API that lists anything is the one capture and playback will use.
          let listed: { api: string; devices: ReturnType<typeof toDevice>[] } = { api: '', devices: [] };
          for (const api of m.apis) {
            const rt = new audify.RtAudio(api);
            const list = rt.getDevices();
            if (list.length > 0) {
              listed = { api: rt.getApi(), devices: list.map(toDevice) };
              break;
            }
          }
          value = listed;
          break;
        }
        case 'openInput': value = openInput(m); break;
        case 'openOutput': value = openOutput(m); break;
        case 'close': close(m.stream); value = true; break;
        case 'stats': value = stats(m.stream); break;
        case 'shutdown': for (const id of [...streams.keys()]) close(id); value = true; break;
      }
      port.postMessage({ t: 'reply', id: m.id, ok: true, value });
    } catch (error) {
      const failure = error instanceof Failure ? error : undefined;
      port.postMessage({
        t: 'reply', id: m.id, ok: false, code: failure?.code ?? 'unavailable',
        message: error instanceof Error ? error.message : String(error),
        ...(failure?.available ? { available: failure.available, device: failure.device ?? '' } : {}),
      });
    }
  });
  port.postMessage({ t: 'ready' });
}

/**
 * The worker's source text: the {@link JitterBuffer} class and the body, started with the path of audify's
 * entry file from `workerData`.
 * @internal
 */
export function audioWorkerSource(): string {
  // tsx (esbuild keepNames) makes class bodies call a `__name` helper that an eval worker does not have.
  return [
    'var __name = (target) => target;',
    `const JitterBuffer = (${JitterBuffer.toString()});`,
    `const { parentPort, workerData } = require('node:worker_threads');`,
    `(${audioWorkerMain.toString()})(parentPort, workerData.audifyPath, require, JitterBuffer);`,
  ].join('\n');
}
