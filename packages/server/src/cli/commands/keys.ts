/** `gatehouse keys list|rotate|retire`: thin clients of `/admin/v1/signing-keys`. */
import type { Command } from 'commander';
import { createAdminClient } from '../admin-client.js';
import { acceptDashedArgument } from '../arguments.js';
import { formatTable, printJson } from '../output.js';
import { type AdminFlags, addAdminOptions } from './status.js';

interface KeyView {
  kid: string;
  alg: string;
  state: string;
  created_at: string;
  activates_at: string | null;
  activated_at: string | null;
  retired_at: string | null;
  delete_after: string | null;
}

function printKeys(keys: readonly KeyView[], json: boolean | undefined): void {
  if (json) {
    printJson({ data: keys });
    return;
  }
  process.stdout.write(
    `${formatTable(keys, [
      { header: 'kid', value: (key) => key.kid },
      { header: 'alg', value: (key) => key.alg },
      { header: 'state', value: (key) => key.state },
      {
        header: 'since / until',
        value: (key) =>
          key.state === 'next'
            ? `signs from ${key.activates_at}`
            : key.state === 'active'
              ? `signing since ${key.activated_at}`
              : `published until ${key.delete_after}`,
      },
    ])}\n`,
  );
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('signing keys: list, rotate, retire (see docs/jwt.md)');

  addAdminOptions(keys.command('list').description('list signing keys: next, active and retired')).action(
    async (options: AdminFlags) => {
      const page = await createAdminClient(options).request<{ data: KeyView[] }>('GET', '/admin/v1/signing-keys');
      printKeys(page.data, options.json);
    },
  );

  addAdminOptions(
    keys
      .command('rotate')
      .description('publish a new key now; it signs after keys.publish_ahead (or at once with --now)')
      .option(
        '--now',
        'a key generated now signs at once (a suspected compromise): the active key is retired, a pending next key discarded; verifiers may not know the new key yet',
      ),
  ).action(async (options: AdminFlags & { now?: boolean }) => {
    const result = await createAdminClient(options).request<{ data: KeyView[] }>(
      'POST',
      '/admin/v1/signing-keys/rotate',
      { immediate: options.now === true },
    );
    printKeys(result.data, options.json);
  });

  addAdminOptions(
    acceptDashedArgument(keys.command('retire'))
      .description('stop signing with a key; it stays published until its tokens expire (or goes now with --delete)')
      .argument('<kid>', 'the key id')
      .option('--delete', 'unpublish it at once: every token it signed is refused (a compromised key)'),
  ).action(async (kid: string, options: AdminFlags & { delete?: boolean }) => {
    const result = await createAdminClient(options).request<{ data: KeyView[] }>(
      'POST',
      `/admin/v1/signing-keys/${encodeURIComponent(kid)}/retire`,
      { delete: options.delete === true },
    );
    printKeys(result.data, options.json);
  });
}
