// Trust on a LAN, as a person meets it in a real browser: Chromium trusts the relay's own CA through the
// NSS database of the HOME it runs with (the same store an admin's `certutil` push fills), with no
// certificate flag. The demo page over HTTPS joins and shows video; the trust page's QR code decodes to
// the relay's HTTPS address; an intranet page whose relay is not trusted yet shows the way to the trust
// page, and joins once the CA is trusted and the browser restarted.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import type { Session } from '../../sdk/Session.js';
import { launchBrowser, launchFirefox, type TestBrowser } from '../browser.js';
import { ROOT } from '../cli-process.js';
import { HOST, join, leaveAll, startRelay, until, type TestRelay } from '../helpers.js';

/** A HOME whose NSS database trusts `caPem` when given (an empty database otherwise). */
function homeWithNss(caPem?: string): string {
  const home = mkdtempSync(joinPath(tmpdir(), 'lanconf-home-'));
  const db = `sql:${joinPath(home, '.pki', 'nssdb')}`;
  execFileSync('mkdir', ['-p', joinPath(home, '.pki', 'nssdb')]);
  try {
    execFileSync('certutil', ['-d', db, '-N', '--empty-password']);
  } catch (error) {
    throw new Error(`certutil failed (${(error as Error).message}): apt-get install -y libnss3-tools`);
  }
  if (caPem) trustCa(home, caPem);
  return home;
}

function trustCa(home: string, caPem: string): void {
  const file = joinPath(home, 'lanconf-ca.pem');
  writeFileSync(file, caPem);
  execFileSync('certutil', ['-d', `sql:${joinPath(home, '.pki', 'nssdb')}`, '-A', '-t', 'C,,', '-n', 'lanconf relay CA', '-i', file]);
}

/** The text of the page, shadow roots included. */
function deepText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const parts: string[] = [];
    const walk = (node: Node): void => {
      if (node.nodeType === Node.TEXT_NODE) parts.push(node.textContent ?? '');
      const root = (node as Element).shadowRoot;
      if (root) walk(root);
      for (const child of node.childNodes) walk(child);
    };
    walk(document.body);
    return parts.join(' ').replace(/\s+/g, ' ');
  });
}

/** Every link href in the page, shadow roots included. */
function deepLinks(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const walk = (root: Document | ShadowRoot): void => {
      for (const a of root.querySelectorAll('a[href]')) out.push((a as HTMLAnchorElement).href);
      for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot);
    };
    walk(document);
    return out;
  });
}

const sessionState = (page: Page) => page.evaluate(() => (document.querySelector('lan-meeting') as unknown as { session?: { state: string } }).session?.state);

describe('trust on a LAN in Chromium, without certificate flags', { timeout: 180_000 }, () => {
  let relay: TestRelay;
  let https: string;
  let caPem: string;
  const homes: string[] = [];
  const browsers: TestBrowser[] = [];
  const sessions: Session[] = [];
  let intranet: Server;
  let intranetUrl: string;

  before(async () => {
    relay = await startRelay({ tls: 'on' });
    https = `https://${HOST}:${relay.addresses.port}`;
    caPem = relay.relay.caCertificate!;
    // The intranet's own server: its page and the component bundle (served by the intranet, so the page
    // runs even where the relay is not trusted yet), plus a page loading the bundle from the relay itself.
    const bundle = readFileSync(joinPath(ROOT, 'dist', 'browser', 'lanconf-components.js'));
    intranet = createServer((req, res) => {
      if (req.url === '/lanconf-components.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      } else if (req.url === '/') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Intranet</title><h1>Team page</h1>
<script type="module" src="/lanconf-components.js"></script>
<lan-meeting relay="${https}" meeting="Trusted" name="Ina" autojoin></lan-meeting>`);
      } else if (req.url === '/from-relay') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><title>Intranet</title><h1>Team page</h1>
<script type="module" src="${https}/dist/browser/lanconf-components.js"></script>
<lan-meeting relay="${https}" meeting="Trusted" name="Ina" autojoin>
  <p>This computer does not trust the meeting server yet: <a href="http://${HOST}:${relay.addresses.port}/trust">set it up once</a>.</p>
</lan-meeting>`);
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => intranet.listen(0, HOST, resolve));
    intranetUrl = `http://${HOST}:${(intranet.address() as AddressInfo).port}`;
  });
  after(async () => {
    await leaveAll(sessions);
    for (const b of browsers) await b.close();
    await relay?.relay.close();
    intranet?.close();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  async function browserWith(ca?: string, home = homeWithNss(ca)): Promise<TestBrowser> {
    if (!homes.includes(home)) homes.push(home);
    const b = await launchBrowser([], { home });
    browsers.push(b);
    return b;
  }

  test('the demo page over HTTPS joins and shows video, with the relay\'s CA in the NSS database', async () => {
    const ben = await join(`${https}`, 'Trusted', 'Ben', { tls: { ca: caPem } });
    sessions.push(ben);
    const browser = await browserWith(caPem);
    const page = await browser.open(`${https}/?meeting=Trusted&name=Ana`);
    await until(async () => (await sessionState(page)) === 'connected', 'Ana\'s page joined over https with no certificate warning', 20_000);
    const ana = [...ben.participants.values()].find((p) => p.name === 'Ana');
    assert.ok(ana, 'Ben sees Ana');
    let frames = 0;
    const watch = (track: { participantId: string; kind: string; on(event: 'frame', listener: () => void): unknown }) => {
      if (track.participantId === ana.id && track.kind === 'camera') track.on('frame', () => frames++);
    };
    ben.on('trackPublished', watch);
    // Ben was there first: Ana's camera may have been announced before this listener was added.
    for (const track of ben.tracks.values()) watch(track);
    await until(() => frames >= 5, () => `frames of Ana's camera reach Ben (${frames})`, 20_000);
    await page.close();
  });

  test('the trust page on plain http shows the CA fingerprint, and its QR code decodes to the relay\'s HTTPS address', async () => {
    const browser = await browserWith();
    const page = await browser.open(`http://${HOST}:${relay.addresses.port}/trust`);
    const text = await page.evaluate(() => document.body.innerText);
    assert.ok(text.replace(/\s+/g, '').includes(relay.addresses.ca!.fingerprint), 'the page shows the CA fingerprint');
    const svg = await page.$('svg');
    assert.ok(svg, 'the page has the QR code');
    const shot = joinPath(homes.at(-1)!, 'qr.png');
    await svg.screenshot({ path: shot });
    let decoded: string;
    try {
      decoded = execFileSync('zbarimg', ['-q', '--raw', shot], { encoding: 'utf8' }).trim();
    } catch (error) {
      throw new Error(`zbarimg could not decode the QR code (${(error as Error).message}); zbarimg comes from: apt-get install -y zbar-tools`);
    }
    assert.equal(decoded, `${https}/`);
    // Any other plain-http path leads to the trust page.
    const other = await browser.open(`http://${HOST}:${relay.addresses.port}/?meeting=Trusted`);
    assert.match(other.url(), /\/trust$/);
    await page.close();
    await other.close();
  });

  test('an intranet page whose relay is not trusted yet links to the trust page, and joins once the CA is trusted and the browser restarted', async () => {
    const home = homeWithNss();
    const untrusted = await browserWith(undefined, home);
    const page = await untrusted.open(`${intranetUrl}/`);
    await until(async () => (await deepText(page)).includes('does not trust the meeting server yet'), 'the notice shows', 20_000);
    const links = await deepLinks(page);
    assert.ok(links.some((href) => href.startsWith(`http://${HOST}:${relay.addresses.port}/trust`)), `a link to the trust page (${links.join(', ')})`);
    // The bundle loaded from the untrusted relay itself runs nothing: the fallback content inside <lan-meeting> shows.
    const fallback = await untrusted.open(`${intranetUrl}/from-relay`);
    await until(async () => (await deepText(fallback)).includes('set it up once'), 'the fallback content shows', 10_000);
    assert.equal(await fallback.evaluate(() => customElements.get('lan-meeting') === undefined), true, 'the element never loaded');
    await untrusted.close();
    browsers.splice(browsers.indexOf(untrusted), 1);

    // Chromium keeps its verdict on a certificate until it restarts: trust the CA, then start it again.
    trustCa(home, caPem);
    const trusted = await browserWith(undefined, home);
    for (const url of [`${intranetUrl}/`, `${intranetUrl}/from-relay`]) {
      const p = await trusted.open(url);
      await until(async () => (await sessionState(p)) === 'connected', `${url} joins once the CA is trusted`, 20_000);
      await p.close();
    }
  });

  test('Firefox ESR, with the CA in its own profile\'s certificate store and no override, joins from the demo page', async () => {
    const profile = mkdtempSync(joinPath(tmpdir(), 'lanconf-firefox-'));
    homes.push(profile);
    execFileSync('certutil', ['-d', `sql:${profile}`, '-N', '--empty-password']);
    writeFileSync(joinPath(profile, 'lanconf-ca.pem'), caPem);
    execFileSync('certutil', ['-d', `sql:${profile}`, '-A', '-t', 'C,,', '-n', 'lanconf relay CA', '-i', joinPath(profile, 'lanconf-ca.pem')]);
    const firefox = await launchFirefox(profile);
    try {
      const page = await firefox.newPage();
      await page.goto(`${https}/?meeting=Trusted&name=Fox`);
      await until(async () => (await sessionState(page)) === 'connected', 'Firefox joined over https', 30_000);
    } finally {
      await firefox.close();
    }
  });
});
