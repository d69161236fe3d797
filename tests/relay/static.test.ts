// The relay serves the demo and the bundles like a web server: the precompressed brotli or gzip file when
// the browser takes it, validators and 304s, ranges, HEAD, types, CORS, and caching that makes a repeat
// visit cost only headers.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { ROOT } from '../cli-process.js';
import { startRelay } from '../helpers.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Bytes on the wire: status line, headers and body. */
  wire: number;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        const head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n${res.rawHeaders.map((v, i) => (i % 2 ? `${v}\r\n` : `${v}: `)).join('')}\r\n`;
        resolve({ status: res.statusCode!, headers: res.headers, body, wire: Buffer.byteLength(head) + body.byteLength });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('the relay serves the bundles precompressed (brotli, gzip, identity) with validators, 304s, ranges, HEAD and CORS', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay();
  t.after(() => relay.close());
  const path = '/dist/browser/lanconf-components.js';
  const original = readFileSync(join(ROOT, 'dist', 'browser', 'lanconf-components.js'));

  const br = await get(url + path, { 'accept-encoding': 'gzip, deflate, br' });
  assert.equal(br.status, 200);
  assert.equal(br.headers['content-encoding'], 'br');
  assert.ok(brotliDecompressSync(br.body).equals(original), 'the brotli body is the bundle');
  assert.match(String(br.headers['content-type']), /^text\/javascript/);
  assert.equal(br.headers['access-control-allow-origin'], '*');
  assert.equal(br.headers['cache-control'], 'no-cache');
  assert.equal(br.headers.vary, 'Accept-Encoding');
  assert.ok(br.headers.etag && br.headers['last-modified'], 'ETag and Last-Modified');
  assert.ok(br.body.byteLength < original.byteLength / 3, `brotli is much smaller (${br.body.byteLength} of ${original.byteLength})`);

  const gz = await get(url + path, { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.ok(gunzipSync(gz.body).equals(original), 'the gzip body is the bundle');
  const plain = await get(url + path);
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.ok(plain.body.equals(original));

  // A repeat visit: the browser sends its validator and gets headers only.
  const again = await get(url + path, { 'accept-encoding': 'gzip, deflate, br', 'if-none-match': String(br.headers.etag) });
  assert.equal(again.status, 304);
  assert.equal(again.body.byteLength, 0);
  assert.ok(again.wire < 1024, `a 304 is ${again.wire} bytes`);

  const head = await get(url + path, {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.byteLength, 0);
  assert.equal(Number(head.headers['content-length']), original.byteLength);

  const range = await get(url + path, { range: 'bytes=100-199' });
  assert.equal(range.status, 206);
  assert.equal(range.headers['content-range'], `bytes 100-199/${original.byteLength}`);
  assert.ok(range.body.equals(original.subarray(100, 200)));
  const past = await get(url + path, { range: `bytes=${original.byteLength + 10}-` });
  assert.equal(past.status, 416);

  const page = await get(`${url}/`, { 'accept-encoding': 'br' });
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  assert.equal(page.headers['content-encoding'], 'br', 'the demo page is precompressed too');
  assert.match(brotliDecompressSync(page.body).toString('utf8'), /<lan-meeting/);
  assert.equal((await get(`${url}/embed.html`)).status, 200);
  assert.equal((await get(`${url}/nothing-here.js`)).status, 404);
  assert.equal((await get(`${url}/dist/%2e%2e/package.json`)).status, 404, 'nothing outside the served folders');
  assert.equal((await get(`${url}/dist/browser/..%2f..%2fpackage.json`)).status, 404);
});

test('a repeat visit to the demo page moves under 5 KB', { timeout: 30_000 }, async (t) => {
  const { relay, url } = await startRelay();
  t.after(() => relay.close());
  const files = ['/', '/dist/browser/lanconf-components.js'];
  const first = await Promise.all(files.map((f) => get(url + f, { 'accept-encoding': 'gzip, deflate, br' })));
  const repeat = await Promise.all(files.map((f, i) => get(url + f, { 'accept-encoding': 'gzip, deflate, br', 'if-none-match': String(first[i]!.headers.etag) })));
  assert.deepEqual(repeat.map((r) => r.status), [304, 304]);
  const moved = repeat.reduce((sum, r) => sum + r.wire, 0);
  assert.ok(moved < 5 * 1024, `the repeat visit moved ${moved} bytes`);
});
