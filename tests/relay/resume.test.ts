// Resume after a dropped connection: the relay holds the participant, the client takes it back with its token,
// and what was in flight at the cut (a publish's answer, a mute, a finished upload's answer) is not lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Session } from '../../sdk/Session.js';
import { RawWs, join, leaveAll, pattern, startRelay, until } from '../helpers.js';

test('a join with the resume token of a participant the relay still thinks connected takes it over: same id, old connection closed', async (t) => {
  const relay = await startRelay();
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await relay.relay.close();
  });
  const { client: first, welcome } = await RawWs.join(relay.wsUrl, 'Takeover', 'Ana');
  const { client: other } = await RawWs.join(relay.wsUrl, 'Takeover', 'Bo');
  raws.push(first, other);
  const token = (welcome as unknown as { resumeToken: string }).resumeToken;
  const { client: second, welcome: again } = await RawWs.join(relay.wsUrl, 'Takeover', 'Ana', { resume: token });
  raws.push(second);
  assert.equal((again as unknown as { resumed?: boolean }).resumed, true);
  assert.equal(again.you.id, welcome.you.id);
  assert.notEqual((again as unknown as { resumeToken: string }).resumeToken, token, 'a fresh token each time');
  await first.waitClosed(3000);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(other.messages.filter((m) => m.type === 'participantLeft' || m.type === 'participantJoined').map((m) => m.type),
    [], 'Bo (who found Ana there) never saw her leave or join again');
  assert.equal(relay.relay.rooms.get('Takeover')!.participants.size, 2);

  // A used token, or one for another meeting, joins as someone new.
  const { client: third, welcome: fresh } = await RawWs.join(relay.wsUrl, 'Elsewhere', 'Ana', { resume: (again as unknown as { resumeToken: string }).resumeToken });
  raws.push(third);
  assert.notEqual(fresh.you.id, welcome.you.id);
  assert.equal((fresh as unknown as { resumed?: boolean }).resumed, undefined);
});

test('a mute made while reconnecting reaches the others after the resume; a resent old chat sequence never delivered is refused, not ignored', { timeout: 30_000 }, async (t) => {
  const relay = await startRelay();
  const sessions: Session[] = [];
  const raws: RawWs[] = [];
  t.after(async () => {
    for (const r of raws) r.close();
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const ana = await join(relay.url, 'Mute', 'Ana', { transport: 'native' });
  const bo = await join(relay.url, 'Mute', 'Bo');
  sessions.push(ana, bo);
  const track = await ana.publish({ kind: 'camera', codec: 'jpeg' });
  await until(() => bo.tracks.has(track.id), 'Bo sees the track');
  relay.relay.rooms.get('Mute')!.participants.get(ana.local.id)!.connection!.link.destroy();
  await until(() => ana.state === 'reconnecting', 'Ana reconnecting');
  await track.mute();
  await until(() => bo.tracks.get(track.id)?.muted === true, 'Bo sees the track muted after the resume', 10_000);
  assert.equal(ana.state, 'connected');

  const { client: raw } = await RawWs.join(relay.wsUrl, 'Mute', 'Raw');
  raws.push(raw);
  raw.sendJson({ type: 'chat', text: 'one', seq: 1 });
  await raw.next('chatAck');
  raw.sendJson({ type: 'chat', text: 'zero', seq: 0 });
  const refused = await raw.next('error', 3000, (m) => m.requestId === 'chat:0');
  assert.equal(refused.code, 'LAN_ERR_INVALID_MESSAGE');
  raw.sendJson({ type: 'chat', text: 'one', seq: 1 });
  await until(() => raw.messages.filter((m) => m.type === 'chatAck').length === 2, 'the resend of seq 1 is acked again');
});

test('an upload whose answer is lost with the connection still resolves: the resumed session finds it among the meeting\'s files', { timeout: 30_000 }, async (t) => {
  let cutNow: (() => void) | undefined;
  const relay = await startRelay({
    log: (_level, message) => {
      // The relay logs the shared file just before it answers the uploader: cut there, and the answer is lost.
      if (message.includes('shared "lost answer.bin"')) cutNow?.();
    },
  });
  const sessions: Session[] = [];
  t.after(async () => {
    await leaveAll(sessions);
    await relay.relay.close();
  });
  const ana = await join(relay.url, 'Lost', 'Ana');
  const bo = await join(relay.url, 'Lost', 'Bo');
  sessions.push(ana, bo);
  cutNow = () => relay.relay.rooms.get('Lost')!.participants.get(ana.local.id)!.connection!.link.destroy();
  const states: string[] = [];
  ana.on('stateChanged', (s) => states.push(s));
  const bytes = pattern(3 * 1024 * 1024, 21);
  const shared = await ana.files.send(bytes, { name: 'lost answer.bin' });
  assert.deepEqual(states, ['reconnecting', 'connected'], 'the connection was cut at the end');
  assert.equal(shared.name, 'lost answer.bin');
  assert.equal(shared.state, 'offered');
  assert.deepEqual(ana.files.list().map((f) => f.name), ['lost answer.bin'], 'listed once, not as a failed upload');
  await until(() => bo.files.get(shared.id), 'Bo got the offer');
  assert.deepEqual(new Uint8Array(await (await bo.files.download(shared.id)).arrayBuffer()), bytes);
});
