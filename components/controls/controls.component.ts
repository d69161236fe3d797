/**
 * `<lan-controls>`: the meeting's control bar.
 * @module
 */
import { LitElement, html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import { classMap } from 'lit/directives/class-map.js';
import type { LocalTrack, Session, TrackKind } from '../../sdk/index.js';
import { deviceError, type Device } from '../shared/device-errors.js';
import { emit } from '../shared/events.js';
import { SessionController } from '../shared/session-controller.js';
import { controlsStyles } from './controls.styles.js';
import { DeviceMenuController } from './device-menu.js';
import { icon, type IconName } from './icons.js';

/** The buttons of `<lan-controls>`, in the order they appear. */
export type ControlName = 'mic' | 'camera' | 'screen' | 'chat' | 'files' | 'participants' | 'leave';

const ALL_CONTROLS: readonly ControlName[] = ['mic', 'camera', 'screen', 'chat', 'files', 'participants', 'leave'];
type MediaControl = 'mic' | 'camera' | 'screen';
/** The controls that open a side panel. */
export type PanelControl = 'chat' | 'files' | 'participants';

const KIND: Record<MediaControl, TrackKind> = { mic: 'microphone', camera: 'camera', screen: 'screen' };
const LABEL: Record<ControlName, string> = {
  mic: 'Microphone', camera: 'Camera', screen: 'Share screen', chat: 'Chat', files: 'Files',
  participants: 'Participants', leave: 'Leave',
};
const ICON: Record<ControlName, IconName> = {
  mic: 'mic', camera: 'camera', screen: 'screen', chat: 'chat', files: 'files', participants: 'participants', leave: 'leave',
};
const SHORTCUT_KEY: Partial<Record<ControlName, string>> = { mic: 'd', camera: 'e' };

const isMac = () => /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/**
 * The meeting's control bar: microphone, camera, screen sharing, the chat, files and participants
 * panels, and leaving; wired to the session.
 *
 * * **Microphone** and **camera** publish on first use (`session.publishMicrophone()` /
 *   `publishCamera()`), then mute and unmute the published track. Their menus (the ▾ next to them) list
 *   the machine's microphones and speakers, or cameras: choosing one switches the live track
 *   (`track.switchDevice(id)`), or the remote audio output (`session.setAudioOutput(id)`); before
 *   publishing, the choice is kept for when the device is first turned on.
 * * **Share screen** publishes the screen (`session.publishScreen()`) or stops sharing it.
 * * **Chat**, **Files** and **Participants** only say so (`lan-toggle`) and press their button: one
 *   panel at a time, in `panel`; the page (or `<lan-meeting>`) shows the panels and sets `panel` to match.
 * * **Leave** emits `lan-leave`, then calls `session.leave()` unless a listener cancelled the event (to ask first).
 *
 * Failures (camera permission denied, no microphone…) are emitted as `lan-error`; when no listener
 * calls `preventDefault()` on it, the bar shows the message itself.
 *
 * Keyboard: the bar is a toolbar (one Tab stop; ←/→, Home and End move between buttons). A device menu
 * opens with Enter, Space or ↓ (↑: at its last item), moves with ↑/↓, Home and End, chooses with Enter
 * or Space and closes with Escape (focus returns to its button) or Tab.
 *
 * Shortcuts, anywhere on the page while focus is not in a text field (off with `no-shortcuts`):
 * * **Ctrl+D** (⌘D on a Mac): microphone on/off
 * * **Ctrl+E** (⌘E on a Mac): camera on/off
 *
 * @example
 * ```html
 * <lan-controls controls="mic camera screen leave"></lan-controls>
 * ```
 *
 * @summary Microphone, camera, screen, panels and leave buttons for a lanconf meeting.
 *
 * @event lan-toggle - A control changed state: `detail: { control, on }` with `control` one of `mic`,
 *   `camera`, `screen`, `chat`, `files`, `participants`. Cancelling it for a panel control keeps the panel state.
 * @event lan-leave - The user pressed Leave; cancel it to keep the session (e.g. to confirm first).
 * @event lan-error - A device or publish failure: `detail: { error }`; `error.name` is the browser's
 *   (`NotAllowedError`, `NotFoundError`…), `error.cause` the original error. Cancel it to show it yourself.
 *
 * @csspart base - The toolbar.
 * @csspart button - Every button of the bar (also the menu buttons).
 * @csspart mic-button - The microphone button.
 * @csspart camera-button - The camera button.
 * @csspart screen-button - The screen sharing button.
 * @csspart chat-button - The chat button.
 * @csspart files-button - The files button.
 * @csspart participants-button - The participants button.
 * @csspart leave-button - The leave button.
 * @csspart menu-button - A button that opens a device menu.
 * @csspart menu - A device menu.
 * @csspart menu-heading - A group heading inside a menu ("Microphone", "Speaker").
 * @csspart menu-item - A device in a menu.
 * @csspart label - A button's text.
 * @csspart icon - A button's icon.
 * @csspart badge - The unread count on the chat button.
 * @csspart tooltip - A button's tooltip (what it does and its shortcut).
 * @csspart error - The last error, when not handled by the page.
 *
 * @cssproperty [--lan-controls-bg=var(--lan-color-bg)] - Background of the bar.
 * @cssproperty [--lan-controls-button-size=44px] - Smallest width and height of a button.
 * @cssproperty [--lan-controls-gap=var(--lan-gap)] - Space between buttons.
 * @cssproperty [--lan-controls-off-color=--lan-color-danger mixed 60% with --lan-color-text] - Icon of a microphone
 *   or camera that is off, and the error text.
 * @cssproperty [--lan-controls-badge-bg=var(--lan-color-danger)] - Background of the unread badge.
 * @cssproperty --lan-color-accent - Buttons that are on (global token).
 * @cssproperty --lan-color-surface - Buttons that are off (global token).
 * @cssproperty --lan-color-danger - The leave button and errors (global token).
 */
export class LanControls extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = controlsStyles;

  static override properties: PropertyDeclarations = {
    session: { attribute: false },
    controls: { type: String },
    noShortcuts: { type: Boolean, attribute: 'no-shortcuts', reflect: true },
    panel: { type: String, reflect: true },
    unread: { type: Number },
  };

  /** The session to control; default: the one provided by an enclosing `<lan-meeting>`. */
  declare session: Session | undefined;
  /** Which buttons to show, space-separated, in any order. Default: all: `mic camera screen chat files participants leave`. */
  declare controls: string;
  /** Turns the keyboard shortcuts off. Attribute: `no-shortcuts`. */
  declare noShortcuts: boolean;
  /**
   * The side panel shown now: `chat`, `files`, `participants`, or `''` for none. Its button is pressed;
   * pressing another one switches to it (`lan-toggle` says so), pressing it again closes it.
   */
  declare panel: PanelControl | '';
  /** Unread chat messages, shown as a badge on the chat button (e.g. `<lan-chat>`'s `unread`). */
  declare unread: number;

  // Tracks published by the page or another element change what the buttons show.
  readonly #s = new SessionController(this, ['localTrackPublished', 'localTrackUnpublished']);
  readonly #busy = new Set<ControlName>();
  readonly #watched = new Map<LocalTrack, () => void>();
  readonly #menus = new DeviceMenuController(this, {
    session: () => this.#s.session,
    track: (kind) => this.#track(kind),
    report: (error, what) => this.#report(error, what),
    chosen: () => {
      this.#error = '';
    },
  });
  #boundSession: Session | undefined;
  #error = '';
  /** The toolbar item that takes Tab focus (roving tabindex). */
  #current = 'mic';

  /** Made by `document.createElement('lan-controls')` or the parser. */
  constructor() {
    super();
    this.controls = ALL_CONTROLS.join(' ');
    this.noShortcuts = false;
    this.panel = '';
    this.unread = 0;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('keydown', this.#onShortcut);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('keydown', this.#onShortcut);
    this.#unwatchAll();
  }

  /** Toggles a control as if its button was pressed (`leave` leaves). */
  async toggle(control: ControlName): Promise<void> {
    if (control === 'mic' || control === 'camera' || control === 'screen') await this.#toggleMedia(control);
    else if (control === 'leave') await this.#leave();
    else this.#togglePanel(control);
  }

  /** Moves the focus to a control's button (e.g. back to the chat button when its panel closes). */
  focusControl(control: ControlName): void {
    const button = this.renderRoot.querySelector<HTMLButtonElement>(`[data-tb="${control}"]`);
    if (!button) return;
    this.#current = control;
    this.requestUpdate();
    button.focus();
  }

  // --- state ---------------------------------------------------------------------------------------

  get #shown(): Set<ControlName> {
    const asked = new Set(this.controls.split(/[\s,]+/).filter(Boolean));
    const shown = new Set(ALL_CONTROLS.filter((c) => asked.has(c)));
    if (typeof navigator.mediaDevices?.getDisplayMedia !== 'function') shown.delete('screen');
    return shown;
  }

  #open(): Session | undefined {
    const session = this.#s.session;
    return session?.state === 'connected' ? session : undefined;
  }

  #track(kind: TrackKind): LocalTrack | undefined {
    const session = this.#s.session;
    if (!session) return undefined;
    for (const track of session.local.tracks.values()) if (track.kind === kind && !track.ended) return track;
    return undefined;
  }

  #isOn(control: ControlName): boolean {
    switch (control) {
      case 'mic':
      case 'camera': {
        const track = this.#track(KIND[control]);
        return !!track && !track.muted;
      }
      case 'screen':
        return !!this.#track('screen');
      case 'chat':
      case 'files':
      case 'participants':
        return this.panel === control;
      case 'leave':
        return false;
    }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    const session = this.#s.session;
    if (session !== this.#boundSession) {
      this.#boundSession = session;
      this.#unwatchAll();
      this.#error = '';
      this.#menus.sessionChanged(session);
    }
    // Follow mute and end of every local track, whoever published or muted it.
    if (session) {
      for (const track of session.local.tracks.values()) {
        if (this.#watched.has(track) || track.ended) continue;
        const update = () => this.requestUpdate();
        track.on('muted', update).on('ended', update);
        this.#watched.set(track, () => track.off('muted', update).off('ended', update));
      }
    }
    for (const [track, off] of this.#watched) {
      if (track.ended) {
        off();
        this.#watched.delete(track);
      }
    }
  }

  #unwatchAll(): void {
    for (const off of this.#watched.values()) off();
    this.#watched.clear();
  }

  // --- actions -------------------------------------------------------------------------------------

  async #toggleMedia(control: MediaControl): Promise<void> {
    const session = this.#open();
    if (!session || this.#busy.has(control)) return;
    this.#busy.add(control);
    this.requestUpdate();
    try {
      const track = this.#track(KIND[control]);
      let on: boolean;
      if (control === 'screen') {
        if (track) await track.unpublish();
        else await session.publishScreen();
        on = !track;
      } else if (!track) {
        const deviceId = this.#menus.chosen(control);
        const options = deviceId ? { deviceId } : {};
        await (control === 'mic' ? session.publishMicrophone(options) : session.publishCamera(options));
        on = true;
      } else if (track.muted) {
        await track.unmute();
        on = true;
      } else {
        await track.mute();
        on = false;
      }
      this.#error = '';
      emit(this, 'lan-toggle', { control, on });
    } catch (error) {
      this.#report(error, control);
    } finally {
      this.#busy.delete(control);
      this.requestUpdate();
    }
  }

  #togglePanel(control: PanelControl): void {
    const previous = this.panel;
    const on = previous !== control;
    this.panel = on ? control : '';
    if (!emit(this, 'lan-toggle', { control, on })) this.panel = previous;
  }

  async #leave(): Promise<void> {
    const session = this.#open();
    if (!session || this.#busy.has('leave')) return;
    if (!emit(this, 'lan-leave', {})) return;
    this.#busy.add('leave');
    this.requestUpdate();
    try {
      await session.leave();
    } catch (error) {
      this.#report(error, 'leave');
    } finally {
      this.#busy.delete('leave');
      this.requestUpdate();
    }
  }

  #report(error: unknown, what: ControlName | 'speaker'): void {
    const reported = describeMediaError(error, what);
    if (emit(this, 'lan-error', { error: reported })) this.#error = reported.message;
    this.requestUpdate();
  }

  // --- toolbar keyboard and shortcuts --------------------------------------------------------------

  #toolbarItems(): HTMLButtonElement[] {
    return [...this.renderRoot.querySelectorAll<HTMLButtonElement>('[data-tb]:not([disabled])')];
  }

  #onToolbarKeyDown = (event: KeyboardEvent): void => {
    const items = this.#toolbarItems();
    const index = items.findIndex((i) => i === this.shadowRoot?.activeElement);
    if (index < 0) return;
    const rtl = getComputedStyle(this).direction === 'rtl';
    let next: number;
    switch (event.key) {
      case 'ArrowRight': next = index + (rtl ? -1 : 1); break;
      case 'ArrowLeft': next = index + (rtl ? 1 : -1); break;
      case 'Home': next = 0; break;
      case 'End': next = items.length - 1; break;
      default: return;
    }
    event.preventDefault();
    items[(next + items.length) % items.length]?.focus();
  };

  #onToolbarFocusIn = (event: FocusEvent): void => {
    const id = (event.target as HTMLElement).dataset?.tb;
    if (id && id !== this.#current) {
      this.#current = id;
      this.requestUpdate();
    }
  };

  #onShortcut = (event: KeyboardEvent): void => {
    if (this.noShortcuts || event.defaultPrevented || event.repeat || event.altKey || event.shiftKey) return;
    if (!(isMac() ? event.metaKey : event.ctrlKey)) return;
    if (isTextField(event.composedPath()[0])) return;
    const key = event.key.toLowerCase();
    const control = key === SHORTCUT_KEY.mic ? 'mic' : key === SHORTCUT_KEY.camera ? 'camera' : undefined;
    if (!control || !this.#shown.has(control) || !this.#open()) return;
    event.preventDefault();
    void this.#toggleMedia(control);
  };

  // --- rendering -----------------------------------------------------------------------------------

  override render(): TemplateResult {
    const shown = this.#shown;
    const open = !!this.#open();
    const order = [...shown];
    const tabbable = this.#tabbable(order, open);
    return html`
      <div part="base" class="base" role="toolbar" aria-label="Meeting controls"
        @keydown=${this.#onToolbarKeyDown} @focusin=${this.#onToolbarFocusIn}>
        ${order.map((control) => this.#renderControl(control, open, tabbable))}
      </div>
      <div part="error" class="error" role="alert">${this.#error
        ? html`<span>${this.#error}</span><button type="button" part="button" @click=${() => { this.#error = ''; this.requestUpdate(); }}>Dismiss</button>`
        : nothing}</div>
    `;
  }

  /** The toolbar item that gets tabindex 0: the last focused one, if it can still take focus. */
  #tabbable(order: ControlName[], open: boolean): string {
    const enabled: string[] = [];
    for (const control of order) {
      if (this.#enabled(control, open)) enabled.push(control);
      if (control === 'mic' || control === 'camera') enabled.push(`${control}-menu`);
    }
    return enabled.includes(this.#current) ? this.#current : (enabled[0] ?? '');
  }

  #enabled(control: ControlName, open: boolean): boolean {
    return control === 'chat' || control === 'files' || control === 'participants' || open;
  }

  #renderControl(control: ControlName, open: boolean, tabbable: string): TemplateResult {
    const on = this.#isOn(control);
    const busy = this.#busy.has(control);
    const media = control === 'mic' || control === 'camera';
    const toggle = control !== 'leave';
    const shortcut = SHORTCUT_KEY[control];
    const shortcutText = shortcut ? ` (${isMac() ? '⌘' : 'Ctrl+'}${shortcut.toUpperCase()})` : '';
    const tip = `${tooltipText(control, on)}${this.noShortcuts ? '' : shortcutText}`;
    const badge = control === 'chat' && this.unread > 0 ? this.unread : 0;
    const button = html`<button type="button" data-tb=${control} tabindex=${tabbable === control ? 0 : -1}
      part="button ${control}-button"
      class=${classMap({ control: true, off: media && !on && open, danger: control === 'leave' })}
      aria-pressed=${toggle ? String(on) : nothing} aria-busy=${busy ? 'true' : 'false'}
      aria-describedby="tip-${control}"
      aria-keyshortcuts=${shortcut && !this.noShortcuts ? `${isMac() ? 'Meta' : 'Control'}+${shortcut.toUpperCase()}` : nothing}
      ?disabled=${!this.#enabled(control, open)} @click=${() => void this.toggle(control)}>
      ${icon(ICON[control], media && !on)}
      <span part="label" class="label">${LABEL[control]}${badge ? html`<span class="visually-hidden">, ${badge} unread</span>` : nothing}</span>
      ${badge ? html`<span part="badge" class="badge" aria-hidden="true">${badge > 99 ? '99+' : badge}</span>` : nothing}
    </button>`;
    const tooltip = html`<span part="tooltip" class="tooltip" id="tip-${control}" role="tooltip">${tip}</span>`;
    if (control !== 'mic' && control !== 'camera') return html`<div class="item">${button}${tooltip}</div>`;
    return this.#menus.render(control, button, tooltip, tabbable === `${control}-menu`);
  }
}

function tooltipText(control: ControlName, on: boolean): string {
  switch (control) {
    case 'mic': return on ? 'Turn off microphone' : 'Turn on microphone';
    case 'camera': return on ? 'Turn off camera' : 'Turn on camera';
    case 'screen': return on ? 'Stop sharing your screen' : 'Share your screen';
    case 'chat': return on ? 'Hide chat' : 'Show chat';
    case 'files': return on ? 'Hide files' : 'Show files';
    case 'participants': return on ? 'Hide participants' : 'Show participants';
    case 'leave': return 'Leave the meeting';
  }
}

const TEXT_INPUT_TYPES = new Set(['text', 'search', 'email', 'url', 'tel', 'password', 'number', 'date', 'time',
  'datetime-local', 'month', 'week']);

/** Whether a key press there is typing (a shortcut must not steal it). */
function isTextField(target: EventTarget | undefined): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && TEXT_INPUT_TYPES.has(target.type);
}

const DEVICE: Partial<Record<ControlName | 'speaker', Device>> = { mic: 'microphone', camera: 'camera', screen: 'screen', speaker: 'speaker' };

/**
 * What went wrong, in words a participant understands (for a device, the same sentence as the pre-join
 * screen's); the error's name is kept and the error itself stays as `cause`.
 */
export function describeMediaError(error: unknown, what: ControlName | 'speaker'): Error {
  const device = DEVICE[what];
  if (device) return deviceError(error, device);
  const described = new Error(error instanceof Error ? error.message : String(error), { cause: error });
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === 'string') described.name = name;
  return described;
}
