/**
 * TLS for Node clients of a relay: trust its certificate as a CA (`ca`), pin its SHA-256 fingerprint
 * (`fingerprint`, the value `lanconf-relay` prints at start), or, for tests only, accept anything.
 * @module
 */
import type { ConnectionOptions, TLSSocket } from 'node:tls';

/** TLS options for Node clients of a relay with a self-signed certificate. */
export interface NodeTlsOptions {
  /** The relay's certificate (PEM), trusted as a CA: `relay.certificate`, or `cert.pem` from its data dir. */
  ca?: string | Buffer;
  /**
   * The SHA-256 fingerprint of the relay's certificate, as `lanconf-relay` prints it at start
   * (`AB:CD:…`; case, colons and spaces do not matter). The connection is accepted only when the relay
   * shows exactly that certificate, whoever issued it and whatever names it carries: no `cert.pem` to
   * copy, and no trust in anything else. Checked before anything is sent.
   */
  fingerprint?: string;
  /** Accept any certificate. Only for tests on loopback; prefer `fingerprint` or `ca`. */
  insecure?: boolean;
}

/**
 * A fingerprint in the form Node reports (`AB:CD:…`, 32 pairs of upper-case hex).
 * @throws TypeError for anything that is not 32 bytes of hex.
 */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new TypeError(`a certificate fingerprint is 32 bytes of hex (AB:CD:… as lanconf-relay prints it), not ${JSON.stringify(fingerprint)}`);
  }
  return hex.match(/../g)!.join(':');
}

/**
 * Why `tls` cannot be used with a relay reached over a connection that is `secure` or not: a malformed
 * fingerprint, or one given for a plain connection (it would check nothing, and the join and its passcode
 * would go out in the clear). `undefined` when nothing is pinned or the pin can be checked.
 */
export function pinProblem(tls: NodeTlsOptions | undefined, secure: boolean, url: string): TypeError | undefined {
  if (tls?.fingerprint === undefined) return undefined;
  try {
    normalizeFingerprint(tls.fingerprint);
  } catch (error) {
    return error as TypeError;
  }
  return secure ? undefined : new TypeError(`a certificate fingerprint needs an https:// or wss:// relay URL, not ${url}`);
}

/**
 * Options for `tls.connect` / `https.request`. With a fingerprint the chain is not checked by Node (a
 * self-signed certificate has none); {@link pinMismatch} must then be called on `secureConnect`.
 */
export function tlsConnectOptions(tls: NodeTlsOptions | undefined): ConnectionOptions {
  return {
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.insecure || tls?.fingerprint ? { rejectUnauthorized: false } : {}),
  };
}

/**
 * The error to close a freshly secured connection with when its certificate is not the pinned one, or
 * `undefined` when it is (or nothing is pinned).
 */
export function pinMismatch(socket: TLSSocket, tls: NodeTlsOptions | undefined): Error | undefined {
  if (!tls?.fingerprint) return undefined;
  let expected: string;
  try {
    expected = normalizeFingerprint(tls.fingerprint);
  } catch (error) {
    return error as Error; // never thrown from a socket's event: the connection is refused with the reason
  }
  const actual = socket.getPeerCertificate().fingerprint256;
  if (actual === expected) return undefined;
  return new Error(`the relay's certificate has the fingerprint ${actual || '(none)'}, not the pinned ${expected}: `
    + 'this is another server, or the relay has a new certificate (check the fingerprint it prints at start)');
}
