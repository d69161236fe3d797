/**
 * `<lan-participants>`: who is in the meeting.
 * @module
 */
import { LitElement, html, nothing, type TemplateResult } from 'lit';
import { classMap } from 'lit/directives/class-map.js';
import { repeat } from 'lit/directives/repeat.js';
import type { Role, Session } from '../../sdk/index.js';
import { SessionController } from '../shared/session-controller.js';
import { tokens } from '../shared/theme.js';
import { icons } from '../shared/icons.js';
import { LocalTracksController, initials, mediaStateOf, type MediaState } from '../shared/media-state.js';
import { participantCount, sortParticipants } from './order.js';
import { participantsStyles } from './participants.styles.js';

/** One row of the list. */
interface Row {
  id: string;
  name: string;
  local: boolean;
  role: Role;
  media: MediaState;
  speaking: boolean;
}

/**
 * Everyone in the meeting, you first (marked "(you)"), then the hosts, then the others by name; each
 * with their microphone, camera and screen-sharing state (icons with text alternatives), their role, and
 * a speaking indicator on the active speaker. A heading counts them ("3 participants"). It follows the
 * meeting live: joins, leaves, mutes, shares.
 *
 * A screen reader reads it as a list named by its heading, each item like "Ana (you), host, speaking,
 * microphone muted, camera on".
 *
 * The session comes from the `session` property or, failing that, from an enclosing `<lan-meeting>`
 * (or any provider of `sessionContext`).
 *
 * @example
 * ```html
 * <lan-participants heading-level="3"></lan-participants>
 * <script type="module">
 *   document.querySelector('lan-participants').session = await joinMeeting({ url, meeting: 'Room1', name: 'Ana' });
 * </script>
 * ```
 *
 * @summary The participant list of a lanconf meeting.
 *
 * @csspart base - The box around the heading and the list.
 * @csspart heading - The heading with the count ("3 participants").
 * @csspart list - The list.
 * @csspart item - One participant. State parts are added: `self` (you), `speaking`, e.g. `::part(item speaking)`.
 * @csspart self - Your own item (also `item`).
 * @csspart speaking - The active speaker's item (also `item`).
 * @csspart avatar - The initials.
 * @csspart name - The name.
 * @csspart you - The "(you)" after your name.
 * @csspart role - The "Host" label.
 * @csspart states - The box of state icons.
 * @csspart speaking-indicator - The animated bars on the active speaker.
 * @csspart state - One state icon (also `state-mic`, `state-camera` or `state-screen`; `data-state` says which state).
 * @csspart state-mic - Microphone: `data-state="on"`, `"muted"` or `"off"`.
 * @csspart state-camera - Camera: `data-state="on"` or `"off"`.
 * @csspart state-screen - Shown while sharing a screen.
 * @csspart empty - The text shown when there is no session.
 *
 * @cssproperty [--lan-participants-avatar-size=32px] - Size of the initials' circle.
 * @cssproperty [--lan-participants-avatar-background=var(--lan-color-accent)] - Background of the initials.
 * @cssproperty [--lan-participants-avatar-color=var(--lan-color-on-accent)] - Colour of the initials.
 * @cssproperty [--lan-participants-item-padding=6px 8px] - Padding of an item.
 * @cssproperty [--lan-participants-item-hover-background=var(--lan-color-surface)] - Background of an item under the pointer.
 * @cssproperty [--lan-participants-heading-size=0.95rem] - Font size of the heading.
 * @cssproperty [--lan-participants-speaking-color=var(--lan-color-speaking)] - Colour of the speaking indicator.
 * @cssproperty [--lan-participants-muted-color=var(--lan-color-danger)] - Colour of the "microphone muted" icon (devices that are off use `--lan-color-text-muted`).
 * @cssproperty --lan-color-text - Text colour (global token).
 * @cssproperty --lan-color-text-muted - Heading, "(you)" and idle icons (global token).
 */
export class LanParticipants extends LitElement {
  /** The element's styles: the shared tokens, then its own. */
  static override styles = [tokens, participantsStyles];

  /** Its reactive properties (Lit, without decorators). */
  static override properties = {
    session: { attribute: false },
    headingLevel: { type: Number, attribute: 'heading-level' },
  };

  /** The session to show; when unset, the one provided by an enclosing `<lan-meeting>`. */
  declare session: Session | undefined;
  /** The heading's level, 1–6 (attribute `heading-level`), to fit the page's outline. Default 2. */
  declare headingLevel: number;

  readonly #s = new SessionController(this,
    ['participantJoined', 'participantLeft', 'trackPublished', 'trackUnpublished', 'trackMuted', 'activeSpeaker']);
  // Re-renders when your own tracks come, go, mute or switch device.
  readonly #localTracks = new LocalTracksController(this, () => this.#live());

  /** Makes the element; `document.createElement('lan-participants')` or the tag in HTML calls it. */
  constructor() {
    super();
    this.headingLevel = 2;
  }

  #live(): Session | undefined {
    const session = this.#s.session;
    return session && session.state !== 'closed' ? session : undefined;
  }

  override render(): TemplateResult {
    const level = Math.min(6, Math.max(1, Math.round(this.headingLevel) || 2));
    const session = this.#live();
    if (!session) {
      return html`<section part="base" class="base" aria-labelledby="heading">
        <div part="heading" class="heading" id="heading" role="heading" aria-level=${level}>Participants</div>
        <p part="empty" class="empty">Not in a meeting.</p>
      </section>`;
    }
    const rows = sortParticipants(rowsOf(session));
    return html`<section part="base" class="base" aria-labelledby="heading">
      <div part="heading" class="heading" id="heading" role="heading" aria-level=${level}>${participantCount(rows.length)}</div>
      <ul part="list" class="list" aria-labelledby="heading">
        ${repeat(rows, (row) => row.id, (row) => this.#item(row))}
      </ul>
    </section>`;
  }

  #item(row: Row): TemplateResult {
    const parts = ['item', row.local && 'self', row.speaking && 'speaking'].filter(Boolean).join(' ');
    const { microphone, camera, screen } = row.media;
    const micText = microphone === 'on' ? 'microphone on' : microphone === 'muted' ? 'microphone muted' : 'microphone off';
    return html`<li part=${parts} class=${classMap({ item: true, self: row.local, speaking: row.speaking })} data-id=${row.id}>
      <span part="avatar" class="avatar" aria-hidden="true">${initials(row.name)}</span>
      <span class="who">
        <span part="name" class="name">${row.name}</span>
        ${row.local ? html`<span part="you" class="you">(you)</span>` : nothing}
        ${row.role === 'host'
          ? html`<span part="role" class="role"><span class="visually-hidden">, </span>${icons.host}Host</span>`
          : nothing}
      </span>
      <span part="states" class="states">
        ${row.speaking
          ? html`<span part="speaking-indicator" class="speaking-indicator" title="Speaking"><i></i><i></i><i></i><span
              class="visually-hidden">, speaking</span></span>`
          : nothing}
        <span part="state state-mic" class="state ${microphone}" data-state=${microphone} title=${capitalize(micText)}>
          ${microphone === 'on' ? icons.mic : icons.micOff}<span class="visually-hidden">, ${micText}</span></span>
        <span part="state state-camera" class="state ${camera}" data-state=${camera} title=${`Camera ${camera}`}>
          ${camera === 'on' ? icons.camera : icons.cameraOff}<span class="visually-hidden">, camera ${camera}</span></span>
        ${screen
          ? html`<span part="state state-screen" class="state sharing" data-state="sharing" title="Sharing screen">
              ${icons.screen}<span class="visually-hidden">, sharing screen</span></span>`
          : nothing}
      </span>
    </li>`;
  }
}

function rowsOf(session: Session): Row[] {
  const speaker = session.activeSpeaker;
  const me = session.local;
  const rows: Row[] = [{
    id: me.id, name: me.name, local: true, role: me.role, speaking: speaker === me.id,
    media: mediaStateOf(me.tracks.values()),
  }];
  for (const p of session.participants.values()) {
    rows.push({ id: p.id, name: p.name, local: false, role: p.role, speaking: speaker === p.id, media: mediaStateOf(p.tracks.values()) });
  }
  return rows;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
