/**
 * Group chat of a session: `session.chat.send(text)`; messages arrive as the session's `chat` event.
 * @module
 */
import { ConnectionError, ErrorCode, LanError, RelayError } from './errors.js';
import type { ChatMessageInfo, ClientMessage } from './protocol/index.js';

/** A chat message as delivered to everyone in the meeting (the sender included). */
export interface ChatMessage {
  /** Relay-assigned id. */
  id: string;
  /** Participant id of the sender. */
  from: string;
  /** Display name of the sender when sent. */
  name: string;
  text: string;
  /** Relay time when it was received, ms since the epoch. */
  timestamp: number;
  /** The sender's sequence number for it. */
  seq: number;
  /** `true` when this session sent it. */
  local: boolean;
}

/** What the chat needs from its session. @internal */
export interface ChatHost {
  localId: string;
  maxChars: number;
  send(message: ClientMessage): void;
  deliver(message: ChatMessage): void;
}

/** A chat message not acknowledged within this time fails (ms). */
const ACK_TIMEOUT_MS = 10_000;

interface Pending {
  text: string;
  resolve(message: ChatMessage): void;
  reject(error: LanError): void;
  /** Restarts the ack clock (after a resend). */
  restart(): void;
  /** Stops the ack clock (while the session reconnects). */
  hold(): void;
}

/**
 * The chat manager. Keeps the messages of the meeting (history from the relay on join, then
 * everything that arrives), in relay order.
 */
export class Chat {
  readonly #host: ChatHost;
  readonly #messages: ChatMessage[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #byId = new Map<string, ChatMessage>();
  #seq = 0;

  /** @internal */
  constructor(host: ChatHost, history: readonly ChatMessageInfo[]) {
    this.#host = host;
    for (const info of history) this.#add(info);
  }

  /** Every message known, oldest first (history from the relay, then live ones). */
  get messages(): readonly ChatMessage[] {
    return this.#messages;
  }

  /**
   * Sends `text` to everyone in the meeting. Resolves with the message as the relay delivered it
   * (id and timestamp assigned) once the relay acknowledged it.
   * @throws TypeError for empty text; {@link LanError} `LAN_ERR_TOO_LARGE` over the limit, `LAN_ERR_CLOSED` when the session closed.
   */
  send(text: string): Promise<ChatMessage> {
    if (typeof text !== 'string' || text.trim() === '') return Promise.reject(new TypeError('chat text must be a non-empty string'));
    if (text.length > this.#host.maxChars) {
      return Promise.reject(new LanError(ErrorCode.TooLarge, `chat message of ${text.length} characters exceeds ${this.#host.maxChars}`));
    }
    const seq = this.#seq++;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const restart = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.#pending.delete(seq);
          reject(ConnectionError.timeout('the relay acknowledging the chat message', ACK_TIMEOUT_MS));
        }, ACK_TIMEOUT_MS);
      };
      restart();
      this.#pending.set(seq, {
        text,
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
        restart,
        hold: () => clearTimeout(timer),
      });
      // While the session reconnects this goes nowhere; `resumed` sends it again.
      this.#host.send({ type: 'chat', text, seq });
    });
  }

  /** The session is reconnecting: acknowledgements cannot come, so their clocks stop. @internal */
  paused(): void {
    for (const pending of this.#pending.values()) pending.hold();
  }

  /**
   * The session is back after a dropped connection: messages missed meanwhile are delivered (in relay
   * order, none twice), and every message not acknowledged is sent again with its sequence number,
   * so the relay drops the ones it already had. @internal
   */
  resumed(history: readonly ChatMessageInfo[]): void {
    for (const info of history) this.handleMessage(info);
    for (const [seq, pending] of [...this.#pending].sort((a, b) => a[0] - b[0])) {
      pending.restart();
      this.#host.send({ type: 'chat', text: pending.text, seq });
    }
  }

  /** @internal */
  handleMessage(info: ChatMessageInfo): void {
    const message = this.#add(info);
    if (message) this.#host.deliver(message);
  }

  /** @internal */
  handleAck(seq: number, id: string): void {
    const pending = this.#pending.get(seq);
    if (!pending) return;
    this.#pending.delete(seq);
    const message = this.#byId.get(id);
    if (message) pending.resolve(message);
    else pending.reject(new RelayError(ErrorCode.Internal, 'the relay acknowledged a chat message it never delivered'));
  }

  /** The relay refused message `seq`. @internal */
  handleError(seq: number, error: LanError): void {
    const pending = this.#pending.get(seq);
    if (!pending) return;
    this.#pending.delete(seq);
    pending.reject(error);
  }

  /** Rejects everything unacknowledged. @internal */
  close(error: LanError): void {
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #add(info: ChatMessageInfo): ChatMessage | undefined {
    if (this.#byId.has(info.id)) return undefined;
    const message: ChatMessage = {
      id: info.id, from: info.from, name: info.name, text: info.text, timestamp: info.ts, seq: info.seq,
      local: info.from === this.#host.localId,
    };
    this.#byId.set(message.id, message);
    this.#messages.push(message);
    return message;
  }
}
