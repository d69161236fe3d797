/**
 * Joining and publishing, shared by `<lan-prejoin>` (the join button) and `<lan-meeting autojoin>`;
 * and the words shown to people when a join fails.
 * @module
 */
import { LanError, UntrustedRelayError, joinMeeting, type Session } from '../../sdk/index.js';
import { deviceError } from '../shared/device-errors.js';

/** What {@link joinAndPublish} needs. */
export interface JoinRequest {
  /** The relay's URL; empty or missing: the page's own origin (the relay serves the page). */
  relay?: string | undefined;
  meeting: string;
  name: string;
  /** Empty or missing: no passcode. */
  passcode?: string | undefined;
  /** Publish the camera. Default `true`. */
  camera?: boolean;
  /** Publish the microphone. Default `true`. */
  microphone?: boolean;
  /** Camera to publish (`listDevices().cameras[i].deviceId`); default: the browser's choice. */
  cameraId?: string | undefined;
  /** Microphone to publish; default: the browser's choice. */
  microphoneId?: string | undefined;
  /** Publish the camera muted (nothing is sent until it is unmuted). */
  cameraMuted?: boolean;
  /** Publish the microphone muted. */
  microphoneMuted?: boolean;
}

/** The joined session, and what could not be published (the session stays joined without it). */
export interface JoinResult {
  session: Session;
  /**
   * Device errors, each with a sentence for people as its message (`describeDeviceError`), the browser's
   * name (`NotAllowedError`, `NotFoundError`, `NotReadableError`…) and its error as `cause`.
   */
  deviceErrors: Error[];
}

/** The relay URL to use: the one given, else the page's origin. */
export function relayUrlOf(relay: string | undefined | null): string {
  const given = relay?.trim();
  return given ? given : location.origin;
}

/**
 * Joins, starts remote audio (called from the join click, this is the user gesture browsers want)
 * and publishes the camera and microphone asked for.
 * @throws what `joinMeeting` throws: `LAN_ERR_BAD_PASSCODE`, `LAN_ERR_UNREACHABLE`, `TypeError`…
 */
export async function joinAndPublish(request: JoinRequest): Promise<JoinResult> {
  const session = await joinMeeting({
    url: relayUrlOf(request.relay),
    meeting: request.meeting.trim(),
    name: request.name.trim(),
    ...(request.passcode ? { passcode: request.passcode } : {}),
  });
  // Not awaited: a blocked start is reported by `audioStateChanged`, never a reason to fail the join.
  session.startAudio().catch(() => undefined);
  const deviceErrors: Error[] = [];
  const publishing: Array<Promise<unknown>> = [];
  if (request.camera !== false) {
    publishing.push(session.publishCamera({ ...(request.cameraId ? { deviceId: request.cameraId } : {}), muted: request.cameraMuted ?? false })
      .catch((e: unknown) => deviceErrors.push(deviceError(e, 'camera'))));
  }
  if (request.microphone !== false) {
    publishing.push(session.publishMicrophone({ ...(request.microphoneId ? { deviceId: request.microphoneId } : {}), muted: request.microphoneMuted ?? false })
      .catch((e: unknown) => deviceErrors.push(deviceError(e, 'microphone'))));
  }
  await Promise.all(publishing);
  return { session, deviceErrors };
}

/**
 * A sentence for people about a failed join, by the error's stable code.
 *
 * `LAN_ERR_UNTRUSTED` ({@link UntrustedRelayError}) names the relay's trust page; `<lan-meeting>` and
 * `<lan-prejoin>` show `<lan-trust-notice>` for it instead of this sentence.
 *
 * @example
 * ```ts
 * describeJoinError(new LanError('LAN_ERR_BAD_PASSCODE', '…')); // 'Wrong passcode. …'
 * ```
 */
export function describeJoinError(error: unknown, relay?: string): string {
  if (error instanceof LanError) {
    switch (error.code) {
      case 'LAN_ERR_BAD_PASSCODE':
        return 'Wrong passcode. Check it with the meeting host and try again.';
      case 'LAN_ERR_UNREACHABLE':
        return `Cannot reach the relay${relay ? ` at ${relay}` : ''}. Check the address and that the relay is running.`;
      case 'LAN_ERR_UNTRUSTED': {
        const trust = error instanceof UntrustedRelayError ? error.trustUrl : '';
        const open = trust ? `Open ${trust} to trust it once` : 'Open the relay\'s trust page to trust it once';
        // `confirmed`: the relay answered on plain HTTP while HTTPS failed, so the certificate is the cause.
        return error instanceof UntrustedRelayError && !error.confirmed
          ? `Cannot reach the relay${relay ? ` at ${relay}` : ''}. Most likely this computer does not trust its certificate yet. ${open}, then try again.`
          : `This computer does not trust the meeting server${relay ? ` at ${relay}` : ''} yet. ${open}, then try again.`;
      }
      case 'LAN_ERR_TIMEOUT':
        return 'The relay did not answer in time. Try again.';
      case 'LAN_ERR_ROOM_FULL':
        return 'This meeting is full.';
      case 'LAN_ERR_SHUTDOWN':
        return 'The relay is shutting down.';
      case 'LAN_ERR_CLOSED':
        return 'The connection to the relay closed while joining. Try again.';
      case 'LAN_ERR_INVALID_MESSAGE':
        return `The relay refused the join: ${error.message}`;
      default:
        return `Could not join: ${error.message}`;
    }
  }
  if (error instanceof TypeError) return `Could not join: ${error.message}.`;
  return `Could not join: ${error instanceof Error ? error.message : String(error)}`;
}
