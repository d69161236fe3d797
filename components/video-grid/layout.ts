/**
 * The video grid's layout choice, as a pure function of the tile count and the space available (like
 * livekit components-js `selectGridLayout`), so it is tested with a table and not through pixels.
 * @module
 */

/** Options of {@link selectGridLayout}. */
export interface GridLayoutOptions {
  /**
   * One tile large (a shared screen, or a pinned tile) and the others in a strip beside it (landscape)
   * or under it (portrait). Default `false`: every tile the same size.
   */
  presenter?: boolean;
  /** Most tiles on one page of the grid; more make more pages. Default 25 (5 × 5). */
  maxTiles?: number;
  /** Tiles are never narrower than this (px); fewer fit on a page when the space is small. Default 160. */
  minTileWidth?: number;
  /** Width / height of a tile. Default 16 / 9. */
  aspectRatio?: number;
  /** Space between tiles (px). Default 8. */
  gap?: number;
}

/**
 * Where the tiles go. In `grid` mode `columns` × `rows` tiles of `tileWidth` × `tileHeight` fill one
 * page of `pageSize` tiles. In `presenter` mode the stage (`stageWidth` × `stageHeight`) holds the large
 * tile and the strip the others, `tileWidth` × `tileHeight` each, `pageSize` of them in view
 * (`columns` × `rows`); the strip scrolls for more.
 */
export interface GridLayout {
  /** `grid` (equal tiles) or `presenter` (stage and strip). */
  mode: 'grid' | 'presenter';
  /** Columns of tiles: on a grid page, or in view in a bottom strip (1 for a side strip). */
  columns: number;
  /** Rows of tiles: on a grid page, or in view in a side strip (1 for a bottom strip). */
  rows: number;
  /** Width of a grid tile or a strip tile (px, whole). 0 before the space is known. */
  tileWidth: number;
  /** Height of a grid tile or a strip tile (px, whole). 0 before the space is known. */
  tileHeight: number;
  /** Grid: tiles per page. Presenter: strip tiles in view without scrolling. */
  pageSize: number;
  /** Grid: pages needed for every tile (0 for no tile). Presenter: 1. */
  pageCount: number;
  /** Presenter: where the strip is (`none` when there is only the stage tile). Grid: `none`. */
  strip: 'none' | 'side' | 'bottom';
  /** Presenter: size of the stage (px). Grid: 0. */
  stageWidth: number;
  /** Presenter: size of the stage (px). Grid: 0. */
  stageHeight: number;
}

/** Default most tiles per grid page. */
export const DEFAULT_MAX_TILES = 25;
/** Default narrowest tile (px). */
export const DEFAULT_MIN_TILE_WIDTH = 160;
const DEFAULT_ASPECT = 16 / 9;
const DEFAULT_GAP = 8;
/** A side strip takes this share of the width, between the narrowest tile and {@link SIDE_STRIP_MAX}. */
const SIDE_STRIP_SHARE = 0.2;
const SIDE_STRIP_MAX = 320;
/** A bottom strip takes this share of the height, between the lowest tile and {@link BOTTOM_STRIP_MAX}. */
const BOTTOM_STRIP_SHARE = 0.2;
const BOTTOM_STRIP_MAX = 180;

const whole = (n: number): number => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0);

/**
 * Chooses the layout for `count` tiles in a `width` × `height` box.
 *
 * Grid: every candidate column count is tried and the one giving the largest tiles (of the aspect
 * ratio, fitted into their cells) wins; ties go to fewer empty cells, then to more columns in a
 * landscape box. A page holds at most `maxTiles`
 * and only as many tiles as fit at `minTileWidth`, so a phone pages sooner than a large screen.
 * Presenter: the strip goes to the side when the box is landscape, under the stage when it is portrait.
 *
 * @example
 * ```ts
 * selectGridLayout(4, 1280, 720);
 * // → { mode: 'grid', columns: 2, rows: 2, tileWidth: 636, tileHeight: 357, pageSize: 25, pageCount: 1, … }
 * selectGridLayout(6, 1280, 720, { presenter: true });
 * // → { mode: 'presenter', strip: 'side', stageWidth: 1016, columns: 1, rows: 4, tileWidth: 256, … }
 * ```
 */
export function selectGridLayout(count: number, width: number, height: number, options: GridLayoutOptions = {}): GridLayout {
  const n = whole(count);
  const w = whole(width);
  const h = whole(height);
  const gap = Math.max(0, options.gap ?? DEFAULT_GAP);
  const aspect = options.aspectRatio && options.aspectRatio > 0 ? options.aspectRatio : DEFAULT_ASPECT;
  const minWidth = Math.max(1, options.minTileWidth ?? DEFAULT_MIN_TILE_WIDTH);
  const maxTiles = Math.max(1, whole(options.maxTiles ?? DEFAULT_MAX_TILES));
  if (options.presenter) return presenterLayout(n, w, h, gap, aspect, minWidth);

  const base: GridLayout = {
    mode: 'grid', columns: 0, rows: 0, tileWidth: 0, tileHeight: 0, pageSize: maxTiles, pageCount: 0,
    strip: 'none', stageWidth: 0, stageHeight: 0,
  };
  if (w === 0 || h === 0) {
    // Not measured yet: a square-ish arrangement, sizes left to the caller's fallback.
    const shown = Math.min(n, maxTiles);
    const columns = Math.ceil(Math.sqrt(shown));
    return { ...base, columns, rows: columns ? Math.ceil(shown / columns) : 0, pageCount: Math.ceil(n / maxTiles) };
  }
  const maxColumns = Math.max(1, Math.floor((w + gap) / (minWidth + gap)));
  const maxRows = Math.max(1, Math.floor((h + gap) / (minWidth / aspect + gap)));
  const pageSize = Math.min(maxTiles, maxColumns * maxRows);
  if (n === 0) return { ...base, pageSize };
  const shown = Math.min(n, pageSize);
  let best: { columns: number; rows: number; tileWidth: number; tileHeight: number; empty: number } | undefined;
  for (let columns = 1; columns <= Math.min(shown, maxColumns); columns++) {
    const rows = Math.ceil(shown / columns);
    if (rows > maxRows) continue;
    const cellWidth = (w - (columns - 1) * gap) / columns;
    const cellHeight = (h - (rows - 1) * gap) / rows;
    const tileWidth = Math.floor(Math.min(cellWidth, cellHeight * aspect));
    const tileHeight = Math.floor(tileWidth / aspect);
    const empty = columns * rows - shown;
    const area = tileWidth * tileHeight;
    const bestArea = best ? best.tileWidth * best.tileHeight : -1;
    // Ties: fewer empty cells; then rows of tiles in a landscape box, columns in a portrait one.
    const better = !best || area > bestArea || (area === bestArea
      && (empty < best.empty || (empty === best.empty && w >= h)));
    if (better) {
      best = { columns, rows, tileWidth, tileHeight, empty };
    }
  }
  // maxColumns × maxRows ≥ shown, so some column count always fits.
  const chosen = best!;
  return {
    ...base, columns: chosen.columns, rows: chosen.rows, tileWidth: chosen.tileWidth, tileHeight: chosen.tileHeight,
    pageSize, pageCount: Math.ceil(n / pageSize),
  };
}

function presenterLayout(n: number, w: number, h: number, gap: number, aspect: number, minWidth: number): GridLayout {
  const base: GridLayout = {
    mode: 'presenter', columns: 0, rows: 0, tileWidth: 0, tileHeight: 0, pageSize: 0, pageCount: 1,
    strip: 'none', stageWidth: w, stageHeight: h,
  };
  const others = Math.max(0, n - 1);
  if (others === 0) return base;
  if (w >= h) {
    const tileWidth = w === 0 ? 0 : Math.floor(Math.min(Math.max(w * SIDE_STRIP_SHARE, minWidth), SIDE_STRIP_MAX, w / 2));
    const tileHeight = Math.floor(tileWidth / aspect);
    const inView = h === 0 ? others : Math.min(others, Math.max(1, Math.floor((h + gap) / (tileHeight + gap))));
    return {
      ...base, strip: 'side', columns: 1, rows: inView, tileWidth, tileHeight, pageSize: inView,
      stageWidth: Math.max(0, w - tileWidth - gap), stageHeight: h,
    };
  }
  const minHeight = minWidth / aspect;
  let height = Math.min(Math.max(h * BOTTOM_STRIP_SHARE, minHeight), BOTTOM_STRIP_MAX, h / 2);
  // On a narrow screen, two strip tiles in view rather than one and a sliver.
  const twoAcross = (w - gap) / 2 / aspect;
  if (twoAcross >= minHeight) height = Math.min(height, twoAcross);
  const tileHeight = Math.floor(height);
  const tileWidth = Math.floor(tileHeight * aspect);
  const inView = Math.min(others, Math.max(1, Math.floor((w + gap) / (tileWidth + gap))));
  return {
    ...base, strip: 'bottom', columns: inView, rows: 1, tileWidth, tileHeight, pageSize: inView,
    stageWidth: w, stageHeight: Math.max(0, h - tileHeight - gap),
  };
}

/**
 * Which tiles a grid page shows: indexes `[start, end)` of the tile list for `page` (0-based, clamped
 * to the pages there are).
 */
export function pageRange(count: number, pageSize: number, page: number): { page: number; start: number; end: number } {
  const size = Math.max(1, whole(pageSize));
  const pages = Math.max(1, Math.ceil(whole(count) / size));
  const clamped = Math.min(Math.max(0, Math.floor(page) || 0), pages - 1);
  const start = clamped * size;
  return { page: clamped, start, end: Math.min(whole(count), start + size) };
}
