// The web components end to end: the relay serves the demo page (one <lan-meeting>) and the components bundle;
// three headless Chromium pages with fake cameras and microphones join it from the query string, then see,
// chat, mute and share a screen through the elements' own buttons. Ends with the README's screenshots.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'puppeteer-core';
import { launchBrowser, type TestBrowser } from '../browser.js';
import { startRelay, until, type TestRelay } from '../helpers.js';

const NAMES = ['Ana', 'Ben', 'Cleo'] as const;
const IMAGES = join(dirname(fileURLToPath(import.meta.url)), '../../docs/images');

interface TileInfo {
  participant: string;
  self: boolean;
  screen: boolean;
  /** Width of what the tile shows: a remote track's canvas, or your own camera's `<video>`. */
  width: number;
  /** `on`, `muted` or `off`, from the tile's microphone badge. */
  mic: string;
}

interface GridInfo {
  presenter: boolean;
  tiles: TileInfo[];
}

/** What the page's `<lan-video-grid>` (inside its `<lan-meeting>`) shows. */
function grid(page: Page): Promise<GridInfo> {
  return page.evaluate(() => {
    const root = document.querySelector('lan-meeting')?.shadowRoot?.querySelector('lan-video-grid')?.shadowRoot;
    if (!root) return { presenter: false, tiles: [] };
    return {
      presenter: root.querySelector('.base.presenter') !== null,
      tiles: [...root.querySelectorAll<HTMLElement>('.tile')].map((tile) => {
        const canvas = tile.querySelector('canvas');
        const video = tile.querySelector('video');
        return {
          participant: tile.dataset.participant ?? '',
          self: tile.classList.contains('self'),
          screen: tile.classList.contains('screen'),
          width: canvas?.width || video?.videoWidth || 0,
          mic: tile.querySelector('[part~="badge-mic"]')?.getAttribute('data-state') ?? 'on',
        };
      }),
    };
  });
}

/** Frames received so far for each remote camera track, by participant id. */
function framesByParticipant(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const session = (document.querySelector('lan-meeting') as unknown as {
      session?: { tracks: Map<string, { participantId: string; kind: string; framesReceived: number }> };
    }).session;
    const out: Record<string, number> = {};
    for (const t of session?.tracks.values() ?? []) if (t.kind === 'camera') out[t.participantId] = t.framesReceived;
    return out;
  });
}

function meetingState(page: Page): Promise<{ stage: string; id: string; unread: number; panel: string }> {
  return page.evaluate(() => {
    const m = document.querySelector('lan-meeting') as unknown as {
      stage: string; unread: number; panel: string; session?: { local: { id: string } };
    };
    return { stage: m.stage, id: m.session?.local.id ?? '', unread: m.unread, panel: m.panel };
  });
}

/** Text of the page's `<lan-chat>`, shadow DOM included. */
function chatText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const chat = document.querySelector('lan-meeting')?.shadowRoot?.querySelector('lan-chat');
    return chat?.shadowRoot?.textContent?.replace(/\s+/g, ' ') ?? '';
  });
}

/** The unread badge on the page's chat button. */
function chatBadge(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.querySelector('lan-meeting')?.shadowRoot?.querySelector('lan-controls')
    ?.shadowRoot?.querySelector('[part~="chat-button"] [part~="badge"]')?.textContent ?? undefined);
}

/** Clicks a button of the page's control bar by its part (`mic-button`, `chat-button`…). */
async function press(page: Page, part: string): Promise<void> {
  // Input goes to the tab in front (a background tab runs no animation frames, which a click waits for).
  await page.bringToFront();
  const button = await page.waitForSelector(`pierce/button[part~="${part}"]:not([disabled])`, { timeout: 5000 });
  await button!.click();
}

describe('the demo pages: <lan-meeting> in three browsers, and the separate elements in embed.html', { timeout: 180_000 }, () => {
  let relay: TestRelay;
  let browser: TestBrowser;
  const pages: Page[] = [];
  const ids: string[] = [];

  before(async () => {
    relay = await startRelay();
    // Three tabs of one browser: the two in the background must keep capturing and rendering at full rate.
    browser = await launchBrowser(['--disable-background-timer-throttling', '--disable-renderer-backgrounding',
      '--disable-backgrounding-occluded-windows']);
    for (const name of NAMES) {
      const page = await browser.open(`${relay.url}/?meeting=E2E&name=${name}`);
      await page.setViewport({ width: 1280, height: 800 });
      pages.push(page);
    }
  });
  after(async () => {
    await browser?.close();
    await relay?.relay.close();
  });

  test('each page joins from the query string and its grid shows three tiles with live video', async () => {
    for (const page of pages) {
      await until(async () => (await meetingState(page)).stage === 'joined', 'the page joined', 15_000);
      ids.push((await meetingState(page)).id);
    }
    for (const [i, page] of pages.entries()) {
      let seen: GridInfo | undefined;
      await until(async () => {
        seen = await grid(page);
        return seen.tiles.length === 3 && seen.tiles.every((t) => t.width > 0);
      }, () => `${NAMES[i]}'s grid shows three tiles with video: ${JSON.stringify(seen)}`, 20_000);
      const { tiles, presenter } = await grid(page);
      assert.equal(presenter, false);
      assert.deepEqual(tiles.map((t) => t.participant).sort(), [...ids].sort());
      assert.equal(tiles.filter((t) => t.self).length, 1);
      // Live: frames keep arriving from both others.
      const first = await framesByParticipant(page);
      for (const other of ids.filter((id) => id !== ids[i])) {
        await until(async () => ((await framesByParticipant(page))[other] ?? 0) > (first[other] ?? 0) + 5,
          `${NAMES[i]} keeps receiving frames from ${other}`, 5000);
      }
    }
  });

  test('a message typed in one page\'s chat appears in the others, with an unread badge', async () => {
    const [ana, ben, cleo] = pages as [Page, Page, Page];
    await press(ana, 'chat-button');
    await until(async () => (await meetingState(ana)).panel === 'chat', 'Ana\'s chat panel is open');
    const input = await ana.waitForSelector('pierce/textarea[part~="input"]:not([disabled])', { timeout: 5000 });
    await input!.type('Hello from Ana');
    await ana.keyboard.press('Enter');
    for (const page of [ben, cleo]) {
      await until(async () => (await chatText(page)).includes('Hello from Ana'), 'the message reaches the others', 5000);
      await until(async () => (await meetingState(page)).unread === 1, 'one unread message', 5000);
      assert.equal(await chatBadge(page), '1');
    }
    await until(async () => (await chatText(ana)).includes('Hello from Ana'), 'Ana sees her message');
    assert.equal((await meetingState(ana)).unread, 0);
    // Opening the chat reads it.
    await press(ben, 'chat-button');
    await until(async () => (await meetingState(ben)).unread === 0, 'Ben read the message');
    assert.equal(await chatBadge(ben), undefined);
  });

  test('muting the microphone in one page shows the muted badge in the others', async () => {
    const [ana, ben, cleo] = pages as [Page, Page, Page];
    await press(ana, 'mic-button');
    for (const page of [ben, cleo]) {
      await until(async () => (await grid(page)).tiles.find((t) => t.participant === ids[0])?.mic === 'muted',
        'Ana\'s tile shows her microphone muted', 5000);
      const others = (await grid(page)).tiles.filter((t) => t.participant !== ids[0]);
      assert.ok(others.every((t) => t.mic === 'on'), 'nobody else is shown muted');
    }
    await press(ana, 'mic-button');
    await until(async () => (await grid(ben)).tiles.find((t) => t.participant === ids[0])?.mic === 'on', 'unmuted again', 5000);
  });

  test('a cut connection shows "reconnecting" in the header, then the page carries on as the same participant with live video', async () => {
    const [ana, ben] = pages as [Page, Page, Page];
    // Record every appearance of the notice: the reconnect itself takes a fraction of a second.
    await ben.evaluate(() => {
      const w = window as unknown as { notices: string[] };
      w.notices = [];
      const m = document.querySelector('lan-meeting')!;
      new MutationObserver(() => {
        const pill = m.shadowRoot!.querySelector('[part~="reconnecting"]');
        if (pill) w.notices.push(pill.textContent ?? '');
      }).observe(m.shadowRoot!, { subtree: true, childList: true, characterData: true });
    });
    relay.relay.rooms.get('E2E')!.participants.get(ids[1]!)!.connection!.link.destroy();
    await until(async () => (await ben.evaluate(() => (window as unknown as { notices: string[] }).notices)).length > 0,
      'Ben\'s header shows the reconnecting notice', 5000);
    assert.match((await ben.evaluate(() => (window as unknown as { notices: string[] }).notices))[0]!, /reconnecting/);
    await until(async () => (await ben.evaluate(() => !document.querySelector('lan-meeting')!.shadowRoot!.querySelector('[part~="reconnecting"]'))),
      'the notice goes away', 10_000);
    assert.equal((await meetingState(ben)).id, ids[1], 'the same participant');
    assert.equal((await meetingState(ben)).stage, 'joined');
    const before = await framesByParticipant(ana);
    await until(async () => ((await framesByParticipant(ana))[ids[1]!] ?? 0) > (before[ids[1]!] ?? 0) + 5, 'Ana sees Ben\'s video again', 10_000);
    const back = await framesByParticipant(ben);
    await until(async () => ((await framesByParticipant(ben))[ids[0]!] ?? 0) > (back[ids[0]!] ?? 0) + 5, 'Ben sees Ana\'s video again', 10_000);
    assert.equal((await grid(ana)).tiles.length, 3, 'nobody left');
  });

  test('sharing a screen switches every grid to the presenter layout', async () => {
    const [ana, ben, cleo] = pages as [Page, Page, Page];
    await press(ana, 'screen-button');
    for (const page of [ana, ben, cleo]) {
      let seen: GridInfo | undefined;
      await until(async () => {
        seen = await grid(page);
        return seen.presenter && seen.tiles.some((t) => t.screen && t.participant === ids[0] && t.width > 0);
      }, () => `the presenter layout with Ana's screen: ${JSON.stringify(seen)}`, 15_000);
    }
    await press(ana, 'screen-button');
    for (const page of [ana, ben, cleo]) {
      await until(async () => !(await grid(page)).presenter, 'back to the grid', 5000);
    }
    assert.deepEqual(browser.errors, []);
  });

  test('screenshots of the demo, light and dark (docs/images)', async () => {
    // A fresh meeting with a real-looking name and a short conversation, for the README.
    await Promise.all(pages.map((page) => page.close()));
    const shots: Page[] = [];
    for (const name of ['Ana', 'Ben', 'Cleo']) {
      const page = await browser.open(`${relay.url}/?meeting=${encodeURIComponent('Design review')}&name=${name}`);
      await page.setViewport({ width: 1280, height: 800 });
      await until(async () => (await meetingState(page)).stage === 'joined', 'the page joined', 15_000);
      shots.push(page);
    }
    const [ana, ben, cleo] = shots as [Page, Page, Page];
    const say = (page: Page, text: string) => page.evaluate(async (t) => {
      const session = (document.querySelector('lan-meeting') as unknown as { session: { chat: { send(t: string): Promise<unknown> } } }).session;
      await session.chat.send(t);
    }, text);
    await say(ana, 'Morning! I put the new onboarding flow on the wiki.');
    await say(cleo, 'Nice. Can you share your screen when we get to it?');
    await say(ben, 'Sure, right after the release notes.');
    await press(ben, 'chat-button');
    await until(async () => (await chatText(ben)).includes('release notes'), 'Ben sees the conversation');
    await until(async () => {
      const g = await grid(ben);
      return g.tiles.length === 3 && g.tiles.every((t) => t.width > 0);
    }, 'every tile shows video', 15_000);
    // Ana is muted: the badge shows in the picture.
    await press(ana, 'mic-button');
    await until(async () => (await grid(ben)).tiles.some((t) => t.mic === 'muted'), 'Ana shown muted');
    await ben.bringToFront();
    // Let the videos run a moment; no pointer over a button (its tooltip), no focus ring.
    await ben.mouse.move(640, 300);
    await ben.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await new Promise((r) => setTimeout(r, 1500));
    mkdirSync(IMAGES, { recursive: true });
    await ben.screenshot({ path: join(IMAGES, 'meeting-light.png') as `${string}.png` });

    await (await ben.waitForSelector('#theme'))!.click();
    await press(ben, 'participants-button');
    await until(async () => (await meetingState(ben)).panel === 'participants', 'the people panel is open');
    await until(() => ben.evaluate(() => document.querySelector('lan-meeting')!.getAttribute('theme') === 'dark'), 'the dark theme');
    await ben.mouse.move(640, 300);
    await ben.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await new Promise((r) => setTimeout(r, 1000));
    await ben.screenshot({ path: join(IMAGES, 'meeting-dark.png') as `${string}.png` });
    assert.deepEqual(browser.errors, []);
  });

  test('the embed page: <lan-prejoin>, then the separate elements share its session in the page\'s own layout', async () => {
    const sam = await browser.open(`${relay.url}/?meeting=${encodeURIComponent('Engineering sync')}&name=Sam`);
    await until(async () => (await meetingState(sam)).stage === 'joined', 'Sam joined', 15_000);
    const jo = await browser.open(`${relay.url}/embed.html?name=Jo`);
    await jo.bringToFront();
    await (await jo.waitForSelector('pierce/button.join', { timeout: 5000 }))!.click();
    await until(() => jo.evaluate(() => !document.getElementById('in-call')!.hidden), 'the call replaces the pre-join screen', 15_000);
    const embedded = () => jo.evaluate(() => {
      const shadow = (id: string) => document.getElementById(id)!.shadowRoot!;
      const tiles = [...shadow('grid').querySelectorAll<HTMLElement>('.tile')];
      return {
        tiles: tiles.length,
        video: tiles.every((t) => (t.querySelector('canvas')?.width || t.querySelector('video')?.videoWidth || 0) > 0),
        chat: shadow('chat').textContent!.replace(/\s+/g, ' '),
        people: shadow('people').textContent!.replace(/\s+/g, ' '),
        sameSession: ['grid', 'controls', 'chat', 'people']
          .every((id) => (document.getElementById(id) as unknown as { session: unknown }).session
            === (document.getElementById('prejoin') as unknown as { session: unknown }).session),
      };
    });
    await until(async () => {
      const e = await embedded();
      return e.tiles === 2 && e.video;
    }, 'two tiles with video in the embedded grid', 15_000);
    await sam.evaluate(() => (document.querySelector('lan-meeting') as unknown as { session: { chat: { send(t: string): Promise<unknown> } } })
      .session.chat.send('Morning Jo!'));
    await until(async () => (await embedded()).chat.includes('Morning Jo!'), 'Sam\'s message in the embedded chat', 5000);
    const state = await embedded();
    assert.ok(state.sameSession, 'every element has the pre-join screen\'s session');
    assert.match(state.people, /Sam/);
    await press(jo, 'participants-button');
    await until(() => jo.evaluate(() => !document.getElementById('people-card')!.hidden && document.getElementById('chat-card')!.hidden),
      'the page shows the participants instead of the chat');
    await press(jo, 'leave-button');
    await until(() => jo.evaluate(() => document.getElementById('in-call')!.hidden && document.querySelector('lan-prejoin')!.getAttribute('name') === 'Jo'),
      'back to a pre-filled pre-join screen', 5000);
    await until(async () => (await grid(sam)).tiles.length === 1, 'Sam sees Jo leave', 5000);
    assert.deepEqual(browser.errors, []);
  });
});
