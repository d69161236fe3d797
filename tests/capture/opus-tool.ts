/**
 * Opus encode and decode with audify, in a process of its own: the test process loads audify only in the
 * adapters' audio worker (audify must not be loaded by two threads of one process). Run by `opus.ts`:
 *   encode <frequency> <seconds> <amplitude>  → length-prefixed (u16 BE) 20 ms Opus packets of a tone on stdout
 *   decode                                    → length-prefixed packets on stdin, 48 kHz mono s16le PCM on stdout
 * @module
 */
import { createRequire } from 'node:module';

interface Audify {
  OpusEncoder: new (rate: number, channels: number, application: number) => { encode(pcm: Buffer, frame: number): Buffer };
  OpusDecoder: new (rate: number, channels: number) => { decode(data: Buffer, frame: number): Buffer };
}
const audify = createRequire(import.meta.url)('audify') as Audify;
const RATE = 48000;
const FRAME = 960;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function write(bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(bytes, (error) => (error ? reject(error) : resolve())));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'encode') {
  const [frequency, seconds, amplitude] = args.map(Number) as [number, number, number];
  const encoder = new audify.OpusEncoder(RATE, 1, 2048);
  const out: Buffer[] = [];
  const frames = Math.round((seconds * RATE) / FRAME);
  const pcm = Buffer.alloc(FRAME * 2);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < FRAME; i++) {
      const n = f * FRAME + i;
      pcm.writeInt16LE(Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * n) / RATE)), i * 2);
    }
    const packet = encoder.encode(pcm, FRAME);
    const length = Buffer.alloc(2);
    length.writeUInt16BE(packet.length);
    out.push(length, packet);
  }
  await write(Buffer.concat(out));
} else if (command === 'decode') {
  const input = await readStdin();
  const decoder = new audify.OpusDecoder(RATE, 1);
  const out: Buffer[] = [];
  for (let pos = 0; pos + 2 <= input.length;) {
    const length = input.readUInt16BE(pos);
    out.push(decoder.decode(input.subarray(pos + 2, pos + 2 + length), FRAME * 6));
    pos += 2 + length;
  }
  await write(Buffer.concat(out));
} else {
  process.stderr.write('usage: opus-tool.ts encode <frequency> <seconds> <amplitude> | decode\n');
  process.exitCode = 2;
}
