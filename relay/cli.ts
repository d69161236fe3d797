#!/usr/bin/env node
/**
 * `lanconf-relay`: runs the relay and prints where the LAN can reach it.
 * @module
 * @internal
 */
import { parseArgs } from 'node:util';
import { Relay, type RelayOptions } from './Relay.js';
import { readFile } from 'node:fs/promises';
import { withEnvironment } from './cliEnv.js';
import { normalizeOrigin } from './origins.js';
import { LOG_LEVELS, cliLogger, type LogLevel } from './logger.js';
import { loadTls } from './tls.js';
import { validHostname } from './ca.js';
import { runCa } from './caCommand.js';
import { qrTerminal } from './trust/qr.js';
import { defaultDataDir, packageVersion } from './paths.js';
import { runDevices, runDiscover, runJoin } from './joinCommand.js';
import { advertise } from './discovery.js';
import { hostname } from 'node:os';

const HELP = `lanconf-relay — video conferencing for your LAN, no internet needed

Usage:
  lanconf-relay [options]                      run the relay
  lanconf-relay join <url> --meeting M --name N [--screen] [--mic] [--speaker] [--camera]
                                               join a meeting from this machine (see join --help)
  lanconf-relay devices                        list what this machine can share
  lanconf-relay discover                       list the relays announcing themselves on the LAN (--mdns)
  lanconf-relay ca [--renew] [--hostname H]    the relay's certificate authority: where it is, its
                                               fingerprint, how to push it to managed machines

Options:
  --host <addr>       address to listen on (default 0.0.0.0: the whole LAN)
  --port <n>          HTTPS + WebSocket port: the demo page and browsers (default 8787)
  --tcp-port <n>      TCP control port for native clients (default 8788)
  --udp-port <n>      UDP media port for native clients (default 8789)
  --tls <mode>        auto | on | off (default auto: HTTPS unless listening on localhost only;
                      browsers need HTTPS for camera/mic). The certificate comes from the relay's
                      own certificate authority, made once in the data dir and trusted once by
                      each machine through the trust page (http://<address>:<port>/trust)
  --hostname <name>   a DNS name of this machine the certificate must also cover (repeatable;
                      fixed when the authority is made, at first start)
  --ca-cert <file>    your organisation's CA (PEM) to issue the certificate from, with --ca-key
  --ca-key <file>     its private key (PEM)
  --cert <file>       your own ready TLS certificate (PEM), with --key: no CA, no trust page
  --key <file>        its private key (PEM)
  --data-dir <dir>    where the certificate, chat history and shared files are kept
                      (default ${defaultDataDir()})
  --allow-origin <o>  a web page origin (https://intranet.example) whose scripts may join meetings
                      (repeatable, or comma-separated; default: any page). The relay's own page is
                      always allowed; native clients are not affected
  --passcode <code>   every participant must give this passcode
  --host-key <key>    joining with this key (join --host-key, joinMeeting({ hostKey })) makes you a host
                      of your meeting whoever came first; wrong keys count like wrong passcodes
  --udp-encryption <m>
                      native clients' UDP media encrypted and authenticated (AES-GCM, a key per
                      connection over the control link): auto (default: on when TLS is on), on, off
  --mdns              announce the relay on the LAN (DNS-SD _lanconf._tcp) so 'lanconf-relay join'
                      and 'discover' find it; off by default
  --mdns-interface <i>
                      the interface (name or IPv4 address) to announce on (default: the one the
                      system routes multicast to)
  --chat-history <n>  chat messages a late joiner gets (default 100, at most 500)
  --max-file-mb <n>   largest shared file, in MiB (default 4096)
  --meeting-quota-mb <n>
                      all shared files of one meeting, in MiB (default 20480)
  --retention-hours <h>
                      shared files of a meeting are deleted this long after it empties
                      (default 24; 0 deletes them as soon as everyone has left)
  --chat-retention-hours <h>
                      a meeting's chat is deleted this long after it empties (default: the
                      --retention-hours value); --chat-history stays the messages a joiner gets
  --max-connections <n>
                      connections open at once from one address (default 64)
  --version           print the version
  -h, --help          this help

  --log-format <f>    text (default) or json (one JSON object a line, for a log collector)
  --log-level <l>     debug, info (default), warn or error

Every option can also be set in the environment: LANCONF_ and its name in capitals, dashes as
underscores (LANCONF_PASSCODE, LANCONF_PORT, LANCONF_MAX_CONNECTIONS, LANCONF_MDNS=true…), so a passcode
need not appear in 'ps'; a flag on the command line wins. LANCONF_DATA_DIR sets the data dir.

Ports 0 pick free ones. Stop with Ctrl-C: every participant is told and disconnected cleanly.
`;

function count(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max) throw new Error(`--${name} must be a number from 0 to ${max}, not "${value}"`);
  return n;
}

function checkOrigins(list: string[]): string[] {
  for (const item of list.flatMap((o) => o.split(/[\s,]+/)).filter(Boolean)) {
    if (item === '*') continue;
    try {
      normalizeOrigin(item);
    } catch {
      throw new Error(`--allow-origin takes origins such as https://intranet.example, not "${item}"`);
    }
  }
  return list;
}

function logFormat(value: string | undefined): 'text' | 'json' {
  if (value === undefined || value === 'text' || value === 'json') return value ?? 'text';
  throw new Error(`--log-format must be text or json, not "${value}"`);
}

function logLevel(value: string | undefined): LogLevel {
  if (value === undefined) return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`--log-level must be ${LOG_LEVELS.join(', ')}, not "${value}"`);
}

function port(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name} must be a port number (0-65535), not "${value}"`);
  return n;
}

const printer = {
  line: (text: string) => void process.stdout.write(`${text}\n`),
  error: (text: string) => void process.stderr.write(`${text}\n`),
};

/** Resolves on the first Ctrl-C or SIGTERM. */
function stopSignal(onStop?: (signal: string) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      onStop?.(signal);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

async function main(): Promise<number> {
  const command = process.argv[2];
  if (command === 'join') return runJoin(process.argv.slice(3), printer, stopSignal());
  if (command === 'devices') return runDevices(process.argv.slice(3), printer);
  if (command === 'ca') return runCa(process.argv.slice(3), printer);
  if (command === 'discover') return runDiscover(process.argv.slice(3), printer);
  let args;
  try {
    const options = {
      host: { type: 'string' }, port: { type: 'string' }, 'tcp-port': { type: 'string' }, 'udp-port': { type: 'string' },
      tls: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, 'data-dir': { type: 'string' },
      'ca-cert': { type: 'string' }, 'ca-key': { type: 'string' }, hostname: { type: 'string', multiple: true },
      mdns: { type: 'boolean' }, 'mdns-interface': { type: 'string' }, 'allow-origin': { type: 'string', multiple: true },
      passcode: { type: 'string' }, 'host-key': { type: 'string' }, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean' },
      'chat-history': { type: 'string' }, 'max-file-mb': { type: 'string' }, 'meeting-quota-mb': { type: 'string' },
      'retention-hours': { type: 'string' }, 'chat-retention-hours': { type: 'string' }, 'max-connections': { type: 'string' },
      'log-format': { type: 'string' }, 'log-level': { type: 'string' }, 'udp-encryption': { type: 'string' },
    } as const;
    args = parseArgs({
      args: withEnvironment(process.argv.slice(2), options),
      options,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`lanconf-relay: ${(error as Error).message}\nTry lanconf-relay --help\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  let options: RelayOptions;
  try {
    if ((args.cert === undefined) !== (args.key === undefined)) throw new Error('--cert and --key go together');
    if (args.tls !== undefined && !['auto', 'on', 'off'].includes(args.tls)) throw new Error(`--tls must be auto, on or off, not "${args.tls}"`);
    if (args.cert && args.tls === 'off') throw new Error('--cert/--key and --tls off contradict each other');
    if ((args['ca-cert'] === undefined) !== (args['ca-key'] === undefined)) throw new Error('--ca-cert and --ca-key go together');
    if (args['ca-cert'] && (args.cert || args.tls === 'off')) throw new Error('--ca-cert/--ca-key issue the certificate: not with --cert/--key or --tls off');
    for (const name of args.hostname ?? []) if (!validHostname(name)) throw new Error(`--hostname must be a DNS name, not "${name}"`);
    const udpEncryption = args['udp-encryption'] ?? 'auto';
    if (!['auto', 'on', 'off'].includes(udpEncryption)) throw new Error(`--udp-encryption must be auto, on or off, not "${udpEncryption}"`);
    options = {
      host: args.host ?? '0.0.0.0',
      port: port(args.port, 'port', 8787),
      tcpPort: port(args['tcp-port'], 'tcp-port', 8788),
      udpPort: port(args['udp-port'], 'udp-port', 8789),
      tls: args.cert && args.key ? await loadTls(args.cert, args.key)
        : args['ca-cert'] && args['ca-key'] ? { caCert: await readFile(args['ca-cert'], 'utf8'), caKey: await readFile(args['ca-key'], 'utf8') }
        : ((args.tls ?? 'auto') as 'auto' | 'on' | 'off'),
      ...(args.hostname?.length ? { hostnames: args.hostname } : {}),
      ...(args['allow-origin']?.length ? { allowOrigins: checkOrigins(args['allow-origin']) } : {}),
      dataDir: args['data-dir'] ?? defaultDataDir(),
      chatHistory: Math.floor(count(args['chat-history'], 'chat-history', 100, 500)),
      fileRetentionMs: count(args['retention-hours'], 'retention-hours', 24, 24 * 365) * 3600_000,
      ...(args['chat-retention-hours'] !== undefined
        ? { chatRetentionMs: count(args['chat-retention-hours'], 'chat-retention-hours', 24, 24 * 365) * 3600_000 } : {}),
      maxConnectionsPerAddress: Math.max(1, Math.floor(count(args['max-connections'], 'max-connections', 64, 1_000_000))),
      limits: {
        maxFileBytes: Math.floor(count(args['max-file-mb'], 'max-file-mb', 4096, 2 ** 30) * 1024 * 1024),
        maxMeetingFileBytes: Math.floor(count(args['meeting-quota-mb'], 'meeting-quota-mb', 20480, 2 ** 30) * 1024 * 1024),
      },
      log: cliLogger(logFormat(args['log-format']), logLevel(args['log-level'])),
      ...(args.passcode !== undefined ? { passcode: args.passcode } : {}),
      ...(args['host-key'] !== undefined ? { hostKey: args['host-key'] } : {}),
      ...(udpEncryption !== 'auto' ? { udpEncryption: udpEncryption === 'on' } : {}),
    };
  } catch (error) {
    process.stderr.write(`lanconf-relay: ${(error as Error).message}\n`);
    return 2;
  }

  const relay = new Relay(options);
  let addresses;
  try {
    addresses = await relay.listen();
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const hint = e.code === 'EADDRINUSE' ? ' (is another relay running? pick other ports with --port/--tcp-port/--udp-port)' : '';
    process.stderr.write(`lanconf-relay: cannot listen: ${e.message}${hint}\n`);
    return 1;
  }
  const out = process.stdout;
  out.write(`lanconf relay ${packageVersion()} is up. Open one of these on any machine of the LAN:\n`);
  for (const url of addresses.urls) out.write(`  ${url}\n`);
  out.write(`Native clients: TCP ${addresses.tcpPort}, UDP ${addresses.udpPort}${addresses.udpEncrypted ? ' (encrypted)' : ''} (found from the URL above).\n`);
  if (addresses.tls) {
    // An address other machines can use (the list starts with localhost when listening everywhere).
    const lanUrl = addresses.urls.find((u) => !/\/\/(localhost|127\.|\[::1\])/.test(u)) ?? addresses.urls[0]!;
    if (addresses.ca) {
      out.write(`Certificate authority SHA-256 fingerprint: ${addresses.ca.fingerprint}\n`);
      if (addresses.ca.created) out.write(`  (new: the relay's own authority, kept in ${addresses.ca.path}; each machine trusts it once)\n`);
      const trustUrl = addresses.trustUrls?.find((u) => u.startsWith(lanUrl.replace(/^https:/, 'http:'))) ?? addresses.trustUrls?.[0];
      out.write(`First visit from a machine that does not trust it yet: ${trustUrl}\n`);
      if (addresses.ca.own) out.write(`Phones: scan to open ${lanUrl}\n${await qrTerminal(lanUrl, { ansi: process.stdout.isTTY === true })}\n`);
    } else {
      out.write(`TLS certificate SHA-256 fingerprint: ${addresses.fingerprint}\n`);
    }
    if (addresses.leftOut?.length) out.write(`Not in the certificate (outside the addresses and names the authority may vouch for): ${addresses.leftOut.join(', ')}\n`);
    out.write(`A native host joins with: lanconf-relay join ${lanUrl} --meeting <id> --name <name> --fingerprint ${addresses.fingerprint}\n`);
  }
  if (options.passcode !== undefined) out.write('A passcode is required to join.\n');
  let advert: { stop(): Promise<void> } | undefined;
  if (args.mdns) {
    const lanUrl = addresses.urls.find((u) => !/\/\/(localhost|127\.|\[::1\])/.test(u)) ?? addresses.urls[0]!;
    try {
      advert = advertise({
        name: `lanconf on ${hostname().split('.')[0]}`.slice(0, 63), port: addresses.port, url: lanUrl,
        ...(addresses.fingerprint ? { fingerprint: addresses.fingerprint } : {}),
        ...(args['mdns-interface'] ? { interface: args['mdns-interface'] } : {}),
        onError: (error) => process.stderr.write(`mDNS: ${error.message}\n`),
      });
      out.write(`Announced on the LAN (mDNS, _lanconf._tcp): ${lanUrl}\n`);
    } catch (error) {
      process.stderr.write(`lanconf-relay: --mdns: ${(error as Error).message}\n`);
    }
  }
  out.write('Press Ctrl-C to stop.\n');

  await stopSignal((signal) => out.write(`\n${signal}: closing every connection…\n`));
  await Promise.all([relay.close(), advert?.stop()]);
  out.write('lanconf relay stopped.\n');
  return 0;
}

main().then((code) => {
  if (process.argv[2] !== 'join') process.exit(code);
  // A native host lets its capture programs and audio thread finish closing (process.exit would cut the
  // audio worker mid-shutdown); whatever still holds the process after 3 s is cut.
  process.exitCode = code;
  process.stdin.destroy();
  setTimeout(() => process.exit(code), 3000).unref();
}, (error) => {
  process.stderr.write(`lanconf-relay: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
