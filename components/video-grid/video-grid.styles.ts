/**
 * Styles of `<lan-video-grid>`.
 * @module
 * @internal
 */
import { css } from 'lit';

/** @internal */
export const videoGridStyles = css`
  :host {
    --_grid-bg: var(--lan-video-grid-background, #0e1117);
    --_grid-gap: var(--lan-video-grid-gap, var(--_gap));
    --_grid-text: var(--lan-video-grid-color, #f2f4f8);
    --_tile-bg: var(--lan-video-tile-background, #232a36);
    --_tile-radius: var(--lan-video-tile-radius, var(--_radius));
    --_tile-fit: var(--lan-video-tile-object-fit, cover);
    --_badge-bg: var(--lan-video-tile-badge-background, rgb(0 0 0 / 0.62));
    --_badge-off-bg: var(--lan-video-tile-badge-off-background, var(--_danger));
    --_avatar-bg: var(--lan-video-tile-avatar-background, var(--_accent));
    --_avatar-text: var(--lan-video-tile-avatar-color, var(--_on-accent));
    --_speaking-ring: var(--lan-video-tile-speaking-ring, inset 0 0 0 3px var(--_speaking));
    --_mirror: var(--lan-video-grid-self-view-transform, scaleX(-1));
    display: block;
    position: relative;
    width: 100%;
    height: 100%;
    min-height: var(--lan-video-grid-min-height, 180px);
    overflow: hidden;
    background: var(--_grid-bg);
    color: var(--_grid-text);
  }

  .base {
    position: absolute;
    inset: 0;
    display: flex;
    flex-direction: column;
    gap: var(--_grid-gap);
  }

  /* Measures --_grid-gap in px whatever unit it was given in. */
  .gap-probe {
    position: absolute;
    visibility: hidden;
    height: 0;
    width: var(--_grid-gap);
  }

  .grid {
    flex: 1 1 auto;
    min-height: 0;
    display: flex;
    flex-wrap: wrap;
    justify-content: center;
    align-content: center;
    gap: var(--_grid-gap);
  }

  .base.presenter.strip-side { flex-direction: row; }
  .stage {
    flex: 1 1 auto;
    min-width: 0;
    min-height: 0;
    display: flex;
  }
  .strip {
    flex: 0 0 auto;
    display: flex;
    gap: var(--_grid-gap);
    overflow: auto;
    overscroll-behavior: contain;
    scrollbar-width: thin;
  }
  .strip-side .strip { flex-direction: column; }
  .strip-bottom .strip { flex-direction: row; }

  .tile {
    position: relative;
    flex: 0 0 auto;
    overflow: hidden;
    border-radius: var(--_tile-radius);
    background: var(--_tile-bg);
    color: #fff;
    cursor: pointer;
    container-type: size;
    user-select: none;
    -webkit-tap-highlight-color: transparent;
  }
  .tile.on-stage { flex: 1 1 auto; width: 100%; height: 100%; }
  .tile.speaking::after {
    content: '';
    position: absolute;
    inset: 0;
    border-radius: inherit;
    box-shadow: var(--_speaking-ring);
    pointer-events: none;
  }
  .tile:focus-visible { outline: 3px solid var(--_accent); outline-offset: 2px; }
  .strip .tile:focus-visible, .stage .tile:focus-visible { outline-offset: -3px; }

  .media {
    position: absolute;
    inset: 0;
    width: 100%;
    height: 100%;
    display: block;
    object-fit: var(--_tile-fit);
    background: transparent;
  }
  .screen .media, .on-stage .media { object-fit: contain; }
  .media.mirror { transform: var(--_mirror); }

  .avatar {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
  }
  .avatar > span {
    display: grid;
    place-items: center;
    width: clamp(32px, 38cqmin, 128px);
    aspect-ratio: 1;
    border-radius: 50%;
    background: var(--_avatar-bg);
    color: var(--_avatar-text);
    font-size: clamp(14px, 15cqmin, 48px);
    font-weight: 600;
    line-height: 1;
  }
  .screen .avatar > span { background: transparent; color: #fff; }
  .screen .avatar svg { width: 60%; height: 60%; }

  .overlay {
    position: absolute;
    left: 6px;
    right: 6px;
    bottom: 6px;
    display: flex;
    align-items: center;
    gap: 4px;
    pointer-events: none;
  }
  .name {
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
    padding: 2px 8px;
    border-radius: 999px;
    background: var(--_badge-bg);
    color: #fff;
    font-size: var(--lan-video-tile-name-size, 13px);
    line-height: 20px;
  }
  .badges { display: flex; gap: 4px; margin-left: auto; flex: 0 0 auto; }
  .badge {
    display: grid;
    place-items: center;
    width: 24px;
    height: 24px;
    border-radius: 50%;
    background: var(--_badge-bg);
    color: #fff;
  }
  .badge.muted { background: var(--_badge-off-bg); }
  .badge svg { width: 14px; height: 14px; }

  /* Small tiles (a phone grid, a strip): smaller badges, no name padding to spare. */
  @container (max-width: 180px) {
    .overlay { left: 4px; right: 4px; bottom: 4px; }
    .name { font-size: 12px; padding: 1px 6px; line-height: 18px; }
    .badge { width: 20px; height: 20px; }
  }

  .pager {
    flex: 0 0 auto;
    height: 36px;
    display: flex;
    align-items: center;
    justify-content: center;
    gap: 12px;
    font-size: 14px;
  }
  .pager button {
    display: grid;
    place-items: center;
    min-height: 32px;
    min-width: 40px;
    padding: 0 8px;
    background: var(--_tile-bg);
    color: #fff;
    border-color: transparent;
  }

  @media (prefers-reduced-motion: no-preference) {
    .tile.speaking::after { transition: box-shadow 150ms ease-out; }
  }
  @media (forced-colors: active) {
    .tile.speaking::after { box-shadow: none; outline: 3px solid Highlight; outline-offset: -3px; }
    .badge, .name { border: 1px solid CanvasText; }
  }
`;

/** Height of the pager under a grid with more than one page, with the gap above it (px). @internal */
export const PAGER_HEIGHT = 36;
