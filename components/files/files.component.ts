/**
 * `<lan-files>`: files shared in the meeting.
 * @module
 */
import { LitElement, html, nothing, svg, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { classMap } from 'lit/directives/class-map.js';
import { ifDefined } from 'lit/directives/if-defined.js';
import { repeat } from 'lit/directives/repeat.js';
import { styleMap } from 'lit/directives/style-map.js';
import type { Session, SessionEvents, SharedFile } from '../../sdk/index.js';
import { emit } from '../shared/events.js';
import { SessionController } from '../shared/session-controller.js';
import { filesStyles } from './files.styles.js';
import { safeFileName } from '../../sdk/files/names.js';
import { formatSize, percent } from './format.js';

/**
 * Where a shared file is:
 * * `uploading`: you are sending it (`progress` is the upload's);
 * * `offered`: someone shared it and it can be downloaded;
 * * `downloading`: you are receiving it (`progress` is the download's);
 * * `done`: sent, or received;
 * * `failed`: the transfer failed (`error` says why).
 */
export type FileItemState = 'uploading' | 'offered' | 'downloading' | 'done' | 'failed';

/** A file in the list of `<lan-files>`. */
export interface FileItem {
  /** Stable id (the SDK's file id). */
  id: string;
  /** File name, shown as text. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Display name of who shared it. */
  from: string;
  state: FileItemState;
  /** 0..1 while `uploading` or `downloading`; missing: unknown (an indeterminate bar). */
  progress?: number | undefined;
  /** `true` when you shared it (shown as "You", never offered for download). */
  local?: boolean | undefined;
  /** Why it failed, for `failed`. */
  error?: string | undefined;
}

/** The session events after which `session.files.list()` has changed. */
const FILE_EVENTS: ReadonlyArray<keyof SessionEvents> = ['fileOffered', 'fileProgress', 'fileCompleted', 'fileFailed'];

/** A file of `session.files.list()` as the element shows it. */
function toItem(file: SharedFile): FileItem {
  return {
    id: file.id, name: file.name, size: file.size, from: file.fromName, state: file.state,
    progress: file.progress, local: file.local, error: file.error,
  };
}

const fileIcon = html`<svg part="file-icon" class="file-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
  fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round">${svg`<path d="M6 3h8l4 4v14H6z"/><path d="M14 3v4h4"/>`}</svg>`;
const uploadIcon = html`<svg class="icon" width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
  fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${svg`<path d="M12 16V4M7 9l5-5 5 5M5 20h14"/>`}</svg>`;
const downloadIcon = html`<svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false"
  fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${svg`<path d="M12 4v12M7 11l5 5 5-5M5 20h14"/>`}</svg>`;

/**
 * Files shared in the meeting: share files (a button, or drag and drop onto the element), see every
 * shared file with its size, who shared it and the progress of its upload or download, and download them.
 *
 * With a session, the element shares through `session.files` (`send(file)`, `list()`, `download(id)`;
 * events `fileOffered`, `fileProgress`, `fileCompleted`, `fileFailed`) and keeps `items` from
 * `files.list()`: uploads with their progress, files offered by others, downloads (verified against the
 * file's SHA-256, then saved under a safe name). With a transfer of your own, cancel `lan-file-send` and
 * `lan-file-download`, and keep `items` up to date
 * (or call `upsertItem()` / `updateItem()` / `removeItem()`).
 *
 * @example
 * ```js
 * const files = document.querySelector('lan-files');
 * files.addEventListener('lan-file-send', (e) => {
 *   for (const f of e.detail.files) files.upsertItem({ id: crypto.randomUUID(), name: f.name, size: f.size, from: 'Ana', state: 'uploading', progress: 0, local: true });
 * });
 * ```
 *
 * @summary Shared files of a lanconf meeting, with upload and download progress.
 *
 * @event lan-file-send - The user chose or dropped files to share: `detail: { files: File[] }`. Cancel it
 *   to keep the element from handing them to `session.files`.
 * @event lan-file-download - The user asked for a file: `detail: { id }`. Cancel it to keep the element
 *   from calling `session.files.download(id)`.
 *
 * @slot empty - Shown while no file has been shared (default: "No files shared yet").
 * @slot hint - The text of the drop zone (default: "Drop files here to share them, or").
 *
 * @csspart base - The box around everything.
 * @csspart dropzone - The drop zone with the pick button; it is highlighted while files are dragged over the element.
 * @csspart pick-button - The button that opens the file picker.
 * @csspart list - The list of shared files.
 * @csspart empty - The list item shown while the list is empty.
 * @csspart item - One file.
 * @csspart file-icon - The file's icon.
 * @csspart name - The file's name.
 * @csspart meta - Size, sender and state.
 * @csspart progress - The progress bar track (`role="progressbar"`).
 * @csspart progress-bar - The filled part of the progress bar.
 * @csspart download-button - A file's download button.
 *
 * @cssproperty [--lan-files-progress-color=var(--lan-color-accent)] - Filled part of progress bars.
 * @cssproperty [--lan-files-progress-track=var(--lan-color-surface)] - Empty part of progress bars.
 * @cssproperty [--lan-files-progress-height=6px] - Height of progress bars.
 * @cssproperty [--lan-files-dropzone-border=2px dashed var(--lan-color-border)] - Border of the drop zone.
 * @cssproperty [--lan-files-error-color=--lan-color-danger mixed 60% with --lan-color-text] - Text of a failed transfer.
 * @cssproperty --lan-color-surface - Background of each file (global token).
 * @cssproperty --lan-color-accent - Pick button, progress and drop highlight (global token).
 * @cssproperty --lan-color-danger - Failed transfers (global token).
 */
export class LanFiles extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = filesStyles;

  static override properties: PropertyDeclarations = {
    session: { attribute: false },
    items: { attribute: false },
    accept: { type: String },
  };

  /** The session; default: the one provided by an enclosing `<lan-meeting>`. */
  declare session: Session | undefined;
  /** The shared files, oldest first. Replace the array (or use the methods) to update the list. */
  declare items: FileItem[];
  /** File types the picker offers (the `accept` of `<input type="file">`), e.g. `image/*,.pdf`. Default: any. */
  declare accept: string;

  readonly #s = new SessionController(this, FILE_EVENTS, () => this.#sync());
  /** The session whose files `items` shows. */
  #boundSession: Session | undefined;
  #dragging = false;
  #announcement = '';

  /** Made by `document.createElement('lan-files')` or the parser. */
  constructor() {
    super();
    this.items = [];
    this.accept = '';
    this.addEventListener('dragenter', this.#onDragOver);
    this.addEventListener('dragover', this.#onDragOver);
    this.addEventListener('dragleave', this.#onDragLeave);
    this.addEventListener('drop', this.#onDrop);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Connected again, the element reads the list afresh (the controller listens only while connected).
    this.#boundSession = undefined;
  }

  /** Opens the file picker (call it from a user gesture). */
  pick(): void {
    this.renderRoot.querySelector<HTMLInputElement>('input[type="file"]')?.click();
  }

  /** Shares `files` as if the user had chosen them: emits `lan-file-send`, then hands them to `session.files` if there is one. */
  async send(files: Iterable<File>): Promise<void> {
    const list = [...files];
    if (list.length === 0) return;
    if (!emit(this, 'lan-file-send', { files: list })) return;
    const shared = this.#s.session?.files;
    if (!shared) return;
    await Promise.all(list.map(async (file) => {
      try {
        await shared.send(file);
      } catch (error) {
        this.#announce(`${file.name} could not be shared: ${error instanceof Error ? error.message : String(error)}`);
      }
    }));
    this.#sync();
  }

  /** Adds a file, or replaces the one with the same id. */
  upsertItem(item: FileItem): void {
    const index = this.items.findIndex((i) => i.id === item.id);
    this.items = index < 0 ? [...this.items, item] : this.items.map((i, n) => (n === index ? item : i));
  }

  /** Changes some fields of a file (its progress, its state…). Unknown ids are ignored. */
  updateItem(id: string, patch: Partial<Omit<FileItem, 'id'>>): void {
    if (!this.items.some((i) => i.id === id)) return;
    this.items = this.items.map((i) => (i.id === id ? { ...i, ...patch } : i));
  }

  /** Removes a file from the list. */
  removeItem(id: string): void {
    this.items = this.items.filter((i) => i.id !== id);
  }

  // --- session.files -------------------------------------------------------------------------------

  protected override willUpdate(changed: PropertyValues<this>): void {
    const session = this.#s.session;
    if (session !== this.#boundSession) {
      this.#boundSession = session;
      // Without a session, `items` stays as it is: the page's own list.
      this.#sync();
    }
    if (changed.has('items')) this.#announceChanges(changed.get('items') as FileItem[] | undefined);
  }

  /** Shows `session.files.list()`: after each file event, a send and a download. */
  #sync(): void {
    const files = this.#s.session?.files;
    if (files) this.items = files.list().map(toItem);
  }

  async #download(item: FileItem): Promise<void> {
    if (!emit(this, 'lan-file-download', { id: item.id })) return;
    const files = this.#s.session?.files;
    if (!files) return;
    try {
      saveBlob(await files.download(item.id), safeFileName(item.name));
    } catch (error) {
      this.#announce(`${item.name} could not be downloaded: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.#sync();
  }

  // --- picking and dropping ------------------------------------------------------------------------

  #onPicked = (event: Event): void => {
    const input = event.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    // The same file can be picked again.
    input.value = '';
    void this.send(files);
  };

  #onDragOver = (event: DragEvent): void => {
    if (!event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    if (!this.#dragging) {
      this.#dragging = true;
      this.requestUpdate();
    }
  };

  #onDragLeave = (event: DragEvent): void => {
    // Leaving a child for another child is not leaving the element.
    const r = this.getBoundingClientRect();
    const inside = event.clientX > r.left && event.clientX < r.right && event.clientY > r.top && event.clientY < r.bottom;
    if (inside && event.clientX !== 0 && event.clientY !== 0) return;
    this.#dragging = false;
    this.requestUpdate();
  };

  #onDrop = (event: DragEvent): void => {
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    event.preventDefault();
    this.#dragging = false;
    this.requestUpdate();
    void this.send(files);
  };

  // --- announcements -------------------------------------------------------------------------------

  #announce(text: string): void {
    this.#announcement = text;
    this.requestUpdate();
  }

  /** Tells screen reader users what changed: a file offered, a transfer finished or failed. */
  #announceChanges(previous: FileItem[] | undefined): void {
    if (!previous) return;
    const before = new Map(previous.map((i) => [i.id, i]));
    const news: string[] = [];
    for (const item of this.items) {
      const old = before.get(item.id);
      if (!old && !item.local) news.push(`${item.from || 'Someone'} shared ${item.name}`);
      else if (old && old.state !== item.state) {
        if (item.state === 'done') news.push(`${item.name} ${item.local ? 'shared' : 'downloaded'}`);
        else if (item.state === 'failed') news.push(`${item.name} failed${item.error ? `: ${item.error}` : ''}`);
      }
    }
    if (news.length) this.#announcement = news.join('. ');
  }

  // --- rendering -----------------------------------------------------------------------------------

  override render(): TemplateResult {
    return html`
      <div part="base" class="base">
        <div part="dropzone" class=${classMap({ dropzone: true, dragging: this.#dragging })}>
          <span><slot name="hint">Drop files here to share them, or</slot></span>
          <button part="pick-button" class="pick" type="button" @click=${() => this.pick()}>${uploadIcon}Choose files</button>
          <input type="file" multiple tabindex="-1" aria-hidden="true" accept=${ifDefined(this.accept || undefined)} @change=${this.#onPicked}>
        </div>
        <ul part="list" class="list" aria-label="Shared files">
          ${this.items.length === 0
            ? html`<li part="empty" class="empty"><slot name="empty">No files shared yet</slot></li>`
            : repeat(this.items, (i) => i.id, (i) => this.#renderItem(i))}
        </ul>
        <div class="visually-hidden" role="status" aria-live="polite">${this.#announcement}</div>
      </div>
    `;
  }

  #renderItem(item: FileItem): TemplateResult {
    const transferring = item.state === 'uploading' || item.state === 'downloading';
    const canDownload = !item.local && (item.state === 'offered' || item.state === 'done' || item.state === 'failed');
    const pct = percent(item.progress);
    const size = formatSize(item.size);
    const status = statusText(item, pct);
    return html`<li part="item" class=${classMap({ item: true, [item.state]: true, local: !!item.local })}>
      ${fileIcon}
      <div class="info">
        <span part="name" class="name" title=${item.name}>${item.name}</span>
        <span part="meta" class="meta">${size} · ${item.local ? 'You' : item.from}${status
          ? html` · <span class=${item.state === 'failed' ? 'error-text' : ''}>${status}</span>` : nothing}</span>
        ${transferring ? html`<div part="progress" class=${classMap({ progress: true, indeterminate: pct === undefined })}
            role="progressbar" aria-label="${item.state === 'uploading' ? 'Uploading' : 'Downloading'} ${item.name}"
            aria-valuemin="0" aria-valuemax="100" aria-valuenow=${ifDefined(pct)}
            aria-valuetext=${ifDefined(pct === undefined ? undefined : `${pct}% of ${size}`)}>
            <div part="progress-bar" class="progress-bar" style=${styleMap(pct === undefined ? {} : { width: `${pct}%` })}></div>
          </div>` : nothing}
      </div>
      ${canDownload ? html`<button part="download-button" class="download" type="button"
          aria-label="${item.state === 'failed' ? 'Retry download of' : 'Download'} ${item.name}"
          @click=${() => void this.#download(item)}>${downloadIcon}<span class="text">${item.state === 'failed' ? 'Retry' : 'Download'}</span></button>`
        : html`<span></span>`}
    </li>`;
  }
}

function statusText(item: FileItem, pct: number | undefined): string {
  switch (item.state) {
    case 'uploading': return pct === undefined ? 'Sending…' : `Sending ${pct}%`;
    case 'downloading': return pct === undefined ? 'Downloading…' : `Downloading ${pct}%`;
    case 'done': return item.local ? 'Shared' : 'Downloaded';
    case 'failed': return item.error ? `Failed: ${item.error}` : 'Failed';
    case 'offered': return '';
  }
}

/** Saves a downloaded blob under `name` through a temporary link. */
function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
