/**
 * The drop-in bundle's entry: dist/browser/lanconf-components.js, for a page's
 * `<script type="module" src="https://relay/dist/browser/lanconf-components.js">`.
 *
 * It holds what a first screen needs, `<lan-meeting>` with its pre-join screen, `<lan-prejoin>`,
 * `<lan-trust-notice>`, the video grid and the controls, with lit and the SDK. `<lan-chat>`, `<lan-files>`,
 * `<lan-participants>` and `<lan-invite>` are chunks beside it (dist/browser/chunks/), loaded when first used:
 * by `<lan-meeting>` when it is about to show one, and for a page that uses one of
 * those tags itself, as soon as an element of it is in the document ({@link autoloadElements}). So their
 * classes are not exported here: `await loadElement('lan-files')` gives one. Everything else is as in
 * `lanconf/components` (index.ts), which defines every tag at once. The chunks are imported relative to this
 * file: whoever serves it (the relay, or an intranet server hosting a copy) serves dist/browser/ whole.
 * @module
 */
import './prejoin/prejoin.js';
import './video-grid/video-grid.js';
import './controls/controls.js';
import './trust-notice/trust-notice.js';
import './meeting/meeting.js';
import { autoloadElements } from './shared/elements.js';

export * from './meeting/meeting.js';
export * from './prejoin/prejoin.js';
export { describeJoinError } from './prejoin/join.js';
export * from './video-grid/video-grid.js';
export * from './controls/controls.js';
export * from './trust-notice/trust-notice.js';
export { sessionContext } from './shared/context.js';
export { SessionController, type SessionHost } from './shared/session-controller.js';
export { emit, type LanEventDetails } from './shared/events.js';
export { tokens, darkPalette } from './shared/theme.js';
export { ELEMENTS, LAZY_ELEMENTS, loadElement, type LazyElementTag } from './shared/elements.js';

autoloadElements();
