import { startRelay, RawWs, sleep } from '/work/main/tests/helpers.ts';
const run = async () => {
  const s = await startRelay();
  const { client: raw } = await RawWs.join(s.wsUrl, 'F', 'Flooder');
  for (let i = 0; i < 200; i++) { if (raw.ws.readyState !== raw.ws.OPEN) break; raw.sendJson({ type: `nonsense-${i}`, n: i }); }
  await sleep(3000);
  console.log(raw.closed, raw.closeCode, raw.messages.length, JSON.stringify(raw.messages.slice(-3)));
  const peer = [...s.relay.rooms.get('F')?.peers.values() ?? []][0];
  console.log(peer?.stats);
  raw.close(); await s.relay.close();
};
run();
