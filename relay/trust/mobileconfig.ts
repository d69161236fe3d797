/**
 * The Apple configuration profile that installs the relay's certificate authority on iOS, iPadOS and
 * macOS (`/trust/lanconf.mobileconfig`).
 * @module
 * @internal
 */
import { createHash } from 'node:crypto';

/** Characters XML 1.0 cannot hold at all, even escaped: they become U+FFFD. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

function xml(text: string): string {
  return text
    .replace(NOT_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * A UUID (RFC 9562 version 8, "custom") from the SHA-256 of `seed`: the same seed always gives the same
 * UUID, so a device sees a re-downloaded profile as the same profile, not a second one.
 */
function uuidFrom(seed: string): string {
  const b = createHash('sha256').update(seed).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `AA:BB:…` or `aabb…` → 64 upper-case hex digits. */
function normalFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, '').toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new TypeError('options.fingerprint must be a SHA-256 fingerprint (64 hex digits, colons allowed)');
  return hex;
}

/** Options of {@link mobileconfig}. */
export interface MobileconfigOptions {
  /** The CA's subject common name, as Settings and Keychain Access will show it. */
  caName: string;
  /** The SHA-256 fingerprint of `caDer`, `AA:BB:…` (as `X509Certificate.fingerprint256` gives it). */
  fingerprint: string;
}

/**
 * An unsigned Apple configuration profile (an XML property list) with one `com.apple.security.root`
 * payload holding the CA certificate. Its identifier and UUIDs derive from the fingerprint, so the same CA
 * always gives byte-identical profiles and installing it again replaces the earlier one.
 *
 * Unsigned: iOS shows it as "Not Verified", which is expected; the person compares the fingerprint on the
 * trust page instead. On iOS the person must still turn on full trust for the CA in
 * Settings → General → About → Certificate Trust Settings.
 *
 * @param caDer - The CA certificate, DER-encoded.
 * @param options - The CA's display name and its SHA-256 fingerprint.
 * @returns The profile's XML, to serve as `application/x-apple-aspen-config`.
 * @throws TypeError when `caDer` is empty, or `options.fingerprint` is not the SHA-256 of `caDer`.
 * @example
 * ```ts
 * const x = new X509Certificate(caPem);
 * const profile = mobileconfig(x.raw, { caName: 'lanconf local CA', fingerprint: x.fingerprint256 });
 * ```
 */
export function mobileconfig(caDer: Uint8Array, options: MobileconfigOptions): string {
  if (!(caDer instanceof Uint8Array) || caDer.byteLength === 0) throw new TypeError('caDer must be a non-empty DER certificate');
  const hex = normalFingerprint(options.fingerprint);
  if (createHash('sha256').update(caDer).digest('hex').toUpperCase() !== hex) {
    throw new TypeError('options.fingerprint is not the SHA-256 fingerprint of caDer');
  }
  const id = `lanconf.ca.${hex.slice(0, 16).toLowerCase()}`;
  const name = xml(options.caName);
  const der = Buffer.from(caDer.buffer, caDer.byteOffset, caDer.byteLength).toString('base64');
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>lanconf-ca.cer</string>
			<key>PayloadContent</key>
			<data>${der}</data>
			<key>PayloadDescription</key>
			<string>Adds the certificate authority ${name}, which vouches for lanconf meeting servers on the local network.</string>
			<key>PayloadDisplayName</key>
			<string>${name}</string>
			<key>PayloadIdentifier</key>
			<string>${id}.root</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>${uuidFrom(`lanconf root payload ${hex}`)}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>Lets this device trust lanconf meeting servers on the local network, through the certificate authority ${name} (SHA-256 ${hex.replace(/(..)(?!$)/g, '$1:')}).</string>
	<key>PayloadDisplayName</key>
	<string>lanconf: ${name}</string>
	<key>PayloadIdentifier</key>
	<string>${id}</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>${uuidFrom(`lanconf profile ${hex}`)}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
`;
}
