/**
 * The device menus of `<lan-controls>` (the ▾ next to the microphone and camera buttons): listing the
 * machine's devices, choosing one, keyboard use, rendering and placement on screen.
 * @module
 */
import { html, nothing, type LitElement, type ReactiveController, type TemplateResult } from 'lit';
import { classMap } from 'lit/directives/class-map.js';
import { listDevices, type LocalMediaTrack, type LocalTrack, type MediaDeviceList, type Session, type TrackKind } from '../../sdk/index.js';
import { icon } from './icons.js';

/** A device menu: `mic` (microphones and speakers) or `camera`. */
export type MenuName = 'mic' | 'camera';

/** What a {@link DeviceMenuController} needs of its element. */
export interface DeviceMenuHost {
  /** The session whose devices are chosen. */
  session(): Session | undefined;
  /** The live local track of `kind`, if any: choosing a device switches it. */
  track(kind: TrackKind): LocalTrack | undefined;
  /** A failure to list or switch devices (`what`: the menu, or `speaker` for the audio output). */
  report(error: unknown, what: MenuName | 'speaker'): void;
  /** A device was chosen without error. */
  chosen(): void;
}

const KIND: Record<MenuName, TrackKind> = { mic: 'microphone', camera: 'camera' };

/**
 * The device menus of an element: which one is open, the devices listed, the devices chosen (kept for
 * when the microphone or camera is first turned on). The menu opens with Enter, Space or ↓ (↑: at its
 * last item), moves with ↑/↓, Home, End and type-ahead, chooses with Enter or Space and closes with
 * Escape (focus returns to its button), Tab, or a click elsewhere.
 *
 * The element renders each menu with {@link render} inside its shadow root.
 */
export class DeviceMenuController implements ReactiveController {
  readonly #el: LitElement;
  readonly #host: DeviceMenuHost;
  #menu: MenuName | undefined;
  #devices: MediaDeviceList | undefined;
  #chosen: { mic?: string; camera?: string; speaker?: string } = {};

  /** Adds itself to `el`'s controllers. */
  constructor(el: LitElement, host: DeviceMenuHost) {
    this.#el = el;
    this.#host = host;
    el.addController(this);
  }

  /** Listens for clicks outside an open menu and for devices coming and going. */
  hostConnected(): void {
    document.addEventListener('pointerdown', this.#onOutsidePointer, true);
    navigator.mediaDevices?.addEventListener?.('devicechange', this.#onDeviceChange);
  }

  /** Stops listening. */
  hostDisconnected(): void {
    document.removeEventListener('pointerdown', this.#onOutsidePointer, true);
    navigator.mediaDevices?.removeEventListener?.('devicechange', this.#onDeviceChange);
  }

  /** Keeps the open menu on screen: above its button unless there is no room, and shifted in from the edges. */
  hostUpdated(): void {
    const menu = this.#el.renderRoot.querySelector<HTMLElement>('.menu:not([hidden])');
    if (!menu) return;
    menu.classList.remove('below');
    menu.style.setProperty('--_shift', '0px');
    let rect = menu.getBoundingClientRect();
    if (rect.top < 8) {
      menu.classList.add('below');
      rect = menu.getBoundingClientRect();
    }
    const margin = 8;
    const shift = rect.right > innerWidth - margin ? innerWidth - margin - rect.right : rect.left < margin ? margin - rect.left : 0;
    if (shift) menu.style.setProperty('--_shift', `${Math.round(shift)}px`);
  }

  /** The device chosen in `menu`'s menu, for publishing it. */
  chosen(menu: MenuName): string | undefined {
    return this.#chosen[menu];
  }

  /** The element has a new session: its remote audio goes to the speaker chosen before, if any. */
  sessionChanged(session: Session | undefined): void {
    if (session && this.#chosen.speaker) void session.setAudioOutput(this.#chosen.speaker).catch(() => undefined);
  }

  /**
   * The toolbar item of a microphone or camera: its `button` and `tooltip` as the element made them,
   * the menu's own button (tabbable or not, for the toolbar's roving tabindex) and the menu.
   */
  render(menu: MenuName, button: TemplateResult, tooltip: TemplateResult, tabbable: boolean): TemplateResult {
    const expanded = this.#menu === menu;
    return html`<div class=${classMap({ item: true, 'menu-open': expanded })} data-item=${menu}>
      <div class="split">
        ${button}
        <button type="button" data-tb="${menu}-menu" data-menu=${menu} tabindex=${tabbable ? 0 : -1}
          part="button menu-button" class="menu-trigger"
          aria-label=${menu === 'mic' ? 'Microphone and speaker settings' : 'Camera settings'}
          aria-haspopup="menu" aria-expanded=${String(expanded)} aria-controls="menu-${menu}"
          @click=${this.#onTriggerClick} @keydown=${this.#onTriggerKeyDown}>${icon('chevron')}</button>
      </div>
      ${tooltip}
      ${this.#renderMenu(menu, expanded)}
    </div>`;
  }

  async #choose(menu: MenuName, role: 'input' | 'speaker', deviceId: string): Promise<void> {
    this.#closeMenu(true);
    try {
      if (role === 'speaker') {
        this.#chosen.speaker = deviceId;
        await this.#host.session()?.setAudioOutput(deviceId);
      } else {
        this.#chosen[menu] = deviceId;
        const track = this.#host.track(KIND[menu]) as Partial<LocalMediaTrack> | undefined;
        if (track && typeof track.switchDevice === 'function') await track.switchDevice(deviceId);
      }
      this.#host.chosen();
    } catch (error) {
      this.#host.report(error, role === 'speaker' ? 'speaker' : menu);
    }
    this.#el.requestUpdate();
  }

  async #openMenu(menu: MenuName, focus: 'first' | 'last' | 'checked'): Promise<void> {
    this.#menu = menu;
    this.#el.requestUpdate();
    await this.#el.updateComplete;
    this.#focusMenuItem(focus);
    // Labels appear once a device has been opened, and devices come and go: list them on every opening.
    try {
      this.#devices = await listDevices();
    } catch (error) {
      this.#host.report(error, menu);
    }
    if (this.#menu !== menu) return;
    const hadFocus = this.#menuItems().some((item) => item === this.#el.shadowRoot?.activeElement);
    this.#el.requestUpdate();
    await this.#el.updateComplete;
    if (!hadFocus) this.#focusMenuItem(focus);
  }

  #closeMenu(refocus: boolean): void {
    const menu = this.#menu;
    if (!menu) return;
    this.#menu = undefined;
    this.#el.requestUpdate();
    if (refocus) void this.#el.updateComplete.then(() => this.#trigger(menu)?.focus());
  }

  #trigger(menu: MenuName): HTMLButtonElement | null {
    return this.#el.renderRoot.querySelector<HTMLButtonElement>(`[data-tb="${menu}-menu"]`);
  }

  #menuItems(): HTMLButtonElement[] {
    return [...this.#el.renderRoot.querySelectorAll<HTMLButtonElement>('.menu:not([hidden]) .menu-item')];
  }

  #focusMenuItem(which: 'first' | 'last' | 'checked' | number): void {
    const items = this.#menuItems();
    if (items.length === 0) {
      this.#el.renderRoot.querySelector<HTMLElement>('.menu:not([hidden])')?.focus();
      return;
    }
    let index: number;
    if (which === 'first') index = 0;
    else if (which === 'last') index = items.length - 1;
    else if (which === 'checked') index = Math.max(0, items.findIndex((i) => i.getAttribute('aria-checked') === 'true'));
    else index = (which + items.length) % items.length;
    items[index]?.focus();
  }

  #onTriggerKeyDown = (event: KeyboardEvent): void => {
    const menu = (event.currentTarget as HTMLElement).dataset.menu as MenuName;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      event.stopPropagation();
      void this.#openMenu(menu, event.key === 'ArrowDown' ? 'first' : 'last');
    }
  };

  #onTriggerClick = (event: MouseEvent): void => {
    const menu = (event.currentTarget as HTMLElement).dataset.menu as MenuName;
    if (this.#menu === menu) this.#closeMenu(false);
    else void this.#openMenu(menu, 'checked');
  };

  #onMenuKeyDown = (event: KeyboardEvent): void => {
    const items = this.#menuItems();
    const index = items.findIndex((i) => i === this.#el.shadowRoot?.activeElement);
    let handled = true;
    switch (event.key) {
      case 'ArrowDown': this.#focusMenuItem(index + 1); break;
      case 'ArrowUp': this.#focusMenuItem(index < 0 ? -1 : index - 1); break;
      case 'Home': this.#focusMenuItem('first'); break;
      case 'End': this.#focusMenuItem('last'); break;
      case 'Escape': this.#closeMenu(true); break;
      case 'Tab': this.#closeMenu(false); handled = false; break;
      default: {
        // Type-ahead: the next item starting with the letter typed.
        if (event.key.length === 1 && /\S/.test(event.key) && !event.ctrlKey && !event.metaKey && !event.altKey) {
          const letter = event.key.toLowerCase();
          const order = [...items.slice(index + 1), ...items.slice(0, index + 1)];
          order.find((i) => i.textContent?.trim().toLowerCase().startsWith(letter))?.focus();
        } else handled = false;
      }
    }
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };

  #onMenuFocusOut = (event: FocusEvent): void => {
    const next = event.relatedTarget as Node | null;
    const menu = this.#menu;
    if (!menu || !next) return;
    const item = this.#el.renderRoot.querySelector(`[data-item="${menu}"]`);
    if (!item?.contains(next)) this.#closeMenu(false);
  };

  #onOutsidePointer = (event: PointerEvent): void => {
    if (!this.#menu) return;
    const item = this.#el.renderRoot.querySelector(`[data-item="${this.#menu}"]`);
    if (item && !event.composedPath().includes(item)) this.#closeMenu(false);
  };

  #onDeviceChange = (): void => {
    if (!this.#menu) return;
    void listDevices().then((devices) => {
      this.#devices = devices;
      this.#el.requestUpdate();
    }, () => undefined);
  };

  #renderMenu(menu: MenuName, expanded: boolean): TemplateResult {
    const label = menu === 'mic' ? 'Audio devices' : 'Cameras';
    return html`<div part="menu" class="menu" role="menu" id="menu-${menu}" aria-label=${label} tabindex="-1"
      ?hidden=${!expanded} @keydown=${this.#onMenuKeyDown} @focusout=${this.#onMenuFocusOut}>
      ${!expanded ? nothing : !this.#devices
        ? html`<div class="menu-empty" role="none">Looking for devices…</div>`
        : menu === 'mic'
          ? html`${this.#renderGroup('mic', 'input', 'Microphone', this.#devices.microphones)}
              ${this.#devices.speakers.length
                ? html`<hr class="menu-separator" role="separator">${this.#renderGroup('mic', 'speaker', 'Speaker', this.#devices.speakers)}`
                : nothing}`
          : this.#renderGroup('camera', 'input', 'Camera', this.#devices.cameras)}
    </div>`;
  }

  #renderGroup(menu: MenuName, role: 'input' | 'speaker', heading: string, devices: MediaDeviceInfo[]): TemplateResult {
    const id = `menu-${menu}-${role}`;
    const current = this.#currentDevice(menu, role, devices);
    return html`<div role="group" aria-labelledby=${id}>
      <div part="menu-heading" class="menu-heading" id=${id} role="presentation">${heading}</div>
      ${devices.length === 0
        ? html`<div class="menu-empty" role="none">None found</div>`
        : devices.map((device, i) => html`<button type="button" part="menu-item" class="menu-item" role="menuitemradio"
            tabindex="-1" aria-checked=${String(device.deviceId === current)} data-device=${device.deviceId}
            @click=${() => void this.#choose(menu, role, device.deviceId)}>
            <span class="check" aria-hidden="true">${device.deviceId === current ? '✓' : ''}</span>
            <span>${device.label || `${heading} ${i + 1}`}</span>
          </button>`)}
    </div>`;
  }

  /** The device in use (from the live track), else the one chosen, else the browser's default. */
  #currentDevice(menu: MenuName, role: 'input' | 'speaker', devices: MediaDeviceInfo[]): string | undefined {
    let id: string | undefined;
    if (role === 'speaker') id = this.#chosen.speaker;
    else {
      const track = this.#host.track(KIND[menu]) as Partial<LocalMediaTrack> | undefined;
      id = track?.mediaStreamTrack?.getSettings().deviceId ?? this.#chosen[menu];
    }
    if (id && devices.some((d) => d.deviceId === id)) return id;
    return devices.find((d) => d.deviceId === 'default')?.deviceId ?? devices[0]?.deviceId;
  }
}
