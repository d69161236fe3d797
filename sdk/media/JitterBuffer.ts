/**
 * An adaptive jitter buffer for one remote audio track.
 *
 * Pure TypeScript with no imports and no browser APIs, because the class is also shipped, as source text
 * (`JitterBuffer.toString()`), into the AudioWorklet that mixes remote audio: everything it uses lives inside
 * the class body.
 * @module
 */

/** Tuning of a jitter buffer (one per remote audio track). Every field has a default that suits 20 ms voice frames on a LAN. */
export interface JitterBufferOptions {
  /** Samples per second of the PCM pushed and pulled. Default 48000. */
  sampleRate?: number;
  /** Nominal samples per frame, used for frames that never arrived. Default 960 (20 ms at 48 kHz). */
  frameSamples?: number;
  /** Target delay before any jitter was measured (ms). Default 40. */
  initialMs?: number;
  /** Smallest target delay (ms). Default 20. */
  minMs?: number;
  /** Largest target delay (ms). Default 200. */
  maxMs?: number;
  /** The target is `frame duration + jitterFactor × jitter`. Default 4. */
  jitterFactor?: number;
  /** How fast the target may fall once the network calms down (ms of target per second). Default 5. */
  shrinkMsPerSecond?: number;
  /** How far above the target the buffer may run before frames are dropped even mid-speech (ms). Default 50. */
  catchUpMs?: number;
  /** Length of the fades that hide splices and gaps (samples). Default 96 (2 ms at 48 kHz). */
  fadeSamples?: number;
}

/** Counters and state of a jitter buffer. Counters only grow (until the buffer is reset). */
export interface JitterBufferStats {
  /** Audio waiting to be played, from the playout point to the end of the newest frame (ms). */
  bufferedMs: number;
  /** The delay the buffer aims at now (ms). */
  targetMs: number;
  /** Interarrival jitter, RFC 3550 style (ms). */
  jitterMs: number;
  /** Frames pushed. */
  received: number;
  /** Frames played out. */
  played: number;
  /** Frames that arrived after their playout point had passed, dropped. */
  late: number;
  /** Frames that arrived twice, dropped. */
  duplicates: number;
  /** Frames that never arrived by their playout point (concealed with silence). */
  lost: number;
  /** Frames dropped to bring the delay back down to the target. */
  dropped: number;
  /** Times the buffer ran dry while playing (the sender paused, or the network stalled). */
  underruns: number;
  /** `true` while playing out; `false` while (re)buffering up to the target. */
  playing: boolean;
}

/**
 * Adaptive jitter buffer for one remote audio track of fixed-length PCM frames (20 ms mono Float32 by
 * default), keyed by the track's u32 frame sequence (which wraps).
 *
 * {@link JitterBuffer.push} frames as they arrive, in any order; {@link JitterBuffer.pull} the samples the
 * mixer needs at the audio clock's pace. Playout starts (and restarts after an underrun) once the target delay
 * is buffered. The target follows the measured interarrival jitter: it grows at once when jitter rises or the
 * buffer runs dry, and falls slowly when the network calms down. The buffer drifts toward the target by
 * inserting or dropping whole frames of silence, so speech is not touched; when it runs ahead by a lot it drops
 * speech frames too, with a crossfade. Missing frames are concealed with a short fade to silence.
 *
 * Self-contained by design (no imports, no module-level helpers): the audio mixer ships its source text into
 * an AudioWorklet.
 *
 * @example
 * ```ts
 * const jb = new JitterBuffer();
 * jb.push(frame.sequence, frame.timestamp, pcm, performance.now());
 * const samples = jb.pull(128); // in the audio callback
 * ```
 */
export class JitterBuffer {
  /** Samples per second. */
  readonly sampleRate: number;
  readonly #frameSamples: number;
  readonly #initialMs: number;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #k: number;
  readonly #shrinkPerMs: number;
  readonly #catchUpMs: number;
  readonly #fade: number;
  /** Frames waiting, by sequence. `quiet` lets the buffer resize itself in pauses, where nobody hears it. */
  #frames = new Map<number, { samples: Float32Array; quiet: boolean }>();
  /** Sequence of the frame at the playout point (undefined until the first frame). */
  #next: number | undefined;
  /** Samples of frame `#next` already played. */
  #offset = 0;
  /** Samples left of the stand-in for a frame that is missing or was inserted to grow the delay. */
  #filler = 0;
  #fillerLost = false;
  /** One inserted frame of silence per frame pushed, so a stalled sender does not make playout wait forever. */
  #mayInsert = false;
  /** Ran dry since the last push: if frames come back soon, it was a stall and the target was too small. */
  #starved = false;
  #playing = false;
  #newest: number | undefined;
  #nominal: number;
  #jitterMs = 0;
  #prevTransitMs: number | undefined;
  #lastArrivalMs: number | undefined;
  #targetMs: number;
  /** Last sample played, so silence after it decays instead of clicking. */
  #last = 0;
  /** Samples of fade-in still to apply after silence (counts down). */
  #fadeIn = 0;
  /** The natural continuation of what was played before a splice, faded out under the new audio. */
  #xfade: Float32Array | undefined;
  #xfadePos = 0;
  #prevQuiet = true;
  /** Consecutive pushes far outside the sequence window: the sender restarted its numbering. */
  #outOfWindow = 0;
  #received = 0;
  #played = 0;
  #late = 0;
  #duplicates = 0;
  #lost = 0;
  #dropped = 0;
  #underruns = 0;

  /** Makes an empty buffer; see {@link JitterBufferOptions} for the defaults. */
  constructor(options: JitterBufferOptions = {}) {
    this.sampleRate = options.sampleRate ?? 48000;
    this.#frameSamples = options.frameSamples ?? Math.round(this.sampleRate / 50);
    this.#nominal = this.#frameSamples;
    this.#minMs = options.minMs ?? 20;
    this.#maxMs = Math.max(this.#minMs, options.maxMs ?? 200);
    this.#initialMs = Math.min(this.#maxMs, Math.max(this.#minMs, options.initialMs ?? 40));
    this.#k = options.jitterFactor ?? 4;
    this.#shrinkPerMs = (options.shrinkMsPerSecond ?? 5) / 1000;
    this.#catchUpMs = options.catchUpMs ?? 50;
    this.#fade = Math.max(1, options.fadeSamples ?? Math.round(this.sampleRate / 500));
    this.#targetMs = this.#initialMs;
  }

  /** The delay the buffer aims at now (ms). */
  get targetMs(): number {
    return this.#targetMs;
  }

  /** Audio waiting to be played (ms). */
  get bufferedMs(): number {
    return (this.#bufferedSamples() * 1000) / this.sampleRate;
  }

  /** A snapshot of the counters and state. */
  stats(): JitterBufferStats {
    return {
      bufferedMs: this.bufferedMs, targetMs: this.#targetMs, jitterMs: this.#jitterMs,
      received: this.#received, played: this.#played, late: this.#late, duplicates: this.#duplicates,
      lost: this.#lost, dropped: this.#dropped, underruns: this.#underruns, playing: this.#playing,
    };
  }

  /** Forgets every frame, counter and measurement (a new stream starts). */
  reset(): void {
    this.#restart();
    this.#jitterMs = 0;
    this.#prevTransitMs = undefined;
    this.#lastArrivalMs = undefined;
    this.#targetMs = this.#initialMs;
    this.#xfade = undefined;
    this.#starved = false;
    this.#mayInsert = false;
    this.#nominal = this.#frameSamples;
    this.#last = 0;
    this.#fadeIn = 0;
    this.#prevQuiet = true;
    this.#received = this.#played = this.#late = this.#duplicates = this.#lost = this.#dropped = this.#underruns = 0;
  }

  /**
   * Adds a frame.
   * @param sequence - the track's frame sequence (u32; wraps from 2^32−1 to 0).
   * @param captureTimestampUs - capture time at the sender (µs, any epoch that is the same for the whole track).
   * @param samples - the decoded PCM; kept (not copied), so do not reuse it.
   * @param arrivalMs - when the frame arrived (ms, any clock that is the same for every push).
   * @returns `false` when the frame was dropped (late or duplicate).
   */
  push(sequence: number, captureTimestampUs: number, samples: Float32Array, arrivalMs: number): boolean {
    const seq = sequence >>> 0;
    this.#received++;
    this.#measure(captureTimestampUs / 1000, arrivalMs);
    if (samples.length > 0) this.#nominal = samples.length;

    // Sequence numbers are compared as signed 32-bit distances (RFC 1982), so the wrap at 2^32 is invisible.
    if (this.#next !== undefined) {
      const ahead = (seq - this.#next) | 0;
      const window = Math.ceil((3 * this.sampleRate) / this.#nominal);
      if (ahead > window || ahead < -window) {
        // One stray frame is late; several in a row mean the sender starts over (new numbering).
        if (++this.#outOfWindow < 3 && ahead < 0) {
          this.#late++;
          return false;
        }
        this.#restart();
      } else {
        this.#outOfWindow = 0;
        const playing = this.#playing && (this.#offset > 0 || this.#filler > 0);
        if (ahead < 0 || (ahead === 0 && playing)) {
          this.#late++;
          return false;
        }
      }
    }
    if (this.#frames.has(seq)) {
      this.#duplicates++;
      return false;
    }
    let sum = 0;
    for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
    // −50 dBov: the level the publisher's voice detector also calls silence.
    const quiet = samples.length === 0 || Math.sqrt(sum / samples.length) < 0.00316;
    this.#frames.set(seq, { samples, quiet });
    this.#mayInsert = true;
    if (this.#newest === undefined || ((seq - this.#newest) | 0) > 0) this.#newest = seq;
    this.#bound();
    return true;
  }

  /**
   * Takes the next `n` samples for the mixer: silence while buffering or for frames that never arrived.
   * @param out - where to write them (its first `n` samples are overwritten); a new array by default.
   */
  pull(n: number, out: Float32Array = new Float32Array(n)): Float32Array {
    let i = 0;
    while (i < n) {
      if (!this.#playing && !this.#tryStart()) {
        i = this.#silence(out, i, n);
        break;
      }
      const next = this.#next!;
      if (this.#filler > 0) {
        const count = Math.min(n - i, this.#filler);
        i = this.#silence(out, i, i + count);
        this.#filler -= count;
        // A stand-in for a lost frame takes its place; an inserted one only delays the frame that is here.
        if (this.#filler === 0 && this.#fillerLost) this.#advance();
        continue;
      }
      const frame = this.#frames.get(next);
      if (!frame) {
        if (this.#newest === undefined || ((this.#newest - next) | 0) <= 0) {
          // Nothing newer has arrived: the stream stalled or the sender paused. Rebuffer to the target.
          this.#underruns++;
          this.#playing = false;
          this.#starved = true;
          i = this.#silence(out, i, n);
          break;
        }
        // A later frame is here, so this one is lost (or very late): play a frame of fading silence instead.
        this.#lost++;
        this.#filler = this.#nominal;
        this.#fillerLost = true;
        continue;
      }
      if (this.#offset === 0 && this.#resize(frame.quiet)) continue;
      const samples = frame.samples;
      const count = Math.min(n - i, samples.length - this.#offset);
      for (let j = 0; j < count; j++) {
        let x = samples[this.#offset + j]!;
        if (this.#xfade) {
          const w = this.#xfadePos / this.#fade;
          x = x * w + (this.#xfade[this.#xfadePos] ?? 0) * (1 - w);
          if (++this.#xfadePos >= this.#fade || this.#xfadePos >= this.#xfade.length) this.#xfade = undefined;
        } else if (this.#fadeIn > 0) {
          x *= 1 - this.#fadeIn / this.#fade;
          this.#fadeIn--;
        }
        out[i + j] = x;
      }
      i += count;
      this.#offset += count;
      if (count > 0) this.#last = out[i - 1]!;
      if (this.#offset >= samples.length) {
        this.#prevQuiet = frame.quiet;
        this.#frames.delete(next);
        this.#played++;
        this.#advance();
      }
    }
    return out;
  }

  /** RFC 3550 §6.4.1 jitter: mean deviation of the change in transit time, in ms. */
  #measure(captureMs: number, arrivalMs: number): void {
    const transit = arrivalMs - captureMs;
    if (this.#prevTransitMs !== undefined) {
      const d = Math.abs(transit - this.#prevTransitMs);
      // A jump of a second or more is a clock or stream change, not network jitter.
      if (d < 1000) this.#jitterMs += (d - this.#jitterMs) / 16;
    }
    this.#prevTransitMs = transit;
    const frameMs = (this.#nominal * 1000) / this.sampleRate;
    // A stall (frames resume within a second) grows the target by half a frame; the end of a stream (the sender
    // muted, left) does not, or every mute would add delay.
    if (this.#starved && this.#lastArrivalMs !== undefined && arrivalMs - this.#lastArrivalMs < 1000) {
      this.#targetMs = Math.min(this.#maxMs, this.#targetMs + frameMs / 2);
    }
    this.#starved = false;
    const desired = Math.min(this.#maxMs, Math.max(this.#minMs, frameMs + this.#k * this.#jitterMs));
    if (desired > this.#targetMs) {
      this.#targetMs = desired;
    } else if (this.#lastArrivalMs !== undefined && arrivalMs > this.#lastArrivalMs) {
      this.#targetMs = Math.max(desired, this.#targetMs - (arrivalMs - this.#lastArrivalMs) * this.#shrinkPerMs);
    }
    if (this.#lastArrivalMs === undefined || arrivalMs > this.#lastArrivalMs) this.#lastArrivalMs = arrivalMs;
  }

  /**
   * Starts playout once the target is buffered, at the oldest frame here (frames skipped since the last playout
   * point never came: lost). A backlog beyond the target is dropped rather than played late.
   */
  #tryStart(): boolean {
    const oldest = this.#oldest();
    if (oldest === undefined || this.bufferedMs < this.#targetMs) return false;
    if (this.#next !== undefined) this.#lost += Math.max(0, (oldest - this.#next) | 0);
    this.#next = oldest;
    this.#offset = 0;
    this.#filler = 0;
    this.#playing = true;
    const frameMs = (this.#nominal * 1000) / this.sampleRate;
    if (this.bufferedMs > this.#targetMs + this.#catchUpMs) {
      while (this.bufferedMs > this.#targetMs + frameMs && this.#frames.size > 1) this.#drop();
    }
    this.#fadeIn = this.#fade;
    this.#xfade = undefined;
    return true;
  }

  #oldest(): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.#frames.keys()) if (oldest === undefined || ((seq - oldest) | 0) < 0) oldest = seq;
    return oldest;
  }

  /**
   * At a frame boundary, nudges the delay toward the target: inserts a frame of silence or drops a quiet frame
   * during a pause, or drops frames of speech (crossfaded) when far ahead. Returns `true` when it changed what
   * plays next.
   */
  #resize(quiet: boolean): boolean {
    const buffered = this.bufferedMs;
    const frameMs = (this.#nominal * 1000) / this.sampleRate;
    if (buffered + frameMs < this.#targetMs && this.#prevQuiet && quiet && this.#mayInsert) {
      this.#filler = this.#nominal;
      this.#fillerLost = false;
      this.#mayInsert = false;
      return true;
    }
    if (buffered > this.#targetMs + frameMs && quiet) {
      this.#drop();
      return true;
    }
    if (buffered > this.#targetMs + this.#catchUpMs) {
      const first = this.#frames.get(this.#next!);
      while (this.bufferedMs > this.#targetMs + frameMs && this.#frames.size > 1) this.#drop();
      if (first) {
        this.#xfade = first.samples;
        this.#xfadePos = 0;
      }
      return true;
    }
    return false;
  }

  /** Drops the frame at the playout point. */
  #drop(): void {
    if (this.#frames.delete(this.#next!)) this.#dropped++;
    else this.#lost++;
    this.#next = (this.#next! + 1) >>> 0;
    this.#offset = 0;
  }

  #advance(): void {
    this.#next = (this.#next! + 1) >>> 0;
    this.#offset = 0;
  }

  /** Writes silence into `out[from..to)`, decaying from the last sample played so it does not click. */
  #silence(out: Float32Array, from: number, to: number): number {
    let x = this.#last;
    for (let i = from; i < to; i++) {
      x *= 0.97;
      out[i] = x;
    }
    this.#last = Math.abs(x) < 1e-6 ? 0 : x;
    if (to > from) this.#fadeIn = this.#fade;
    return to;
  }

  #bufferedSamples(): number {
    // While buffering, what counts starts at the oldest frame here: the holes before it will be skipped.
    const seq = this.#playing ? this.#next : this.#oldest();
    if (this.#newest === undefined || seq === undefined) return this.#filler;
    const span = ((this.#newest - seq) | 0) + 1;
    let total = 0;
    for (let k = 0; k < span; k++) total += this.#frames.get((seq + k) >>> 0)?.samples.length ?? this.#nominal;
    // A stand-in for a lost frame replaces it; an inserted one comes on top.
    if (this.#filler > 0) total += this.#filler - (this.#fillerLost ? this.#nominal : 0);
    return Math.max(0, total - this.#offset);
  }

  /** Keeps memory bounded when nobody pulls (a suspended AudioContext): drops the oldest beyond twice the cap. */
  #bound(): void {
    const cap = Math.ceil((2 * this.#maxMs * this.sampleRate) / 1000 / this.#nominal) + 2;
    while (this.#frames.size > cap) {
      const oldest = this.#oldest();
      this.#frames.delete(oldest!);
      this.#dropped++;
      if (this.#next !== undefined && ((oldest! - this.#next) | 0) >= 0) {
        this.#next = (oldest! + 1) >>> 0;
        this.#offset = 0;
        this.#filler = 0;
      }
    }
  }

  /** The sender renumbered its frames: start again as if new, keeping the counters and the jitter estimate. */
  #restart(): void {
    this.#frames.clear();
    this.#next = undefined;
    this.#newest = undefined;
    this.#offset = 0;
    this.#filler = 0;
    this.#playing = false;
    this.#outOfWindow = 0;
  }
}
