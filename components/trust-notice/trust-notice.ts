/**
 * Registers `<lan-trust-notice>`.
 * @module
 */
import { LanTrustNotice } from './trust-notice.component.js';

export { LanTrustNotice };

if (!customElements.get('lan-trust-notice')) customElements.define('lan-trust-notice', LanTrustNotice);

declare global {
  interface HTMLElementTagNameMap {
    'lan-trust-notice': LanTrustNotice;
  }
}
