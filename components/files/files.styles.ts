import { css } from 'lit';
import { tokens } from '../shared/theme.js';

/** Styles of `<lan-files>`. @internal */
export const filesStyles = [tokens, css`
  :host {
    --lan-files-progress-color: var(--_accent);
    --lan-files-progress-track: var(--_surface);
    --lan-files-progress-height: 6px;
    --lan-files-dropzone-border: 2px dashed var(--_border);
    /* Danger mixed toward the text colour: readable on the light and the dark surface alike. */
    --lan-files-error-color: color-mix(in srgb, var(--_danger) 60%, var(--_text));
    display: flex;
    flex-direction: column;
    min-width: 0;
    min-height: 0;
    height: 100%;
    background: var(--_bg);
    position: relative;
  }

  .base { display: flex; flex-direction: column; flex: 1; min-height: 0; gap: var(--_gap); padding: var(--_gap); }

  .dropzone {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    justify-content: center;
    gap: var(--_gap);
    padding: calc(var(--_gap) * 1.5);
    border: var(--lan-files-dropzone-border);
    border-radius: var(--_radius);
    color: var(--_muted);
    text-align: center;
  }
  .dropzone.dragging {
    border-color: var(--_accent);
    background: color-mix(in srgb, var(--_accent) 10%, var(--_bg));
    color: var(--_text);
  }
  .pick { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); display: inline-flex; align-items: center; gap: 6px; }
  input[type='file'] { display: none; }

  .list { list-style: none; margin: 0; padding: 0; flex: 1; min-height: 0; overflow-y: auto; display: flex; flex-direction: column; gap: 4px; }
  .empty { color: var(--_muted); text-align: center; padding: var(--_gap); }

  .item {
    display: grid;
    grid-template-columns: auto minmax(0, 1fr) auto;
    align-items: center;
    gap: var(--_gap);
    padding: 8px;
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  .item.failed { box-shadow: inset 3px 0 0 var(--_danger); }
  .file-icon { width: 24px; height: 24px; color: var(--_muted); }
  .info { min-width: 0; display: flex; flex-direction: column; gap: 2px; }
  .name { font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .meta { font-size: .85em; color: var(--_muted); overflow-wrap: anywhere; }
  .meta .error-text { color: var(--lan-files-error-color); }

  .progress {
    height: var(--lan-files-progress-height);
    border-radius: calc(var(--lan-files-progress-height) / 2);
    background: var(--lan-files-progress-track);
    box-shadow: inset 0 0 0 1px var(--_border);
    overflow: hidden;
    margin-top: 2px;
  }
  .progress-bar { height: 100%; background: var(--lan-files-progress-color); transition: width .2s linear; }
  .progress.indeterminate .progress-bar { width: 30%; animation: slide 1.2s ease-in-out infinite; }
  @keyframes slide { from { margin-left: -30%; } to { margin-left: 100%; } }
  @media (prefers-reduced-motion: reduce) {
    .progress-bar { transition: none; }
    .progress.indeterminate .progress-bar { animation: none; width: 100%; opacity: .4; }
  }

  .download { display: inline-flex; align-items: center; gap: 6px; }
  .download .icon { width: 18px; height: 18px; }

  /* Narrow panels: the download button keeps its icon only (its name says what it does). */
  @container files (max-width: 420px) {
    .download .text { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  }
  .base { container: files / inline-size; }
`];
