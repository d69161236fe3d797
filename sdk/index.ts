/**
 * lanconf — video conferencing for a LAN. The SDK entry for browsers (and Node ≥ 22, which has a
 * global `WebSocket`). In Node, import from `lanconf/node` for the native TCP + UDP transport.
 *
 * @example
 * ```ts
 * import { joinMeeting } from 'lanconf';
 * const s = await joinMeeting({ url: 'https://relay.local:8787', meeting: 'Room1', name: 'Ana' });
 * s.on('chat', (m) => console.log(`${m.name}: ${m.text}`));
 * await s.chat.send('hello');
 * ```
 * @module lanconf
 */
import { ConnectionError, LanError } from './errors.js';
import { explainUnreachable } from './trust.js';
import { startSession, type JoinOptions, type Session } from './Session.js';
import { WebSocketTransport, type WebSocketLike } from './transport/WebSocketTransport.js';
import { relayUrls } from './url.js';
import { decodableCodecs } from './media/capabilities.js';

/** Options of {@link joinMeeting} (browser entry). */
export interface BrowserJoinOptions extends JoinOptions {
  /** Only `'websocket'` in browsers. */
  transport?: 'websocket';
}

/**
 * Joins a meeting over WebSocket and resolves with the {@link Session} once the relay welcomed you.
 *
 * @throws {@link RelayError} `LAN_ERR_BAD_PASSCODE`, `LAN_ERR_ROOM_FULL`… when the relay refuses the join;
 *   {@link ConnectionError} `LAN_ERR_UNREACHABLE` when the relay cannot be reached, `LAN_ERR_TIMEOUT` when it does not answer;
 *   {@link UntrustedRelayError} `LAN_ERR_UNTRUSTED` when an `https:` relay on another origin cannot be reached and its
 *   certificate is (or, from an `https:` page, is likely) not trusted by this browser yet, with the relay's trust page in `trustUrl`;
 *   `TypeError` for a malformed URL, meeting or name.
 */
export function joinMeeting(options: BrowserJoinOptions): Promise<Session> {
  const urls = relayUrls(options.url);
  const Ctor = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!Ctor) {
    return Promise.reject(new ConnectionError('LAN_ERR_UNREACHABLE', 'this runtime has no WebSocket; in Node import joinMeeting from "lanconf/node"'));
  }
  return (async () => {
    // Tell the others what this browser can decode, so publishers pick codecs that reach us.
    const decode = options.decode ?? await decodableCodecs(options.fallbacks);
    try {
      return await startSession(() => new WebSocketTransport(urls.ws, (url) => new Ctor(url)), { ...options, decode });
    } catch (error) {
      // An https relay a page on another origin cannot reach: often a certificate this browser does not trust yet.
      const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
      throw error instanceof LanError ? await explainUnreachable(error, urls, options.meeting, origin) : error;
    }
  })();
}

// The public surface, export by export. Transports, the wire (`sdk/protocol/`), codec choice, the capture
// pipelines and helpers such as `nowMicros` stay internal: `joinMeeting` is the way in.
export { Session, type JoinOptions, type PublishOptions, type SessionEvents, type SessionState } from './Session.js';
export type { TransportKind } from './transport/Transport.js';
export { LocalParticipant, RemoteParticipant, type RemoteParticipantEvents, type Role } from './Participant.js';
export {
  Track, LocalTrack, RemoteTrack,
  type TrackEvents, type EncodedFrame, type TrackRenderer, type RemoteFrame, type LocalTrackEvents, type RemoteTrackEvents, type LocalTrackStats,
} from './Track.js';
export { LocalMediaTrack } from './media/LocalMediaTrack.js';
export type { Codec, TrackKind, Limits, HostActionName, Reaction } from './protocol/index.js';
export { Chat, type ChatMessage } from './Chat.js';
export { HostControls, type HostAction } from './HostControls.js';
export { Hands } from './Hands.js';
export { REACTIONS } from './protocol/constants.js';
export {
  Files, type SharedFile, type SharedFileState, type FileProgress, type FileEvents, type FileSource, type SendFileOptions, type DownloadOptions,
} from './Files.js';
export { safeFileName } from './files/names.js';
export { LanError, ProtocolError, ConnectionError, RelayError, UntrustedRelayError, ErrorCode, isErrorCode } from './errors.js';
export { TypedEmitter, type EventMap, type Listener } from './TypedEmitter.js';
export type { CameraOptions, MicrophoneOptions, ScreenOptions, AudioState } from './media/MediaController.js';
export type { MediaFallbacks, PublisherStats } from './media/types.js';
export {
  listDevices, cameraConstraints, screenConstraints, microphoneConstraints,
  type MediaDeviceList, type CameraConstraintOptions, type ScreenConstraintOptions,
} from './media/devices.js';
export { VideoRenderer, type VideoRendererEvents, type VideoRendererOptions, type VideoFrameSource, type VideoRenderTarget } from './media/VideoRenderer.js';
export { AudioPlayout, type AudioPlayoutEvents, type AudioPlayoutOptions, type AudioPlayoutState, type AudioTrackStats } from './media/AudioPlayout.js';
export type { JitterBufferOptions, JitterBufferStats } from './media/JitterBuffer.js';
