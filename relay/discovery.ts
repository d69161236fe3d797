/**
 * Finding relays on the LAN without typing a URL: DNS-SD over multicast DNS, service type
 * `_lanconf._tcp`, TXT `v=1`, `url=<the relay's URL>` and `fp=<SHA-256 fingerprint, AA:BB:…>`.
 *
 * An advert is a hint, never a credential: anyone on the LAN can answer mDNS, with any name, URL and
 * fingerprint. The fingerprint it carries is for showing next to the one the user was told; a
 * connection is trusted only through `--fingerprint` or a CA the machine already trusts.
 *
 * Everything heard from the network is validated by {@link parseAdvert}; what does not pass is
 * ignored, never thrown. Both {@link advertise} and {@link discover} close their socket when done, so
 * the process can exit.
 *
 * IPv4 only as transport (224.0.0.251:5353); adverts may still list IPv6 addresses.
 * @module
 * @internal
 */
import { networkInterfaces, hostname } from 'node:os';
import { isIP } from 'node:net';
import { Bonjour, type Service } from 'bonjour-service';

/** A relay heard on the LAN. Nothing in it is authenticated. */
export interface RelayAdvert {
  /** Instance name, as the relay announced it (e.g. `lanconf on studio`). */
  name: string;
  /** The relay's URL from the TXT record (`https://…` or `http://…`), normalised by `new URL()`. */
  url: string;
  /**
   * The certificate fingerprint the advert claims (`AA:BB:…`, upper case), for display only: it came
   * from whoever answered, so it is no proof of who the relay is.
   */
  fingerprint?: string;
  /** Host name from the SRV record (e.g. `studio.local`). */
  host: string;
  /** Port from the SRV record. */
  port: number;
  /** Addresses the advert gave for its host; when it gave none, the one it was sent from. */
  addresses: string[];
}

/** Options of {@link advertise}. */
export interface AdvertiseOptions {
  /**
   * Instance name (at most 63 bytes of UTF-8, no control characters); bonjour-service turns its dots
   * into dashes. Renamed `name (2)`, `name (3)`… when another host has it.
   */
  name: string;
  /** The relay's TCP port (the HTTPS one). */
  port: number;
  /** The URL clients should open (`https://…` or `http://…`, at most 251 characters). */
  url: string;
  /** SHA-256 fingerprint of the relay's certificate (or CA), `AA:BB:…`. */
  fingerprint?: string;
  /**
   * Advertise on this interface: its name (`eth0`) or one of its IPv4 addresses. Default: the one
   * interface the kernel routes 224.0.0.251 through (that of the default route); a relay on two LANs
   * is found only on that one.
   */
  interface?: string;
  /**
   * Told when advertising fails (socket error, every name taken). Default: ignored, as advertising
   * is a convenience the relay works without.
   */
  onError?: (error: Error) => void;
}

/** Options of {@link discover}. */
export interface DiscoverOptions {
  /** How long to listen, in milliseconds (default 2000, at most 600000). */
  timeoutMs?: number;
  /**
   * Ask and listen on this interface only: its name (`eth0`) or one of its IPv4 addresses. Default:
   * questions go out on the interface of the default route; announcements are heard on every one.
   */
  interface?: string;
}

/** The DNS-SD service type, without the leading underscore, as bonjour-service takes it. */
const SERVICE_TYPE = 'lanconf';
const SERVICE_DOMAIN = `_${SERVICE_TYPE}._tcp.local`;
/** The TXT format this module writes and reads; adverts of any other version are ignored. */
const TXT_VERSION = '1';

/** DNS limits a label to 63 bytes. */
const MAX_NAME_BYTES = 63;
/** A TXT string holds at most 255 bytes, `url=` included. */
const MAX_URL_LENGTH = 255 - 'url='.length;
const MAX_HOST_LENGTH = 255;
/** RFC 6763 §6.2 asks TXT records to stay under 1300 bytes; ours are far smaller. */
const MAX_TXT_BYTES = 1300;
const MAX_TXT_STRINGS = 32;
const MAX_ADDRESSES = 16;
/** More relays than this on one LAN is a flood, not a LAN: later ones are ignored. */
const MAX_ADVERTS = 64;
const MAX_TIMEOUT_MS = 600_000;
/** Probe queries before claiming a name (RFC 6762 §8.1: three, 250 ms apart). */
const PROBES = 3;
const PROBE_INTERVAL_MS = 250;
const MAX_RENAMES = 9;
/** A goodbye or a socket close that does not call back must not hold `stop()` forever. */
const CLOSE_TIMEOUT_MS = 1000;

/**
 * Text that must not reach a terminal from the network: C0/C1 controls (escape sequences), and the
 * invisible and bidirectional marks that make one name look like another.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const FINGERPRINT = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The part of multicast-dns that bonjour-service keeps private and this module needs. */
interface Mdns {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'response', listener: (packet: unknown) => void): unknown;
  removeListener(event: 'response', listener: (packet: unknown) => void): unknown;
  query(name: string, type: string, callback: (error?: Error | null) => void): void;
}

type BonjourOptions = ConstructorParameters<typeof Bonjour>[0];

const mdnsOf = (bonjour: Bonjour): Mdns => (bonjour as unknown as { server: { mdns: Mdns } }).server.mdns;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** `url` normalised when it is an http(s) URL a user may be shown and a client may open; else `undefined`. */
function relayUrl(text: string): string | undefined {
  if (text.length > MAX_URL_LENGTH || UNPRINTABLE.test(text)) return undefined;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  // Credentials in an advertised URL would be sent to whoever answered: no relay URL has them.
  if (url.username || url.password || !url.hostname) return undefined;
  return url.href;
}

/**
 * TXT strings as key → value, or `undefined` when over the limits or not UTF-8. Keys are
 * case-insensitive and the first of a repeated key wins (RFC 6763 §6.4); a key without `=` has the
 * value `''`.
 */
function txtEntries(strings: unknown): Map<string, string> | undefined {
  if (!Array.isArray(strings) || strings.length > MAX_TXT_STRINGS) return undefined;
  const entries = new Map<string, string>();
  let total = 0;
  for (const item of strings) {
    if (!(item instanceof Uint8Array)) return undefined;
    total += 1 + item.length;
    if (total > MAX_TXT_BYTES) return undefined;
    let text: string;
    try {
      text = utf8.decode(item);
    } catch {
      return undefined;
    }
    const eq = text.indexOf('=');
    const key = (eq < 0 ? text : text.slice(0, eq)).toLowerCase();
    if (key === '' || entries.has(key)) continue;
    entries.set(key, eq < 0 ? '' : text.slice(eq + 1));
  }
  return entries;
}

/**
 * Validates one service as bonjour-service's browser reports it (`name`, `host`, `port`,
 * `addresses`, `rawTxt` — the TXT strings as bytes —, `referer`) and returns the advert, or
 * `undefined` when anything is missing, malformed or oversized: a name, host or URL with control or
 * invisible characters, a URL that is not `http(s)://` or carries credentials, a fingerprint that is
 * not 32 hex bytes, a TXT version other than `v=1`, an invalid address.
 *
 * @param raw - a service from `Browser`'s `up` / `txt-update` / `srv-update` events; never trusted.
 */
export function parseAdvert(raw: unknown): RelayAdvert | undefined {
  if (!isObject(raw)) return undefined;
  const { name, host, port, addresses, rawTxt, referer } = raw;
  if (typeof name !== 'string' || name === '' || byteLength(name) > MAX_NAME_BYTES || UNPRINTABLE.test(name)) return undefined;
  if (typeof host !== 'string' || host === '' || host.length > MAX_HOST_LENGTH || UNPRINTABLE.test(host)) return undefined;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;

  const txt = txtEntries(rawTxt);
  if (!txt || txt.get('v') !== TXT_VERSION) return undefined;
  const url = relayUrl(txt.get('url') ?? '');
  if (!url) return undefined;
  const fp = txt.get('fp');
  if (fp !== undefined && !FINGERPRINT.test(fp)) return undefined;

  const list: string[] = [];
  if (addresses !== undefined) {
    if (!Array.isArray(addresses) || addresses.length > MAX_ADDRESSES) return undefined;
    for (const a of addresses) {
      if (typeof a !== 'string' || isIP(a) === 0) return undefined;
      if (!list.includes(a)) list.push(a);
    }
  }
  if (list.length === 0 && isObject(referer) && typeof referer.address === 'string' && isIP(referer.address) !== 0) {
    list.push(referer.address);
  }
  return { name, url, ...(fp !== undefined ? { fingerprint: fp.toUpperCase() } : {}), host, port, addresses: list };
}

/** An interface given by name or by one of its IPv4 addresses. */
interface Interface {
  address: string;
  netmask: string;
}

function resolveInterface(spec: string): Interface {
  const all = networkInterfaces();
  const byName = all[spec]?.find((a) => a.family === 'IPv4');
  if (byName) return { address: byName.address, netmask: byName.netmask };
  if (isIP(spec) === 4) {
    for (const list of Object.values(all)) {
      const match = list?.find((a) => a.family === 'IPv4' && a.address === spec);
      if (match) return { address: match.address, netmask: match.netmask };
    }
  }
  throw new TypeError(`no network interface named ${JSON.stringify(spec)} with an IPv4 address, nor one with that address`);
}

/**
 * multicast-dns options for one interface. It binds to the interface's address when given one, and on
 * Linux a socket bound to a unicast address never receives datagrams sent to 224.0.0.251: bind to
 * every address and let the membership and the sending interface name the interface.
 */
const mdnsOptions = (iface: Interface | undefined): BonjourOptions =>
  (iface ? { interface: iface.address, bind: '0.0.0.0' } : {}) as unknown as BonjourOptions;

const ipv4Number = (ip: string) => ip.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);

/** `true` when IPv4 `ip` is on the subnet of `iface`. */
function onSubnet(ip: string, iface: Interface): boolean {
  if (isIP(ip) !== 4) return false;
  const mask = ipv4Number(iface.netmask);
  return ((ipv4Number(ip) & mask) >>> 0) === ((ipv4Number(iface.address) & mask) >>> 0);
}

/** The DNS label bonjour-service makes of an instance name (it turns dots into dashes). */
const label = (name: string) => name.split('.').join('-');

/** `name (n)`, shortened so that it still fits a DNS label. */
function renamed(name: string, n: number): string {
  const suffix = ` (${n})`;
  let base = name;
  while (base && byteLength(base + suffix) > MAX_NAME_BYTES) base = base.slice(0, -1);
  return base + suffix;
}

/**
 * Asks three times whether anyone answers for `fqdn` (RFC 6762 §8.1). Resolves `true` when someone
 * does, `false` when nobody did or `signal` aborted.
 */
function probe(mdns: Mdns, fqdn: string, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const wanted = fqdn.toLowerCase();
    let sent = 0;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const mentions = (records: unknown) =>
      Array.isArray(records) && records.some((rr) => isObject(rr) && typeof rr.name === 'string' && rr.name.toLowerCase() === wanted);
    const onResponse = (packet: unknown) => {
      if (sent > 0 && isObject(packet) && (mentions(packet.answers) || mentions(packet.additionals))) done(true);
    };
    const done = (taken: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      mdns.removeListener('response', onResponse);
      signal.removeEventListener('abort', onAbort);
      resolve(taken);
    };
    const onAbort = () => done(false);
    const send = () => {
      if (finished) return;
      // A send error (no route yet) counts as a probe nobody answered: announcing will fail the same way.
      mdns.query(fqdn, 'ANY', () => {
        if (finished) return;
        sent += 1;
        timer = setTimeout(() => (sent < PROBES ? send() : done(false)), PROBE_INTERVAL_MS);
      });
    };
    if (signal.aborted) return done(false);
    signal.addEventListener('abort', onAbort);
    mdns.on('response', onResponse);
    // A random start keeps two relays started together from probing in lockstep.
    timer = setTimeout(send, Math.random() * PROBE_INTERVAL_MS);
  });
}

/** Calls `start(done)` and waits for `done`, or at most {@link CLOSE_TIMEOUT_MS}. */
function settle(start: (done: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    try {
      start(done);
    } catch {
      done(); // a socket that never bound cannot be closed: nothing is left open
    }
  });
}

function checkAdvertiseOptions(options: AdvertiseOptions): void {
  const { name, port, url, fingerprint } = options;
  if (typeof name !== 'string' || name === '' || byteLength(name) > MAX_NAME_BYTES || UNPRINTABLE.test(name)) {
    throw new TypeError(`an advert name is 1 to ${MAX_NAME_BYTES} bytes of printable text, not ${JSON.stringify(name)}`);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`not a TCP port: ${port}`);
  if (typeof url !== 'string' || relayUrl(url) === undefined) {
    throw new TypeError(`an advertised URL is http(s)://host:port/, at most ${MAX_URL_LENGTH} characters, not ${JSON.stringify(url)}`);
  }
  if (fingerprint !== undefined && !FINGERPRINT.test(fingerprint)) {
    throw new TypeError(`a fingerprint is 32 hex bytes (AB:CD:…), not ${JSON.stringify(fingerprint)}`);
  }
}

/**
 * Announces the relay on the LAN as `_lanconf._tcp` until `stop()`. The name is first probed for
 * (about a second); when another relay has it, `name (2)`, `name (3)`… are tried.
 *
 * @example
 * ```ts
 * const advert = advertise({ name: 'lanconf on studio', port: 8787, url: 'https://192.168.1.20:8787/', fingerprint });
 * // …
 * await advert.stop(); // goodbye sent, socket closed
 * ```
 * @throws TypeError for a bad name, port, URL or fingerprint, or an unknown interface.
 * @returns `stop()`: sends the goodbye (so browsers drop the relay at once), closes the socket;
 * idempotent, never rejects.
 */
export function advertise(options: AdvertiseOptions): { stop(): Promise<void> } {
  checkAdvertiseOptions(options);
  const iface = options.interface === undefined ? undefined : resolveInterface(options.interface);
  // Every send fails the same way once the socket is broken: each kind of error is told once.
  const told = new Set<string>();
  const report = (error: unknown) => {
    const e = error instanceof Error ? error : new Error(String(error));
    const kind = (e as NodeJS.ErrnoException).code ?? e.message;
    if (told.has(kind)) return;
    told.add(kind);
    try {
      options.onError?.(e);
    } catch {
      // a throwing listener must not take the relay down
    }
  };
  const aborted = new AbortController();
  // bonjour-service throws from a socket callback when no error callback is given.
  const bonjour = new Bonjour(mdnsOptions(iface), report);
  const mdns = mdnsOf(bonjour);
  // Port 5353 cannot be bound (EADDRINUSE, EACCES): give up claiming a name; stop() still closes.
  mdns.on('error', (error) => {
    report(error);
    aborted.abort();
  });

  const txt: Record<string, string> = { v: TXT_VERSION, url: options.url };
  if (options.fingerprint !== undefined) txt.fp = options.fingerprint.toUpperCase();
  const host = `${hostname().split('.')[0] || 'lanconf'}.local`;
  let service: Service | undefined;

  const claim = async () => {
    for (let n = 1; n <= MAX_RENAMES; n += 1) {
      const name = n === 1 ? options.name : renamed(options.name, n);
      const taken = await probe(mdns, `${label(name)}.${SERVICE_DOMAIN}`, aborted.signal);
      if (aborted.signal.aborted) return;
      if (!taken) {
        service = bonjour.publish({ name, type: SERVICE_TYPE, protocol: 'tcp', port: options.port, host, txt, probe: false });
        return;
      }
    }
    report(new Error(`the mDNS names "${options.name}" to "${renamed(options.name, MAX_RENAMES)}" are all taken: not advertising`));
  };
  claim().catch(report);

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    aborted.abort();
    const published = service;
    if (published) await settle((done) => (published.stop as (callback: () => void) => void)(done));
    await settle((done) => bonjour.destroy(done));
  };
  return { stop: () => (stopping ??= stop()) };
}

/**
 * Listens for relays on the LAN for `timeoutMs`, asking at the start and again after 1 s, 3 s, 7 s…
 * Resolves with the valid adverts (see {@link parseAdvert}), one per name, sorted by name, once the
 * socket is closed. A relay that said goodbye during the wait is not listed.
 *
 * @example
 * ```ts
 * for (const relay of await discover({ timeoutMs: 2000 })) console.log(relay.name, relay.url, relay.fingerprint);
 * ```
 * @throws TypeError (as a rejection) for a bad timeout or an unknown interface; the socket's error
 * when port 5353 cannot be used.
 */
export function discover(options: DiscoverOptions = {}): Promise<RelayAdvert[]> {
  const timeoutMs = options.timeoutMs ?? 2000;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    return Promise.reject(new TypeError(`timeoutMs is a number of milliseconds in (0, ${MAX_TIMEOUT_MS}], not ${timeoutMs}`));
  }
  let iface: Interface | undefined;
  try {
    iface = options.interface === undefined ? undefined : resolveInterface(options.interface);
  } catch (error) {
    return Promise.reject(error);
  }

  return new Promise((resolve, reject) => {
    let failure: Error | undefined;
    let deadline: NodeJS.Timeout | undefined;
    // Its error callback is for failed answers, and a browser answers nothing.
    const bonjour = new Bonjour(mdnsOptions(iface), () => {});
    const mdns = mdnsOf(bonjour);
    const found = new Map<string, RelayAdvert>();
    const key = (service: Service) => (typeof service.fqdn === 'string' ? service.fqdn.toLowerCase() : '');

    // A malformed update leaves what was heard before: it is ignored like any malformed packet.
    const take = (service: Service) => {
      const k = key(service);
      if (!k || (!found.has(k) && found.size >= MAX_ADVERTS)) return;
      // With several interfaces on one host, the socket hears other interfaces' mDNS too.
      const from = service.referer?.address;
      if (iface && (typeof from !== 'string' || !onSubnet(from, iface))) return;
      const advert = parseAdvert(service);
      if (advert) found.set(k, advert);
    };
    const browser = bonjour.find({ type: SERVICE_TYPE, protocol: 'tcp' });
    browser.on('up', take);
    browser.on('srv-update', take);
    browser.on('txt-update', take);
    browser.on('down', (service) => found.delete(key(service)));

    let queryDelay = 1000;
    let queryTimer: NodeJS.Timeout | undefined;
    const requery = () => {
      browser.update();
      queryDelay *= 2;
      queryTimer = setTimeout(requery, queryDelay);
    };
    queryTimer = setTimeout(requery, queryDelay);

    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(deadline);
      clearTimeout(queryTimer);
      browser.stop();
      const adverts = [...new Map([...found.values()].map((a) => [a.name.toLowerCase(), a])).values()];
      adverts.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
      void settle((done) => bonjour.destroy(done)).then(() => (failure ? reject(failure) : resolve(adverts)));
    };
    mdns.on('error', (error) => {
      if (!finished) failure = error;
      finish();
    });
    deadline = setTimeout(finish, timeoutMs);
  });
}
