/**
 * What a page needs before any capture starts: `getUserMedia` / `getDisplayMedia` constraints and the device
 * list. Apart from the capture pipelines (videoCapture.ts, audioCapture.ts), which load on first use, so a
 * pre-join screen with a camera preview and device pickers needs only this.
 * @module
 */

/** The sample rate of every lanconf audio frame. */
const AUDIO_RATE = 48000;

/** Options of {@link cameraConstraints}. */
export interface CameraConstraintOptions {
  /** A camera from {@link listDevices}; default: the browser's choice. */
  deviceId?: string;
  /** Ideal width. Default 640. */
  width?: number;
  /** Ideal height. Default 480. */
  height?: number;
  /** Ideal and most frames per second. Default 25. */
  fps?: number;
}

/**
 * Constraints for `navigator.mediaDevices.getUserMedia` that ask for a camera at the baseline
 * 640×480, 25 fps (ideal, so a camera that cannot do it still opens).
 *
 * @example
 * ```ts
 * const stream = await navigator.mediaDevices.getUserMedia(cameraConstraints({ deviceId }));
 * ```
 */
export function cameraConstraints(options: CameraConstraintOptions = {}): MediaStreamConstraints {
  const { deviceId, width = 640, height = 480, fps = 25 } = options;
  const video: MediaTrackConstraints = {
    width: { ideal: width },
    height: { ideal: height },
    frameRate: { ideal: fps, max: fps },
  };
  if (deviceId) video.deviceId = { exact: deviceId };
  return { video, audio: false };
}

/** Options of {@link screenConstraints}. */
export interface ScreenConstraintOptions {
  /** Widest frame wanted; larger screens are scaled down by the browser. Default 1920. */
  maxWidth?: number;
  /** Ideal and most frames per second. Default 15. */
  fps?: number;
}

/**
 * Options for `navigator.mediaDevices.getDisplayMedia` (screen sharing): video only, at most
 * `maxWidth` wide and `fps` frames per second.
 *
 * @example
 * ```ts
 * const stream = await navigator.mediaDevices.getDisplayMedia(screenConstraints({ fps: 8 }));
 * ```
 */
export function screenConstraints(options: ScreenConstraintOptions = {}): DisplayMediaStreamOptions {
  const { maxWidth = 1920, fps = 15 } = options;
  return { video: { width: { max: maxWidth }, frameRate: { ideal: fps, max: fps } }, audio: false };
}

/** The media devices of this machine, by role. */
export interface MediaDeviceList {
  /** Video inputs. */
  cameras: MediaDeviceInfo[];
  /** Audio inputs. */
  microphones: MediaDeviceInfo[];
  /** Audio outputs (for `HTMLMediaElement.setSinkId`); empty in browsers that do not list them. */
  speakers: MediaDeviceInfo[];
}

/**
 * Lists cameras, microphones and speakers.
 *
 * Browsers hide device labels (and sometimes all but one device per kind) until the page has been
 * granted camera or microphone permission: call it again after a successful `getUserMedia` to get the
 * names people recognise.
 */
export async function listDevices(): Promise<MediaDeviceList> {
  const devices = await navigator.mediaDevices.enumerateDevices();
  return {
    cameras: devices.filter((d) => d.kind === 'videoinput'),
    microphones: devices.filter((d) => d.kind === 'audioinput'),
    speakers: devices.filter((d) => d.kind === 'audiooutput'),
  };
}

/**
 * `getUserMedia` audio constraints for speech: echo cancellation, noise suppression and automatic gain on,
 * mono, 48 kHz (what the publisher encodes, so the browser need not resample).
 *
 * @example
 * ```ts
 * const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraints(deviceId) });
 * ```
 */
export function microphoneConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { exact: deviceId } } : {}),
    echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1, sampleRate: AUDIO_RATE,
  };
}
