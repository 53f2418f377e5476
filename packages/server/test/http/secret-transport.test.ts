/**
 * One HTTPS rule for every secret (issue 15, finding 7; RFC 6749 §2.3.1, §3.1, §3.2; RFC 7617 §4).
 * Found by an outside attack: Basic over plain HTTP was refused, but on the same server
 * `POST /auth/login` took a password over plain HTTP and answered tokens, and `/oauth/token` took
 * client secrets. Now every endpoint of the public listener that receives a password, a refresh
 * token or a client secret refuses plain HTTP (401, before reading the secret) unless the
 * connection is HTTPS (own TLS, or a trusted proxy's X-Forwarded-Proto), the server runs with
 * --dev, or loopback clients are allowed (`security.allow_insecure_loopback`, formerly
 * `basic.allow_insecure_loopback`). The admin listener is not concerned (loopback by default).
 */
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basic, postForm, type RegisteredClient, registerClient } from '../oauth/support.js';
import { BASIC_CHALLENGE, basicHeader, createUser } from '../support/basic.js';
import { type StoreKind, storeKinds, tempDir } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeSelfSignedCertificate, type TestCertificate } from '../support/tls.js';

const PASSWORD = 'grace-hopper-cobol-1959';
const REDIRECT = 'https://app.example.com/callback';

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: any;
}

async function call(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, text, body };
}

const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** A server with grace and a confidential client; `env` decides the transport rules. */
function serverWith(kind: StoreKind, env: () => Record<string, string>) {
  const state = {} as { server: TestServer; client: RegisteredClient };
  beforeAll(async () => {
    state.server = await startTestServer(kind, { env: env() });
    await createUser(state.server, { username: 'grace', password: PASSWORD });
    state.client = await registerClient(state.server, {
      client_name: 'Reports',
      grant_types: ['client_credentials', 'authorization_code'],
      redirect_uris: [REDIRECT],
      scope: 'reports:read',
    });
  });
  afterAll(async () => state.server?.stop());
  return state;
}

function expectHttpsProblem(answer: Answer, path: string): void {
  expect(answer.status, answer.text).toBe(401);
  expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(answer.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  expect(answer.body).toMatchObject({
    type: 'urn:gatehouse:problem:https-required',
    status: 401,
    instance: path,
    detail: expect.stringMatching(/only accepted over HTTPS.*trust_proxy/),
  });
  expect(answer.text).not.toContain('access_token');
}

function expectOAuthHttpsError(answer: Pick<Answer, 'status' | 'headers' | 'body'>): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(401);
  expect(answer.headers.get('www-authenticate')).toBe(BASIC_CHALLENGE);
  expect(answer.headers.get('cache-control')).toBe('no-store');
  // RFC 6749 §5.2: the client did not authenticate; the description is the https_required sentence.
  expect(answer.body).toEqual({
    error: 'invalid_client',
    error_description: expect.stringMatching(/only accepted over HTTPS/),
  });
}

describe.each(storeKinds())('HTTPS for every secret on %s', (kind) => {
  describe('over plain HTTP, without TLS, dev mode, trusted proxy or loopback allowance', () => {
    const state = serverWith(kind, () => ({ GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'false' }));
    const url = (path: string) => `${state.server.publicUrl}${path}`;

    it('refuses POST /auth/login with a password, in the body or as Basic, without checking it', async () => {
      expectHttpsProblem(
        await call(url('/auth/login'), json({ username: 'grace', password: PASSWORD })),
        '/auth/login',
      );
      expectHttpsProblem(
        await call(url('/auth/login'), { method: 'POST', headers: { authorization: basicHeader('grace', PASSWORD) } }),
        '/auth/login',
      );
      // Unread means uncounted: many wrong passwords over HTTP throttle nothing (they were never checked).
      for (let i = 0; i < 8; i++) {
        expect((await call(url('/auth/login'), json({ username: 'grace', password: `wrong-${i}` }))).status).toBe(401);
      }
      await state.server.running.services.audit.flush();
      const logins = await state.server.admin('GET', '/admin/v1/audit-events?action=user.login');
      expect(logins.body.data).toEqual([]);
    });

    it('refuses /auth/refresh and /auth/logout, which carry a refresh token', async () => {
      for (const path of ['/auth/refresh', '/auth/logout']) {
        expectHttpsProblem(await call(url(path), json({ refresh_token: 'rt_anything' })), path);
      }
    });

    it('refuses the OAuth token endpoint with client_secret_basic and client_secret_post', async () => {
      const { client } = state;
      expectOAuthHttpsError(
        await postForm(
          url('/oauth/token'),
          { grant_type: 'client_credentials' },
          { authorization: basic(client.id, client.secret) },
        ),
      );
      expectOAuthHttpsError(
        await postForm(url('/oauth/token'), {
          grant_type: 'client_credentials',
          client_id: client.id,
          client_secret: client.secret,
        }),
      );
    });

    it('refuses introspection and revocation', async () => {
      const { client } = state;
      for (const path of ['/oauth/introspect', '/oauth/revoke']) {
        expectOAuthHttpsError(
          await postForm(url(path), { token: 'anything' }, { authorization: basic(client.id, client.secret) }),
        );
      }
    });

    it('refuses the authorization endpoint and the login pages with a 401 page', async () => {
      const params = new URLSearchParams({
        response_type: 'code',
        client_id: state.client.id,
        redirect_uri: REDIRECT,
        scope: 'reports:read',
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      });
      const pages = [
        await call(url(`/oauth/authorize?${params}`), { redirect: 'manual' }),
        await call(url('/oauth/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), { redirect: 'manual' }),
        await call(url('/oauth/interaction/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/login'), {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username: 'grace', password: PASSWORD, csrf_token: 'x' }).toString(),
        }),
      ];
      for (const page of pages) {
        expect(page.status, page.text).toBe(401);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(page.headers.get('location')).toBeNull();
        expect(page.text).toContain('https_required');
        expect(page.text).toContain('only accepted over HTTPS');
      }
    });

    it('leaves the admin listener to its own rule: plain HTTP on loopback with the admin key', async () => {
      expect((await state.server.admin('GET', '/admin/v1/status')).status).toBe(200);
    });
  });

  describe('behind a trusted TLS-terminating proxy', () => {
    const state = serverWith(kind, () => ({
      GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'false',
      GATEHOUSE_TRUST_PROXY: 'loopback',
    }));
    const url = (path: string) => `${state.server.publicUrl}${path}`;
    const viaProxy = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' };

    it('accepts login, refresh and the token endpoint when the proxy says https', async () => {
      const login = await call(url('/auth/login'), json({ username: 'grace', password: PASSWORD }, viaProxy));
      expect(login.status, login.text).toBe(200);
      const refreshed = await call(url('/auth/refresh'), json({ refresh_token: login.body.refresh_token }, viaProxy));
      expect(refreshed.status, refreshed.text).toBe(200);
      const token = await postForm(
        url('/oauth/token'),
        { grant_type: 'client_credentials' },
        { authorization: basic(state.client.id, state.client.secret), ...viaProxy },
      );
      expect(token.status, JSON.stringify(token.body)).toBe(200);
    });

    it('refuses when the proxy says http, or a remote client says nothing', async () => {
      expectHttpsProblem(
        await call(
          url('/auth/login'),
          json({ username: 'grace', password: PASSWORD }, { ...viaProxy, 'x-forwarded-proto': 'http' }),
        ),
        '/auth/login',
      );
      expectOAuthHttpsError(
        await postForm(
          url('/oauth/token'),
          { grant_type: 'client_credentials' },
          { authorization: basic(state.client.id, state.client.secret), 'x-forwarded-for': '203.0.113.9' },
        ),
      );
    });
  });

  for (const [name, env] of [
    ['security.allow_insecure_loopback', { GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'true' }],
    ['its old name basic.allow_insecure_loopback', { GATEHOUSE_BASIC_ALLOW_INSECURE_LOOPBACK: 'true' }],
    ['--dev', { GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'false', GATEHOUSE_DEV: 'true' }],
  ] as Array<[string, Record<string, string>]>) {
    describe(`with ${name}`, () => {
      const state = serverWith(kind, () => env);
      const url = (path: string) => `${state.server.publicUrl}${path}`;

      it('accepts the same requests over plain HTTP from loopback', async () => {
        const login = await call(url('/auth/login'), json({ username: 'grace', password: PASSWORD }));
        expect(login.status, login.text).toBe(200);
        const token = await postForm(
          url('/oauth/token'),
          { grant_type: 'client_credentials' },
          { authorization: basic(state.client.id, state.client.secret) },
        );
        expect(token.status, JSON.stringify(token.body)).toBe(200);
        expect(state.server.running.services.config.security.allowInsecureLoopback).toBe(name !== '--dev');
      });
    });
  }
});

describe("with the server's own TLS", () => {
  let dir: { path: string; remove(): void };
  let certificate: TestCertificate;
  let server: TestServer;

  beforeAll(async () => {
    dir = tempDir('gatehouse-tls-');
    certificate = makeSelfSignedCertificate(dir.path);
    server = await startTestServer('sqlite', {
      env: {
        GATEHOUSE_SECURITY_ALLOW_INSECURE_LOOPBACK: 'false',
        GATEHOUSE_TLS_CERT: certificate.certFile,
        GATEHOUSE_TLS_KEY_FILE: certificate.keyFile,
      },
    });
    await createUser(server, { username: 'grace', password: PASSWORD });
  });
  afterAll(async () => {
    await server?.stop();
    dir?.remove();
  });

  it('accepts POST /auth/login over HTTPS', async () => {
    const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const request = https.request(
        `${server.publicUrl}/auth/login`,
        { method: 'POST', ca: certificate.cert, headers: { 'content-type': 'application/json' } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
          );
        },
      );
      request.on('error', reject);
      request.end(JSON.stringify({ username: 'grace', password: PASSWORD }));
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.access_token).toEqual(expect.any(String));
  });
});
