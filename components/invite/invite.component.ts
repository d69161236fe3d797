/**
 * `<lan-invite>`: the Invite button and its dialog (the meeting's link, its QR code, Copy).
 * @module
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import type { Session } from '../../sdk/index.js';
import { emit } from '../shared/events.js';
import { largeIcons as icons } from '../shared/icons.js';
import { SessionController } from '../shared/session-controller.js';
import { tokens } from '../shared/theme.js';
import { relayUrlOf } from '../prejoin/join.js';
import { inviteLinkOf, qrCodeSrcOf } from './link.js';
import { inviteStyles } from './invite.styles.js';

const isMac = () => /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/**
 * An "Invite" button that opens a dialog with the meeting's link: as text to select, as a QR code for a
 * phone on the same network, and a Copy button. `<lan-meeting>` shows one in its top bar.
 *
 * The link is `url` when set, else the page's own URL with `?meeting=<id>` set (and no `name`, which is
 * the inviter's own). The QR code is drawn by the relay (`/trust/qr.svg?text=…`, an SVG): the element
 * carries no QR encoder. It asks the relay over plain HTTP from a plain HTTP page (so it shows even where
 * the relay's certificate is not trusted yet), over HTTPS from an HTTPS page; when the relay draws none
 * (a relay without its own certificate authority), the dialog says so and the link is still there.
 *
 * Copy uses `navigator.clipboard.writeText`; where the browser refuses it (a plain HTTP page on the
 * LAN has no clipboard API), it selects the link and copies it the old way, or asks for Ctrl+C (⌘C).
 *
 * The dialog is a modal `<dialog>` named by its heading: Escape, the close button or a click outside
 * closes it, and the focus goes back to the Invite button.
 *
 * @summary Invite button: the meeting's link, its QR code and Copy, in a dialog.
 *
 * @example
 * ```html
 * <lan-invite relay="https://192.168.1.20:8787" meeting="Standup"></lan-invite>
 * <lan-invite url="https://intranet.example/standup" relay="https://192.168.1.20:8787"></lan-invite>
 * ```
 *
 * @event lan-invite - The dialog opens: `detail.url`, the link it shows. Cancel it to show your own instead.
 *
 * @csspart button - The Invite button.
 * @csspart label - The Invite button's text.
 * @csspart dialog - The `<dialog>`.
 * @csspart heading - The dialog's heading ("Invite people").
 * @csspart link - The read-only field with the link (a `<textarea>`: a long link wraps, whole).
 * @csspart qr - The box around the QR code.
 * @csspart qr-image - The QR code (`<img>`).
 * @csspart copy-button - The Copy button.
 * @csspart copy-status - "Copied", or what to do when the browser would not copy (`role="status"`).
 * @csspart close-button - The dialog's close button.
 *
 * @cssproperty [--lan-invite-width=560px] - Largest width of the dialog.
 * @cssproperty [--lan-invite-qr-size=200px] - Size of the QR code.
 * @cssproperty [--lan-invite-backdrop=rgb(0 0 0 / 0.45)] - What covers the page behind the dialog.
 * @cssproperty --lan-color-accent - The Copy button (global token).
 */
export class LanInvite extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = [tokens, inviteStyles];

  /** Its reactive properties (Lit, without decorators). */
  static override properties = {
    url: { type: String },
    meeting: { type: String },
    relay: { type: String },
    session: { attribute: false },
    _open: { state: true },
    _copyStatus: { state: true },
    _failedQr: { state: true },
  };

  /** The link to share. Empty: the page's URL with `?meeting=<id>` set (and `name` removed). */
  declare url: string;
  /** The meeting's id. Empty: the session's. */
  declare meeting: string;
  /** The relay that draws the QR code. Empty: the page's own origin (the relay serves the page). */
  declare relay: string;
  /** The session whose meeting is shared; default: the one provided by an enclosing `<lan-meeting>`. */
  declare session: Session | undefined;

  declare private _open: boolean;
  declare private _copyStatus: string;
  declare private _failedQr: string;

  readonly #s = new SessionController(this, []);

  /** Makes the element; `document.createElement('lan-invite')` or the tag in HTML calls it. */
  constructor() {
    super();
    this.url = '';
    this.meeting = '';
    this.relay = '';
    this.session = undefined;
    this._open = false;
    this._copyStatus = '';
    this._failedQr = '';
  }

  /** The link the dialog shows and copies. */
  get link(): string {
    if (this.url.trim()) return this.url.trim();
    return inviteLinkOf(this.meeting.trim() || this.#s.session?.meeting || '', location.href);
  }

  /** `true` while the dialog is open. */
  get open(): boolean {
    return this._open;
  }

  /** Where the QR code comes from; empty when the relay's URL is not one. */
  get #qrSrc(): string {
    try {
      return qrCodeSrcOf(this.link, relayUrlOf(this.relay), location.protocol);
    } catch {
      return '';
    }
  }

  /** Opens the dialog (what the button does), after `lan-invite`, unless a listener cancelled it. */
  async show(): Promise<void> {
    if (this._open) return;
    if (!emit(this, 'lan-invite', { url: this.link })) return;
    this._copyStatus = '';
    this._open = true;
    await this.updateComplete;
    const dialog = this.renderRoot.querySelector('dialog');
    if (dialog && !dialog.open) dialog.showModal();
    // The link is what people came for: focused and selected, ready for Ctrl+C.
    this.renderRoot.querySelector<HTMLTextAreaElement>('#link')?.focus();
  }

  /** Closes the dialog; the focus goes back to the Invite button. */
  close(): void {
    this.renderRoot.querySelector('dialog')?.close();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._open = false;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('url') || changed.has('meeting')) this._copyStatus = '';
  }

  #onClose(): void {
    this._open = false;
    // Back to the button that opened it (the browser may have moved the focus already).
    const button = this.renderRoot.querySelector<HTMLButtonElement>('button.invite');
    const active = this.shadowRoot?.activeElement;
    if (button && active !== button) button.focus();
  }

  #onDialogClick(e: MouseEvent): void {
    // A click on the backdrop lands on the <dialog> itself (its content fills it): close.
    if (e.target === e.currentTarget) this.close();
  }

  async #copy(): Promise<void> {
    const link = this.link;
    try {
      if (!navigator.clipboard?.writeText) throw new Error('no clipboard API here');
      await navigator.clipboard.writeText(link);
      this._copyStatus = 'Copied';
      return;
    } catch {
      // Refused (no permission, not a secure page…): select the link, and try the older way.
    }
    const field = this.renderRoot.querySelector<HTMLTextAreaElement>('#link');
    field?.focus();
    field?.select();
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
    this._copyStatus = copied ? 'Copied' : `The link is selected: press ${isMac() ? '⌘C' : 'Ctrl+C'} to copy it.`;
  }

  override render(): TemplateResult {
    const link = this.link;
    const qr = this._open ? this.#qrSrc : '';
    return html`<button part="button" class="invite" type="button" aria-haspopup="dialog" aria-expanded=${this._open ? 'true' : 'false'}
        @click=${() => void this.show()}>${icons.invite}<span part="label" class="label">Invite</span></button>
      <dialog part="dialog" aria-labelledby="title" aria-describedby="lead" @close=${this.#onClose} @click=${this.#onDialogClick}>
        <div class="content">
          <div class="head">
            <h2 part="heading" id="title">Invite people</h2>
            <button part="close-button" class="close" type="button" aria-label="Close" title="Close" @click=${this.close}>${icons.close}</button>
          </div>
          <p id="lead" class="lead">Send them this link, or let them scan the code with a phone on the same network.</p>
          <div class="body">
            <div part="qr" class="qr">${!this._open ? nothing : qr && this._failedQr !== qr
              ? html`<img part="qr-image" alt="QR code of the meeting link" src=${qr} @error=${() => (this._failedQr = qr)}>`
              : html`<p class="no-qr">No QR code: the meeting server did not draw one. The link works all the same.</p>`}</div>
            <div class="share">
              <label for="link">Meeting link</label>
              <textarea part="link" id="link" readonly rows="3" spellcheck="false" .value=${link}
                @focus=${(e: FocusEvent) => (e.target as HTMLTextAreaElement).select()}></textarea>
              <div class="copy">
                <button part="copy-button" class="primary" type="button" @click=${() => void this.#copy()}>${icons.copy} Copy link</button>
                <span part="copy-status" class="status" role="status">${this._copyStatus}</span>
              </div>
            </div>
          </div>
        </div>
      </dialog>`;
  }
}
