/**
 * `<lan-video-grid>`: everyone's video.
 * @module
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { classMap } from 'lit/directives/class-map.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap, type StyleInfo } from 'lit/directives/style-map.js';
import type { LocalTrack, RemoteTrack, Session, TrackRenderer } from '../../sdk/index.js';
import { emit } from '../shared/events.js';
import { SessionController } from '../shared/session-controller.js';
import { tokens } from '../shared/theme.js';
import { icons } from '../shared/icons.js';
import { DEFAULT_MAX_TILES, DEFAULT_MIN_TILE_WIDTH, pageRange, selectGridLayout, type GridLayout } from './layout.js';
import { LocalTracksController, describeMedia, initials, mediaStateOf, mediaStreamTrackOf, type MediaState } from '../shared/media-state.js';
import { PAGER_HEIGHT, videoGridStyles } from './video-grid.styles.js';

/** What a tile shows: a remote track, one of your browser tracks, or nothing (initials). */
type TileVideo = { remote: RemoteTrack } | { local: LocalTrack; stream: MediaStreamTrack } | undefined;

/** One tile: a person (their camera, or their initials) or a shared screen. */
interface Tile {
  /** The participant's id for a person, the track's id for a screen. */
  id: string;
  type: 'person' | 'screen';
  participantId: string;
  name: string;
  /** Your own tile. */
  local: boolean;
  media: MediaState;
  speaking: boolean;
  /** A screen whose sharing is paused (muted). */
  paused: boolean;
  video: TileVideo;
}

/** What one render shows. */
interface View {
  layout: GridLayout;
  /** Presenter mode: the large tile. */
  stage: Tile | undefined;
  /** Grid mode: the current page's tiles. Presenter mode: the strip. */
  tiles: Tile[];
  /** 0-based page and page count (grid mode). */
  page: number;
  pageCount: number;
}

/**
 * Everyone's video: your own tile first (the self-view mirrored, like a mirror), then everyone else's,
 * re-laid out for 1 to 25 people per page (more make pages) from the element's own size, so it works in
 * a 360 px phone column as on a wall screen. A participant without a camera shows their initials. Name,
 * microphone and camera badges sit on each tile; the active speaker's tile is outlined.
 *
 * When anyone shares a screen the grid switches to the presenter layout: the screen large, the cameras
 * in a strip beside it (landscape) or under it (portrait) that scrolls when they do not all fit.
 * Clicking a tile, or Enter or Space on it, pins it large the same way; again unpins it.
 *
 * Keyboard: the grid is one Tab stop; the arrow keys move between tiles, Home and End go to the first
 * and last, Page Up and Page Down change page. Each tile is a toggle button named like
 * "Ana, camera on, microphone muted, speaking", pressed while pinned.
 *
 * The session comes from the `session` property or, failing that, from an enclosing `<lan-meeting>`
 * (or any provider of `sessionContext`).
 *
 * @example
 * ```html
 * <lan-video-grid style="height: 480px"></lan-video-grid>
 * <script type="module">
 *   const grid = document.querySelector('lan-video-grid');
 *   grid.session = await joinMeeting({ url, meeting: 'Room1', name: 'Ana' });
 *   grid.addEventListener('lan-pin', (e) => console.log('pinned', e.detail.trackId));
 * </script>
 * ```
 *
 * @summary Video tiles of a lanconf meeting: grid, presenter layout, pinning, active speaker.
 *
 * @event lan-pin - A tile was pinned (`detail.trackId`: the tile's id — the participant's id for a
 *   person, the screen track's id for a screen) or unpinned (`detail.trackId: undefined`). Cancelable:
 *   `preventDefault()` keeps the layout as it was.
 *
 * @csspart base - The box around everything (a group named "Video tiles").
 * @csspart grid - The tiles of the grid layout.
 * @csspart stage - The large tile's box in the presenter layout.
 * @csspart strip - The other tiles in the presenter layout (scrolls).
 * @csspart tile - A tile. State parts are added: `self` (yours), `screen`, `speaking`, `pinned`, e.g. `::part(tile speaking)`.
 * @csspart self - Your own tile (also `tile`).
 * @csspart screen - A shared screen's tile (also `tile`).
 * @csspart speaking - The active speaker's tile (also `tile`).
 * @csspart pinned - The pinned tile (also `tile`).
 * @csspart media - The `<canvas>` or `<video>` in a tile.
 * @csspart self-view - Your camera's `<video>` (also `media`), mirrored.
 * @csspart avatar - The initials (or screen icon) shown when there is no picture.
 * @csspart name - The name badge.
 * @csspart badges - The box of state badges.
 * @csspart badge - One state badge (also `badge-mic`, `badge-camera` or `badge-pin`).
 * @csspart badge-mic - Microphone muted or off (`data-state="muted"` or `"off"`).
 * @csspart badge-camera - Camera off.
 * @csspart badge-pin - The tile is pinned.
 * @csspart pager - Previous/next page buttons and "Page 1 of 2", when there are pages.
 * @csspart page-button - The previous and next page buttons.
 *
 * @cssproperty [--lan-video-grid-background=#0e1117] - Background behind the tiles.
 * @cssproperty [--lan-video-grid-color=#f2f4f8] - Text colour of the pager.
 * @cssproperty [--lan-video-grid-gap=var(--lan-gap)] - Space between tiles (any length unit).
 * @cssproperty [--lan-video-grid-min-height=180px] - The grid's least height, when its container gives it none.
 * @cssproperty [--lan-video-grid-self-view-transform=scaleX(-1)] - Transform of your own camera (`none` to stop mirroring).
 * @cssproperty [--lan-video-tile-background=#232a36] - Background of a tile without a picture.
 * @cssproperty [--lan-video-tile-radius=var(--lan-radius)] - Corner radius of tiles.
 * @cssproperty [--lan-video-tile-object-fit=cover] - How cameras fill grid and strip tiles (the stage and screens always `contain`).
 * @cssproperty [--lan-video-tile-badge-background=rgb(0 0 0 / .62)] - Background of the name and state badges.
 * @cssproperty [--lan-video-tile-badge-off-background=var(--lan-color-danger)] - Background of the "microphone muted" badge.
 * @cssproperty [--lan-video-tile-avatar-background=var(--lan-color-accent)] - Background of the initials.
 * @cssproperty [--lan-video-tile-avatar-color=var(--lan-color-on-accent)] - Colour of the initials.
 * @cssproperty [--lan-video-tile-name-size=13px] - Font size of the name badge.
 * @cssproperty [--lan-video-tile-speaking-ring=inset 0 0 0 3px var(--lan-color-speaking)] - Box shadow marking the active speaker.
 * @cssproperty --lan-color-speaking - Colour of the active speaker's outline (global token).
 * @cssproperty --lan-color-accent - Focus outline and initials background (global token).
 */
export class LanVideoGrid extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = [tokens, videoGridStyles];

  /** Its reactive properties (Lit, without decorators). */
  static override properties = {
    session: { attribute: false },
    pinned: { type: String, reflect: true },
    maxTiles: { type: Number, attribute: 'max-tiles' },
    minTileWidth: { type: Number, attribute: 'min-tile-width' },
  };

  /** The session to show; when unset, the one provided by an enclosing `<lan-meeting>`. */
  declare session: Session | undefined;
  /**
   * The pinned tile's id (a participant's id, or a screen track's id), shown large; `undefined` for none.
   * Set by clicking a tile, or by the page. An id with no tile is ignored.
   */
  declare pinned: string | undefined;
  /** Most tiles on one page of the grid (attribute `max-tiles`). Default 25. */
  declare maxTiles: number;
  /** Narrowest tile (px) before the grid pages instead (attribute `min-tile-width`). Default 160. */
  declare minTileWidth: number;

  readonly #s = new SessionController(this,
    ['participantJoined', 'participantLeft', 'trackPublished', 'trackUnpublished', 'trackMuted', 'activeSpeaker']);
  // Re-renders when your own tracks come, go, mute or switch device.
  readonly #localTracks = new LocalTracksController(this, () => this.#live());
  #resizeObserver: ResizeObserver | undefined;
  #width = 0;
  #height = 0;
  #gap = 8;
  #page = 0;
  #view: View | undefined;
  /** The tile that takes the Tab stop (roving tabindex). */
  #focusId: string | undefined;
  /** The tile that had focus before an update, to give it back if the update moved it. */
  #refocus: string | undefined;
  readonly #remoteViews = new Map<string, { canvas: HTMLCanvasElement; renderer: TrackRenderer }>();
  readonly #localViews = new Map<string, { video: HTMLVideoElement; stream: MediaStreamTrack }>();

  /** Makes the element; `document.createElement('lan-video-grid')` or the tag in HTML calls it. */
  constructor() {
    super();
    this.maxTiles = DEFAULT_MAX_TILES;
    this.minTileWidth = DEFAULT_MIN_TILE_WIDTH;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#resizeObserver ??= new ResizeObserver((entries) => {
      const box = entries[entries.length - 1]?.contentRect;
      if (box) this.#resized(box.width, box.height);
    });
    this.#resizeObserver.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resizeObserver?.disconnect();
    this.#syncMedia([]);
  }

  /** The session when it is usable. */
  #live(): Session | undefined {
    const session = this.#s.session;
    return session && session.state !== 'closed' ? session : undefined;
  }

  #resized(width: number, height: number): void {
    const probe = this.renderRoot.querySelector<HTMLElement>('.gap-probe');
    const gap = probe ? probe.getBoundingClientRect().width : this.#gap;
    if (width === this.#width && height === this.#height && gap === this.#gap) return;
    this.#width = width;
    this.#height = height;
    this.#gap = gap;
    this.requestUpdate();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (!this.hasUpdated) {
      // Lay out the first render at the right size; the ResizeObserver reports only after it.
      const box = this.getBoundingClientRect();
      this.#width = box.width;
      this.#height = box.height;
    }
    const active = this.shadowRoot?.activeElement as HTMLElement | null | undefined;
    this.#refocus = active?.dataset['id'];
    this.#view = this.#computeView();
    const visible = this.#view ? [...(this.#view.stage ? [this.#view.stage] : []), ...this.#view.tiles] : [];
    if (!visible.some((tile) => tile.id === this.#focusId)) this.#focusId = visible[0]?.id;
    this.#syncMedia(visible);
  }

  protected override updated(): void {
    const id = this.#refocus;
    this.#refocus = undefined;
    if (id === undefined) return;
    const active = this.shadowRoot?.activeElement as HTMLElement | null | undefined;
    if (active?.dataset['id'] === id) return;
    // The tile moved (stage ↔ strip) or went away: focus stays in the grid.
    (this.#tileElement(id) ?? (this.#focusId ? this.#tileElement(this.#focusId) : null))?.focus();
  }

  #computeView(): View | undefined {
    const session = this.#live();
    if (!session) return undefined;
    const { people, screens } = collectTiles(session);
    const all = [...people, ...screens];
    const pinned = this.pinned === undefined ? undefined : all.find((tile) => tile.id === this.pinned);
    const stage = pinned ?? screens[0];
    const options = { gap: this.#gap, maxTiles: this.maxTiles, minTileWidth: this.minTileWidth };
    if (stage) {
      const layout = selectGridLayout(all.length, this.#width, this.#height, { ...options, presenter: true });
      return { layout, stage, tiles: all.filter((tile) => tile !== stage), page: 0, pageCount: 1 };
    }
    let layout = selectGridLayout(people.length, this.#width, this.#height, options);
    if (layout.pageCount > 1) {
      layout = selectGridLayout(people.length, this.#width, this.#height - PAGER_HEIGHT - this.#gap, options);
    }
    const range = pageRange(people.length, layout.pageSize, this.#page);
    this.#page = range.page;
    return { layout, stage: undefined, tiles: people.slice(range.start, range.end), page: range.page, pageCount: layout.pageCount };
  }

  /** Attaches the media of the tiles in view, detaches the rest. */
  #syncMedia(visible: readonly Tile[]): void {
    const remote = new Set<string>();
    const local = new Set<string>();
    for (const { video } of visible) {
      if (!video) continue;
      if ('remote' in video) {
        remote.add(video.remote.id);
        if (this.#remoteViews.has(video.remote.id)) continue;
        const canvas = document.createElement('canvas');
        canvas.className = 'media';
        canvas.setAttribute('part', 'media');
        canvas.setAttribute('aria-hidden', 'true');
        try {
          this.#remoteViews.set(video.remote.id, { canvas, renderer: video.remote.attach(canvas) });
        } catch {
          // Not a browser session: the tile shows initials.
        }
        continue;
      }
      local.add(video.local.id);
      let view = this.#localViews.get(video.local.id);
      if (!view) {
        const element = document.createElement('video');
        element.muted = true;
        element.playsInline = true;
        element.autoplay = true;
        element.setAttribute('aria-hidden', 'true');
        const mirrored = video.local.kind === 'camera';
        element.className = mirrored ? 'media mirror' : 'media';
        element.setAttribute('part', mirrored ? 'media self-view' : 'media');
        view = { video: element, stream: video.stream };
        this.#localViews.set(video.local.id, view);
        playStream(element, video.stream);
      } else if (view.stream !== video.stream) {
        // The camera was switched to another device.
        view.stream = video.stream;
        playStream(view.video, video.stream);
      }
    }
    for (const [id, view] of this.#remoteViews) {
      if (remote.has(id)) continue;
      view.renderer.detach(view.canvas);
      this.#remoteViews.delete(id);
    }
    for (const [id, view] of this.#localViews) {
      if (local.has(id)) continue;
      view.video.srcObject = null;
      this.#localViews.delete(id);
    }
  }

  #mediaOf(tile: Tile): HTMLElement | undefined {
    const video = tile.video;
    if (!video) return undefined;
    return 'remote' in video ? this.#remoteViews.get(video.remote.id)?.canvas : this.#localViews.get(video.local.id)?.video;
  }

  #tileElement(id: string): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>(`.tile[data-id="${CSS.escape(id)}"]`);
  }

  override render(): TemplateResult {
    const probe = html`<div class="gap-probe" aria-hidden="true"></div>`;
    const view = this.#view;
    if (!view) return html`${probe}<div part="base" class="base empty"></div>`;
    const { layout } = view;
    if (view.stage) {
      const stripStyle: StyleInfo = layout.strip === 'side' ? { width: `${layout.tileWidth}px` } : { height: `${layout.tileHeight}px` };
      const tileSize: StyleInfo = layout.tileWidth > 0 ? { width: `${layout.tileWidth}px`, height: `${layout.tileHeight}px` } : {};
      return html`${probe}
        <div part="base" class="base presenter strip-${layout.strip}" role="group" aria-label="Video tiles">
          <div part="stage" class="stage">${this.#tile(view.stage, 'on-stage', {})}</div>
          ${view.tiles.length > 0
            ? html`<div part="strip" class="strip" style=${styleMap(stripStyle)}>
                ${repeat(view.tiles, (tile) => tile.id, (tile) => this.#tile(tile, 'in-strip', tileSize))}
              </div>`
            : nothing}
        </div>`;
    }
    const tileSize: StyleInfo = layout.tileWidth > 0
      ? { width: `${layout.tileWidth}px`, height: `${layout.tileHeight}px` }
      // Not measured yet: fractions of the width.
      : { width: `calc((100% - ${Math.max(0, layout.columns - 1)} * var(--_grid-gap)) / ${Math.max(1, layout.columns)})`, aspectRatio: '16 / 9' };
    return html`${probe}
      <div part="base" class="base" role="group" aria-label="Video tiles">
        <div part="grid" class="grid">
          ${repeat(view.tiles, (tile) => tile.id, (tile) => this.#tile(tile, 'in-grid', tileSize))}
        </div>
        ${view.pageCount > 1 ? this.#pager(view) : nothing}
      </div>`;
  }

  #pager(view: View): TemplateResult {
    return html`<div part="pager" class="pager">
      <button part="page-button" type="button" aria-label="Previous page" ?disabled=${view.page === 0}
        @click=${() => this.#goToPage(view.page - 1)}>${icons.previous}</button>
      <span role="status">Page ${view.page + 1} of ${view.pageCount}</span>
      <button part="page-button" type="button" aria-label="Next page" ?disabled=${view.page >= view.pageCount - 1}
        @click=${() => this.#goToPage(view.page + 1)}>${icons.next}</button>
    </div>`;
  }

  /**
   * A tile is a toggle button named from its content: a visually hidden description that contains the
   * visible name (so "click Ana" works for voice control), with the initials and badges hidden from
   * assistive technology.
   */
  #tile(tile: Tile, place: 'in-grid' | 'on-stage' | 'in-strip', size: StyleInfo): TemplateResult {
    const pinned = this.pinned === tile.id;
    const media = this.#mediaOf(tile);
    const person = tile.type === 'person';
    const parts = ['tile', tile.local && 'self', !person && 'screen', tile.speaking && 'speaking', pinned && 'pinned']
      .filter(Boolean).join(' ');
    const classes = {
      tile: true, [place]: true, self: tile.local, screen: !person, speaking: tile.speaking, pinned, 'has-media': media !== undefined,
    };
    const mic = tile.media.microphone;
    return html`<div class=${classMap(classes)} part=${parts} style=${styleMap(size)}
        role="button" tabindex=${this.#focusId === tile.id ? 0 : -1} aria-pressed=${pinned ? 'true' : 'false'}
        data-id=${tile.id} data-participant=${tile.participantId}
        @click=${() => this.#togglePin(tile.id)}
        @keydown=${(event: KeyboardEvent) => this.#onKeyDown(event, tile.id)}
        @focus=${() => this.#onFocus(tile.id)}>
      <span class="label visually-hidden">${tileLabel(tile)}</span>
      <div part="avatar" class="avatar" aria-hidden="true"><span>${person ? initials(tile.name) : icons.screen}</span></div>
      ${media ?? nothing}
      <div class="overlay" aria-hidden="true">
        <span part="name" class="name">${tileName(tile)}</span>
        <span part="badges" class="badges">
          ${pinned ? html`<span part="badge badge-pin" class="badge" title="Pinned">${icons.pin}</span>` : nothing}
          ${person && mic !== 'on'
            ? html`<span part="badge badge-mic" class="badge ${mic}" data-state=${mic}
                title=${mic === 'muted' ? 'Microphone muted' : 'Microphone off'}>${icons.micOff}</span>`
            : nothing}
          ${person && tile.media.camera === 'off'
            ? html`<span part="badge badge-camera" class="badge" title="Camera off">${icons.cameraOff}</span>`
            : nothing}
        </span>
      </div>
    </div>`;
  }

  #togglePin(id: string): void {
    const next = this.pinned === id ? undefined : id;
    if (!emit(this, 'lan-pin', { trackId: next })) return;
    this.pinned = next;
  }

  #goToPage(page: number): void {
    this.#page = page;
    this.requestUpdate();
  }

  #onFocus(id: string): void {
    if (this.#focusId === id) return;
    this.#focusId = id;
    this.requestUpdate();
  }

  #onKeyDown(event: KeyboardEvent, id: string): void {
    const view = this.#view;
    if (!view || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      if (!event.repeat) this.#togglePin(id);
      return;
    }
    if (event.key === 'PageDown' || event.key === 'PageUp') {
      if (view.pageCount <= 1) return;
      event.preventDefault();
      this.#goToPage(view.page + (event.key === 'PageDown' ? 1 : -1));
      // Focus follows to the new page's first tile once it is rendered.
      void this.updateComplete.then(() => {
        const first = this.#view?.tiles[0];
        if (first) this.#tileElement(first.id)?.focus();
      });
      return;
    }
    const order = [...(view.stage ? [view.stage] : []), ...view.tiles].map((tile) => tile.id);
    const index = order.indexOf(id);
    const rowStep = view.stage ? 1 : Math.max(1, view.layout.columns);
    let target: number;
    switch (event.key) {
      case 'ArrowRight': target = index + 1; break;
      case 'ArrowLeft': target = index - 1; break;
      case 'ArrowDown': target = index + rowStep; break;
      case 'ArrowUp': target = index - rowStep; break;
      case 'Home': target = 0; break;
      case 'End': target = order.length - 1; break;
      default: return;
    }
    event.preventDefault();
    const next = order[Math.min(Math.max(0, target), order.length - 1)];
    if (next !== undefined) this.#tileElement(next)?.focus();
  }
}

function playStream(video: HTMLVideoElement, track: MediaStreamTrack): void {
  video.srcObject = new MediaStream([track]);
  video.play().catch(() => {
    // Muted inline video autoplays; `autoplay` retries when the page becomes visible.
  });
}

/** Your tile, everyone else's, and the screens being shared (others' first, then yours). */
function collectTiles(session: Session): { people: Tile[]; screens: Tile[] } {
  const speaker = session.activeSpeaker;
  const people: Tile[] = [];
  const remoteScreens: Tile[] = [];
  const localScreens: Tile[] = [];
  const me = session.local;
  const mine = [...me.tracks.values()].filter((track) => !track.ended);
  const myCamera = mine.find((track) => track.kind === 'camera' && !track.muted);
  const myCameraStream = myCamera && mediaStreamTrackOf(myCamera);
  people.push({
    id: me.id, type: 'person', participantId: me.id, name: me.name, local: true, media: mediaStateOf(mine),
    speaking: speaker === me.id, paused: false,
    video: myCamera && myCameraStream ? { local: myCamera, stream: myCameraStream } : undefined,
  });
  for (const track of mine) {
    if (track.kind !== 'screen') continue;
    const stream = mediaStreamTrackOf(track);
    localScreens.push({
      id: track.id, type: 'screen', participantId: me.id, name: me.name, local: true, media: mediaStateOf(mine),
      speaking: false, paused: track.muted, video: stream && !track.muted ? { local: track, stream } : undefined,
    });
  }
  for (const participant of session.participants.values()) {
    const tracks = [...participant.tracks.values()].filter((track) => !track.ended);
    const media = mediaStateOf(tracks);
    const camera = tracks.find((track) => track.kind === 'camera' && !track.muted);
    people.push({
      id: participant.id, type: 'person', participantId: participant.id, name: participant.name, local: false, media,
      speaking: speaker === participant.id, paused: false, video: camera ? { remote: camera } : undefined,
    });
    for (const track of tracks) {
      if (track.kind !== 'screen') continue;
      remoteScreens.push({
        id: track.id, type: 'screen', participantId: participant.id, name: participant.name, local: false, media,
        speaking: false, paused: track.muted, video: track.muted ? undefined : { remote: track },
      });
    }
  }
  return { people, screens: [...remoteScreens, ...localScreens] };
}

/** The name on a tile's badge. */
function tileName(tile: Tile): string {
  if (tile.type === 'screen') return tile.local ? 'Your screen' : `${tile.name}’s screen`;
  return tile.local ? `${tile.name} (you)` : tile.name;
}

/** A tile's accessible name: "Ana, camera on, microphone muted, speaking". */
function tileLabel(tile: Tile): string {
  if (tile.type === 'screen') return `${tileName(tile)}${tile.paused ? ', paused' : ''}`;
  const media = describeMedia({ ...tile.media, screen: false });
  return `${tileName(tile)}, ${media}${tile.speaking ? ', speaking' : ''}`;
}
