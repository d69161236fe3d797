/**
 * TLS for the relay: a server certificate issued from the relay's own name-constrained CA (or an
 * organisation's CA), kept in the data dir and issued again by itself when it nears expiry or when the
 * machine's addresses change; or the admin's own ready certificate.
 * @module
 * @internal
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { issueServerCertificate, organisationCa, ownCa, stillGood, withinConstraints, type CaMaterial } from './ca.js';
import { certificateNames } from './network.js';

/** A certificate and key in PEM, with its SHA-256 fingerprint. */
export interface TlsMaterial {
  /** What the server sends: its certificate, then the CA's when it has one. */
  cert: string;
  key: string;
  /** SHA-256 fingerprint of the server certificate, `AA:BB:…`. */
  fingerprint: string;
  /** `true` when made by lanconf (from its own CA). */
  selfSigned: boolean;
  /** The CA the certificate was issued from; absent for the admin's own ready certificate. */
  ca?: CaMaterial;
  /** Names and addresses of this machine the certificate leaves out (outside the CA's constraints). */
  leftOut?: string[];
  /** `true` when the server certificate was issued now. */
  created?: boolean;
}

/** Where the TLS material comes from: the relay's own CA (default) or an organisation's. */
export interface CaSource {
  /** An organisation's CA certificate and key (PEM) to issue the server certificate from, instead of the relay's own. */
  caCert?: string;
  caKey?: string;
  /** Extra DNS names the relay's own CA permits and its certificate covers; used when the CA is made. */
  hostnames?: string[];
}

function fingerprintOf(cert: string): string {
  return new X509Certificate(cert).fingerprint256;
}

/** Loads the admin's certificate and key. */
export async function loadTls(certPath: string, keyPath: string): Promise<TlsMaterial> {
  const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return { cert, key, fingerprint: fingerprintOf(cert), selfSigned: false };
}

/** The names a server certificate of this machine covers: its addresses and names, plus `hostnames`. */
export function wantedNames(bindHost: string, hostnames: readonly string[] = []): { dns: string[]; ips: string[] } {
  const names = certificateNames(bindHost);
  return { dns: [...new Set([...names.dns, ...hostnames.map((n) => n.toLowerCase())])], ips: names.ips };
}

/**
 * Returns the server certificate kept in `dataDir/tls/`, issuing it from the CA (the relay's own, made on
 * first use, or the organisation's in `source`) when missing, nearing expiry, issued by another CA, or not
 * covering `names` (default: this machine's current names and addresses).
 */
export async function caIssuedTls(dataDir: string, bindHost: string, source: CaSource = {}, names = wantedNames(bindHost, source.hostnames)): Promise<TlsMaterial> {
  const ca = source.caCert && source.caKey ? organisationCa(source.caCert, source.caKey) : await ownCa(dataDir, source.hostnames);
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  const wanted = withinConstraints(ca, names);
  try {
    const [cert, key] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    if (stillGood(cert, ca, wanted)) {
      return { cert: cert + ca.cert, key, fingerprint: fingerprintOf(cert), selfSigned: ca.own, ca, leftOut: wanted.leftOut, created: false };
    }
  } catch {
    // none yet: issue one
  }
  const issued = await issueServerCertificate(ca, names);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, issued.key, { mode: 0o600 });
  await writeFile(certPath, issued.cert, { mode: 0o644 });
  return { cert: issued.chain, key: issued.key, fingerprint: fingerprintOf(issued.cert), selfSigned: ca.own, ca, leftOut: issued.leftOut, created: true };
}
