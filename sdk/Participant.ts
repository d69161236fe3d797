/**
 * Participants: the local one (this session) and the remote ones.
 * @module
 */
import { TypedEmitter } from './TypedEmitter.js';
import type { Codec, ParticipantInfo } from './protocol/index.js';
import type { LocalTrack, RemoteTrack } from './Track.js';

/** A participant's role: the first to join a meeting is its host. */
export type Role = 'host' | 'guest';

/** This session's own participant. */
export class LocalParticipant {
  /** Participant id, assigned by the relay. */
  readonly id: string;
  readonly name: string;
  /** Tracks this session publishes, by id. */
  readonly tracks = new Map<string, LocalTrack>();
  #role: Role;

  /** @internal */
  constructor(info: ParticipantInfo) {
    this.id = info.id;
    this.name = info.name;
    this.#role = info.role;
  }

  /** `host` (may use `session.host`) or `guest`; it changes with the session's `roleChanged` event. */
  get role(): Role {
    return this.#role;
  }

  /** @internal */
  setRole(role: Role): void {
    this.#role = role;
  }
}

/** Events of a {@link RemoteParticipant}. */
export type RemoteParticipantEvents = {
  trackPublished: [track: RemoteTrack];
  trackUnpublished: [track: RemoteTrack];
  left: [];
};

/** Someone else in the meeting. */
export class RemoteParticipant extends TypedEmitter<RemoteParticipantEvents> {
  readonly id: string;
  readonly name: string;
  #role: Role;
  /** When they joined (ms since the epoch, relay clock). */
  readonly joinedAt: number;
  /** Codecs they can decode. */
  readonly decode: readonly Codec[];
  /** Their tracks, by id. */
  readonly tracks = new Map<string, RemoteTrack>();

  /** @internal */
  constructor(info: ParticipantInfo) {
    super();
    this.id = info.id;
    this.name = info.name;
    this.#role = info.role;
    this.joinedAt = info.joinedAt;
    this.decode = info.decode;
  }

  /** `host` or `guest`; it changes with the session's `roleChanged` event. */
  get role(): Role {
    return this.#role;
  }

  /** @internal */
  setRole(role: Role): void {
    this.#role = role;
  }

  /** @internal */
  addTrack(track: RemoteTrack): void {
    this.tracks.set(track.id, track);
    this.emit('trackPublished', track);
  }

  /** @internal */
  removeTrack(track: RemoteTrack): void {
    if (!this.tracks.delete(track.id)) return;
    this.emit('trackUnpublished', track);
  }

  /** @internal */
  leave(): void {
    this.emit('left');
  }
}
