/**
 * `<lan-chat>`: the meeting's group chat.
 * @module
 */
import { LitElement, html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { classMap } from 'lit/directives/class-map.js';
import { ifDefined } from 'lit/directives/if-defined.js';
import { live } from 'lit/directives/live.js';
import { repeat } from 'lit/directives/repeat.js';
import type { ChatMessage, Session } from '../../sdk/index.js';
import { emit, type LanEventDetails } from '../shared/events.js';
import { SessionController } from '../shared/session-controller.js';
import { chatStyles } from './chat.styles.js';
import { formatChatTime, linkify } from './linkify.js';

/** Details of the `lan-chat-unread` event: messages from others that arrived while hidden or inactive. */
export type ChatUnreadDetail = LanEventDetails['lan-chat-unread'];

/** Consecutive messages of one sender closer than this share one name and time line (ms). */
const GROUP_MS = 5 * 60_000;
/** Within this many pixels of the bottom, the list follows new messages. */
const STICK_PX = 48;

/** `active="false"` turns it off (a boolean attribute alone could not, `active` being on by default). */
function activeFromAttribute(value: string | null): boolean {
  return value !== 'false';
}

/**
 * The meeting's group chat: the messages of the meeting (the relay's history on join, then live ones),
 * each with its sender and local time, your own set apart; links (http and https only) open in a new
 * tab. Enter sends, Shift+Enter starts a new line. A message that could not be sent stays in the box
 * with the reason shown.
 *
 * While the element is `hidden` or its `active` property is `false`, messages from others are counted
 * in `unread` (and announced with `lan-chat-unread`, e.g. for a badge); showing or activating it resets
 * the count.
 *
 * The session comes from the `session` property or, failing that, from an enclosing `<lan-meeting>`
 * (or any provider of `sessionContext`).
 *
 * @example
 * ```html
 * <lan-chat></lan-chat>
 * <script type="module">
 *   document.querySelector('lan-chat').session = await joinMeeting({ url, meeting: 'Room1', name: 'Ana' });
 * </script>
 * ```
 *
 * @summary Group chat of a lanconf meeting.
 *
 * @event lan-chat-send - The user sent a message and the relay acknowledged it. `detail: { message: ChatMessage }`.
 * @event lan-chat-unread - `unread` changed. `detail: { unread: number }`.
 *
 * @slot empty - Shown while there are no messages (default: "No messages yet").
 *
 * @csspart base - The box around the list, the form and the error.
 * @csspart list - The message list (an `aria-live="polite"` ordered list).
 * @csspart empty - The list item shown while there are no messages.
 * @csspart message - One message.
 * @csspart message-local - A message you sent (it also has the `message` part).
 * @csspart meta - A message's sender and time line.
 * @csspart name - The sender's name ("You" for your own).
 * @csspart time - The message's time.
 * @csspart text - The message's text.
 * @csspart form - The compose box: input and send button.
 * @csspart input - The text area.
 * @csspart send-button - The send button.
 * @csspart error - Why the last message could not be sent (a `role="alert"` region).
 *
 * @cssproperty [--lan-chat-bubble-bg=var(--lan-color-surface)] - Background of others' messages.
 * @cssproperty [--lan-chat-own-bubble-bg=accent at 14% over --lan-color-bg] - Background of your messages.
 * @cssproperty [--lan-chat-bubble-radius=var(--lan-radius)] - Corner radius of messages.
 * @cssproperty [--lan-chat-max-input-height=8em] - How tall the text area grows before it scrolls.
 * @cssproperty [--lan-chat-error-color=--lan-color-danger mixed 60% with --lan-color-text] - The error text.
 * @cssproperty --lan-color-bg - Background (global token).
 * @cssproperty --lan-color-text - Text colour (global token).
 * @cssproperty --lan-color-text-muted - Times and the empty message (global token).
 * @cssproperty --lan-color-accent - Send button and your messages' tint (global token).
 * @cssproperty --lan-color-danger - Mixed into the error text (global token).
 */
export class LanChat extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = chatStyles;

  static override properties: PropertyDeclarations = {
    session: { attribute: false },
    active: { type: Boolean, converter: { fromAttribute: activeFromAttribute } },
    // Observed (and reflected) so that hiding and showing the element resets the unread count.
    hidden: { type: Boolean, reflect: true },
    unread: { type: Number, attribute: false },
    placeholder: { type: String },
  };

  /** The session to chat in; default: the one provided by an enclosing `<lan-meeting>`. */
  declare session: Session | undefined;
  /**
   * Whether the user can see the chat (e.g. its panel is the one shown). While `false` (or while the
   * element is `hidden`) messages from others count as unread. Attribute: `active="false"`. Default `true`.
   */
  declare active: boolean;
  /** Messages from others that arrived while the chat was hidden or inactive. Set it to 0 to mark them read. */
  declare unread: number;
  /** Placeholder of the text area. Default "Write a message…". */
  declare placeholder: string;

  readonly #s = new SessionController(this, ['chat'], (event, args) => {
    if (event === 'chat') this.#onMessage(args[0] as ChatMessage);
  });
  #boundSession: Session | undefined;
  #draft = '';
  #error = '';
  #sending = false;
  /** The list follows new messages while the user has not scrolled up. */
  #stick = true;

  /** Made by `document.createElement('lan-chat')` or the parser. */
  constructor() {
    super();
    this.active = true;
    this.unread = 0;
    this.placeholder = 'Write a message…';
  }

  /** Focuses the text area. */
  override focus(options?: FocusOptions): void {
    const input = this.renderRoot.querySelector?.('textarea');
    if (input) input.focus(options);
    else super.focus(options);
  }

  /** Marks every message read. */
  markRead(): void {
    this.#setUnread(0);
  }

  get #visible(): boolean {
    return !this.hidden && this.active !== false;
  }

  #setUnread(unread: number): void {
    if (this.unread === unread) return;
    this.unread = unread;
    this.dispatchEvent(new CustomEvent<ChatUnreadDetail>('lan-chat-unread', { detail: { unread }, bubbles: true, composed: true }));
  }

  #onMessage(message: ChatMessage): void {
    if (message.local) this.#stick = true;
    else if (!this.#visible) this.#setUnread(this.unread + 1);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const session = this.#s.session;
    if (session !== this.#boundSession) {
      this.#boundSession = session;
      this.#error = '';
      this.#stick = true;
      this.#setUnread(0);
    }
    if ((changed.has('hidden') || changed.has('active')) && this.#visible) {
      this.#setUnread(0);
      this.#stick = true;
    }
  }

  protected override updated(): void {
    const list = this.renderRoot.querySelector<HTMLElement>('.list');
    if (list && this.#stick) list.scrollTop = list.scrollHeight;
  }

  override render(): TemplateResult {
    const session = this.#s.session;
    const messages = session?.chat.messages ?? [];
    const open = session?.state === 'connected';
    const now = Date.now();
    return html`
      <div part="base" class="base">
        <ol part="list" class="list" aria-live="polite" aria-relevant="additions" aria-label="Chat messages"
          tabindex="0" @scroll=${this.#onScroll}>
          ${messages.length === 0
            ? html`<li part="empty" class="empty"><slot name="empty">No messages yet</slot></li>`
            : repeat(messages, (m) => m.id, (m, i) => this.#renderMessage(m, messages[i - 1], now))}
        </ol>
        <form part="form" class="form" @submit=${this.#onSubmit}>
          <textarea part="input" class="input" rows="1" aria-label="Message" aria-describedby="error"
            placeholder=${this.placeholder} maxlength=${ifDefined(session?.limits.maxChatChars)}
            ?disabled=${!open} .value=${live(this.#draft)}
            @input=${this.#onInput} @keydown=${this.#onKeyDown}></textarea>
          <button part="send-button" class="send" type="submit" ?disabled=${!open}
            aria-busy=${this.#sending ? 'true' : 'false'}>Send</button>
        </form>
        <div id="error" part="error" class="error" role="alert">${this.#error}</div>
      </div>
    `;
  }

  #renderMessage(m: ChatMessage, previous: ChatMessage | undefined, now: number): TemplateResult {
    const continued = previous !== undefined && previous.from === m.from && m.timestamp - previous.timestamp < GROUP_MS;
    // A grouped message keeps its name and time for screen readers, out of sight.
    return html`<li part=${m.local ? 'message message-local' : 'message'}
      class=${classMap({ message: true, local: m.local, continued })}>
      <div part="meta" class=${continued ? 'meta visually-hidden' : 'meta'}>
        <span part="name" class="name">${m.local ? 'You' : m.name}</span>
        <time part="time" class="time" datetime=${new Date(m.timestamp).toISOString()}>${formatChatTime(m.timestamp, now)}</time>
      </div>
      <div part="text" class="text">${linkify(m.text).map((segment) => segment.kind === 'link'
        ? html`<a href=${segment.href} target="_blank" rel="noopener noreferrer">${segment.text}</a>`
        : segment.text)}</div>
    </li>`;
  }

  #onScroll = (event: Event): void => {
    const list = event.currentTarget as HTMLElement;
    this.#stick = list.scrollHeight - list.scrollTop - list.clientHeight < STICK_PX;
  };

  #onInput = (event: Event): void => {
    this.#draft = (event.target as HTMLTextAreaElement).value;
  };

  #onKeyDown = (event: KeyboardEvent): void => {
    // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition is not a send.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    void this.#send();
  };

  #onSubmit = (event: SubmitEvent): void => {
    event.preventDefault();
    void this.#send();
  };

  async #send(): Promise<void> {
    const session = this.#s.session;
    const draft = this.#draft;
    const text = draft.trim();
    if (!text || this.#sending) return;
    if (!session || session.state !== 'connected') {
      this.#error = 'Not connected: the message was not sent.';
      this.requestUpdate();
      return;
    }
    this.#sending = true;
    this.#error = '';
    this.#stick = true;
    this.requestUpdate();
    try {
      const message = await session.chat.send(text);
      // Keep whatever the user typed meanwhile.
      if (this.#draft === draft) this.#draft = '';
      emit(this, 'lan-chat-send', { message });
    } catch (error) {
      this.#error = `Message not sent: ${describeError(error)}`;
    } finally {
      this.#sending = false;
      this.requestUpdate();
    }
  }
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'LAN_ERR_TOO_LARGE') return 'it is too long.';
  if (code === 'LAN_ERR_CLOSED') return 'the meeting connection is closed.';
  if (code === 'LAN_ERR_TIMEOUT') return 'the relay did not answer.';
  if (code === 'LAN_ERR_RATE_LIMITED') return 'too many messages; wait a moment.';
  const message = error instanceof Error ? error.message : String(error);
  return message.endsWith('.') ? message : `${message}.`;
}
