/**
 * `gatehouse client create|list|show|update|rotate-secret|delete`: thin clients of
 * `/admin/v1/clients` (docs/oauth.md). The client secret is printed once, at creation or rotation.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { parseDuration } from '../../config/duration.js';
import { createAdminClient } from '../admin-client.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatRecord, formatTable, printJson } from '../output.js';
import { type AdminFlags, addAdminOptions } from './status.js';

interface ClientView {
  client_id: string;
  client_secret?: string;
  client_name: string;
  grant_types: string[];
  scope: string;
  redirect_uris: string[];
  audience: string[];
  token_endpoint_auth_method: string;
  jwks_uri?: string;
  access_token_lifetime: number | null;
  refresh_token_lifetime: number | null;
  skip_consent: boolean;
  previous_secret_expires_at?: string;
  created_at: string;
  updated_at: string;
}

interface RegistrationFlags {
  name?: string;
  grantType?: string[];
  scope?: string;
  redirectUri?: string[];
  audience?: string[];
  authMethod?: string;
  jwksUri?: string;
  jwksFile?: string;
  accessTokenLifetime?: number;
  refreshTokenLifetime?: number;
  skipConsent?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

const seconds = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === undefined || ms < 1000) throw new InvalidArgumentError('must be a duration such as 15m, 1h or 30d');
  return Math.round(ms / 1000);
};

function addRegistrationOptions(command: Command): Command {
  return command
    .option('--name <name>', 'human-readable name (client_name), shown on the consent page')
    .option(
      '--grant-type <type>',
      'allowed grant: client_credentials, authorization_code, refresh_token, urn:ietf:params:oauth:grant-type:token-exchange (repeatable)',
      collect,
    )
    .option('--scope <scopes>', 'space-separated scopes the client may receive')
    .option('--redirect-uri <uri>', 'redirect URI, matched exactly (repeatable)', collect)
    .option(
      '--audience <aud>',
      'audience (resource) the client may request; the first is the default (repeatable)',
      collect,
    )
    .option('--auth-method <method>', 'client_secret_basic (default), client_secret_post, private_key_jwt, none')
    .option('--jwks-uri <url>', 'URL of the client’s public keys (private_key_jwt)')
    .option('--jwks-file <path>', 'file holding the client’s public JWK Set (private_key_jwt)')
    .option('--access-token-lifetime <duration>', 'access-token lifetime for this client, e.g. 15m', seconds)
    .option('--refresh-token-lifetime <duration>', 'refresh-token lifetime for this client, e.g. 30d', seconds)
    .option('--skip-consent', 'first-party client: no consent page');
}

async function registrationBody(flags: RegistrationFlags): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {};
  if (flags.name !== undefined) body.client_name = flags.name;
  if (flags.grantType !== undefined) body.grant_types = flags.grantType;
  if (flags.scope !== undefined) body.scope = flags.scope;
  if (flags.redirectUri !== undefined) body.redirect_uris = flags.redirectUri;
  if (flags.audience !== undefined) body.audience = flags.audience;
  if (flags.authMethod !== undefined) body.token_endpoint_auth_method = flags.authMethod;
  if (flags.jwksUri !== undefined) body.jwks_uri = flags.jwksUri;
  if (flags.jwksFile !== undefined) {
    const { readFile } = await import('node:fs/promises');
    try {
      body.jwks = JSON.parse(await readFile(flags.jwksFile, 'utf8'));
    } catch (error) {
      throw new CliError(`--jwks-file: cannot read a JSON JWK Set (${(error as Error).message})`, EXIT.usage);
    }
  }
  if (flags.accessTokenLifetime !== undefined) body.access_token_lifetime = flags.accessTokenLifetime;
  if (flags.refreshTokenLifetime !== undefined) body.refresh_token_lifetime = flags.refreshTokenLifetime;
  if (flags.skipConsent !== undefined) body.skip_consent = flags.skipConsent;
  return body;
}

function printClient(client: ClientView, json: boolean | undefined): void {
  if (json) {
    printJson(client);
    return;
  }
  const lifetime = (value: number | null) => (value === null ? 'server default' : `${value}s`);
  process.stdout.write(
    `${formatRecord([
      ['client_id', client.client_id],
      ...(client.client_secret ? ([['client_secret', client.client_secret]] as const) : []),
      ['name', client.client_name],
      ['grant types', client.grant_types.join(', ')],
      ['scope', client.scope || '(none)'],
      ['redirect uris', client.redirect_uris.join(' ') || '(none)'],
      ['audience', client.audience.join(' ') || '(server default)'],
      ['auth method', client.token_endpoint_auth_method],
      ...(client.jwks_uri ? ([['jwks uri', client.jwks_uri]] as const) : []),
      ['access tokens', lifetime(client.access_token_lifetime)],
      ['refresh tokens', lifetime(client.refresh_token_lifetime)],
      ['consent', client.skip_consent ? 'skipped (first party)' : 'asked'],
      ...(client.previous_secret_expires_at
        ? ([['previous secret', `valid until ${client.previous_secret_expires_at}`]] as const)
        : []),
      ['created', client.created_at],
    ])}\n`,
  );
  if (client.client_secret) {
    process.stderr.write('The client secret is shown only once: store it now.\n');
  }
}

export function registerClient(program: Command): void {
  const client = program
    .command('client')
    .description('OAuth clients: create, list, show, update, rotate-secret, delete');

  addAdminOptions(addRegistrationOptions(client.command('create').description('register an OAuth client')))
    .option('--id <client_id>', 'choose the client id (default: a generated cli_… id)')
    .action(async (options: AdminFlags & RegistrationFlags & { id?: string }) => {
      const body = await registrationBody(options);
      if (options.id !== undefined) body.client_id = options.id;
      printClient(
        await createAdminClient(options).request<ClientView>('POST', '/admin/v1/clients', body),
        options.json,
      );
    });

  addAdminOptions(
    client
      .command('list')
      .description('list OAuth clients')
      .option('--limit <n>', 'page size (1-200)', '50')
      .option('--cursor <cursor>', 'the next_cursor of a previous page'),
  ).action(async (options: AdminFlags & { limit: string; cursor?: string }) => {
    const query = new URLSearchParams({ limit: options.limit, ...(options.cursor ? { cursor: options.cursor } : {}) });
    const page = await createAdminClient(options).request<{ data: ClientView[]; next_cursor: string | null }>(
      'GET',
      `/admin/v1/clients?${query}`,
    );
    if (options.json) return printJson(page);
    process.stdout.write(
      `${formatTable(page.data, [
        { header: 'client_id', value: (row) => row.client_id },
        { header: 'name', value: (row) => row.client_name },
        { header: 'grant types', value: (row) => row.grant_types.join(',') },
        { header: 'auth', value: (row) => row.token_endpoint_auth_method },
        { header: 'scope', value: (row) => row.scope },
      ])}\n`,
    );
    if (page.next_cursor) process.stdout.write(`more: --cursor ${page.next_cursor}\n`);
  });

  addAdminOptions(client.command('show').description('show one OAuth client').argument('<client_id>')).action(
    async (id: string, options: AdminFlags) => {
      printClient(
        await createAdminClient(options).request<ClientView>('GET', `/admin/v1/clients/${encodeURIComponent(id)}`),
        options.json,
      );
    },
  );

  addAdminOptions(
    addRegistrationOptions(client.command('update').description('change an OAuth client').argument('<client_id>')),
  )
    .option('--no-skip-consent', 'ask for consent again')
    .action(async (id: string, options: AdminFlags & RegistrationFlags) => {
      const body = await registrationBody(options);
      printClient(
        await createAdminClient(options).request<ClientView>(
          'PATCH',
          `/admin/v1/clients/${encodeURIComponent(id)}`,
          body,
        ),
        options.json,
      );
    });

  addAdminOptions(
    client
      .command('rotate-secret')
      .description('issue a new client secret; the old one keeps working for the grace period')
      .argument('<client_id>')
      .option(
        '--grace <duration>',
        'how long the previous secret stays valid (default: oauth.secret_grace; 0 ends it now)',
      ),
  ).action(async (id: string, options: AdminFlags & { grace?: string }) => {
    const body: Record<string, unknown> = {};
    if (options.grace !== undefined) {
      const ms = options.grace === '0' ? 0 : parseDuration(options.grace);
      if (ms === undefined) throw new CliError('--grace must be a duration such as 1h or 0', EXIT.usage);
      body.grace_period_seconds = Math.round(ms / 1000);
    }
    const result = await createAdminClient(options).request<{
      client_id: string;
      client_secret: string;
      previous_secret_expires_at: string | null;
    }>('POST', `/admin/v1/clients/${encodeURIComponent(id)}/rotate-secret`, body);
    if (options.json) return printJson(result);
    process.stdout.write(
      `${formatRecord([
        ['client_id', result.client_id],
        ['client_secret', result.client_secret],
        [
          'previous secret',
          result.previous_secret_expires_at ? `valid until ${result.previous_secret_expires_at}` : 'revoked now',
        ],
      ])}\n`,
    );
    process.stderr.write('The client secret is shown only once: store it now.\n');
  });

  addAdminOptions(client.command('delete').description('delete an OAuth client').argument('<client_id>')).action(
    async (id: string, options: AdminFlags) => {
      await createAdminClient(options).request('DELETE', `/admin/v1/clients/${encodeURIComponent(id)}`);
      if (options.json) return printJson({ deleted: id });
      process.stdout.write(`deleted ${id}\n`);
    },
  );
}
