import { LitElement, html, nothing, type PropertyValues } from 'lit';
import { classMap } from 'lit/directives/class-map.js';
import { live } from 'lit/directives/live.js';
import { UntrustedRelayError, cameraConstraints, listDevices, microphoneConstraints, type Session } from '../../sdk/index.js';
import { emit } from '../shared/events.js';
import { tokens } from '../shared/theme.js';
import { largeIcons as icons } from '../shared/icons.js';
import { describeDeviceError } from '../shared/device-errors.js';
import { describeJoinError, joinAndPublish, relayUrlOf } from './join.js';
import '../trust-notice/trust-notice.js';
import { prejoinStyles } from './prejoin.styles.js';

type Device = { deviceId: string; label: string };

/**
 * The screen before a meeting: your name, the meeting id and passcode, a mirrored camera preview and a
 * microphone level meter with device pickers, and the join button. Usable alone: on `lan-joined`, hand
 * `detail.session` to the other elements (their `session` property) or to your own code.
 *
 * Joining calls `joinMeeting({ url: relay || location.origin, meeting, name, passcode })`, starts remote
 * audio (the click is the user gesture browsers ask for) and publishes the camera and microphone left on.
 *
 * @summary Pre-join screen: name, meeting, passcode, device preview, join.
 *
 * @example
 * ```html
 * <lan-prejoin relay="https://192.168.1.20:8787" meeting="Standup"></lan-prejoin>
 * <script type="module">
 *   document.querySelector('lan-prejoin').addEventListener('lan-joined', (e) => start(e.detail.session));
 * </script>
 * ```
 *
 * @event lan-joined - Joined, the chosen devices published: `detail.session`.
 * @event lan-error - The join failed (`LAN_ERR_BAD_PASSCODE`, `LAN_ERR_UNREACHABLE`…; also shown inline), or a
 *   chosen device could not be published after joining: `detail.error`.
 * @event lan-untrusted - The join failed because this browser does not trust the relay's certificate yet
 *   (`LAN_ERR_UNTRUSTED`; after its `lan-error`): `detail: { trustUrl, confirmed }`. The form then shows a
 *   `<lan-trust-notice>` (the trust page, "Try again") in place of the inline error; once per failed attempt.
 *
 * @slot heading - Replaces the "Join a meeting" heading.
 *
 * @csspart base - The card around everything.
 * @csspart preview - The camera preview box.
 * @csspart video - The mirrored preview `<video>`.
 * @csspart meter - The microphone level meter.
 * @csspart form - The form with the fields and the join button.
 * @csspart join-button - The join button.
 * @csspart error - The inline error (`role="alert"`).
 * @csspart trust-notice - The `<lan-trust-notice>` shown when the browser does not trust the relay yet.
 *
 * @cssproperty --lan-prejoin-width - Largest width of the card. Default `880px`.
 * @cssproperty --lan-color-accent - Join button and focus ring.
 * @cssproperty --lan-color-danger - Errors and the "off" device toggles.
 */
export class LanPrejoin extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = [tokens, prejoinStyles];

  static override properties = {
    relay: { type: String },
    meeting: { type: String },
    name: { type: String },
    passcode: { type: String },
    cameraOff: { type: Boolean, attribute: 'camera-off', reflect: true },
    microphoneOff: { type: Boolean, attribute: 'microphone-off', reflect: true },
    cameraId: { type: String, attribute: 'camera-id' },
    microphoneId: { type: String, attribute: 'microphone-id' },
    _joining: { state: true },
    _error: { state: true },
    _errorCode: { state: true },
    _untrusted: { state: true },
    _session: { state: true },
    _cameras: { state: true },
    _microphones: { state: true },
    _previewNote: { state: true },
    _micNote: { state: true },
    _notices: { state: true },
  };

  /** The relay's URL. Empty: the page's own origin (the relay serves the page). */
  declare relay: string;
  /** Meeting id, pre-filled. */
  declare meeting: string;
  /** Your display name, pre-filled. */
  declare name: string;
  /** Passcode, pre-filled. */
  declare passcode: string;
  /** Join without publishing the camera (toggled by the camera button on the preview). */
  declare cameraOff: boolean;
  /** Join without publishing the microphone (toggled by the microphone button). */
  declare microphoneOff: boolean;
  /** The camera to preview and publish (a `deviceId` from `listDevices()`); empty: the browser's choice. */
  declare cameraId: string;
  /** The microphone to preview and publish; empty: the browser's choice. */
  declare microphoneId: string;

  declare private _joining: boolean;
  declare private _error: string;
  declare private _errorCode: string;
  /** The last join failed on the relay's certificate: the notice shows, and stays while trying again. */
  declare private _untrusted: UntrustedRelayError | undefined;
  declare private _session: Session | undefined;
  declare private _cameras: Device[];
  declare private _microphones: Device[];
  declare private _previewNote: string;
  declare private _micNote: string;
  declare private _notices: string[];

  #cameraStream: MediaStream | undefined;
  #micStream: MediaStream | undefined;
  #cameraGen = 0;
  #micGen = 0;
  #audio: AudioContext | undefined;
  #analyser: AnalyserNode | undefined;
  #meterFrame = 0;
  #meterAria = 0;
  #devicesListed = false;
  /** The next device id change only names what the preview already shows: no re-opening. */
  #quietCamera = false;
  #quietMicrophone = false;
  readonly #onDeviceChange = () => void this.#listDevices();
  readonly #resumeAudio = () => void this.#audio?.resume().catch(() => undefined);

  /** Creates the element; prefer `document.createElement('lan-prejoin')` or the tag. */
  constructor() {
    super();
    this.relay = '';
    this.meeting = '';
    this.name = '';
    this.passcode = '';
    this.cameraOff = false;
    this.microphoneOff = false;
    this.cameraId = '';
    this.microphoneId = '';
    this._joining = false;
    this._error = '';
    this._errorCode = '';
    this._untrusted = undefined;
    this._session = undefined;
    this._cameras = [];
    this._microphones = [];
    this._previewNote = '';
    this._micNote = '';
    this._notices = [];
  }

  /** The session this element joined, once `lan-joined` fired. */
  get session(): Session | undefined {
    return this._session;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    navigator.mediaDevices?.addEventListener('devicechange', this.#onDeviceChange);
    // The meter's AudioContext may start suspended (autoplay rule): the first key or click resumes it.
    this.addEventListener('pointerdown', this.#resumeAudio);
    this.addEventListener('keydown', this.#resumeAudio);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    navigator.mediaDevices?.removeEventListener('devicechange', this.#onDeviceChange);
    this.removeEventListener('pointerdown', this.#resumeAudio);
    this.removeEventListener('keydown', this.#resumeAudio);
    this.#stopPreview();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.isConnected || this._session) return;
    const quietCamera = this.#quietCamera && !changed.has('cameraOff');
    const quietMicrophone = this.#quietMicrophone && !changed.has('microphoneOff');
    this.#quietCamera = this.#quietMicrophone = false;
    if ((changed.has('cameraOff') || changed.has('cameraId')) && !quietCamera) void this.#previewCamera();
    if ((changed.has('microphoneOff') || changed.has('microphoneId')) && !quietMicrophone) void this.#previewMicrophone();
  }

  protected override updated(): void {
    const video = this.renderRoot.querySelector('video');
    if (video && video.srcObject !== (this.#cameraStream ?? null)) video.srcObject = this.#cameraStream ?? null;
  }

  /**
   * Joins with the values in the form: what the join button does.
   * @returns the session; rejects (after showing the error and emitting `lan-error`) when the join fails.
   */
  async join(): Promise<Session> {
    if (this._session) return this._session;
    if (this._joining) throw new Error('already joining');
    const meeting = this.meeting.trim();
    const name = this.name.trim();
    if (!meeting || !name) {
      const error = new TypeError(!name ? 'Enter your name.' : 'Enter the meeting id.');
      this.#fail(error, error.message);
      throw error;
    }
    this._joining = true;
    this._error = '';
    this._errorCode = '';
    try {
      // The preview lets go of the devices first: some systems open a camera only once.
      this.#stopPreview();
      const { session, deviceErrors } = await joinAndPublish({
        relay: this.relay, meeting, name, passcode: this.passcode,
        camera: !this.cameraOff, microphone: !this.microphoneOff,
        cameraId: this.cameraId || undefined, microphoneId: this.microphoneId || undefined,
      });
      this._session = session;
      this._untrusted = undefined;
      this._notices = deviceErrors.map((e) => e.message);
      for (const error of deviceErrors) emit(this, 'lan-error', { error });
      emit(this, 'lan-joined', { session });
      return session;
    } catch (error) {
      this.#fail(error, describeJoinError(error, relayUrlOf(this.relay)));
      void this.#previewCamera();
      void this.#previewMicrophone();
      throw error;
    } finally {
      this._joining = false;
    }
  }

  #fail(error: unknown, message: string): void {
    const untrusted = error instanceof UntrustedRelayError ? error : undefined;
    this._untrusted = untrusted;
    this._error = untrusted ? '' : message;
    this._errorCode = (error as { code?: string }).code ?? '';
    emit(this, 'lan-error', { error: error instanceof Error ? error : new Error(String(error)) });
    if (untrusted) emit(this, 'lan-untrusted', { trustUrl: untrusted.trustUrl, confirmed: untrusted.confirmed });
    void this.updateComplete.then(() => {
      const notice = this.renderRoot.querySelector('lan-trust-notice');
      // To the notice, unless this was its own "Try again" (the focus stays on that button).
      if (notice) {
        if (!notice.matches(':focus-within')) void notice.updateComplete.then(() => notice.focus());
        return;
      }
      const field = this._errorCode === 'LAN_ERR_BAD_PASSCODE' ? 'passcode' : !this.name.trim() ? 'name' : !this.meeting.trim() ? 'meeting' : '';
      if (field) this.renderRoot.querySelector<HTMLInputElement>(`#${field}`)?.focus();
    });
  }

  override render() {
    if (this._session) {
      return html`<div class="base" part="base">
        <p class="joined" role="status">Joined “${this._session.meeting}” as ${this._session.local.name}.</p>
        ${this._notices.map((n) => html`<p class="joined notice">${n}</p>`)}
      </div>`;
    }
    return html`<div class="base" part="base">
      ${this.#renderMedia()}
      ${this.#renderForm()}
    </div>`;
  }

  #renderMedia() {
    const initial = (this.name.trim()[0] ?? '?').toUpperCase();
    const showVideo = !this.cameraOff && this.#cameraStream;
    return html`<section class="media" aria-label="Camera and microphone check">
      <div class="preview" part="preview">
        ${showVideo
          ? html`<video part="video" autoplay muted playsinline aria-label="Your camera preview (mirrored)"></video>`
          : html`<div class="placeholder"><div class="avatar" aria-hidden="true">${initial}</div>
              <span>${this.cameraOff ? 'Camera is off' : this._previewNote || 'Starting camera…'}</span></div>`}
        <div class="toggles">
          <button type="button" class=${classMap({ off: this.microphoneOff })}
            aria-label=${this.microphoneOff ? 'Turn microphone on' : 'Turn microphone off'}
            title=${this.microphoneOff ? 'Turn microphone on' : 'Turn microphone off'}
            @click=${() => (this.microphoneOff = !this.microphoneOff)}>${this.microphoneOff ? icons.micOff : icons.mic}</button>
          <button type="button" class=${classMap({ off: this.cameraOff })}
            aria-label=${this.cameraOff ? 'Turn camera on' : 'Turn camera off'}
            title=${this.cameraOff ? 'Turn camera on' : 'Turn camera off'}
            @click=${() => (this.cameraOff = !this.cameraOff)}>${this.cameraOff ? icons.cameraOff : icons.camera}</button>
        </div>
      </div>
      <div class="meter-row">
        ${icons.mic}
        <div class="meter" part="meter" role="meter" aria-label="Microphone level" aria-valuemin="0" aria-valuemax="100"
          aria-valuenow="0"><span></span></div>
      </div>
      <div class="devices">
        <div class="field">
          <label for="camera-select">Camera</label>
          <select id="camera-select" ?disabled=${this.cameraOff || this._cameras.length === 0}
            @change=${(e: Event) => (this.cameraId = (e.target as HTMLSelectElement).value)}>
            ${this._cameras.length === 0 ? html`<option value="">No camera found</option>` : nothing}
            ${this._cameras.map((d) => html`<option value=${d.deviceId} ?selected=${d.deviceId === this.cameraId}>${d.label}</option>`)}
          </select>
        </div>
        <div class="field">
          <label for="microphone-select">Microphone</label>
          <select id="microphone-select" ?disabled=${this.microphoneOff || this._microphones.length === 0}
            @change=${(e: Event) => (this.microphoneId = (e.target as HTMLSelectElement).value)}>
            ${this._microphones.length === 0 ? html`<option value="">No microphone found</option>` : nothing}
            ${this._microphones.map((d) => html`<option value=${d.deviceId} ?selected=${d.deviceId === this.microphoneId}>${d.label}</option>`)}
          </select>
        </div>
      </div>
      ${this._micNote && !this.microphoneOff ? html`<p class="notice">${this._micNote}</p>` : nothing}
    </section>`;
  }

  #renderForm() {
    const badPasscode = this._errorCode === 'LAN_ERR_BAD_PASSCODE';
    return html`<form part="form" aria-label="Join a meeting" @submit=${this.#onSubmit}>
      <div>
        <slot name="heading"><h2 id="heading">Join a meeting</h2></slot>
        <p class="lead">Check your camera and microphone, then join.</p>
      </div>
      <div class="field">
        <label for="name">Your name</label>
        <input id="name" name="name" required maxlength="64" autocomplete="nickname" .value=${live(this.name)}
          @input=${(e: Event) => (this.name = (e.target as HTMLInputElement).value)}>
      </div>
      <div class="field">
        <label for="meeting">Meeting</label>
        <input id="meeting" name="meeting" required maxlength="64" autocomplete="off" pattern="[\\p{L}\\p{N} _.\\-]+"
          aria-describedby="meeting-hint" .value=${live(this.meeting)}
          @input=${(e: Event) => (this.meeting = (e.target as HTMLInputElement).value)}>
        <span class="hint" id="meeting-hint">Letters, digits, spaces, “_”, “.” or “-”.</span>
      </div>
      <div class="field">
        <label for="passcode">Passcode <span class="hint">(if the relay has one)</span></label>
        <input id="passcode" name="passcode" type="password" autocomplete="off" .value=${live(this.passcode)}
          aria-invalid=${badPasscode ? 'true' : 'false'} aria-describedby="error"
          @input=${(e: Event) => (this.passcode = (e.target as HTMLInputElement).value)}>
      </div>
      ${this._untrusted
        ? html`<lan-trust-notice part="trust-notice" heading-level="3" trust-url=${this._untrusted.trustUrl}
            ?confirmed=${this._untrusted.confirmed} ?busy=${this._joining} @lan-retry=${this.#onRetry}></lan-trust-notice>`
        : nothing}
      <div id="error" class=${classMap({ error: Boolean(this._error) })} part="error" role="alert">${this._error}</div>
      <button class="join" part="join-button" type="submit" ?disabled=${this._joining} aria-busy=${this._joining ? 'true' : 'false'}>
        ${this._joining ? html`<span class="spinner" aria-hidden="true"></span>Joining…` : 'Join meeting'}
      </button>
    </form>`;
  }

  #onRetry(e: Event): void {
    // Handled here: the same join again, with what the form holds.
    e.stopPropagation();
    this.join().catch(() => undefined);
  }

  #onSubmit(e: SubmitEvent): void {
    e.preventDefault();
    this.join().catch(() => undefined);
  }

  // ---- preview ----

  async #previewCamera(): Promise<void> {
    const gen = ++this.#cameraGen;
    stop(this.#cameraStream);
    this.#cameraStream = undefined;
    if (this.cameraOff) return this.requestUpdate();
    if (!navigator.mediaDevices?.getUserMedia) {
      this._previewNote = 'Camera and microphone need a secure page (HTTPS or localhost).';
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints(this.cameraId ? { deviceId: this.cameraId } : {}));
      if (gen !== this.#cameraGen || !this.isConnected || this._session) return stop(stream);
      this.#cameraStream = stream;
      this._previewNote = '';
      this.requestUpdate();
      await this.#listDevices();
    } catch (error) {
      if (gen !== this.#cameraGen) return;
      this._previewNote = describeDeviceError(error as Error, 'camera');
    }
  }

  async #previewMicrophone(): Promise<void> {
    const gen = ++this.#micGen;
    this.#stopMeter();
    stop(this.#micStream);
    this.#micStream = undefined;
    if (this.microphoneOff || !navigator.mediaDevices?.getUserMedia) return;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(this.microphoneId || undefined), video: false });
      if (gen !== this.#micGen || !this.isConnected || this._session) return stop(stream);
      this.#micStream = stream;
      this._micNote = '';
      this.#startMeter(stream);
      await this.#listDevices();
    } catch (error) {
      if (gen !== this.#micGen) return;
      this._micNote = describeDeviceError(error as Error, 'microphone');
    }
  }

  async #listDevices(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const list = await listDevices();
    const named = (devices: MediaDeviceInfo[], what: string) =>
      devices.filter((d) => d.deviceId).map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${what} ${i + 1}` }));
    this._cameras = named(list.cameras, 'Camera');
    this._microphones = named(list.microphones, 'Microphone');
    if (!this.#devicesListed) {
      this.#devicesListed = true;
      // Show which device the browser picked, without re-opening it.
      const cam = this.#cameraStream?.getVideoTracks()[0]?.getSettings().deviceId;
      const mic = this.#micStream?.getAudioTracks()[0]?.getSettings().deviceId;
      if (!this.cameraId && cam) { this.#quietCamera = true; this.cameraId = cam; }
      if (!this.microphoneId && mic) { this.#quietMicrophone = true; this.microphoneId = mic; }
    }
  }

  #startMeter(stream: MediaStream): void {
    const Ctx = globalThis.AudioContext;
    if (!Ctx) return;
    this.#audio ??= new Ctx();
    const source = this.#audio.createMediaStreamSource(stream);
    this.#analyser = this.#audio.createAnalyser();
    this.#analyser.fftSize = 1024;
    source.connect(this.#analyser);
    const data = new Float32Array(this.#analyser.fftSize);
    const tick = () => {
      const analyser = this.#analyser;
      if (!analyser) return;
      analyser.getFloatTimeDomainData(data);
      let sum = 0;
      for (const v of data) sum += v * v;
      // RMS to a 0..100 scale that fills for normal speech (≈ -20 dBFS).
      const level = Math.min(100, Math.round(Math.sqrt(sum / data.length) * 400));
      const meter = this.renderRoot.querySelector<HTMLElement>('.meter');
      const bar = meter?.firstElementChild as HTMLElement | null | undefined;
      if (bar) bar.style.width = `${level}%`;
      const now = performance.now();
      if (meter && now - this.#meterAria > 250) {
        this.#meterAria = now;
        meter.setAttribute('aria-valuenow', String(level));
      }
      this.#meterFrame = requestAnimationFrame(tick);
    };
    this.#meterFrame = requestAnimationFrame(tick);
  }

  #stopMeter(): void {
    cancelAnimationFrame(this.#meterFrame);
    this.#analyser?.disconnect();
    this.#analyser = undefined;
    const bar = this.renderRoot?.querySelector<HTMLElement>('.meter > span');
    if (bar) bar.style.width = '0';
  }

  #stopPreview(): void {
    this.#cameraGen++;
    this.#micGen++;
    this.#stopMeter();
    stop(this.#cameraStream);
    stop(this.#micStream);
    this.#cameraStream = undefined;
    this.#micStream = undefined;
    void this.#audio?.close().catch(() => undefined);
    this.#audio = undefined;
  }
}

function stop(stream: MediaStream | undefined): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}
