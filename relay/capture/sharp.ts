/**
 * sharp, loaded on first use: importing the capture adapters (or the relay) does not load libvips, and a machine
 * where sharp's native part is broken gets a clear error from the adapters that need it, not a crash at import.
 * @module
 * @internal
 */
import type SharpModule from 'sharp';
import { CaptureError, type CaptureAdapterName } from './CaptureError.js';

let loading: Promise<typeof SharpModule> | undefined;

/**
 * The sharp function.
 * @throws {@link CaptureError} when sharp cannot be loaded.
 * @internal
 */
export async function loadSharp(adapter: CaptureAdapterName): Promise<typeof SharpModule> {
  loading ??= import('sharp').then((m) => m.default);
  try {
    return await loading;
  } catch (error) {
    loading = undefined;
    throw CaptureError.unavailable(adapter, `sharp does not load (${error instanceof Error ? error.message : String(error)})`,
      'reinstall it on this machine: npm rebuild sharp', error);
  }
}
