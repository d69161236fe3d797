import { css } from 'lit';
import { tokens } from '../shared/theme.js';

/** Styles of `<lan-chat>`. @internal */
export const chatStyles = [tokens, css`
  :host {
    --lan-chat-bubble-bg: var(--_surface);
    --lan-chat-own-bubble-bg: color-mix(in srgb, var(--_accent) 14%, var(--_bg));
    --lan-chat-bubble-radius: var(--_radius);
    --lan-chat-max-input-height: 8em;
    /* Danger mixed toward the text colour: readable on the light and the dark background alike. */
    --lan-chat-error-color: color-mix(in srgb, var(--_danger) 60%, var(--_text));
    display: flex;
    flex-direction: column;
    min-width: 0;
    min-height: 0;
    height: 100%;
    background: var(--_bg);
  }

  .base { display: flex; flex-direction: column; flex: 1; min-height: 0; }

  .list {
    list-style: none;
    margin: 0;
    padding: var(--_gap);
    flex: 1;
    min-height: 4em;
    overflow-y: auto;
    overscroll-behavior: contain;
    display: flex;
    flex-direction: column;
    gap: 2px;
  }

  .empty { color: var(--_muted); margin: auto; text-align: center; padding: var(--_gap); }

  .message {
    max-width: 85%;
    align-self: flex-start;
    background: var(--lan-chat-bubble-bg);
    border-radius: var(--lan-chat-bubble-radius);
    padding: 4px 10px 6px;
    margin-top: 6px;
    overflow-wrap: anywhere;
  }
  .message.continued { margin-top: 0; }
  .message.local { align-self: flex-end; background: var(--lan-chat-own-bubble-bg); }

  .meta { display: flex; gap: 8px; align-items: baseline; font-size: .8em; }
  .name { font-weight: 600; }
  .time { color: var(--_muted); font-variant-numeric: tabular-nums; }
  .text { white-space: pre-wrap; line-height: 1.35; }
  .text a { color: inherit; text-decoration: underline; text-underline-offset: 2px; }
  .text a:focus-visible { border-radius: 2px; }

  .form {
    display: flex;
    gap: var(--_gap);
    align-items: flex-end;
    padding: var(--_gap);
    border-top: 1px solid var(--_border);
  }
  .input {
    flex: 1;
    min-width: 0;
    resize: none;
    field-sizing: content;
    max-height: var(--lan-chat-max-input-height);
    line-height: 1.35;
  }
  .send { flex: none; background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); }

  .error {
    color: var(--lan-chat-error-color);
    padding: 0 var(--_gap);
    font-size: .9em;
  }
  .error:not(:empty) { padding-bottom: var(--_gap); }
`];
