// Builds dist/: the package entries as ES modules (one file per source module, dependencies external),
// the type declarations, and dist/browser/lanconf.js, a self-contained SDK for a plain <script type="module">.
import typescript from '@rollup/plugin-typescript';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { builtinModules } from 'node:module';
import { chmodSync, readFileSync } from 'node:fs';

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
    output: { dir: 'dist', format: 'es', preserveModules: true, preserveModulesRoot: '.', sourcemap: true, entryFileNames: '[name].js' },
  },
  {
    input: 'sdk/index.ts',
    onwarn,
    plugins: [
      nodeResolve({ browser: true }),
      typescript({ tsconfig: './tsconfig.json', include, declaration: false, declarationMap: false, outDir: 'dist/browser', sourceMap: true, noEmitOnError: true }),
    ],
    output: { file: 'dist/browser/lanconf.js', format: 'es', sourcemap: true },
  },
];
