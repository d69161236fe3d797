/**
 * Fuzz target `file-names`: `checkFileName` and `safeFileName` (sdk/files/names.ts) against
 * docs/protocol.md §7.6.
 *
 * `checkFileName` must accept exactly the names of 1–255 UTF-16 code units that are not only white
 * space and hold no control character (U+0000–U+001F, U+007F–U+009F, U+2028, U+2029) and no lone
 * surrogate, return them unchanged, and refuse everything else with a `LanError` `LAN_ERR_BAD_NAME`.
 *
 * `safeFileName` must give a safe single path component: not empty, not `.` or `..`, no `/` `\` or other
 * reserved character (`<>:"|?*`), no control character, no lone surrogate, no leading dot or white
 * space, no trailing dot or white space, at most 200 UTF-8 bytes, and no Windows device name (`CON`,
 * `nul.txt`…, the list of §7.6); and a safe name is its own safe name (applying it twice changes nothing).
 * @module
 */
import fc from 'fast-check';
import { checkFileName, safeFileName } from '../../../sdk/files/names.js';
import { INTERESTING_UNITS, mutateText, mutatedTextSeeds, oneOf } from '../mutate.js';
import { attempt, ensure, fail, show, type FuzzTarget } from '../target.js';

/** An input: a name (or, rarely, another JSON value handed to `checkFileName`). */
export type NameInput = string | number | boolean | null | Record<string, never> | unknown[];

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** §7.6's device names, with any extension, any case. */
const DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$/i;
const encoder = new TextEncoder();

function nameRuleBroken(name: string): string | undefined {
  if (name.length < 1 || name.trim() === '') return 'empty or only white space';
  if (name.length > 255) return 'longer than 255';
  if (CONTROL.test(name)) return 'control character';
  if (LONE_SURROGATE.test(name)) return 'lone surrogate';
  return undefined;
}

/** Why `out` is not a safe name, or `undefined`. */
function unsafe(out: string): string | undefined {
  if (out === '') return 'empty';
  if (out === '.' || out === '..') return 'a dot name';
  if (/[/\\]/.test(out)) return 'a path separator';
  if (/[<>:"|?*]/.test(out)) return 'a reserved character';
  if (CONTROL.test(out)) return 'a control character';
  if (LONE_SURROGATE.test(out)) return 'a lone surrogate';
  if (/^[.\s]/.test(out)) return 'a leading dot or white space';
  if (/[.\s]$/.test(out)) return 'a trailing dot or white space';
  if (encoder.encode(out).byteLength > 200) return `${encoder.encode(out).byteLength} UTF-8 bytes (over 200)`;
  if (DEVICE.test(out)) return 'a Windows device name';
  return undefined;
}

/** Checks one input; the outcome is `accepted`/`refused:<rule>` and, for strings, `safe`/`changed`. */
export function checkName(input: NameInput): string {
  const got = attempt('checkFileName', () => checkFileName(input), true);
  const broken = typeof input === 'string' ? nameRuleBroken(input) : 'not a string';
  if (broken) {
    ensure(!got.ok, 'checkFileName:accepts-invalid', () => `checkFileName accepted ${show(input)} (${broken})`);
    ensure(got.code === 'LAN_ERR_BAD_NAME', 'checkFileName:wrong-code', () => `checkFileName refused ${show(input)} with ${got.ok ? '' : got.code}, not LAN_ERR_BAD_NAME`);
  } else {
    if (!got.ok) fail('checkFileName:refuses-valid', `checkFileName refused ${show(input)}: ${got.error.message}`);
    ensure(got.value === input, 'checkFileName:changes', () => `checkFileName returned ${show(got.value)} for ${show(input)}`);
  }
  const accepted = broken ? `refused:${broken}` : 'accepted';
  if (typeof input !== 'string') return accepted;
  const safe = attempt('safeFileName', () => safeFileName(input), true);
  if (!safe.ok) fail('safeFileName:threw', `safeFileName(${show(input)}) threw ${safe.code}`);
  const out = safe.value;
  const why = unsafe(out);
  if (why) {
    const key = why === 'a Windows device name' ? 'safeFileName:device-name' : `safeFileName:unsafe:${why.replace(/^\d+ /, '')}`;
    fail(key, `safeFileName(${show(input)}) = ${show(out)}, which has ${why}`);
  }
  const twice = safeFileName(out);
  ensure(twice === out, 'safeFileName:not-idempotent', () => `safeFileName(${show(out)}) = ${show(twice)}: a safe name is changed again (from ${show(input)})`);
  // What safeFileName had to do, for a corpus that keeps an input of each kind.
  const did = [
    /[/\\]/.test(input) && 'path', out === 'file' && 'fallback', out.startsWith('_') && DEVICE.test(out.slice(1)) && 'device',
    encoder.encode(input).byteLength > 200 && 'cut', /^[.\s]|[.\s]$/.test(input) && 'trim', /[<>:"|?*]/.test(input) && 'reserved',
    (CONTROL.test(input) || LONE_SURROGATE.test(input)) && 'control',
  ].filter(Boolean).join('+');
  return `${accepted}:${out === input ? 'safe' : `changed:${did || 'other'}`}`;
}

const device = fc.constantFrom('CON', 'con', 'PRN', 'AUX', 'NUL', 'nul', 'COM1', 'com0', 'COM¹', 'LPT9', 'lpt³', 'CONIN$', 'conout$');
const pieces = fc.oneof(
  fc.constantFrom(...INTERESTING_UNITS),
  fc.constantFrom('.', '..', '/', '\\', ' ', '.txt', '.tar.gz', 'C:', 'a', 'report ✓.pdf', '😀', '\u0301'),
  device,
  fc.string({ unit: 'binary', maxLength: 6 }),
);
/** Names built from the pieces that matter, some long enough to be cut at 200 bytes. */
const built = fc.tuple(fc.array(pieces, { maxLength: 10 }), fc.option(fc.tuple(fc.constantFrom(' ', '.', 'a', 'é', '😀', '\u00a0', '_'), fc.integer({ min: 1, max: 260 }), fc.nat({ max: 10 })), { nil: undefined }))
  .map(([parts, run]) => {
    if (!run) return parts.join('');
    const [unit, times, where] = run;
    const at = Math.min(where, parts.length);
    return [...parts.slice(0, at), unit.repeat(times), ...parts.slice(at)].join('');
  });

export const fileNamesTarget: FuzzTarget<NameInput> = {
  name: 'file-names',
  parser: '`checkFileName`, `safeFileName` (sdk/files/names.ts)',
  quickRuns: 30000,
  arbitrary(seeds) {
    const seedText = seeds.filter((s): s is string => typeof s === 'string');
    return oneOf<NameInput>(
      built,
      mutateText(built),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 300 }),
      mutatedTextSeeds(seedText),
      fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant({}), fc.constant([] as unknown[])),
    );
  },
  async open() {
    return { async: false, check: checkName, close: async () => {} };
  },
  toJson: (input) => ({ name: input }),
  fromJson: (json) => (json as { name: NameInput }).name,
};
