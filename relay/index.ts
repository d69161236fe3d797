/**
 * The lanconf relay as a library: `new Relay(options).listen()`. The `lanconf-relay` command is a thin
 * wrapper around it. Also the capture adapters a native host shares its screen, microphone, camera and
 * speaker with (`shareScreen`, `shareMicrophone`, `shareCamera`, `playSpeaker`, `listAllDevices`).
 *
 * @example
 * ```ts
 * import { Relay } from 'lanconf/relay';
 * const relay = new Relay({ port: 8787, passcode: 'blue-door' });
 * const { urls, fingerprint } = await relay.listen();
 * ```
 * @module lanconf/relay
 */
export {
  Relay, type RelayOptions, type RelayAddresses, type RelayEvents, type RelayInfo, type RelayStats, type RelayLog, type LogFields,
} from './Relay.js';
export type { AttemptLimits } from './AttemptLimiter.js';
export type { Room, RelayTrack } from './Room.js';
export type { Participant, ParticipantStats, ParticipantEvents } from './Participant.js';
export type { Connection, ConnectionStats } from './Connection.js';
export { DEFAULT_LIMITS, type Limits, type ParticipantInfo, type TrackInfo, type ChatMessageInfo } from '../sdk/protocol/index.js';
export * from './capture/index.js';
