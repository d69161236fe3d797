/**
 * File sizes as people read them: shared by `<lan-files>` and `lanconf-relay join`.
 * @module
 */

const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;

/**
 * A file size as people read it, in decimal units like file managers show them: `512 B`, `1.5 KB`,
 * `2.4 MB`, `740 MB`, `1.2 GB`. One decimal under 100 of a unit, none above.
 *
 * @example
 * ```ts
 * formatSize(2_400_000) // '2.4 MB'
 * ```
 */
export function formatSize(bytes: number, locale?: string): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  let value = bytes / 1000;
  let unit = 0;
  // Rounded to what is shown, 999.96 KB reads as 1 MB.
  while (value >= 999.95 && unit < UNITS.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = value < 99.95 ? 1 : 0;
  return `${value.toLocaleString(locale, { maximumFractionDigits: digits })} ${UNITS[unit]}`;
}
