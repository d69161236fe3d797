/**
 * What `<lan-video-grid>` and `<lan-participants>` show about a participant: media state from their
 * tracks, initials, spoken descriptions; and a controller that re-renders its host when your own tracks
 * change.
 * @module
 * @internal
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { LocalTrack, Session, TrackKind } from '../../sdk/index.js';

/** A camera is on (sending) or off (muted, or none). */
export type CameraState = 'on' | 'off';
/** A microphone is on, muted, or off (none published). */
export type MicrophoneState = 'on' | 'muted' | 'off';

/** A participant's media, as shown on tiles and in the list. @internal */
export interface MediaState {
  camera: CameraState;
  microphone: MicrophoneState;
  /** Sharing a screen (paused or not). */
  screen: boolean;
}

/** The part of a local or remote track that media state depends on. @internal */
export interface TrackLike {
  readonly kind: TrackKind;
  readonly muted: boolean;
  readonly ended: boolean;
}

/** The media state of a participant with these tracks. @internal */
export function mediaStateOf(tracks: Iterable<TrackLike>): MediaState {
  let cameraOn = false;
  let microphones = 0;
  let microphoneOn = false;
  let screen = false;
  for (const track of tracks) {
    if (track.ended) continue;
    if (track.kind === 'camera') cameraOn ||= !track.muted;
    else if (track.kind === 'microphone') {
      microphones++;
      microphoneOn ||= !track.muted;
    } else if (track.kind === 'screen') screen = true;
  }
  const microphone: MicrophoneState = microphoneOn ? 'on' : microphones > 0 ? 'muted' : 'off';
  const camera: CameraState = cameraOn ? 'on' : 'off';
  return { camera, microphone, screen };
}

/** Up to two initials of a name ("Ana María López" → "AL"), whole characters (emoji included). @internal */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean);
  const first = (word: string | undefined): string => (word ? Array.from(word)[0] ?? '' : '');
  const result = words.length > 1 ? first(words[0]) + first(words[words.length - 1]) : first(words[0]);
  return result.toLocaleUpperCase() || '?';
}

/** "camera on, microphone muted", for accessible names. @internal */
export function describeMedia(state: MediaState): string {
  const microphone = state.microphone === 'on' ? 'microphone on' : state.microphone === 'muted' ? 'microphone muted' : 'microphone off';
  return `camera ${state.camera}, ${microphone}${state.screen ? ', sharing screen' : ''}`;
}

/**
 * Re-renders its host when your own tracks change: published, unpublished, muted, unmuted, or their
 * capture device switched (the session's `localTrackPublished` / `localTrackUnpublished`, the tracks'
 * `muted`, `ended` and `deviceChanged`). The session is looked up again before each update of the host,
 * so a new one (set as a property, or through the context) is followed.
 * @internal
 */
export class LocalTracksController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #session: () => Session | undefined;
  #signature = '';
  /** The session listened to, and how to stop. */
  #watched: { session: Session; off: () => void } | undefined;
  #subscriptions: Array<() => void> = [];

  constructor(host: ReactiveControllerHost, session: () => Session | undefined) {
    this.#host = host;
    this.#session = session;
    host.addController(this);
  }

  #connected = false;

  hostConnected(): void {
    this.#connected = true;
    this.check();
  }

  hostUpdate(): void {
    // The host is updating anyway: only follow a session that changed, without asking for another update.
    if (this.#connected) this.check(false);
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#watch(undefined);
    this.#unsubscribe();
    this.#signature = '';
  }

  /** Compares the local tracks with the last look and re-renders the host (unless `update` is false) when they changed. */
  check(update = true): void {
    const found = this.#session();
    const session = found && found.state !== 'closed' ? found : undefined;
    this.#watch(session);
    const tracks = session ? [...session.local.tracks.values()] : [];
    const signature = `${found?.local.id ?? ''}/${tracks.map(signatureOf).join('|')}`;
    if (signature === this.#signature) return;
    this.#signature = signature;
    this.#unsubscribe();
    for (const track of tracks) {
      const listener = (): void => this.check();
      track.on('muted', listener);
      track.on('ended', listener);
      track.on('deviceChanged', listener);
      this.#subscriptions.push(() => {
        track.off('muted', listener);
        track.off('ended', listener);
        track.off('deviceChanged', listener);
      });
    }
    if (update) this.#host.requestUpdate();
  }

  #watch(session: Session | undefined): void {
    if (this.#watched?.session === session) return;
    this.#watched?.off();
    this.#watched = undefined;
    if (!session) return;
    const listener = (): void => this.check();
    session.on('localTrackPublished', listener);
    session.on('localTrackUnpublished', listener);
    session.on('stateChanged', listener);
    this.#watched = {
      session,
      off: () => {
        session.off('localTrackPublished', listener);
        session.off('localTrackUnpublished', listener);
        session.off('stateChanged', listener);
      },
    };
  }

  #unsubscribe(): void {
    for (const unsubscribe of this.#subscriptions) unsubscribe();
    this.#subscriptions = [];
  }
}

function signatureOf(track: LocalTrack): string {
  return `${track.id}:${track.kind}:${track.muted ? 1 : 0}:${track.ended ? 1 : 0}:${mediaStreamTrackOf(track)?.id ?? ''}`;
}

/** The browser track a local track captures (a `LocalMediaTrack`), if any. @internal */
export function mediaStreamTrackOf(track: LocalTrack): MediaStreamTrack | undefined {
  return 'mediaStreamTrack' in track ? (track as { mediaStreamTrack: MediaStreamTrack }).mediaStreamTrack : undefined;
}
