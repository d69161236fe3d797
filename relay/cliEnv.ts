/**
 * Every option of `lanconf-relay` and its commands can come from the environment: `--passcode` from
 * `LANCONF_PASSCODE`, `--max-connections` from `LANCONF_MAX_CONNECTIONS`… so a secret never shows in `ps`,
 * and a service unit sets options in one place. A flag on the command line wins over the variable.
 * @module
 * @internal
 */

/** The parseArgs option specs this reads. */
type Specs = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** The environment variable of option `name`: `LANCONF_` and the name in upper case, dashes as underscores. */
export function envName(name: string): string {
  return `LANCONF_${name.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * `argv` with the options it does not give taken from the environment (`--name=value`; a boolean from
 * `1/true/yes/on`, or off from `0/false/no/off`; a repeatable one comma-separated).
 * @throws Error naming the variable when a boolean one is neither.
 */
export function withEnvironment(argv: readonly string[], specs: Specs, env: NodeJS.ProcessEnv = process.env): string[] {
  const given = new Set<string>();
  for (const arg of argv) {
    if (arg === '--') break;
    if (arg.startsWith('--')) given.add(arg.slice(2).split('=')[0]!);
    else if (/^-[a-zA-Z]$/.test(arg)) {
      const long = Object.entries(specs).find(([, s]) => s.short === arg[1])?.[0];
      if (long) given.add(long);
    }
  }
  const extra: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (name === 'help' || name === 'version' || given.has(name)) continue;
    const value = env[envName(name)];
    if (value === undefined || value === '') continue;
    if (spec.type === 'boolean') {
      if (/^(1|true|yes|on)$/i.test(value)) extra.push(`--${name}`);
      else if (!/^(0|false|no|off)$/i.test(value)) throw new Error(`${envName(name)} must be true or false, not "${value}"`);
    } else if (spec.multiple) {
      for (const item of value.split(',').map((v) => v.trim()).filter(Boolean)) extra.push(`--${name}=${item}`);
    } else {
      extra.push(`--${name}=${value}`);
    }
  }
  // Before any `--` or positional-only tail, so parseArgs reads them as options.
  const end = argv.indexOf('--');
  return end === -1 ? [...argv, ...extra] : [...argv.slice(0, end), ...extra, ...argv.slice(end)];
}
