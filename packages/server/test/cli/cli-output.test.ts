/**
 * How every command ends when things go wrong (issue 14 item 5), the built CLI as a child process:
 * a reader that closes the pipe early (`… | head`) makes it exit quietly instead of crashing on
 * EPIPE, and with `--json` every error, commander's usage errors included, is one JSON object on
 * stderr with the exit code of docs/cli.md.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, runCli } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** A JWT-shaped token (decode does not check the signature). */
const TOKEN = [
  Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })).toString('base64url'),
  Buffer.from(
    JSON.stringify({ sub: 'usr_1', iss: 'https://id.example', exp: 2_000_000_000, iat: 1_700_000_000 }),
  ).toString('base64url'),
  'c2ln',
].join('.');

/** Runs the CLI with the reading end of stdout (or stderr) already closed, as `| head` leaves it. */
function runWithClosedPipe(args: readonly string[], closed: 'stdout' | 'stderr') {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null; other: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child[closed].destroy();
    let other = '';
    child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (chunk) => (other += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, other }));
  });
}

describe('a closed output pipe', () => {
  it('ends `token decode … | head` quietly, with exit 0', async () => {
    for (const args of [['token', 'decode', TOKEN], ['token', 'decode', TOKEN, '--json'], ['--help']]) {
      const result = await runWithClosedPipe(args, 'stdout');
      expect(result.other).toBe('');
      expect(result).toMatchObject({ code: 0, signal: null });
    }
  });

  it('keeps a failure’s exit code when stderr is closed, without a crash report', async () => {
    const result = await runWithClosedPipe(['token', 'decode', 'not-a-token'], 'stderr');
    expect(result).toMatchObject({ code: 1, signal: null, other: '' });
    const usage = await runWithClosedPipe(['token', 'decode'], 'stderr');
    expect(usage).toMatchObject({ code: 2, signal: null, other: '' });
  });
});

describe('errors with --json', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('sqlite');
  });
  afterAll(async () => server?.stop());
  const admin = () => ['--admin-url', server.adminUrl, '--admin-key', server.adminKey];

  /** stderr holds exactly one JSON line; stdout nothing. */
  const jsonError = (result: { stdout: string; stderr: string }) => {
    expect(result.stdout).toBe('');
    expect(result.stderr.endsWith('\n')).toBe(true);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    return JSON.parse(result.stderr);
  };

  it('answers refusals of the admin API with the problem code and status', async () => {
    const missing = await runCli(['keys', 'retire', 'no-such-kid', ...admin(), '--json']);
    expect(missing.code).toBe(5);
    expect(jsonError(missing)).toEqual({
      error: { code: 'not-found', message: '404 no signing key no-such-kid', status: 404, exit_code: 5 },
    });
    const refused = await runCli(['status', '--json', '--admin-url', server.adminUrl, '--admin-key', 'wrong']);
    expect(refused.code).toBe(4);
    expect(jsonError(refused).error).toMatchObject({ code: 'unauthorized', status: 401, exit_code: 4 });
    const invalid = await runCli(['user', 'create', '--username', 'a b', '--password-stdin', ...admin(), '--json'], {
      input: 'correct horse battery staple\n',
    });
    expect(invalid.code).toBe(2);
    const body = jsonError(invalid).error;
    expect(body).toMatchObject({ code: 'validation-failed', status: 400, exit_code: 2 });
    expect(body.errors[0].field).toBe('username');
  });

  it('answers errors of the CLI itself: unreachable, no admin key, a token that is no JWT', async () => {
    const unreachable = await runCli(['status', '--json', '--admin-url', 'http://127.0.0.1:1', '--admin-key', 'x']);
    expect(unreachable.code).toBe(3);
    expect(jsonError(unreachable).error).toMatchObject({ code: 'unreachable', exit_code: 3 });
    expect(jsonError(unreachable).error.message).toMatch(/^cannot reach the admin API at http:\/\/127\.0\.0\.1:1 /);
    const noKey = await runCli(['keys', 'list', '--json', '--data-dir', '/nonexistent']);
    expect(noKey.code).toBe(2);
    expect(jsonError(noKey).error).toMatchObject({ code: 'usage', exit_code: 2 });
    // token verify: the verdict on stdout, the error on stderr.
    const forged = await runCli(['token', 'verify', TOKEN, '--url', server.publicUrl, '--json']);
    expect(forged.code).toBe(1);
    expect(JSON.parse(forged.stdout)).toMatchObject({ valid: false, code: 'ERR_JWT_UNKNOWN_KID' });
    expect(JSON.parse(forged.stderr).error).toMatchObject({ code: 'invalid-token', exit_code: 1 });
    const garbage = await runCli(['token', 'decode', 'not-a-token', '--json']);
    expect(garbage.code).toBe(1);
    expect(jsonError(garbage).error).toMatchObject({ code: 'invalid-token', exit_code: 1 });
  });

  it('answers commander’s usage errors as JSON too, and as text without --json', async () => {
    const unknown = await runCli(['keys', 'list', '--json', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(jsonError(unknown)).toEqual({
      error: { code: 'unknown-option', message: "unknown option '--bogus'", exit_code: 2 },
    });
    const missingOption = await runCli(['token', 'login', '--json']);
    expect(missingOption.code).toBe(2);
    expect(jsonError(missingOption).error).toEqual({
      code: 'missing-mandatory-option-value',
      message: "required option '--username <username>' not specified",
      exit_code: 2,
    });
    const missingArgument = await runCli(['token', 'decode', '--json']);
    expect(jsonError(missingArgument).error).toMatchObject({ code: 'missing-argument', exit_code: 2 });

    const text = await runCli(['keys', 'list', '--bogus']);
    expect(text.code).toBe(2);
    expect(text.stderr).toBe("error: unknown option '--bogus'\n(run with --help for usage)\n");
    // After `--`, --json is an argument, not the flag.
    const escaped = await runCli(['keys', 'retire', ...admin(), '--', '--json']);
    expect(escaped.code).toBe(5);
    expect(escaped.stderr).toBe('gatehouse: 404 no signing key --json\n');
  });
});
