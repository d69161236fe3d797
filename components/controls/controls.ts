/**
 * Registers `<lan-controls>`.
 * @module
 */
import { LanControls } from './controls.component.js';

export { LanControls };
export { describeMediaError, type ControlName, type PanelControl } from './controls.component.js';

if (!customElements.get('lan-controls')) customElements.define('lan-controls', LanControls);

declare global {
  interface HTMLElementTagNameMap {
    'lan-controls': LanControls;
  }
}
