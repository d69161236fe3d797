import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { mobileconfig } from '../../relay/trust/mobileconfig.js';
import { TRUST_PAGE_CSP, detectOs, renderTrustPage, type TrustOs, type TrustPageInfo } from '../../relay/trust/page.js';
import { qrSvg, qrTerminal } from '../../relay/trust/qr.js';

const run = promisify(execFile);

const FINGERPRINT = 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';
const ORIGIN = 'https://192.168.1.20:8787';

const UA: Record<string, [string, TrustOs]> = {
  'Windows Chrome': ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'windows'],
  'Windows Edge': ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87', 'windows'],
  'Windows Firefox': ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0', 'windows'],
  'macOS Safari': ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'macos'],
  'macOS Chrome': ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'macos'],
  'iPhone Safari': ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', 'ios'],
  'iPad Safari (old UA)': ['Mozilla/5.0 (iPad; CPU OS 12_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1 Mobile/15E148 Safari/604.1', 'ios'],
  'Android Chrome': ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36', 'android'],
  'Linux Chromium': ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'linux'],
  'Linux Firefox': ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'linux'],
  'ChromeOS': ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36', 'chromeos'],
  'curl': ['curl/8.5.0', 'other'],
  'no header': ['', 'other'],
};

function info(overrides: Partial<TrustPageInfo> = {}): TrustPageInfo {
  return { httpsUrl: ORIGIN, caFingerprint: FINGERPRINT, caName: 'lanconf CA (relay-host)', ownCa: true, userAgent: UA['Windows Chrome']![0], ...overrides };
}

const SVG = await qrSvg(ORIGIN);

/** The `data-os` of every instruction block, in document order (the first is the visitor's own). */
function osOrder(html: string): string[] {
  return [...html.matchAll(/data-os="([a-z]+)"/g)].map((m) => m[1]!);
}

function sha256Source(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Decodes the QR code in a PNG with zbarimg; the test fails (never skips) when zbarimg is not installed. */
async function decodeQr(png: Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lanconf-qr-'));
  try {
    const file = join(dir, 'qr.png');
    await writeFile(file, png);
    try {
      const { stdout } = await run('zbarimg', ['-q', '--raw', file], { encoding: 'utf8' });
      return stdout.replace(/\n$/, '');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        assert.fail('zbarimg is not installed, so QR codes cannot be checked: run `apt-get install -y zbar-tools`');
      }
      throw new Error(`zbarimg found no QR code: ${String(error)}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The terminal rendering back to pixels: each character cell holds two modules, top and bottom half. */
async function terminalToPng(drawn: string): Promise<Buffer> {
  const plain = drawn
    .replace(/\x1b\[37m[▀▄]/g, ' ') // half blocks drawn in white over the terminal's own background: quiet zone
    .replace(/\x1b\[[0-9;]*m/g, '');
  const rows: boolean[][] = [];
  for (const line of plain.split('\n').filter((l) => l.length > 0)) {
    const top: boolean[] = [];
    const bottom: boolean[] = [];
    for (const ch of line) {
      top.push(ch === '█' || ch === '▀');
      bottom.push(ch === '█' || ch === '▄');
    }
    rows.push(top, bottom);
  }
  const width = Math.max(...rows.map((r) => r.length));
  const scale = 8;
  const margin = 4;
  const side = (n: number) => (n + 2 * margin) * scale;
  const pixels = Buffer.alloc(side(width) * side(rows.length), 255);
  rows.forEach((row, y) => row.forEach((dark, x) => {
    if (!dark) return;
    for (let dy = 0; dy < scale; dy++) {
      pixels.fill(0, ((y + margin) * scale + dy) * side(width) + (x + margin) * scale, ((y + margin) * scale + dy) * side(width) + (x + margin + 1) * scale);
    }
  }));
  return sharp(pixels, { raw: { width: side(width), height: side(rows.length), channels: 1 } }).png().toBuffer();
}

type Plist = string | number | boolean | Buffer | Plist[] | { [key: string]: Plist };

/** A strict reader for the XML property lists mobileconfig() writes: fails on anything it does not know. */
function parsePlist(xml: string): Plist {
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">';
  assert.ok(xml.startsWith(head), 'an XML plist prologue');
  const body = xml.slice(head.length).replace(/<\/plist>\s*$/, '');
  assert.ok(body.length < xml.length - head.length, 'ends with </plist>');
  const list: ({ tag: string; close: boolean; empty: boolean } | { text: string })[] = [];
  const re = /<(\/?)([a-z]+)(\/?)>|([^<]+)/y;
  while (re.lastIndex < body.length) {
    const at = re.lastIndex;
    const m = re.exec(body);
    assert.ok(m, `well-formed XML at ${at}: ${JSON.stringify(body.slice(at, at + 40))}`);
    if (m[4] !== undefined) {
      if (m[4].trim() === '') continue;
      assert.doesNotMatch(m[4], /&(?!(amp|lt|gt|quot|apos);)/, 'every & starts an entity');
      list.push({ text: m[4].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&') });
    } else {
      list.push({ tag: m[2]!, close: m[1] === '/', empty: m[3] === '/' });
    }
  }
  let i = 0;
  const text = (tag: string): string => {
    const t = list[i];
    const value = t && 'text' in t ? (i++, t.text) : '';
    const end = list[i++];
    assert.ok(end && 'tag' in end && end.close && end.tag === tag, `</${tag}>`);
    return value;
  };
  const value = (): Plist => {
    const t = list[i++];
    assert.ok(t && 'tag' in t && !t.close, 'a value tag');
    if (t.empty) {
      assert.ok(t.tag === 'true' || t.tag === 'false', `<${t.tag}/>`);
      return t.tag === 'true';
    }
    switch (t.tag) {
      case 'string': return text('string');
      case 'integer': return Number(text('integer'));
      case 'data': return Buffer.from(text('data').replace(/\s+/g, ''), 'base64');
      case 'array': {
        const items: Plist[] = [];
        while (!(list[i] && 'tag' in list[i]! && (list[i] as { close: boolean }).close)) items.push(value());
        assert.equal((list[i++] as { tag: string }).tag, 'array');
        return items;
      }
      case 'dict': {
        const dict: Record<string, Plist> = {};
        for (;;) {
          const k = list[i++];
          assert.ok(k && 'tag' in k, 'a <key> or </dict>');
          if (k.close) {
            assert.equal(k.tag, 'dict');
            return dict;
          }
          assert.equal(k.tag, 'key');
          dict[text('key')] = value();
        }
      }
      default:
        assert.fail(`unknown plist tag <${t.tag}>`);
    }
  };
  const root = value();
  assert.equal(i, list.length, 'one root value');
  return root;
}

function fingerprintOf(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
}

test('detectOs names the operating system of real browser user agents, and other for curl or none', () => {
  for (const [name, [ua, os]] of Object.entries(UA)) assert.equal(detectOs(ua), os, name);
});

test('the trust page puts the visitor’s own operating system first and every other one after it in <details>', () => {
  for (const [name, [ua, os]] of Object.entries(UA)) {
    const html = renderTrustPage(info({ userAgent: ua }), SVG);
    const order = osOrder(html);
    assert.equal(order[0], os, `${name}: its own section first`);
    const rest = order.slice(1);
    assert.deepEqual([...rest].sort(), ['android', 'chromeos', 'ios', 'linux', 'macos', 'windows'].filter((o) => o !== os).sort(), `${name}: all others once`);
    for (const other of rest) assert.match(html, new RegExp(`<details data-os="${other}">`), `${name}: ${other} collapsed`);
    assert.ok(html.indexOf('id="install"') < html.indexOf('id="others-title"'), `${name}: own section before the others`);
  }
});

test('the trust page shows the fingerprint, the name-constraint promise for its own CA only, and the QR code with the URL', () => {
  const own = renderTrustPage(info(), SVG);
  assert.ok(own.replace(/<wbr>/g, '').includes(`<code>${FINGERPRINT}</code>`), 'the fingerprint, monospace');
  assert.match(own, /cannot impersonate any public website/);
  assert.match(own, /This computer needs to trust this meeting server once/);
  assert.ok(own.includes(SVG.trim()), 'the QR SVG inlined');
  assert.match(own, new RegExp(`<figcaption>.*<code>${ORIGIN}</code>`));
  assert.match(own, /close every browser window/);
  const org = renderTrustPage(info({ ownCa: false }), SVG);
  assert.doesNotMatch(org, /impersonate|private LAN addresses/, 'no name-constraint sentence for an organisation’s CA');
  assert.ok(org.replace(/<wbr>/g, '').includes(FINGERPRINT));
  assert.match(renderTrustPage(info({ userAgent: UA['iPhone Safari']![0] }), SVG), /This phone or tablet needs to trust/);
});

test('the trust page is one accessible document: lang, one h1, landmarks, a live status, only relative downloads', () => {
  const html = renderTrustPage(info(), SVG);
  assert.match(html, /^<!doctype html>\n<html lang="en">/);
  assert.equal(html.match(/<h1[\s>]/g)?.length, 1);
  for (const tag of ['header', 'main', 'footer']) assert.equal(html.match(new RegExp(`<${tag}[\\s>]`, 'g'))?.length, 1, tag);
  assert.match(html, /<p id="status" class="status" role="status" aria-live="polite"><\/p>/);
  assert.match(html, /<button type="button" id="check" data-origin="https:\/\/192\.168\.1\.20:8787" data-next="\/">Check again<\/button>/);
  assert.match(html, /role="img" aria-label="QR code of https:\/\/192\.168\.1\.20:8787"/);
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual([...new Set(hrefs)].sort(), ['/trust/ca.crt', '/trust/ca.pem', '/trust/lanconf.mobileconfig']);
  assert.doesNotMatch(html, /\ssrc=|<link|<img|<iframe/, 'no external assets');
});

test('the CSP allows exactly the page’s inline style and script by their SHA-256, and the page has no inline handlers', () => {
  const html = renderTrustPage(info({ caName: 'x', next: '/?meeting=Room1' }), SVG);
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
  assert.equal(styles.length, 1);
  assert.equal(scripts.length, 1);
  assert.equal(html.match(/<style|<script/g)?.length, 2, 'no other style or script elements');
  const csp = new Map(TRUST_PAGE_CSP.split(/;\s*/).map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));
  assert.deepEqual(csp.get('style-src'), [sha256Source(styles[0]!)]);
  assert.deepEqual(csp.get('script-src'), [sha256Source(scripts[0]!)]);
  assert.deepEqual(csp.get('default-src'), ["'none'"]);
  assert.deepEqual(csp.get('connect-src'), ['https:', 'http:']);
  assert.deepEqual(csp.get('base-uri'), ["'none'"]);
  assert.deepEqual(csp.get('form-action'), ["'none'"]);
  assert.doesNotMatch(html, /\son[a-z]+\s*=/i, 'no inline event handler attributes');
  assert.doesNotMatch(html, /\sstyle\s*=/i, 'no style attributes');
  assert.match(scripts[0]!, /\/\.well-known\/lanconf', \{ mode: 'cors', cache: 'no-store'/);
});

test('the trust page escapes hostile values and keeps next a same-origin path', () => {
  const caName = `Evil <script>alert("x")</script> & 'co'`;
  const html = renderTrustPage(info({ caName, caFingerprint: '<b>"fp"</b>' }), SVG);
  assert.ok(!html.includes('<script>alert'), 'no injected script');
  assert.ok(html.includes('Evil &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;'), 'caName escaped');
  assert.ok(html.replace(/<wbr>/g, '').includes('&lt;b&gt;&quot;fp&quot;&lt;/b&gt;'), 'fingerprint escaped');
  assert.equal(html.match(/<script/g)?.length, 1, 'only the page’s own script');
  const nexts: [string | undefined, string][] = [
    [undefined, '/'],
    ['//evil.example', '/'],
    ['/\\evil.example', '/'],
    ['javascript:alert(document.domain)', '/'],
    ['https://evil.example/', '/'],
    ['/ x', '/'],
    ['/?meeting=Room1', '/?meeting=Room1'],
    ['/?meeting=a&b="c"><script>', '/?meeting=a&amp;b=&quot;c&quot;&gt;&lt;script&gt;'],
  ];
  for (const [next, expected] of nexts) {
    const page = renderTrustPage(info({ next }), SVG);
    assert.equal(/data-next="([^"]*)"/.exec(page)?.[1], expected, String(next));
  }
  assert.match(renderTrustPage(info({ httpsUrl: `${ORIGIN}/trust?x="y"` }), SVG), /data-origin="https:\/\/192\.168\.1\.20:8787"/, 'only the origin is kept');
  for (const httpsUrl of ['', 'http://192.168.1.20:8787', 'javascript:alert(1)', 'https://"><script>']) {
    assert.throws(() => renderTrustPage(info({ httpsUrl }), SVG), TypeError, httpsUrl);
  }
  for (const svg of ['', '<script>alert(1)</script>', '<svg onload="alert(1)"></svg>']) {
    assert.throws(() => renderTrustPage(info(), svg), TypeError, svg);
  }
});

test('qrSvg draws a code that zbarimg reads back as exactly the text, for a URL and for the longest text allowed', async () => {
  assert.match(SVG, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" viewBox="[^"]+"/);
  assert.match(SVG, /fill="#ffffff"/, 'white background even in dark mode');
  const png = await sharp(Buffer.from(SVG)).resize(400).png().toBuffer();
  assert.equal(await decodeQr(png), ORIGIN);
  const long = `${ORIGIN}/?meeting=${'x'.repeat(1024 - ORIGIN.length - 10)}`;
  assert.equal(long.length, 1024);
  const big = await sharp(Buffer.from(await qrSvg(long))).resize(1400).png().toBuffer();
  assert.equal(await decodeQr(big), long);
});

test('qrTerminal draws a code for the console that reads back as the text', async () => {
  const drawn = await qrTerminal(`${ORIGIN}/`);
  assert.ok(drawn.endsWith('\n'), 'ends with a newline');
  assert.match(drawn, /\x1b\[47m/, 'on a white background');
  assert.equal(await decodeQr(await terminalToPng(drawn)), `${ORIGIN}/`);
});

test('qrSvg and qrTerminal refuse an empty text or one over 1024 characters with a TypeError', async () => {
  for (const draw of [qrSvg, qrTerminal]) {
    await assert.rejects(draw(''), TypeError);
    await assert.rejects(draw('x'.repeat(1025)), TypeError);
    await assert.rejects(draw('漢'.repeat(1024)), TypeError, 'too many bytes for any QR version');
  }
});

test('mobileconfig is a plist with one root-certificate payload holding the DER, and the same UUIDs for the same CA', () => {
  const der = randomBytes(700);
  const fingerprint = fingerprintOf(der);
  const caName = `lanconf CA <"relay"> & 'co'`;
  const xml = mobileconfig(der, { caName, fingerprint });
  assert.ok(xml.includes(`<data>${der.toString('base64')}</data>`), 'the DER in base64');
  const profile = parsePlist(xml) as Record<string, Plist>;
  const hex16 = fingerprint.replace(/:/g, '').slice(0, 16).toLowerCase();
  assert.equal(profile.PayloadType, 'Configuration');
  assert.equal(profile.PayloadVersion, 1);
  assert.equal(profile.PayloadIdentifier, `lanconf.ca.${hex16}`);
  assert.match(String(profile.PayloadDisplayName), /lanconf/);
  assert.ok(String(profile.PayloadDisplayName).includes(caName), 'the CA name, unescaped by the parser');
  assert.match(String(profile.PayloadDescription), /lanconf/);
  const content = profile.PayloadContent as Record<string, Plist>[];
  assert.equal(content.length, 1);
  const root = content[0]!;
  assert.equal(root.PayloadType, 'com.apple.security.root');
  assert.equal(root.PayloadVersion, 1);
  assert.ok(Buffer.isBuffer(root.PayloadContent) && root.PayloadContent.equals(der), 'the certificate bytes');
  assert.ok(String(root.PayloadIdentifier).startsWith(`lanconf.ca.${hex16}`));
  const uuid = /^[0-9A-F]{8}-[0-9A-F]{4}-8[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
  assert.match(String(profile.PayloadUUID), uuid);
  assert.match(String(root.PayloadUUID), uuid);
  assert.notEqual(profile.PayloadUUID, root.PayloadUUID);

  assert.equal(mobileconfig(new Uint8Array(der), { caName, fingerprint: fingerprint.toLowerCase() }), xml, 'the same CA, the same profile');
  const other = randomBytes(700);
  const again = parsePlist(mobileconfig(other, { caName, fingerprint: fingerprintOf(other) })) as Record<string, Plist>;
  assert.notEqual(again.PayloadUUID, profile.PayloadUUID, 'another CA, other UUIDs');
});

test('mobileconfig refuses an empty certificate or a fingerprint that is not the certificate’s', () => {
  const der = randomBytes(300);
  assert.throws(() => mobileconfig(new Uint8Array(0), { caName: 'x', fingerprint: fingerprintOf(new Uint8Array(0)) }), TypeError);
  assert.throws(() => mobileconfig(der, { caName: 'x', fingerprint: FINGERPRINT }), TypeError);
  assert.throws(() => mobileconfig(der, { caName: 'x', fingerprint: 'not a fingerprint' }), TypeError);
});
