import { css } from 'lit';

/** Styles of `<lan-prejoin>`. */
export const prejoinStyles = css`
  :host {
    display: block;
    --_width: var(--lan-prejoin-width, 880px);
  }
  .base {
    max-width: var(--_width);
    margin: 0 auto;
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) * 1.4);
    padding: calc(var(--_gap) * 3);
    display: grid;
    grid-template-columns: minmax(0, 1.25fr) minmax(0, 1fr);
    gap: calc(var(--_gap) * 3);
    box-shadow: 0 8px 30px rgb(0 0 0 / 0.08);
    container-type: inline-size;
  }
  @media (max-width: 640px) {
    .base { grid-template-columns: minmax(0, 1fr); padding: calc(var(--_gap) * 2); gap: calc(var(--_gap) * 2); }
  }
  h2 { margin: 0 0 4px; font-size: 1.35rem; font-weight: 650; }
  .lead { margin: 0 0 calc(var(--_gap) * 2); color: var(--_muted); font-size: .95rem; }

  /* Preview */
  .media { display: flex; flex-direction: column; gap: calc(var(--_gap) * 1.5); min-width: 0; }
  .preview {
    position: relative; aspect-ratio: 4 / 3; background: #0d1117; border-radius: var(--_radius);
    overflow: hidden; display: grid; place-items: center;
  }
  video {
    width: 100%; height: 100%; object-fit: cover; display: block;
    /* A mirror, as people expect to see themselves. */
    transform: scaleX(-1);
  }
  .preview .placeholder {
    color: #c7cedb; text-align: center; padding: 16px; display: grid; gap: 8px; justify-items: center;
  }
  .avatar {
    width: 84px; height: 84px; border-radius: 50%; background: var(--_accent); color: var(--_on-accent);
    display: grid; place-items: center; font-size: 2rem; font-weight: 600;
  }
  .preview .toggles {
    position: absolute; bottom: 10px; left: 0; right: 0; display: flex; justify-content: center; gap: 10px;
  }
  .toggles button {
    width: 44px; height: 44px; border-radius: 50%; padding: 0; display: grid; place-items: center;
    background: rgb(255 255 255 / 0.92); color: #1b2130; border: none;
  }
  .toggles button.off { background: var(--_danger); color: #fff; }
  .toggles svg { width: 20px; height: 20px; }
  .meter-row { display: flex; align-items: center; gap: 8px; font-size: .85rem; color: var(--_muted); }
  .meter {
    flex: 1; height: 8px; border-radius: 4px; background: var(--_surface); overflow: hidden;
    border: 1px solid var(--_border);
  }
  .meter > span {
    display: block; height: 100%; width: 0; background: var(--_speaking); transition: width 80ms linear;
  }
  .devices { display: grid; grid-template-columns: 1fr 1fr; gap: var(--_gap); }
  @container (max-width: 520px) { .devices { grid-template-columns: 1fr; } }

  /* Form */
  form { display: flex; flex-direction: column; gap: calc(var(--_gap) * 1.5); min-width: 0; }
  .field { display: flex; flex-direction: column; gap: 4px; }
  label { font-size: .85rem; font-weight: 600; }
  .hint { font-size: .8rem; color: var(--_muted); }
  input, select { width: 100%; }
  select { min-width: 0; }
  button.join {
    margin-top: var(--_gap); min-height: 44px; font-weight: 600; font-size: 1rem;
    background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent);
  }
  .error {
    border: 1px solid var(--_danger); color: var(--_danger); border-radius: calc(var(--_radius) - 4px);
    padding: 8px 12px; background: color-mix(in srgb, var(--_danger) 8%, var(--_bg)); font-size: .9rem;
  }
  .error:empty { display: none; }
  lan-trust-notice::part(base) { padding: calc(var(--_gap) * 2); background: var(--_surface); }
  lan-trust-notice::part(heading) { font-size: 1rem; }
  .notice { font-size: .85rem; color: var(--_muted); }
  .joined { grid-column: 1 / -1; text-align: center; color: var(--_muted); }
  .spinner {
    display: inline-block; width: 1em; height: 1em; border: 2px solid currentColor; border-right-color: transparent;
    border-radius: 50%; animation: spin .8s linear infinite; vertical-align: -2px; margin-right: 6px;
  }
  @keyframes spin { to { transform: rotate(360deg); } }
  @media (prefers-reduced-motion: reduce) { .spinner { animation: none; } .meter > span { transition: none; } }
`;
