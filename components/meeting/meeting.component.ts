import { ContextProvider } from '@lit/context';
import { LitElement, html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { LanError, UntrustedRelayError, type RemoteParticipant, type Session } from '../../sdk/index.js';
import '../controls/controls.js';
import '../prejoin/prejoin.js';
import '../trust-notice/trust-notice.js';
import '../video-grid/video-grid.js';
import { sessionContext } from '../shared/context.js';
import { ensureElement, loadElement } from '../shared/elements.js';
import { emit } from '../shared/events.js';
import { SessionController } from '../shared/session-controller.js';
import { tokens } from '../shared/theme.js';
import { largeIcons as icons } from '../shared/icons.js';
import { describeJoinError, joinAndPublish, relayUrlOf, type JoinRequest } from '../prejoin/join.js';
import { meetingStyles } from './meeting.styles.js';
import { REJOIN_AFTER, rejoin, rejoinRequest } from './rejoin.js';

/** The side panels of a meeting. */
export type MeetingPanel = 'chat' | 'files' | 'participants';

const PANELS: readonly MeetingPanel[] = ['chat', 'files', 'participants'];
const PANEL_TITLES: Record<MeetingPanel, string> = { chat: 'Chat', files: 'Files', participants: 'People' };

/** Where a `<lan-meeting>` is. `rejoining`: the relay went away (it restarted…) and the element joins again. */
export type MeetingStage = 'prejoin' | 'joining' | 'joined' | 'rejoining' | 'left';

/**
 * The whole meeting in one element: the pre-join screen (`<lan-prejoin>`, pre-filled), then the video
 * grid, the control bar and a side panel with the chat, the files and the participants, all fed one
 * session through `@lit/context`.
 *
 * With `meeting`, `name` and `autojoin` set it joins at once (camera and microphone on) and skips the
 * pre-join screen. When the relay goes away (restarted, or out of reach longer than the session's own
 * reconnection), a meeting this element joined is joined again by itself, as the same name, with the
 * camera and microphone as they were, until it works or the person leaves. `relay` defaults to the page's own origin, which is right when the relay serves
 * the page. On a narrow screen (under 640 px) the side panel covers the meeting.
 *
 * An `https:` relay on another origin that this browser does not trust yet (`LAN_ERR_UNTRUSTED`) gets a
 * `<lan-trust-notice>` instead of a bare error: the relay's trust page, and "Try again", which repeats the
 * same join. The top bar's Invite button (`<lan-invite>`) shows the meeting's link (`invite-url`, else the
 * page's URL with `?meeting=<id>`), its QR code drawn by the relay, and copies it.
 *
 * **Fallback content.** Children other than `slot="actions"` ones are fallback: the browser shows them only
 * while the tag is not defined (its script has not loaded, or cannot: a browser that does not trust the relay
 * yet refuses the script without a word), and once the element upgrades they are not rendered (it has no
 * default slot). One sentence and a link to the relay's trust page (`http://relay:8787/trust`) fit there;
 * style them with `lan-meeting:not(:defined)`.
 *
 * @summary A complete meeting: pre-join, video grid, controls, chat, files, participants.
 *
 * @example
 * ```html
 * <script type="module" src="https://relay.local:8787/dist/browser/lanconf-components.js"></script>
 * <lan-meeting meeting="Standup" theme="auto" style="height: 100vh">
 *   <p>Not loading? This computer may not trust the meeting server yet: <a href="http://relay.local:8787/trust">trust it once</a>.</p>
 * </lan-meeting>
 * ```
 *
 * @event lan-joined - The meeting was joined: `detail.session` (again, with a new session, after a rejoin).
 * @event lan-left - The meeting ended: `detail.error` when it was not asked to (relay gone, removed…).
 * @event lan-error - A join failed, or a device could not be published: `detail.error`.
 * @event lan-untrusted - A join failed because this browser does not trust the relay's certificate yet
 *   (`LAN_ERR_UNTRUSTED`, after its `lan-error`): `detail: { trustUrl, confirmed }`; once per failed attempt.
 * @event lan-invite - The Invite dialog opens: `detail.url`, the link it shows. Cancel it to show your own.
 *
 * @slot actions - Extra items at the end of the top bar (a theme switch, a help link…).
 *
 * @csspart base - The whole meeting box.
 * @csspart header - The top bar: meeting name, participant count, sound button.
 * @csspart reconnecting - The notice in the header while the session gets its connection back.
 * @csspart stage - The area around the video grid.
 * @csspart panel - The side panel (chat, files, people); a full-screen overlay on narrow screens.
 * @csspart panel-header - The side panel's title bar.
 * @csspart controls - The bar around `<lan-controls>`.
 * @csspart prejoin - The `<lan-prejoin>` shown before joining.
 * @csspart error - A join error (`role="alert"`).
 * @csspart trust-notice - The `<lan-trust-notice>` shown when the browser does not trust the relay yet.
 * @csspart invite - The `<lan-invite>` in the top bar (also `invite-button` and `invite-dialog`).
 * @csspart invite-button - The Invite button.
 * @csspart invite-dialog - The Invite dialog.
 * @csspart rejoining - The notice shown while the meeting is being joined again after the relay went away.
 *
 * @cssproperty --lan-meeting-height - Height of the meeting. Default `100%` (give the element or its parent a height).
 * @cssproperty --lan-meeting-panel-width - Width of the side panel. Default `340px`.
 * @cssproperty --lan-meeting-stage-bg - Background behind the video grid. Default `--lan-color-surface`.
 * @cssproperty --lan-color-bg - Background of bars and panels (every `--lan-*` token is inherited by the elements inside).
 * @cssproperty --lan-color-accent - Accent colour.
 */
export class LanMeeting extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = [tokens, meetingStyles];

  static override properties = {
    relay: { type: String },
    meeting: { type: String },
    name: { type: String },
    passcode: { type: String },
    theme: { type: String, reflect: true },
    autojoin: { type: Boolean },
    inviteUrl: { type: String, attribute: 'invite-url' },
    panel: { type: String, reflect: true },
    session: { attribute: false },
    _stage: { state: true },
    _error: { state: true },
    _leftError: { state: true },
    _unread: { state: true },
    _announce: { state: true },
    _untrusted: { state: true },
  };

  /** The relay's URL. Empty: the page's own origin. */
  declare relay: string;
  /** Meeting id (pre-fills the pre-join screen). */
  declare meeting: string;
  /** Your display name (pre-fills the pre-join screen). */
  declare name: string;
  /** The relay's passcode, if it has one. */
  declare passcode: string;
  /** `light` (default), `dark`, or `auto` (follows the system). */
  declare theme: 'light' | 'dark' | 'auto';
  /** Join at once when `meeting` and `name` are set, without the pre-join screen. */
  declare autojoin: boolean;
  /** The link the Invite dialog shares (attribute `invite-url`). Empty: the page's URL with `?meeting=<id>`. */
  declare inviteUrl: string;
  /** The side panel shown: `chat`, `files`, `participants`, or empty for none. */
  declare panel: MeetingPanel | '';
  /**
   * The session shown. Set by joining; set it yourself to show a session joined elsewhere (the element
   * then skips the pre-join screen). Provided to every element inside through `sessionContext`.
   */
  declare session: Session | undefined;

  declare private _stage: MeetingStage;
  declare private _error: string;
  declare private _leftError: string;
  declare private _unread: number;
  declare private _announce: string;
  /** The last join failed on the relay's certificate: the trust notice shows until a join works. */
  declare private _untrusted: UntrustedRelayError | undefined;

  readonly #provider = new ContextProvider(this, { context: sessionContext, initialValue: undefined });
  readonly #s = new SessionController(this, ['participantJoined', 'participantLeft', 'disconnected', 'audioStateChanged'],
    (event, args) => this.#onSessionEvent(event, args));
  #autojoined = false;
  /** The session this element joined itself (and so leaves when it is removed, and joins again if it breaks). */
  #own: Session | undefined;
  /** The passcode the own session was joined with (typed in the pre-join screen, or the `passcode` attribute). */
  #passcodeUsed = '';
  /** The rejoin in progress; aborted once the person left, or joined by hand, meanwhile. */
  #rejoin: AbortController | undefined;
  /** What the trust notice's "Try again" joins with: the join that failed. */
  #retryRequest: JoinRequest | undefined;

  /** Creates the element; prefer `document.createElement('lan-meeting')` or the tag. */
  constructor() {
    super();
    this.relay = '';
    this.meeting = '';
    this.name = '';
    this.passcode = '';
    this.theme = 'light';
    this.autojoin = false;
    this.inviteUrl = '';
    this.panel = '';
    this.session = undefined;
    this._stage = 'prejoin';
    this._error = '';
    this._leftError = '';
    this._unread = 0;
    this._announce = '';
    this._untrusted = undefined;
  }

  /** Where the element is: `prejoin`, `joining`, `joined`, `rejoining` (the relay went away; joining again) or `left`. */
  get stage(): MeetingStage {
    return this._stage;
  }

  /** Chat messages from others not read yet (the chat panel was closed). */
  get unread(): number {
    return this._unread;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    // Removed from the page: a meeting it joined itself must not stay joined, invisible. (Moved within the page,
    // it is connected again before the microtask runs.)
    queueMicrotask(() => {
      if (this.isConnected) return;
      if (this.#rejoin) this.#stopRejoin();
      else if (this.#own && this.#own === this.session) void this.leave();
    });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('session')) {
      // A session given by the page replaces a rejoin in progress (one already closed ends the meeting).
      if (this.session && this.#cancelRejoin()) {
        if (this.session.state === 'closed') {
          this._stage = 'left';
          emit(this, 'lan-left', {});
        }
      }
      this.#provider.setValue(this.session);
      if (this.session && this.session.state !== 'closed') this._stage = 'joined';
      else if (this._stage === 'joined') this._stage = 'left';
    }
    // Another relay: the notice was about the old one.
    if (changed.has('relay') && changed.get('relay') !== undefined) this._untrusted = undefined;
    if (changed.has('panel') && this.panel && !PANELS.includes(this.panel)) this.panel = '';
    // What is about to show, loaded on first use (see shared/elements.ts): the pre-join screen (with its trust
    // notice), the grid and the controls come with this element, the rest when a meeting is joined or a panel opens.
    if (this._stage === 'joining' || (this._stage === 'joined' && this.session)) {
      // From the join on, so they are there when the meeting shows.
      ensureElement('lan-invite');
      ensureElement('lan-chat'); // counts unread messages while its panel is closed
      ensureElement('lan-participants');
      if (this.panel === 'files') ensureElement('lan-files');
    }
    if (this.autojoin && !this.#autojoined && !this.session && this._stage === 'prejoin' && this.meeting.trim() && this.name.trim()) {
      this.#autojoined = true;
      void this.join().catch(() => undefined);
    }
  }

  /**
   * Joins with the element's `relay`, `meeting`, `name` and `passcode`, camera and microphone on (what
   * `autojoin` does; the pre-join screen's button joins with its own choices).
   */
  async join(): Promise<Session> {
    if (this.session && this.session.state !== 'closed') return this.session;
    // Joining by hand replaces a rejoin in progress (one session at a time): the meeting that broke is over.
    if (this.#cancelRejoin()) emit(this, 'lan-left', {});
    return this.#joinWith({ relay: this.relay, meeting: this.meeting, name: this.name, passcode: this.passcode });
  }

  /** Joins with `request`: what `join()` does, and the trust notice's "Try again" (the join that failed). */
  async #joinWith(request: JoinRequest): Promise<Session> {
    this._stage = 'joining';
    this._error = '';
    try {
      const { session, deviceErrors } = await joinAndPublish(request);
      if (!this.isConnected) {
        // Removed from the page while joining: nobody is left to show this meeting.
        await session.leave();
        return session;
      }
      this.#passcodeUsed = request.passcode ?? '';
      this.#joined(session);
      for (const error of deviceErrors) emit(this, 'lan-error', { error });
      return session;
    } catch (error) {
      this._stage = 'prejoin';
      this.#failed(error, request);
      this._error = this._untrusted ? '' : describeJoinError(error, relayUrlOf(request.relay));
      throw error;
    }
  }

  /**
   * Says a join failed: `lan-error`, and for a relay this browser does not trust yet the trust notice
   * (its "Try again" repeats `request`), `lan-untrusted`, and the focus on the notice.
   */
  #failed(error: unknown, request: JoinRequest): void {
    const untrusted = error instanceof UntrustedRelayError ? error : undefined;
    this._untrusted = untrusted;
    this.#retryRequest = untrusted ? request : undefined;
    emit(this, 'lan-error', { error: error instanceof Error ? error : new Error(String(error)) });
    if (!untrusted) return;
    emit(this, 'lan-untrusted', { trustUrl: untrusted.trustUrl, confirmed: untrusted.confirmed });
    void this.updateComplete.then(() => {
      const notice = this.renderRoot.querySelector('lan-trust-notice');
      // Its own "Try again" keeps the focus; otherwise the notice takes it (the join button is gone).
      if (notice && !notice.matches(':focus-within')) void notice.updateComplete.then(() => notice.focus());
    });
  }

  #onRetry(e: Event): void {
    e.stopPropagation();
    const request = this.#retryRequest;
    if (request && this._stage !== 'joining' && !this.session) void this.#joinWith(request).catch(() => undefined);
  }

  /**
   * Leaves the meeting; `lan-left` follows. (The control bar's leave button leaves the session itself,
   * unless a `lan-leave` listener cancels it: the element follows the session's `disconnected`.)
   */
  async leave(): Promise<void> {
    if (this.#rejoin) return this.#stopRejoin();
    const session = this.session;
    if (!session) return;
    await session.leave();
    // `disconnected` normally got here first; this covers a session that was already closed.
    if (this.session === session) this.#ended(undefined);
  }

  /** Shows a side panel, or closes it (`''`). */
  showPanel(panel: MeetingPanel | ''): void {
    this.panel = panel;
  }

  #joined(session: Session): void {
    this.#own = session;
    this._untrusted = undefined;
    this._leftError = '';
    this._unread = 0;
    this.session = session;
    this._stage = 'joined';
    emit(this, 'lan-joined', { session });
  }

  #ended(error: LanError | undefined): void {
    const session = this.session;
    if (error && REJOIN_AFTER.has(error.code) && session && session === this.#own && this.isConnected) {
      void this.#rejoinAfter(session, error);
      return;
    }
    this.session = undefined;
    this.#own = undefined;
    this._stage = 'left';
    this._unread = 0;
    this._leftError = error ? error.message : '';
    emit(this, 'lan-left', error ? { error } : {});
  }

  #onSessionEvent(event: string, args: unknown[]): void {
    if (event === 'participantJoined') this._announce = `${(args[0] as RemoteParticipant).name} joined`;
    else if (event === 'participantLeft') this._announce = `${(args[0] as RemoteParticipant).name} left`;
    else if (event === 'disconnected') this.#ended(args[0] as LanError | undefined);
  }

  /** Joins again after `previous` broke with `error` (the relay went away): see {@link rejoin}. */
  async #rejoinAfter(previous: Session, error: LanError): Promise<void> {
    const attempt = new AbortController();
    this.#rejoin = attempt;
    const request = rejoinRequest(previous, this.relay, this.#passcodeUsed);
    this.session = undefined;
    this.#own = undefined;
    this._stage = 'rejoining';
    this._leftError = error.message;
    this._announce = 'Connection to the meeting lost. Joining again…';
    const outcome = await rejoin(request, attempt.signal, () => this.isConnected);
    if (outcome.kind === 'cancelled') return;
    if (outcome.kind === 'detached') return this.#stopRejoin();
    this.#rejoin = undefined;
    if (outcome.kind === 'joined') {
      this.#joined(outcome.result.session);
      this._announce = 'Joined the meeting again.';
      for (const e of outcome.result.deviceErrors) emit(this, 'lan-error', { error: e });
      return;
    }
    this.#own = undefined;
    this._stage = 'left';
    this._leftError = describeJoinError(outcome.error, relayUrlOf(this.relay));
    this.#failed(outcome.error, request);
    emit(this, 'lan-left', outcome.error instanceof LanError ? { error: outcome.error } : {});
  }

  /** Gives up joining again (the person left, or the element left the page): `left`, and `lan-left`. */
  #stopRejoin(): void {
    this.#cancelRejoin();
    this.#ended(undefined);
  }

  /** Stops the rejoin in progress, if any (`true` when there was one). */
  #cancelRejoin(): boolean {
    const rejoin = this.#rejoin;
    rejoin?.abort();
    this.#rejoin = undefined;
    return rejoin !== undefined;
  }

  #onPrejoinJoined(e: CustomEvent<{ session: Session }>): void {
    // The pre-join screen is an implementation detail here: the meeting announces the join itself.
    e.stopPropagation();
    this.#passcodeUsed = (e.target as { passcode?: string } | null)?.passcode ?? this.passcode;
    this.#joined(e.detail.session);
  }

  #onToggle(e: CustomEvent<{ control: string; on: boolean }>): void {
    const control = e.detail.control as MeetingPanel;
    if (!PANELS.includes(control)) return;
    if (e.detail.on) this.panel = control;
    else if (this.panel === control) this.panel = '';
  }

  #onUnread(e: CustomEvent<{ unread: number }>): void {
    this._unread = e.detail.unread;
  }

  #closePanel(): void {
    const was = this.panel;
    this.panel = '';
    // Back to the button that opened it.
    void this.updateComplete.then(() => {
      const controls = this.renderRoot.querySelector('lan-controls') as (HTMLElement & { focusControl?: (c: string) => void }) | null;
      if (was) controls?.focusControl?.(was);
    });
  }

  #onPanelKeydown(e: KeyboardEvent): void {
    if (e.key === 'Escape' && this.panel) {
      e.stopPropagation();
      this.#closePanel();
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('panel') && this.panel && changed.get('panel') !== undefined) {
      // Opening a panel takes the focus into it, where the user is going.
      if (this.panel === 'chat') {
        // The chat focuses its text box, once it is defined (it loads when the meeting is joined).
        void loadElement('lan-chat').then(() => this.renderRoot.querySelector('lan-chat')?.focus(), () => undefined);
      } else {
        this.renderRoot.querySelector<HTMLElement>('.panel-head h2')?.focus();
      }
    }
  }

  override render(): TemplateResult {
    const session = this.session;
    const joined = this._stage === 'joined' && session;
    return html`<div class="base" part="base">
      ${this.#renderHeader(joined ? session : undefined)}
      ${joined ? this.#renderMeeting() : this._stage === 'rejoining' ? this.#renderRejoining()
        : this._untrusted ? this.#renderUntrusted(this._untrusted)
        : this._stage === 'left' ? this.#renderLeft() : this.#renderPrejoin()}
      <div class="visually-hidden" role="status" aria-live="polite">${this._announce}</div>
    </div>`;
  }

  #renderHeader(session: Session | undefined): TemplateResult {
    const count = session ? session.participants.size + 1 : 0;
    return html`<header part="header">
      <div class="brand"><span class="logo" aria-hidden="true">L</span><span class="name">lanconf</span></div>
      ${session ? html`<span class="divider" aria-hidden="true"></span>
        <div class="title"><h1>${session.meeting}</h1><span class="sub">You are ${session.local.name}</span></div>
        <span class="spacer"></span>
        ${session.state === 'reconnecting'
          ? html`<span class="pill reconnecting" part="reconnecting" role="status">Connection lost — reconnecting…</span>`
          : nothing}
        ${session.audioState === 'blocked'
          ? html`<button class="sound" @click=${() => void session.startAudio().catch(() => undefined)}>${icons.speaker} Turn on sound</button>`
          : nothing}
        <lan-invite part="invite" exportparts="button: invite-button, dialog: invite-dialog"
          relay=${this.relay} meeting=${session.meeting} url=${this.inviteUrl}></lan-invite>
        <span class="pill" title="People in the meeting">${icons.people}<span>${count}<span class="word"> ${count === 1 ? 'person' : 'people'}</span></span></span>`
        : html`<span class="spacer"></span>`}
      <slot name="actions"></slot>
    </header>`;
  }

  #renderPrejoin(): TemplateResult {
    if (this._stage === 'joining') {
      return html`<div class="center"><p class="joining" role="status">Joining “${this.meeting}”…</p></div>`;
    }
    return html`<div class="center">
      <div>
        ${this._error ? html`<div class="error" part="error" role="alert">${this._error}</div>` : nothing}
        <lan-prejoin part="prejoin" exportparts="base: prejoin-base, join-button: prejoin-join-button"
          relay=${this.relay} meeting=${this.meeting} name=${this.name} passcode=${this.passcode}
          @lan-joined=${this.#onPrejoinJoined}></lan-prejoin>
      </div>
    </div>`;
  }

  #renderUntrusted(error: UntrustedRelayError): TemplateResult {
    return html`<div class="center">
      <lan-trust-notice part="trust-notice" trust-url=${error.trustUrl} ?confirmed=${error.confirmed}
        ?busy=${this._stage === 'joining'} @lan-retry=${this.#onRetry}></lan-trust-notice>
    </div>`;
  }

  #renderRejoining(): TemplateResult {
    return html`<div class="center">
      <div class="card" part="rejoining" role="status">
        <h2>Joining again…</h2>
        <p>The connection to the meeting was lost (${this._leftError}). You will be back in as soon as the relay answers.</p>
        <div class="actions">
          <button @click=${() => void this.leave()}>Leave</button>
        </div>
      </div>
    </div>`;
  }

  #renderLeft(): TemplateResult {
    return html`<div class="center">
      <div class="card" role=${this._leftError ? 'alert' : 'status'}>
        <h2>${this._leftError ? 'You were disconnected' : 'You left the meeting'}</h2>
        <p>${this._leftError || `“${this.meeting || 'The meeting'}” goes on without you.`}</p>
        <div class="actions">
          <button class="primary" @click=${() => { this._stage = 'prejoin'; }}>Rejoin</button>
        </div>
      </div>
    </div>`;
  }

  #renderMeeting(): TemplateResult {
    const panel = this.panel;
    return html`<div class="body">
        <main class="stage" part="stage" aria-label="Video">
          <lan-video-grid></lan-video-grid>
        </main>
        <aside class="panel" part="panel" ?hidden=${!panel} aria-labelledby="panel-title" @keydown=${this.#onPanelKeydown}>
          <div class="panel-head" part="panel-header">
            <h2 id="panel-title" tabindex="-1">${panel ? PANEL_TITLES[panel] : ''}</h2>
            <button class="icon" aria-label=${`Close ${panel ? PANEL_TITLES[panel].toLowerCase() : 'panel'}`}
              title="Close" @click=${this.#closePanel}>${icons.close}</button>
          </div>
          <div class="panel-body">
            <lan-chat ?hidden=${panel !== 'chat'} @lan-chat-unread=${this.#onUnread}></lan-chat>
            <lan-files ?hidden=${panel !== 'files'}></lan-files>
            <lan-participants heading-level="3" ?hidden=${panel !== 'participants'}></lan-participants>
          </div>
        </aside>
      </div>
      <footer part="controls" @lan-toggle=${this.#onToggle}>
        <lan-controls .panel=${panel} .unread=${this._unread}></lan-controls>
      </footer>`;
  }
}
