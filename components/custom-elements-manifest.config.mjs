import { readFileSync } from 'node:fs';

// Custom Elements Manifest of lanconf's elements (`npm run cem`, part of `npm run build`): written to
// dist/custom-elements.json, which package.json's "customElements" names. Run from the package root.

/** Lit's reactive state (`_name: { state: true }`) and private members are not public API. */
const hideInternals = {
  name: 'lanconf-hide-internals',
  packageLinkPhase({ customElementsManifest }) {
    const internal = (name) => name.startsWith('_') || name.startsWith('#');
    for (const mod of customElementsManifest.modules ?? []) {
      for (const d of mod.declarations ?? []) {
        if (d.members) d.members = d.members.filter((m) => !internal(m.name) && m.privacy !== 'private');
        if (d.attributes) d.attributes = d.attributes.filter((a) => !internal(a.name) && !internal(a.fieldName ?? ''));
      }
    }
  },
};

/** The `detail` type of each `lan-*` event, from the one place they are declared (components/shared/events.ts). */
function eventDetails() {
  const source = readFileSync('components/shared/events.ts', 'utf8');
  const block = source.slice(source.indexOf('LanEventDetails'), source.indexOf('declare global'));
  const details = new Map();
  for (const m of block.matchAll(/'(lan-[a-z-]+)':\s*(\{[^}]*\}|[^;]+);/g)) details.set(m[1], m[2].trim().replace(/\s+/g, ' '));
  return details;
}

/**
 * What a consumer of the package can resolve: the manifest names the shipped modules (dist/components/…js, as
 * rollup writes them), each event's `CustomEvent<detail>` type, and, besides an element's own custom
 * properties, the shared `--lan-*` design tokens its styles read.
 */
const packageFacing = {
  name: 'lanconf-package-facing',
  packageLinkPhase({ customElementsManifest }) {
    const details = eventDetails();
    const shipped = (path) => (typeof path === 'string' && /^components\/.*\.ts$/.test(path) ? `dist/${path.replace(/\.ts$/, '.js')}` : path);
    for (const mod of customElementsManifest.modules ?? []) {
      const source = mod.path;
      mod.path = shipped(mod.path);
      for (const ex of mod.exports ?? []) if (ex.declaration?.module) ex.declaration.module = shipped(ex.declaration.module);
      for (const d of mod.declarations ?? []) {
        if (d.superclass?.module) d.superclass.module = shipped(d.superclass.module);
        for (const event of d.events ?? []) {
          const detail = details.get(event.name);
          if (detail) event.type = { text: `CustomEvent<${detail}>` };
        }
        if (!d.customElement) continue;
        const styles = source.replace(/\.component\.ts$/, '.styles.ts');
        let css = '';
        try {
          css = readFileSync(styles, 'utf8') + readFileSync(source, 'utf8');
        } catch {
          continue;
        }
        const own = new Set((d.cssProperties ?? []).map((p) => p.name));
        const shared = [...new Set([...css.matchAll(/var\((--lan-[a-z0-9-]+)/g)].map((m) => m[1]))].filter((n) => !own.has(n)).sort();
        d.cssProperties = [...(d.cssProperties ?? []), ...shared.map((name) => ({ name, description: 'A shared lanconf design token (set it on a page to style every element).' }))];
      }
    }
  },
};

export default {
  globs: ['components/**/*.ts'],
  exclude: ['components/**/*.styles.ts'],
  outdir: 'dist',
  litelement: true,
  // package.json already names the manifest; the analyzer must not rewrite it.
  packagejson: false,
  plugins: [hideInternals, packageFacing],
};
