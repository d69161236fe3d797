/**
 * Registers `<lan-chat>`.
 * @module
 */
import { LanChat } from './chat.component.js';

export { LanChat };
export type { ChatUnreadDetail } from './chat.component.js';

if (!customElements.get('lan-chat')) customElements.define('lan-chat', LanChat);

declare global {
  interface HTMLElementTagNameMap {
    'lan-chat': LanChat;
  }
}
