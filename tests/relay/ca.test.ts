/**
 * The relay's own certificate authority, checked from the outside: openssl reads and verifies what it
 * makes, Node's TLS enforces its name constraints, the files keep their modes, a restart keeps the CA and
 * re-issues the server certificate only when it must, an organisation's CA (made by openssl here) issues
 * instead, a pinned CA fingerprint survives a re-issued certificate and refuses a certificate another key
 * signed, and `lanconf-relay ca` tells the admin what they need.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { connect as netConnect } from 'node:net';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { issueServerCertificate, ownCa } from '../../relay/ca.js';
import { Relay } from '../../relay/Relay.js';
import { caIssuedTls, wantedNames } from '../../relay/tls.js';
import { pinMismatch, tlsConnectOptions } from '../../sdk/node/nodeTls.js';
import type { LanError } from '../../sdk/errors.js';
import type { Session } from '../../sdk/Session.js';
import { runCli } from '../cli-process.js';
import { HOST, join, leaveAll, startRelay, until, withTimeout, type TestRelay } from '../helpers.js';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
const DAY = 86400_000;

/** openssl's output and exit code; the test fails (never skips) when openssl is missing. */
async function openssl(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(OPENSSL, args, { encoding: 'utf8', timeout: 20_000, ...(cwd ? { cwd } : {}) });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { code?: number | string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') assert.fail(`${OPENSSL} is not installed, so certificates cannot be checked independently: run \`apt-get install -y openssl\``);
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, out: e.stdout ?? '', err: e.stderr ?? '' };
  }
}

/** Like {@link openssl}, failing the test when openssl does. */
async function opensslOk(args: string[], cwd?: string): Promise<string> {
  const r = await openssl(args, cwd);
  assert.equal(r.code, 0, `openssl ${args.join(' ')} failed:\n${r.out}\n${r.err}`);
  return r.out;
}

async function tempDir(t: TestContext, prefix = 'lanconf-ca-'): Promise<string> {
  const dir = await mkdtemp(joinPath(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes `pem` to a new file in `dir` and returns its path. */
async function pemFile(dir: string, name: string, pem: string): Promise<string> {
  const path = joinPath(dir, name);
  await writeFile(path, pem);
  return path;
}

/** The first certificate of a PEM bundle. */
function firstPem(bundle: string): string {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/.exec(bundle);
  assert.ok(m, 'a PEM certificate');
  return m[0].endsWith('\n') ? m[0] : `${m[0]}\n`;
}

/** An extension as `openssl x509 -text` prints it: whether it is critical, and its value lines. */
function extension(text: string, name: string): { critical: boolean; lines: string[] } | undefined {
  const all = text.split('\n');
  const at = all.findIndex((l) => new RegExp(`^\\s+X509v3 ${name}:( critical)?\\s*$`).test(l));
  if (at < 0) return undefined;
  const indent = /^\s*/.exec(all[at]!)![0].length;
  const lines: string[] = [];
  for (let i = at + 1; i < all.length; i++) {
    const l = all[i]!;
    if (/^\s*/.exec(l)![0].length <= indent) break;
    lines.push(l.trim());
  }
  return { critical: all[at]!.trimEnd().endsWith('critical'), lines };
}

/** The SHA-256 fingerprint of a certificate as openssl computes it, `AB:CD:…`. */
async function opensslFingerprint(certPath: string): Promise<string> {
  const out = await opensslOk(['x509', '-in', certPath, '-noout', '-fingerprint', '-sha256']);
  const m = /Fingerprint=([0-9A-F:]+)/i.exec(out);
  assert.ok(m, out);
  return m[1]!.toUpperCase();
}

/** notBefore and notAfter of a certificate, read by openssl. */
async function validity(certPath: string): Promise<{ from: number; to: number }> {
  const out = await opensslOk(['x509', '-in', certPath, '-noout', '-dates', '-dateopt', 'iso_8601']);
  const from = /notBefore=(\S+ \S+)/.exec(out)?.[1];
  const to = /notAfter=(\S+ \S+)/.exec(out)?.[1];
  assert.ok(from && to, out);
  return { from: Date.parse(from.replace(' ', 'T')), to: Date.parse(to.replace(' ', 'T')) };
}

/** The subjectAltName entries (`DNS:localhost`, `IP Address:127.0.0.1`) of a certificate, read by openssl. */
async function sans(certPath: string): Promise<string[]> {
  const ext = extension(await opensslOk(['x509', '-in', certPath, '-noout', '-text']), 'Subject Alternative Name');
  return ext ? ext.lines.join(' ').split(/,\s*/).filter(Boolean) : [];
}

/** The bare host name of this machine as a name-constrained CA permits it (computed here, not by the relay). */
function bareHost(): string | undefined {
  const label = hostname().split('.')[0]!.toLowerCase();
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label) ? label : undefined;
}

/** The permitted IP subtrees as openssl prints them: private, shared, loopback and link-local, v4 and v6. */
const PERMITTED_IPS = [
  'IP:10.0.0.0/255.0.0.0', 'IP:172.16.0.0/255.240.0.0', 'IP:192.168.0.0/255.255.0.0', 'IP:100.64.0.0/255.192.0.0',
  'IP:127.0.0.0/255.0.0.0', 'IP:169.254.0.0/255.255.0.0',
  'IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF',
  'IP:FC00:0:0:0:0:0:0:0/FE00:0:0:0:0:0:0:0',
  'IP:FE80:0:0:0:0:0:0:0/FFC0:0:0:0:0:0:0:0',
];

/** `true` when an address is in one of the ranges above (written again here, independently of relay/ca.ts). */
function isPrivateAddress(ip: string): boolean {
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168)
      || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254);
  }
  const v6 = ip.toLowerCase();
  return v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6);
}

/** GET over HTTPS trusting `ca`; resolves with the status and body. */
function httpsGetText(url: string, ca: string): Promise<{ status: number; body: string }> {
  return withTimeout(new Promise((resolve, reject) => {
    httpsGet(url, { ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  }), 5000, `GET ${url}`);
}

/** Plain HTTP by hand on `port`: the status line and headers of the answer. */
function plainGet(port: number, path: string): Promise<{ status: number; headers: Map<string, string> }> {
  return withTimeout(new Promise((resolve, reject) => {
    const socket = netConnect({ host: HOST, port });
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const [status, ...lines] = text.slice(0, end).split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(status!)?.[1] ?? 0), headers });
    });
    socket.on('error', reject);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nConnection: close\r\n\r\n`);
  }), 5000, `plain GET ${path}`);
}

/** A relay with TLS on, closed after the test. */
async function tlsRelay(t: TestContext, options: ConstructorParameters<typeof Relay>[0] = {}): Promise<TestRelay> {
  const started = await startRelay({ tls: 'on', ...options });
  t.after(() => started.relay.close());
  return started;
}

/** An organisation CA made by openssl: EC P-256 or RSA 2048, or a certificate that is no CA at all. */
async function opensslCa(dir: string, kind: 'ec' | 'rsa' | 'not-ca'): Promise<{ cert: string; key: string; certPath: string }> {
  const config = await pemFile(dir, `${kind}.cnf`, [
    '[req]', 'distinguished_name = dn', '[dn]',
    '[ca]', 'basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign', 'subjectKeyIdentifier = hash',
    '[leaf]', 'basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth',
    'subjectAltName = IP:127.0.0.1,DNS:localhost', 'subjectKeyIdentifier = hash', '',
  ].join('\n'));
  const keyPath = joinPath(dir, `${kind}-key.pem`);
  const certPath = joinPath(dir, `${kind}.pem`);
  await opensslOk(kind === 'rsa'
    ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]
    : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath]);
  await opensslOk(['req', '-x509', '-new', '-key', keyPath, '-config', config, '-extensions', kind === 'not-ca' ? 'leaf' : 'ca',
    '-subj', `/O=Example Org/CN=Example Org ${kind} CA`, '-days', '30', '-out', certPath]);
  return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8'), certPath };
}

/** Waits for a join to fail; returns its error. */
async function refused(promise: Promise<Session>, what: string): Promise<LanError> {
  const outcome = await withTimeout(promise.then((s) => s, (error: LanError) => error), 10_000, what);
  if (!(outcome instanceof Error)) {
    await outcome.leave();
    assert.fail(`${what}: the join should have been refused`);
  }
  return outcome;
}

test('the relay\'s own CA is EC P-256 with critical CA:TRUE pathlen 0, keyCertSign and critical Name Constraints of exactly the private ranges and local names; its certificate verifies with openssl for 127.0.0.1 and localhost, is for serverAuth and expires within 397 days', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const { relay, addresses } = await tlsRelay(t, { dataDir, hostnames: ['meet.example'] });
  const caPath = joinPath(dataDir, 'ca', 'ca.pem');
  const leafPath = joinPath(dataDir, 'tls', 'cert.pem');
  assert.equal(addresses.ca?.path, caPath);
  assert.equal(relay.caCertificate, await readFile(caPath, 'utf8'), 'relay.caCertificate is the kept CA');
  assert.equal(await opensslFingerprint(caPath), addresses.fingerprint, 'the pinned fingerprint is the CA\'s, as openssl computes it');
  assert.equal(addresses.ca?.fingerprint, addresses.fingerprint);
  assert.equal(await opensslFingerprint(leafPath), addresses.certificateFingerprint);
  assert.equal(addresses.ca?.own, true);
  assert.equal(addresses.ca?.created, true);

  const ca = await opensslOk(['x509', '-in', caPath, '-noout', '-text']);
  assert.match(ca, /ASN1 OID: prime256v1/, 'an EC P-256 key');
  assert.match(ca, /Signature Algorithm: ecdsa-with-SHA256/);
  const issuer = /Issuer: (.+)/.exec(ca)?.[1];
  assert.equal(/Subject: (.+)/.exec(ca)?.[1], issuer, 'self-signed');
  const basic = extension(ca, 'Basic Constraints');
  assert.deepEqual(basic, { critical: true, lines: ['CA:TRUE, pathlen:0'] });
  const usage = extension(ca, 'Key Usage');
  assert.equal(usage?.critical, true);
  assert.ok(usage?.lines[0]?.split(', ').includes('Certificate Sign'), `keyCertSign: ${usage?.lines}`);
  assert.ok(!usage?.lines[0]?.includes('Digital Signature'), 'the CA key signs certificates only');
  const nc = extension(ca, 'Name Constraints');
  assert.ok(nc, 'the CA has Name Constraints');
  assert.equal(nc.critical, true, 'Name Constraints are critical');
  assert.equal(nc.lines[0], 'Permitted:');
  assert.ok(!nc.lines.includes('Excluded:'), 'no excluded subtrees');
  const permitted = nc.lines.slice(1);
  const host = bareHost();
  assert.deepEqual(permitted.filter((l) => l.startsWith('IP:')).sort(), [...PERMITTED_IPS].sort(), 'exactly the private, shared, loopback and link-local ranges');
  assert.deepEqual(permitted.filter((l) => l.startsWith('DNS:')).sort(),
    ['DNS:localhost', 'DNS:local', ...(host ? [`DNS:${host}`] : []), 'DNS:meet.example'].sort(), 'exactly localhost, .local, the host name and --hostname');
  assert.equal(permitted.filter((l) => !l.startsWith('IP:') && !l.startsWith('DNS:')).length, 0, `nothing else: ${permitted}`);
  const caDates = await validity(caPath);
  assert.ok(caDates.to - caDates.from >= 3649 * DAY && caDates.to - caDates.from <= 3652 * DAY, 'the CA lives 10 years');

  // The chain as openssl checks it: the CA alone trusted, the name and address and the purpose checked too.
  const verified = await openssl(['verify', '-CAfile', caPath, '-purpose', 'sslserver', '-verify_ip', '127.0.0.1', leafPath]);
  assert.equal(verified.code, 0, verified.out + verified.err);
  assert.match(verified.out, /cert\.pem: OK/);
  assert.equal((await openssl(['verify', '-CAfile', caPath, '-verify_hostname', 'localhost', leafPath])).code, 0, 'valid for localhost');
  const chainPath = await pemFile(dataDir, 'chain.pem', relay.certificate!);
  assert.equal(firstPem(relay.certificate!), firstPem(await readFile(leafPath, 'utf8')), 'relay.certificate starts with the server certificate');
  assert.ok(relay.certificate!.includes(relay.caCertificate!.trim()), 'and carries the CA after it');
  assert.equal((await openssl(['verify', '-CAfile', caPath, chainPath])).code, 0);

  const leaf = await opensslOk(['x509', '-in', leafPath, '-noout', '-text']);
  assert.equal(/Issuer: (.+)/.exec(leaf)?.[1], issuer, 'issued by the CA');
  assert.deepEqual(extension(leaf, 'Basic Constraints'), { critical: true, lines: ['CA:FALSE'] });
  assert.deepEqual(extension(leaf, 'Extended Key Usage')?.lines, ['TLS Web Server Authentication']);
  assert.deepEqual(extension(leaf, 'Key Usage')?.lines, ['Digital Signature']);
  const names = await sans(leafPath);
  for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'DNS:meet.example']) assert.ok(names.includes(name), `${name} in ${names}`);
  const leafDates = await validity(leafPath);
  // 396 days from now; the validity period as written (notBefore an hour back, for clocks slightly behind)
  // stays within the 397 days browsers accept, counted inclusively.
  assert.ok(leafDates.to - Date.now() <= 396 * DAY, `expires within 396 days (${((leafDates.to - Date.now()) / DAY).toFixed(2)})`);
  assert.ok(leafDates.to - Date.now() > 395 * DAY, 'and not much sooner');
  assert.ok(leafDates.to - leafDates.from < 397 * DAY, 'the whole validity period is under 397 days');
  assert.ok(leafDates.to - leafDates.from <= 398 * DAY, `a validity period of at most 398 days (${(leafDates.to - leafDates.from) / DAY})`);
  assert.ok(leafDates.from <= Date.now(), 'valid now');
});

test('the CA\'s constraints are enforced: a certificate it signs for example.com or 8.8.8.8 is refused by openssl verify and by Node\'s TLS; one for localhost is accepted', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const ca = await ownCa(dir);
  const caPath = joinPath(dir, 'ca', 'ca.pem');
  // As an organisation's CA, issueServerCertificate does not filter: the constraints alone must stop these.
  const unfiltered = { ...ca, own: false };
  const cases = [
    { label: 'example.com', names: { dns: ['example.com'], ips: [] }, servername: 'example.com', allowed: false },
    { label: '8.8.8.8', names: { dns: [], ips: ['8.8.8.8'] }, servername: undefined, allowed: false },
    { label: 'localhost and 8.8.8.8', names: { dns: ['localhost'], ips: ['8.8.8.8'] }, servername: 'localhost', allowed: false },
    { label: 'localhost', names: { dns: ['localhost'], ips: ['127.0.0.1'] }, servername: 'localhost', allowed: true },
  ];
  for (const c of cases) {
    const leaf = await issueServerCertificate(unfiltered, c.names);
    assert.deepEqual(leaf.leftOut, [], `${c.label}: nothing filtered`);
    const leafPath = await pemFile(dir, `${c.label.replace(/\W+/g, '-')}.pem`, leaf.cert);
    const verified = await openssl(['verify', '-CAfile', caPath, leafPath]);
    if (c.allowed) {
      assert.equal(verified.code, 0, `${c.label}: openssl accepts it\n${verified.out}${verified.err}`);
    } else {
      assert.notEqual(verified.code, 0, `${c.label}: openssl refuses it`);
      assert.match(verified.out + verified.err, /permitted subtree violation/, c.label);
    }

    const server = createTlsServer({ cert: leaf.chain, key: leaf.key }, (socket) => socket.end());
    t.after(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    const port = (server.address() as { port: number }).port;
    const outcome = await withTimeout(new Promise<{ ok: true } | { ok: false; error: NodeJS.ErrnoException }>((resolve) => {
      // The host name check is left to the chain here: only the CA's constraints decide.
      const socket = tlsConnect({ host: HOST, port, ca: ca.cert, ...(c.servername ? { servername: c.servername } : {}), checkServerIdentity: () => undefined }, () => {
        socket.destroy();
        resolve({ ok: true });
      });
      socket.on('error', (error) => resolve({ ok: false, error }));
    }), 5000, `a TLS client to a server for ${c.label}`);
    if (c.allowed) {
      assert.equal(outcome.ok, true, `${c.label}: Node accepts it`);
    } else {
      assert.equal(outcome.ok, false, `${c.label}: Node refuses it`);
      if (!outcome.ok) assert.match(outcome.error.message, /permitted subtree violation/, c.label);
    }
  }
  // And with Node's own host name check, as an https client does it.
  const leaf = await issueServerCertificate(unfiltered, { dns: ['example.com'], ips: [] });
  const server = createTlsServer({ cert: leaf.chain, key: leaf.key }, (socket) => socket.end());
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const error = await withTimeout(new Promise<Error | undefined>((resolve) => {
    const socket = tlsConnect({ host: HOST, port: (server.address() as { port: number }).port, servername: 'example.com', ca: ca.cert }, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on('error', resolve);
  }), 5000, 'a TLS client for example.com');
  assert.ok(error, 'a certificate for example.com from the relay\'s CA is refused');
  assert.match(error.message, /permitted subtree violation/);
});

test('with its own CA the relay leaves public addresses and names out of its certificate and reports them in leftOut', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const tls = await caIssuedTls(dataDir, HOST, {}, {
    dns: ['localhost', 'meet.local', 'example.com', 'intranet.corp'], ips: ['127.0.0.1', '192.168.1.20', '10.1.2.3', '8.8.8.8', '2001:db8::1', 'fd00::5'],
  });
  assert.deepEqual([...tls.leftOut!].sort(), ['2001:db8::1', '8.8.8.8', 'example.com', 'intranet.corp']);
  const leafPath = await pemFile(dataDir, 'leaf.pem', firstPem(tls.cert));
  const names = await sans(leafPath);
  assert.deepEqual([...names].sort(), [
    'DNS:localhost', 'DNS:meet.local', 'IP Address:10.1.2.3', 'IP Address:127.0.0.1', 'IP Address:192.168.1.20', 'IP Address:FD00:0:0:0:0:0:0:5',
  ].sort(), 'only the permitted names are in the certificate');
  assert.equal((await openssl(['verify', '-CAfile', joinPath(dataDir, 'ca', 'ca.pem'), leafPath])).code, 0, 'which verifies');

  // A relay reports the left-out names of this machine: its public addresses (and a host name with a public
  // domain), never a private one; a --hostname name given when the CA is made is covered.
  const { addresses, relay } = await tlsRelay(t, { hostnames: ['meet.example'] });
  const machine = Object.values(networkInterfaces()).flat().filter((a) => a && !a.internal && !(a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')));
  const expected = machine.map((a) => a!.address).filter((ip) => !isPrivateAddress(ip));
  const host = hostname();
  if (host.includes('.') && !host.toLowerCase().endsWith('.local')) expected.push(host);
  assert.deepEqual([...(addresses.leftOut ?? [])].sort(), [...new Set(expected)].sort(), `leftOut: this machine's public addresses and names (${machine.map((a) => a!.address)})`);
  const relayNames = await sans(await pemFile(dataDir, 'relay-leaf.pem', firstPem(relay.certificate!)));
  for (const out of addresses.leftOut ?? []) {
    assert.ok(!relayNames.some((n) => n.toLowerCase().endsWith(`:${out.toLowerCase()}`)), `${out} is not in the certificate`);
  }
  assert.ok(relayNames.includes('DNS:meet.example'), 'a --hostname name is permitted and covered');
});

test('the CA key is kept with mode 0600 in a 0700 folder (a loosened mode is set back at the next start); the CA certificate is 0644, the server key 0600', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const mode = async (path: string) => (await stat(path)).mode & 0o777;
  const first = await startRelay({ tls: 'on', dataDir });
  await first.relay.close();
  const keyPath = joinPath(dataDir, 'ca', 'ca-key.pem');
  assert.equal((await mode(joinPath(dataDir, 'ca'))).toString(8), '700');
  assert.equal((await mode(keyPath)).toString(8), '600');
  assert.equal((await mode(joinPath(dataDir, 'ca', 'ca.pem'))).toString(8), '644');
  assert.equal((await mode(joinPath(dataDir, 'tls'))).toString(8), '700');
  assert.equal((await mode(joinPath(dataDir, 'tls', 'key.pem'))).toString(8), '600');
  const keyBefore = await readFile(keyPath, 'utf8');

  await chmod(keyPath, 0o644);
  const second = await startRelay({ tls: 'on', dataDir });
  await second.relay.close();
  assert.equal((await mode(keyPath)).toString(8), '600', 'set back to 0600');
  assert.equal(await readFile(keyPath, 'utf8'), keyBefore, 'the same key');
  assert.equal(second.addresses.fingerprint, first.addresses.fingerprint, 'the same CA');
});

test('a restarted relay keeps its CA and, when nothing changed, its certificate', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const first = await startRelay({ tls: 'on', dataDir });
  await first.relay.close();
  const second = await startRelay({ tls: 'on', dataDir });
  t.after(() => second.relay.close());
  assert.equal(first.addresses.ca?.created, true);
  assert.equal(first.addresses.certificateCreated, true);
  assert.equal(second.addresses.ca?.created, false, 'the CA is loaded, not made');
  assert.equal(second.addresses.fingerprint, first.addresses.fingerprint);
  assert.equal(second.addresses.certificateCreated, false, 'the certificate is kept');
  assert.equal(second.addresses.certificateFingerprint, first.addresses.certificateFingerprint);
  const page = await httpsGetText(`https://${HOST}:${second.addresses.port}/.well-known/lanconf`, first.relay.caCertificate!);
  assert.equal(page.status, 200, 'a client that trusted the CA at the first start still connects');
});

test('a new address issues a new certificate from the same CA', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const names = { dns: ['localhost'], ips: ['127.0.0.1', '192.168.1.20'] };
  const before = await caIssuedTls(dataDir, HOST, {}, names);
  const same = await caIssuedTls(dataDir, HOST, {}, names);
  assert.equal(same.created, false, 'the same names: the certificate is kept');
  assert.equal(same.fingerprint, before.fingerprint);
  const moved = await caIssuedTls(dataDir, HOST, {}, { dns: ['localhost'], ips: ['127.0.0.1', '192.168.7.44'] });
  assert.equal(moved.created, true, 'a new address: a new certificate');
  assert.notEqual(moved.fingerprint, before.fingerprint);
  assert.equal(moved.ca!.fingerprint, before.ca!.fingerprint, 'from the same CA');
  assert.equal(moved.ca!.created, false);
  const leafPath = joinPath(dataDir, 'tls', 'cert.pem');
  assert.equal(await opensslFingerprint(leafPath), moved.fingerprint, 'the new certificate is kept');
  assert.ok((await sans(leafPath)).includes('IP Address:192.168.7.44'));
  const verified = await openssl(['verify', '-CAfile', joinPath(dataDir, 'ca', 'ca.pem'), '-verify_ip', '192.168.7.44', leafPath]);
  assert.equal(verified.code, 0, verified.out + verified.err);
});

test('a certificate expiring within 30 days is issued again at start; one with 97 days left is kept', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const ca = await ownCa(dataDir);
  const names = wantedNames(HOST);
  for (const [daysLeft, reissued] of [[97, false], [10, true]] as const) {
    // Issued in the past so that it ends `daysLeft` days from now, and covering everything the relay wants.
    const old = await issueServerCertificate(ca, names, Date.now() - (396 - daysLeft) * DAY);
    await caIssuedTls(dataDir, HOST); // makes dataDir/tls
    await writeFile(joinPath(dataDir, 'tls', 'cert.pem'), old.cert);
    await writeFile(joinPath(dataDir, 'tls', 'key.pem'), old.key);
    const oldDates = await validity(joinPath(dataDir, 'tls', 'cert.pem'));
    assert.ok(Math.abs(oldDates.to - (Date.now() + daysLeft * DAY)) < DAY, `the planted certificate ends in ${daysLeft} days`);
    const oldFingerprint = new X509Certificate(old.cert).fingerprint256;

    const { relay, addresses } = await startRelay({ tls: 'on', dataDir });
    await relay.close();
    assert.equal(addresses.fingerprint, ca.fingerprint, `${daysLeft} days left: the same CA`);
    assert.equal(addresses.certificateCreated, reissued, `${daysLeft} days left: ${reissued ? 'issued again' : 'kept'}`);
    assert.equal(addresses.certificateFingerprint === oldFingerprint, !reissued);
    const now = await validity(joinPath(dataDir, 'tls', 'cert.pem'));
    if (reissued) assert.ok(now.to - Date.now() > 395 * DAY, 'the new one lives 396 days');
    assert.equal((await openssl(['verify', '-CAfile', joinPath(dataDir, 'ca', 'ca.pem'), joinPath(dataDir, 'tls', 'cert.pem')])).code, 0);
  }
});

test('a certificate of another CA left in dataDir/tls is replaced by one from the relay\'s own CA', { timeout: 30_000 }, async (t) => {
  const ours = await tempDir(t);
  const theirs = await tempDir(t);
  const other = await startRelay({ tls: 'on', dataDir: theirs });
  await other.relay.close();
  const first = await startRelay({ tls: 'on', dataDir: ours });
  await first.relay.close();
  for (const file of ['cert.pem', 'key.pem']) await copyFile(joinPath(theirs, 'tls', file), joinPath(ours, 'tls', file));

  const { relay, addresses } = await tlsRelay(t, { dataDir: ours });
  assert.equal(addresses.fingerprint, first.addresses.fingerprint, 'our CA');
  assert.equal(addresses.certificateCreated, true, 'issued again');
  assert.notEqual(addresses.certificateFingerprint, other.addresses.certificateFingerprint, 'not the other CA\'s certificate');
  const leafPath = joinPath(ours, 'tls', 'cert.pem');
  assert.equal((await openssl(['verify', '-CAfile', joinPath(ours, 'ca', 'ca.pem'), leafPath])).code, 0, 'chains to our CA');
  assert.notEqual((await openssl(['verify', '-CAfile', joinPath(theirs, 'ca', 'ca.pem'), leafPath])).code, 0, 'not to theirs');
  const page = await httpsGetText(`https://${HOST}:${addresses.port}/.well-known/lanconf`, relay.caCertificate!);
  assert.equal(page.status, 200);
});

for (const kind of ['ec', 'rsa'] as const) {
  test(`an organisation's ${kind.toUpperCase()} CA made by openssl issues the relay's certificate: it chains to that CA, keeps public names and addresses, and addresses.ca.own is false`, { timeout: 30_000 }, async (t) => {
    const dir = await tempDir(t);
    const org = await opensslCa(dir, kind);
    const dataDir = joinPath(dir, 'data');
    const { relay, addresses } = await tlsRelay(t, { dataDir, tls: { caCert: org.cert, caKey: org.key } });
    assert.equal(addresses.ca?.own, false);
    assert.equal(addresses.ca?.created, false);
    assert.equal(addresses.ca?.name, `Example Org ${kind} CA`);
    assert.equal(addresses.fingerprint, await opensslFingerprint(org.certPath), 'the pinned fingerprint is the organisation CA\'s');
    assert.equal(addresses.leftOut, undefined, 'nothing is left out: an organisation\'s CA is not constrained by the relay');
    assert.equal(relay.caCertificate, org.cert);
    await assert.rejects(stat(joinPath(dataDir, 'ca')), { code: 'ENOENT' }, 'no own CA is made');
    const leafPath = await pemFile(dir, 'leaf.pem', firstPem(relay.certificate!));
    const verified = await openssl(['verify', '-CAfile', org.certPath, '-purpose', 'sslserver', '-verify_ip', '127.0.0.1', leafPath]);
    assert.equal(verified.code, 0, verified.out + verified.err);
    const leafText = await opensslOk(['x509', '-in', leafPath, '-noout', '-text']);
    assert.match(leafText, kind === 'rsa' ? /Signature Algorithm: sha256WithRSAEncryption/ : /Signature Algorithm: ecdsa-with-SHA256/);
    const want = wantedNames(HOST);
    const names = await sans(leafPath);
    for (const ip of want.ips.filter((a) => !a.includes(':'))) assert.ok(names.includes(`IP Address:${ip}`), `${ip} covered, public or not`);
    for (const dns of want.dns) assert.ok(names.includes(`DNS:${dns}`), `${dns} covered`);
    const page = await httpsGetText(`https://${HOST}:${addresses.port}/.well-known/lanconf`, org.cert);
    assert.equal(page.status, 200, 'a client trusting the organisation CA connects');
    const session = await join(`https://${HOST}:${addresses.port}`, 'Org', 'Ana', { tls: { fingerprint: addresses.fingerprint! } });
    await session.leave();

    // Names and addresses the relay's own CA would leave out are kept.
    const issued = await caIssuedTls(joinPath(dir, 'data2'), HOST, { caCert: org.cert, caKey: org.key }, { dns: ['example.com', 'localhost'], ips: ['8.8.8.8', '127.0.0.1'] });
    assert.deepEqual(issued.leftOut, []);
    const issuedNames = await sans(await pemFile(dir, 'issued.pem', firstPem(issued.cert)));
    assert.deepEqual([...issuedNames].sort(), ['DNS:example.com', 'DNS:localhost', 'IP Address:127.0.0.1', 'IP Address:8.8.8.8']);
  });
}

test('relay.listen() refuses an organisation certificate that is not a CA, or a CA key that is not its own, with a clear error', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const notCa = await opensslCa(dir, 'not-ca');
  const ec = await opensslCa(dir, 'ec');
  const rsa = await opensslCa(dir, 'rsa');
  const cases = [
    { label: 'not a CA', tls: { caCert: notCa.cert, caKey: notCa.key }, message: /cannot set up TLS: the --ca-cert certificate is not a CA certificate \(basicConstraints CA:TRUE is missing\)/ },
    { label: 'another EC key', tls: { caCert: ec.cert, caKey: notCa.key }, message: /cannot set up TLS: the --ca-key is not the key of the --ca-cert certificate/ },
    { label: 'an RSA key for an EC CA', tls: { caCert: ec.cert, caKey: rsa.key }, message: /cannot set up TLS: the --ca-key is not the key of the --ca-cert certificate/ },
  ];
  for (const c of cases) {
    const dataDir = await mkdtemp(joinPath(dir, 'data-'));
    const relay = new Relay({ host: HOST, port: 0, tcpPort: 0, udpPort: 0, dataDir, tls: c.tls });
    t.after(() => relay.close());
    await assert.rejects(withTimeout(relay.listen(), 10_000, `listen with ${c.label}`), c.message, c.label);
    assert.equal(relay.addresses, undefined, `${c.label}: not listening`);
    assert.deepEqual(await readdir(dataDir).then((f) => f.filter((n) => n === 'ca' || n === 'tls')), [], `${c.label}: nothing issued`);
  }
});

test('a relay with a ready certificate ({ cert, key }) has no CA: addresses.ca is undefined, its fingerprint is the certificate\'s, there is no trust page, and plain HTTP on its port is sent to https', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const ready = await opensslCa(dir, 'not-ca'); // a self-signed server certificate for 127.0.0.1 and localhost
  const dataDir = joinPath(dir, 'data');
  const { relay, addresses } = await tlsRelay(t, { dataDir, tls: { cert: ready.cert, key: ready.key } });
  assert.equal(addresses.tls, true);
  assert.equal(addresses.ca, undefined);
  assert.equal(addresses.trustUrls, undefined);
  assert.equal(addresses.leftOut, undefined);
  assert.equal(relay.caCertificate, undefined);
  const fingerprint = await opensslFingerprint(ready.certPath);
  assert.equal(addresses.fingerprint, fingerprint, 'the fingerprint to pin is the certificate\'s own');
  assert.equal(addresses.certificateFingerprint, fingerprint);
  await assert.rejects(stat(joinPath(dataDir, 'ca')), { code: 'ENOENT' }, 'no CA is made');

  const root = await plainGet(addresses.port, '/');
  assert.equal(root.status, 303);
  assert.equal(root.headers.get('location'), '/trust');
  const trust = await plainGet(addresses.port, '/trust');
  assert.equal(trust.status, 308, 'no CA to trust: plain HTTP goes to HTTPS');
  assert.equal(trust.headers.get('location'), `https://${HOST}:${addresses.port}/`);
  for (const path of ['/trust/ca.pem', '/trust/lanconf.mobileconfig']) {
    assert.equal((await plainGet(addresses.port, path)).status, 308, `${path} over plain HTTP`);
    assert.equal((await httpsGetText(`https://${HOST}:${addresses.port}${path}`, ready.cert)).status, 404, `${path} over HTTPS: nothing to download`);
  }
  assert.equal((await httpsGetText(`https://${HOST}:${addresses.port}/.well-known/lanconf`, ready.cert)).status, 200);
});

test('the certificate\'s own fingerprint pins a relay started with { cert, key }, over WSS and TLS + UDP', { timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const ready = await opensslCa(dir, 'not-ca');
  const { relay, addresses } = await tlsRelay(t, { tls: { cert: ready.cert, key: ready.key } });
  const fingerprint = await opensslFingerprint(ready.certPath);
  const https = `https://${HOST}:${addresses.port}`;
  const sessions: Session[] = [];
  t.after(() => leaveAll(sessions));
  sessions.push(await join(https, 'Ready', 'Ana', { tls: { fingerprint } }));
  sessions.push(await join(https, 'Ready', 'Cy', { transport: 'native', tls: { fingerprint } }));
  await until(() => sessions.every((s) => s.participants.size === 1), 'both joined and see each other');
  assert.equal(relay.rooms.get('Ready')?.participants.size, 2);
});

test('a pinned CA fingerprint keeps joining over WSS and TLS + UDP after the relay restarts with a certificate issued again for new names', { timeout: 30_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const sessions: Session[] = [];
  t.after(() => leaveAll(sessions));
  const first = await startRelay({ tls: 'on', dataDir });
  const pin = first.addresses.fingerprint!;
  const https1 = `https://${HOST}:${first.addresses.port}`;
  sessions.push(await join(https1, 'Pinned', 'Ana', { tls: { fingerprint: pin } }));
  await leaveAll(sessions.splice(0));
  await first.relay.close();

  // meet.local is within the CA's constraints (every .local name), so the new certificate covers it.
  const second = await tlsRelay(t, { dataDir, hostnames: ['meet.local'] });
  assert.equal(second.addresses.certificateCreated, true, 'issued again for the new name');
  assert.notEqual(second.addresses.certificateFingerprint, first.addresses.certificateFingerprint);
  assert.equal(second.addresses.fingerprint, pin, 'the same CA');
  assert.ok((await sans(joinPath(dataDir, 'tls', 'cert.pem'))).includes('DNS:meet.local'));
  const https2 = `https://${HOST}:${second.addresses.port}`;
  sessions.push(await join(https2, 'Pinned', 'Ana', { tls: { fingerprint: pin } }));
  sessions.push(await join(https2, 'Pinned', 'Cy', { transport: 'native', tls: { fingerprint: pin } }));
  await until(() => sessions.every((s) => s.participants.size === 1), 'both joined and see each other');
  // The old certificate's own fingerprint no longer matches anything the relay shows.
  const stale = await refused(join(https2, 'Pinned', 'Eve', { tls: { fingerprint: first.addresses.certificateFingerprint! } }), 'a pin of the replaced certificate');
  assert.match(stale.message, /not the pinned/);
});

test('a pinned CA fingerprint refuses a server that sends that CA in its chain with a certificate another key signed, over WSS and TLS + UDP, and no join reaches it', { timeout: 40_000 }, async (t) => {
  const victimDir = await tempDir(t);
  const victim = await tlsRelay(t, { dataDir: victimDir });
  const pin = victim.addresses.fingerprint!;
  const victimCa = victim.relay.caCertificate!;

  // 1. A second CA (another data dir) issues a certificate for the same names; the impostor sends it with the victim's CA.
  const otherDir = await tempDir(t);
  const otherCa = await ownCa(otherDir);
  const otherLeaf = await issueServerCertificate(otherCa, { dns: ['localhost'], ips: [HOST] });
  // 2. A certificate naming the victim's CA as its issuer (same name, no key identifier), signed by another key.
  const forgeDir = await tempDir(t);
  const subject = (await opensslOk(['x509', '-in', await pemFile(forgeDir, 'victim-ca.pem', victimCa), '-noout', '-subject', '-nameopt', 'compat'])).trim().replace(/^subject=/, '');
  await pemFile(forgeDir, 'forge.cnf', [
    '[req]', 'distinguished_name = dn', '[dn]',
    '[ca]', 'basicConstraints = critical,CA:TRUE,pathlen:0', 'keyUsage = critical,keyCertSign',
    '[leaf]', 'basicConstraints = critical,CA:FALSE', 'extendedKeyUsage = serverAuth', 'subjectAltName = IP:127.0.0.1,DNS:localhost',
    'subjectKeyIdentifier = none', 'authorityKeyIdentifier = none', '',
  ].join('\n'));
  for (const args of [
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'fake-ca-key.pem'],
    ['req', '-x509', '-new', '-key', 'fake-ca-key.pem', '-subj', subject, '-config', 'forge.cnf', '-extensions', 'ca', '-days', '30', '-out', 'fake-ca.pem'],
    ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'leaf-key.pem'],
    ['req', '-new', '-key', 'leaf-key.pem', '-subj', '/CN=lanconf relay/O=lanconf', '-config', 'forge.cnf', '-out', 'leaf.csr'],
    ['x509', '-req', '-in', 'leaf.csr', '-CA', 'fake-ca.pem', '-CAkey', 'fake-ca-key.pem', '-set_serial', '7', '-days', '30', '-extfile', 'forge.cnf', '-extensions', 'leaf', '-out', 'leaf.pem'],
  ]) await opensslOk(args, forgeDir);
  const forged = await openssl(['verify', '-CAfile', joinPath(forgeDir, 'victim-ca.pem'), joinPath(forgeDir, 'leaf.pem')]);
  assert.match(forged.out + forged.err, /certificate signature failure/, 'openssl: names the victim CA as issuer, but its signature is another key\'s');

  const impostors = [
    // Its key identifier names the other CA: the chain shown is that certificate alone.
    { label: 'a certificate of another CA', cert: otherLeaf.cert + victimCa, key: otherLeaf.key, says: new RegExp(`has the fingerprint [0-9A-F:]{95}, not the pinned ${pin}`) },
    // The victim CA follows as its issuer: only the signature check stops it.
    { label: 'a forged issuer name', cert: (await readFile(joinPath(forgeDir, 'leaf.pem'), 'utf8')) + victimCa, key: await readFile(joinPath(forgeDir, 'leaf-key.pem'), 'utf8'),
      says: new RegExp(`is not signed by the pinned certificate authority ${pin}`) },
  ];
  for (const impostor of impostors) {
    const fake = await tlsRelay(t, { tls: { cert: impostor.cert, key: impostor.key } });
    const joined: string[] = [];
    fake.relay.on('participantJoined', (_meeting, _id, name) => joined.push(name));
    const https = `https://${HOST}:${fake.addresses.port}`;
    for (const transport of ['websocket', 'native'] as const) {
      const error = await refused(join(https, 'Pinned', 'Ana', { transport, tls: { fingerprint: pin } }), `${impostor.label} over ${transport}`);
      assert.equal(error.code, 'LAN_ERR_UNREACHABLE', `${impostor.label} over ${transport}: ${error.message}`);
      assert.match(error.message, impostor.says, `${impostor.label} over ${transport}: says why`);
    }
    // The native transport stops at the HTTPS discovery above; its TCP port gets the same check.
    const tcpError = await withTimeout(new Promise<Error | undefined>((resolve, reject) => {
      const socket = tlsConnect({ host: HOST, port: fake.addresses.tcpPort, ...tlsConnectOptions({ fingerprint: pin }) }, () => {
        const mismatch = pinMismatch(socket, { fingerprint: pin }, HOST);
        socket.destroy();
        resolve(mismatch);
      });
      socket.on('error', reject);
    }), 5000, `${impostor.label}: TLS to the TCP port`);
    assert.match(String(tcpError?.message), impostor.says, `${impostor.label}: refused on the native TCP port`);
    assert.deepEqual(joined, [], `${impostor.label}: no join reached the impostor`);
    assert.equal(fake.relay.rooms.size, 0);
  }

  // The same pin joins the real relay.
  const session = await join(`https://${HOST}:${victim.addresses.port}`, 'Pinned', 'Ana', { tls: { fingerprint: pin } });
  await session.leave();
});

/** Runs `lanconf-relay ca …` to its end; returns its output. */
async function caCommand(t: TestContext, args: string[], env: Record<string, string> = {}): Promise<{ code: number | string; out: string; err: string }> {
  const cli = runCli(t, ['ca', ...args], env);
  const code = await withTimeout(cli.exited, 20_000, `lanconf-relay ca ${args.join(' ')}`);
  return { code, out: cli.out(), err: cli.err() };
}

const RANGES_LINE = 'vouches for   10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, ::1/128, fc00::/7, fe80::/10';

test('lanconf-relay ca makes or shows the CA: where it is kept, its fingerprint, the ranges and names it vouches for', { timeout: 40_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const made = await caCommand(t, ['--data-dir', dataDir]);
  assert.equal(made.code, 0, made.err);
  const caPath = joinPath(dataDir, 'ca', 'ca.pem');
  const fingerprint = await opensslFingerprint(caPath);
  assert.match(made.out, /^A new certificate authority: lanconf relay CA/m);
  assert.ok(made.out.includes(`kept in       ${caPath} (its key beside it`), made.out);
  assert.ok(made.out.includes(`SHA-256       ${fingerprint}\n`), 'the fingerprint, as openssl computes it');
  assert.ok(made.out.includes(RANGES_LINE), made.out);
  const host = bareHost();
  assert.ok(made.out.includes(`${RANGES_LINE}\n                localhost, *.local${host ? `, ${host}` : ''}\n`), 'and the names');
  assert.doesNotMatch(made.out + made.err, /PRIVATE KEY/, 'the key is never printed');

  const shown = await caCommand(t, ['--data-dir', dataDir]);
  assert.equal(shown.code, 0);
  assert.match(shown.out, /^Certificate authority: lanconf relay CA/m, 'the second time it is shown, not made');
  assert.ok(shown.out.includes(`SHA-256       ${fingerprint}\n`), 'the same CA');

  // A relay started on that data dir uses it.
  const { addresses } = await tlsRelay(t, { dataDir });
  assert.equal(addresses.fingerprint, fingerprint);
});

test('lanconf-relay ca --hostname with a name the CA does not cover says a new CA is needed and prints the --renew command with every name', { timeout: 40_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const fingerprint = (await ownCa(dataDir, ['meet.example'])).fingerprint; // as `ca --hostname meet.example` makes it
  const covered = await caCommand(t, ['--data-dir', dataDir, '--hostname', 'meet.example', '--hostname', 'room.meet.example', '--hostname', 'x.local']);
  assert.equal(covered.code, 0);
  assert.doesNotMatch(covered.out, /Not covered/, 'names below a permitted one are covered');

  const shown = await caCommand(t, ['--data-dir', dataDir, '--hostname', 'extra.example']);
  assert.equal(shown.code, 0, shown.err);
  assert.match(shown.out, /Not covered: extra\.example\. An authority's names are fixed when it is made; to add them, make a new one/);
  assert.match(shown.out, /\(every machine must then trust it again\): lanconf-relay ca --renew .*--hostname meet\.example --hostname extra\.example\n/,
    'the command keeps the names the CA has and adds the missing one');
  assert.equal(await opensslFingerprint(joinPath(dataDir, 'ca', 'ca.pem')), fingerprint, 'showing changes nothing');
});

test('the --renew command lanconf-relay ca prints, run as printed, renews the CA of the data dir it was shown for', { timeout: 40_000 }, async (t) => {
  const dataDir = await tempDir(t);
  const elsewhere = await tempDir(t); // the default data dir of whoever runs the printed command
  const fingerprint = (await ownCa(dataDir)).fingerprint;
  const shown = await caCommand(t, ['--data-dir', dataDir, '--hostname', 'extra.example'], { LANCONF_DATA_DIR: elsewhere });
  const printed = /\(every machine must then trust it again\): lanconf-relay ca (--renew[^\n]*)/.exec(shown.out)?.[1];
  assert.ok(printed, shown.out);
  const renewed = await caCommand(t, printed.trim().split(/\s+/), { LANCONF_DATA_DIR: elsewhere });
  assert.equal(renewed.code, 0, renewed.err);
  assert.notEqual(await opensslFingerprint(joinPath(dataDir, 'ca', 'ca.pem')), fingerprint,
    `"lanconf-relay ca ${printed}" renews the CA in ${dataDir}, the one it was printed for`);
  await assert.rejects(stat(joinPath(elsewhere, 'ca')), { code: 'ENOENT' }, 'and makes no CA in another data dir');
});

test('lanconf-relay ca --renew moves the old CA aside, with its key, and makes a new one with a new fingerprint', { timeout: 40_000 }, async (t) => {
  const dataDir = await tempDir(t);
  await ownCa(dataDir);
  const old = await opensslFingerprint(joinPath(dataDir, 'ca', 'ca.pem'));
  const renewed = await caCommand(t, ['--data-dir', dataDir, '--renew', '--hostname', 'extra.example']);
  assert.equal(renewed.code, 0, renewed.err);
  const aside = /The previous authority is kept in (\S+) \(remove it from the machines that trusted it\)\./.exec(renewed.out)?.[1];
  assert.ok(aside, renewed.out);
  assert.ok(aside.startsWith(joinPath(dataDir, 'ca.replaced-')), aside);
  assert.equal(await opensslFingerprint(joinPath(aside, 'ca.pem')), old, 'the old CA is kept aside');
  assert.equal((await stat(joinPath(aside, 'ca-key.pem'))).mode & 0o777, 0o600, 'with its key, still private');
  const fresh = await opensslFingerprint(joinPath(dataDir, 'ca', 'ca.pem'));
  assert.notEqual(fresh, old, 'a new fingerprint');
  assert.match(renewed.out, /^A new certificate authority: /m);
  assert.ok(renewed.out.includes(`SHA-256       ${fresh}\n`));
  assert.match(renewed.out, /Restart the relay: it issues its certificate from the new authority at start\./);
  const nc = extension(await opensslOk(['x509', '-in', joinPath(dataDir, 'ca', 'ca.pem'), '-noout', '-text']), 'Name Constraints');
  assert.ok(nc?.lines.includes('DNS:extra.example'), 'the new CA permits the --hostname name');

  // A relay on the data dir now uses the new CA, and re-issues its certificate from it.
  const { addresses } = await tlsRelay(t, { dataDir, hostnames: ['extra.example'] });
  assert.equal(addresses.fingerprint, fresh);
  assert.ok((await sans(joinPath(dataDir, 'tls', 'cert.pem'))).includes('DNS:extra.example'));
});
