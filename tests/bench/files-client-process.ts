/**
 * A client of the file-transfer bench: one participant, the real Node SDK (`joinMeeting` from
 * `lanconf/node`), in its own process. BENCH_FILE_ROLE `upload`: shares the generated file
 * (`files.send` of an async iterable that yields the same 1 MiB block again and again, so the file is
 * never in memory); `download`: reads it with `files.stream` as fast as it comes, counts the bytes and
 * compares each one with the generated content. The SDK itself checks the download's SHA-256 against the
 * file's (the stream errors on a mismatch), and the orchestrator checks that SHA-256 against its own.
 *
 * Environment: BENCH_URL, BENCH_TRANSPORT (native | websocket), BENCH_MEETING, BENCH_FILE_ROLE.
 * @module
 */
import { joinMeeting } from '../../sdk/node.js';
import { clock } from './common.js';
import {
  BLOCK_BYTES, contentChecker, generated, memorySampler, onOrchestrator, processFigures, toOrchestrator,
} from './files-common.js';

const env = process.env;
const role = env.BENCH_FILE_ROLE === 'download' ? 'download' : 'upload';
const session = await joinMeeting({
  url: env.BENCH_URL ?? '',
  meeting: env.BENCH_MEETING ?? 'files-bench',
  name: role === 'upload' ? 'Uploader' : 'Downloader',
  transport: env.BENCH_TRANSPORT === 'native' ? 'native' : 'websocket',
});
const memory = memorySampler(clock, 100);

session.on('fileOffered', (file) => {
  if (role === 'download' && file.sha256) toOrchestrator({ type: 'offered', fileId: file.id, sha256: file.sha256, size: file.size });
});

/** Peak RSS among the samples taken since `from` (shared clock µs). */
function peakSince(from: number): number {
  return memory.samples.filter((s) => s.t >= from).reduce((x, s) => Math.max(x, s.rss), process.memoryUsage.rss());
}

async function upload(mib: number, name: string): Promise<void> {
  const rssStart = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const start = clock();
  const file = await session.files.send(generated(mib), { name, size: mib * BLOCK_BYTES });
  const end = clock();
  toOrchestrator({
    type: 'uploaded', timing: { start, end, bytes: file.size }, fileId: file.id, sha256: file.sha256 ?? '',
    figures: processFigures(cpu, start, end, rssStart, peakSince(start)),
  });
}

async function download(fileId: string): Promise<void> {
  const rssStart = process.memoryUsage.rss();
  const cpu = process.cpuUsage();
  const checker = contentChecker();
  const start = clock();
  const reader = session.files.stream(fileId).getReader();
  let bytes = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    checker.check(value);
  }
  const end = clock();
  toOrchestrator({
    type: 'downloaded', timing: { start, end, bytes }, contentOk: checker.ok && checker.offset === bytes,
    sha256: session.files.get(fileId)?.sha256, figures: processFigures(cpu, start, end, rssStart, peakSince(start)),
  });
}

onOrchestrator(async (message) => {
  switch (message.type) {
    case 'upload':
      await upload(message.mib, message.name);
      return;
    case 'download':
      await download(message.fileId);
      return;
    case 'stop': {
      memory.stop();
      const timer = setTimeout(() => process.exit(0), 2000);
      timer.unref();
      await session.leave().catch(() => undefined);
      process.exit(0);
      return;
    }
    default:
      return;
  }
});
toOrchestrator({ type: 'joined', id: session.local.id });
