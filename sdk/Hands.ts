/**
 * Raised hands and reactions (`session.hands`): everyone may raise a hand (an ordered queue all see) and
 * send a reaction (one of {@link REACTIONS}, shown for a few seconds); a host may lower anyone's hand.
 * @module
 */
import { REACTIONS, type ClientMessage, type Reaction, type RelayMessage } from './protocol/index.js';

/** What hands and reactions need of their session. @internal */
export interface HandsHost {
  send(message: ClientMessage): void;
  readonly localId: string;
  emit(event: 'handRaised', participantId: string): void;
  emit(event: 'handLowered', participantId: string, by: string | undefined): void;
  emit(event: 'reaction', participantId: string, emoji: Reaction): void;
}

/**
 * The meeting's raised hands, oldest first, and your own hand and reactions.
 *
 * @example
 * ```ts
 * session.on('handRaised', (id) => console.log(session.participants.get(id)?.name, 'raised a hand'));
 * session.hands.raise();
 * session.hands.react('👏');
 * console.log(session.hands.queue);               // participant ids, oldest first
 * ```
 */
export class Hands {
  readonly #host: HandsHost;
  #queue: string[];

  /** @internal */
  constructor(host: HandsHost, raised: readonly string[] = []) {
    this.#host = host;
    this.#queue = [...raised];
  }

  /** Participant ids with a raised hand, oldest first (yours included). */
  get queue(): readonly string[] {
    return this.#queue;
  }

  /** `true` while your own hand is up. */
  get raised(): boolean {
    return this.#queue.includes(this.#host.localId);
  }

  /** Raises your hand (the relay allows one change or reaction a second, bursts of five). */
  raise(): void {
    this.#host.send({ type: 'hand', raised: true });
  }

  /** Lowers your hand. A host lowers someone else's with `session.host.lowerHand(id)`. */
  lower(): void {
    this.#host.send({ type: 'hand', raised: false });
  }

  /** Sends a reaction to everyone. */
  react(emoji: Reaction): void {
    if (!REACTIONS.includes(emoji)) throw new TypeError(`a reaction is one of ${REACTIONS.join(' ')}`);
    this.#host.send({ type: 'react', emoji });
  }

  /** The queue as a resumed session's `welcome` has it. @internal */
  reset(raised: readonly string[]): void {
    this.#queue = [...raised];
  }

  /** A participant left: their hand goes down with them. @internal */
  participantLeft(participantId: string): void {
    this.#queue = this.#queue.filter((id) => id !== participantId);
  }

  /** A relay message about hands or reactions: handled here (`true`) or not. @internal */
  handleControl(message: RelayMessage): boolean {
    if (message.type === 'reaction') {
      this.#host.emit('reaction', message.participantId, message.emoji);
      return true;
    }
    if (message.type !== 'hand') return false;
    const up = this.#queue.includes(message.participantId);
    if (message.raised && !up) {
      this.#queue = [...this.#queue, message.participantId];
      this.#host.emit('handRaised', message.participantId);
    } else if (!message.raised && up) {
      this.#queue = this.#queue.filter((id) => id !== message.participantId);
      this.#host.emit('handLowered', message.participantId, message.by);
    }
    return true;
  }
}
