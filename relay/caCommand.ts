/**
 * `lanconf-relay ca`: the relay's certificate authority for the admin — where it is kept, its fingerprint,
 * what it may vouch for, and how to push it to managed machines; `--renew` replaces it.
 * @module
 * @internal
 */
import { X509Certificate } from 'node:crypto';
import { parseArgs } from 'node:util';
import { PERMITTED_RANGES, bareHostname, isPermittedName, ownCa, retireCa, validHostname } from './ca.js';
import { defaultDataDir } from './paths.js';

/** Where the command writes. */
interface Out {
  line(text: string): void;
  error(text: string): void;
}

const HELP = `lanconf-relay ca — the relay's certificate authority

Usage:
  lanconf-relay ca [--data-dir D]                 show it (made now if the relay never started with TLS)
  lanconf-relay ca --renew [--hostname H …]       replace it by a new one (everyone trusts the new one again)

The authority is name-constrained: it can vouch only for private, shared and link-local addresses,
localhost, .local names, this machine's host name and the names given with --hostname when it was
made. A name added later needs a new authority (--renew), and so a new trust step on every machine.
`;

/** Runs `lanconf-relay ca …`; returns the exit code. */
export async function runCa(argv: string[], out: Out): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: { 'data-dir': { type: 'string' }, renew: { type: 'boolean' }, hostname: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
      strict: true, allowPositionals: false,
    }).values;
    for (const name of args.hostname ?? []) if (!validHostname(name)) throw new Error(`--hostname must be a DNS name, not "${name}"`);
  } catch (error) {
    out.error(`lanconf-relay ca: ${(error as Error).message}`);
    return 2;
  }
  if (args.help) {
    out.line(HELP);
    return 0;
  }
  const dataDir = args['data-dir'] ?? defaultDataDir();
  const hostnames = args.hostname ?? [];
  if (args.renew) {
    try {
      const aside = await retireCa(dataDir);
      out.line(`The previous authority is kept in ${aside} (remove it from the machines that trusted it).`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        out.error(`lanconf-relay ca: cannot move the current authority aside: ${(error as Error).message}`);
        return 1;
      }
    }
  }
  let ca;
  try {
    ca = await ownCa(dataDir, hostnames);
  } catch (error) {
    out.error(`lanconf-relay ca: ${(error as Error).message}`);
    return 1;
  }
  const x = new X509Certificate(ca.cert);
  out.line(`${ca.created ? 'A new certificate authority' : 'Certificate authority'}: ${ca.name}`);
  out.line(`  kept in       ${ca.certPath} (its key beside it, readable by this user only; never served)`);
  out.line(`  SHA-256       ${ca.fingerprint}`);
  out.line(`  valid until   ${new Date(x.validTo).toISOString().slice(0, 10)}`);
  out.line(`  vouches for   ${PERMITTED_RANGES.join(', ')}`);
  out.line(`                ${ca.permittedNames.map((n) => (n === 'local' ? '*.local' : n)).join(', ')}`);
  const missing = hostnames.filter((n) => !isPermittedName(n, ca.permittedNames));
  if (missing.length) {
    out.line('');
    out.line(`Not covered: ${missing.join(', ')}. An authority's names are fixed when it is made; to add them, make a new one`);
    out.line(`(every machine must then trust it again): lanconf-relay ca --renew ${args['data-dir'] ? `--data-dir ${args['data-dir']} ` : ''}${[...ca.permittedNames.filter((n) => !['localhost', 'local', bareHostname()].includes(n)), ...missing].map((n) => `--hostname ${n}`).join(' ')}`);
  }
  if (ca.created && args.renew) out.line('\nRestart the relay: it issues its certificate from the new authority at start.');
  out.line(`
Each browser that opens the relay is shown how to trust it (http://<address>:<port>/trust). To push it to
managed machines instead, use ${ca.certPath}:
  Windows (GPO or script)   certutil -addstore -f Root lanconf-ca.crt   (Group Policy: Computer Configuration >
                            Windows Settings > Security Settings > Public Key Policies > Trusted Root CAs)
  macOS                     sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ca.pem
  Debian / Ubuntu           sudo cp ca.pem /usr/local/share/ca-certificates/lanconf.crt && sudo update-ca-certificates
  Chrome/Chromium on Linux  certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n lanconf -i ca.pem   (libnss3-tools)
  Firefox (policy)          policies.json: { "policies": { "Certificates": { "Install": ["/path/to/ca.pem"] } } }
                            (or "ImportEnterpriseRoots": true to use the system's store)
  iOS / macOS (MDM)         the profile at http://<address>:<port>/trust/lanconf.mobileconfig
  Android (MDM)             a CA certificate payload with http://<address>:<port>/trust/ca.crt

Its key can vouch only for the addresses and names above, never for a public site; it could impersonate
intranet servers on them, so keep the data dir's ca/ folder private.`);
  return 0;
}
