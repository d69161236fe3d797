// The package as users install it: the exports map resolves, and the browser entry pulls in nothing of Node's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NODE_ONLY = /^(node:|net$|dgram$|fs$|tls$|http$|https$|os$|path$|crypto$|ws$)/;

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

/** What the build wrote about one browser bundle (rollup.config.mjs, sizeReport): each file and its imports. */
interface BundleFile { file: string; entry: boolean; raw: number; gzip: number; brotli: number; imports: string[]; dynamicImports: string[] }
const bundleReport = (name: string): BundleFile[] =>
  JSON.parse(readFileSync(join(root, `dist/dev/bundle-size-${name}.json`), 'utf8')) as BundleFile[];
/** Where the relay caches a file for a year (relay/http.ts): content-hashed chunk names. */
const HASHED_CHUNK = /^chunks\/[^/]+-[\w-]{8,}\.js$/;

for (const name of ['lanconf', 'lanconf-components']) {
  test(`${name}.js is the whole first screen: no static import, its lazy parts as chunks beside it`, () => {
    const report = bundleReport(name);
    const entry = report.find((f) => f.entry)!;
    assert.equal(entry.file, `${name}.js`);
    assert.deepEqual(entry.imports, [], 'nothing to fetch before the entry runs');
    const source = readFileSync(join(root, 'dist/browser', entry.file), 'utf8');
    assert.doesNotMatch(source, /(^|[;}])import\s*[{*"'\w]/m, 'no static import in the file itself');
    for (const chunk of entry.dynamicImports) {
      assert.match(chunk, HASHED_CHUNK);
      // Imported relative to the entry, so it comes from where the entry came from (another origin too).
      assert.ok(source.includes(`"./${chunk}"`), `${entry.file} imports ./${chunk}`);
    }
    for (const file of report) {
      if (!file.entry) assert.match(file.file, HASHED_CHUNK);
      // Chunks import only each other and the entry (what they share with it), never a bare name.
      for (const imported of file.imports) assert.ok(imported === entry.file || HASHED_CHUNK.test(imported), `${file.file} imports ${imported}`);
      for (const suffix of ['', '.gz', '.br', '.map']) {
        assert.ok(existsSync(join(root, 'dist/browser', file.file + suffix)), `${file.file}${suffix} is built`);
      }
    }
  });
}

test('lanconf.js exports joinMeeting', () => {
  const source = readFileSync(join(root, 'dist/browser/lanconf.js'), 'utf8');
  assert.match(source, /export\s*\{[^}]*\bjoinMeeting\b/);
});

test('lanconf-components.js leaves to chunks what the pre-join screen does not need', () => {
  const read = (file: string) => readFileSync(join(root, 'dist/browser', file), 'utf8');
  const report = bundleReport('lanconf-components');
  const entry = read('lanconf-components.js');
  const chunks = report.filter((f) => !f.entry).map((f) => read(f.file)).join('\n');
  for (const tag of ['lan-chat', 'lan-files', 'lan-participants', 'lan-invite']) {
    const defines = new RegExp(`customElements\\.define\\(["']${tag}["']`);
    assert.doesNotMatch(entry, defines, `<${tag}> is not in the entry`);
    assert.match(chunks, defines, `<${tag}> is defined by a chunk`);
  }
  // The trust notice too: the pre-join screen shows it when the relay's certificate is not trusted yet.
  for (const tag of ['lan-meeting', 'lan-prejoin', 'lan-trust-notice', 'lan-video-grid', 'lan-controls']) {
    assert.match(entry, new RegExp(`customElements\\.define\\(["']${tag}["']`), `<${tag}> is in the entry`);
  }
  // The audio worklets (capture and mixer) and the capture pipelines load when audio or video starts.
  assert.doesNotMatch(entry, /registerProcessor/);
  assert.match(chunks, /registerProcessor\(["']lanconf-mixer/);
  assert.match(chunks, /registerProcessor\(["']lanconf-capture/);
});

test('the lanconf-relay bin is an executable Node script', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  const bin = join(root, pkg.bin['lanconf-relay']!);
  assert.match(readFileSync(bin, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});
