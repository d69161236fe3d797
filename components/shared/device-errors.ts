/**
 * The words people see when a browser device cannot be opened: one sentence per error, the same in the
 * pre-join screen, the meeting's join and the control bar.
 * @module
 * @internal
 */

/** A device the browser opens for a meeting. */
export type Device = 'camera' | 'microphone' | 'screen' | 'speaker';

/**
 * One sentence for people about `device` that could not be opened or used, by the browser's error name
 * (`DOMException.name`); any other error is told with its own message.
 *
 * @example
 * ```ts
 * describeDeviceError(new DOMException('Permission denied', 'NotAllowedError'), 'camera');
 * // "Access to the camera was denied. Allow it in the browser's site settings and try again."
 * ```
 */
export function describeDeviceError(error: unknown, device: Device): string {
  switch (errorName(error)) {
    case 'NotAllowedError':
    case 'SecurityError':
      // For a screen this is mostly the person closing the browser's picker: nothing to set.
      return device === 'screen'
        ? 'Screen sharing was not allowed.'
        : `Access to the ${device} was denied. Allow it in the browser's site settings and try again.`;
    case 'NotFoundError':
    case 'OverconstrainedError':
      return `No ${device} was found.`;
    case 'NotReadableError':
    case 'AbortError':
      return `The ${device} could not be started: another application may be using it.`;
    default: {
      const message = error instanceof Error ? error.message : String(error ?? '');
      return message ? `The ${device} could not be used: ${message}` : `The ${device} could not be used.`;
    }
  }
}

/**
 * `error` as an `Error` to report (a `lan-error` event's `detail.error`): the sentence of
 * {@link describeDeviceError} as its message, the browser's error name (`NotAllowedError`…) as its name,
 * the browser's error itself as its `cause`.
 */
export function deviceError(error: unknown, device: Device): Error {
  const described = new Error(describeDeviceError(error, device), { cause: error });
  const name = errorName(error);
  if (name) described.name = name;
  return described;
}

function errorName(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}
