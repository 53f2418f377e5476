/**
 * createClientCredentials against a real local token endpoint that checks client authentication
 * (client_secret_basic, private_key_jwt with single-use jti) and issues JWTs a real verifier
 * accepts: caching, refresh before expiry with one request in flight, OAuth errors, the fetch
 * wrapper (end to end into a service protected by the SDK), and RFC 8693 token exchange.
 */
import http from 'node:http';
import { exportJWK, generateKeyPair, jwtVerify } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createClientCredentials, createVerifier, OAuthError, RemoteDocumentError, TOKEN_TYPES } from '../src/index.js';
import { gatehouse } from '../src/middleware/node.js';
import { type RecordedRequest, startIssuer, type TestIssuer } from './support/issuer.js';
import { listen } from './support/listen.js';

let issuer: TestIssuer;
let now: number;
const clock = () => now;
let expiresIn: number;
let clientPublicKey: CryptoKey;
let clientPrivateKey: CryptoKey;
const seenJtis = new Set<string>();
const SECRET = 'sk_test_0123456789';

async function clientOf(request: RecordedRequest, form: URLSearchParams): Promise<string | undefined> {
  const basic = request.headers.authorization;
  if (basic?.startsWith('Basic ')) {
    const [id, secret] = Buffer.from(basic.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
    return id === 'svc_orders' && secret === SECRET ? id : undefined;
  }
  if (form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    try {
      const { payload } = await jwtVerify(form.get('client_assertion') as string, clientPublicKey, {
        issuer: 'svc_keys',
        subject: 'svc_keys',
        audience: issuer.url,
        currentDate: new Date(now),
      });
      // docs/security.md #18: a client_assertion jti is single-use.
      if (!payload.jti || seenJtis.has(payload.jti)) return undefined;
      seenJtis.add(payload.jti);
      return 'svc_keys';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

async function tokenEndpoint(request: RecordedRequest) {
  const form = new URLSearchParams(request.body);
  const client = await clientOf(request, form);
  if (!client)
    return {
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="gatehouse"' },
      body: { error: 'invalid_client' },
    };
  const grant = form.get('grant_type');
  const audience = form.get('audience') ?? issuer.audience;
  if (grant === 'client_credentials') {
    const token = await issuer.sign(
      { sub: client, client_id: client, scope: form.get('scope') ?? '', aud: audience },
      { now },
    );
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: { access_token: token, token_type: 'Bearer', expires_in: expiresIn, scope: form.get('scope') },
    };
  }
  if (grant === 'urn:ietf:params:oauth:grant-type:token-exchange') {
    const subject = await jwtVerify(
      form.get('subject_token') as string,
      async () => issuer.published[0]?.publicJwk as never,
      { currentDate: new Date(now) },
    ).catch(() => undefined);
    if (!subject) return { status: 400, body: { error: 'invalid_grant' } };
    // Like Gatehouse: the authenticated client is the actor (RFC 8693 §4.1); actor_token is not taken.
    if (form.has('actor_token')) return { status: 400, body: { error: 'invalid_request' } };
    const token = await issuer.sign(
      {
        sub: subject.payload.sub,
        client_id: client,
        scope: form.get('scope') ?? '',
        aud: audience,
        act: { sub: client },
      },
      { now },
    );
    return {
      status: 200,
      body: { access_token: token, token_type: 'Bearer', expires_in: 120, issued_token_type: TOKEN_TYPES.accessToken },
    };
  }
  return { status: 400, body: { error: 'unsupported_grant_type' } };
}

beforeEach(async () => {
  issuer = await startIssuer();
  issuer.handlers.set('/oauth/token', tokenEndpoint);
  now = Date.now();
  expiresIn = 300;
  ({ publicKey: clientPublicKey, privateKey: clientPrivateKey } = await generateKeyPair('ES256', {
    extractable: true,
  }));
});
afterEach(async () => issuer.close());

const clientFor = (extra: Partial<Parameters<typeof createClientCredentials>[0]> = {}) =>
  createClientCredentials({
    issuer: issuer.url,
    clientId: 'svc_orders',
    clientSecret: SECRET,
    scope: ['orders:read', 'orders:write'],
    audience: 'https://orders.internal',
    clock,
    ...extra,
  });

const settle = async (condition: () => boolean) => {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
};

describe('createClientCredentials', () => {
  it('gets a token with client_secret_basic, discovers the endpoint, and caches it', async () => {
    const client = clientFor();
    const token = await client.getToken();
    expect(await client.getToken()).toBe(token);
    expect(issuer.count('/oauth/token')).toBe(1);
    const sent = issuer.requests.find((request) => request.path === '/oauth/token') as RecordedRequest;
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(sent.body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'orders:read orders:write',
      audience: 'https://orders.internal',
    });
    // The token is a real access token a resource server accepts.
    const verifier = createVerifier({ issuer: issuer.url, audience: 'https://orders.internal', clock });
    expect(await verifier.verify(token)).toMatchObject({
      subject: 'svc_orders',
      clientId: 'svc_orders',
      scopes: ['orders:read', 'orders:write'],
    });
  });

  it('makes one request for many concurrent callers', async () => {
    const client = clientFor();
    const tokens = await Promise.all(Array.from({ length: 100 }, () => client.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(issuer.count('/oauth/token')).toBe(1);
  });

  it('refreshes in the background before expiry, serving the current token meanwhile', async () => {
    const client = clientFor({ refreshBefore: 60_000 });
    const first = await client.getToken();
    now += 239_000;
    expect(await client.getToken()).toBe(first);
    expect(issuer.count('/oauth/token')).toBe(1);
    now += 1000; // 60 s before expiry
    const during = await Promise.all([client.getToken(), client.getToken(), client.getToken()]);
    expect(during).toEqual([first, first, first]);
    await settle(() => issuer.count('/oauth/token') === 2);
    let next = first;
    while (next === first) {
      await new Promise((resolve) => setImmediate(resolve));
      next = await client.getToken();
    }
    expect(issuer.count('/oauth/token')).toBe(2);
  });

  it('keeps the current token when a refresh fails, and fails once it has expired', async () => {
    const client = clientFor();
    const first = await client.getToken();
    issuer.handlers.set('/oauth/token', () => ({ status: 500, body: { error: 'server_error' } }));
    now += 250_000;
    expect(await client.getToken()).toBe(first);
    await settle(() => issuer.count('/oauth/token') === 2);
    now += 60_000; // past expiry
    const error = await client.getToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RemoteDocumentError);
    expect((error as RemoteDocumentError).code).toBe('ERR_REMOTE_STATUS');
  });

  it('throws OAuthError named after the RFC 6749 §5.2 code', async () => {
    const client = clientFor({ clientSecret: 'wrong' });
    const error = await client.getToken().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'invalid_client', status: 401 });
  });

  it('refuses token responses it cannot use', async () => {
    issuer.handlers.set('/oauth/token', () => ({ status: 200, body: { access_token: 'x', token_type: 'mac' } }));
    await expect(clientFor().getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE_INVALID' });
    issuer.handlers.set('/oauth/token', () => ({ status: 200, body: { token_type: 'Bearer' } }));
    await expect(clientFor().getToken()).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE_INVALID' });
  });

  it('authenticates with private_key_jwt: a fresh single-use assertion per request (RFC 7523)', async () => {
    const client = clientFor({
      clientId: 'svc_keys',
      clientSecret: undefined,
      privateKey: { ...(await exportJWK(clientPrivateKey)), alg: 'ES256' },
      privateKeyId: 'svc-key-1',
    });
    await client.getToken();
    await client.getToken({ forceRefresh: true });
    expect(issuer.count('/oauth/token')).toBe(2);
    expect(seenJtis.size).toBeGreaterThanOrEqual(2);
    const sent = new URLSearchParams(issuer.requests.at(-1)?.body);
    expect(sent.get('client_id')).toBe('svc_keys');
    expect(issuer.requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it('calls a protected service with fetch(), refreshing once on 401 invalid_token', async () => {
    const verifier = createVerifier({ issuer: issuer.url, audience: 'https://orders.internal', clock });
    let refuseNext = false;
    const protect = gatehouse(verifier);
    const server = http.createServer((req, res) => {
      if (refuseNext) {
        refuseNext = false;
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' });
        return res.end();
      }
      protect(req, res, () => res.end(`hello ${(req as { auth?: { subject: string } }).auth?.subject}`));
    });
    const service = await listen(server);
    try {
      const client = clientFor();
      const response = await client.fetch(`${service.url}/orders`);
      expect(await response.text()).toBe('hello svc_orders');
      refuseNext = true;
      const retried = await client.fetch(`${service.url}/orders`, { method: 'POST', body: 'payload' });
      expect(retried.status).toBe(200);
      expect(issuer.count('/oauth/token')).toBe(2);
    } finally {
      await service.close();
    }
  });

  it('exchanges a user token for a downstream one (RFC 8693), cached, the client named as actor', async () => {
    const client = clientFor();
    const userToken = await issuer.sign({ sub: 'usr_dave', scope: 'orders:read' }, { now });
    const exchanged = await client.exchange({
      subjectToken: userToken,
      audience: 'https://billing.internal',
      scope: 'orders:read',
    });
    expect(exchanged.issuedTokenType).toBe(TOKEN_TYPES.accessToken);
    const sent = Object.fromEntries(new URLSearchParams(issuer.requests.at(-1)?.body));
    expect(sent).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: userToken,
      subject_token_type: TOKEN_TYPES.accessToken,
      requested_token_type: TOKEN_TYPES.accessToken,
      audience: 'https://billing.internal',
      scope: 'orders:read',
    });
    const billing = createVerifier({ issuer: issuer.url, audience: 'https://billing.internal', clock });
    const downstream = await billing.verify(exchanged.accessToken);
    expect(downstream).toMatchObject({ subject: 'usr_dave', clientId: 'svc_orders' });
    expect(downstream.claims.act).toEqual({ sub: 'svc_orders' });
    await client.exchange({ subjectToken: userToken, audience: 'https://billing.internal', scope: 'orders:read' });
    expect(issuer.count('/oauth/token')).toBe(1);
    // onBehalfOf: a fetch with the exchanged token (from the cache here).
    const seen: string[] = [];
    const service = await listen(
      http.createServer((req, res) => {
        seen.push(String(req.headers.authorization));
        res.end();
      }),
    );
    try {
      await client.onBehalfOf(userToken, { audience: 'https://billing.internal', scope: 'orders:read' })(
        `${service.url}/x`,
      );
      expect(seen).toEqual([`Bearer ${exchanged.accessToken}`]);
      expect(issuer.count('/oauth/token')).toBe(1);
    } finally {
      await service.close();
    }

    const bad = await client.exchange({ subjectToken: 'not-a-token' }).catch((caught: unknown) => caught);
    expect(bad).toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('checks its options at construction', () => {
    expect(() => createClientCredentials({ issuer: issuer.url, clientId: 'x' })).toThrow(/clientSecret or privateKey/);
    expect(() => createClientCredentials({ issuer: issuer.url, clientId: '', clientSecret: 's' })).toThrow(/clientId/);
    expect(() =>
      createClientCredentials({ issuer: 'http://auth.example.com', clientId: 'x', clientSecret: 's' }),
    ).toThrow(/allowHttp/);
  });
});
