/**
 * `gatehouse serve --demo`, tried as a new user would: start it, run every printed command as
 * printed (with curl, through a shell), stop it with Ctrl+C, and find nothing left behind.
 */
import { type ChildProcess, exec, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanEnv, waitForExit } from '../support/cli.js';

const run = promisify(exec);

/** Starts the demo and resolves with its banner once it says it is ready. */
function startDemo(): Promise<{ child: ChildProcess; banner: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, 'serve', '--demo', '--port', '0', '--admin-port', '0', '--proxy-port', '0'],
      {
        // A database URL in the environment must not be touched by the demo.
        env: cleanEnv({ GATEHOUSE_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/never' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('Press Ctrl+C to stop.')) resolve({ child, banner: stdout });
    });
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${stdout}\n${stderr}`)));
  });
}

describe('gatehouse serve --demo', () => {
  let demo: { child: ChildProcess; banner: string };
  beforeAll(async () => {
    demo = await startDemo();
  });
  afterAll(() => {
    if (demo?.child.exitCode === null) demo.child.kill('SIGKILL');
  });

  it('prints commands that work as printed', async () => {
    const commands = demo.banner
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('curl '));
    expect(commands.length).toBeGreaterThan(0);
    const [anonymous, ...withCredentials] = commands;
    const denied = await run(anonymous as string);
    expect(denied.stdout).toMatch(/^HTTP\/1\.1 401 /);
    expect(denied.stdout).toContain('{"error":"Unauthorized"}');
    // One command per mechanism this build has, at least Basic, the JWT login and OAuth.
    expect(withCredentials.filter((line) => line.endsWith('/data')).length).toBeGreaterThanOrEqual(3);
    for (const command of withCredentials) {
      const { stdout } = await run(command, { shell: '/bin/sh' });
      const body = JSON.parse(stdout);
      if (command.endsWith('/data')) expect(body, command).toEqual({ data: 'Secure data' });
      else expect(body.access_token, command).toMatch(/^ey/); // the login and token calls
    }
  });

  it('binds to loopback only and stops on Ctrl+C, deleting its data', async () => {
    expect(demo.banner).toMatch(/gateway {3}http:\/\/127\.0\.0\.1:\d+/);
    const dataDir = /data {6}(\S+) \(throw-away/.exec(demo.banner)?.[1] as string;
    expect(existsSync(dataDir)).toBe(true);
    demo.child.kill('SIGINT');
    expect(await waitForExit(demo.child)).toEqual({ code: 0, signal: null });
    expect(existsSync(dataDir)).toBe(false);
  });
});
