/**
 * Inline SVG icons of the video grid and the participant list. Decorative: every tile and state carries
 * its own text.
 * @module
 * @internal
 */
import { html, svg, type TemplateResult } from 'lit';

const icon = (body: ReturnType<typeof svg>): TemplateResult =>
  html`<svg viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2"
    stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;

/** @internal */
export const icons = {
  mic: icon(svg`<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>`),
  micOff: icon(svg`<path d="M3 3l18 18"/><path d="M9 9v2a3 3 0 0 0 5.1 2.1M15 10V6a3 3 0 0 0-5.7-1.3"/><path d="M5 11a7 7 0 0 0 11.5 5.4M19 11a7 7 0 0 1-.6 2.8M12 18v3"/>`),
  camera: icon(svg`<rect x="3" y="6" width="13" height="12" rx="2"/><path d="M16 10l5-3v10l-5-3z"/>`),
  cameraOff: icon(svg`<path d="M3 3l18 18"/><path d="M16 16v0a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h1M10 6h4a2 2 0 0 1 2 2v2l5-3v10"/>`),
  screen: icon(svg`<rect x="2" y="4" width="20" height="13" rx="2"/><path d="M8 21h8M12 17v4"/>`),
  pin: icon(svg`<path d="M9 3h6l-1 6 4 4H6l4-4z"/><path d="M12 13v8"/>`),
  host: icon(svg`<path d="M3 8l4.5 4L12 5l4.5 7L21 8l-2 11H5z"/>`),
  previous: icon(svg`<path d="M15 6l-6 6 6 6"/>`),
  next: icon(svg`<path d="M9 6l6 6-6 6"/>`),
};
