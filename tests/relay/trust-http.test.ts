/**
 * The trust routes on a TLS relay's one web port, from the outside: plain HTTP (for a browser that does not
 * trust the relay yet) and HTTPS answer the same downloads, every other plain path is sent to /trust,
 * garbage is closed, a hostile Host header never makes the page link elsewhere, both protocols keep
 * serving side by side under slow and silent clients, and the meeting itself is HTTPS only.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import WebSocket from 'ws';
import { TRUST_PAGE_CSP } from '../../relay/trust/page.js';
import type { Session } from '../../sdk/Session.js';
import { HOST, join, leaveAll, sleep, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';

const run = promisify(execFile);

/** What came back on a raw socket: the status line and headers, the body, and whether the relay closed it. */
interface RawAnswer {
  status: number;
  /** Header lines as sent, `name: value`. */
  lines: string[];
  headers: Map<string, string>;
  body: Buffer;
  closed: boolean;
  /** Everything received. */
  raw: Buffer;
}

function parseHead(head: string): { status: number; lines: string[]; headers: Map<string, string> } {
  const [statusLine, ...lines] = head.split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine ?? '')?.[1] ?? 0), lines, headers };
}

/**
 * Sends `request` as bytes on a new connection to `port` and resolves with the answer once it is complete
 * (its content-length read; nothing for HEAD) or the relay closed the connection.
 */
function raw(port: number, request: string | Buffer, options: { head?: boolean; localAddress?: string; timeoutMs?: number } = {}): Promise<RawAnswer> {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = netConnect({ host: HOST, port, ...(options.localAddress ? { localAddress: options.localAddress } : {}) });
    const chunks: Buffer[] = [];
    const finish = (closed: boolean) => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      const parsed = end < 0 ? { status: 0, lines: [], headers: new Map<string, string>() } : parseHead(all.subarray(0, end).toString('latin1'));
      socket.destroy();
      resolve({ ...parsed, body: end < 0 ? Buffer.alloc(0) : all.subarray(end + 4), closed, raw: all });
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const { headers } = parseHead(all.subarray(0, end).toString('latin1'));
      const length = options.head ? 0 : Number(headers.get('content-length') ?? NaN);
      if (Number.isFinite(length) && all.length - end - 4 >= length) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
    socket.write(request);
  }), options.timeoutMs ?? 5000, `a raw exchange on port ${port}`);
}

/** A plain HTTP/1.1 request, written by hand. */
function plain(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const lines = Object.entries({ host: `${HOST}:${port}`, connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return raw(port, `${method} ${path} HTTP/1.1\r\n${lines}\r\n`, { head: method === 'HEAD' });
}

/** An HTTPS request trusting `ca`. */
function https(port: number, method: string, path: string, ca: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return withTimeout(new Promise((resolve, reject) => {
    const req = httpsRequest({ host: HOST, port, method, path, ca, headers, agent: false, servername: 'localhost' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  }), 5000, `HTTPS ${method} ${path}`);
}

async function tlsRelay(t: TestContext, options: Parameters<typeof startRelay>[0] = {}): Promise<TestRelay & { origin: string }> {
  const started = await startRelay({ tls: 'on', ...options });
  t.after(() => started.relay.close());
  return { ...started, origin: `https://${HOST}:${started.addresses.port}` };
}

/** Runs a tool, failing the test (never skipping) with the apt-get command when it is missing. */
async function tool(command: string, args: string[], apt: string): Promise<{ code: number; out: string; err: string; outBytes: Buffer }> {
  try {
    const { stdout, stderr } = await run(command, args, { encoding: 'buffer', timeout: 20_000 });
    return { code: 0, out: stdout.toString('utf8'), err: stderr.toString('utf8'), outBytes: stdout };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { code?: number | string; stdout?: Buffer; stderr?: Buffer };
    if (e.code === 'ENOENT') assert.fail(`${command} is not installed: run \`apt-get install -y ${apt}\``);
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, out: e.stdout?.toString('utf8') ?? '', err: e.stderr?.toString('utf8') ?? '', outBytes: e.stdout ?? Buffer.alloc(0) };
  }
}

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(joinPath(tmpdir(), 'lanconf-trust-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Decodes the QR code drawn by an SVG: sharp renders it, zbarimg reads it. */
async function readQr(t: TestContext, svg: string): Promise<string> {
  const file = joinPath(await scratch(t), 'qr.png');
  await writeFile(file, await sharp(Buffer.from(svg)).resize(400).png().toBuffer());
  const r = await tool('zbarimg', ['-q', '--raw', file], 'zbar-tools');
  assert.equal(r.code, 0, `zbarimg found no QR code: ${r.err}`);
  return r.out.replace(/\n$/, '');
}

/** The SHA-256 fingerprint of a PEM certificate as openssl computes it. */
async function opensslFingerprint(t: TestContext, pem: string): Promise<string> {
  const file = joinPath(await scratch(t), 'cert.pem');
  await writeFile(file, pem);
  const r = await tool('/usr/bin/openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256'], 'openssl');
  assert.equal(r.code, 0, r.err);
  return /Fingerprint=([0-9A-F:]+)/i.exec(r.out)![1]!.toUpperCase();
}

/** A silent TCP connection to `port` from `localAddress`; `closed` turns true when the relay closes it. */
async function silent(t: TestContext, port: number, localAddress: string): Promise<{ socket: Socket; closed: boolean }> {
  const socket = netConnect({ host: HOST, port, localAddress });
  const entry = { socket, closed: false };
  socket.on('close', () => (entry.closed = true));
  socket.on('error', () => { /* reset by the relay */ });
  socket.resume();
  t.after(() => socket.destroy());
  await withTimeout(new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  }), 3000, 'a silent connection opening');
  return entry;
}

const TEXT = 'text/plain; charset=utf-8';
const QR_TEXT = `https://${HOST}:1234/?meeting=Room1`;
/** Each trust path, what it is, and how it is saved. */
const ROUTES: Array<{ path: string; type: string; disposition?: string }> = [
  { path: '/trust', type: 'text/html; charset=utf-8' },
  { path: '/trust/', type: 'text/html; charset=utf-8' },
  { path: '/trust/ca.pem', type: 'application/x-pem-file', disposition: 'attachment; filename="lanconf-ca.pem"' },
  { path: '/trust/ca.crt', type: 'application/x-x509-ca-cert', disposition: 'attachment; filename="lanconf-ca.crt"' },
  { path: '/trust/lanconf.mobileconfig', type: 'application/x-apple-aspen-config', disposition: 'attachment; filename="lanconf.mobileconfig"' },
  { path: `/trust/qr.svg?text=${encodeURIComponent(QR_TEXT)}`, type: 'image/svg+xml' },
];

test('every trust path answers over plain HTTP and over HTTPS alike: status, type, download name, CORS and nosniff; HEAD has the headers and no body; POST is 405', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await tlsRelay(t);
  const ca = relay.caCertificate!;
  const port = addresses.port;
  for (const route of ROUTES) {
    const overPlain = await plain(port, 'GET', route.path);
    const overTls = await https(port, 'GET', route.path, ca);
    for (const [over, answer] of [['plain', { status: overPlain.status, header: (n: string) => overPlain.headers.get(n), body: overPlain.body }],
      ['https', { status: overTls.status, header: (n: string) => overTls.headers[n] as string | undefined, body: overTls.body }]] as const) {
      const what = `${over} GET ${route.path}`;
      assert.equal(answer.status, 200, what);
      assert.equal(answer.header('content-type'), route.type, what);
      assert.equal(answer.header('content-disposition'), route.disposition, what);
      assert.equal(answer.header('access-control-allow-origin'), '*', `${what}: readable from the page's HTTPS origin`);
      assert.equal(answer.header('x-content-type-options'), 'nosniff', what);
      assert.equal(Number(answer.header('content-length')), answer.body.length, what);
      assert.ok(answer.body.length > 0, what);
    }
    if (!/\/trust\/?$/.test(route.path)) {
      assert.deepEqual(overPlain.body, overTls.body, `${route.path}: the same download over both`);
    }

    const headPlain = await plain(port, 'HEAD', route.path);
    const headTls = await https(port, 'HEAD', route.path, ca);
    assert.equal(headPlain.status, 200, `plain HEAD ${route.path}`);
    assert.equal(headTls.status, 200, `https HEAD ${route.path}`);
    assert.equal(headPlain.headers.get('content-type'), route.type);
    assert.equal(headTls.headers['content-type'], route.type);
    assert.equal(headPlain.body.length, 0, `plain HEAD ${route.path}: no body`);
    assert.equal(headTls.body.length, 0, `https HEAD ${route.path}: no body`);
    assert.ok(Number(headPlain.headers.get('content-length')) > 0, `plain HEAD ${route.path}: the length of what GET sends`);
    if (!/\/trust\/?$/.test(route.path)) assert.equal(Number(headPlain.headers.get('content-length')), overPlain.body.length);

    for (const method of ['POST', 'PUT', 'DELETE']) {
      const refusedPlain = await plain(port, method, route.path, { 'content-length': '0' });
      assert.equal(refusedPlain.status, 405, `plain ${method} ${route.path}`);
      assert.equal(refusedPlain.headers.get('allow'), 'GET, HEAD', `plain ${method} ${route.path}`);
      assert.equal((await https(port, method, route.path, ca)).status, 405, `https ${method} ${route.path}`);
    }
  }
  // Under /trust/ but not a route: 404 over both (not the redirect to /trust).
  assert.equal((await plain(port, 'GET', '/trust/nothing-here')).status, 404);
  assert.equal((await https(port, 'GET', '/trust/nothing-here', ca)).status, 404);
});

test('a 405 for a trust path carries Allow: GET, HEAD over HTTPS as over plain HTTP', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await tlsRelay(t);
  const overPlain = await plain(addresses.port, 'POST', '/trust/ca.pem', { 'content-length': '0' });
  assert.equal(overPlain.status, 405);
  assert.equal(overPlain.headers.get('allow'), 'GET, HEAD');
  const overTls = await https(addresses.port, 'POST', '/trust/ca.pem', relay.caCertificate!);
  assert.equal(overTls.status, 405);
  assert.equal(overTls.headers.allow, 'GET, HEAD', 'RFC 9110 §15.5.6: a 405 response MUST list the allowed methods');
});

test('/trust/ca.pem is the relay\'s CA, /trust/ca.crt its DER as openssl writes it, and the mobileconfig holds that DER in base64', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await tlsRelay(t);
  const pem = (await plain(addresses.port, 'GET', '/trust/ca.pem')).body.toString('utf8');
  assert.equal(pem, relay.caCertificate);
  assert.equal(await opensslFingerprint(t, pem), addresses.ca!.fingerprint);
  const dir = await scratch(t);
  await writeFile(joinPath(dir, 'ca.pem'), pem);
  const der = await tool('/usr/bin/openssl', ['x509', '-in', joinPath(dir, 'ca.pem'), '-outform', 'DER'], 'openssl');
  assert.equal(der.code, 0, der.err);
  const crt = await plain(addresses.port, 'GET', '/trust/ca.crt');
  assert.deepEqual(crt.body, der.outBytes, 'ca.crt is the DER of ca.pem');
  assert.deepEqual((await https(addresses.port, 'GET', '/trust/ca.crt', relay.caCertificate!)).body, der.outBytes);
  const profile = (await plain(addresses.port, 'GET', '/trust/lanconf.mobileconfig')).body.toString('utf8');
  const data = [...profile.matchAll(/<data>([\s\S]*?)<\/data>/g)].map((m) => m[1]!.replace(/\s+/g, ''));
  assert.deepEqual(data, [der.outBytes.toString('base64')], 'one <data>, the DER in base64');
  assert.match(profile, /<string>com\.apple\.security\.root<\/string>/);
});

test('/trust/qr.svg draws an http(s) URL that zbarimg reads back, and answers 400 for a text that is empty, too long or not an http(s) URL', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await tlsRelay(t);
  const port = addresses.port;
  const good = await plain(port, 'GET', `/trust/qr.svg?text=${encodeURIComponent(QR_TEXT)}`);
  assert.equal(good.status, 200);
  assert.match(good.headers.get('content-security-policy') ?? '', /default-src 'none'/, 'an SVG opened directly runs nothing');
  assert.equal(await readQr(t, good.body.toString('utf8')), QR_TEXT);
  const longest = `http://${HOST}/?meeting=${'x'.repeat(1024 - `http://${HOST}/?meeting=`.length)}`;
  assert.equal(longest.length, 1024);
  assert.equal((await plain(port, 'GET', `/trust/qr.svg?text=${encodeURIComponent(longest)}`)).status, 200, '1024 characters are drawn');
  const bad = ['/trust/qr.svg', '/trust/qr.svg?text=', `/trust/qr.svg?text=${encodeURIComponent(`${longest}x`)}`,
    `/trust/qr.svg?text=${encodeURIComponent('javascript:alert(1)')}`, `/trust/qr.svg?text=${encodeURIComponent('ftp://192.168.1.20/')}`,
    `/trust/qr.svg?text=${encodeURIComponent('data:text/html,<script>alert(1)</script>')}`, '/trust/qr.svg?text=%2Ftrust', '/trust/qr.svg?text=hello'];
  for (const path of bad) {
    const overPlain = await plain(port, 'GET', path);
    const overTls = await https(port, 'GET', path, relay.caCertificate!);
    for (const [over, status, type, body] of [['plain', overPlain.status, overPlain.headers.get('content-type'), overPlain.body],
      ['https', overTls.status, overTls.headers['content-type'], overTls.body]] as const) {
      assert.equal(status, 400, `${over} ${path}`);
      assert.equal(type, TEXT, `${over} ${path}`);
      assert.match(body.toString('utf8'), /text must be an http\(s\) URL of at most 1024 characters/, `${over} ${path}`);
    }
  }
});

test('every other path over plain HTTP is sent to /trust with a 303, whatever it names', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await tlsRelay(t);
  const port = addresses.port;
  const paths = ['/', '/dist/browser/lanconf-components.js', '/.well-known/lanconf', '/x/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd',
    `/${'a'.repeat(10 * 1024)}`, '/trustx', '/TRUST', '/trust.pem', '/?meeting=Room1', '/files/abc'];
  for (const path of paths) {
    for (const method of ['GET', 'HEAD', 'POST']) {
      const answer = await plain(port, method, path, method === 'POST' ? { 'content-length': '0' } : {});
      const what = `${method} ${path.slice(0, 60)}`;
      assert.equal(answer.status, 303, what);
      assert.equal(answer.headers.get('location'), '/trust', what);
      assert.equal(answer.headers.get('content-length'), '0', `${what}: nothing else is served`);
      assert.equal(answer.headers.get('cache-control'), 'no-store', what);
      assert.equal(answer.body.length, 0, what);
    }
  }
  // Over HTTPS the same port serves them.
  const wk = await https(port, 'GET', '/.well-known/lanconf', relay.caCertificate!);
  assert.equal(wk.status, 200);
  assert.equal((JSON.parse(wk.body.toString('utf8')) as { service: string }).service, 'lanconf');
});

test('garbage or a non-HTTP first byte on the web port gets the connection closed, and the relay keeps serving plain HTTP and HTTPS', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await tlsRelay(t, { handshakeTimeoutMs: 1000 });
  const port = addresses.port;
  const failuresBefore = relay.stats.tlsHandshakeFailures;
  const payloads: Array<[string, Buffer]> = [
    ['a NUL byte and binary noise', Buffer.from([0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02])],
    ['0xff bytes', Buffer.alloc(64, 0xff)],
    ['an SSLv2-style hello', Buffer.from([0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10])],
    ['an SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.6\r\n')],
    ['a request line followed by binary', Buffer.concat([Buffer.from('GET /trust HTTP/1.1\r\n'), Buffer.from([0x00, 0x01, 0x02, 0x0d, 0x0a, 0x0d, 0x0a])])],
    ['a TLS record header then garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef])],
    ['a lone TLS handshake byte, then silence', Buffer.from([0x16])],
    ['an HTTP/2 preface', Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')],
  ];
  for (const [label, bytes] of payloads) {
    const answer = await raw(port, bytes, { timeoutMs: 4000 });
    assert.ok(answer.closed, `${label}: the relay closed the connection`);
    if (bytes[0] === 0x16) {
      // At most a TLS alert record (content type 21).
      assert.ok(answer.raw.length === 0 || answer.raw[0] === 0x15, `${label}: at most a TLS alert, got ${answer.raw.subarray(0, 8).toString('hex')}`);
    } else if (answer.raw.length > 0) {
      assert.match(answer.raw.toString('latin1'), /^HTTP\/1\.1 (400|505) /, `${label}: at most an error status`);
    }
  }
  assert.ok(relay.stats.tlsHandshakeFailures >= failuresBefore + 2, 'the two TLS starts count as failed handshakes');
  assert.equal((await plain(port, 'GET', '/trust/ca.pem')).status, 200, 'plain HTTP still served');
  assert.equal((await https(port, 'GET', '/.well-known/lanconf', relay.caCertificate!)).status, 200, 'HTTPS still served');
  const session = await join(`https://${HOST}:${port}`, 'After garbage', 'Ana', { tls: { ca: relay.caCertificate! } });
  await session.leave();
});

/** Every absolute URL in a page, except the SVG namespace and the browser settings page the instructions name. */
function absoluteUrls(html: string): string[] {
  return [...html.matchAll(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>)`]*/gi)].map((m) => m[0])
    .filter((u) => u !== 'http://www.w3.org/2000/svg' && u !== 'chrome://settings/certificates');
}

function assertOnlyOwnOrigins(html: string, port: number, what: string): void {
  const own = `${HOST}:${port}`;
  for (const url of absoluteUrls(html)) {
    const u = new URL(url);
    assert.ok((u.protocol === 'https:' || u.protocol === 'http:') && u.host === own, `${what}: links only to the relay's own origins, not ${url.slice(0, 120)}`);
  }
  assert.equal(/data-origin="([^"]*)"/.exec(html)?.[1], `https://${own}`, `${what}: the check button goes to the relay's HTTPS origin`);
  for (const m of html.matchAll(/\s(?:href|src|action|formaction)="([^"]*)"/g)) assert.match(m[1]!, /^\/trust\//, `${what}: ${m[0]}`);
  assert.doesNotMatch(html, /evil|injected/i, `${what}: nothing of the Host header in the page`);
}

test('hostile Host headers never make the trust page link anywhere but the relay\'s own origins', { timeout: 30_000 }, async (t) => {
  const { relay, addresses } = await tlsRelay(t);
  const port = addresses.port;
  const served: Array<[string, string]> = [
    ['evil.example', 'evil.example'],
    ['evil.example with a port', 'evil.example:443'],
    ['userinfo trick', '127.0.0.1:1@evil.example'],
    ['userinfo trick on the port', `127.0.0.1:${port}@evil.example`],
    ['upper case', 'EVIL.EXAMPLE'],
    ['a URL', 'https://evil.example/'],
    ['empty', ''],
    ['2 KB long', `evil${'a'.repeat(2044)}`],
    ['2 KB path', `evil.example/${'x'.repeat(2040)}`],
    ['another loopback name', `localhost:${port}`],
    ['IPv6 loopback', `[::1]:${port}`],
    ['encoded CRLF', 'evil.example%0d%0aX-Injected:%201'],
    ['quotes and tags', '"><script>alert(1)</script>evil.example'],
  ];
  const answers: Array<[string, RawAnswer]> = [];
  for (const [label, host] of served) {
    answers.push([label, await raw(port, `GET /trust HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)]);
  }
  answers.push(['no Host (HTTP/1.0)', await raw(port, 'GET /trust HTTP/1.0\r\n\r\n')]);
  answers.push(['X-Forwarded-Host', await raw(port, `GET /trust HTTP/1.1\r\nHost: ${HOST}:${port}\r\nX-Forwarded-Host: evil.example\r\nForwarded: host=evil.example\r\nConnection: close\r\n\r\n`)]);
  answers.push(['absolute-form target', await raw(port, 'GET http://evil.example/trust HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n')]);
  for (const [label, answer] of answers) {
    assert.equal(answer.status, 200, `${label}: the page is served`);
    assertOnlyOwnOrigins(answer.body.toString('utf8'), port, label);
    assert.ok(answer.lines.every((l) => !/evil|injected/i.test(l)), `${label}: nothing of it in the headers`);
  }

  // Attempts to break out of the header line: refused by the parser, or read as one harmless value.
  const crlf: Array<[string, string]> = [
    ['bare CR', 'Host: evil.example\rX-Injected: 1\r\n'],
    ['bare LF', 'Host: evil.example\nX-Injected: 1\r\n'],
    ['folded line', `Host: ${HOST}:${port}\r\n evil.example\r\n`],
    ['NUL', 'Host: evil\x00.example\r\n'],
    ['two Host headers, evil first', `Host: evil.example\r\nHost: ${HOST}:${port}\r\n`],
    ['two Host headers, evil second', `Host: ${HOST}:${port}\r\nHost: evil.example\r\n`],
  ];
  for (const [label, header] of crlf) {
    const answer = await raw(port, `GET /trust HTTP/1.1\r\n${header}Connection: close\r\n\r\n`);
    assert.ok(answer.status === 200 || answer.status === 400, `${label}: the page or a 400 (got ${answer.status})`);
    if (answer.status === 200) assertOnlyOwnOrigins(answer.body.toString('utf8'), port, label);
    assert.ok(answer.lines.every((l) => !/evil|injected/i.test(l)), `${label}: nothing of it in the headers`);
  }

  // The redirect never takes the Host header either.
  const redirect = await raw(port, 'GET /somewhere HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
  assert.equal(redirect.status, 303);
  assert.equal(redirect.headers.get('location'), '/trust');

  // Over HTTPS alike.
  for (const host of ['evil.example', '127.0.0.1:1@evil.example', '']) {
    const answer = await https(port, 'GET', '/trust', relay.caCertificate!, { host });
    assert.equal(answer.status, 200, `https, Host ${host}`);
    assertOnlyOwnOrigins(answer.body.toString('utf8'), port, `https, Host "${host}"`);
  }

  // The meeting parameter stays a same-origin path.
  const withMeeting = await plain(port, 'GET', `/trust?meeting=${encodeURIComponent('//evil.example/"><script>alert(1)</script>')}`);
  const next = /data-next="([^"]*)"/.exec(withMeeting.body.toString('utf8'))?.[1];
  assert.ok(next?.startsWith('/?meeting=') && !/[<>"]|\/\//.test(next), `data-next is a same-origin path: ${next}`);
});

test('plain HTTP and TLS share the port under load: a client trickling a request and 30 silent sockets while 20 HTTPS requests and a WSS join succeed', { timeout: 40_000 }, async (t) => {
  const { relay, addresses, origin } = await tlsRelay(t);
  const port = addresses.port;
  const ca = relay.caCertificate!;
  const sessions: Session[] = [];
  t.after(() => leaveAll(sessions));

  // 30 connections from 127.0.0.2 that never send a byte.
  const idle = await Promise.all(Array.from({ length: 30 }, () => silent(t, port, '127.0.0.2')));
  // A plain HTTP client on 127.0.0.3 that sends its request one byte every 200 ms.
  const slowRequest = Buffer.from('GET /trust/ca.pem HTTP/1.0\r\n\r\n');
  const slow = netConnect({ host: HOST, port, localAddress: '127.0.0.3' });
  t.after(() => slow.destroy());
  slow.setNoDelay(true);
  const slowChunks: Buffer[] = [];
  slow.on('data', (c: Buffer) => slowChunks.push(c));
  slow.on('error', () => { /* checked below */ });
  const slowClosed = new Promise<void>((resolve) => slow.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    slow.once('connect', resolve);
    slow.once('error', reject);
  });
  let sent = 0;
  const trickle = (async () => {
    for (; sent < slowRequest.length && !slow.destroyed; sent++) {
      slow.write(slowRequest.subarray(sent, sent + 1));
      await sleep(200);
    }
  })();

  await sleep(400); // the trickle has started
  const started = Date.now();
  const paths = ['/.well-known/lanconf', '/trust', '/trust/ca.pem', '/trust/ca.crt', '/'];
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => https(port, 'GET', paths[i % paths.length]!, ca)));
  assert.deepEqual(answers.map((a) => a.status), new Array(20).fill(200), 'all 20 HTTPS requests succeed');
  const ana = await join(origin, 'Load', 'Ana', { tls: { ca } });
  sessions.push(ana);
  assert.equal((await withTimeout(ana.chat.send('under load'), 3000, 'chat under load')).text, 'under load');
  const tookMs = Date.now() - started;
  assert.ok(sent < slowRequest.length, `the HTTPS requests and the join were done while the slow client was still sending (${sent}/${slowRequest.length} bytes, ${tookMs} ms)`);
  assert.ok(tookMs < 3000, `and quickly (${tookMs} ms)`);

  await trickle;
  await withTimeout(slowClosed, 5000, 'the slow client\'s answer');
  const slowAnswer = Buffer.concat(slowChunks).toString('utf8');
  assert.match(slowAnswer, /^HTTP\/1\.1 200 OK\r\n/, 'the slow client is served in the end');
  assert.ok(slowAnswer.endsWith(ca), 'with the CA');
  // The silent ones are closed after the handshake timeout (5 s by default).
  await until(() => idle.every((s) => s.closed), () => `every silent connection was closed (${idle.filter((s) => !s.closed).length} open)`, 8000);
  assert.equal(ana.state, 'connected');
});

test('a WebSocket upgrade over plain http:// on a TLS relay\'s port is refused with a 303: the meeting is HTTPS only', { timeout: 30_000 }, async (t) => {
  const { relay, addresses, origin } = await tlsRelay(t);
  const port = addresses.port;
  const joined: string[] = [];
  relay.on('participantJoined', (_m, _id, name) => joined.push(name));
  const upgrade = await raw(port, `GET / HTTP/1.1\r\nHost: ${HOST}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  assert.equal(upgrade.status, 303, 'no 101 Switching Protocols');
  assert.equal(upgrade.headers.get('location'), '/trust');
  assert.equal(upgrade.headers.get('upgrade'), undefined);
  assert.equal(upgrade.headers.get('sec-websocket-accept'), undefined);

  // The ws library and the SDK see the same.
  const ws = new WebSocket(`ws://${HOST}:${port}/`);
  const status = await withTimeout(new Promise<number>((resolve, reject) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => reject(new Error('a plain WebSocket opened on a TLS relay')));
    ws.once('error', reject);
  }), 5000, 'ws:// to a TLS relay');
  ws.terminate();
  assert.equal(status, 303);
  for (const transport of ['websocket', 'native'] as const) {
    const outcome = await withTimeout(join(`http://${HOST}:${port}`, 'Plain', 'Eve', { transport }).then((s) => s, (e: Error) => e), 10_000, `a ${transport} join over http://`);
    if (!(outcome instanceof Error)) {
      await outcome.leave();
      assert.fail(`a ${transport} join over plain http:// succeeded`);
    }
  }
  assert.deepEqual(joined, [], 'nobody joined over plain HTTP');
  // Over HTTPS on the same port it works.
  const ana = await join(origin, 'Secure', 'Ana', { tls: { ca: relay.caCertificate! } });
  await ana.leave();
  assert.deepEqual(joined, ['Ana']);
});

test('the trust page has its CSP and no-store headers, shows the CA fingerprint, and its inline QR code reads as the relay\'s HTTPS origin', { timeout: 30_000 }, async (t) => {
  const { relay, addresses, origin } = await tlsRelay(t);
  const fingerprint = await opensslFingerprint(t, relay.caCertificate!);
  assert.equal(fingerprint, addresses.ca!.fingerprint);
  const overPlain = await plain(addresses.port, 'GET', '/trust');
  const overTls = await https(addresses.port, 'GET', '/trust', relay.caCertificate!);
  for (const [over, csp, cache, referrer, body] of [
    ['plain', overPlain.headers.get('content-security-policy'), overPlain.headers.get('cache-control'), overPlain.headers.get('referrer-policy'), overPlain.body],
    ['https', overTls.headers['content-security-policy'], overTls.headers['cache-control'], overTls.headers['referrer-policy'], overTls.body],
  ] as const) {
    assert.equal(csp, TRUST_PAGE_CSP, `${over}: the CSP`);
    assert.match(String(csp), /default-src 'none'/);
    assert.match(String(csp), /frame-ancestors 'none'/);
    assert.equal(cache, 'no-store', over);
    assert.equal(referrer, 'no-referrer', over);
    const html = body.toString('utf8');
    assert.ok(html.replace(/<wbr>/g, '').includes(fingerprint), `${over}: the CA fingerprint, as openssl computes it`);
    assert.ok(html.includes(addresses.ca!.name), `${over}: the CA's name`);
    const svg = /<div class="qr"[^>]*>(<svg[\s\S]*?<\/svg>)<\/div>/.exec(html)?.[1];
    assert.ok(svg, `${over}: an inline SVG QR code`);
    assert.equal(await readQr(t, svg), `${origin}/`, `${over}: the QR code opens the relay's HTTPS origin`);
    assert.ok(html.includes(`http://${HOST}:${addresses.port}/trust`), `${over}: and names the plain trust URL for a phone`);
  }
});
