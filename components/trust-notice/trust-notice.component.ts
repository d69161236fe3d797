/**
 * `<lan-trust-notice>`: what to do when this browser does not trust the relay yet.
 * @module
 */
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { emit } from '../shared/events.js';
import { largeIcons as icons } from '../shared/icons.js';
import { tokens } from '../shared/theme.js';
import { trustNoticeStyles } from './trust-notice.styles.js';

/**
 * The notice shown in place of a join error when an `https:` relay on another origin cannot be reached
 * because this browser does not trust its certificate yet (`LAN_ERR_UNTRUSTED`, an `UntrustedRelayError`):
 * "This computer does not trust the meeting server yet", one sentence on why, a link to the relay's trust
 * page (plain `http://…/trust`, in a new tab), a note that Chrome keeps refusing a certificate until it
 * restarts, and a "Try again" button.
 *
 * `<lan-meeting>` and `<lan-prejoin>` show it by themselves and retry the same join on `lan-retry`. A page
 * that calls `joinMeeting` itself can show it too, from the error's `trustUrl` and `confirmed`.
 *
 * It is an alert (`role="alert"`): inserted, it is read out. `focus()` moves the focus to its heading.
 *
 * @summary "This computer does not trust the meeting server yet", with the trust page and Try again.
 *
 * @example
 * ```ts
 * try { session = await joinMeeting({ url, meeting, name }); }
 * catch (e) {
 *   if (!(e instanceof UntrustedRelayError)) throw e;
 *   const notice = Object.assign(document.createElement('lan-trust-notice'), { trustUrl: e.trustUrl, confirmed: e.confirmed });
 *   notice.addEventListener('lan-retry', () => { notice.remove(); void join(); });
 *   document.body.append(notice);
 * }
 * ```
 *
 * @event lan-retry - "Try again" was pressed (not while `busy`): join again, and set `busy` meanwhile.
 *
 * @csspart base - The notice's box (`role="alert"`).
 * @csspart heading - "This computer does not trust the meeting server yet".
 * @csspart message - The sentence that says why.
 * @csspart link - The link to the trust page (opens in a new tab).
 * @csspart address - The trust page's address, under the link.
 * @csspart note - The note about restarting the browser.
 * @csspart retry-button - "Try again".
 * @csspart status - "Trying again…", then "Still not trusted…" when a retry failed too (`role="status"`).
 *
 * @cssproperty [--lan-trust-notice-width=520px] - Largest width of the notice.
 * @cssproperty [--lan-trust-notice-icon-color=var(--lan-color-accent)] - Colour of the shield beside the heading.
 * @cssproperty --lan-color-accent - The link, drawn as the main button (global token).
 * @cssproperty --lan-color-bg - Background of the notice (global token).
 */
export class LanTrustNotice extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = [tokens, trustNoticeStyles];

  /** Its reactive properties (Lit, without decorators). */
  static override properties = {
    trustUrl: { type: String, attribute: 'trust-url' },
    confirmed: { type: Boolean },
    busy: { type: Boolean, reflect: true },
    headingLevel: { type: Number, attribute: 'heading-level' },
    _stillUntrusted: { state: true },
  };

  /** The relay's trust page (`UntrustedRelayError.trustUrl`; attribute `trust-url`). */
  declare trustUrl: string;
  /**
   * The relay answered on plain HTTP while HTTPS failed, so the certificate is the cause
   * (`UntrustedRelayError.confirmed`). Unset: an `https:` page could not check; the certificate is the likely cause.
   */
  declare confirmed: boolean;
  /** A retry is in progress: "Try again" waits, and the status says so. */
  declare busy: boolean;
  /** The heading's level, 1–6 (attribute `heading-level`), to fit the page's outline. Default 2. */
  declare headingLevel: number;

  declare private _stillUntrusted: boolean;

  /** Makes the element; `document.createElement('lan-trust-notice')` or the tag in HTML calls it. */
  constructor() {
    super();
    this.trustUrl = '';
    this.confirmed = false;
    this.busy = false;
    this.headingLevel = 2;
    this._stillUntrusted = false;
  }

  /** Moves the focus to the notice's heading, where a screen reader then reads on. */
  override focus(options?: FocusOptions): void {
    this.renderRoot.querySelector<HTMLElement>('[part="heading"]')?.focus(options);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Still shown when a retry ends: it failed the same way, and the status says so.
    if (changed.has('busy') && changed.get('busy') === true && !this.busy) this._stillUntrusted = true;
    if (this.busy) this._stillUntrusted = false;
  }

  #retry(): void {
    if (this.busy) return;
    emit(this, 'lan-retry', {});
  }

  override render(): TemplateResult {
    const level = Math.min(6, Math.max(1, Math.round(this.headingLevel) || 2));
    const confirmed = this.confirmed;
    const status = this.busy ? 'Trying again…'
      : this._stillUntrusted ? 'Still not trusted. If you trusted it already, restart the browser.' : '';
    return html`<div part="base" class="base" role="alert" aria-labelledby="heading">
      <div class="head">
        <span class="icon">${icons.shield}</span>
        <div part="heading" class="heading" id="heading" role="heading" aria-level=${level} tabindex="-1">
          ${confirmed ? 'This computer does not trust the meeting server yet' : 'This computer may not trust the meeting server yet'}
        </div>
      </div>
      <p part="message" class="message">${confirmed
        ? 'The meeting server is running, but this browser refuses its security certificate without asking. The trust page shows how to trust it, once for this computer.'
        : 'The meeting server could not be reached. Most likely this browser refuses its security certificate without asking; the trust page shows how to trust it. If that page does not open either, the server is not running or its address is wrong.'}</p>
      ${this.trustUrl
        ? html`<div class="trust">
            <a part="link" class="link" href=${this.trustUrl} target="_blank" rel="noopener">
              Open the trust page ${icons.external}<span class="visually-hidden"> (opens in a new tab)</span></a>
            <span part="address" class="address">${this.trustUrl}</span>
          </div>`
        : nothing}
      <p part="note" class="note">After trusting it, press Try again. Still refused? Close every browser window and open
        the browser again: Chrome keeps refusing a certificate until it restarts.</p>
      <div class="actions">
        <button part="retry-button" class="retry" type="button" aria-disabled=${this.busy ? 'true' : 'false'}
          @click=${this.#retry}>${this.busy ? html`<span class="spinner" aria-hidden="true"></span>` : nothing}Try again</button>
        <span part="status" class="status" role="status">${status}</span>
      </div>
    </div>`;
  }
}
