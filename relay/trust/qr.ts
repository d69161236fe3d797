/**
 * QR codes for the trust page and the relay's console: an SVG the page inlines (so the browser bundle
 * carries no QR encoder) and a small block-character rendering to print at startup.
 * @module
 * @internal
 */
import QRCode from 'qrcode';

/** The longest text {@link qrSvg} and {@link qrTerminal} encode, in UTF-16 code units. */
const MAX_TEXT = 1024;

function checkText(text: string): void {
  if (typeof text !== 'string' || text.length === 0) throw new TypeError('a QR code needs a non-empty text');
  if (text.length > MAX_TEXT) throw new TypeError(`a QR code text is at most ${MAX_TEXT} characters, got ${text.length}`);
}

/** qrcode reports a text too big for any version with a plain Error; it is the caller's argument that is wrong. */
async function encode<T>(text: string, render: () => Promise<T>): Promise<T> {
  checkText(text);
  try {
    return await render();
  } catch (error) {
    throw new TypeError(`cannot encode this text as a QR code: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * A QR code of `text` as an SVG element (a `viewBox`, no fixed size: CSS sizes it), error correction M,
 * a quiet zone of 2 modules, black on white even in dark mode, because many phone scanners fail on
 * light-on-dark codes.
 *
 * @param text - What the code holds, 1 to 1024 characters (for the trust page: the relay's HTTPS URL).
 * @returns The `<svg …>…</svg>` markup, safe to inline into HTML.
 * @throws TypeError when `text` is empty, longer than 1024 characters, or too big for a QR code
 *   (1024 characters of three UTF-8 bytes each exceed the largest code at level M).
 * @example
 * ```ts
 * const svg = await qrSvg('https://192.168.1.20:8787');
 * ```
 */
export function qrSvg(text: string): Promise<string> {
  return encode(text, () =>
    QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, color: { dark: '#000000', light: '#ffffff' } }),
  );
}

/**
 * A QR code of `text` for a terminal: two modules per character cell with half blocks, black on a
 * white ANSI background (so it scans in dark terminals too). It contains ANSI colour escapes: print
 * it only to a terminal, not to a log file.
 *
 * @param text - What the code holds, 1 to 1024 characters; keep it short (a URL), the code grows with it.
 * @param options - `ansi: false` draws it with block characters only, for output that is not a terminal.
 * @returns Lines ending with `\n`, ready for `process.stdout.write`.
 * @throws TypeError when `text` is empty, longer than 1024 characters, or too big for a QR code.
 */
export function qrTerminal(text: string, options: { ansi?: boolean } = {}): Promise<string> {
  // Without ANSI colours (a log file, a pipe): qrcode's plain block rendering, dark modules as blocks.
  if (options.ansi === false) return encode(text, () => QRCode.toString(text, { type: 'utf8', errorCorrectionLevel: 'M', margin: 2 }));
  return encode(text, async () => {
    const drawn = await QRCode.toString(text, { type: 'terminal', small: true, errorCorrectionLevel: 'M' });
    // The renderer ends with an empty coloured line; drop it so a caller's own newline does not double it.
    return drawn.replace(/\n\x1b\[47m\x1b\[30m\x1b\[0m$/, '\n');
  });
}
