import { css } from 'lit';
import { darkPalette } from '../shared/theme.js';

/** Styles of `<lan-meeting>`. */
export const meetingStyles = css`
  :host {
    display: block;
    position: relative;
    height: var(--lan-meeting-height, 100%);
    min-height: 360px;
    --_panel-width: var(--lan-meeting-panel-width, 340px);
    --_stage-bg: var(--lan-meeting-stage-bg, var(--_surface));
    color-scheme: light;
  }
  :host([theme='dark']) { ${darkPalette} color-scheme: dark; }
  @media (prefers-color-scheme: dark) {
    :host([theme='auto']) { ${darkPalette} color-scheme: dark; }
  }

  .base {
    position: relative;
    display: flex;
    flex-direction: column;
    height: 100%;
    min-height: inherit;
    background: var(--_stage-bg);
    color: var(--_text);
    container-type: inline-size;
    container-name: lan-meeting;
    overflow: hidden;
  }

  /* Header */
  header {
    display: flex; align-items: center; gap: calc(var(--_gap) * 1.5);
    padding: var(--_gap) calc(var(--_gap) * 2);
    min-height: 52px;
    background: var(--_bg);
    border-bottom: 1px solid var(--_border);
  }
  .brand { display: flex; align-items: center; gap: 8px; font-weight: 700; letter-spacing: .01em; }
  .logo {
    width: 26px; height: 26px; border-radius: 7px; background: var(--_accent); color: var(--_on-accent);
    display: grid; place-items: center; font-size: 14px; font-weight: 800;
  }
  .title { display: flex; flex-direction: column; min-width: 0; }
  .title h1 { font-size: 1rem; margin: 0; font-weight: 650; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .title .sub { font-size: .8rem; color: var(--_muted); }
  .divider { width: 1px; align-self: stretch; background: var(--_border); margin: 4px 0; }
  .spacer { flex: 1; }
  .pill {
    white-space: nowrap; display: inline-flex; align-items: center; gap: 6px; font-size: .85rem; color: var(--_muted);
    padding: 4px 10px; border-radius: 999px; background: var(--_surface); border: 1px solid var(--_border);
  }
  .pill svg { width: 16px; height: 16px; }
  .pill.reconnecting { color: var(--_text); border-color: var(--_accent); }
  button.sound { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); display: inline-flex; align-items: center; gap: 6px; }
  button.sound svg { width: 18px; height: 18px; }

  /* Body: stage and side panel */
  .body { position: relative; flex: 1; display: flex; min-height: 0; }
  .stage {
    flex: 1; min-width: 0; min-height: 200px; display: flex; padding: var(--_gap);
  }
  .stage > lan-video-grid { flex: 1; min-width: 0; min-height: 0; }
  .panel {
    width: var(--_panel-width); flex: none; display: flex; flex-direction: column; min-height: 0;
    background: var(--_bg); border-left: 1px solid var(--_border);
  }
  .panel[hidden] { display: none; }
  .panel-head {
    display: flex; align-items: center; gap: var(--_gap); padding: var(--_gap) var(--_gap) var(--_gap) calc(var(--_gap) * 2);
    border-bottom: 1px solid var(--_border); min-height: 52px;
  }
  .panel-head h2 { flex: 1; font-size: 1rem; margin: 0; font-weight: 650; }
  .panel-head h2:focus { outline: none; }
  button.icon {
    width: 36px; height: 36px; padding: 0; display: grid; place-items: center; background: transparent; border-color: transparent;
  }
  button.icon:hover { background: var(--_surface); }
  .panel-body { flex: 1; min-height: 0; display: flex; flex-direction: column; }
  .panel-body > * { flex: 1; min-height: 0; }
  .panel-body > [hidden] { display: none; }
  .panel-body > lan-participants { padding: calc(var(--_gap) * 1.5) var(--_gap); overflow: auto; }
  lan-participants::part(heading) { padding-inline: var(--_gap); }

  footer {
    background: var(--_bg); border-top: 1px solid var(--_border); padding: var(--_gap);
  }

  /* Narrow (a phone, or a small embed): the side panel covers the whole meeting. */
  @container lan-meeting (max-width: 640px) {
    header { padding: var(--_gap); gap: var(--_gap); }
    .brand .name, .divider, .title .sub { display: none; }
    /* Still read out, not shown: "3 people" becomes "3" beside the people icon, "Invite" its icon. */
    .pill .word, lan-invite::part(label) {
      position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
    }
    .body { position: static; }
    .panel {
      position: absolute; inset: 0; z-index: 10; width: auto; border-left: none;
    }
    .stage { padding: 4px; }
  }

  /* Before joining and after leaving */
  .center {
    flex: 1; display: grid; place-items: center; padding: calc(var(--_gap) * 3) calc(var(--_gap) * 2); overflow: auto;
  }
  .center > * { width: 100%; }
  .card {
    max-width: 440px; background: var(--_bg); border: 1px solid var(--_border); border-radius: calc(var(--_radius) * 1.4);
    padding: calc(var(--_gap) * 3); text-align: center; display: grid; gap: calc(var(--_gap) * 1.5);
  }
  .card h2 { margin: 0; font-size: 1.25rem; }
  .card p { margin: 0; color: var(--_muted); }
  .card .actions { display: flex; gap: var(--_gap); justify-content: center; }
  .card button.primary { background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent); }
  .error {
    max-width: 880px; margin: 0 auto var(--_gap); border: 1px solid var(--_danger); color: var(--_danger);
    border-radius: calc(var(--_radius) - 4px); padding: 8px 12px; background: color-mix(in srgb, var(--_danger) 8%, var(--_bg));
  }
  .joining { color: var(--_muted); text-align: center; }
  .center > lan-trust-notice { max-width: 560px; }
`;
