/**
 * The machine's LAN addresses and the URLs the relay can be reached at.
 * @module
 * @internal
 */
import { networkInterfaces, hostname } from 'node:os';

/** Non-internal IPv4 and IPv6 (non link-local) addresses of this machine. */
export function lanAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      out.push(a.address);
    }
  }
  return out;
}

/** `true` for loopback hosts (127/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Hosts a client can use to reach a server bound to `bindHost`. */
export function reachableHosts(bindHost: string): string[] {
  if (bindHost === '0.0.0.0' || bindHost === '::') {
    const lan = lanAddresses().filter((a) => bindHost === '::' || !a.includes(':'));
    return ['localhost', ...lan];
  }
  return [bindHost];
}

/** Host names and IPs to put into a self-signed certificate. */
export function certificateNames(bindHost: string): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost', hostname()]);
  const ips = new Set(['127.0.0.1', '::1', ...lanAddresses()]);
  if (bindHost !== '0.0.0.0' && bindHost !== '::') {
    if (/^[\d.]+$/.test(bindHost) || bindHost.includes(':')) ips.add(bindHost);
    else dns.add(bindHost);
  }
  return { dns: [...dns], ips: [...ips] };
}

/** Formats a URL for `host` (brackets IPv6). */
export function urlFor(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}
