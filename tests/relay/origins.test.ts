// --allow-origin: only the listed web pages (and the relay's own) may open a WebSocket to the relay; native
// and Node clients, which send no Origin, are not affected; every other page is refused before any meeting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { join, joinMessage, leaveAll, startRelay, withTimeout } from '../helpers.js';

/** Opens a WebSocket as a page of `origin` would and joins; resolves with the welcome, or the refusal's status. */
function joinAs(wsUrl: string, origin: string | undefined): Promise<{ welcome?: boolean; status?: number }> {
  return withTimeout(new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, ...(origin ? { origin } : {}) });
    ws.on('open', () => ws.send(joinMessage('Origins', 'Page', 'websocket')));
    ws.on('message', (data) => {
      if (String(data).includes('"welcome"')) {
        resolve({ welcome: true });
        ws.terminate();
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.on('error', () => resolve({}));
  }), 5000, 'a WebSocket join');
}

test('--allow-origin: a listed page and the relay\'s own join, another page is refused with 403, native clients are not affected', { timeout: 30_000 }, async (t) => {
  const { relay, url, wsUrl } = await startRelay({ allowOrigins: ['https://intranet.example', 'http://team.example:8080'] });
  t.after(() => relay.close());
  const ana = await join(url, 'Origins', 'Ana', { transport: 'native' });
  const ben = await join(url, 'Origins', 'Ben');
  t.after(() => leaveAll([ana, ben]));

  assert.deepEqual(await joinAs(wsUrl, 'https://intranet.example'), { welcome: true });
  assert.deepEqual(await joinAs(wsUrl, 'HTTP://TEAM.EXAMPLE:8080'), { welcome: true }, 'origins compare as browsers send them');
  assert.deepEqual(await joinAs(wsUrl, new URL(url).origin), { welcome: true }, 'the relay\'s own page');
  assert.deepEqual(await joinAs(wsUrl, undefined), { welcome: true }, 'no Origin: not a page');
  for (const evil of ['https://evil.example', 'http://intranet.example', 'https://intranet.example.evil.example', 'null', 'not a url']) {
    assert.deepEqual(await joinAs(wsUrl, evil), { status: 403 }, evil);
  }
  assert.equal(relay.stats.originsRefused, 5);
  const pages = [...relay.rooms.get('Origins')!.participants.values()].filter((p) => p.name === 'Page').length;
  assert.equal(pages, 4, 'the four allowed joins are in the meeting (held after their sockets closed), the five refused never were');
  await ben.chat.send('still here');
});

test('without --allow-origin any page may join, as before', { timeout: 20_000 }, async (t) => {
  const { relay, wsUrl } = await startRelay();
  t.after(() => relay.close());
  assert.deepEqual(await joinAs(wsUrl, 'https://anywhere.example'), { welcome: true });
});
