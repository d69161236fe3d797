// <lan-meeting> after the relay went away: the relay restarts on the same ports (the admin updated it), and
// the page joins again by itself, as the same name, with its camera on and its microphone muted as before;
// a person who leaves while it waits stops it. Nobody reloads the page.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Page } from 'puppeteer-core';
import type { Session } from '../../sdk/Session.js';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { join, leaveAll, sleep, startRelay, until, type TestRelay } from '../helpers.js';

interface MeetingView {
  stage: string;
  id: string;
  notice: string;
  tracks: Array<{ kind: string; muted: boolean }>;
}

function view(page: Page): Promise<MeetingView> {
  return page.evaluate(() => {
    const m = document.querySelector('lan-meeting') as unknown as {
      stage: string; shadowRoot: ShadowRoot;
      session?: { local: { id: string; tracks: Map<string, { kind: string; muted: boolean }> } };
    };
    return {
      stage: m.stage,
      id: m.session?.local.id ?? '',
      notice: m.shadowRoot.querySelector('[part~="rejoining"]')?.textContent?.replace(/\s+/g, ' ').trim() ?? '',
      tracks: [...(m.session?.local.tracks.values() ?? [])].map((t) => ({ kind: t.kind, muted: t.muted })),
    };
  });
}

describe('<lan-meeting> when the relay restarts', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-rejoin-'));
  let relay: TestRelay;
  let browser: TestBrowser;
  const sessions: Session[] = [];

  before(async () => {
    relay = await startRelay({ dataDir });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await leaveAll(sessions);
    sessions.length = 0;
  });
  after(async () => {
    await browser?.close();
    await relay?.relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Closes the relay and starts a new one on the same ports and data dir. */
  async function restart(downMs: number): Promise<void> {
    const { port, tcpPort, udpPort } = relay.addresses;
    await relay.relay.close();
    await sleep(downMs);
    relay = await startRelay({ dataDir, port, tcpPort, udpPort });
  }

  test('the page joins again by itself, same name, camera on and microphone still muted', async () => {
    const page = await browser.open(`${relay.url}/?meeting=Again&name=Ina`);
    await until(async () => (await view(page)).stage === 'joined', 'Ina joined', 15_000);
    await until(async () => (await view(page)).tracks.length === 2, 'camera and microphone published', 15_000);
    await page.evaluate(async () => {
      const m = document.querySelector('lan-meeting') as unknown as { session: { local: { tracks: Map<string, { kind: string; mute(): Promise<void> }> } } };
      for (const t of m.session.local.tracks.values()) if (t.kind === 'microphone') await t.mute();
    });
    const before = await view(page);

    await restart(1500);
    await until(async () => (await view(page)).stage === 'rejoining', 'the page says it is joining again', 10_000);
    assert.match((await view(page)).notice, /Joining again/);
    await until(async () => (await view(page)).stage === 'joined', 'the page is back in the meeting', 30_000);
    const after = await view(page);
    assert.notEqual(after.id, before.id, 'a new participant (the restarted relay knew nobody)');
    await until(async () => (await view(page)).tracks.length === 2, 'camera and microphone again', 15_000);
    assert.deepEqual((await view(page)).tracks.map((t) => `${t.kind}:${t.muted}`).sort(), ['camera:false', 'microphone:true']);

    // Someone joining the restarted relay sees Ina with her camera.
    const ben = await join(relay.url, 'Again', 'Ben');
    sessions.push(ben);
    await until(() => [...ben.participants.values()].some((p) => p.name === 'Ina'), 'Ben sees Ina', 10_000);
    const ina = [...ben.participants.values()].find((p) => p.name === 'Ina')!;
    await until(() => [...ina.tracks.values()].some((t) => t.kind === 'camera'), 'Ina\'s camera is there', 10_000);
    assert.deepEqual(browser.errors.filter((e) => !/favicon|404|WebSocket|ERR_CONNECTION_REFUSED/.test(e)), []);
    await page.close();
  });

  test('leaving while it waits for the relay stops joining again', async () => {
    const page = await browser.open(`${relay.url}/?meeting=Gone&name=Olu`);
    await until(async () => (await view(page)).stage === 'joined', 'Olu joined', 15_000);
    const { port, tcpPort, udpPort } = relay.addresses;
    await relay.relay.close();
    await until(async () => (await view(page)).stage === 'rejoining', 'joining again', 10_000);
    const left = page.evaluate(() => new Promise<boolean>((resolve) => {
      document.querySelector('lan-meeting')!.addEventListener('lan-left', () => resolve(true), { once: true });
    }));
    await page.evaluate(() => {
      const m = document.querySelector('lan-meeting')!.shadowRoot!;
      (m.querySelector('[part~="rejoining"] button') as HTMLButtonElement).click();
    });
    assert.equal(await left, true, 'lan-left');
    assert.equal((await view(page)).stage, 'left');
    relay = await startRelay({ dataDir, port, tcpPort, udpPort });
    const watcher = await join(relay.url, 'Gone', 'Watcher');
    sessions.push(watcher);
    // The rejoin would have tried again within 1-2 s of the click.
    await sleep(4000);
    assert.equal(watcher.participants.size, 0, 'Olu did not come back');
    assert.equal((await view(page)).stage, 'left');
    await page.close();
  });
});
