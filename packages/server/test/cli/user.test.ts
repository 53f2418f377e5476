/**
 * `gatehouse user …` as an operator runs it: the built CLI as a child process against a real
 * server, on every store. Passwords only ever arrive on stdin or at a no-echo terminal prompt.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader, verify } from '../support/basic.js';
import { CLI, runCli } from '../support/cli.js';
import { storeKinds } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const python3 = peer('python3');

describe.each(storeKinds())('gatehouse user on %s', (kind) => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true' } });
    env = { GATEHOUSE_ADMIN_URL: server.adminUrl, GATEHOUSE_ADMIN_KEY: server.adminKey };
  });
  afterAll(async () => server?.stop());

  const cli = (args: string[], input?: string) =>
    runCli(['user', ...args], { env, ...(input === undefined ? {} : { input }) });

  it('creates a user with --password-stdin; the user then passes Basic', async () => {
    const created = await cli(
      ['create', '--username', 'alice', '--scopes', 'read,write', '--password-stdin', '--json'],
      'alice-password\n',
    );
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const user = JSON.parse(created.stdout);
    expect(user).toMatchObject({ username: 'alice', scopes: ['read', 'write'], password_scheme: 'argon2id' });
    // The trailing newline of `echo` is not part of the password.
    const response = await verify(server.publicUrl, { authorization: basicHeader('alice', 'alice-password') });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-auth-subject')).toBe(user.id);
    expect((await verify(server.publicUrl, { authorization: basicHeader('alice', 'alice-password\n') })).status).toBe(
      401,
    );
  });

  it('never takes a password as an argument, and will not prompt without a terminal', async () => {
    const [flag, noTty, empty] = await Promise.all([
      cli(['create', '--username', 'bob', '--password', 'bob-password']),
      cli(['create', '--username', 'bob']),
      cli(['create', '--username', 'bob', '--password-stdin'], ''),
    ]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--password'/);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toMatch(/no terminal to prompt .* --password-stdin/);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/standard input was empty/);
  });

  it('reports policy problems and clashes with exit code 2 and the server’s reason', async () => {
    const [weak, clash] = await Promise.all([
      cli(['create', '--username', 'carl', '--password-stdin'], 'short\n'),
      cli(['create', '--username', 'ALICE', '--password-stdin'], 'another-password\n'),
    ]);
    expect(weak.code).toBe(2);
    expect(weak.stderr).toMatch(/400 password: must be at least 8 characters/);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/409 The username "alice" is taken/);
  });

  it.runIf(python3.present)('prompts twice at a terminal without echoing the password', async () => {
    // A real pseudo-terminal (Python's pty module), so the CLI sees isTTY and uses raw mode.
    const script = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
def expect(marker):
    global out
    deadline = time.time() + 15
    while marker not in out and time.time() < deadline:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
expect(b'Password: ')
os.write(fd, b'tty-typed-secret\\r')
expect(b'Repeat password: ')
os.write(fd, b'tty-typed-secret\\r')
expect(b'"username"')
expect(b'}')
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;
    // Asynchronously: the server under test runs in this process and must keep answering.
    const result = await new Promise<{ status: number | null; stdout: string }>((resolve, reject) => {
      const child = spawn(
        '/usr/bin/python3',
        ['-c', script, process.execPath, CLI, 'user', 'create', '--username', 'tess', '--json'],
        {
          env: { ...process.env, ...env },
        },
      );
      let stdout = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.on('error', reject);
      child.on('close', (status) => resolve({ status, stdout }));
    });
    expect(result.status, result.stdout).toBe(0);
    expect(result.stdout).toContain('Password: ');
    expect(result.stdout).toContain('Repeat password: ');
    expect(result.stdout).toContain('"username": "tess"');
    expect(result.stdout).not.toContain('tty-typed-secret');
  });

  it('lists, shows, updates, changes the password, disables, enables and deletes by username or id', async () => {
    await cli(['create', '--username', 'dave', '--password-stdin'], 'dave-password\n');
    const [list, listedJson, shown] = await Promise.all([
      cli(['list']),
      cli(['list', '--json', '--limit', '1', '--all']),
      cli(['show', 'Dave']),
    ]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+USERNAME\s+SCOPES\s+DISABLED\s+PASSWORD\s+LAST LOGIN/);
    expect(list.stdout).toMatch(/alice\s+read write\s+argon2id/);
    const listed = JSON.parse(listedJson.stdout);
    expect(listed.data.map((user: { username: string }) => user.username)).toEqual(
      expect.arrayContaining(['alice', 'dave']),
    );

    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/username:\s+dave/);
    expect(shown.stdout).toMatch(/last login:\s+never/);

    const updated = JSON.parse(
      (await cli(['update', 'dave', '--scopes', 'ops', '--metadata', '{"team":"sre"}', '--json'])).stdout,
    );
    expect(updated).toMatchObject({ scopes: ['ops'], metadata: { team: 'sre' } });
    expect((await cli(['update', 'dave'])).code).toBe(2);

    const passwd = await cli(['passwd', 'dave', '--password-stdin'], 'dave-new-password\n');
    expect(passwd.stdout).toBe('password changed for dave\n');
    expect((await verify(server.publicUrl, { authorization: basicHeader('dave', 'dave-new-password') })).status).toBe(
      200,
    );

    expect(JSON.parse((await cli(['disable', 'dave', '--json'])).stdout).disabled).toBe(true);
    expect((await verify(server.publicUrl, { authorization: basicHeader('dave', 'dave-new-password') })).status).toBe(
      401,
    );
    expect(JSON.parse((await cli(['enable', updated.id, '--json'])).stdout).disabled).toBe(false);

    const deleted = await cli(['delete', 'dave']);
    expect(deleted.stdout).toBe(`deleted dave (${updated.id})\n`);
    const [missing, missingId] = await Promise.all([cli(['show', 'dave']), cli(['show', updated.id])]);
    expect(missing.code).toBe(5);
    expect(missing.stderr).toMatch(/no user named "dave"/);
    expect(missingId.code).toBe(5);
  });

  it('names a user whose username begins with a dash, and still refuses a password given as an option', async () => {
    const created = await cli(['create', '--username', '-erin', '--password-stdin', '--json'], 'erin-password\n');
    expect(created.code).toBe(0);
    const erin = JSON.parse(created.stdout);
    const shown = await cli(['show', '-erin', '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout).id).toBe(erin.id);
    expect(JSON.parse((await cli(['disable', '-erin', '--json'])).stdout).disabled).toBe(true);

    const [inline, separate] = await Promise.all([
      cli(['passwd', '--password=erin-new-password']),
      cli(['passwd', '-erin', '--password', 'erin-new-password']),
    ]);
    for (const result of [inline, separate]) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/unknown option '--password/);
    }
    expect((await cli(['delete', '-erin'])).stdout).toBe(`deleted -erin (${erin.id})\n`);
  });
});
