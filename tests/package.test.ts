// The package as users install it: the exports map resolves, and the browser entry pulls in nothing of Node's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_ONLY = /^(node:|net$|dgram$|fs$|tls$|http$|https$|os$|path$|crypto$|ws$|selfsigned$)/;

/** Every module reachable from `file` through static and dynamic imports, with its bare imports. */
function importGraph(file: string, seen = new Map<string, string[]>()): Map<string, string[]> {
  if (seen.has(file)) return seen;
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:^|[;\s])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s*['"]([^'"]+)['"]/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3]!);
  const bare = specifiers.filter((s) => !s.startsWith('.'));
  seen.set(file, bare);
  for (const s of specifiers) if (s.startsWith('.')) importGraph(resolve(dirname(file), s), seen);
  return seen;
}

test('the package exports lanconf, lanconf/node, lanconf/relay and lanconf/components', async () => {
  const sdk = await import('lanconf');
  const node = await import('lanconf/node');
  const relay = await import('lanconf/relay');
  const components = await import('lanconf/components');
  assert.equal(typeof sdk.joinMeeting, 'function');
  assert.equal(typeof node.joinMeeting, 'function');
  assert.notEqual(node.joinMeeting, sdk.joinMeeting, 'lanconf/node has its own joinMeeting with the native transport');
  assert.equal(typeof relay.Relay, 'function');
  assert.ok(Array.isArray(components.ELEMENTS));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  for (const [entry, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.ok(existsSync(join(root, target.types)), `${entry}: ${target.types} is built`);
    assert.ok(existsSync(join(root, target.default)), `${entry}: ${target.default} is built`);
  }
});

test('the browser entry (lanconf) imports nothing from Node', () => {
  const graph = importGraph(join(root, 'dist/sdk/index.js'));
  assert.ok(graph.size > 5, 'the graph was walked');
  for (const [file, bare] of graph) {
    for (const specifier of bare) assert.doesNotMatch(specifier, NODE_ONLY, `${file} imports ${specifier}`);
  }
});

test('the self-contained browser bundle has no imports at all', () => {
  const source = readFileSync(join(root, 'dist/browser/lanconf.js'), 'utf8');
  // Rollup puts a bundle's imports at the start of a line; comments inside the bundle may quote some.
  assert.doesNotMatch(source, /^import\s/m);
  assert.doesNotMatch(source, /^export\s[^;]*\sfrom\s/m);
  assert.match(source, /^export\s*\{[^}]*joinMeeting/m);
});

test('the lanconf-relay bin is an executable Node script', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = join(root, pkg.bin['lanconf-relay']!);
  assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});
