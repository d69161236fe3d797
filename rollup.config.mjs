// Builds dist/: the package entries as ES modules (one file per source module, unminified, dependencies external:
// lit and @lit/context too, so an app bundles one copy), the type declarations, and two minified bundles for a plain
// <script type="module">: dist/browser/lanconf.js (the SDK) and dist/browser/lanconf-components.js (every element,
// with lit, @lit/context and the SDK inlined). Each browser entry holds what a first screen needs; the parts loaded
// on first use (audio, fallback codecs, the files panel, dialogs) are chunks beside it, dist/browser/chunks/
// <name>-<hash>.js, imported relative to the entry, so they come from wherever the entry came from.
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { builtinModules } from 'node:module';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})];
const external = (id) =>
  id.startsWith('node:') || builtinModules.includes(id) || deps.some((d) => id === d || id.startsWith(`${d}/`));

// zod's own bundling notes (pure-annotation positions, an internal cycle) are not ours to fix.
const onwarn = (warning, warn) => {
  if (warning.id?.includes('node_modules') || warning.ids?.every((id) => id.includes('node_modules'))) return;
  if (warning.code === 'CIRCULAR_DEPENDENCY' && warning.ids?.some((id) => id.includes('node_modules'))) return;
  warn(warning);
};

/** The bin must be executable: npx runs it directly. */
const executableCli = {
  name: 'executable-cli',
  writeBundle(options, bundle) {
    if (bundle['relay/cli.js']) chmodSync(`${options.dir}/relay/cli.js`, 0o755);
  },
};

/** Writes `file.br` and `file.gz` beside `file`: the relay serves them to browsers that accept them. */
function compressFile(file) {
  const data = readFileSync(file);
  writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: data.length } }));
  writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
}
const COMPRESSIBLE = /\.(js|mjs|css|html|json|svg)$/;

/** Precompresses what a browser build wrote (not the source maps, which only devtools fetch). */
const precompress = {
  name: 'precompress',
  writeBundle(options, bundle) {
    const dir = options.dir ?? dirname(options.file);
    for (const fileName of Object.keys(bundle)) if (COMPRESSIBLE.test(fileName)) compressFile(join(dir, fileName));
  },
};

/** Copies the demo pages to dist/demo, precompressed; the relay serves them from there (demo/ when not built). */
const demoPages = {
  name: 'demo-pages',
  writeBundle() {
    mkdirSync('dist/demo', { recursive: true });
    for (const name of readdirSync('demo')) {
      copyFileSync(join('demo', name), join('dist/demo', name));
      if (COMPRESSIBLE.test(name)) compressFile(join('dist/demo', name));
    }
  },
};

/**
 * Chunks of an earlier build would pile up (their names change with their content). Both browser builds write
 * into dist/browser/chunks; once the last has written, every chunk neither of them wrote goes. Removing them at
 * the start instead would leave a relay serving from dist/ without the chunks its pages ask for while it builds.
 */
const writtenChunks = new Set();
const recordChunks = {
  name: 'record-chunks',
  writeBundle(_options, bundle) {
    for (const name of Object.keys(bundle)) if (name.startsWith('chunks/')) writtenChunks.add(name.slice('chunks/'.length));
  },
};
const pruneChunks = {
  name: 'prune-chunks',
  writeBundle() {
    for (const name of readdirSync('dist/browser/chunks')) {
      const chunk = name.replace(/\.(map|gz|br)$/, '');
      if (!writtenChunks.has(chunk)) rmSync(join('dist/browser/chunks', name), { force: true });
    }
  },
};

/** Decodes a source map's `mappings`: for each generated line, its segments as [column, source index]. */
function decodeMappings(mappings) {
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const lines = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    const segments = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const ch of segment) {
        const digit = B64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length > 1) source += fields[1];
      segments.push([column, fields.length > 1 ? source : -1]);
    }
    lines.push(segments);
  }
  return lines;
}

/**
 * Where a module's bytes are counted: a package by its name, our own files by their path from the root. (The
 * TypeScript plugin's maps name our sources a few levels too far up, hence the leading `../` dropped.)
 */
function contributor(path) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  return pkg ? pkg[1] : relative('.', path).replace(/^(\.\.\/)+/, '');
}

/**
 * Writes dist/dev/bundle-size-<name>.json after a browser build: every emitted JavaScript file's size raw, gzip
 * (level 9) and brotli (quality 11), what it imports (statically, dynamically), and how many of its minified bytes each package or
 * source file accounts for (each byte of the output is charged, through the source map, to the source its segment
 * maps to; bytes mapped to nothing, such as rollup's glue, are `(unmapped)`). docs/performance.md quotes it.
 */
const sizeReport = (name) => ({
  name: 'size-report',
  generateBundle(options, bundle) {
    const files = [];
    for (const item of Object.values(bundle)) {
      if (item.type !== 'chunk') continue;
      const data = Buffer.from(item.code);
      const bytes = {};
      if (item.map) {
        const codeLines = item.code.split('\n');
        const name = (source) => source < 0 ? '(unmapped)' : contributor(resolve(options.dir, dirname(item.fileName), item.map.sources[source]));
        const charge = (source, text) => {
          const key = name(source);
          bytes[key] = (bytes[key] ?? 0) + Buffer.byteLength(text);
        };
        // A segment runs to the next one, across line ends: a template literal's lines (CSS, HTML) have none.
        let current = -1;
        decodeMappings(item.map.mappings).forEach((segments, i) => {
          const line = `${codeLines[i] ?? ''}\n`;
          charge(current, line.slice(0, segments[0]?.[0] ?? line.length));
          segments.forEach(([column, source], j) => {
            charge(source, line.slice(column, j + 1 < segments.length ? segments[j + 1][0] : line.length));
            current = source;
          });
        });
      }
      files.push({
        file: item.fileName,
        entry: item.isEntry,
        raw: data.length,
        gzip: gzipSync(data, { level: 9 }).length,
        brotli: brotliCompressSync(data, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } }).length,
        imports: item.imports,
        dynamicImports: item.dynamicImports,
        contributors: Object.fromEntries(Object.entries(bytes).sort((a, b) => b[1] - a[1])),
      });
    }
    mkdirSync('dist/dev', { recursive: true });
    writeFileSync(`dist/dev/bundle-size-${name}.json`, `${JSON.stringify(files, null, 2)}\n`);
  },
});

/** CSS text minified: comments out, whitespace collapsed, none around `{ } ; , >` nor after `:`; quoted strings untouched. */
function minifyCssText(text) {
  return text.split(/('[^'\n]*'|"[^"\n]*")/).map((part, i) => i % 2 ? part : part
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\s+/g, ' ')
    .replace(/ ?([{};,>]) ?/g, '$1')
    .replace(/: /g, ':') // never before a colon: `a :hover` is not `a:hover`
    .replace(/;}/g, '}')).join('');
}

/**
 * Minifies the CSS of the elements' `css` tagged templates in the browser bundles (a minifier leaves template text
 * alone): the text between `${…}` interpolations only. The positions inside those templates move, so their source
 * map lines are approximate; nothing else changes.
 */
const minifyCss = {
  name: 'minify-css',
  transform(code, id) {
    if (!/\/components\/.+\.styles\.ts$|\/components\/shared\/theme\.ts$/.test(id)) return null;
    const out = code.replace(/\bcss\s*`([^`]*)`/g, (_, body) =>
      `css\`${body.split(/(\$\{[^}]*\})/).map((part, i) => i % 2 ? part : minifyCssText(part)).join('').trim()}\``);
    return out === code ? null : { code: out, map: null };
  },
};

const include = ['sdk/**/*.ts', 'relay/**/*.ts', 'components/**/*.ts'];

/** A browser bundle: `input` (name → source) minified into dist/browser, its lazy parts as chunks/<name>-<hash>.js. */
const browserBundle = (input, plugins = []) => ({
  input,
  onwarn,
  // The chunks import what they share with the entry (lit, the SDK) from the entry file itself. Rollup's default
  // would instead move the entry's code into a chunk and leave a facade, i.e. one more round trip before the
  // first screen.
  preserveEntrySignatures: 'allow-extension',
  plugins: [
    nodeResolve({ browser: true }),
    typescript({ tsconfig: './tsconfig.json', include, declaration: false, declarationMap: false, outDir: 'dist/browser', sourceMap: true, noEmitOnError: true }),
    minifyCss,
    ...plugins,
  ],
  output: {
    dir: 'dist/browser',
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'chunks/[name]-[hash].js',
    sourcemap: true,
    sourcemapExcludeSources: true,
    plugins: [
      terser({ ecma: 2022, module: true, compress: { passes: 2 }, format: { comments: /@license|@preserve|^!/ } }),
      sizeReport(Object.keys(input)[0]),
      precompress,
    ],
  },
});

export default [
  {
    input: {
      'sdk/index': 'sdk/index.ts',
      'sdk/node': 'sdk/node.ts',
      'relay/index': 'relay/index.ts',
      'relay/cli': 'relay/cli.ts',
      'components/index': 'components/index.ts',
    },
    external,
    onwarn,
    // Readable, unminified modules for bundlers and Node: no source maps to ship (they could only point at sources
    // the package does not carry); the browser bundles below keep theirs.
    plugins: [executableCli, typescript({ tsconfig: './tsconfig.json', include, declaration: true, declarationMap: false, declarationDir: 'dist/types', outDir: 'dist', sourceMap: false, noEmitOnError: true })],
    output: { dir: 'dist', format: 'es', preserveModules: true, preserveModulesRoot: '.', sourcemap: false, entryFileNames: '[name].js' },
  },
  // Two builds, not one with two entries: each entry then carries all it needs for its first screen, rather than
  // both importing a shared chunk (a second round trip before anything shows). Their lazy chunks share the folder.
  browserBundle({ lanconf: 'sdk/index.ts' }, [recordChunks]),
  browserBundle({ 'lanconf-components': 'components/browser.ts' }, [demoPages, recordChunks, pruneChunks]),
];
