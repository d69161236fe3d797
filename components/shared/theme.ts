/**
 * Design tokens: every element reads `--lan-*` custom properties with these defaults, so a page themes
 * all of them at once. Light by default; dark when the page asks (`theme="dark"` on `<lan-meeting>`,
 * or the `lan-theme-dark` class on any ancestor) or the system prefers it (`theme="auto"`).
 * @module
 */
import { css } from 'lit';

/** Token defaults, applied on `:host` of every element. */
export const tokens = css`
  :host {
    --_bg: var(--lan-color-bg, #ffffff);
    --_surface: var(--lan-color-surface, #f3f5f9);
    --_text: var(--lan-color-text, #1b2130);
    --_muted: var(--lan-color-text-muted, #5b6475);
    --_accent: var(--lan-color-accent, #2a6df4);
    --_on-accent: var(--lan-color-on-accent, #ffffff);
    --_danger: var(--lan-color-danger, #c62828);
    --_border: var(--lan-color-border, #d5dae3);
    --_speaking: var(--lan-color-speaking, #2fbf71);
    --_radius: var(--lan-radius, 10px);
    --_gap: var(--lan-gap, 8px);
    --_font: var(--lan-font, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    --_focus: var(--lan-focus-ring, 0 0 0 3px color-mix(in srgb, var(--_accent) 45%, transparent));
    font-family: var(--_font);
    color: var(--_text);
    box-sizing: border-box;
  }
  :host([hidden]) { display: none !important; }
  :host *, :host *::before, :host *::after { box-sizing: inherit; }
  :focus-visible { outline: none; box-shadow: var(--_focus); }
  .visually-hidden {
    position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
    clip: rect(0 0 0 0); white-space: nowrap; border: 0;
  }
  button {
    font: inherit; color: inherit; background: var(--_surface); border: 1px solid var(--_border);
    border-radius: var(--_radius); padding: 6px 12px; cursor: pointer; min-height: 36px;
  }
  button[aria-pressed='true'] { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); }
  button.danger { background: var(--_danger); color: #fff; border-color: var(--_danger); }
  button:disabled { opacity: .55; cursor: not-allowed; }
  input, select, textarea {
    font: inherit; color: var(--_text); background: var(--_bg); border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) - 4px); padding: 6px 8px; min-height: 36px;
  }
`;

/** The dark palette: set on `<lan-meeting theme="dark">`; inherited by every element inside. */
export const darkPalette = css`
  --lan-color-bg: #11151c;
  --lan-color-surface: #1c222d;
  --lan-color-text: #e8ecf3;
  --lan-color-text-muted: #9aa4b5;
  --lan-color-accent: #5b8cff;
  /* White on #5b8cff is 3.2:1; a near-black label is 6:1 (WCAG AA needs 4.5:1). */
  --lan-color-on-accent: #0b1020;
  --lan-color-border: #2e3646;
`;
