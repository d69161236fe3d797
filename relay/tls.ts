/**
 * TLS for the relay: a self-signed certificate for this machine's names, made once and kept in the
 * data dir (made again only when the machine's addresses change), or the admin's own.
 * @module
 * @internal
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import selfsigned from 'selfsigned';
import { certificateNames } from './network.js';

/** A certificate and key in PEM, with its SHA-256 fingerprint. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, `AA:BB:…`. */
  fingerprint: string;
  /** `true` when made by lanconf (browsers will ask the user to accept it once). */
  selfSigned: boolean;
}

function fingerprintOf(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}

function covers(cert: string, names: { dns: string[]; ips: string[] }): boolean {
  const x = new X509Certificate(cert);
  if (new Date(x.validTo).getTime() < Date.now() + 7 * 86400_000) return false;
  const have = new Set((x.subjectAltName ?? '').split(/,\s*/).map((s) => s.replace(/^(DNS|IP Address):/, '').toLowerCase()));
  // IPv6 addresses come and go (privacy extensions) and print in varying forms: only names and IPv4 decide.
  return names.dns.every((d) => have.has(d.toLowerCase())) && names.ips.filter((ip) => !ip.includes(':')).every((ip) => have.has(ip));
}

/** Loads the admin's certificate and key. */
export async function loadTls(certPath: string, keyPath: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { cert, key, fingerprint: fingerprintOf(cert), selfSigned: false };
}

/**
 * Returns the self-signed certificate kept in `dataDir/tls/`, making it when missing, expiring or
 * not covering this machine's current names and addresses.
 */
export async function selfSignedTls(dataDir: string, bindHost: string): Promise<TlsMaterial & { created: boolean }> {
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const names = certificateNames(bindHost);
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    if (covers(cert, names)) return { cert, key, fingerprint: fingerprintOf(cert), selfSigned: true, created: false };
  } catch {
    // none yet: make one
  }
  const notBefore = new Date(Date.now() - 86400_000);
  const notAfter = new Date(Date.now() + 825 * 86400_000); // the longest validity browsers accept
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'lanconf relay' }, { name: 'organizationName', value: 'lanconf' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate: notBefore, notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [
        ...names.dns.map((value) => ({ type: 2 as const, value })),
        ...names.ips.map((ip) => ({ type: 7 as const, ip })),
      ] },
    ],
  });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert, { mode: 0o644 });
  return { cert: pems.cert, key: pems.private, fingerprint: fingerprintOf(pems.cert), selfSigned: true, created: true };
}
