// The addresses the relay prints: physical interfaces first, so the first URL (and the join command the
// relay suggests) is one other machines of the LAN can open, not a container bridge or a VPN tunnel.
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { test } from 'node:test';
import { lanAddresses, reachableHosts } from '../../relay/network.js';

const v4 = (address: string, internal = false): NetworkInterfaceInfo =>
  ({ address, family: 'IPv4', internal, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', cidr: `${address}/24` });
const v6 = (address: string): NetworkInterfaceInfo =>
  ({ address, family: 'IPv6', internal: false, netmask: 'ffff:ffff:ffff:ffff::', mac: '00:00:00:00:00:00', cidr: `${address}/64`, scopeid: 0 });

test('LAN addresses: physical interfaces first, containers, VM bridges and tunnels last, no loopback or link-local', () => {
  const addresses = lanAddresses({
    docker0: [v4('172.17.0.1')],
    lo: [v4('127.0.0.1', true)],
    'br-5f2a': [v4('172.18.0.1')],
    wg0: [v4('10.8.0.2')],
    eth0: [v4('192.168.1.20'), v6('fe80::1'), v6('fd00::20')],
    wlan0: [v4('192.168.1.21')],
    virbr0: [v4('192.168.122.1')],
  });
  assert.deepEqual(addresses, ['192.168.1.20', 'fd00::20', '192.168.1.21', '172.17.0.1', '172.18.0.1', '10.8.0.2', '192.168.122.1']);
});

test('reachable hosts: localhost, then this machine\'s LAN addresses when listening everywhere; the bound host otherwise', () => {
  const all = reachableHosts('0.0.0.0');
  assert.equal(all[0], 'localhost');
  assert.ok(all.slice(1).every((h) => !h.includes(':')), 'IPv4 only for 0.0.0.0');
  assert.deepEqual(reachableHosts('127.0.0.1'), ['127.0.0.1']);
});
