/**
 * One call per adapter to share it in a meeting: `shareScreen`, `shareMicrophone`, `shareCamera`, `playSpeaker`.
 * @module
 */
import type { Session } from '../../sdk/Session.js';
import { CameraSource, type CameraOptions } from './CameraSource.js';
import { CaptureShare } from './CaptureShare.js';
import type { CaptureSource } from './CaptureSource.js';
import { MicrophoneSource, type MicrophoneOptions } from './MicrophoneSource.js';
import { ScreenSource, type ScreenOptions } from './ScreenSource.js';
import { SpeakerOutput, type SpeakerOptions } from './SpeakerOutput.js';

/** Options every share takes besides its adapter's. */
export interface ShareOptions {
  /** Publish the track muted (frames are captured but not sent until `track.unmute()`). */
  muted?: boolean;
}

/**
 * Starts `source` and publishes it in `session`. The source is started first, so a missing device rejects before
 * anything is announced to the meeting.
 * @throws {@link CaptureError} when the source cannot start; the session's errors when publishing fails (the
 *   source is stopped again).
 */
export async function shareSource(session: Session, source: CaptureSource, options: ShareOptions = {}): Promise<CaptureShare> {
  await source.start();
  try {
    const track = await session.publish({ kind: source.kind, codec: source.codec, frames: source, ...(options.muted ? { muted: true } : {}) });
    return new CaptureShare(source, track);
  } catch (error) {
    await source.stop();
    throw error;
  }
}

/**
 * Shares this machine's screen (one display) as a `screen` track: JPEG q60 fitting 1280×720, 8 fps by default.
 *
 * @example
 * ```ts
 * const session = await joinMeeting({ url, meeting: 'Room1', name: 'Kiosk', transport: 'native' });
 * const share = await shareScreen(session, { device: 'HDMI-1' });
 * ```
 * @throws {@link CaptureError} when there is no display, or `xrandr` / ImageMagick are missing (Linux).
 */
export function shareScreen(session: Session, options: ScreenOptions & ShareOptions = {}): Promise<CaptureShare> {
  return shareSource(session, new ScreenSource(options), options);
}

/**
 * Shares a microphone as a `microphone` track: Opus 48 kHz mono in 20 ms frames, with audio level and voice flag.
 * @throws {@link CaptureError} when audify is not installed, or there is no input device (or not the one named).
 */
export function shareMicrophone(session: Session, options: MicrophoneOptions & ShareOptions = {}): Promise<CaptureShare> {
  return shareSource(session, new MicrophoneSource(options), options);
}

/**
 * Shares a camera as a `camera` track: 640×480 JPEG at 25 fps through ffmpeg.
 * @throws {@link CaptureError} when ffmpeg is missing, or there is no camera (or not the one named).
 */
export function shareCamera(session: Session, options: CameraOptions & ShareOptions = {}): Promise<CaptureShare> {
  return shareSource(session, new CameraSource(options), options);
}

/**
 * Plays every microphone track of the meeting on this machine's speaker, until the session closes or the
 * returned speaker is stopped.
 * @throws {@link CaptureError} when audify is not installed, or there is no output device (or not the one named).
 */
export async function playSpeaker(session: Session, options: SpeakerOptions = {}): Promise<SpeakerOutput> {
  const speaker = new SpeakerOutput(options);
  await speaker.start();
  speaker.attach(session);
  return speaker;
}
