import { css } from 'lit';
import { tokens } from '../shared/theme.js';

/** Styles of `<lan-controls>`. @internal */
export const controlsStyles = [tokens, css`
  :host {
    --lan-controls-bg: var(--_bg);
    --lan-controls-button-size: 44px;
    --lan-controls-gap: var(--_gap);
    /* Danger mixed toward the text colour: readable on the light and the dark surface alike. */
    --lan-controls-off-color: color-mix(in srgb, var(--_danger) 60%, var(--_text));
    --lan-controls-badge-bg: var(--_danger);
    display: block;
    container-type: inline-size;
    background: var(--lan-controls-bg);
  }

  .base {
    display: flex;
    flex-wrap: wrap;
    justify-content: center;
    align-items: center;
    gap: var(--lan-controls-gap);
    padding: var(--lan-controls-gap);
  }

  .item { position: relative; display: inline-flex; }
  .split { display: inline-flex; }
  .split > .control { border-start-end-radius: 0; border-end-end-radius: 0; }
  .split > .menu-trigger {
    border-start-start-radius: 0; border-end-start-radius: 0; border-inline-start-width: 0;
    min-width: 28px; padding: 0 2px;
  }

  button.control, button.menu-trigger {
    display: inline-flex;
    flex-direction: column;
    align-items: center;
    justify-content: center;
    gap: 2px;
    min-width: var(--lan-controls-button-size);
    min-height: var(--lan-controls-button-size);
    padding: 4px 10px;
    position: relative;
    line-height: 1.1;
  }
  .label { font-size: .75em; white-space: nowrap; }
  .icon { width: 22px; height: 22px; flex: none; }
  .menu-trigger .icon { width: 16px; height: 16px; }

  /* A microphone or camera that is off: the usual red cue of meeting apps. */
  button.control.off { color: var(--lan-controls-off-color); }
  button.control[aria-busy='true'] { cursor: progress; opacity: .8; }

  .badge {
    position: absolute;
    top: 2px;
    inset-inline-end: 2px;
    min-width: 18px;
    height: 18px;
    padding: 0 5px;
    border-radius: 9px;
    background: var(--lan-controls-badge-bg);
    color: #fff;
    font-size: 11px;
    font-weight: 700;
    line-height: 18px;
    text-align: center;
  }

  .tooltip {
    position: absolute;
    bottom: calc(100% + 6px);
    left: 50%;
    translate: -50% 0;
    z-index: 3;
    padding: 4px 8px;
    border-radius: 6px;
    background: var(--_text);
    color: var(--_bg);
    font-size: .8em;
    white-space: nowrap;
    pointer-events: none;
    /* Out of the layout while hidden, so it never widens the page at the edges. */
    display: none;
  }
  .item:hover > .tooltip, .item:focus-within:has(.control:focus-visible) > .tooltip { display: block; }
  .item.menu-open > .tooltip { display: none; }
  .item:first-child > .tooltip { left: 0; translate: none; }
  .item:last-child > .tooltip { left: auto; right: 0; translate: none; }

  .menu {
    position: absolute;
    bottom: calc(100% + 6px);
    inset-inline-start: 0;
    z-index: 4;
    min-width: 220px;
    max-width: min(320px, calc(100vw - 16px));
    max-height: min(60vh, 420px);
    overflow-y: auto;
    padding: 6px;
    background: var(--_bg);
    color: var(--_text);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    box-shadow: 0 8px 24px rgb(0 0 0 / .18);
    translate: var(--_shift, 0px) 0;
  }
  .menu.below { bottom: auto; top: calc(100% + 6px); }
  .menu[hidden] { display: none; }
  .menu-heading { font-size: .75em; font-weight: 700; color: var(--_muted); padding: 6px 8px 2px; text-transform: uppercase; letter-spacing: .04em; }
  .menu-separator { border: 0; border-top: 1px solid var(--_border); margin: 6px 0; }
  .menu-empty { color: var(--_muted); padding: 6px 8px; font-size: .9em; }
  button.menu-item {
    display: flex;
    align-items: center;
    gap: 8px;
    width: 100%;
    text-align: start;
    background: transparent;
    border: 0;
    border-radius: calc(var(--_radius) - 4px);
    padding: 6px 8px;
    min-height: 36px;
    overflow-wrap: anywhere;
  }
  button.menu-item:hover, button.menu-item:focus-visible { background: var(--_surface); }
  .check { width: 1em; flex: none; text-align: center; }

  .error {
    display: flex;
    align-items: center;
    justify-content: center;
    gap: var(--_gap);
    color: var(--lan-controls-off-color);
    font-size: .9em;
    padding: 0 var(--lan-controls-gap);
  }
  .error:not(:empty) { padding-bottom: var(--lan-controls-gap); }
  .error button { min-height: 28px; padding: 2px 8px; font-size: .9em; }

  /* Narrow bars (a phone held upright): icons only, the names stay for screen readers and tooltips. */
  @container (max-width: 560px) {
    .label {
      position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden;
      clip: rect(0 0 0 0); white-space: nowrap;
    }
    button.control { min-width: 38px; padding: 4px 6px; }
    .split > .menu-trigger { min-width: 22px; }
    .base { gap: 4px; padding: 4px; }
  }
`];
