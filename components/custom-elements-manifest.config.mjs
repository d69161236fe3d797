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

export default {
  globs: ['components/**/*.ts'],
  exclude: ['components/**/*.styles.ts'],
  outdir: 'dist',
  litelement: true,
  // package.json already names the manifest; the analyzer must not rewrite it.
  packagejson: false,
  plugins: [hideInternals],
};
