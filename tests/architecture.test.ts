// The import rules of docs/architecture.md ("Folders and imports"), checked on the sources: what the browser
// entries reach is free of Node modules, and the relay core takes from the SDK only the wire and a few Node
// helpers. A rule broken by a new import fails here with the file and the import that broke it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Every .ts file under `dir` (relative to the root). */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The module specifiers `file` imports or re-exports, static and dynamic (type-only imports included). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = new Set<string>();
  for (const m of text.matchAll(/(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]/g)) found.add(m[1]!);
  for (const m of text.matchAll(/import\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) found.add(m[1]!);
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.add(m[1]!);
  return [...found];
}

/** A relative specifier of `file` as a root-relative .ts path; `undefined` for a package or `node:` module. */
function target(file: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  return relative(root, resolve(root, dirname(file), specifier)).replace(/\.js$/, '.ts');
}

/** Every source file `entry` reaches through relative imports, dynamic ones included. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const specs = importsOf(file);
    seen.set(file, specs);
    for (const s of specs) {
      const t = target(file, s);
      if (t && t.endsWith('.ts')) queue.push(t);
    }
  }
  return seen;
}

test('the browser entries reach no Node module and nothing under sdk/node/', () => {
  for (const entry of ['sdk/index.ts', 'components/index.ts', 'components/browser.ts']) {
    const broken: string[] = [];
    for (const [file, specs] of reach(entry)) {
      if (file.startsWith('sdk/node/') || file === 'sdk/node.ts' || file.startsWith('relay/')) broken.push(`${file} (reached)`);
      for (const s of specs) if (s.startsWith('node:') || s === 'ws' || s === 'better-sqlite3') broken.push(`${file} imports ${s}`);
    }
    assert.deepEqual(broken, [], `${entry} must stay browser-safe`);
  }
});

test('the relay core takes from the SDK only the wire, errors, the emitter, file names and lists, and the Node helpers', () => {
  // A native host (lanconf-relay join and the capture adapters) is an SDK client like any app: it may use all of it.
  const client = (file: string) => file === 'relay/joinCommand.ts' || file.startsWith('relay/capture/');
  const allowed = (path: string) => path.startsWith('sdk/protocol/') || path === 'sdk/errors.ts' || path === 'sdk/TypedEmitter.ts'
    || path === 'sdk/files/names.ts' || path === 'sdk/files/list.ts' || path === 'sdk/node/udpSeal.ts' || path === 'sdk/node/nodeCopy.ts';
  const broken: string[] = [];
  const files = sources('relay').filter((f) => !client(f));
  assert.ok(files.length > 20, 'the relay sources were found');
  for (const file of files) {
    for (const s of importsOf(file)) {
      const t = target(file, s);
      if (t?.startsWith('sdk/') && !allowed(t)) broken.push(`${file} imports ${t}`);
      if (t?.startsWith('components/')) broken.push(`${file} imports ${t}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the SDK and the components never import the relay, and components never import sdk/node/', () => {
  const broken: string[] = [];
  for (const file of [...sources('sdk'), ...sources('components')]) {
    for (const s of importsOf(file)) {
      const t = target(file, s);
      if (t?.startsWith('relay/')) broken.push(`${file} imports ${t}`);
      if (file.startsWith('components/') && (t?.startsWith('sdk/node/') || t === 'sdk/node.ts')) broken.push(`${file} imports ${t}`);
    }
  }
  assert.deepEqual(broken, []);
});
