/**
 * The `lan-*` DOM events of lanconf's elements: bubbling, composed, typed through
 * `GlobalEventHandlersEventMap`.
 * @module
 */
import type { ChatMessage, LanError, Session } from '../../sdk/index.js';

/** Details of every `lan-*` event. */
export interface LanEventDetails {
  /** A session joined (`<lan-meeting>`, `<lan-prejoin>`). */
  'lan-joined': { session: Session };
  /** The session ended; `error` when it was not asked to. */
  'lan-left': { error?: LanError | undefined };
  /** Something failed: join refused, device not available… */
  'lan-error': { error: Error };
  /** The user sent a chat message. */
  'lan-chat-send': { message: ChatMessage };
  /** The user chose files to share. */
  'lan-file-send': { files: File[] };
  /** The user asked for a shared file. */
  'lan-file-download': { id: string };
  /** A tile was pinned or unpinned (`undefined`). */
  'lan-pin': { trackId: string | undefined };
  /** A control was toggled (`mic`, `camera`, `screen`, `chat`, `files`, `participants`). */
  'lan-toggle': { control: string; on: boolean };
  /** The user asked to leave. */
  'lan-leave': Record<string, never>;
  /** The number of unread chat messages changed (`<lan-chat>` while hidden or inactive). */
  'lan-chat-unread': { unread: number };
  /**
   * A join failed because this browser does not trust the relay's certificate yet (`LAN_ERR_UNTRUSTED`):
   * the relay's trust page, and whether the relay was seen answering on plain HTTP (`confirmed`).
   */
  'lan-untrusted': { trustUrl: string; confirmed: boolean };
  /** The user asked to try the failed join again (`<lan-trust-notice>`'s "Try again"). */
  'lan-retry': Record<string, never>;
  /** The invite dialog opened, showing `url`. */
  'lan-invite': { url: string };
}

/** Dispatches a typed `lan-*` event from `target`. */
export function emit<K extends keyof LanEventDetails>(target: EventTarget, type: K, detail: LanEventDetails[K]): boolean {
  return target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable: true }));
}

declare global {
  interface GlobalEventHandlersEventMap {
    'lan-joined': CustomEvent<LanEventDetails['lan-joined']>;
    'lan-left': CustomEvent<LanEventDetails['lan-left']>;
    'lan-error': CustomEvent<LanEventDetails['lan-error']>;
    'lan-chat-send': CustomEvent<LanEventDetails['lan-chat-send']>;
    'lan-file-send': CustomEvent<LanEventDetails['lan-file-send']>;
    'lan-file-download': CustomEvent<LanEventDetails['lan-file-download']>;
    'lan-pin': CustomEvent<LanEventDetails['lan-pin']>;
    'lan-toggle': CustomEvent<LanEventDetails['lan-toggle']>;
    'lan-leave': CustomEvent<LanEventDetails['lan-leave']>;
    'lan-chat-unread': CustomEvent<LanEventDetails['lan-chat-unread']>;
    'lan-untrusted': CustomEvent<LanEventDetails['lan-untrusted']>;
    'lan-retry': CustomEvent<LanEventDetails['lan-retry']>;
    'lan-invite': CustomEvent<LanEventDetails['lan-invite']>;
  }
}
