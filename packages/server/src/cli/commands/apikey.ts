/**
 * `gatehouse apikey create|list|show|update|revoke|rotate|import`: thin clients of /admin/v1/api-keys.
 * Values are passed through as typed (`--expires-in 30d`, `--rate-limit 100/minute`): the server
 * validates them and its 400 names the field.
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { apiKeyView } from '../../http/admin/api-keys.js';
import { createAdminClient } from '../admin-client.js';
import { parseLimit, parseMetadata, parseScopes } from '../arguments.js';
import { CliError, EXIT } from '../exit-codes.js';
import { type Column, formatRecord, formatTable, printJson } from '../output.js';
import { type AdminFlags, addAdminOptions } from './status.js';

/** The admin API's view of a key (the server's own wire type); `key` only when one was issued. */
type ApiKeyView = ReturnType<typeof apiKeyView> & { key?: string };

const count = (value: string): number => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number');
  return Number(value);
};

/** The state, with the end of the grace period of a rotated key that still works. */
function stateText(key: ApiKeyView): string {
  if (key.state === 'rotated' && key.grace_until !== null && Date.parse(key.grace_until) > Date.now()) {
    return `rotated until ${key.grace_until}`;
  }
  return key.state;
}

/** How a key is shown: never more than its prefix and last four characters. */
const hint = (key: ApiKeyView) => (key.legacy ? '(legacy)' : `${key.prefix}_…${key.last4}`);

/** Said wherever a legacy key is shown. */
const ROTATE_LEGACY =
  'legacy keys (imported, no checksum) should be rotated: gatehouse apikey rotate ID issues a checksummed key';

const COLUMNS: Column<ApiKeyView>[] = [
  { header: 'id', value: (key) => key.id },
  { header: 'name', value: (key) => key.name },
  { header: 'owner', value: (key) => key.owner ?? '' },
  { header: 'key', value: hint },
  { header: 'state', value: stateText },
  { header: 'scopes', value: (key) => key.scopes.join(' ') },
  { header: 'expires', value: (key) => key.expires_at ?? 'never' },
  { header: 'last used', value: (key) => key.last_used_at ?? 'never' },
];

function describeKey(key: ApiKeyView): string {
  return formatRecord([
    ['id', key.id],
    ['name', key.name],
    ['owner', key.owner ?? `(none: authenticates as ${key.id})`],
    ['key', hint(key)],
    ...(key.legacy
      ? ([['legacy', `yes: imported, no checksum; rotate it (gatehouse apikey rotate ${key.id})`]] as const)
      : []),
    ['state', stateText(key)],
    ['scopes', key.scopes.join(' ') || '(none)'],
    ['rate limit', key.rate_limit ?? 'none'],
    ['remaining uses', key.remaining_uses ?? 'unlimited'],
    ['expires', key.expires_at ?? 'never'],
    ['created', key.created_at],
    ['updated', key.updated_at],
    ['last used', key.last_used_at ?? 'never'],
    ...(key.revoked_at ? ([['revoked', key.revoked_at]] as const) : []),
    ...(key.replaced_by ? ([['replaced by', `${key.replaced_by} (works until ${key.grace_until})`]] as const) : []),
    ...(key.rotated_from ? ([['rotated from', key.rotated_from]] as const) : []),
    ...(Object.keys(key.metadata).length > 0 ? ([['metadata', JSON.stringify(key.metadata)]] as const) : []),
  ]);
}

/** Shows a newly issued key: the only time its plaintext is ever printed. */
function printIssued(key: ApiKeyView, json: boolean | undefined, verb: string): void {
  if (json) {
    printJson(key);
    return;
  }
  process.stdout.write(
    `${verb} API key ${key.id} (${key.name}). Store the key now: it is shown only this once.\n\n  ${key.key}\n\n${describeKey(key)}\n`,
  );
}

const encode = encodeURIComponent;

export function registerApiKey(program: Command): void {
  const apikey = program.command('apikey').description('issue, list, update, rotate and revoke API keys');

  addAdminOptions(apikey.command('create').description('issue a key and print it (once)'))
    .requiredOption('--name <name>', 'what the key is for')
    .option('--owner <subject>', 'the subject the key authenticates as (default: the key id)')
    .option('--scopes <list>', 'scopes, comma- or space-separated', parseScopes)
    .option('--expires-in <duration>', 'lifetime, e.g. 30d, 12h (default: never)')
    .option('--rate-limit <rate>', 'requests per window, e.g. 100/minute, 10/s')
    .option('--remaining-uses <n>', 'number of verifications the key allows', count)
    .option('--metadata <json>', 'JSON object kept with the key', parseMetadata)
    .action(
      async (
        options: AdminFlags & {
          name: string;
          owner?: string;
          scopes?: string[];
          expiresIn?: string;
          rateLimit?: string;
          remainingUses?: number;
          metadata?: Record<string, unknown>;
        },
      ) => {
        const key = await createAdminClient(options).request<ApiKeyView>('POST', '/admin/v1/api-keys', {
          name: options.name,
          ...(options.owner !== undefined ? { owner: options.owner } : {}),
          ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
          ...(options.expiresIn !== undefined ? { expires_in: options.expiresIn } : {}),
          ...(options.rateLimit !== undefined ? { rate_limit: options.rateLimit } : {}),
          ...(options.remainingUses !== undefined ? { remaining_uses: options.remainingUses } : {}),
          ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
        });
        printIssued(key, options.json, 'Created');
      },
    );

  addAdminOptions(apikey.command('list').description('list keys, newest first'))
    .option('--owner <subject>', 'only keys of this owner')
    .option('--state <state>', 'active | revoked | rotated | expired | exhausted')
    .option('--limit <n>', 'keys per page (1-200)', parseLimit)
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--all', 'follow every page')
    .action(
      async (
        options: AdminFlags & { owner?: string; state?: string; limit?: number; cursor?: string; all?: boolean },
      ) => {
        const client = createAdminClient(options);
        const keys: ApiKeyView[] = [];
        let cursor = options.cursor;
        let next: string | null = null;
        do {
          const query = new URLSearchParams();
          if (options.owner !== undefined) query.set('owner', options.owner);
          if (options.state !== undefined) query.set('state', options.state);
          if (options.limit !== undefined) query.set('limit', String(options.limit));
          if (cursor !== undefined) query.set('cursor', cursor);
          const page = await client.request<{ data: ApiKeyView[]; next_cursor: string | null }>(
            'GET',
            `/admin/v1/api-keys${query.size > 0 ? `?${query}` : ''}`,
          );
          keys.push(...page.data);
          next = page.next_cursor;
          cursor = next ?? undefined;
        } while (options.all && next !== null);
        if (options.json) return printJson({ data: keys, next_cursor: next });
        process.stdout.write(keys.length === 0 ? 'no API keys\n' : `${formatTable(keys, COLUMNS)}\n`);
        if (keys.some((key) => key.legacy && key.state !== 'revoked' && key.state !== 'rotated')) {
          process.stderr.write(`warning: ${ROTATE_LEGACY}\n`);
        }
        if (next !== null) process.stdout.write(`more: --cursor ${next} (or --all)\n`);
      },
    );

  addAdminOptions(apikey.command('show').description('show one key').argument('<id>', 'key id (key_…)')).action(
    async (id: string, options: AdminFlags) => {
      const key = await createAdminClient(options).request<ApiKeyView>('GET', `/admin/v1/api-keys/${encode(id)}`);
      if (options.json) return printJson(key);
      process.stdout.write(`${describeKey(key)}\n`);
    },
  );

  addAdminOptions(
    apikey.command('update').description("change a key's name, scopes, metadata, limits or expiry").argument('<id>'),
  )
    .option('--name <name>', 'new name')
    .option('--scopes <list>', 'replace the scopes ("" for none)', parseScopes)
    .option('--metadata <json>', 'replace the metadata', parseMetadata)
    .option('--rate-limit <rate>', 'new rate limit, e.g. 100/minute')
    .option('--no-rate-limit', 'remove the rate limit')
    .option('--remaining-uses <n>', 'set the uses left', count)
    .option('--unlimited-uses', 'remove the use count')
    .option('--expires-in <duration>', 'expire this long from now, e.g. 30d')
    .option('--expires-at <time>', 'expire at this ISO 8601 time')
    .option('--no-expiry', 'never expire')
    .action(
      async (
        id: string,
        options: AdminFlags & {
          name?: string;
          scopes?: string[];
          metadata?: Record<string, unknown>;
          rateLimit?: string | false;
          remainingUses?: number;
          unlimitedUses?: boolean;
          expiresIn?: string;
          expiresAt?: string;
          expiry?: boolean;
        },
      ) => {
        const body: Record<string, unknown> = {
          ...(options.name !== undefined ? { name: options.name } : {}),
          ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
          ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
          ...(options.rateLimit !== undefined
            ? { rate_limit: options.rateLimit === false ? null : options.rateLimit }
            : {}),
          ...(options.remainingUses !== undefined ? { remaining_uses: options.remainingUses } : {}),
          ...(options.unlimitedUses ? { remaining_uses: null } : {}),
          ...(options.expiresIn !== undefined ? { expires_in: options.expiresIn } : {}),
          ...(options.expiresAt !== undefined ? { expires_at: options.expiresAt } : {}),
          ...(options.expiry === false ? { expires_at: null } : {}),
        };
        const key = await createAdminClient(options).request<ApiKeyView>(
          'PATCH',
          `/admin/v1/api-keys/${encode(id)}`,
          body,
        );
        if (options.json) return printJson(key);
        process.stdout.write(`${describeKey(key)}\n`);
      },
    );

  addAdminOptions(
    apikey
      .command('import')
      .description(
        'import keys another system already handed out (plaintext or SHA-256), marked legacy; all or nothing',
      )
      .argument('<file>', 'one key per line, or a JSON array of {name, owner, scopes, key | sha256} (.json)'),
  )
    .addOption(
      new Option('--format <format>', 'how the file is written (default: json for *.json, else lines)').choices([
        'lines',
        'json',
      ]),
    )
    .option('--sha256', 'lines are the SHA-256 (hex) of each key, not the key')
    .option('--name <name>', 'name of line-format keys, with the line number (default: imported)')
    .option('--owner <subject>', 'owner of keys that name none (default: each key its own id)')
    .option('--scopes <list>', 'scopes of keys that name none, comma- or space-separated', parseScopes)
    .action(
      async (
        file: string,
        options: AdminFlags & { format?: string; sha256?: boolean; name?: string; owner?: string; scopes?: string[] },
      ) => {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (error) {
          throw new CliError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, EXIT.usage);
        }
        const format = options.format ?? (file.toLowerCase().endsWith('.json') ? 'json' : 'lines');
        const keys = format === 'json' ? keysFromJson(text, file) : keysFromLines(text, options);
        const defaults = {
          ...(options.owner !== undefined ? { owner: options.owner } : {}),
          ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
        };
        const report = await createAdminClient(options).request<{
          imported: Array<ApiKeyView & { line: number }>;
          warning: string;
        }>('POST', '/admin/v1/api-keys/import', { keys: keys.map((key) => ({ ...defaults, ...key })) });
        if (options.json) return printJson(report);
        for (const key of report.imported) {
          process.stdout.write(
            `imported line ${key.line} as ${key.id} (${key.name}), authenticating as ${key.owner ?? key.id}\n`,
          );
        }
        process.stdout.write(`${report.imported.length} legacy keys imported\n`);
        process.stderr.write(`warning: ${report.warning}\n`);
      },
    );

  addAdminOptions(
    apikey.command('revoke').description('revoke a key at once (idempotent)').argument('<id>', 'key id (key_…)'),
  ).action(async (id: string, options: AdminFlags) => {
    const client = createAdminClient(options);
    await client.request('DELETE', `/admin/v1/api-keys/${encode(id)}`);
    const key = await client.request<ApiKeyView>('GET', `/admin/v1/api-keys/${encode(id)}`);
    if (options.json) return printJson(key);
    process.stdout.write(`Revoked API key ${key.id} (${key.name}) at ${key.revoked_at}\n`);
  });

  addAdminOptions(
    apikey
      .command('rotate')
      .description('issue a replacement key (printed once); the old one stops after the grace period')
      .argument('<id>', 'key id (key_…)'),
  )
    .option('--grace <duration>', 'how long the old key keeps working, e.g. 1h (default: 0, stops at once)')
    .option('--expires-in <duration>', "the replacement's lifetime (default: the old key's expiry)")
    .action(async (id: string, options: AdminFlags & { grace?: string; expiresIn?: string }) => {
      const key = await createAdminClient(options).request<ApiKeyView>(
        'POST',
        `/admin/v1/api-keys/${encode(id)}/rotate`,
        {
          ...(options.grace !== undefined ? { grace: options.grace } : {}),
          ...(options.expiresIn !== undefined ? { expires_in: options.expiresIn } : {}),
        },
      );
      printIssued(key, options.json, `Rotated ${id}: issued`);
    });
}

type ImportItem = Record<string, unknown> & { line: number };

/** One key per line (blank lines skipped; surrounding whitespace is not part of a key). */
function keysFromLines(text: string, options: { sha256?: boolean; name?: string }): ImportItem[] {
  const items: ImportItem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const value = raw.trim();
    if (value === '') return;
    const line = index + 1;
    items.push({
      line,
      name: `${options.name ?? 'imported'} (line ${line})`,
      [options.sha256 ? 'sha256' : 'key']: value,
    });
  });
  if (items.length === 0) throw new CliError('the file holds no keys', EXIT.usage);
  return items;
}

/** A JSON array of objects; each keeps its position (from 1) as its line for messages. */
function keysFromJson(text: string, file: string): ImportItem[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON: ${(error as Error).message}`, EXIT.usage);
  }
  if (!Array.isArray(parsed)) throw new CliError(`${file} must hold a JSON array of keys`, EXIT.usage);
  return parsed.map((item, index) => {
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new CliError(`${file}: entry ${index + 1} is not an object`, EXIT.usage);
    }
    return { ...(item as Record<string, unknown>), line: index + 1 };
  });
}
