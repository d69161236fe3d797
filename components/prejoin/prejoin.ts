/**
 * Registers `<lan-prejoin>`.
 * @module
 */
import { LanPrejoin } from './prejoin.component.js';

export { LanPrejoin };

if (!customElements.get('lan-prejoin')) customElements.define('lan-prejoin', LanPrejoin);

declare global {
  interface HTMLElementTagNameMap {
    'lan-prejoin': LanPrejoin;
  }
}
