// One side of the mDNS discovery test, run by tests/relay/discovery.test.ts inside a network namespace of
// its own (`ip netns exec <ns> node --import tsx tests/relay/discovery-fixture.ts …`):
//
//   advertise '{"adverts":[AdvertiseOptions…],"hostile":true}'
//     advertises each advert with advertise(); with `hostile`, also answers queries for _lanconf._tcp with
//     forged adverts that discover() must drop, and sends undecodable datagrams to 224.0.0.251:5353.
//     Prints {"advertising":true}; on "stop" on stdin (or its end), stops everything, prints {"stopped":true,"errors":[…]}
//     and must then exit by itself.
//   discover '{"windows":[ms…],"interface":"lcd-b"}'
//     runs one discover() per window at once; prints {"started":true}, then
//     {"results":[[RelayAdvert…]…]} and must then exit by itself.
// Either prints {"stillHeldBy":[…]} when something keeps it alive after that.
//
// It refuses to run where any interface other than lo and the test's veth (lcd-*) exists: multicast never
// leaves the test's namespaces.
import { readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { createSocket } from 'node:dgram';
import { Bonjour } from 'bonjour-service';
import { advertise, discover, type AdvertiseOptions } from '../../relay/discovery.js';

const TEST_INTERFACE = /^(lo|lcd-[a-z0-9]+)$/;

function inTestNamespace(): boolean {
  let links: string[];
  try {
    links = readdirSync('/sys/class/net'); // `ip netns exec` mounts the namespace's own sysfs
  } catch {
    return false;
  }
  return [...links, ...Object.keys(networkInterfaces())].every((name) => TEST_INTERFACE.test(name));
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

/**
 * Once done, the process must exit by itself. If it is still alive a moment later, says what holds it
 * (the timer is unref'd: it fires only when something else keeps the process up).
 */
const reportLeftovers = () => setTimeout(() => print({ stillHeldBy: process.getActiveResourcesInfo() }), 500).unref();

const SERVICE = '_lanconf._tcp.local';
const GOOD_FP = Array.from({ length: 32 }, (_, i) => (i * 7 + 16).toString(16).toUpperCase().padStart(2, '0')).join(':');

/** Forged adverts, each with what makes it unacceptable. */
const FORGED: { name: string; port?: number; txt: string[] }[] = [
  { name: 'Bad Fingerprint', txt: ['v=1', 'url=https://10.77.0.1:9001/', `fp=${'ZZ:'.repeat(31)}ZZ`] },
  { name: 'Short Fingerprint', txt: ['v=1', 'url=https://10.77.0.1:9002/', 'fp=AA:BB'] },
  { name: 'Not A URL', txt: ['v=1', 'url=not a url'] },
  { name: 'Script URL', txt: ['v=1', 'url=javascript:alert(1)'] },
  { name: 'Credentials', txt: ['v=1', 'url=https://admin:secret@10.77.0.1:9003/'] },
  { name: 'Repeated Key', txt: ['v=1', 'url=ftp://10.77.0.1/', 'url=https://10.77.0.1:9004/'] },
  { name: 'No Version', txt: ['url=https://10.77.0.1:9005/', `fp=${GOOD_FP}`] },
  { name: 'Huge', txt: ['v=1', 'url=https://10.77.0.1:9006/', ...Array.from({ length: 8 }, (_, i) => `x${i}=${'a'.repeat(200)}`)] },
  { name: 'Escape\u001b[2J', txt: ['v=1', 'url=https://10.77.0.1:9007/'] },
  { name: 'Bad Port', port: 0, txt: ['v=1', 'url=https://10.77.0.1:9008/'] },
];

function forgedPacket(forged: (typeof FORGED)[number]) {
  const fqdn = `${forged.name}.${SERVICE}`;
  return {
    answers: [{ name: SERVICE, type: 'PTR', ttl: 120, data: fqdn }],
    additionals: [
      { name: fqdn, type: 'SRV', ttl: 120, data: { port: forged.port ?? 9000, target: 'forger.local' } },
      { name: fqdn, type: 'TXT', ttl: 120, data: forged.txt },
      { name: 'forger.local', type: 'A', ttl: 120, data: '10.77.0.1' },
    ],
  };
}

interface ForgerMdns {
  on(event: 'error', listener: (error: Error) => void): void;
  on(event: 'query', listener: (query: { questions?: { name?: string }[] }) => void): void;
  respond(packet: unknown, callback?: () => void): void;
}

/** Answers every query for _lanconf._tcp with the forged adverts, as any host on a LAN can. */
function forger(): { stop(): Promise<void> } {
  const bonjour = new Bonjour();
  const mdns = (bonjour as unknown as { server: { mdns: ForgerMdns } }).server.mdns;
  mdns.on('error', () => {});
  const answerAll = () => FORGED.forEach((f) => mdns.respond(forgedPacket(f)));
  mdns.on('query', (query: { questions?: { name?: string }[] }) => {
    if (query.questions?.some((q) => q.name?.toLowerCase() === SERVICE)) answerAll();
  });
  answerAll();

  // Datagrams no DNS decoder accepts: a header announcing 65535 answers that are not there, and noise.
  const raw = createSocket('udp4');
  const header = Buffer.from([0, 0, 0x84, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0]);
  const noise = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff));
  raw.send(header, 5353, '224.0.0.251', () => raw.send(noise, 5353, '224.0.0.251', () => raw.close()));

  return { stop: () => new Promise((resolve) => bonjour.destroy(() => resolve())) };
}

async function runAdvertise(spec: { adverts: AdvertiseOptions[]; hostile?: boolean }) {
  const errors: string[] = [];
  const handles = spec.adverts.map((options) => advertise({ ...options, onError: (e) => errors.push(e.message) }));
  const forging = spec.hostile ? forger() : undefined;
  print({ advertising: true });
  process.stdin.setEncoding('utf8');
  let input = '';
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdin.destroy();
    void Promise.all([...handles.map((h) => h.stop()), forging?.stop()]).then(() => {
      print({ stopped: true, errors });
      reportLeftovers();
    });
  };
  process.stdin.on('data', (chunk: string) => {
    input += chunk;
    if (input.includes('stop')) stop();
  });
  process.stdin.on('end', stop); // the test is gone (even SIGKILLed): do not advertise on forever
}

async function runDiscover(spec: { windows: number[]; interface?: string }) {
  print({ started: true });
  const results = await Promise.all(spec.windows.map((timeoutMs) => discover({ timeoutMs, ...(spec.interface ? { interface: spec.interface } : {}) })));
  print({ results });
  reportLeftovers();
}

const [mode, json] = process.argv.slice(2);
if (!inTestNamespace()) {
  process.stderr.write('discovery-fixture: refusing to run outside the test\'s network namespace (interfaces other than lo and lcd-*)\n');
  process.exitCode = 2;
} else if (mode === 'advertise' && json) {
  await runAdvertise(JSON.parse(json));
} else if (mode === 'discover' && json) {
  await runDiscover(JSON.parse(json));
} else {
  process.stderr.write('usage: discovery-fixture.ts advertise|discover <json>\n');
  process.exitCode = 2;
}
