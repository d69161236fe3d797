/**
 * Registers `<lan-video-grid>`.
 * @module
 */
import { LanVideoGrid } from './video-grid.component.js';

export { LanVideoGrid };
export { selectGridLayout, pageRange, type GridLayout, type GridLayoutOptions } from './layout.js';

if (!customElements.get('lan-video-grid')) customElements.define('lan-video-grid', LanVideoGrid);

declare global {
  interface HTMLElementTagNameMap {
    'lan-video-grid': LanVideoGrid;
  }
}
