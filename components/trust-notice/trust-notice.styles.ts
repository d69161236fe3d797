import { css } from 'lit';

/** Styles of `<lan-trust-notice>`. */
export const trustNoticeStyles = css`
  :host {
    display: block;
    --_width: var(--lan-trust-notice-width, 520px);
    --_icon: var(--lan-trust-notice-icon-color, var(--_accent));
  }
  .base {
    max-width: var(--_width); margin: 0 auto; text-align: start;
    background: var(--_bg); border: 1px solid var(--_border); border-radius: calc(var(--_radius) * 1.4);
    padding: calc(var(--_gap) * 2.5); display: grid; gap: calc(var(--_gap) * 1.5);
  }
  .head { display: flex; align-items: flex-start; gap: var(--_gap); }
  .icon {
    flex: none; width: 36px; height: 36px; border-radius: 50%; display: grid; place-items: center;
    color: var(--_icon); background: color-mix(in srgb, var(--_icon) 14%, var(--_bg));
  }
  .heading { font-size: 1.15rem; font-weight: 650; line-height: 1.3; align-self: center; }
  /* Focused only to be read from there (by script, never by Tab): no ring. */
  .heading:focus, .heading:focus-visible { outline: none; box-shadow: none; }
  p { margin: 0; line-height: 1.45; }
  .message { color: var(--_text); }
  .note { color: var(--_muted); font-size: .9rem; }
  .trust { display: grid; gap: 4px; justify-items: start; }
  .link {
    display: inline-flex; align-items: center; gap: 8px; min-height: 40px; padding: 8px 16px;
    border-radius: var(--_radius); background: var(--_accent); color: var(--_on-accent); font-weight: 600;
    text-decoration: none; border: 1px solid var(--_accent);
  }
  .link:hover { text-decoration: underline; }
  .link svg { width: 18px; height: 18px; }
  .address { font-size: .8rem; color: var(--_muted); overflow-wrap: anywhere; font-family: ui-monospace, monospace; }
  .actions { display: flex; flex-wrap: wrap; align-items: center; gap: var(--_gap); }
  .retry { display: inline-flex; align-items: center; gap: 6px; min-height: 40px; }
  .retry[aria-disabled='true'] { opacity: .7; cursor: progress; }
  .status { font-size: .9rem; color: var(--_muted); }
  .spinner {
    display: inline-block; width: 1em; height: 1em; border: 2px solid currentColor; border-right-color: transparent;
    border-radius: 50%; animation: spin .8s linear infinite;
  }
  @keyframes spin { to { transform: rotate(360deg); } }
  @media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
`;
