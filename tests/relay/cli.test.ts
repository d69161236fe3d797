import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { LanError } from '../../sdk/errors.js';
import type { Session } from '../../sdk/Session.js';
import { runCli } from '../cli-process.js';
import { join, leaveAll, withTimeout } from '../helpers.js';


async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(joinPath(tmpdir(), 'lanconf-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function httpsText(url: string, ca: string): Promise<{ status: number; type: string; body: string }> {
  return withTimeout(new Promise((resolveGet, reject) => {
    httpsGet(url, { ca }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    }).on('error', reject);
  }), 5000, `GET ${url}`);
}

const LOOPBACK = ['--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--udp-port', '0'];

test('lanconf-relay prints its URL, serves the page and /.well-known/lanconf, lets clients join, and stops cleanly on SIGTERM', { timeout: 30_000 }, async (t) => {
  const data = await tempDir(t);
  const cli = runCli(t, [...LOOPBACK, '--tls', 'off'], { LANCONF_DATA_DIR: data });
  const [, url, port] = await cli.waitFor(/(http:\/\/127\.0\.0\.1:(\d+)\/)/);
  assert.ok(Number(port) > 0);
  await cli.waitFor(/Press Ctrl-C to stop/);
  const sessions: Session[] = [];
  t.after(() => leaveAll(sessions));

  const page = await fetch(url!);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await page.text(), /<html/i);
  const wk = await fetch(new URL('.well-known/lanconf', url));
  assert.equal(wk.status, 200);
  assert.match(wk.headers.get('content-type') ?? '', /application\/json/);
  const info = await wk.json() as { service: string; protocol: number; tcp: { port: number; tls: boolean }; udp: { port: number }; passcode: boolean };
  assert.equal(info.service, 'lanconf');
  assert.equal(info.protocol, 1);
  assert.ok(info.tcp.port > 0 && info.udp.port > 0);
  assert.equal(info.tcp.tls, false);
  assert.equal(info.passcode, false);
  assert.match(cli.out(), new RegExp(`TCP ${info.tcp.port}, UDP ${info.udp.port}`));

  const ana = await join(url!, 'CLI', 'Ana');
  const cy = await join(url!, 'CLI', 'Cy', { transport: 'native' });
  sessions.push(ana, cy);
  assert.ok(cy.participants.has(ana.local.id));
  const sent = await cy.chat.send('hello through the CLI relay');
  assert.equal(sent.text, 'hello through the CLI relay');

  const ends = sessions.map((s) => withTimeout(
    new Promise<LanError | undefined>((r) => s.once('disconnected', (e) => r(e))), 5000, `${s.local.name} disconnected`));
  const shutdownErrors: string[] = [];
  for (const s of sessions) s.on('error', (e) => shutdownErrors.push(e.code));
  assert.ok(cli.child.kill('SIGTERM'));
  const code = await withTimeout(cli.exited, 8000, 'the relay exiting after SIGTERM');
  assert.equal(code, 0, `exit code 0 after SIGTERM\n${cli.err()}`);
  assert.match(cli.out(), /SIGTERM: closing every connection/);
  assert.match(cli.out(), /lanconf relay stopped\./);
  for (const [i, error] of (await Promise.all(ends)).entries()) {
    assert.equal(sessions[i]!.state, 'closed');
    assert.ok(error?.code === 'LAN_ERR_SHUTDOWN' || error?.code === 'LAN_ERR_CLOSED',
      `${sessions[i]!.local.name}: disconnected with LAN_ERR_SHUTDOWN or LAN_ERR_CLOSED, got ${error?.code}`);
  }
});

test('lanconf-relay --help prints usage and exits 0; a bad flag exits 2', { timeout: 20_000 }, async (t) => {
  const help = runCli(t, ['--help']);
  assert.equal(await withTimeout(help.exited, 10_000, '--help'), 0);
  assert.match(help.out(), /Usage:\s+lanconf-relay \[options\]/);
  assert.match(help.out(), /--tcp-port/);

  const bad = runCli(t, ['--bogus']);
  assert.equal(await withTimeout(bad.exited, 10_000, '--bogus'), 2);
  assert.match(bad.err(), /bogus/);
  assert.match(bad.err(), /--help/);

  const badTls = runCli(t, ['--tls', 'maybe']);
  assert.equal(await withTimeout(badTls.exited, 10_000, '--tls maybe'), 2);
  assert.match(badTls.err(), /--tls must be auto, on or off/);

  const badSize = runCli(t, ['--max-file-mb', 'lots']);
  assert.equal(await withTimeout(badSize.exited, 10_000, '--max-file-mb lots'), 2);
  assert.match(badSize.err(), /--max-file-mb must be a number/);
  assert.match(help.out(), /--retention-hours/);
});

test('lanconf-relay file and chat flags reach the relay: the limits clients are told, the history a late joiner gets', { timeout: 30_000 }, async (t) => {
  const data = await tempDir(t);
  const cli = runCli(t, [...LOOPBACK, '--tls', 'off', '--data-dir', data, '--max-file-mb', '2', '--meeting-quota-mb', '5', '--chat-history', '2']);
  const [, url] = await cli.waitFor(/(http:\/\/127\.0\.0\.1:\d+\/)/);
  await cli.waitFor(/Press Ctrl-C to stop/);
  const sessions: Session[] = [];
  t.after(() => leaveAll(sessions));
  const info = await (await fetch(new URL('.well-known/lanconf', url))).json() as { limits: { maxFileBytes: number; maxMeetingFileBytes: number } };
  assert.equal(info.limits.maxFileBytes, 2 * 1024 * 1024);
  assert.equal(info.limits.maxMeetingFileBytes, 5 * 1024 * 1024);
  const ana = await join(url!, 'Flags', 'Ana');
  sessions.push(ana);
  for (const text of ['one', 'two', 'three']) await ana.chat.send(text);
  const late = await join(url!, 'Flags', 'Late');
  sessions.push(late);
  assert.deepEqual(late.chat.messages.map((m) => m.text), ['two', 'three']);
  assert.equal(late.limits.maxFileBytes, 2 * 1024 * 1024);
  await leaveAll(sessions);
  cli.child.kill('SIGTERM');
  assert.equal(await withTimeout(cli.exited, 8000, 'the relay exiting'), 0);
});

test('lanconf-relay --tls on makes its certificate authority once, issues its certificate from it, and prints the CA fingerprint, the trust page and a QR code', { timeout: 40_000 }, async (t) => {
  const data = await tempDir(t);
  const sessions: Session[] = [];
  t.after(() => leaveAll(sessions));
  const fingerprints: string[] = [];
  for (const round of [1, 2]) {
    const cli = runCli(t, [...LOOPBACK, '--tls', 'on', '--data-dir', data]);
    const [url] = await cli.waitFor(/https:\/\/127\.0\.0\.1:\d+\//, 20_000);
    const [, fingerprint] = await cli.waitFor(/Certificate authority SHA-256 fingerprint: ([0-9A-F]{2}(?::[0-9A-F]{2}){31})/);
    await cli.waitFor(/Press Ctrl-C to stop/);
    fingerprints.push(fingerprint!);
    assert.ok(cli.out().includes(`lanconf-relay join ${url} --meeting <id> --name <name> --fingerprint ${fingerprint}`), 'it shows how a native host joins it');
    assert.ok(cli.out().includes(`does not trust it yet: ${url!.replace('https:', 'http:')}trust`), 'it prints the trust page');
    assert.match(cli.out().replace(/\x1b\[[0-9;]*m/g, ''), /Phones: scan to open https:\/\/127\.0\.0\.1:\d+\/\n[\u2580\u2584\u2588 ]+/, 'and a QR code drawn in the terminal');
    if (round === 1) assert.match(cli.out(), /new: the relay's own authority/);
    else assert.doesNotMatch(cli.out(), /new: the relay's own authority/, 'the second start keeps the authority');

    const ca = await readFile(joinPath(data, 'ca', 'ca.pem'), 'utf8');
    assert.equal(new X509Certificate(ca).fingerprint256, fingerprint, 'the printed fingerprint is the kept authority\'s');
    const page = await httpsText(url!, ca);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    const wk = JSON.parse((await httpsText(new URL('.well-known/lanconf', url).href, ca)).body) as { tcp: { tls: boolean } };
    assert.equal(wk.tcp.tls, true);

    // Clients that trust the authority (not the server certificate) join over WSS and over TLS + UDP.
    const ana = await join(url!, 'TLS', 'Ana', { tls: { ca } });
    const cy = await join(url!, 'TLS', 'Cy', { transport: 'native', tls: { ca } });
    sessions.push(ana, cy);
    assert.ok(cy.participants.has(ana.local.id));
    await Promise.all([ana.leave(), cy.leave()]);

    cli.child.kill('SIGTERM');
    assert.equal(await withTimeout(cli.exited, 8000, 'the TLS relay exiting'), 0);
  }
  assert.equal(fingerprints[0], fingerprints[1]);
});

test('lanconf-relay takes every option from LANCONF_* variables (a flag wins) and logs JSON lines naming meeting and participant', { timeout: 40_000 }, async (t) => {
  const data = await tempDir(t);
  const cli = runCli(t, ['--host', '127.0.0.1', '--tcp-port', '0', '--udp-port', '0', '--port', '0', '--log-format', 'json'], {
    LANCONF_DATA_DIR: data, LANCONF_PASSCODE: 'from-env', LANCONF_PORT: '1', LANCONF_TLS: 'off', LANCONF_CHAT_HISTORY: '7',
  });
  const line = (await cli.waitFor(/"msg":"lanconf relay [^"]*"|http:\/\/127\.0\.0\.1:\d+\//, 20_000))[0];
  assert.ok(line);
  const [url] = await cli.waitFor(/http:\/\/127\.0\.0\.1:\d+\//);
  assert.doesNotMatch(url!, /:1\//, '--port on the command line won over LANCONF_PORT');
  await cli.waitFor(/A passcode is required/);
  await assert.rejects(join(url!, 'Env', 'Eve', { passcode: 'wrong' }), (e: LanError) => e.code === 'LAN_ERR_BAD_PASSCODE');
  const ana = await join(url!, 'Env', 'Ana', { passcode: 'from-env' });
  await ana.leave();
  // The join and leave lines are JSON objects with the meeting and the participant.
  const logged = await cli.waitFor(/\{"level":30[^\n]*"msg":"Ana \([^)]*\) left[^\n]*\n/);
  const joined = cli.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const joinLine = joined.find((l) => typeof l.msg === 'string' && l.msg.includes('joined "Env"'));
  assert.ok(joinLine, `a JSON join line in:\n${cli.out()}`);
  assert.equal(joinLine.meeting, 'Env');
  assert.equal(joinLine.name, 'Ana');
  assert.equal(joinLine.participant, ana.local.id);
  assert.equal(joinLine.address, '127.0.0.1');
  assert.ok(logged[0]);
  cli.child.kill('SIGTERM');
  assert.equal(await withTimeout(cli.exited, 8000, 'the relay exiting'), 0);

  const bad = runCli(t, ['--host', '127.0.0.1'], { LANCONF_MDNS: 'maybe' });
  assert.equal(await withTimeout(bad.exited, 10_000, 'a bad boolean variable'), 2);
  assert.match(bad.err(), /LANCONF_MDNS must be true or false/);
  const badFormat = runCli(t, ['--log-format', 'xml']);
  assert.equal(await withTimeout(badFormat.exited, 10_000, 'a bad log format'), 2);
  assert.match(badFormat.err(), /--log-format must be text or json/);
});
