/**
 * `gatehouse user …`: manage users through the admin API. Passwords are read from standard
 * input (`--password-stdin`) or a terminal prompt without echo, never from an argument.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { userResource } from '../../http/admin/users.js';
import { type AdminClient, createAdminClient } from '../admin-client.js';
import { acceptDashedArgument, parseLimit, parseMetadata, parseScopes } from '../arguments.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatRecord, formatTable, printJson } from '../output.js';
import { readNewPassword } from '../password-input.js';
import { type AdminFlags, addAdminOptions } from './status.js';

/** The admin API's view of a user (the server's own wire type). */
type UserResource = ReturnType<typeof userResource>;

function printUser(user: UserResource, json: boolean | undefined): void {
  if (json) {
    printJson(user);
    return;
  }
  process.stdout.write(
    `${formatRecord([
      ['id', user.id],
      ['username', user.username],
      ['scopes', user.scopes.join(' ') || '(none)'],
      ['disabled', user.disabled ? 'yes' : 'no'],
      ['password', `${user.password_scheme}, set ${user.password_changed_at}`],
      ['created', user.created_at],
      ['updated', user.updated_at],
      ['last login', user.last_login_at ?? 'never'],
      ['metadata', JSON.stringify(user.metadata)],
    ])}\n`,
  );
}

/** A user named by id (`usr_…`) or by username. */
async function resolveUserId(client: AdminClient, user: string): Promise<string> {
  if (/^usr_[A-Za-z0-9]+$/.test(user)) return user;
  const page = await client.request<{ data: UserResource[] }>(
    'GET',
    `/admin/v1/users?username=${encodeURIComponent(user)}`,
  );
  const found = page.data[0];
  if (!found) throw new CliError(`no user named "${user}"`, EXIT.notFound);
  return found.id;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('manage users (HTTP Basic and password logins)');

  addAdminOptions(
    user
      .command('create')
      .description('create a user; the password is prompted for without echo, or read with --password-stdin')
      .requiredOption('--username <name>', 'the username (case-insensitive, Unicode-normalised)')
      .option('--scopes <scopes>', 'scopes, comma- or space-separated', parseScopes)
      .option('--metadata <json>', 'a JSON object of labels', parseMetadata)
      .option('--disabled', 'create the user disabled')
      .option('--password-stdin', 'read the password from standard input'),
  ).action(
    async (
      options: AdminFlags & {
        username: string;
        scopes?: string[];
        metadata?: Record<string, unknown>;
        disabled?: boolean;
        passwordStdin?: boolean;
      },
    ) => {
      const client = createAdminClient(options);
      const password = await readNewPassword(options.passwordStdin === true);
      const created = await client.request<UserResource>('POST', '/admin/v1/users', {
        username: options.username,
        password,
        ...(options.scopes ? { scopes: options.scopes } : {}),
        ...(options.metadata ? { metadata: options.metadata } : {}),
        ...(options.disabled ? { disabled: true } : {}),
      });
      printUser(created, options.json);
    },
  );

  addAdminOptions(
    user
      .command('list')
      .description('list users, oldest first')
      .option('--limit <n>', 'users per page (1-200)', parseLimit, 50)
      .option('--cursor <cursor>', 'continue after a previous page')
      .option('--disabled', 'only disabled users')
      .option('--all', 'follow every page'),
  ).action(async (options: AdminFlags & { limit: number; cursor?: string; disabled?: boolean; all?: boolean }) => {
    const client = createAdminClient(options);
    const users: UserResource[] = [];
    let cursor = options.cursor ?? null;
    do {
      const query = new URLSearchParams({ limit: String(options.limit) });
      if (cursor) query.set('cursor', cursor);
      if (options.disabled) query.set('disabled', 'true');
      const page = await client.request<{ data: UserResource[]; next_cursor: string | null }>(
        'GET',
        `/admin/v1/users?${query}`,
      );
      users.push(...page.data);
      cursor = page.next_cursor;
    } while (options.all && cursor);
    if (options.json) return printJson({ data: users, next_cursor: cursor });
    process.stdout.write(
      `${formatTable(users, [
        { header: 'id', value: (row) => row.id },
        { header: 'username', value: (row) => row.username },
        { header: 'scopes', value: (row) => row.scopes.join(' ') },
        { header: 'disabled', value: (row) => (row.disabled ? 'yes' : '') },
        { header: 'password', value: (row) => row.password_scheme },
        { header: 'last login', value: (row) => row.last_login_at ?? 'never' },
      ])}\n`,
    );
    if (cursor) process.stderr.write(`more users: --cursor ${cursor} (or --all)\n`);
  });

  addAdminOptions(
    acceptDashedArgument(user.command('show'))
      .description('show one user')
      .argument('<user>', 'id (usr_…) or username'),
  ).action(async (name: string, options: AdminFlags) => {
    const client = createAdminClient(options);
    const id = await resolveUserId(client, name);
    printUser(await client.request<UserResource>('GET', `/admin/v1/users/${encodeURIComponent(id)}`), options.json);
  });

  addAdminOptions(
    acceptDashedArgument(user.command('update'))
      .description('change a user’s username, scopes or metadata')
      .argument('<user>', 'id (usr_…) or username')
      .option('--username <name>', 'a new username')
      .option('--scopes <scopes>', 'replace the scopes (comma- or space-separated; "" for none)', parseScopes)
      .option('--metadata <json>', 'replace the metadata (a JSON object)', parseMetadata),
  ).action(
    async (
      name: string,
      options: AdminFlags & { username?: string; scopes?: string[]; metadata?: Record<string, unknown> },
    ) => {
      const changes = {
        ...(options.username !== undefined ? { username: options.username } : {}),
        ...(options.scopes !== undefined ? { scopes: options.scopes } : {}),
        ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
      };
      if (Object.keys(changes).length === 0) {
        throw new CliError('nothing to change: pass --username, --scopes or --metadata', EXIT.usage);
      }
      const client = createAdminClient(options);
      const id = await resolveUserId(client, name);
      printUser(
        await client.request<UserResource>('PATCH', `/admin/v1/users/${encodeURIComponent(id)}`, changes),
        options.json,
      );
    },
  );

  addAdminOptions(
    acceptDashedArgument(user.command('passwd'))
      .description('set a user’s password (prompted without echo, or --password-stdin)')
      .argument('<user>', 'id (usr_…) or username')
      .option('--password-stdin', 'read the password from standard input'),
  ).action(async (name: string, options: AdminFlags & { passwordStdin?: boolean }) => {
    const client = createAdminClient(options);
    const id = await resolveUserId(client, name);
    const password = await readNewPassword(options.passwordStdin === true);
    await client.request('PUT', `/admin/v1/users/${encodeURIComponent(id)}/password`, { password });
    if (options.json) printJson({ id, password_changed: true });
    else process.stdout.write(`password changed for ${name}\n`);
  });

  for (const [action, description] of [
    ['disable', 'disable a user: its logins are refused until enabled'],
    ['enable', 'enable a disabled user'],
  ] as const) {
    addAdminOptions(
      acceptDashedArgument(user.command(action)).description(description).argument('<user>', 'id (usr_…) or username'),
    ).action(async (name: string, options: AdminFlags) => {
      const client = createAdminClient(options);
      const id = await resolveUserId(client, name);
      printUser(
        await client.request<UserResource>('POST', `/admin/v1/users/${encodeURIComponent(id)}/${action}`),
        options.json,
      );
    });
  }

  addAdminOptions(
    acceptDashedArgument(user.command('delete'))
      .description('delete a user for good')
      .argument('<user>', 'id (usr_…) or username'),
  ).action(async (name: string, options: AdminFlags) => {
    const client = createAdminClient(options);
    const id = await resolveUserId(client, name);
    await client.request('DELETE', `/admin/v1/users/${encodeURIComponent(id)}`);
    if (options.json) printJson({ id, deleted: true });
    else process.stdout.write(`deleted ${name} (${id})\n`);
  });

  addAdminOptions(
    user
      .command('import')
      .description(
        'import users from an Apache htpasswd file; bcrypt entries (htpasswd -B) only, upgraded to argon2id at first login',
      )
      .requiredOption('--htpasswd <file>', 'the htpasswd file')
      .option('--scopes <scopes>', 'scopes for every imported user', parseScopes)
      .option('--skip-existing', 'skip users that exist instead of refusing the import'),
  ).action(async (options: AdminFlags & { htpasswd: string; scopes?: string[]; skipExisting?: boolean }) => {
    let text: string;
    try {
      text = readFileSync(options.htpasswd, 'utf8');
    } catch (error) {
      throw new CliError(
        `cannot read ${options.htpasswd} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        EXIT.usage,
      );
    }
    const report = await createAdminClient(options).request<{
      imported: Array<{ line: number; username: string; id: string }>;
      skipped: Array<{ line: number; username: string; reason: string }>;
    }>('POST', '/admin/v1/users/import', {
      htpasswd: text,
      ...(options.scopes ? { scopes: options.scopes } : {}),
      ...(options.skipExisting ? { skip_existing: true } : {}),
    });
    if (options.json) return printJson(report);
    for (const entry of report.imported) process.stdout.write(`imported ${entry.username} (${entry.id})\n`);
    for (const entry of report.skipped)
      process.stdout.write(`skipped ${entry.username}: exists (line ${entry.line})\n`);
    process.stdout.write(
      `${report.imported.length} imported, ${report.skipped.length} skipped; passwords become argon2id at each user’s first login\n`,
    );
  });
}
