// mDNS discovery of relays: what an advert must look like to be listed (a table of good and forged inputs,
// no network), then real multicast between two network namespaces joined by a veth pair — never in this
// machine's own namespace, so no datagram reaches a real LAN. The namespaces are removed after the test,
// also when it fails or the process is interrupted.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { parseAdvert, type AdvertiseOptions, type RelayAdvert } from '../../relay/discovery.js';

const FP = Array.from({ length: 32 }, (_, i) => (0xa0 + i).toString(16).toUpperCase()).join(':');

/** A service as bonjour-service's browser reports it. */
const service = (overrides: Record<string, unknown> = {}, txt: (string | Uint8Array)[] = ['v=1', 'url=https://192.168.1.20:8443/', `fp=${FP}`]) => ({
  name: 'lanconf on studio',
  fqdn: 'lanconf on studio._lanconf._tcp.local',
  host: 'studio.local',
  port: 8443,
  type: 'lanconf',
  protocol: 'tcp',
  addresses: ['192.168.1.20'],
  rawTxt: txt.map((s) => (typeof s === 'string' ? Buffer.from(s) : s)),
  referer: { address: '192.168.1.20', family: 'IPv4', port: 5353, size: 200 },
  ...overrides,
});

const studio: RelayAdvert = {
  name: 'lanconf on studio', url: 'https://192.168.1.20:8443/', fingerprint: FP, host: 'studio.local', port: 8443, addresses: ['192.168.1.20'],
};

test('parseAdvert keeps a well-formed advert, normalising its URL and fingerprint', () => {
  const cases: [string, unknown, RelayAdvert][] = [
    ['complete', service(), studio],
    ['fingerprint in lower case', service({}, ['v=1', 'url=https://192.168.1.20:8443/', `fp=${FP.toLowerCase()}`]), studio],
    ['no fingerprint (a plain http relay)', service({ port: 8080 }, ['v=1', 'url=http://192.168.1.20:8080/']),
      { name: 'lanconf on studio', url: 'http://192.168.1.20:8080/', host: 'studio.local', port: 8080, addresses: ['192.168.1.20'] }],
    ['keys in any case, unknown keys and one named __proto__', service({}, ['V=1', 'URL=https://192.168.1.20:8443/', `Fp=${FP}`, 'room=x', '__proto__=polluted', 'flag']), studio],
    ['a repeated key: the first counts', service({}, ['v=1', 'url=https://192.168.1.20:8443/', 'url=https://evil.example/', `fp=${FP}`]), studio],
    ['URL without its path', service({}, ['v=1', 'url=https://Studio.local:8443', `fp=${FP}`]), { ...studio, url: 'https://studio.local:8443/' }],
    ['no addresses: the one it came from', service({ addresses: [] }), studio],
    ['addresses listed twice', service({ addresses: ['192.168.1.20', 'fd00::20', '192.168.1.20'] }), { ...studio, addresses: ['192.168.1.20', 'fd00::20'] }],
  ];
  for (const [what, raw, expected] of cases) assert.deepEqual(parseAdvert(raw), expected, what);
  assert.equal(Object.prototype.hasOwnProperty.call({}, 'polluted'), false);
});

test('parseAdvert drops forged, malformed and oversized adverts', () => {
  const url = 'url=https://192.168.1.20:8443/';
  const cases: [string, unknown][] = [
    ['not an object', 'lanconf'],
    ['null', null],
    ['fingerprint not hex', service({}, ['v=1', url, `fp=${'ZZ:'.repeat(31)}ZZ`])],
    ['fingerprint too short', service({}, ['v=1', url, 'fp=AA:BB'])],
    ['fingerprint without colons', service({}, ['v=1', url, `fp=${FP.replaceAll(':', '')}`])],
    ['fingerprint with a trailing colon', service({}, ['v=1', url, `fp=${FP}:`])],
    ['empty fingerprint', service({}, ['v=1', url, 'fp='])],
    ['no URL', service({}, ['v=1', `fp=${FP}`])],
    ['URL not a URL', service({}, ['v=1', 'url=not a url'])],
    ['javascript: URL', service({}, ['v=1', 'url=javascript:alert(1)'])],
    ['ftp: URL', service({}, ['v=1', 'url=ftp://192.168.1.20/'])],
    ['URL with credentials', service({}, ['v=1', 'url=https://admin:secret@192.168.1.20:8443/'])],
    ['URL with an escape sequence', service({}, ['v=1', 'url=https://192.168.1.20:8443/\u001b[2J'])],
    ['URL with a newline', service({}, ['v=1', 'url=https://192.168.1.20:8443/\nhttps://evil/'])],
    ['URL too long for a TXT string', service({}, ['v=1', `url=https://192.168.1.20/${'a'.repeat(240)}`])],
    ['a repeated key: the first is bad', service({}, ['v=1', 'url=ftp://x/', url])],
    ['no version', service({}, [url, `fp=${FP}`])],
    ['another version', service({}, ['v=2', url, `fp=${FP}`])],
    ['TXT not UTF-8', service({}, ['v=1', url, Uint8Array.of(0x6e, 0x3d, 0xff, 0xfe)])],
    ['TXT of 33 strings', service({}, ['v=1', url, ...Array.from({ length: 31 }, (_, i) => `k${i}=1`)])],
    ['TXT over 1300 bytes', service({}, ['v=1', url, ...Array.from({ length: 6 }, (_, i) => `k${i}=${'a'.repeat(240)}`)])],
    ['TXT missing', service({ rawTxt: undefined })],
    ['TXT of strings, not bytes', service({ rawTxt: ['v=1', url] })],
    ['empty name', service({ name: '' })],
    ['name over 63 bytes', service({ name: 'é'.repeat(32) })],
    ['name with an escape sequence', service({ name: 'Relay\u001b[31m' })],
    ['name with a right-to-left override', service({ name: 'Relay\u202eeno' })],
    ['name not a string', service({ name: 42 })],
    ['host with a control character', service({ host: 'studio\r.local' })],
    ['host not a string', service({ host: undefined })],
    ['port 0', service({ port: 0 })],
    ['port 70000', service({ port: 70000 })],
    ['port as text', service({ port: '8443' })],
    ['address not an IP', service({ addresses: ['evil'] })],
    ['17 addresses', service({ addresses: Array.from({ length: 17 }, (_, i) => `10.0.0.${i + 1}`) })],
    ['addresses not a list', service({ addresses: '192.168.1.20' })],
  ];
  for (const [what, raw] of cases) assert.equal(parseAdvert(raw), undefined, what);
});

// ——— Two namespaces: A advertises, B discovers ———

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = 'tests/relay/discovery-fixture.ts';
const PREFIX = 'lcdisc-';
const ADDRESS_A = '10.77.0.1';
const ADDRESS_B = '10.77.0.2';

const GOOD: AdvertiseOptions[] = [
  { name: 'Relay One', port: 8443, url: `https://${ADDRESS_A}:8443/`, fingerprint: FP },
  // Bound to its interface by address, where discovery below names its own by name: both forms.
  { name: 'Relay Two', port: 8080, url: `http://${ADDRESS_A}:8080/`, interface: ADDRESS_A },
];

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
}

/** Why network namespaces cannot be used here, in one line; `undefined` when they can. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== 'linux') return `the mDNS test needs Linux network namespaces (this is ${process.platform})`;
  const uid = process.getuid?.();
  if (uid !== 0) return `the mDNS test needs root for \`ip netns add\` (running as uid ${uid})`;
  const r = spawnSync('ip', ['-V'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return 'the mDNS test needs iproute2: `ip` was not found or does not run';
  return undefined;
}

/** Namespaces of earlier runs whose process died before it could remove them. */
function removeStaleNamespaces(): void {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = new RegExp(`^(${PREFIX}(\\d+)-[ab])\\b`).exec(line);
    if (!m?.[1] || !m[2]) continue;
    try {
      process.kill(Number(m[2]), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') spawnSync('ip', ['netns', 'del', m[1]]);
    }
  }
}

/** Makes A and B joined by a veth pair (lcd-a ↔ lcd-b) and returns their names; removed by `t.after`, on exit and on SIGINT/SIGTERM. */
function namespaces(t: TestContext, children: Set<ChildProcess>): { a: string; b: string } {
  const a = `${PREFIX}${process.pid}-a`;
  const b = `${PREFIX}${process.pid}-b`;
  let cleaned = false;
  const cleanUp = () => {
    if (cleaned) return;
    cleaned = true;
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const ns of [a, b]) spawnSync('ip', ['netns', 'del', ns]);
    process.off('exit', cleanUp);
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.off(signal, onSignal);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    cleanUp();
    process.kill(process.pid, signal); // our handler is gone: the default action ends the process
  };
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, onSignal);
  t.after(cleanUp);

  ip('netns', 'add', a);
  ip('netns', 'add', b);
  // Made inside A with its peer moved to B at once: neither end ever exists in this machine's namespace.
  ip('-n', a, 'link', 'add', 'lcd-a', 'type', 'veth', 'peer', 'name', 'lcd-b', 'netns', b);
  for (const [ns, dev, address] of [[a, 'lcd-a', ADDRESS_A], [b, 'lcd-b', ADDRESS_B]] as const) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
    ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev); // no default route: multicast needs one of its own
  }
  return { a, b };
}

/** `promise`, or `fallback` after `ms`; the timer does not outlive the race. */
async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((resolve) => { timer = setTimeout(() => resolve(fallback), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** The fixture running in a namespace, its stdout as JSON lines. */
class Fixture {
  readonly #child: ChildProcess;
  readonly #lines: Record<string, unknown>[] = [];
  #waiters: (() => void)[] = [];
  #stderr = '';
  readonly #exit: Promise<number | null>;

  constructor(ns: string, mode: 'advertise' | 'discover', spec: unknown, children: Set<ChildProcess>) {
    this.#child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', FIXTURE, mode, JSON.stringify(spec)], {
      cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.add(this.#child);
    this.#child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.#stderr += chunk; });
    createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      try {
        this.#lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.#stderr += `(stdout) ${line}\n`;
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.#exit = new Promise((resolve) => this.#child.on('exit', (code) => {
      resolve(code);
      for (const wake of this.#waiters.splice(0)) wake();
    }));
  }

  /** The first line with `key`, waiting at most `ms`. */
  async line(key: string, ms: number): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.#lines.find((l) => key in l);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.#child.exitCode !== null) assert.fail(`the ${key} line did not come within ${ms} ms; stderr: ${this.#stderr.trim() || '(none)'}`);
      await within(new Promise<void>((resolve) => this.#waiters.push(resolve)), left, undefined);
    }
  }

  /** Asserts the process exits by itself with 0 within `ms`: nothing (socket, timer) holds it. */
  async exitsCleanly(ms: number): Promise<void> {
    const code = await within(this.#exit, ms, 'timeout');
    const held = this.#lines.find((l) => 'stillHeldBy' in l)?.stillHeldBy;
    assert.equal(code, 0, `the fixture should exit by itself with 0 within ${ms} ms; got ${code}; held by ${JSON.stringify(held)}; stderr: ${this.#stderr.trim() || '(none)'}`);
  }

  send(text: string): void {
    this.#child.stdin!.write(text);
  }
}

const names = (list: unknown) => (list as RelayAdvert[]).map((r) => r.name);

function assertGoodOnes(list: unknown, what: string): void {
  const adverts = list as RelayAdvert[];
  assert.deepEqual(names(adverts), ['Relay One', 'Relay Two'], `${what}: the two relays, no forged one`);
  const [one, two] = adverts;
  assert.deepEqual({ url: one!.url, fingerprint: one!.fingerprint, port: one!.port }, { url: `https://${ADDRESS_A}:8443/`, fingerprint: FP, port: 8443 }, what);
  assert.deepEqual({ url: two!.url, fingerprint: two!.fingerprint, port: two!.port }, { url: `http://${ADDRESS_A}:8080/`, fingerprint: undefined, port: 8080 }, what);
  for (const r of adverts) assert.ok(r.addresses.includes(ADDRESS_A), `${what}: ${r.name} lists ${ADDRESS_A} (has ${r.addresses.join(', ')})`);
}

test('relays advertised on the LAN are discovered with their URL and fingerprint, forged adverts are dropped, and a goodbye removes them', { timeout: 40_000 }, async (t) => {
  const missing = missingPrerequisite();
  if (missing) assert.fail(missing);
  removeStaleNamespaces();
  const children = new Set<ChildProcess>();
  const { a, b } = namespaces(t, children);

  const advertiser = new Fixture(a, 'advertise', { adverts: GOOD, hostile: true }, children);
  await advertiser.line('advertising', 10_000);

  // Probing takes about a second before the first announcement: a 2.5 s window hears it either way.
  const everywhere = new Fixture(b, 'discover', { windows: [2500] }, children);
  const onInterface = new Fixture(b, 'discover', { windows: [2500], interface: 'lcd-b' }, children);
  const [heard, heardOnInterface] = await Promise.all([everywhere.line('results', 10_000), onInterface.line('results', 10_000)]);
  assertGoodOnes((heard.results as unknown[])[0], 'discover()');
  assertGoodOnes((heardOnInterface.results as unknown[])[0], 'discover({ interface })');
  await Promise.all([everywhere.exitsCleanly(3000), onInterface.exitsCleanly(3000)]);

  // Two windows at once: the 1 s one ends while the relays still run, the 3 s one after they said goodbye at 1.5 s.
  const around = new Fixture(b, 'discover', { windows: [1000, 3000] }, children);
  await around.line('started', 10_000);
  await sleep(1500);
  advertiser.send('stop\n');
  const stopped = await advertiser.line('stopped', 5000);
  assert.deepEqual(stopped.errors, [], 'advertising reported no error');
  await advertiser.exitsCleanly(3000);
  const [before, after] = (await around.line('results', 10_000)).results as unknown[];
  assertGoodOnes(before, 'before the goodbye');
  assert.deepEqual(names(after), [], 'the goodbye removed both relays from a discovery under way');
  await around.exitsCleanly(3000);

  const later = new Fixture(b, 'discover', { windows: [800] }, children);
  assert.deepEqual(names(((await later.line('results', 10_000)).results as unknown[])[0]), [], 'a new discovery hears nothing');
  await later.exitsCleanly(3000);
});

/** `lanconf-relay …` run inside namespace `ns`; its output collected. */
function cliIn(ns: string, args: string[], children: Set<ChildProcess>, dataDir?: string): { out: () => string; err: () => string; exit: Promise<number | null>; child: ChildProcess } {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'relay/cli.ts', ...args], {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...(dataDir ? { LANCONF_DATA_DIR: dataDir } : {}) },
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => { out += c; });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => { err += c; });
  child.stdin!.on('error', () => { /* it may exit first */ });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { out: () => out, err: () => err, exit, child };
}

async function waitFor(get: () => string, re: RegExp, ms: number, what: string): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = get().match(re);
    if (m) return m;
    if (Date.now() > deadline) assert.fail(`${what}: no ${re} within ${ms} ms in:\n${get()}`);
    await sleep(50);
  }
}

test('lanconf-relay --mdns is listed by "lanconf-relay discover" and joined by "join" without a URL, which still trusts only --fingerprint', { timeout: 60_000 }, async (t) => {
  const missing = missingPrerequisite();
  if (missing) assert.fail(missing);
  removeStaleNamespaces();
  const children = new Set<ChildProcess>();
  const { a, b } = namespaces(t, children);
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join: joinPath } = await import('node:path');
  const dataDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-mdns-'));
  const kioskDir = mkdtempSync(joinPath(tmpdir(), 'lanconf-mdns-kiosk-'));
  t.after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(kioskDir, { recursive: true, force: true });
  });

  const relay = cliIn(a, ['--host', ADDRESS_A, '--port', '0', '--tcp-port', '0', '--udp-port', '0', '--tls', 'on', '--mdns', '--data-dir', dataDir], children);
  const [, fingerprint] = await waitFor(relay.out, /Certificate authority SHA-256 fingerprint: (\S+)/, 20_000, 'the relay starting');
  const [, url] = await waitFor(relay.out, /Announced on the LAN \(mDNS, _lanconf\._tcp\): (\S+)/, 5000, 'the relay announcing itself');
  assert.match(url!, new RegExp(`^https://${ADDRESS_A.replace(/\./g, '\\.')}:\\d+/$`));

  const discovery = cliIn(b, ['discover', '--timeout', '3'], children);
  assert.equal(await discovery.exit, 0, discovery.err());
  assert.ok(discovery.out().includes(url!), `discover lists the relay's URL:\n${discovery.out()}`);
  assert.ok(discovery.out().includes(`announces CA ${fingerprint}`), 'and the fingerprint it announces, for comparison');

  // Without a URL and with the pin: found and joined.
  const kiosk = cliIn(b, ['join', '--meeting', 'Room', '--name', 'Kiosk', '--fingerprint', fingerprint!], children, kioskDir);
  await waitFor(kiosk.out, /Joined "Room" as Kiosk/, 20_000, 'the kiosk joining the relay it found');
  assert.match(kiosk.out(), /^Found lanconf on /m);
  kiosk.child.kill('SIGINT');
  assert.equal(await kiosk.exit, 0);

  // Without a pin, the announced fingerprint is not trusted by itself: the relay's CA is unknown here.
  const eve = cliIn(b, ['join', '--meeting', 'Room', '--name', 'Eve'], children, kioskDir);
  assert.equal(await eve.exit, 1, eve.out() + eve.err());
  assert.match(eve.out(), /announced fingerprint is not trusted by itself/);
  assert.match(eve.err(), /Cannot join/);

  relay.child.kill('SIGTERM');
  assert.equal(await relay.exit, 0, relay.err());
});
