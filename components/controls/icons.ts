/**
 * The icons of `<lan-controls>`: 24×24 stroked outlines drawn in `currentColor`, hidden from assistive
 * technology (every button carries a text label).
 * @module
 * @internal
 */
import { svg, type SVGTemplateResult, html, type TemplateResult } from 'lit';

const paths = {
  mic: svg`<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M9 21h6"/>`,
  camera: svg`<rect x="3" y="6.5" width="12.5" height="11" rx="2"/><path d="M15.5 10.5 21 7.5v9l-5.5-3z"/>`,
  screen: svg`<rect x="3" y="4" width="18" height="12" rx="2"/><path d="M8.5 20h7M12 16v4M9.5 10l2.5-2.5 2.5 2.5M12 7.5v5"/>`,
  chat: svg`<path d="M4 5.5A1.5 1.5 0 0 1 5.5 4h13A1.5 1.5 0 0 1 20 5.5v9a1.5 1.5 0 0 1-1.5 1.5H10l-4.5 4v-4h0A1.5 1.5 0 0 1 4 14.5z"/>`,
  files: svg`<path d="M6 3h8l4 4v14H6z"/><path d="M14 3v4h4M9 12h6M9 16h6"/>`,
  participants: svg`<circle cx="9" cy="8" r="3.2"/><path d="M3 20a6 6 0 0 1 12 0"/><circle cx="17" cy="9" r="2.5"/><path d="M16.5 14.2A5 5 0 0 1 21 19.5"/>`,
  leave: svg`<path d="M3.5 13.5c4.7-4.4 12.3-4.4 17 0l-1.8 2.8-3.7-1.2v-2.6a9 9 0 0 0-6 0v2.6l-3.7 1.2z"/>`,
  chevron: svg`<path d="m7 10 5 5 5-5"/>`,
  slash: svg`<path d="M4 4l16 16"/>`,
} satisfies Record<string, SVGTemplateResult>;

/** The names of the icons. */
export type IconName = Exclude<keyof typeof paths, 'slash'>;

/** An icon; `off` crosses it out (a muted microphone, a camera turned off). */
export function icon(name: IconName, off = false): TemplateResult {
  return html`<svg part="icon" class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false"
    fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">${paths[name]}${off ? paths.slash : ''}</svg>`;
}
