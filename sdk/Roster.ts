/**
 * The other participants of a meeting and their tracks, kept from what the relay says, and the frames
 * that reach those tracks. A manager of {@link Session}'s: messages come in through `handle*()`, the
 * session's events go out through its host.
 * @module
 * @internal
 */
import { RemoteParticipant } from './Participant.js';
import type { MediaPacket, RelayMessage, RelayMessageOf, TrackInfo } from './protocol/index.js';
import type { SessionEvents } from './Session.js';
import { RemoteTrack, type RemoteFrame, type RemoteTrackHost } from './Track.js';

/** The session events a {@link Roster} emits. */
export type RosterEvents = Pick<SessionEvents, 'participantJoined' | 'participantLeft' | 'trackPublished' | 'trackUnpublished' | 'trackMuted'>;

/** What a {@link Roster} needs of its session. */
export interface RosterHost {
  readonly localId: string;
  /** Given to each remote track: key-frame requests, pauses, renderers. */
  readonly trackHost: RemoteTrackHost;
  /** A remote track came (told before it is announced) or went: the media manager follows them. */
  trackAdded(track: RemoteTrack): void;
  trackRemoved(track: RemoteTrack): void;
  /** Someone joined or left: the media manager picks codecs for who is there. */
  participantsChanged(): void;
  emit<K extends keyof RosterEvents>(event: K, ...args: RosterEvents[K]): void;
}

type ParticipantInfo = RelayMessageOf<'participantJoined'>['participant'];

/** Frames that arrive before their track's announcement (UDP can overtake TCP) wait this long. */
const EARLY_FRAME_MS = 2000;
const EARLY_FRAME_MAX = 32;

/** Who else is in the meeting, with their tracks; the frames for those tracks. */
export class Roster {
  /** The other participants, by id. */
  readonly participants = new Map<string, RemoteParticipant>();
  /** Every remote track, by id. */
  readonly tracks = new Map<string, RemoteTrack>();
  readonly #host: RosterHost;
  readonly #early = new Map<string, { at: number; sender: string; frames: RemoteFrame[] }>();
  /**
   * Tracks that were in the meeting when it was joined, until they are announced (`trackPublished`, on the
   * next turn after `joinMeeting` resolved); their frames wait here so the listener added then gets them all.
   */
  readonly #unannounced = new Map<string, RemoteFrame[]>();
  #closed = false;

  constructor(host: RosterHost) {
    this.#host = host;
  }

  /**
   * The participants in the meeting at join, added without events; their tracks wait for
   * {@link announceExisting}. Says whether there are any.
   */
  joined(participants: readonly ParticipantInfo[]): boolean {
    for (const info of participants) this.#addParticipant(info, false);
    for (const id of this.tracks.keys()) this.#unannounced.set(id, []);
    return this.#unannounced.size > 0;
  }

  /** `trackPublished` for each track that was in the meeting at join, then the frames that came meanwhile. */
  announceExisting(): void {
    const waiting = [...this.#unannounced];
    this.#unannounced.clear();
    for (const [id, frames] of waiting) {
      const track = this.tracks.get(id);
      const participant = track && this.participants.get(track.participantId);
      if (!track || !participant || this.#closed) continue;
      this.#host.emit('trackPublished', track, participant);
      for (const frame of frames) track.deliver(frame);
    }
  }

  /** A control message about participants or their tracks; `false` for any other. */
  handleControl(message: RelayMessage): boolean {
    switch (message.type) {
      case 'participantJoined':
        this.#addParticipant(message.participant, true);
        return true;
      case 'participantLeft':
        this.#participantLeft(message.participantId, message.reason);
        return true;
      case 'trackPublished':
        this.#addTrack(message.track, true);
        return true;
      case 'trackUnpublished':
        this.#removeTrack(message.trackId);
        return true;
      case 'trackMuted': {
        const track = this.tracks.get(message.trackId);
        if (track) {
          track.setMuted(message.muted);
          this.#host.emit('trackMuted', track, message.muted);
        }
        return true;
      }
      default:
        return false;
    }
  }

  /** A media frame: to its track, or kept a while when it overtook the track's announcement. */
  handleMedia(packet: MediaPacket): void {
    const frame: RemoteFrame = {
      data: packet.payload, codec: packet.codec, kind: packet.kind, keyFrame: packet.keyFrame, sequence: packet.sequence,
      timestamp: packet.timestamp, audioLevel: packet.audioLevel, voice: packet.voice, discontinuity: packet.discontinuity,
    };
    const track = this.tracks.get(packet.track);
    if (track) {
      if (track.participantId !== packet.sender) return;
      const waiting = this.#unannounced.get(track.id);
      if (!waiting) track.deliver(frame);
      else if (waiting.length < EARLY_FRAME_MAX) waiting.push(frame);
      return;
    }
    let early = this.#early.get(packet.track);
    if (!early) {
      if (this.#early.size >= EARLY_FRAME_MAX) return;
      this.#early.set(packet.track, (early = { at: Date.now(), sender: packet.sender, frames: [] }));
    }
    if (early.sender === packet.sender && early.frames.length < EARLY_FRAME_MAX) early.frames.push(frame);
  }

  /** Frames that waited too long for their track's announcement are dropped. */
  dropStaleEarly(): void {
    const limit = Date.now() - EARLY_FRAME_MS;
    for (const [id, entry] of this.#early) if (entry.at < limit) this.#early.delete(id);
  }

  /** Back in after a resume: the differences with the relay's `welcome` become events. */
  resumed(participants: readonly ParticipantInfo[]): void {
    const present = new Set(participants.map((p) => p.id));
    for (const participant of [...this.participants.values()]) {
      if (!present.has(participant.id)) this.#participantLeft(participant.id, 'left');
    }
    for (const info of participants) {
      const participant = this.participants.get(info.id);
      if (!participant) {
        this.#addParticipant(info, true);
        continue;
      }
      const tracks = new Set(info.tracks.map((t) => t.id));
      for (const id of [...participant.tracks.keys()]) if (!tracks.has(id)) this.#removeTrack(id);
      for (const t of info.tracks) {
        const known = this.tracks.get(t.id);
        if (!known) this.#addTrack(t, true);
        else if (known.muted !== t.muted) {
          known.setMuted(t.muted);
          this.#host.emit('trackMuted', known, t.muted);
        }
      }
    }
  }

  /** Tells the relay again whether each track is paused (a pause or resume may have been lost). */
  resyncPauses(): void {
    for (const track of this.tracks.values()) track.resync();
  }

  /** The session closed: every remote track ends. */
  close(): void {
    this.#closed = true;
    for (const track of this.tracks.values()) track.end();
  }

  #participantLeft(id: string, reason: string): void {
    const participant = this.participants.get(id);
    if (!participant) return;
    for (const trackId of [...participant.tracks.keys()]) this.#removeTrack(trackId);
    this.participants.delete(participant.id);
    this.#host.participantsChanged();
    participant.leave();
    this.#host.emit('participantLeft', participant, reason);
  }

  #addParticipant(info: ParticipantInfo, announce: boolean): void {
    if (info.id === this.#host.localId || this.participants.has(info.id)) return;
    const participant = new RemoteParticipant(info);
    this.participants.set(participant.id, participant);
    for (const t of info.tracks) this.#addTrack(t, false);
    this.#host.participantsChanged();
    if (announce) this.#host.emit('participantJoined', participant);
  }

  #addTrack(info: TrackInfo, announce: boolean): void {
    const participant = this.participants.get(info.participantId);
    if (!participant || this.tracks.has(info.id)) return;
    const track = new RemoteTrack(this.#host.trackHost, info);
    this.tracks.set(track.id, track);
    participant.addTrack(track);
    this.#host.trackAdded(track);
    if (announce) this.#host.emit('trackPublished', track, participant);
    // Frames that overtook the announcement (UDP vs TCP) are delivered now, on the next turn, so the
    // listener added in the `trackPublished` handler sees them.
    const early = this.#early.get(track.id);
    if (early && early.sender === track.participantId) {
      this.#early.delete(track.id);
      queueMicrotask(() => {
        for (const frame of early.frames) track.deliver(frame);
      });
    }
  }

  #removeTrack(trackId: string): void {
    const track = this.tracks.get(trackId);
    if (!track) return;
    this.tracks.delete(trackId);
    this.#unannounced.delete(trackId);
    const participant = this.participants.get(track.participantId);
    // Ended first: its renderer closing must not tell the relay about a track the relay has forgotten.
    track.end();
    this.#host.trackRemoved(track);
    if (participant) {
      participant.removeTrack(track);
      this.#host.emit('trackUnpublished', track, participant);
    }
  }
}
