// `lanconf-relay join` as a user runs it: a child process with a terminal-like stdin, against a real relay.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { runCli } from '../cli-process.js';
import { join, leaveAll, startRelay, until, withTimeout } from '../helpers.js';

const runJoin = (t: TestContext, args: string[], env: Record<string, string | undefined> = {}) => runCli(t, ['join', ...args], env);

test('join: presence and chat both ways, a new session after the relay restarts, Ctrl-C leaves with exit 0', { timeout: 90_000 }, async (t) => {
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-join-'));
  let relay = await startRelay({ dataDir });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const ana = await join(relay.url, 'Room 1', 'Ana');
  sessions.push(ana);
  await ana.chat.send('before the kiosk came');
  const mic = await ana.publish({ kind: 'microphone', codec: 'opus' });

  const cli = runJoin(t, [relay.url, '--meeting', 'Room 1', '--name', 'Kiosk']);
  await cli.waitFor(/Joined "Room 1" as Kiosk\. In the meeting: Ana\./);
  await cli.waitFor(/Ana: before the kiosk came/);
  await until(() => [...ana.participants.values()].some((p) => p.name === 'Kiosk'), 'Ana sees the kiosk', 10_000);
  const kioskId = [...ana.participants.values()].find((p) => p.name === 'Kiosk')!.id;
  assert.equal(ana.tracks.size, 0, 'nothing shared when nothing was asked');
  // The kiosk shows no video and, without --speaker, plays no audio: it asks the relay for neither, whether
  // the track was there when it joined (the microphone) or came after (the camera).
  const camera = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  const kioskPeer = () => relay.relay.rooms.get('Room 1')!.participants.get(kioskId)!;
  await until(() => kioskPeer().paused.has(mic.id) && kioskPeer().paused.has(camera.id), 'the kiosk paused the tracks it does not use', 10_000);
  await camera.unpublish();
  await mic.unpublish();

  await ana.chat.send('hello kiosk');
  await cli.waitFor(/\[\d\d:\d\d\] Ana: hello kiosk/);
  cli.type('hello from the kiosk');
  await until(() => ana.chat.messages.some((m) => m.from === kioskId && m.text === 'hello from the kiosk'), 'the typed line reaches Ana as chat', 10_000);
  const bo = await join(relay.url, 'Room 1', 'Bo', { transport: 'native' });
  sessions.push(bo);
  await cli.waitFor(/\+ Bo joined/);
  await bo.leave();
  await cli.waitFor(/- Bo left/);

  // The relay restarts on the same ports: the kiosk joins again by itself.
  const { port, tcpPort, udpPort } = relay.addresses;
  await leaveAll(sessions);
  sessions.length = 0;
  await relay.relay.close();
  await cli.waitFor(/Disconnected: .*Joining again/, 10_000, 'err');
  relay = await startRelay({ dataDir, port, tcpPort, udpPort });
  const back = await join(relay.url, 'Room 1', 'Ana again');
  sessions.push(back);
  await until(() => [...back.participants.values()].some((p) => p.name === 'Kiosk'), 'the kiosk is back after the restart', 20_000);
  await until(() => (cli.out().match(/Joined "Room 1" as Kiosk\./g) ?? []).length === 2, 'the kiosk printed its second join', 5000);
  // Each line is its own write to the pipe: the history may arrive a read after the "Joined" line.
  await until(() => (cli.out().match(/Ana: hello kiosk/g) ?? []).length === 2, 'the chat printed live, then again from the history the restarted relay kept', 5000);
  cli.type('after the restart');
  await until(() => back.chat.messages.some((m) => m.name === 'Kiosk' && m.text === 'after the restart'), 'chat works after the rejoin', 10_000);

  cli.child.kill('SIGINT');
  assert.equal(await withTimeout(cli.exited, 10_000, 'join exiting on Ctrl-C'), 0);
  assert.match(cli.out(), /Left "Room 1"\./);
  await until(() => ![...back.participants.values()].some((p) => p.name === 'Kiosk'), 'the kiosk left the meeting', 5000);
});

test('join: joining again stops at a refusal that will not change: the relay comes back with a passcode, exit 1', { timeout: 60_000 }, async (t) => {
  let relay = await startRelay();
  t.after(() => relay.relay.close());
  const cli = runJoin(t, [relay.url, '--meeting', 'Locked', '--name', 'Kiosk']);
  await cli.waitFor(/Joined "Locked" as Kiosk\./);
  const { port, tcpPort, udpPort } = relay.addresses;
  await relay.relay.close();
  await cli.waitFor(/Disconnected: .*Joining again/, 10_000, 'err');
  relay = await startRelay({ port, tcpPort, udpPort, passcode: 'changed meanwhile' });
  assert.equal(await withTimeout(cli.exited, 30_000, 'join giving up'), 1);
  assert.match(cli.err(), /Cannot join again: /);
});

test('join: bad arguments exit 2; an unreachable relay exits 1; asking only for what cannot be shared exits 1 with the reason', { timeout: 60_000 }, async (t) => {
  // (Without a URL, join looks for relays with mDNS: tested only inside network namespaces, discovery.test.ts.)
  const twoUrls = runJoin(t, ['http://127.0.0.1:1', 'http://127.0.0.1:2', '--meeting', 'M', '--name', 'N']);
  assert.equal(await withTimeout(twoUrls.exited, 10_000, 'two URLs'), 2);
  assert.match(twoUrls.err(), /unexpected "http:\/\/127\.0\.0\.1:2"/);
  const noName = runJoin(t, ['http://127.0.0.1:1', '--meeting', 'M']);
  assert.equal(await withTimeout(noName.exited, 10_000, 'no name'), 2);
  assert.match(noName.err(), /--name is required/);
  const help = runJoin(t, ['--help']);
  assert.equal(await withTimeout(help.exited, 10_000, '--help'), 0);
  assert.match(help.out(), /--screen\[=<display>\]/);

  const unreachable = runJoin(t, ['http://127.0.0.1:9', '--meeting', 'M', '--name', 'N']);
  assert.equal(await withTimeout(unreachable.exited, 20_000, 'unreachable'), 1);
  assert.match(unreachable.err(), /Cannot join: .*127\.0\.0\.1:9/);

  const relay = await startRelay();
  t.after(() => relay.relay.close());
  const watcher = await join(relay.url, 'Nothing', 'Watcher');
  t.after(() => watcher.leave());
  const noDisplay = runJoin(t, [relay.url, '--meeting', 'Nothing', '--name', 'Headless', '--screen'], { DISPLAY: '' });
  assert.equal(await withTimeout(noDisplay.exited, 30_000, 'nothing to share'), 1);
  assert.match(noDisplay.err(), /Cannot share the screen: .*display/i);
  assert.match(noDisplay.err(), /Nothing could be shared/);
  await until(() => [...watcher.participants.values()].every((p) => p.name !== 'Headless'), 'the host left again', 5000);
});

test('join obeys a host: it says who muted or made whom host, and a removed kiosk exits 0 with the reason, not rejoining', { timeout: 60_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const ana = await join(relay.url, 'Hosted', 'Ana');
  sessions.push(ana);
  const cli = runJoin(t, [relay.url, '--meeting', 'Hosted', '--name', 'Kiosk']);
  await cli.waitFor(/Joined "Hosted" as Kiosk/);
  await until(() => [...ana.participants.values()].some((p) => p.name === 'Kiosk'), 'Ana sees the kiosk', 10_000);
  const kioskId = [...ana.participants.values()].find((p) => p.name === 'Kiosk')!.id;
  await ana.host.makeHost(kioskId);
  await cli.waitFor(/you are now a host \(by Ana\)/);
  await ana.host.lock();
  await cli.waitFor(/Ana locked the meeting/);
  await ana.host.remove(kioskId);
  await cli.waitFor(/Removed from the meeting: Ana removed you from the meeting/);
  assert.equal(await withTimeout(cli.exited, 10_000, 'the kiosk exiting'), 0);
  assert.equal([...ana.participants.values()].some((p) => p.name === 'Kiosk'), false, 'it did not come back');
});
