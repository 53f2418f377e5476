/**
 * The one naming rule of the settings, and every other `GATEHOUSE_*` name the project reads.
 *
 * An option's YAML key is its name; the rest is derived from it:
 * - environment variable: `GATEHOUSE_` + the key upper-cased, `.` → `_`
 *   (`passwords.argon2.memory_kib` → `GATEHOUSE_PASSWORDS_ARGON2_MEMORY_KIB`), and the same with
 *   `_FILE` appended for a file holding the value;
 * - flag of `gatehouse serve`: `--` + the key with `.` and `_` → `-`
 *   (`--passwords-argon2-memory-kib`); for a secret, only `--<flag>-file FILE`.
 *
 * Names used before this rule (Gatehouse ≤ 0.x) keep working as deprecated aliases, with a warning
 * naming the new one; they are listed here, not in the option table.
 */
import { OPTIONS, type OptionSpec } from './options.js';

export const ENV_PREFIX = 'GATEHOUSE_';

/** `public.port` → `GATEHOUSE_PUBLIC_PORT`. */
export function envName(key: string): string {
  return `${ENV_PREFIX}${key.toUpperCase().replaceAll('.', '_')}`;
}

/** `public.port` → `public-port` (the flag without its dashes). */
export function flagName(key: string): string {
  return key.replaceAll(/[._]/g, '-');
}

/** The flag that takes a secret option's value from a file: `master_key` → `master-key-file`. */
export function fileFlagName(key: string): string {
  return `${flagName(key)}-file`;
}

/** Short flags kept beside the derived ones because they are typed the most. */
export const SHORT_FLAGS: Readonly<Record<string, string>> = {
  'public.host': 'host',
  'public.port': 'port',
};

/**
 * Environment variables from before the naming rule, by option key. Each (and its `_FILE` form)
 * still sets the option, with a deprecation warning; setting it together with the new name is an
 * error (which one would win is not obvious).
 */
export const DEPRECATED_ENV: Readonly<Record<string, readonly string[]>> = {
  'public.host': ['GATEHOUSE_HOST'],
  'public.port': ['GATEHOUSE_PORT'],
  'passwords.min_length': ['GATEHOUSE_PASSWORD_MIN_LENGTH'],
  'passwords.blocklist_file': ['GATEHOUSE_PASSWORD_BLOCKLIST_FILE'],
  'passwords.argon2.memory_kib': ['GATEHOUSE_ARGON2_MEMORY_KIB'],
  'passwords.argon2.iterations': ['GATEHOUSE_ARGON2_ITERATIONS'],
  'passwords.argon2.parallelism': ['GATEHOUSE_ARGON2_PARALLELISM'],
  'passwords.pepper': ['GATEHOUSE_PASSWORD_PEPPER'],
};

/** `GATEHOUSE_*` variables that are not options but are read elsewhere; never "unknown". */
export const OTHER_VARIABLES: Readonly<Record<string, string>> = {
  GATEHOUSE_CONFIG: 'the YAML config file, like `--config` (serve, migrate, config check|print)',
  GATEHOUSE_ADMIN_URL: 'admin API base URL of the admin-API commands of the CLI, like `--admin-url`',
  GATEHOUSE_URL: 'public URL of the server for `gatehouse token`, like `--url`',
};

/** Prefixes of variables read by the test suite (`GATEHOUSE_TEST_DATABASE_URL`…), never by the server. */
export const OTHER_PREFIXES: readonly string[] = ['GATEHOUSE_TEST_'];

/** Every name an option answers to in the environment, the current one first. */
export function envNamesOf(option: OptionSpec): { current: string; deprecated: readonly string[] } {
  return { current: envName(option.key), deprecated: DEPRECATED_ENV[option.key] ?? [] };
}

/** Every known `GATEHOUSE_*` variable → what it is (the current name for a deprecated one). */
function knownVariables(): Map<string, { option?: OptionSpec; replacement?: string }> {
  const known = new Map<string, { option?: OptionSpec; replacement?: string }>();
  for (const option of OPTIONS) {
    const { current, deprecated } = envNamesOf(option);
    known.set(current, { option });
    known.set(`${current}_FILE`, { option });
    for (const old of deprecated) {
      known.set(old, { option, replacement: current });
      known.set(`${old}_FILE`, { option, replacement: `${current}_FILE` });
    }
  }
  for (const name of Object.keys(OTHER_VARIABLES)) known.set(name, {});
  return known;
}

const KNOWN_VARIABLES = knownVariables();

/** Whether the project reads `name` (an option, its `_FILE`, an alias, or another variable). */
export function isKnownVariable(name: string): boolean {
  return KNOWN_VARIABLES.has(name) || OTHER_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** The current name of a deprecated variable, or undefined. */
export function replacementOf(name: string): string | undefined {
  return KNOWN_VARIABLES.get(name)?.replacement;
}

/** Current (not deprecated) variable names, for "did you mean" suggestions. */
export function currentVariableNames(): string[] {
  return [...KNOWN_VARIABLES].filter(([, entry]) => entry.replacement === undefined).map(([name]) => name);
}
