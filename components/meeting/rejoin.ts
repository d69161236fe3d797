/**
 * Joining a meeting again after the relay went away, for `<lan-meeting>`: what to join with, and the
 * loop that tries until it works, is given up, or meets a refusal that will not change.
 * @module
 * @internal
 */
import { Backoff } from '../../sdk/backoff.js';
import { ErrorCode, LanError, type Session } from '../../sdk/index.js';
import { mediaStreamTrackOf } from '../shared/media-state.js';
import { joinAndPublish, type JoinRequest, type JoinResult } from '../prejoin/join.js';

/**
 * Ends of a session after which joining again may work: the relay shut down or restarted (it no longer
 * knows the participant), or could not be reached for the whole reconnection time.
 */
export const REJOIN_AFTER: ReadonlySet<string> = new Set<string>([ErrorCode.Shutdown, ErrorCode.Closed, ErrorCode.Timeout, ErrorCode.Unreachable]);
/** Wait before the first attempt to join again (ms); the waits double from there. */
const REJOIN_FIRST_DELAY_MS = 1000;
/** Longest wait between two attempts to join again (ms). */
const REJOIN_MAX_DELAY_MS = 10_000;

/** How a rejoin ended: joined; a refusal that will not change; given up (`cancelled`); the element left the page. */
export type RejoinOutcome =
  | { kind: 'joined'; result: JoinResult }
  | { kind: 'failed'; error: unknown }
  | { kind: 'cancelled' }
  | { kind: 'detached' };

/**
 * The join that puts `previous` back: same relay, meeting, name and passcode, the camera and microphone
 * that were published, on the same devices and muted as they were (muted from the start: a microphone
 * muted before must not be heard for a moment after). A screen share needs a click and is not restarted.
 */
export function rejoinRequest(previous: Session, relay: string, passcode: string): JoinRequest {
  const tracks = [...previous.local.tracks.values()];
  const camera = tracks.find((t) => t.kind === 'camera');
  const microphone = tracks.find((t) => t.kind === 'microphone');
  const deviceOf = (t: typeof camera) => (t ? mediaStreamTrackOf(t)?.getSettings().deviceId || undefined : undefined);
  return {
    relay, meeting: previous.meeting, name: previous.local.name, passcode,
    camera: !!camera, microphone: !!microphone, cameraId: deviceOf(camera), microphoneId: deviceOf(microphone),
    cameraMuted: camera?.muted ?? false, microphoneMuted: microphone?.muted ?? false,
  };
}

/**
 * Joins with `request` until it works, with a growing pause (1 s, doubling, up to 10 s) before each try.
 * Never gives up by time: it ends when `signal` aborts (the person left, or joined by hand, meanwhile),
 * when the element is no longer on the page (`attached()` false: a session joined after it left is left
 * again), or on a failure outside {@link REJOIN_AFTER} (wrong passcode, full meeting, a certificate no
 * longer trusted…), a refusal that will not change.
 */
export async function rejoin(request: JoinRequest, signal: AbortSignal, attached: () => boolean): Promise<RejoinOutcome> {
  const backoff = new Backoff({ initialMs: REJOIN_FIRST_DELAY_MS, maxMs: REJOIN_MAX_DELAY_MS, signal });
  while (await backoff.wait()) {
    if (!attached()) return { kind: 'detached' };
    try {
      const result = await joinAndPublish(request);
      if (signal.aborted || !attached()) {
        await result.session.leave();
        return { kind: signal.aborted ? 'cancelled' : 'detached' };
      }
      // Closed again while publishing: keep trying.
      if (result.session.state !== 'closed') return { kind: 'joined', result };
    } catch (error) {
      if (signal.aborted) return { kind: 'cancelled' };
      if (!(error instanceof LanError) || !REJOIN_AFTER.has(error.code)) return { kind: 'failed', error };
    }
  }
  return { kind: 'cancelled' };
}
