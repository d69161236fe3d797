/**
 * Active-speaker detection from the audio level and voice flag every audio packet carries.
 *
 * Pure TypeScript with no browser APIs and no session: the SDK feeds it the packets it receives (and its own
 * microphone's level), and the relay can feed it the headers it forwards to decide whose video goes first.
 * @module
 */
import { TypedEmitter } from '../TypedEmitter.js';

/** Tuning of a {@link SpeakerDetector}. */
export interface SpeakerDetectorOptions {
  /** How long someone must speak without a break before they can take over (ms). Default 300. */
  takeoverMs?: number;
  /** How long the current speaker keeps the floor after going quiet, unless someone is clearly louder (ms). Default 1000. */
  holdMs?: number;
  /** How much louder (dB) a challenger must be, for `takeoverMs`, to take over from someone still holding. Default 6. */
  marginDb?: number;
  /** A pause shorter than this does not end a run of speech (between words) (ms). Default 250. */
  gapMs?: number;
  /** Time constant of the level smoothing (ms). Default 200. */
  smoothingMs?: number;
  /** Packets quieter than this audio level (0..127, −dBov) are not speech even when flagged as voice. Default 127 (no limit). */
  speechLevel?: number;
}

/** Events of a {@link SpeakerDetector}. */
export type SpeakerDetectorEvents = {
  /** The active speaker changed. */
  changed: [current: string | undefined, previous: string | undefined];
};

/** What the detector knows about one participant. */
interface Talker {
  /** Start of the current run of speech. */
  runStartMs: number;
  /** Last speech packet, or −∞. */
  lastSpeechMs: number;
  /** Smoothed loudness of their speech, dBov (0 loudest). */
  levelDb: number;
  /** Since when they have been clearly louder than the current speaker, or undefined. */
  louderSinceMs: number | undefined;
  /** When they last became the active speaker, or −∞. */
  lastActiveMs: number;
}

/**
 * Decides who the active speaker is, with smoothing and hysteresis so the choice does not flicker:
 *
 * * Someone becomes a candidate after speaking ~300 ms without a break (so a cough or a "yes" does not switch).
 * * The active speaker keeps the floor while speaking and for ~1 s after going quiet; within that time a
 *   candidate takes over only by being clearly louder (6 dB) for ~300 ms.
 * * Once the hold expires, the loudest candidate takes over. With nobody speaking, the last speaker stays
 *   active ({@link SpeakerDetector.current} is "the last person who spoke", like a conference UI shows).
 *
 * Time comes only from the `nowMs` you pass (any monotonic clock in ms), so it is deterministic to test and
 * works the same in a browser, in Node and in the relay.
 *
 * @example
 * ```ts
 * const speakers = new SpeakerDetector();
 * speakers.on('changed', (id) => grid.highlight(id));
 * track.on('frame', (f) => speakers.update(track.participantId, f.audioLevel, f.voice, performance.now()));
 * ```
 */
export class SpeakerDetector extends TypedEmitter<SpeakerDetectorEvents> {
  readonly #takeoverMs: number;
  readonly #holdMs: number;
  readonly #marginDb: number;
  readonly #gapMs: number;
  readonly #smoothingMs: number;
  readonly #speechLevel: number;
  readonly #talkers = new Map<string, Talker>();
  #current: string | undefined;

  /** Makes a detector with nobody speaking; see {@link SpeakerDetectorOptions} for the defaults. */
  constructor(options: SpeakerDetectorOptions = {}) {
    super();
    this.#takeoverMs = options.takeoverMs ?? 300;
    this.#holdMs = options.holdMs ?? 1000;
    this.#marginDb = options.marginDb ?? 6;
    this.#gapMs = options.gapMs ?? 250;
    this.#smoothingMs = Math.max(1, options.smoothingMs ?? 200);
    this.#speechLevel = options.speechLevel ?? 127;
  }

  /** The active speaker's participant id, or `undefined` before anyone spoke (or after they were removed). */
  current(): string | undefined {
    return this.#current;
  }

  /**
   * Feeds one audio packet's level.
   * @param participantId - who sent it (for your own microphone, your own participant id).
   * @param audioLevel - 0..127, −dBov (0 loudest, 127 silence), as in the media header.
   * @param voice - the sender's voice detector flagged it as speech.
   * @param nowMs - when it arrived, on a monotonic clock in ms (`performance.now()`, or the relay's clock).
   */
  update(participantId: string, audioLevel: number, voice: boolean, nowMs: number): void {
    let talker = this.#talkers.get(participantId);
    if (!talker) {
      talker = { runStartMs: nowMs, lastSpeechMs: -Infinity, levelDb: -127, louderSinceMs: undefined, lastActiveMs: -Infinity };
      this.#talkers.set(participantId, talker);
    }
    const level = Math.min(127, Math.max(0, Number.isFinite(audioLevel) ? audioLevel : 127));
    if (voice && level <= this.#speechLevel) {
      const sincePrevious = nowMs - talker.lastSpeechMs;
      if (sincePrevious > this.#gapMs) {
        talker.runStartMs = nowMs;
        talker.levelDb = 0 - level;
      } else {
        // Time-based smoothing, so the result does not depend on the packet rate (10, 20 or 60 ms frames).
        const a = 1 - Math.exp(-Math.max(0, sincePrevious) / this.#smoothingMs);
        talker.levelDb += a * (0 - level - talker.levelDb);
      }
      talker.lastSpeechMs = Math.max(talker.lastSpeechMs, nowMs);
    }
    this.tick(nowMs);
  }

  /**
   * Re-evaluates with time passing and no packet (a speaker who stopped sending altogether, e.g. muted).
   * {@link SpeakerDetector.update} calls it; call it yourself on a timer if packets may stop entirely.
   */
  tick(nowMs: number): void {
    const current = this.#current === undefined ? undefined : this.#talkers.get(this.#current);
    const holding = current !== undefined && nowMs - current.lastSpeechMs <= this.#holdMs;
    let best: [string, Talker] | undefined;
    for (const entry of this.#talkers) {
      const [id, talker] = entry;
      if (id === this.#current) continue;
      const talking = nowMs - talker.lastSpeechMs <= this.#gapMs;
      if (holding) {
        // Against a speaker who holds the floor, only being clearly louder for takeoverMs counts.
        if (!talking || talker.levelDb < current.levelDb + this.#marginDb) {
          talker.louderSinceMs = undefined;
          continue;
        }
        talker.louderSinceMs ??= nowMs;
        // Measured to their last speech, not to now: a 200 ms burst must not count the pause after it.
        if (talker.lastSpeechMs - talker.louderSinceMs < this.#takeoverMs) continue;
      } else if (!talking || talker.lastSpeechMs - talker.runStartMs < this.#takeoverMs) {
        continue;
      }
      if (!best || talker.levelDb > best[1].levelDb) best = entry;
    }
    if (best) this.#switchTo(best[0], nowMs);
  }

  /**
   * `true` when `participantId` is speaking now (spoke within the last ~250 ms), whether active or not.
   * @param nowMs - the same clock as {@link SpeakerDetector.update}.
   */
  isSpeaking(participantId: string, nowMs: number): boolean {
    const talker = this.#talkers.get(participantId);
    return talker !== undefined && nowMs - talker.lastSpeechMs <= this.#gapMs;
  }

  /** Smoothed loudness of `participantId`'s latest speech in dBov (0 loudest, −127 silence), or `undefined`. */
  levelDb(participantId: string): number | undefined {
    return this.#talkers.get(participantId)?.levelDb;
  }

  /**
   * Everyone known, most relevant first: the active speaker, then earlier active speakers from the most
   * recent, then the others by how recently they spoke. This is the order in which the relay forwards video
   * when it cannot forward everything.
   */
  ranking(): string[] {
    return [...this.#talkers.entries()]
      .sort(([a, x], [b, y]) =>
        (a === this.#current ? -1 : 0) - (b === this.#current ? -1 : 0) ||
        y.lastActiveMs - x.lastActiveMs || y.lastSpeechMs - x.lastSpeechMs || 0)
      .map(([id]) => id);
  }

  /** Forgets a participant (they left). If they were active, nobody is until someone speaks. */
  remove(participantId: string): void {
    if (!this.#talkers.delete(participantId)) return;
    if (this.#current === participantId) {
      this.#current = undefined;
      this.emit('changed', undefined, participantId);
    }
  }

  #switchTo(id: string, nowMs: number): void {
    const previous = this.#current;
    this.#current = id;
    const talker = this.#talkers.get(id)!;
    talker.lastActiveMs = nowMs;
    for (const other of this.#talkers.values()) other.louderSinceMs = undefined;
    this.emit('changed', id, previous);
  }
}
