/**
 * A byte copy for Node that is one `memcpy` whatever the target's memory: `Buffer#fill` with the source
 * as its pattern, over exactly the source's length. `Uint8Array#set` into a `SharedArrayBuffer` copies
 * word by word (about three times slower), and the relay's chunk buffers are shared memory.
 * @module
 * @internal
 */

/** Copies `source` into `target` (a `Buffer`) at `at`. */
export function fillCopy(target: Uint8Array, source: Uint8Array, at: number): void {
  if (source.byteLength === 0) return;
  (target as Buffer).fill(source, at, at + source.byteLength);
}
