/**
 * Opus for the tests, done by audify in a child process (see opus-tool.ts).
 * @module
 */
import { fileURLToPath } from 'node:url';
import { run } from './devices.js';

const TOOL = fileURLToPath(new URL('./opus-tool.ts', import.meta.url));

function frame(packets: readonly Uint8Array[]): Buffer {
  return Buffer.concat(packets.flatMap((p) => {
    const length = Buffer.alloc(2);
    length.writeUInt16BE(p.byteLength);
    return [length, Buffer.from(p)];
  }));
}

/** 20 ms Opus packets of a sine tone. */
export async function encodeTone(frequency: number, seconds: number, amplitude: number): Promise<Uint8Array[]> {
  const out = await run(process.execPath, ['--import', 'tsx', TOOL, 'encode', String(frequency), String(seconds), String(amplitude)], { timeoutMs: 30_000 });
  const packets: Uint8Array[] = [];
  for (let pos = 0; pos + 2 <= out.length;) {
    const length = out.readUInt16BE(pos);
    packets.push(new Uint8Array(out.subarray(pos + 2, pos + 2 + length)));
    pos += 2 + length;
  }
  return packets;
}

/** Decodes Opus packets (in order) to 48 kHz mono samples in −1..1. */
export async function decodeOpus(packets: readonly Uint8Array[]): Promise<Float32Array> {
  const pcm = await run(process.execPath, ['--import', 'tsx', TOOL, 'decode'], { timeoutMs: 30_000, input: frame(packets) });
  const samples = new Float32Array(pcm.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = pcm.readInt16LE(i * 2) / 32768;
  return samples;
}
