/**
 * What this browser can encode and decode, so a publisher picks a codec every subscriber can decode.
 * @module
 */
import type { Codec } from '../protocol/index.js';
import type { MediaFallbacks } from './types.js';
import { VideoRenderer } from './VideoRenderer.js';

type Supportable = { isConfigSupported(config: unknown): Promise<{ supported?: boolean }> };

async function supported(api: unknown, config: unknown): Promise<boolean> {
  if (typeof api !== 'function') return false;
  try {
    return (await (api as unknown as Supportable).isConfigSupported(config)).supported === true;
  } catch {
    return false;
  }
}

const g = globalThis as Record<string, unknown>;

/** `true` in a browser that can capture (has `navigator.mediaDevices`). */
export function canCapture(): boolean {
  return typeof navigator !== 'undefined' && !!(navigator as Navigator).mediaDevices;
}

/**
 * Codecs this browser can decode, told to the others at join: the video codecs the renderer decodes
 * (JPEG always), PCM always, Opus where WebCodecs has it.
 */
export async function decodableCodecs(fallbacks: MediaFallbacks = {}): Promise<Codec[]> {
  const [video, opus] = await Promise.all([
    VideoRenderer.supportedCodecs(fallbacks),
    !fallbacks.noWebCodecsDecode && supported(g.AudioDecoder, { codec: 'opus', sampleRate: 48000, numberOfChannels: 1 }),
  ]);
  return [...video, 'pcm16', ...(opus ? ['opus' as const] : [])];
}

/** The video codec to publish in: VP8 when this browser encodes it and every subscriber decodes it, else JPEG. */
export async function canEncodeVp8(fallbacks: MediaFallbacks = {}): Promise<boolean> {
  if (fallbacks.jpegOnly) return false;
  return supported(g.VideoEncoder, { codec: 'vp8', width: 640, height: 480, bitrate: 800_000, framerate: 25 });
}

/** Whether this browser encodes Opus (else PCM 16-bit). */
export async function canEncodeOpus(fallbacks: MediaFallbacks = {}): Promise<boolean> {
  if (fallbacks.pcmOnly) return false;
  return supported(g.AudioEncoder, { codec: 'opus', sampleRate: 48000, numberOfChannels: 1, bitrate: 32000 });
}

/** The best codec of `preferred` (in order) that the local encoder has and every subscriber decodes. */
export function chooseCodec(preferred: readonly Codec[], canEncode: ReadonlySet<Codec>, subscribers: Iterable<readonly Codec[]>): Codec {
  const lists = [...subscribers];
  for (const codec of preferred) {
    if (canEncode.has(codec) && lists.every((decode) => decode.includes(codec))) return codec;
  }
  return preferred[preferred.length - 1]!;
}
