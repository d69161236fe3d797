/**
 * Capture adapters for native hosts: a meeting-room PC, a kiosk or a Raspberry Pi joins a meeting from Node and
 * shares its screen, microphone and camera, and plays the meeting on its speaker, without a browser.
 *
 * Each adapter is a frame source for the Node SDK's `session.publish({ kind, codec, frames })` (or a player of
 * remote tracks, for the speaker); `shareScreen` / `shareMicrophone` / `shareCamera` / `playSpeaker` do the
 * wiring in one call. An adapter that cannot run here rejects with a {@link CaptureError}
 * (`LAN_ERR_CAPTURE_UNAVAILABLE` or `LAN_ERR_DEVICE_NOT_FOUND`) saying what is missing and how to fix it; the
 * others keep working.
 *
 * @example
 * ```ts
 * import { joinMeeting } from 'lanconf/node';
 * import { listAllDevices, shareScreen, shareMicrophone, playSpeaker } from 'lanconf/relay';
 * const session = await joinMeeting({ url: 'http://192.168.1.20:8787', meeting: 'Room1', name: 'Kiosk', transport: 'native' });
 * const screen = await shareScreen(session);
 * const mic = await shareMicrophone(session).catch((e) => { console.error(e.message); return undefined; });
 * const speaker = await playSpeaker(session);
 * ```
 * @module
 */
export { CaptureError, type CaptureAdapterName } from './CaptureError.js';
export type { CaptureDevice } from './CaptureDevice.js';
export { CaptureSource, type CaptureSourceEvents, type CaptureState, type CaptureStats } from './CaptureSource.js';
export { CaptureShare, type CaptureShareEvents } from './CaptureShare.js';
export { ScreenSource, type ScreenOptions, type DisplayInfo, type ScreenTimes } from './ScreenSource.js';
export { CameraSource, type CameraOptions, type CameraTimes } from './CameraSource.js';
export { MicrophoneSource, type MicrophoneOptions, type EncodeTimes } from './MicrophoneSource.js';
export { SpeakerOutput, type SpeakerOptions, type SpeakerEvents, type SpeakerStats } from './SpeakerOutput.js';
export { MjpegSplitter } from './MjpegSplitter.js';
export { shareSource, shareScreen, shareMicrophone, shareCamera, playSpeaker, type ShareOptions } from './share.js';
export { listAllDevices, type AllDevices, type DeviceReport, type ListAllDevicesOptions } from './listAllDevices.js';
export type { AudioApiName } from './audifyApi.js';
export type { AudioEngineOptions } from './AudioEngine.js';
export type { OutputStats } from './audioWorker.js';
