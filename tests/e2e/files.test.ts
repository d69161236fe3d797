// Shared files from and to a browser: a headless Chromium page with the SDK bundle, over WebSocket, and Node
// participants (WebSocket and native TCP) in the same meeting.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { join, leaveAll, pattern, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';

const MiB = 1024 * 1024;

/** The bytes the page generates: 1 MiB blocks of `pattern(MiB, 7)` with the block number in the first two bytes. */
function expectedSha(blocks: number): string {
  const block = pattern(MiB, 7);
  const hash = createHash('sha256');
  for (let i = 0; i < blocks; i++) {
    block[0] = i & 255;
    block[1] = (i >> 8) & 255;
    hash.update(block);
  }
  return hash.digest('hex');
}

describe('files to and from a browser page', { timeout: 240_000 }, () => {
  let relay: TestRelay;
  let browser: TestBrowser;
  const sessions: Session[] = [];

  before(async () => {
    relay = await startRelay();
    browser = await launchBrowser(['--enable-precise-memory-info']);
  });
  after(async () => {
    await leaveAll(sessions);
    await browser?.close();
    await relay?.relay.close();
  });

  test('a 256 MiB file shared from a page over WebSocket reaches a WebSocket and a native participant, verified, page memory flat', async () => {
    const page = await browser.open(relay.url);
    const ws = await join(relay.url, 'Browser files', 'Node WS');
    const native = await join(relay.url, 'Browser files', 'Node TCP', { transport: 'native' });
    sessions.push(ws, native);
    const blocks = 256;
    const block = Array.from(pattern(MiB, 7));
    // The page builds a File of 256 one-MiB blocks (Chromium keeps big blobs out of the JS heap).
    await page.evaluate(async (blockBytes: number[], count: number) => {
      const lanconf = await import('/dist/browser/lanconf.js' as string);
      const w = window as unknown as Record<string, unknown>;
      w.session = await lanconf.joinMeeting({ url: location.origin, meeting: 'Browser files', name: 'Page' });
      const parts: Uint8Array[] = [];
      for (let i = 0; i < count; i++) {
        const b = new Uint8Array(blockBytes);
        b[0] = i & 255;
        b[1] = (i >> 8) & 255;
        parts.push(b);
      }
      w.file = new File(parts as BlobPart[], 'from the page.bin');
    }, block, blocks);
    const heap = () => page.evaluate(() => (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize);
    // Let the parts go before the baseline.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
    const baseline = await heap();
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await heap().catch(() => 0));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const shared = await withTimeout(page.evaluate(async () => {
      const w = window as unknown as { session: { files: { send(f: File): Promise<{ id: string; sha256: string; size: number }> } }; file: File };
      const f = await w.session.files.send(w.file);
      return { id: f.id, sha256: f.sha256, size: f.size };
    }), 180_000, 'the page uploading 256 MiB');
    sampling = false;
    await sampler;
    const sha = expectedSha(blocks);
    assert.equal(shared.size, blocks * MiB);
    assert.equal(shared.sha256, sha);
    const grew = (peak - baseline) / MiB;
    assert.ok(grew < 96, `the page's JS heap grew by ${grew.toFixed(0)} MiB while uploading 256 MiB`);
    for (const s of [ws, native]) {
      await until(() => s.files.get(shared.id), 'the file offered', 10_000);
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of s.files.stream(shared.id) as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        size += chunk.byteLength;
      }
      assert.equal(size, blocks * MiB);
      assert.equal(hash.digest('hex'), sha, `${s.local.name} got the same bytes`);
    }
    assert.deepEqual(browser.errors, []);
  });

  test('a page downloads a file shared from Node, as a verified Blob and over HTTP with a Range', async () => {
    const page = await browser.open(relay.url);
    const node = await join(relay.url, 'Browser download', 'Node', { transport: 'native' });
    sessions.push(node);
    const bytes = pattern(20 * MiB + 3, 11);
    const sha = createHash('sha256').update(bytes).digest('hex');
    await page.evaluate(async () => {
      const lanconf = await import('/dist/browser/lanconf.js' as string);
      const w = window as unknown as Record<string, unknown>;
      const s = await lanconf.joinMeeting({ url: location.origin, meeting: 'Browser download', name: 'Page' });
      w.session = s;
      w.offered = [] as string[];
      s.on('fileOffered', (f: { id: string }) => (w.offered as string[]).push(f.id));
    });
    const shared = await node.files.send(bytes, { name: 'report.pdf' });
    await until(async () => (await page.evaluate(() => (window as unknown as { offered: string[] }).offered)).includes(shared.id), 'the page told of the file', 10_000);
    const got = await page.evaluate(async (id: string) => {
      const s = (window as unknown as { session: { files: { download(id: string): Promise<Blob>; get(id: string): { url: string; state: string } } } }).session;
      const blob = await s.files.download(id);
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()));
      const hex = Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
      const res = await fetch(s.files.get(id).url, { headers: { range: 'bytes=5-9' } });
      return { size: blob.size, hex, state: s.files.get(id).state, status: res.status, range: Array.from(new Uint8Array(await res.arrayBuffer())) };
    }, shared.id);
    assert.equal(got.size, bytes.byteLength);
    assert.equal(got.hex, sha);
    assert.equal(got.state, 'done');
    assert.equal(got.status, 206);
    assert.deepEqual(got.range, Array.from(bytes.subarray(5, 10)));
    assert.deepEqual(browser.errors, []);
  });
});
