// Builds dist/: the package entries as ES modules (one file per source module, dependencies external: lit and
// @lit/context too, so an app bundles one copy), the type declarations, and two self-contained bundles for a plain
// <script type="module">: dist/browser/lanconf.js (the SDK) and dist/browser/lanconf-components.js (every element,
// with lit, @lit/context and the SDK inlined).
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { builtinModules } from 'node:module';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

const include = ['sdk/**/*.ts', 'relay/**/*.ts', 'components/**/*.ts'];

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
    plugins: [executableCli, typescript({ tsconfig: './tsconfig.json', include, declaration: true, declarationDir: 'dist/types', outDir: 'dist', sourceMap: true, noEmitOnError: true })],
    output: { dir: 'dist', format: 'es', preserveModules: true, preserveModulesRoot: '.', sourcemap: true, sourcemapExcludeSources: true, entryFileNames: '[name].js' },
  },
  {
    input: 'sdk/index.ts',
    onwarn,
    plugins: [
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', include, declaration: false, declarationMap: false, outDir: 'dist/browser', sourceMap: true, noEmitOnError: true }),
      precompress,
    ],
    output: { file: 'dist/browser/lanconf.js', format: 'es', sourcemap: true, sourcemapExcludeSources: true },
  },
  {
    input: 'components/index.ts',
    onwarn,
    plugins: [
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', include, declaration: false, declarationMap: false, outDir: 'dist/browser', sourceMap: true, noEmitOnError: true }),
      precompress,
      demoPages,
    ],
    output: { file: 'dist/browser/lanconf-components.js', format: 'es', sourcemap: true, sourcemapExcludeSources: true },
  },
];
