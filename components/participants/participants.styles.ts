/**
 * Styles of `<lan-participants>`.
 * @module
 * @internal
 */
import { css } from 'lit';

/** @internal */
export const participantsStyles = css`
  :host {
    --_avatar-size: var(--lan-participants-avatar-size, 32px);
    --_item-padding: var(--lan-participants-item-padding, 6px 8px);
    --_item-hover: var(--lan-participants-item-hover-background, var(--_surface));
    --_speaking-color: var(--lan-participants-speaking-color, var(--_speaking));
    --_off-color: var(--lan-participants-muted-color, var(--_danger));
    --_avatar-bg: var(--lan-participants-avatar-background, var(--_accent));
    --_avatar-text: var(--lan-participants-avatar-color, var(--_on-accent));
    display: block;
    color: var(--_text);
  }
  .base { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
  .heading {
    margin: 0 0 4px;
    font-size: var(--lan-participants-heading-size, 0.95rem);
    font-weight: 600;
    color: var(--_muted);
  }
  .list { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 2px; }
  .item {
    display: flex;
    align-items: center;
    gap: 10px;
    padding: var(--_item-padding);
    border-radius: calc(var(--_radius) - 2px);
    min-width: 0;
  }
  .item:hover { background: var(--_item-hover); }
  .avatar {
    flex: 0 0 auto;
    display: grid;
    place-items: center;
    width: var(--_avatar-size);
    height: var(--_avatar-size);
    border-radius: 50%;
    background: var(--_avatar-bg);
    color: var(--_avatar-text);
    font-size: calc(var(--_avatar-size) * 0.4);
    font-weight: 600;
    position: relative;
  }
  .speaking .avatar { box-shadow: 0 0 0 2px var(--_bg), 0 0 0 4px var(--_speaking-color); }
  .who { flex: 1 1 auto; min-width: 0; display: flex; align-items: baseline; gap: 6px; flex-wrap: wrap; }
  .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; min-width: 0; max-width: 100%; }
  .you { color: var(--_muted); }
  .role {
    display: inline-flex;
    align-items: center;
    gap: 3px;
    font-size: 0.75rem;
    padding: 1px 6px;
    border-radius: 999px;
    border: 1px solid var(--_border);
    color: var(--_muted);
  }
  .role svg { width: 12px; height: 12px; }
  .states { flex: 0 0 auto; display: flex; align-items: center; gap: 6px; color: var(--_muted); }
  .state { display: grid; place-items: center; width: 24px; height: 24px; }
  .state.muted { color: var(--_off-color); }
  .state.off { color: var(--_muted); opacity: 0.85; }
  .state.on, .state.sharing { color: var(--_text); }
  .speaking-indicator {
    display: inline-flex;
    align-items: flex-end;
    gap: 2px;
    height: 14px;
    width: 18px;
    color: var(--_speaking-color);
  }
  .speaking-indicator i {
    display: block;
    width: 4px;
    height: 100%;
    border-radius: 2px;
    background: currentColor;
  }
  .speaking-indicator i:nth-child(1) { height: 55%; }
  .speaking-indicator i:nth-child(3) { height: 75%; }
  @media (prefers-reduced-motion: no-preference) {
    .speaking-indicator i { animation: lan-bar 900ms ease-in-out infinite alternate; transform-origin: bottom; }
    .speaking-indicator i:nth-child(2) { animation-delay: -300ms; }
    .speaking-indicator i:nth-child(3) { animation-delay: -600ms; }
  }
  @keyframes lan-bar { from { transform: scaleY(0.35); } to { transform: scaleY(1); } }
  .empty { margin: 0; color: var(--_muted); }
  @media (forced-colors: active) {
    .speaking .avatar { outline: 2px solid Highlight; }
  }
`;
