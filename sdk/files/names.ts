/**
 * File names: what may be shown, and what may be used to save a file. A shared file's name is shown as
 * given; it never reaches a file system as given (the relay stores content under its SHA-256, and
 * downloads suggest {@link safeFileName}).
 * @module
 */
import { ErrorCode, LanError } from '../errors.js';

/** Longest file name accepted (characters). */
export const MAX_FILE_NAME_CHARS = 255;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029<>:"/\\|?*]/g;
/** Names Windows reserves for devices, whatever the extension. */
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
/**
 * A lone surrogate: half of a UTF-16 pair without the other half. It has no UTF-8 form, so such a name
 * could be neither percent-encoded (a download link) nor sent to a browser as it was given.
 */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/**
 * Checks a name given for a shared file: 1–255 characters, not only spaces, no control characters
 * (NUL, newlines…), no lone surrogate (half of a UTF-16 pair). Path separators and `..` are allowed:
 * the name is only ever shown.
 * @throws {@link LanError} `LAN_ERR_BAD_NAME` saying what is wrong.
 */
export function checkFileName(name: unknown): string {
  if (typeof name !== 'string' || name.trim() === '') throw new LanError(ErrorCode.BadName, 'a file name must not be empty');
  if (name.length > MAX_FILE_NAME_CHARS) {
    throw new LanError(ErrorCode.BadName, `a file name of ${name.length} characters is longer than ${MAX_FILE_NAME_CHARS}`);
  }
  if (CONTROL.test(name)) throw new LanError(ErrorCode.BadName, 'a file name must not contain control characters (NUL, newlines, tabs…)');
  if (LONE_SURROGATE.test(name)) {
    throw new LanError(ErrorCode.BadName, 'a file name must be valid Unicode (it has half of a UTF-16 surrogate pair)');
  }
  return name;
}

/**
 * A name safe to save a file under on Windows, macOS and Linux, as close to `name` as possible: the part
 * after the last `/` or `\`, without control and reserved characters (`<>:"/\|?*` and lone surrogates
 * become `_`), leading dots and trailing dots and spaces; a device name (`CON`, `nul.txt`, `COM1`…)
 * gets a `_` in front; at most 200 UTF-8 bytes; `file` when nothing is left.
 *
 * @example
 * ```ts
 * safeFileName('../../etc/passwd') // 'passwd'
 * safeFileName('C:\\x')            // 'x'
 * safeFileName('CON')              // '_CON'
 * ```
 */
export function safeFileName(name: string): string {
  let base = String(name).split(/[/\\]/).pop() ?? '';
  base = base.replace(UNSAFE, '_').replace(LONE_SURROGATES, '_').replace(/^[.\s]+/, '').replace(/[.\s]+$/, '');
  // The device-name check comes after the cut and the trim: 'CON' + spaces + 'x' cut to 'CON' is a device name.
  base = cutTo200Bytes(base);
  if (RESERVED.test(base)) base = cutTo200Bytes(`_${base}`);
  return base || 'file';
}

/** At most 200 UTF-8 bytes, whole characters, without trailing dots or spaces. */
function cutTo200Bytes(name: string): string {
  const encoder = new TextEncoder();
  const chars = Array.from(name).slice(0, 200);
  while (encoder.encode(chars.join('')).byteLength > 200) chars.pop();
  return chars.join('').replace(/[.\s]+$/, '');
}
