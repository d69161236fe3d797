/**
 * Every adapter's devices at once, or why an adapter cannot run here: what `lanconf-relay devices` prints.
 * @module
 */
import { CameraSource, type CameraOptions } from './CameraSource.js';
import type { CaptureDevice } from './CaptureDevice.js';
import { CaptureError, type CaptureAdapterName } from './CaptureError.js';
import { MicrophoneSource, type MicrophoneOptions } from './MicrophoneSource.js';
import { ScreenSource, type ScreenOptions } from './ScreenSource.js';
import { SpeakerOutput, type SpeakerOptions } from './SpeakerOutput.js';

/** One adapter's devices, or the reason it is unavailable. */
export type DeviceReport =
  | { adapter: CaptureAdapterName; available: true; devices: CaptureDevice[] }
  | { adapter: CaptureAdapterName; available: false; error: CaptureError };

/** Options of {@link listAllDevices}: each adapter's own, where they matter for listing. */
export interface ListAllDevicesOptions {
  screen?: Pick<ScreenOptions, 'xDisplay' | 'xrandrPath'>;
  camera?: Pick<CameraOptions, 'ffmpegPath'>;
  microphone?: Pick<MicrophoneOptions, 'api' | 'audifyModule'>;
  speaker?: Pick<SpeakerOptions, 'api' | 'audifyModule'>;
}

/** Every adapter's devices, in a fixed order: screen, camera, microphone, speaker. */
export interface AllDevices {
  screen: DeviceReport;
  camera: DeviceReport;
  microphone: DeviceReport;
  speaker: DeviceReport;
}

async function report(adapter: CaptureAdapterName, list: () => Promise<CaptureDevice[]>): Promise<DeviceReport> {
  try {
    const devices = await list();
    if (devices.length === 0) {
      return { adapter, available: false, error: CaptureError.unavailable(adapter, `no ${adapter === 'screen' ? 'display' : `${adapter} device`} was found`) };
    }
    return { adapter, available: true, devices };
  } catch (error) {
    return { adapter, available: false, error: CaptureError.from(adapter, error, 'cannot list devices') };
  }
}

/**
 * Lists the devices of every adapter, in parallel. Never rejects: an adapter that cannot run here (no display, no
 * ffmpeg, audify not installed…) is reported with its {@link CaptureError}, and the others are still listed.
 *
 * @example
 * ```ts
 * for (const r of Object.values(await listAllDevices())) {
 *   if (r.available) for (const d of r.devices) console.log(`${r.adapter}\t${d.id}\t${d.name}${d.isDefault ? ' (default)' : ''}`);
 *   else console.log(`${r.adapter}\tunavailable: ${r.error.message}`);
 * }
 * ```
 */
export async function listAllDevices(options: ListAllDevicesOptions = {}): Promise<AllDevices> {
  const [screen, camera, microphone, speaker] = await Promise.all([
    report('screen', () => ScreenSource.listDevices(options.screen)),
    report('camera', () => CameraSource.listDevices(options.camera)),
    report('microphone', () => MicrophoneSource.listDevices(options.microphone)),
    report('speaker', () => SpeakerOutput.listDevices(options.speaker)),
  ]);
  return { screen, camera, microphone, speaker };
}
