/**
 * The device descriptor every adapter's `listDevices()` returns.
 * @module
 */

/** A display, camera, microphone or speaker an adapter can use. */
export interface CaptureDevice {
  /** What to give as the adapter's `device` option (and to `lanconf-relay join --camera=…`). */
  id: string;
  /** A name for people. */
  name: string;
  /** The one used when no device is named. */
  isDefault: boolean;
  /** More about it, for listings: size and position of a display, channels of an audio device… */
  details?: string;
}
