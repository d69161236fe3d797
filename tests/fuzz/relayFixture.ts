/**
 * A relay for the network targets: a real one (`startRelay()`), with shared files uploaded by hand over
 * a raw WebSocket (the wire of docs/protocol.md §7.2), so the targets need nothing of the SDK's transports.
 * @module
 */
import { createHash } from 'node:crypto';
import { encodeFileChunk } from '../../sdk/protocol/index.js';
import { RawWs, joinMessage, pattern, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';

/** A shared file: its bytes and its download link (a path with its token). */
export interface SharedFileLink {
  bytes: Uint8Array;
  url: string;
}

/** Starts a relay and shares one file of each size in `sizes` in meeting `meeting`. */
export async function relayWithFiles(meeting: string, sizes: readonly number[]): Promise<{ relay: TestRelay; files: SharedFileLink[] }> {
  const relay = await startRelay();
  try {
    const { client } = await RawWs.join(relay.wsUrl, meeting, 'Uploader');
    const files: SharedFileLink[] = [];
    for (const [i, size] of sizes.entries()) {
      const bytes = pattern(size, 100 + i);
      client.sendJson({ type: 'fileUpload', requestId: `up${i}`, name: `fuzz ${i}.bin`, size });
      const ready = await client.next('fileUploadReady', 5000, (m) => m.requestId === `up${i}`);
      const uploadId = String(ready.uploadId);
      if (size > 0) client.sendBinary(encodeFileChunk(uploadId, 0, bytes));
      client.sendJson({ type: 'fileUploadEnd', uploadId, sha256: createHash('sha256').update(bytes).digest('hex') });
      const done = await client.next('fileUploaded', 5000, (m) => m.uploadId === uploadId);
      files.push({ bytes, url: String((done.file as { url: string }).url) });
    }
    client.close();
    return { relay, files };
  } catch (error) {
    await relay.relay.close();
    throw error;
  }
}

/**
 * Joins meeting `meeting` over a raw WebSocket and leaves (with `leave`, so the relay holds nothing for
 * a resume); rejects when no `welcome` comes within 3 s, naming the `error` that came instead, if any.
 */
export async function honestJoin(relay: TestRelay, meeting: string): Promise<void> {
  const client = await withTimeout(RawWs.open(relay.wsUrl), 4000, 'an honest WebSocket opening');
  try {
    client.ws.send(joinMessage(meeting, 'Honest', 'websocket'));
    await until(() => client.messages.some((m) => m.type === 'welcome' || m.type === 'error') || client.closed, 'a welcome', 3000);
    const answer = client.messages.find((m) => m.type === 'welcome' || m.type === 'error');
    if (answer?.type !== 'welcome') throw new Error(`an honest join got ${answer ? JSON.stringify(answer).slice(0, 300) : 'a close'} instead of a welcome`);
    client.sendJson({ type: 'leave' });
  } finally {
    await client.waitClosed(1000).catch(() => client.close());
  }
}
