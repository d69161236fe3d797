// Node clients of a TLS relay with a self-signed certificate can pin the fingerprint the relay prints
// (tls.fingerprint, `lanconf-relay join --fingerprint`) instead of copying its cert.pem: the pinned
// certificate is accepted over WSS and TLS + UDP, any other is refused with a message saying why, before
// anything (the join, its passcode) is sent.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { joinMeeting } from '../../sdk/node.js';
import { fetchRelayInfo } from '../../sdk/node/NativeTransport.js';
import { relayUrls } from '../../sdk/url.js';
import type { Session } from '../../sdk/Session.js';
import { runCli } from '../cli-process.js';
import { leaveAll, startRelay, until, withTimeout } from '../helpers.js';

const runJoin = (t: TestContext, args: string[]) => runCli(t, ['join', ...args]);

test('a pinned fingerprint joins over WSS and TLS + UDP; a wrong one is refused with why, and the relay hears no join', { timeout: 40_000 }, async (t) => {
  const { relay, url, addresses } = await startRelay({ tls: 'on', passcode: 'sesame' });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  assert.match(url, /^http:/, 'the helper\'s URL is plain; the relay serves https on that port');
  const https = `https://127.0.0.1:${addresses.port}`;
  const fingerprint = addresses.fingerprint!;
  assert.match(fingerprint, /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/);

  // As printed, and as someone might type it: lower case, no colons.
  const typed = fingerprint.toLowerCase().replace(/:/g, '');
  const ana = await joinMeeting({ url: https, meeting: 'Pin', name: 'Ana', passcode: 'sesame', tls: { fingerprint }, timeoutMs: 5000 });
  const cy = await joinMeeting({ url: https, meeting: 'Pin', name: 'Cy', passcode: 'sesame', transport: 'native', tls: { fingerprint: typed }, timeoutMs: 5000 });
  sessions.push(ana, cy);
  await until(() => ana.participants.size === 1 && cy.participants.size === 1, 'both joined, each sees the other');
  await ana.chat.send('over a pinned connection');
  await until(() => cy.chat.messages.some((m) => m.text === 'over a pinned connection'), 'chat crosses');

  // Another certificate's fingerprint (here: a hash of something else) is refused on both transports.
  const wrong = createHash('sha256').update('another server').digest('hex').toUpperCase().match(/../g)!.join(':');
  const peersBefore = relay.rooms.get('Pin')!.participants.size;
  for (const transport of ['websocket', 'native'] as const) {
    const refused = await joinMeeting({ url: https, meeting: 'Pin', name: 'Eve', passcode: 'sesame', transport, tls: { fingerprint: wrong }, timeoutMs: 5000 })
      .then(() => undefined, (error: Error & { code?: string }) => error);
    assert.ok(refused, `${transport}: the join is refused`);
    assert.equal(refused.code, 'LAN_ERR_UNREACHABLE', transport);
    assert.match(refused.message, new RegExp(`has the fingerprint ${addresses.certificateFingerprint} issued by ${fingerprint}, not the pinned ${wrong}`), `${transport}: says why`);
  }
  assert.equal(relay.rooms.get('Pin')!.participants.size, peersBefore, 'nobody else joined');

  // Without a pin or a CA, the self-signed certificate is refused as before.
  const unpinned = await joinMeeting({ url: https, meeting: 'Pin', name: 'Eve', timeoutMs: 5000 }).then(() => undefined, (error: Error) => error);
  assert.ok(unpinned, 'an unpinned client does not trust the self-signed certificate');

  // A malformed fingerprint is a TypeError at once, before any connection; so is a pin on a plain URL.
  await assert.rejects(joinMeeting({ url: https, meeting: 'Pin', name: 'Eve', tls: { fingerprint: 'AB:CD' } }), (error: Error) =>
    error instanceof TypeError && /32 bytes of hex/.test(error.message));
  await assert.rejects(joinMeeting({ url: `http://127.0.0.1:${addresses.port}`, meeting: 'Pin', name: 'Eve', tls: { fingerprint } }), (error: Error) =>
    error instanceof TypeError && /needs an https:\/\/ or wss:\/\/ relay URL/.test(error.message));
  // The public fetchRelayInfo refuses a malformed pin with the reason instead of throwing inside a socket event.
  const info = await fetchRelayInfo(relayUrls(https), { fingerprint: 'nonsense' }).then(() => undefined, (error: Error) => error);
  assert.match(String(info?.message), /32 bytes of hex/);
});

test('lanconf-relay join --fingerprint joins a TLS relay; a wrong or malformed one exits with the reason', { timeout: 60_000 }, async (t) => {
  const { relay, addresses } = await startRelay({ tls: 'on' });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.close();
  });
  const https = `https://127.0.0.1:${addresses.port}`;
  const ana = await joinMeeting({ url: https, meeting: 'Room', name: 'Ana', tls: { fingerprint: addresses.fingerprint! }, timeoutMs: 5000 });
  sessions.push(ana);

  const kiosk = runJoin(t, [https, '--meeting', 'Room', '--name', 'Kiosk', '--fingerprint', addresses.fingerprint!]);
  await kiosk.waitFor(/Joined "Room" as Kiosk\. In the meeting: Ana\./, 20_000);
  kiosk.child.kill('SIGINT');
  assert.equal(await withTimeout(kiosk.exited, 10_000, 'join exiting on Ctrl-C'), 0);

  const wrong = runJoin(t, [https, '--meeting', 'Room', '--name', 'Eve', '--fingerprint', '00'.repeat(32)]);
  assert.equal(await withTimeout(wrong.exited, 20_000, 'join with a wrong fingerprint'), 1);
  assert.match(wrong.err(), /Cannot join: .*not the pinned 00:00:/);

  const malformed = runJoin(t, [https, '--meeting', 'Room', '--name', 'Eve', '--fingerprint', 'not-a-fingerprint']);
  assert.equal(await withTimeout(malformed.exited, 10_000, 'join with a malformed fingerprint'), 2);
  assert.match(malformed.err(), /--fingerprint must be the 32 hex bytes/);
  assert.equal([...ana.participants.values()].some((p) => p.name === 'Eve'), false, 'Eve never joined');
});
