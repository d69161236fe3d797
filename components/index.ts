/**
 * lanconf web components: `<lan-meeting>` (the whole meeting in one element), and the elements it is
 * made of, each usable alone: `<lan-prejoin>`, `<lan-video-grid>`, `<lan-controls>`, `<lan-chat>`,
 * `<lan-files>`, `<lan-participants>`, `<lan-invite>`, `<lan-trust-notice>`. Importing this module defines every tag.
 *
 * Every element takes its session from its `session` property or, failing that, from an enclosing
 * `<lan-meeting>` (any provider of {@link sessionContext}); they style through `--lan-*` custom
 * properties and `::part`, and emit bubbling, composed `lan-*` events ({@link LanEventDetails}).
 *
 * @example
 * ```html
 * <script type="module" src="https://relay.local:8787/dist/browser/lanconf-components.js"></script>
 * <lan-meeting meeting="Standup" style="height: 100vh"></lan-meeting>
 * ```
 *
 * @example
 * ```ts
 * import 'lanconf/components';
 * document.querySelector('lan-prejoin')!.addEventListener('lan-joined', (e) => {
 *   for (const el of document.querySelectorAll('lan-video-grid, lan-chat')) (el as { session?: unknown }).session = e.detail.session;
 * });
 * ```
 * This entry defines every tag when imported (a bundler splits the code as it sees fit). The drop-in
 * bundle, dist/browser/lanconf-components.js, is built from `browser.ts` instead: it defines the first
 * screen's elements at once and the others on first use.
 * @module lanconf/components
 */
import './prejoin/prejoin.js';
import './video-grid/video-grid.js';
import './controls/controls.js';
import './chat/chat.js';
import './files/files.js';
import './participants/participants.js';
import './invite/invite.js';
import './trust-notice/trust-notice.js';
import './meeting/meeting.js';

export * from './meeting/meeting.js';
export * from './prejoin/prejoin.js';
export { describeJoinError } from './prejoin/join.js';
export * from './video-grid/video-grid.js';
export * from './controls/controls.js';
export * from './chat/chat.js';
export * from './files/files.js';
export * from './participants/participants.js';
export * from './invite/invite.js';
export * from './trust-notice/trust-notice.js';
export { sessionContext } from './shared/context.js';
export { SessionController, type SessionHost } from './shared/session-controller.js';
export { emit, type LanEventDetails } from './shared/events.js';
export { tokens, darkPalette } from './shared/theme.js';
export { ELEMENTS, LAZY_ELEMENTS, loadElement, type LazyElementTag } from './shared/elements.js';
