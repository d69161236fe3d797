/**
 * Bounded lists of timing samples, for the adapters' `timing` figures.
 * @module
 * @internal
 */

/** Appends `value`, keeping only the latest `max` samples. @internal */
export function pushSample(list: number[], value: number, max = 1000): void {
  list.push(value);
  if (list.length > max) list.splice(0, list.length - max);
}
