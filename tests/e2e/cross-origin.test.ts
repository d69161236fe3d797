// The page author's case: an intranet page served by another server (another origin) loads the component
// bundle from the relay with <script type="module" src="https://relay/…"> and puts <lan-meeting> in. Module
// scripts are fetched with CORS, so the relay must allow any origin for its static files; the meeting
// then works from that page like from the relay's own.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { HOST, join, leaveAll, startRelay, until, type TestRelay } from '../helpers.js';

describe('an intranet page on another origin', { timeout: 90_000 }, () => {
  let relay: TestRelay;
  let intranet: Server;
  let intranetUrl: string;
  let browser: TestBrowser;
  const sessions: Session[] = [];

  before(async () => {
    relay = await startRelay();
    // The intranet's own web server: one page, nothing of lanconf's but the two lines from the README.
    intranet = createServer((req, res) => {
      if (req.url !== '/') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Intranet</title><h1>Team page</h1>
<script type="module" src="${relay.url}/dist/browser/lanconf-components.js"></script>
<lan-meeting relay="${relay.url}" meeting="Intranet" name="Ina" autojoin></lan-meeting>`);
    });
    await new Promise<void>((resolve) => intranet.listen(0, HOST, resolve));
    intranetUrl = `http://${HOST}:${(intranet.address() as AddressInfo).port}/`;
    browser = await launchBrowser();
  });
  after(async () => {
    await leaveAll(sessions);
    await browser?.close();
    await relay?.relay.close();
    intranet?.close();
  });

  test('loads the components from the relay and joins the meeting', async () => {
    assert.notEqual(new URL(intranetUrl).origin, new URL(relay.url).origin, 'two origins');
    const ben = await join(relay.url, 'Intranet', 'Ben');
    sessions.push(ben);
    const page = await browser.open(intranetUrl);
    await until(() => page.evaluate(() => customElements.get('lan-meeting') !== undefined), 'the <lan-meeting> element is defined', 15_000);
    await until(() => [...ben.participants.values()].some((p) => p.name === 'Ina'), 'Ben sees Ina, who joined from the intranet page', 15_000);
    const state = () => page.evaluate(() => (document.querySelector('lan-meeting') as unknown as { session?: { state: string } }).session?.state);
    await until(async () => (await state()) === 'connected', 'the page\'s session is connected', 15_000);
    // Ben's camera reaches the page's grid: media works across the origins too.
    const camera = await ben.publish({ kind: 'camera', codec: 'jpeg' });
    await until(() => page.evaluate((id) => {
      const s = (document.querySelector('lan-meeting') as unknown as { session: { tracks: Map<string, unknown> } }).session;
      return s.tracks.has(id);
    }, camera.id), 'the page knows Ben\'s camera', 10_000);
    assert.deepEqual(browser.errors.filter((e) => !/favicon|404/.test(e)), []);
  });
});
