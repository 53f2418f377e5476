/**
 * The commented starter file of `gatehouse config init`, generated from the option table: every
 * setting commented out at its default, under its section, with its doc, variable and flag. The
 * sections themselves are left uncommented (an empty section is valid), so that uncommenting one
 * line is enough to set a value. `gatehouse config check` accepts the file as it is.
 */
import { stringify } from 'yaml';
import { formatDuration } from './duration.js';
import { loadConfig } from './load.js';
import { envName, fileFlagName, flagName, SHORT_FLAGS } from './names.js';
import { OPTIONS, type OptionSpec } from './options.js';
import { ROUTES_SECTION } from './routes.js';

const WIDTH = 98;

/** `text` wrapped into `# ` comment lines of at most WIDTH columns after `indent`. */
function comment(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + 2 + line.length + 1 + word.length > WIDTH) {
      lines.push(`${indent}# ${line}`);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(`${indent}# ${line}`);
  return lines;
}

/** A value as YAML text: scalars as YAML writes them, lists and mappings in flow style. */
function yamlValue(option: OptionSpec, value: unknown): string {
  if (option.type === 'duration') return formatDuration(Number(value));
  if (Array.isArray(value) || (typeof value === 'object' && value !== null)) return JSON.stringify(value);
  return stringify(value).trimEnd();
}

interface Section {
  readonly options: OptionSpec[];
  readonly sections: Map<string, Section>;
  /** Top-level entries in table order: an option or a section name. */
  readonly order: Array<OptionSpec | string>;
}

const emptySection = (): Section => ({ options: [], sections: new Map(), order: [] });

function tree(): Section {
  const root = emptySection();
  for (const option of OPTIONS) {
    let node = root;
    const parts = option.key.split('.');
    for (const part of parts.slice(0, -1)) {
      let child = node.sections.get(part);
      if (!child) {
        child = emptySection();
        node.sections.set(part, child);
        node.order.push(part);
      }
      node = child;
    }
    node.options.push(option);
    node.order.push(option);
  }
  return root;
}

export function starterConfig(): string {
  // Derived defaults (the database URL, the issuer…) shown as they resolve with nothing set.
  const defaults = loadConfig({ env: {} }).config.values;
  const out: string[] = [
    '# Gatehouse configuration: a starter file written by `gatehouse config init`.',
    '#',
    '# Every setting is commented out at its default: uncomment a line to change it. Each can also',
    '# be given as an environment variable or a flag of `gatehouse serve` (named above it), which',
    '# win over this file; the reference is docs/configuration.md. Check the file with',
    '#   gatehouse config check --config gatehouse.yaml',
    '#',
    '# Secrets (master_key, admin_key, metrics.token, keys.hs256_secret, passwords.pepper, tls.key)',
    '# are best given as GATEHOUSE_<NAME>_FILE pointing at a file only Gatehouse can read. Should you',
    '# write one here instead, keep this file private (it was created with mode 0600).',
  ];
  const write = (node: Section, indent: string) => {
    for (const [index, entry] of node.order.entries()) {
      if (index > 0 || indent === '') out.push('');
      if (typeof entry === 'string') {
        out.push(`${indent}${entry}:`);
        write(node.sections.get(entry) as Section, `${indent}  `);
        continue;
      }
      const option = entry;
      const leaf = option.key.split('.').at(-1) as string;
      const short = SHORT_FLAGS[option.key];
      const flags = option.secret
        ? `--${fileFlagName(option.key)} FILE`
        : `--${flagName(option.key)}${short ? ` (--${short})` : ''}`;
      out.push(...comment(option.doc, indent));
      const secret = option.secret ? ' (a secret: not taken as a flag value)' : '';
      out.push(...comment(`env ${envName(option.key)}, flag ${flags}${secret}`, indent));
      const value = defaults.get(option.key);
      if (value === undefined) out.push(`${indent}# ${leaf}:`);
      else if (typeof option.default === 'function') {
        out.push(...comment(`Derived from other settings when unset; here: ${yamlValue(option, value)}`, indent));
        out.push(`${indent}# ${leaf}:`);
      } else out.push(`${indent}# ${leaf}: ${yamlValue(option, value)}`);
    }
  };
  write(tree(), '');
  out.push(
    '',
    '# Route policies of the built-in gateway (a list; see docs/gateway.md). Reloaded on SIGHUP.',
    `# ${ROUTES_SECTION}:`,
    '#   - name: data',
    '#     match: { path: /data }',
    '#     upstream: http://127.0.0.1:5000',
    '',
  );
  return out.join('\n');
}
