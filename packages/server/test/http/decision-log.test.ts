/**
 * The decision log over HTTP (issue 15 finding 6; ASVS 16.3.1: every authentication success and
 * failure is logged; ASVS 16.2.5 / docs/security.md #34: never the credential): exactly one line per
 * `/auth/verify` decision, allowed or denied, for API keys, Basic and JWT, through both doors,
 * with the fields operators need, and none with `log.decisions: off`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/core/apikeys/key-format.js';
import { issueKey } from '../support/api-keys.js';
import { basicHeader, createUser } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PASSWORD = 'decision-log-password';

interface Line {
  readonly [field: string]: unknown;
}

const decisionLines = (server: TestServer): Line[] =>
  server.logs
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"auth.decision"'))
    .map((line) => JSON.parse(line) as Line);

describe.each(storeKinds())('decision log on %s', (kind) => {
  let server: TestServer;
  let key: { id: string; key: string };
  let token: string;
  let userId: string;
  let counter = 0;

  beforeAll(async () => {
    // The test servers log at debug; the decision log writes at info by default.
    server = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true' } });
    key = await issueKey(server, { name: 'logged', owner: 'svc-logged', scopes: ['a'] });
    userId = (await createUser(server, { username: 'dora', password: PASSWORD })).id;
    const login = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'dora', password: PASSWORD }),
    });
    token = ((await login.json()) as { access_token: string }).access_token;
  });
  afterAll(async () => server?.stop());

  /** One verification with its own request id; answers the status and that id's decision lines. */
  async function decide(headers: Record<string, string>, method = 'GET', query = '') {
    const id = `decision-${++counter}`;
    const response = await fetch(`${server.publicUrl}/auth/verify${query}`, {
      method,
      headers: { 'x-request-id': id, ...headers },
    });
    await response.arrayBuffer();
    // Pino writes synchronously to the test sink; give the event loop one turn anyway.
    await new Promise((resolve) => setImmediate(resolve));
    return { status: response.status, lines: decisionLines(server).filter((line) => line.request_id === id) };
  }

  it('writes one line per decision, allowed and denied, for apikey, basic and jwt, with every field', async () => {
    const cases: Array<[Record<string, string>, number, Record<string, unknown>]> = [
      [{ 'x-api-key': key.key }, 200, { method: 'apikey', subject: 'svc-logged', credential_id: key.id, reason: 'ok' }],
      [{ 'x-api-key': generateApiKey('gk') }, 401, { method: 'apikey', subject: null, reason: 'unknown' }],
      [{ authorization: basicHeader('dora', PASSWORD) }, 200, { method: 'basic', subject: userId, reason: 'ok' }],
      [
        { authorization: basicHeader('dora', 'wrong-password') },
        401,
        { method: 'basic', subject: null, target: userId },
      ],
      [{ authorization: `Bearer ${token}` }, 200, { method: 'jwt', subject: userId, reason: 'ok' }],
      [{ authorization: `Bearer ${token.slice(0, -4)}AAAA` }, 401, { method: 'jwt', subject: null }],
      [{}, 401, { method: null, subject: null, reason: 'no_credentials' }],
    ];
    for (const [headers, status, expected] of cases) {
      for (const method of ['GET', 'POST']) {
        const decided = await decide(headers, method);
        const label = `${method} ${JSON.stringify(expected)}`;
        expect(decided.status, label).toBe(status);
        expect(decided.lines, label).toHaveLength(1);
        const [line] = decided.lines as [Line];
        expect(line, label).toMatchObject({
          level: 'info',
          msg: status === 200 ? 'allowed' : 'denied',
          event: 'auth.decision',
          surface: 'verify',
          outcome: status === 200 ? 'allowed' : 'unauthenticated',
          status,
          route: null,
          ip: '127.0.0.1',
          // GET goes to the fast lane, which hands what needs the store to the router.
          door: method === 'POST' ? 'router' : expect.stringMatching(/^(fast_lane|router)$/),
          ...expected,
        });
        expect(line.reason, label).toEqual(expect.any(String));
        expect(line.latency_ms, label).toEqual(expect.any(Number));
        expect(line.latency_ms as number, label).toBeGreaterThanOrEqual(0);
      }
    }
    // A 403: authenticated, lacking the scope; the subject is known.
    const forbidden = await decide({ 'x-api-key': key.key }, 'GET', '?scope=b');
    expect(forbidden.status).toBe(403);
    expect(forbidden.lines).toEqual([
      expect.objectContaining({ outcome: 'forbidden', reason: 'insufficient_scope', subject: 'svc-logged' }),
    ]);
  });

  it('never writes the credential: not the key, the password, the Basic header nor the token', async () => {
    const logs = server.logs.join('');
    expect(logs).not.toContain(key.key);
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(basicHeader('dora', PASSWORD).slice('Basic '.length));
    expect(logs).not.toContain(token);
    // Nor the token's signature alone.
    expect(logs).not.toContain(token.slice(token.lastIndexOf('.') + 1));
  });

  it('is off with log.decisions: off, and follows log.level with debug', async () => {
    const quietSettings: Array<Record<string, string>> = [
      { GATEHOUSE_LOG_DECISIONS: 'off' },
      { GATEHOUSE_LOG_DECISIONS: 'debug', GATEHOUSE_LOG_LEVEL: 'info' },
    ];
    for (const env of quietSettings) {
      const quiet = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true', ...env } });
      try {
        const issued = await issueKey(quiet, { name: 'quiet' });
        for (const headers of [{ 'x-api-key': issued.key }, { 'x-api-key': generateApiKey('gk') }]) {
          const response = await fetch(`${quiet.publicUrl}/auth/verify`, { headers });
          expect(response.status).toBeGreaterThanOrEqual(200);
        }
        expect(decisionLines(quiet), JSON.stringify(env)).toEqual([]);
      } finally {
        await quiet.stop();
      }
    }
    // With debug enabled at the logger (the test servers' level), `debug` writes them.
    const verbose = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true', GATEHOUSE_LOG_DECISIONS: 'debug' } });
    try {
      const issued = await issueKey(verbose, { name: 'verbose' });
      await (await fetch(`${verbose.publicUrl}/auth/verify`, { headers: { 'x-api-key': issued.key } })).arrayBuffer();
      expect(decisionLines(verbose)).toEqual([expect.objectContaining({ level: 'debug', outcome: 'allowed' })]);
    } finally {
      await verbose.stop();
    }
  });
});
