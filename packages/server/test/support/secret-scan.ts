/**
 * The suite's secret scan (docs/testing.md "Secret scan"): every test server writes its log to a
 * file under one run directory, every credential the suite creates or sends is recorded there, and
 * after the run the global teardown (./global-setup.ts) fails the run if any log file contains any
 * recorded credential — naming the file and the kind of secret, never the secret itself.
 *
 * Recording is done where credentials pass through the support code: the admin helper of
 * ./server.ts, and a wrapper of `fetch` installed in every test worker (./secret-scan-setup.ts) that
 * reads the credentials of requests (Basic passwords, bearer tokens, API key headers, form
 * parameters such as `password`, `client_secret`, `code`, `refresh_token`) and of JSON answers
 * (`key`, `client_secret`, `access_token`, `refresh_token`, `id_token`, …) and authorization codes
 * in redirects. Each worker appends to its own file, so nothing is shared while tests run.
 *
 * Without the run directory (a file run outside the suite's config) everything here does nothing.
 */
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

/** Set by the global setup; not a GATEHOUSE_* name, so no config loader ever reads it. */
export const RUN_DIR_VARIABLE = 'GH_TEST_SECRET_SCAN_DIR';

export const runDir = (): string | undefined => process.env[RUN_DIR_VARIABLE] || undefined;

/** Shorter values are not recorded: they would match ordinary words and numbers in logs. */
const MIN_PASSWORD_LENGTH = 8;
const MIN_TOKEN_LENGTH = 16;

let secretsFile: string | undefined;
const recorded = new Set<string>();

/** Records one credential of the given kind (`api_key`, `password`, `access_token`, …). */
export function recordSecret(kind: string, value: unknown): void {
  const dir = runDir();
  if (!dir || typeof value !== 'string') return;
  const min = kind === 'password' ? MIN_PASSWORD_LENGTH : MIN_TOKEN_LENGTH;
  if (value.length < min || recorded.has(value)) return;
  recorded.add(value);
  secretsFile ??= path.join(dir, `secrets-${process.pid}.jsonl`);
  appendFileSync(secretsFile, `${JSON.stringify({ kind, value })}\n`);
}

/** JSON members whose string values are credentials, and the kind each is recorded as. */
const SECRET_MEMBERS: Readonly<Record<string, string>> = {
  key: 'api_key',
  client_secret: 'client_secret',
  access_token: 'access_token',
  refresh_token: 'refresh_token',
  id_token: 'id_token',
  password: 'password',
  admin_key: 'admin_key',
  code: 'authorization_code',
  code_verifier: 'code_verifier',
  subject_token: 'access_token',
  client_assertion: 'client_assertion',
  token: 'token',
};

/** Records every credential member of a parsed JSON value, at any depth. */
export function recordJsonSecrets(value: unknown, depth = 0): void {
  if (depth > 6 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) recordJsonSecrets(item, depth + 1);
    return;
  }
  for (const [name, member] of Object.entries(value)) {
    const kind = SECRET_MEMBERS[name];
    if (kind && typeof member === 'string') recordSecret(kind, member);
    else recordJsonSecrets(member, depth + 1);
  }
}

/** Records the credentials of a form body or query string. */
export function recordFormSecrets(text: string): void {
  for (const [name, value] of new URLSearchParams(text)) {
    const kind = SECRET_MEMBERS[name];
    if (kind) recordSecret(kind, value);
  }
}

/** Records the credential of an `Authorization` (Basic password, bearer token) or API key header. */
export function recordHeaderSecrets(name: string, value: string): void {
  const lower = name.toLowerCase();
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    const [scheme, credentials = ''] = value.split(/ +/, 2);
    if (scheme?.toLowerCase() === 'basic') {
      const text = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = text.indexOf(':');
      if (colon !== -1) recordSecret('password', text.slice(colon + 1));
    } else if (scheme?.toLowerCase() === 'bearer') recordSecret('bearer_token', credentials);
  } else if (lower === 'x-api-key') recordSecret('api_key', value);
}

let logCounter = 0;

/**
 * A log file for one test server (`label` names it: `sqlite`, `serve`…), or undefined without a
 * run directory. Writes are synchronous, so a crashed test leaves its log behind for the scan.
 */
export function openServerLog(label: string): { write(chunk: string): void; close(): void } | undefined {
  const dir = runDir();
  if (!dir) return undefined;
  const logs = path.join(dir, 'logs');
  mkdirSync(logs, { recursive: true });
  const file = path.join(logs, `${process.pid}-${++logCounter}-${label.replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
  let fd: number | undefined = openSync(file, 'a');
  return {
    write(chunk) {
      if (fd !== undefined) writeSync(fd, chunk);
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

/** One secret found in one log file. */
export interface SecretFinding {
  readonly file: string;
  readonly kind: string;
  /** The first characters of the secret and its length, enough to find it, not to use it. */
  readonly hint: string;
}

/** `gk_l…(55 chars)`: never more than four characters of a secret. */
export const secretHint = (secret: string): string =>
  `${secret.slice(0, Math.min(4, secret.length >> 2))}…(${secret.length} chars)`;

/** Characters of the tokens logs are cut into; every generated credential is made of these. */
const TOKEN = /[A-Za-z0-9_~.-]+/g;
const TOKEN_ONLY = /^[A-Za-z0-9_~.-]+$/;

/**
 * The recorded secrets found in `text`. Credentials made of token characters (keys, tokens,
 * secrets, codes) are looked up by cutting the text into tokens — one pass whatever the number of
 * secrets; a token counts when it is the secret, or the secret with dots around it (end of a
 * sentence), or holds it after a percent-encoding (`Bearer%20…`). Other secrets (passwords with
 * spaces or non-ASCII) are searched for directly.
 */
export function findSecrets(
  text: string,
  secrets: ReadonlyMap<string, string>,
): Array<{ kind: string; secret: string }> {
  const found = new Map<string, string>();
  const tokenSecrets: Array<[string, string]> = [];
  for (const [secret, kind] of secrets) {
    if (!TOKEN_ONLY.test(secret)) {
      if (text.includes(secret)) found.set(secret, kind);
    } else tokenSecrets.push([secret, kind]);
  }
  if (tokenSecrets.length > 0) {
    const check = (candidate: string) => {
      const kind = secrets.get(candidate);
      if (kind !== undefined) found.set(candidate, kind);
    };
    for (const match of text.matchAll(TOKEN)) {
      const token = match[0];
      if (token.length < MIN_PASSWORD_LENGTH) continue;
      check(token);
      if (token.startsWith('.') || token.endsWith('.')) check(token.replace(/^\.+|\.+$/g, ''));
      // A percent-encoding splits no token above: `%20gk_…` is the token `20gk_…`.
      const at = match.index as number;
      if (at >= 1 && text[at - 1] === '%' && /^[0-9A-Fa-f]{2}/.test(token)) check(token.slice(2));
    }
  }
  return [...found].map(([secret, kind]) => ({ kind, secret }));
}

/** Every secret recorded by every worker of the run, with its kind. */
export function recordedSecrets(dir: string): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith('secrets-')) continue;
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (!line) continue;
      const { kind, value } = JSON.parse(line) as { kind: string; value: string };
      secrets.set(value, kind);
    }
  }
  return secrets;
}

/** Scans every log file of the run for every recorded secret. */
export function scanRun(dir: string): { findings: SecretFinding[]; files: number; secrets: number } {
  const secrets = recordedSecrets(dir);
  const logs = path.join(dir, 'logs');
  let names: string[] = [];
  try {
    names = readdirSync(logs);
  } catch {
    // No server wrote a log.
  }
  const findings: SecretFinding[] = [];
  for (const name of names) {
    const file = path.join(logs, name);
    for (const { kind, secret } of findSecrets(readFileSync(file, 'utf8'), secrets)) {
      findings.push({ file, kind, hint: secretHint(secret) });
    }
  }
  return { findings, files: names.length, secrets: secrets.size };
}

/** The failure message: one line per finding, no secret in it. */
export const describeFindings = (findings: readonly SecretFinding[]): string =>
  [
    `secret scan: ${findings.length} credential(s) the suite created appear in server logs:`,
    ...findings.map((finding) => `  ${finding.file}: ${finding.kind} ${finding.hint}`),
  ].join('\n');
