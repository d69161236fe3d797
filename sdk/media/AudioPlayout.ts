/**
 * Browser playout of remote audio: decode each remote microphone track, jitter-buffer it and mix everything
 * into one AudioWorklet node on the session's AudioContext. Touches browser globals only when called.
 * A session loads it when the first remote microphone appears (or `startAudio()` is called): the mixer's
 * worklet source, built from the JitterBuffer class's own text and handed to the browser as a Blob URL,
 * travels inside this module's chunk, so it costs no request of its own and nothing before audio starts.
 * @module
 */
import type { Codec } from '../protocol/index.js';
import type { RemoteFrame, RemoteTrack } from '../Track.js';
import { TypedEmitter } from '../TypedEmitter.js';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from './JitterBuffer.js';
import { LinearResampler, loadWorklet, pcm16ToFloat, toMono } from './audioShared.js';
import { decodableCodecs } from './capabilities.js';
import type { MediaFallbacks } from './types.js';

/**
 * Where the playout stands:
 * `idle` (not started), `running` (audio is heard), `blocked` (the browser keeps the AudioContext suspended
 * until a user gesture: call {@link AudioPlayout.start} again from a click), `closed`.
 */
export type AudioPlayoutState = 'idle' | 'running' | 'blocked' | 'closed';

/** Events of an {@link AudioPlayout}. */
export type AudioPlayoutEvents = {
  /** The state changed; `blocked` means the app should ask for a click and call `start()` from it. */
  stateChanged: [state: AudioPlayoutState, previous: AudioPlayoutState];
  /** Frames of `trackId` arrive in a codec this browser cannot decode (e.g. Opus without WebCodecs); they are dropped. */
  undecodable: [trackId: string, codec: Codec];
  /** The audio graph could not be built (AudioWorklet refused, context closed by the browser…). */
  error: [error: Error];
};

/** Options of an {@link AudioPlayout}. */
export interface AudioPlayoutOptions {
  /** Force fallbacks: `noWebCodecsDecode` leaves only PCM decodable. */
  fallbacks?: MediaFallbacks;
  /** Tuning of every track's jitter buffer. */
  jitter?: JitterBufferOptions;
  /** Output device (`MediaDeviceInfo.deviceId` of an `audiooutput`) to start on. */
  sinkId?: string;
  /** How often the mixer reports jitter-buffer stats (ms). Default 250. */
  statsIntervalMs?: number;
}

/** Playout counters of one remote audio track: its jitter buffer's, plus decoding. */
export interface AudioTrackStats extends JitterBufferStats {
  /** Frames that reached the playout. */
  framesReceived: number;
  /** Frames decoded and handed to the mixer. */
  framesDecoded: number;
  /** Frames the decoder rejected. */
  decodeErrors: number;
  /** Frames dropped because their codec cannot be decoded here. */
  undecodable: number;
}

/** The sample rate lanconf audio travels at. */
const RATE = 48000;

/** `AudioContext.setSinkId` and the `sinkId` option (Chromium ≥ 110; not in TypeScript's DOM types yet). */
type SinkContext = AudioContext & { setSinkId?: (sinkId: string) => Promise<void> };

/** The mixer processor: one jitter buffer per track, summed and soft-clipped. Runs in the AudioWorklet scope. */
const MIXER_PROCESSOR = `
class LanconfMixer extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const o = (options && options.processorOptions) || {};
    this.jitter = o.jitter || {};
    this.statsEvery = Math.max(1, Math.round(((o.statsIntervalMs || 250) / 1000) * sampleRate / 128));
    this.tracks = new Map();
    this.scratch = new Float32Array(128);
    this.quanta = 0;
    this.closed = false;
    this.port.onmessage = (e) => this.onMessage(e.data);
  }
  onMessage(m) {
    if (m.t === 'frame') {
      let jb = this.tracks.get(m.id);
      if (!jb) this.tracks.set(m.id, (jb = new JitterBuffer(Object.assign({}, this.jitter, { sampleRate }))));
      jb.push(m.seq, m.ts, m.pcm, m.at);
    } else if (m.t === 'remove') {
      this.tracks.delete(m.id);
    } else if (m.t === 'close') {
      this.closed = true;
    }
  }
  process(inputs, outputs) {
    const channels = outputs[0] || [];
    const out = channels[0];
    if (!out) return !this.closed;
    if (this.scratch.length !== out.length) this.scratch = new Float32Array(out.length);
    const scratch = this.scratch;
    for (const jb of this.tracks.values()) {
      jb.pull(out.length, scratch);
      for (let i = 0; i < out.length; i++) out[i] += scratch[i];
    }
    // Soft clipping above 0.8: talkers overlapping do not wrap around or hard-clip; slope 1 at the knee.
    for (let i = 0; i < out.length; i++) {
      const x = out[i];
      const a = x < 0 ? -x : x;
      if (a > 0.8) out[i] = (x < 0 ? -1 : 1) * (0.8 + 0.2 * Math.tanh((a - 0.8) / 0.2));
    }
    for (let c = 1; c < channels.length; c++) channels[c].set(out);
    if (++this.quanta % this.statsEvery === 0 && this.tracks.size > 0) {
      const stats = {};
      for (const [id, jb] of this.tracks) stats[id] = jb.stats();
      this.port.postMessage({ t: 'stats', stats });
    }
    return !this.closed;
  }
}
registerProcessor('lanconf-mixer', LanconfMixer);
`;

/**
 * The AudioWorklet module of the mixer: the {@link JitterBuffer} class, shipped as its own source text, and the
 * processor. Built at run time so no separate file needs serving and any bundle of the SDK keeps working.
 * @internal
 */
export function mixerWorkletSource(): string {
  // Bundlers that keep function names (esbuild's keepNames, which tsx uses) call a `__name` helper from inside
  // class bodies; the worklet scope has none, so give it a harmless one.
  return `var __name = (target) => target;\nconst JitterBuffer = (${JitterBuffer.toString()});\n${MIXER_PROCESSOR}`;
}

/** One remote track being played. */
interface PlayoutTrack {
  track: RemoteTrack;
  onFrame: (frame: RemoteFrame) => void;
  onEnded: () => void;
  decoder: AudioDecoder | undefined;
  /** Frames inside the decoder, oldest first (Opus decodes one frame out per frame in, in order). */
  pending: Array<{ sequence: number; timestamp: number; arrivalMs: number }>;
  /** To the context's rate, when it is not 48 kHz. */
  resampler: LinearResampler | undefined;
  /** From a decoder's output rate, when it is not 48 kHz. */
  decodedResampler: LinearResampler | undefined;
  framesReceived: number;
  framesDecoded: number;
  decodeErrors: number;
  undecodable: number;
  reported: Set<Codec>;
}

/** The built audio graph. */
interface Graph {
  context: SinkContext;
  node: AudioWorkletNode;
  analyser: AnalyserNode;
}

/**
 * Plays every remote microphone track of a session: decodes each (WebCodecs Opus, or PCM 16-bit by hand),
 * runs an adaptive jitter buffer per track inside one AudioWorklet mixer, and plays the mix on the session's
 * AudioContext (48 kHz, `latencyHint: 'interactive'`), created on first need.
 *
 * Browsers let an AudioContext make sound only after a user gesture. The app calls `session.startAudio()`
 * (which calls {@link AudioPlayout.start}) from a click or key handler; until then, or when the browser
 * still refuses, the state is `blocked` and a `stateChanged` event says so. A blocked playout also resumes by
 * itself on the next click or key press anywhere in the page.
 *
 * A browser session has one already, and plays every remote microphone through it (`session.startAudio()`,
 * `session.setAudioOutput()`). Make one of your own to play chosen tracks somewhere else as well: another
 * output device, or your own Web Audio graph through {@link AudioPlayout.context}.
 *
 * @example
 * ```ts
 * import { AudioPlayout } from 'lanconf';
 * // The presenter's voice on the room's loudspeaker too.
 * const playout = new AudioPlayout({ sinkId: loudspeakerId });
 * playout.on('stateChanged', (state) => (playButton.hidden = state !== 'blocked'));
 * playButton.onclick = () => playout.start();   // browsers wait for a user gesture
 * session.on('trackPublished', (track) => {
 *   if (track.kind === 'microphone' && track.participantId === presenterId) playout.addTrack(track);
 * });
 * ```
 */
export class AudioPlayout extends TypedEmitter<AudioPlayoutEvents> {
  readonly #fallbacks: MediaFallbacks;
  readonly #jitter: JitterBufferOptions;
  readonly #statsIntervalMs: number;
  readonly #tracks = new Map<string, PlayoutTrack>();
  readonly #stats = new Map<string, JitterBufferStats>();
  #sinkId: string | undefined;
  #state: AudioPlayoutState = 'idle';
  #startRequested = false;
  #graph: Promise<Graph> | undefined;
  #ready: Graph | undefined;
  #opus: Promise<boolean> | undefined;
  #opusDecodable: boolean | undefined;
  #levelBuffer: Float32Array<ArrayBuffer> | undefined;
  #unlock: (() => void) | undefined;

  /** Makes a playout; nothing touches Web Audio until a track is added or {@link AudioPlayout.start} is called. */
  constructor(options: AudioPlayoutOptions = {}) {
    super();
    this.#fallbacks = options.fallbacks ?? {};
    this.#jitter = options.jitter ?? {};
    this.#sinkId = options.sinkId;
    this.#statsIntervalMs = options.statsIntervalMs ?? 250;
  }

  /** Where the playout stands. */
  get state(): AudioPlayoutState {
    return this.#state;
  }

  /** The AudioContext, once created (for apps that add their own nodes). */
  get context(): AudioContext | undefined {
    return this.#ready?.context;
  }

  /**
   * Creates and resumes the AudioContext. Call it from a user gesture (click, key press): browsers keep audio
   * suspended until one. Resolves either way; when the browser still refuses, the state becomes `blocked`.
   * @throws `Error` when the playout is closed, or the audio graph cannot be built.
   */
  async start(): Promise<void> {
    if (this.#state === 'closed') throw new Error('the audio playout is closed');
    this.#startRequested = true;
    const { context } = await this.#build();
    if (context.state !== 'running') {
      // resume() stays pending (it does not reject) while the autoplay policy says no.
      await Promise.race([context.resume().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 300))]);
    }
    this.#syncState();
  }

  /**
   * Plays `track` (a remote `microphone` track) from now on. Its frames are decoded here and mixed with the
   * others. Tracks that end are removed by themselves.
   * @throws `TypeError` for a video track; `Error` when the playout is closed.
   */
  addTrack(track: RemoteTrack): void {
    if (this.#state === 'closed') throw new Error('the audio playout is closed');
    if (track.kind !== 'microphone') throw new TypeError(`AudioPlayout plays microphone tracks, not ${track.kind}`);
    if (this.#tracks.has(track.id) || track.ended) return;
    const entry: PlayoutTrack = {
      track, onFrame: (frame) => this.#onFrame(entry, frame), onEnded: () => this.removeTrack(track.id),
      decoder: undefined, pending: [], resampler: undefined, decodedResampler: undefined,
      framesReceived: 0, framesDecoded: 0, decodeErrors: 0, undecodable: 0, reported: new Set(),
    };
    this.#tracks.set(track.id, entry);
    track.on('frame', entry.onFrame).on('ended', entry.onEnded);
    this.#opus ??= decodableCodecs(this.#fallbacks).then((codecs) => (this.#opusDecodable = codecs.includes('opus')));
    this.#build().catch(() => undefined);
  }

  /** Stops playing a track. */
  removeTrack(trackId: string): void {
    const entry = this.#tracks.get(trackId);
    if (!entry) return;
    this.#tracks.delete(trackId);
    this.#stats.delete(trackId);
    entry.track.off('frame', entry.onFrame).off('ended', entry.onEnded);
    if (entry.decoder && entry.decoder.state !== 'closed') entry.decoder.close();
    this.#ready?.node.port.postMessage({ t: 'remove', id: trackId });
  }

  /**
   * Plays on another output device (`deviceId` of an `audiooutput` from `enumerateDevices()`; `''` is the default).
   * @throws `DOMException` `NotSupportedError` where the browser cannot choose the output of an AudioContext
   *   (no `AudioContext.setSinkId`); the browser's own errors for an unknown device or a refused permission.
   */
  async setOutputDevice(deviceId: string): Promise<void> {
    if (typeof AudioContext === 'undefined' || typeof (AudioContext.prototype as SinkContext).setSinkId !== 'function') {
      throw new DOMException('this browser cannot choose the audio output device (no AudioContext.setSinkId); audio plays on the default device', 'NotSupportedError');
    }
    const context = this.#ready?.context;
    if (context) await context.setSinkId!(deviceId);
    this.#sinkId = deviceId;
  }

  /** RMS (0..1) of the mixed output over the last ~85 ms: what is heard now, for meters and tests. */
  level(): number {
    const analyser = this.#ready?.analyser;
    if (!analyser) return 0;
    const buffer = (this.#levelBuffer ??= new Float32Array(analyser.fftSize));
    analyser.getFloatTimeDomainData(buffer);
    let sum = 0;
    for (let i = 0; i < buffer.length; i++) sum += buffer[i]! * buffer[i]!;
    return Math.sqrt(sum / buffer.length);
  }

  /** Jitter-buffer and decoding counters of a track (the mixer reports every ~250 ms), or `undefined`. */
  stats(trackId: string): AudioTrackStats | undefined {
    const entry = this.#tracks.get(trackId);
    if (!entry) return undefined;
    const jb: JitterBufferStats = this.#stats.get(trackId) ?? {
      bufferedMs: 0, targetMs: 0, jitterMs: 0, received: 0, played: 0, late: 0, duplicates: 0, lost: 0, dropped: 0, underruns: 0, playing: false,
    };
    return { ...jb, framesReceived: entry.framesReceived, framesDecoded: entry.framesDecoded, decodeErrors: entry.decodeErrors, undecodable: entry.undecodable };
  }

  /** Stops every track, closes the AudioContext. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    for (const id of [...this.#tracks.keys()]) this.removeTrack(id);
    this.#setState('closed');
    this.#unlock?.();
    const graph = await this.#graph?.catch(() => undefined);
    if (graph) {
      graph.node.port.postMessage({ t: 'close' });
      graph.node.port.onmessage = null;
      graph.node.disconnect();
      await graph.context.close().catch(() => undefined);
    }
    this.#ready = undefined;
  }

  #build(): Promise<Graph> {
    this.#graph ??= (async () => {
      const options: AudioContextOptions & { sinkId?: string } = { sampleRate: RATE, latencyHint: 'interactive' };
      if (this.#sinkId !== undefined) options.sinkId = this.#sinkId;
      const context: SinkContext = new AudioContext(options);
      try {
        await loadWorklet(context, mixerWorkletSource());
        const node = new AudioWorkletNode(context, 'lanconf-mixer', {
          numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1],
          processorOptions: { jitter: this.#jitter, statsIntervalMs: this.#statsIntervalMs },
        });
        const analyser = new AnalyserNode(context, { fftSize: 4096 });
        node.connect(context.destination);
        node.connect(analyser);
        node.port.onmessage = (event: MessageEvent<{ t: string; stats?: Record<string, JitterBufferStats> }>) => {
          if (event.data.t !== 'stats' || !event.data.stats) return;
          for (const [id, stats] of Object.entries(event.data.stats)) if (this.#tracks.has(id)) this.#stats.set(id, stats);
        };
        context.onstatechange = () => this.#syncState();
        if (this.#state === 'closed') {
          await context.close();
          throw new Error('the audio playout is closed');
        }
        this.#ready = { context, node, analyser };
        this.#syncState();
        return this.#ready;
      } catch (error) {
        await context.close().catch(() => undefined);
        throw error;
      }
    })();
    this.#graph.catch((error: unknown) => {
      this.#graph = undefined; // a later start() may try again
      if (this.#state !== 'closed') this.emit('error', error instanceof Error ? error : new Error(String(error)));
    });
    return this.#graph;
  }

  #syncState(): void {
    if (this.#state === 'closed') return;
    const context = this.#ready?.context;
    if (context?.state === 'running') this.#setState('running');
    else if (this.#startRequested || this.#state === 'running') this.#setState('blocked');
    if (this.#state === 'blocked') this.#armUnlock();
    else this.#unlock?.();
  }

  /** While blocked, the next click or key press in the page resumes the context (that gesture allows it). */
  #armUnlock(): void {
    if (this.#unlock || typeof document === 'undefined') return;
    const events = ['pointerdown', 'keydown', 'touchend'] as const;
    const onGesture = (): void => {
      void this.#ready?.context.resume().then(() => this.#syncState(), () => undefined);
    };
    for (const event of events) document.addEventListener(event, onGesture, { capture: true });
    this.#unlock = () => {
      for (const event of events) document.removeEventListener(event, onGesture, { capture: true });
      this.#unlock = undefined;
    };
  }

  #setState(state: AudioPlayoutState): void {
    if (state === this.#state) return;
    const previous = this.#state;
    this.#state = state;
    this.emit('stateChanged', state, previous);
  }

  #onFrame(entry: PlayoutTrack, frame: RemoteFrame): void {
    if (frame.kind !== 'microphone') return;
    entry.framesReceived++;
    const arrivalMs = performance.now();
    if (frame.codec === 'pcm16') {
      this.#play(entry, pcm16ToFloat(frame.data), frame.sequence, frame.timestamp, arrivalMs);
    } else if (frame.codec === 'opus' && this.#opusDecodable === true) {
      this.#decodeOpus(entry, frame, arrivalMs);
    } else if (frame.codec !== 'opus' || this.#opusDecodable === false) {
      entry.undecodable++;
      if (!entry.reported.has(frame.codec)) {
        entry.reported.add(frame.codec);
        this.emit('undecodable', entry.track.id, frame.codec);
      }
    }
    // else: still finding out whether Opus decodes here; the first frame or two are dropped.
  }

  #decodeOpus(entry: PlayoutTrack, frame: RemoteFrame, arrivalMs: number): void {
    let decoder = entry.decoder;
    if (!decoder || decoder.state === 'closed') {
      entry.pending = [];
      const created: AudioDecoder = new AudioDecoder({
        output: (data) => this.#onDecoded(entry, created, data),
        error: () => {
          // The decoder closes itself on error; the next frame opens a fresh one.
          entry.decodeErrors++;
          if (entry.decoder === created) entry.pending = [];
        },
      });
      created.configure({ codec: 'opus', sampleRate: RATE, numberOfChannels: 1 });
      entry.decoder = decoder = created;
    }
    entry.pending.push({ sequence: frame.sequence, timestamp: frame.timestamp, arrivalMs });
    try {
      decoder.decode(new EncodedAudioChunk({ type: 'key', timestamp: 0, data: frame.data }));
    } catch {
      entry.pending.pop();
      entry.decodeErrors++;
    }
  }

  #onDecoded(entry: PlayoutTrack, decoder: AudioDecoder, data: AudioData): void {
    try {
      // Outputs come in input order, one per Opus packet; their timestamps are the decoder's own count.
      const meta = entry.pending.shift();
      if (!meta || entry.decoder !== decoder || !this.#tracks.has(entry.track.id)) return;
      let samples = toMono(data);
      if (data.sampleRate !== RATE) {
        if (entry.decodedResampler?.from !== data.sampleRate) entry.decodedResampler = new LinearResampler(data.sampleRate, RATE);
        samples = entry.decodedResampler.process(samples);
      }
      this.#play(entry, samples, meta.sequence, meta.timestamp, meta.arrivalMs);
    } finally {
      data.close();
    }
  }

  /** Hands 48 kHz mono PCM to the mixer (resampled first if the context runs at another rate). */
  #play(entry: PlayoutTrack, samples: Float32Array, sequence: number, timestamp: number, arrivalMs: number): void {
    const graph = this.#ready;
    if (!graph) return; // the graph is still being built: these few frames are not heard
    const rate = graph.context.sampleRate;
    if (rate !== RATE) {
      if (entry.resampler?.to !== rate) entry.resampler = new LinearResampler(RATE, rate);
      samples = entry.resampler.process(samples);
    }
    entry.framesDecoded++;
    graph.node.port.postMessage({ t: 'frame', id: entry.track.id, seq: sequence, ts: timestamp, at: arrivalMs, pcm: samples }, [samples.buffer]);
  }
}
