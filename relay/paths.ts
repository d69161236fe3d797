/**
 * Where the package's own files are (demo page, built bundles), and the default data dir.
 * @module
 * @internal
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The folder holding lanconf's package.json (works from sources and from `dist/`). */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        if ((JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'lanconf') return (root = dir);
      } catch {
        // not ours; keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('lanconf: cannot find the package root');
    dir = parent;
  }
}

/** The package version. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The default data dir: `$LANCONF_DATA_DIR`, else the platform's per-user data folder + `lanconf`. */
export function defaultDataDir(): string {
  if (process.env.LANCONF_DATA_DIR) return process.env.LANCONF_DATA_DIR;
  if (process.platform === 'win32') return join(process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'lanconf');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'lanconf');
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'lanconf');
}
