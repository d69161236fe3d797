/**
 * Pure view helpers of `<lan-files>`.
 * @module
 */

export { formatSize } from '../../sdk/files/format.js';

/** A progress (0..1, clamped) as a whole percentage. */
export function percent(progress: number | undefined): number | undefined {
  if (progress === undefined || !Number.isFinite(progress)) return undefined;
  return Math.round(Math.min(1, Math.max(0, progress)) * 100);
}
