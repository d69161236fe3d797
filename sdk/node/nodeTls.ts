/**
 * TLS for Node clients of a relay: trust its certificate as a CA (`ca`), pin its SHA-256 fingerprint
 * (`fingerprint`, the value `lanconf-relay` prints at start), or, for tests only, accept anything.
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { checkServerIdentity, type ConnectionOptions, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';

/**
 * TLS options for Node clients of a relay whose certificate the machine does not trust: one from the relay's
 * own certificate authority (the default), or the admin's own.
 */
export interface NodeTlsOptions {
  /**
   * A certificate to trust as an authority (PEM): the relay's CA (`relay.caCertificate`, `ca/ca.pem` in its data
   * dir, or `/trust/ca.pem` on its trust page), or its own certificate (`relay.certificate`).
   */
  ca?: string | Buffer;
  /**
   * The SHA-256 fingerprint `lanconf-relay` prints at start (`AB:CD:…`; case, colons and spaces do not
   * matter): its certificate authority's, or, for a relay started with `--cert/--key`, its certificate's.
   * With a CA's fingerprint the relay's certificate must be issued by that CA (signature checked), be
   * valid now and name the host of the URL, so the certificates the CA issues later (a new address, a
   * renewal) keep being accepted; with a certificate's fingerprint exactly that certificate is accepted,
   * whoever issued it and whatever names it carries. No PEM file to copy, and no trust in anything else.
   * Checked before anything is sent.
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
 * Options for `tls.connect` / `https.request`. With a fingerprint the chain is not checked by Node (the
 * pin replaces it); {@link pinMismatch} must then be called on `secureConnect`.
 */
export function tlsConnectOptions(tls: NodeTlsOptions | undefined): ConnectionOptions {
  return {
    ...(tls?.ca ? { ca: tls.ca } : {}),
    ...(tls?.insecure || tls?.fingerprint ? { rejectUnauthorized: false } : {}),
  };
}

/**
 * The error to close a freshly secured connection with when its certificate is not the pinned one (nor
 * issued by the pinned CA), or `undefined` when it is (or nothing is pinned). `host`: the host of the
 * relay's URL, checked against a CA-issued certificate.
 */
export function pinMismatch(socket: TLSSocket, tls: NodeTlsOptions | undefined, host: string): Error | undefined {
  if (!tls?.fingerprint) return undefined;
  let expected: string;
  try {
    expected = normalizeFingerprint(tls.fingerprint);
  } catch (error) {
    return error as Error; // never thrown from a socket's event: the connection is refused with the reason
  }
  const leaf = socket.getPeerCertificate(true);
  if (!leaf || !leaf.raw) return new Error('the relay showed no certificate');
  if (leaf.fingerprint256 === expected) return undefined;
  // The chain the relay sent, leaf first: each certificate must be issued and signed by the next.
  const chain: DetailedPeerCertificate[] = [];
  for (let c: DetailedPeerCertificate | undefined = leaf; c?.raw && chain.length < 8; c = c.issuerCertificate === c ? undefined : c.issuerCertificate) {
    chain.push(c);
  }
  const pinned = chain.findIndex((c) => c.fingerprint256 === expected);
  const shown = chain.map((c) => c.fingerprint256).join(' issued by ');
  if (pinned < 1) {
    return new Error(`the relay's certificate has the fingerprint ${shown || '(none)'}, not the pinned ${expected}: `
      + 'this is another server, or the relay has a new certificate authority (check the fingerprint it prints at start)');
  }
  const x = chain.slice(0, pinned + 1).map((c) => new X509Certificate(c.raw));
  for (let i = 0; i < pinned; i++) {
    if (!x[i]!.checkIssued(x[i + 1]!) || !x[i]!.verify(x[i + 1]!.publicKey)) {
      return new Error(`the relay's certificate is not signed by the pinned certificate authority ${expected}`);
    }
  }
  const now = Date.now();
  if (x.some((c) => Date.parse(c.validFrom) > now || Date.parse(c.validTo) < now)) {
    return new Error('the relay\'s certificate (or its authority\'s) is not valid at this time: check this machine\'s clock');
  }
  const identity = checkServerIdentity(host.replace(/^\[|\]$/g, ''), leaf);
  if (identity) return new Error(`the relay's certificate, issued by the pinned authority, does not name ${host}: ${identity.message}`);
  return undefined;
}
