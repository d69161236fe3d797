/**
 * The machine's LAN addresses and the URLs the relay can be reached at.
 * @module
 * @internal
 */
import { networkInterfaces, hostname, type NetworkInterfaceInfo } from 'node:os';

/**
 * Interfaces that are rarely the LAN people are on: containers, bridges for virtual machines, VPN
 * tunnels. Their addresses are listed last, so the first URL the relay prints is one others can open.
 */
const VIRTUAL_INTERFACE = /^(docker|br-|veth|virbr|vmnet|vboxnet|cni|flannel|cali|tun|tap|wg|zt|utun|tailscale|lxc|lxd|podman)/i;

/**
 * Non-internal IPv4 and IPv6 (non link-local) addresses of `interfaces` (default: this machine's),
 * those of physical-looking interfaces first.
 */
export function lanAddresses(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces()): string[] {
  const physical: string[] = [];
  const virtual: string[] = [];
  for (const [name, list] of Object.entries(interfaces)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      (VIRTUAL_INTERFACE.test(name) ? virtual : physical).push(a.address);
    }
  }
  return [...physical, ...virtual];
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
