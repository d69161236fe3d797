/**
 * Registers `<lan-invite>`.
 * @module
 */
import { LanInvite } from './invite.component.js';

export { LanInvite };

if (!customElements.get('lan-invite')) customElements.define('lan-invite', LanInvite);

declare global {
  interface HTMLElementTagNameMap {
    'lan-invite': LanInvite;
  }
}
