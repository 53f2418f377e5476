/**
 * `gatehouse token login|decode|verify`: get a token as a user would, read one, and check one
 * against the server's JWKS with the exact reason when it fails. These speak to the public
 * listener (`--url`, `GATEHOUSE_URL`, default http://127.0.0.1:4000), not the admin API.
 * `gatehouse token revoke` is a thin client of the admin API (`POST /admin/v1/tokens/revoke`).
 */
import { createPublicKey } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import {
  decodeJwtUnverified,
  JWT_ALGORITHMS,
  type JwtAlgorithm,
  type VerificationKey,
  verifyJwt,
} from '@gatehouse/sdk/jwt';
import type { Command } from 'commander';
import { createAdminClient } from '../admin-client.js';
import { CliError, EXIT, httpError } from '../exit-codes.js';
import { formatRecord, printJson } from '../output.js';
import { transportError } from '../transport.js';
import { type AdminFlags, addAdminOptions } from './status.js';

type UrlFlags = { url?: string };

const publicUrl = (flags: UrlFlags): string =>
  (flags.url ?? process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');

async function call(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    // Not running, or its certificate refused (trust it with NODE_EXTRA_CA_CERTS): ../transport.ts.
    throw transportError(error, url, {});
  }
}

/** The password: from stdin when it is not a terminal, else a prompt that does not echo. */
async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    return text.replace(/\r?\n$/, '');
  }
  const muted = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  process.stderr.write('Password: ');
  const reader = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return await new Promise<string>((resolve) => reader.question('', resolve));
  } finally {
    reader.close();
    process.stderr.write('\n');
  }
}

function printClaims(header: Record<string, unknown>, claims: Record<string, unknown>, json: boolean | undefined) {
  if (json) return printJson({ header, claims });
  const time = (value: unknown) =>
    typeof value === 'number' ? `${value} (${new Date(value * 1000).toISOString()})` : String(value);
  process.stdout.write(`header:\n${indent(JSON.stringify(header, null, 2))}\nclaims:\n`);
  process.stdout.write(
    `${indent(
      formatRecord(
        Object.entries(claims).map(([name, value]) => [
          name,
          ['exp', 'iat', 'nbf', 'auth_time'].includes(name) ? time(value) : JSON.stringify(value),
        ]),
      ),
    )}\n`,
  );
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');

export function registerToken(program: Command): void {
  const token = program.command('token').description('log in, decode, verify and revoke access tokens');

  token
    .command('login')
    .description('log in with a username and password; prints the token response (password from a prompt or stdin)')
    .requiredOption('--username <username>', 'the user to log in as')
    .option('--scope <scopes>', 'space-separated scopes (a subset of the user’s)')
    .option('--audience <audience>', 'the audience of the access token')
    .option('--url <url>', 'public URL of the server (or GATEHOUSE_URL; default http://127.0.0.1:4000)')
    .option('--json', 'print the token response as JSON (the default prints it too)')
    .action(async (flags: UrlFlags & { username: string; scope?: string; audience?: string }) => {
      const password = await readPassword();
      if (!password) throw new CliError('no password given', EXIT.usage);
      const response = await call(`${publicUrl(flags)}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: flags.username,
          password,
          ...(flags.scope !== undefined ? { scope: flags.scope } : {}),
          ...(flags.audience !== undefined ? { audience: flags.audience } : {}),
        }),
      });
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok) {
        const detail = String(body.detail ?? body.title ?? response.statusText);
        throw httpError(response.status, `login failed: ${response.status} ${detail}`, body);
      }
      printJson(body);
    });

  token
    .command('decode')
    .description('show a token’s header and claims WITHOUT verifying it')
    .argument('<token>', 'the JWT')
    .option('--json', 'print JSON')
    .action((text: string, flags: { json?: boolean }) => {
      const decoded = decodeJwtUnverified(text.trim());
      if (!decoded.ok) {
        throw new CliError(`not a JWT: ${decoded.code}: ${decoded.message}`, EXIT.failed, { code: 'invalid-token' });
      }
      if (flags.json) return printJson({ verified: false, header: decoded.header, claims: decoded.claims });
      process.stdout.write('UNVERIFIED: the signature was not checked (use `gatehouse token verify`)\n');
      printClaims(decoded.header, decoded.claims, false);
    });

  token
    .command('verify')
    .description('verify a token against the server’s JWKS; says exactly why it fails (exit 1)')
    .argument('<token>', 'the JWT')
    .option('--url <url>', 'public URL of the server (or GATEHOUSE_URL; default http://127.0.0.1:4000)')
    .option('--issuer <issuer>', 'expected iss (default: the server’s URL)')
    .option('--audience <audience>', 'expected aud (default: the issuer)')
    .option('--json', 'print JSON')
    .action(async (text: string, flags: UrlFlags & { issuer?: string; audience?: string; json?: boolean }) => {
      const base = publicUrl(flags);
      const response = await call(`${base}/.well-known/jwks.json`, {});
      if (!response.ok) {
        throw new CliError(`cannot fetch ${base}/.well-known/jwks.json: ${response.status}`, EXIT.failed, {
          status: response.status,
        });
      }
      const jwks = (await response.json()) as { keys?: Array<{ kid?: string; alg?: string }> };
      const keys = new Map<string, VerificationKey>();
      for (const jwk of jwks.keys ?? []) {
        if (typeof jwk.kid !== 'string' || !JWT_ALGORITHMS.includes(jwk.alg as JwtAlgorithm)) continue;
        keys.set(jwk.kid, {
          kid: jwk.kid,
          alg: jwk.alg as JwtAlgorithm,
          key: createPublicKey({ key: jwk as never, format: 'jwk' }),
        });
      }
      const issuer = flags.issuer ?? base;
      const result = await verifyJwt(text.trim(), (kid) => keys.get(kid), {
        issuer,
        audience: flags.audience ?? issuer,
        types: ['at+jwt'],
      });
      if (!result.ok) {
        if (flags.json) printJson({ valid: false, code: result.code, message: result.message });
        const hint =
          result.code === 'ERR_JWT_UNKNOWN_KID'
            ? ' (HS256 tokens cannot be checked from the JWKS: their secret is never published)'
            : '';
        throw new CliError(`invalid token: ${result.code}: ${result.message}${hint}`, EXIT.failed, {
          code: 'invalid-token',
        });
      }
      if (flags.json) return printJson({ valid: true, header: result.header, claims: result.claims });
      process.stdout.write(
        `valid: signature (${result.header.alg}, kid ${result.header.kid}), type, issuer, audience and times check out\n`,
      );
      process.stdout.write('note: revocation is checked by the server (/auth/verify), not by this command\n');
      printClaims(result.header, result.claims, false);
    });

  addAdminOptions(
    token
      .command('revoke')
      .description('revoke access tokens: one by jti, or every token of a subject or a client issued until now')
      .option('--jti <jti>', 'one access token, by its jti claim (`gatehouse token decode` shows it)')
      .option('--subject <sub>', 'every access token of a user (sub claim, usr_…) and its refresh tokens')
      .option('--client <client_id>', 'every access token of a client, and its refresh tokens'),
  ).action(async (flags: AdminFlags & { jti?: string; subject?: string; client?: string }) => {
    const body = revocationTarget(flags);
    const result = await createAdminClient(flags).request<Revoked>('POST', '/admin/v1/tokens/revoke', body);
    if (flags.json) return printJson(result);
    const { kind, value } = result.revoked;
    const refresh = result.refresh_tokens_revoked;
    process.stdout.write(
      kind === 'jti'
        ? `revoked the access token with jti ${value}\n`
        : `revoked every access token of ${kind} ${value} issued until now, and ${refresh} refresh token${refresh === 1 ? '' : 's'}\n`,
    );
  });
}

interface Revoked {
  revoked: { kind: 'jti' | 'subject' | 'client'; value: string };
  refresh_tokens_revoked: number;
}

/** Exactly one selector, as the admin API requires: say which ones were given when not. */
function revocationTarget(flags: { jti?: string; subject?: string; client?: string }): Record<string, string> {
  const selectors: Array<[flag: string, field: string, value: string | undefined]> = [
    ['--jti', 'jti', flags.jti],
    ['--subject', 'subject', flags.subject],
    ['--client', 'client_id', flags.client],
  ];
  const given = selectors.filter((entry): entry is [string, string, string] => entry[2] !== undefined);
  if (given.length !== 1) {
    throw new CliError(
      given.length === 0
        ? 'say what to revoke: pass one of --jti, --subject or --client'
        : `pass only one of --jti, --subject or --client (got ${given.map(([flag]) => flag).join(' and ')})`,
      EXIT.usage,
    );
  }
  const [[flag, field, value]] = given as [[string, string, string]];
  if (value.trim() === '') throw new CliError(`${flag} needs a value`, EXIT.usage);
  return { [field]: value };
}
