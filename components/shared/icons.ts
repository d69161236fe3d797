/**
 * Inline SVG icons shared by the elements. Decorative: every button, tile and state carries its own text.
 * @module
 * @internal
 */
import { html, svg, type TemplateResult } from 'lit';

const bodies = {
  mic: svg`<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5 11a7 7 0 0 0 14 0M12 18v3"/>`,
  micOff: svg`<path d="M3 3l18 18"/><path d="M9 9v2a3 3 0 0 0 5.1 2.1M15 10V6a3 3 0 0 0-5.7-1.3"/><path d="M5 11a7 7 0 0 0 11.5 5.4M19 11a7 7 0 0 1-.6 2.8M12 18v3"/>`,
  camera: svg`<rect x="3" y="6" width="13" height="12" rx="2"/><path d="M16 10l5-3v10l-5-3z"/>`,
  cameraOff: svg`<path d="M3 3l18 18"/><path d="M16 16v0a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h1M10 6h4a2 2 0 0 1 2 2v2l5-3v10"/>`,
  screen: svg`<rect x="2" y="4" width="20" height="13" rx="2"/><path d="M8 21h8M12 17v4"/>`,
  pin: svg`<path d="M9 3h6l-1 6 4 4H6l4-4z"/><path d="M12 13v8"/>`,
  host: svg`<path d="M3 8l4.5 4L12 5l4.5 7L21 8l-2 11H5z"/>`,
  previous: svg`<path d="M15 6l-6 6 6 6"/>`,
  next: svg`<path d="M9 6l6 6-6 6"/>`,
  close: svg`<path d="M6 6l12 12M18 6L6 18"/>`,
  speaker: svg`<path d="M4 10v4h4l5 4V6L8 10z"/><path d="M16.5 8.5a5 5 0 0 1 0 7M19 6a8.5 8.5 0 0 1 0 12"/>`,
  shield: svg`<path d="M12 3l7 3v5c0 4.5-3 8.3-7 10-4-1.7-7-5.5-7-10V6z"/><path d="M9 12l2 2 4-4"/>`,
  external: svg`<path d="M14 4h6v6M20 4l-9 9"/><path d="M18 14v5a1 1 0 0 1-1 1H5a1 1 0 0 1-1-1V7a1 1 0 0 1 1-1h5"/>`,
  invite: svg`<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20a6.5 6.5 0 0 1 13 0"/><path d="M19 8v6M16 11h6"/>`,
  copy: svg`<rect x="8" y="8" width="12" height="12" rx="2"/><path d="M16 8V5a1 1 0 0 0-1-1H5a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h3"/>`,
  people: svg`<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20a6.5 6.5 0 0 1 13 0"/><path d="M16 4.6a3.5 3.5 0 0 1 0 6.8M18 14a6.5 6.5 0 0 1 3.5 6"/>`,
};

/** An icon name. @internal */
export type IconName = keyof typeof bodies;

function iconSet(size: number): Record<IconName, TemplateResult> {
  const set = {} as Record<IconName, TemplateResult>;
  for (const [name, body] of Object.entries(bodies) as Array<[IconName, ReturnType<typeof svg>]>) {
    set[name] = html`<svg viewBox="0 0 24 24" width=${size} height=${size} fill="none" stroke="currentColor" stroke-width="2"
      stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;
  }
  return set;
}

/** 16 px icons (tiles, lists). @internal */
export const icons = iconSet(16);

/** 20 px icons (the pre-join screen and the meeting frame). @internal */
export const largeIcons = iconSet(20);
