/**
 * The relay's own certificate authority: made once in the data dir, name-constrained to private
 * addresses and local names, and the issuer of the relay's server certificate. People trust the CA once
 * (the trust page, or an admin's GPO/MDM push); the server certificate it issues can then change — a new
 * address, a renewal — without anyone being asked again.
 *
 * The CA carries critical nameConstraints: a copy of its key can vouch for private, shared and link-local
 * addresses, `localhost`, `.local` names, this machine's host name and the names given at its creation,
 * never for a public site. It could still impersonate intranet servers on those addresses and names, so
 * its key stays in the data dir with mode 0600, is never served and never logged.
 * @module
 * @internal
 */
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** Address ranges the relay's CA may vouch for: private, shared (CGNAT), loopback and link-local. */
export const PERMITTED_RANGES: readonly string[] = [
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16',
  '::1/128', 'fc00::/7', 'fe80::/10',
];

/** A CA the relay issues its server certificate from. */
export interface CaMaterial {
  /** The CA certificate (PEM). */
  cert: string;
  /** Its private key (PEM). Never served, never logged. */
  key: string;
  /** SHA-256 fingerprint of the CA certificate, `AA:BB:…`. */
  fingerprint: string;
  /** The CA's common name, as certificate stores show it. */
  name: string;
  /** `true` for the relay's own name-constrained CA, `false` for an organisation's (`--ca-cert/--ca-key`). */
  own: boolean;
  /** DNS names the CA may vouch for (its own CA only; empty for an organisation's). */
  permittedNames: string[];
  /** `true` when the CA was made now (first start with TLS). */
  created: boolean;
  /** Where the CA certificate is kept. */
  certPath: string;
}

/** A server certificate issued from a CA. */
export interface IssuedCertificate {
  /** The server certificate followed by the CA certificate (PEM): what the relay sends, so clients can pin the CA. */
  chain: string;
  /** The server certificate alone (PEM). */
  cert: string;
  key: string;
  /** Names and addresses the certificate covers. */
  names: { dns: string[]; ips: string[] };
  /** Names or addresses of this machine left out: outside the CA's constraints. */
  leftOut: string[];
  /** `true` when issued now. */
  issued: boolean;
}

const ECDSA = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86400_000;
/** The CA lives 10 years. */
const CA_DAYS = 3650;
/**
 * The server certificate lives 396 days from when it is issued (plus the hour it is backdated for clocks a
 * little behind): within the 397 days browsers accept, counted inclusively.
 */
export const LEAF_DAYS = 396;
/** A server certificate with less than this left is issued again. */
const RENEW_BEFORE_DAYS = 30;

/** This machine's host name without its domain, lower case; `undefined` when it is no valid DNS label. */
export function bareHostname(name = osHostname()): string | undefined {
  const label = name.split('.')[0]!.toLowerCase();
  return /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label) ? label : undefined;
}

/** Checks a name given with `--hostname`: a DNS name of valid labels, no wildcard. */
export function validHostname(name: string): boolean {
  return name.length <= 253 && name.split('.').every((label) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(label));
}

function toPem(der: ArrayBuffer | Uint8Array, label: string): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END ${label}-----\n`;
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0]! &= 0x7f; // a positive INTEGER
  return bytes.toString('hex');
}

/** The DNS names a new CA of this machine permits: `localhost`, `local` (every `.local` name), the host name, `extra`. */
export function permittedNamesFor(extra: readonly string[] = [], host = bareHostname()): string[] {
  return [...new Set(['localhost', 'local', ...(host ? [host] : []), ...extra.map((n) => n.toLowerCase())])];
}

/** Makes a new name-constrained CA. */
export async function createCa(permittedNames: readonly string[], now = Date.now()): Promise<{ cert: string; key: string }> {
  const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']) as CryptoKeyPair;
  const subtrees = [
    ...PERMITTED_RANGES.map((range) => new GeneralSubtree({ base: new GeneralName({ iPAddress: range }) })),
    ...permittedNames.map((name) => new GeneralSubtree({ base: new GeneralName({ dNSName: name }) })),
  ];
  const constraints = new NameConstraints({ permittedSubtrees: new GeneralSubtrees(subtrees) });
  const host = bareHostname() ?? 'relay';
  const stamp = new Date(now).toISOString().slice(0, 10);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=lanconf relay CA (${host} ${stamp}), O=lanconf`,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + CA_DAYS * DAY),
    keys,
    signingAlgorithm: ECDSA,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(constraints)),
    ],
  });
  const key = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: cert.toString('pem'), key: toPem(key, 'PRIVATE KEY') };
}

/** The DNS names a CA permits (its nameConstraints), or `undefined` when it has none. */
export function caPermittedNames(certPem: string): string[] | undefined {
  const cert = new x509.X509Certificate(certPem);
  const ext = cert.getExtension(id_ce_nameConstraints);
  if (!ext) return undefined;
  const parsed = AsnConvert.parse(ext.value, NameConstraints);
  return (parsed.permittedSubtrees ?? []).map((s) => s.base.dNSName).filter((n): n is string => typeof n === 'string');
}

/** `true` when `address` is in the ranges the relay's CA may vouch for. */
export function isPermittedAddress(address: string): boolean {
  return permittedAddresses().check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}

let blockList: BlockList | undefined;
function permittedAddresses(): BlockList {
  if (!blockList) {
    blockList = new BlockList();
    for (const range of PERMITTED_RANGES) {
      const [net, bits] = range.split('/') as [string, string];
      blockList.addSubnet(net, Number(bits), isIPv4(net) ? 'ipv4' : 'ipv6');
    }
  }
  return blockList;
}

/** `true` when `name` is one of `permitted` or below one of them (RFC 5280 dNSName constraints). */
export function isPermittedName(name: string, permitted: readonly string[]): boolean {
  const n = name.toLowerCase();
  return permitted.some((p) => n === p || n.endsWith(`.${p}`));
}

/**
 * Returns the relay's own CA kept in `dataDir/ca/`, making it when there is none. `hostnames` (given with
 * `--hostname`) are permitted only in a CA made now: a CA's constraints never change.
 */
export async function ownCa(dataDir: string, hostnames: readonly string[] = []): Promise<CaMaterial> {
  const dir = join(dataDir, 'ca');
  const certPath = join(dir, 'ca.pem');
  const keyPath = join(dir, 'ca-key.pem');
  let created = false;
  let cert: string;
  let key: string;
  try {
    [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    new X509Certificate(cert);
    createPrivateKey(key);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`the CA in ${dir} cannot be read (${(error as Error).message}); move that folder away to make a new one (everyone then trusts the new CA again)`);
    }
    ({ cert, key } = await createCa(permittedNamesFor(hostnames)));
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(keyPath, key, { mode: 0o600 });
    await writeFile(certPath, cert, { mode: 0o644 });
    created = true;
  }
  // The key is the CA's whole power: keep it private even if someone loosened the mode.
  await chmod(keyPath, 0o600);
  return describeCa(cert, key, { own: true, created, certPath });
}

/** Moves the current CA of `dataDir` aside (`ca.replaced-<time>`), so the next start makes a new one. */
export async function retireCa(dataDir: string): Promise<string> {
  const dir = join(dataDir, 'ca');
  const aside = `${dir}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(dir, aside);
  return aside;
}

/** An organisation's CA given as PEM (`--ca-cert/--ca-key`); `certPath` is where its certificate came from. */
export function organisationCa(cert: string, key: string, certPath = ''): CaMaterial {
  const x = new X509Certificate(cert);
  if (!x.ca) throw new Error('the --ca-cert certificate is not a CA certificate (basicConstraints CA:TRUE is missing)');
  if (!x.checkPrivateKey(createPrivateKey(key))) throw new Error('the --ca-key is not the key of the --ca-cert certificate');
  return describeCa(cert, key, { own: false, created: false, certPath });
}

function describeCa(cert: string, key: string, extra: { own: boolean; created: boolean; certPath: string }): CaMaterial {
  const x = new X509Certificate(cert);
  const cn = /CN=([^\n,]+)/.exec(x.subject)?.[1] ?? x.subject;
  return { cert, key, fingerprint: x.fingerprint256, name: cn, permittedNames: caPermittedNames(cert) ?? [], ...extra };
}

/** The algorithm to sign with a CA key, from the key itself (EC P-256/384 or RSA). */
async function signingKey(pem: string): Promise<{ key: CryptoKey; algorithm: EcdsaParams & { namedCurve?: string } | RsaHashedImportParams }> {
  const node = createPrivateKey(pem);
  const der = node.export({ type: 'pkcs8', format: 'der' });
  if (node.asymmetricKeyType === 'ec') {
    const curve = node.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 'P-384' : 'P-256';
    const algorithm = { name: 'ECDSA', namedCurve: curve, hash: curve === 'P-384' ? 'SHA-384' : 'SHA-256' };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']), algorithm };
  }
  if (node.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']), algorithm };
  }
  throw new Error(`a CA key of type ${node.asymmetricKeyType} cannot sign here (EC or RSA only)`);
}

/**
 * Issues a server certificate from `ca` for `names` (each name or address the CA does not permit is left
 * out and reported), valid {@link LEAF_DAYS} days.
 */
export async function issueServerCertificate(ca: CaMaterial, names: { dns: string[]; ips: string[] }, now = Date.now()): Promise<IssuedCertificate> {
  const { dns, ips, leftOut } = withinConstraints(ca, names);
  const caCert = new x509.X509Certificate(ca.cert);
  const signer = await signingKey(ca.key);
  const keys = await webcrypto.subtle.generateKey(ECDSA, true, ['sign', 'verify']) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=lanconf relay, O=lanconf',
    issuer: caCert.subject,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + LEAF_DAYS * DAY),
    publicKey: keys.publicKey,
    signingKey: signer.key,
    signingAlgorithm: signer.algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: 'dns' as const, value })),
        ...ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const key = toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  const pem = cert.toString('pem') + '\n';
  return { cert: pem, chain: pem + ca.cert, key, names: { dns, ips }, leftOut, issued: true };
}

/** Splits `names` into those `ca` may vouch for and those it may not (an organisation's CA: all may). */
export function withinConstraints(ca: CaMaterial, names: { dns: string[]; ips: string[] }): { dns: string[]; ips: string[]; leftOut: string[] } {
  const leftOut: string[] = [];
  const dns = ca.own ? names.dns.filter((n) => isPermittedName(n, ca.permittedNames) || !leftOut.push(n)) : [...names.dns];
  const ips = ca.own ? names.ips.filter((ip) => isPermittedAddress(ip) || !leftOut.push(ip)) : [...names.ips];
  return { dns, ips, leftOut };
}

/**
 * `true` when the server certificate `cert` was issued by `ca`, is valid for another {@link RENEW_BEFORE_DAYS}
 * days, and covers every one of `names` (IPv6 addresses come and go with privacy extensions: only names and
 * IPv4 addresses decide).
 */
export function stillGood(cert: string, ca: CaMaterial, names: { dns: string[]; ips: string[] }, now = Date.now()): boolean {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch {
    return false;
  }
  const caX = new X509Certificate(ca.cert);
  if (!x.checkIssued(caX) || !x.verify(caX.publicKey)) return false;
  if (new Date(x.validTo).getTime() < now + RENEW_BEFORE_DAYS * DAY) return false;
  const have = new Set((x.subjectAltName ?? '').split(/,\s*/).map((s) => s.replace(/^(DNS|IP Address):/, '').toLowerCase()));
  return names.dns.every((d) => have.has(d.toLowerCase())) && names.ips.filter((ip) => !isIPv6(ip)).every((ip) => have.has(ip));
}
