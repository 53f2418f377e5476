/**
 * A real password-guessing tool against the login throttle (issue 15, finding 1, kept fixed;
 * docs/security.md #32). The attack that found finding 1: Debian's `hydra` guessing carol's Basic
 * password on `/auth/verify` with 4 parallel tasks, while a legitimate client polls with the
 * right credentials and keeps them warm in the verification cache. Before the fix hydra found the
 * password among hundreds of 429s (the cache answered the right guess 200). Now the throttle holds
 * hydra back before the cache is asked, so hydra must find nothing, and the familiar poller must
 * never be locked out.
 *
 * Bounded: 300 guesses on loopback, plain HTTP with the loopback allowance (the test harness's
 * default), the real clock (hydra runs in real time) with a back-off long enough to outlast the run.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicHeader, createUser } from '../support/basic.js';
import { tempDir } from '../support/databases.js';
import { rawRequest } from '../support/http.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const hydra = peer('hydra');

const PASSWORD = 'carol-correct-horse-battery';
const GUESSES = 300;
/** Where the right password sits in the list: well after the free attempts, well before the end. */
const RIGHT_AT = 150;

function runHydra(args: string[], cwd: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('hydra', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.runIf(hydra.present)('hydra against the login throttle with a warm Basic cache', () => {
  let server: TestServer;
  let dir: { path: string; remove(): void };

  beforeAll(async () => {
    dir = tempDir('gatehouse-hydra-');
    server = await startTestServer('sqlite', {
      env: {
        // Three free failures for strangers, then held back for longer than the whole run.
        GATEHOUSE_THROTTLE_USER_FREE_ATTEMPTS: '3',
        GATEHOUSE_THROTTLE_BACKOFF_BASE: '10m',
        GATEHOUSE_THROTTLE_BACKOFF_MAX: '10m',
        GATEHOUSE_BASIC_CACHE_TTL: '5m',
        GATEHOUSE_LOG_LEVEL: 'warn',
      },
    });
    await createUser(server, { username: 'carol', password: PASSWORD });
  });
  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  it('does not find the password in 300 guesses while a familiar client keeps the cache warm', async () => {
    const poll = () =>
      rawRequest(`${server.publicUrl}/auth/verify`, {
        localAddress: '127.0.0.2',
        headers: [['authorization', basicHeader('carol', PASSWORD)]],
      });
    // The legitimate client logs in (full verification: familiar, and cached).
    expect((await poll()).status).toBe(200);

    const guesses = Array.from({ length: GUESSES }, (_, i) => `guess-${String(i).padStart(4, '0')}`);
    guesses[RIGHT_AT] = PASSWORD;
    const list = path.join(dir.path, 'passwords.txt');
    writeFileSync(list, `${guesses.join('\n')}\n`);

    // Poll with the right credentials all through the attack (from 127.0.0.2; hydra comes from 127.0.0.1).
    const pollerStatuses: number[] = [];
    let attacking = true;
    const poller = (async () => {
      while (attacking) {
        pollerStatuses.push((await poll()).status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const hitsBefore = server.running.services.basicCache.stats.hits;
    const { port } = new URL(server.publicUrl);
    const hydra = await runHydra(
      // -I: ignore a restore file; -f: stop at the first find; -t 4 tasks as in the original attack.
      ['-I', '-f', '-t', '4', '-l', 'carol', '-P', list, '-s', port, '127.0.0.1', 'http-get', '/auth/verify'],
      dir.path,
      90_000,
    );
    attacking = false;
    await poller;

    // hydra ran to the end of its list and found nothing (before the fix: "1 valid password found").
    expect(hydra.output, hydra.output).toMatch(/0 valid passwords? found/);
    expect(hydra.output).not.toContain(PASSWORD);
    // The cache was warm and answering the familiar client during the attack…
    expect(server.running.services.basicCache.stats.hits).toBeGreaterThan(hitsBefore);
    // …which was never locked out.
    expect(pollerStatuses.length).toBeGreaterThan(0);
    expect(new Set(pollerStatuses)).toEqual(new Set([200]));
    // And the right password from hydra's address is still held back once hydra is done.
    const fromAttacker = await rawRequest(`${server.publicUrl}/auth/verify`, {
      localAddress: '127.0.0.1',
      headers: [['authorization', basicHeader('carol', PASSWORD)]],
    });
    expect(fromAttacker.status).toBe(429);
  }, 120_000);
});
