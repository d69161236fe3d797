import { css } from 'lit';

/** Styles of `<lan-invite>`. */
export const inviteStyles = css`
  :host {
    display: inline-block;
    --_width: var(--lan-invite-width, 560px);
    --_qr: var(--lan-invite-qr-size, 200px);
  }
  button.invite { display: inline-flex; align-items: center; gap: 6px; white-space: nowrap; }
  button.invite svg { width: 18px; height: 18px; }

  dialog {
    width: min(var(--_width), calc(100vw - 32px)); max-height: calc(100vh - 32px); padding: 0; overflow: auto;
    border: 1px solid var(--_border); border-radius: calc(var(--_radius) * 1.4);
    background: var(--_bg); color: var(--_text); box-shadow: 0 18px 50px rgb(0 0 0 / 0.3);
  }
  dialog::backdrop { background: var(--lan-invite-backdrop, rgb(0 0 0 / 0.45)); }
  .content { padding: calc(var(--_gap) * 2.5); display: grid; gap: calc(var(--_gap) * 1.5); }
  .head { display: flex; align-items: center; gap: var(--_gap); }
  h2 { flex: 1; margin: 0; font-size: 1.2rem; font-weight: 650; }
  button.close {
    width: 36px; height: 36px; padding: 0; display: grid; place-items: center; background: transparent; border-color: transparent;
  }
  button.close:hover { background: var(--_surface); }
  .lead { margin: 0; color: var(--_muted); }
  .body { display: grid; grid-template-columns: auto minmax(0, 1fr); gap: calc(var(--_gap) * 2); align-items: center; }
  /* A QR code needs a light background and a quiet margin, whatever the theme. */
  .qr {
    width: calc(var(--_qr) + 16px); min-height: calc(var(--_qr) + 16px); padding: 8px; border-radius: var(--_radius);
    background: #fff; border: 1px solid var(--_border); display: grid; place-items: center;
  }
  .qr img { width: var(--_qr); height: var(--_qr); display: block; }
  .no-qr { margin: 0; padding: 8px; color: #5b6475; font-size: .85rem; text-align: center; }
  .share { display: grid; gap: 6px; min-width: 0; }
  label { font-size: .85rem; font-weight: 600; }
  textarea {
    width: 100%; resize: none; font-family: ui-monospace, monospace; font-size: .85rem; line-height: 1.4;
    overflow-wrap: anywhere; word-break: break-all;
  }
  .copy { display: flex; flex-wrap: wrap; align-items: center; gap: var(--_gap); margin-top: 4px; }
  button.primary {
    display: inline-flex; align-items: center; gap: 6px; font-weight: 600;
    background: var(--_accent); color: var(--_on-accent); border-color: var(--_accent);
  }
  button.primary svg { width: 18px; height: 18px; }
  .status { font-size: .9rem; color: var(--_muted); }

  @media (max-width: 520px) {
    .body { grid-template-columns: minmax(0, 1fr); justify-items: center; }
    .share { width: 100%; }
  }
`;
