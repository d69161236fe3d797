/**
 * Registers `<lan-files>`.
 * @module
 */
import { LanFiles } from './files.component.js';

export { LanFiles };
export type { FileItem, FileItemState } from './files.component.js';
export { formatSize } from './format.js';

if (!customElements.get('lan-files')) customElements.define('lan-files', LanFiles);

declare global {
  interface HTMLElementTagNameMap {
    'lan-files': LanFiles;
  }
}
