/**
 * Introspection (RFC 7662) and revocation (RFC 7009) of access tokens: client authentication
 * required (docs/security.md #23), inactive tokens answer `{"active":false}` only, a client revokes
 * only its own tokens (docs/security.md #24); on every store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { basic, expectOAuthError, postForm, type RegisteredClient, registerClient } from './support.js';

describe.each(storeKinds())('introspection and revocation on %s', (kind) => {
  let server: TestServer;
  let resourceServer: RegisteredClient;
  let service: RegisteredClient;
  let other: RegisteredClient;
  const url = (path: string) => `${server.publicUrl}${path}`;
  const issue = async (client: RegisteredClient): Promise<string> => {
    const response = await postForm(url('/oauth/token'), 'grant_type=client_credentials', {
      authorization: basic(client.id, client.secret),
    });
    expect(response.status).toBe(200);
    return response.body.access_token;
  };
  const introspect = (token: string, extra: Record<string, string> = {}) =>
    postForm(
      url('/oauth/introspect'),
      { token, ...extra },
      { authorization: basic(resourceServer.id, resourceServer.secret) },
    );

  beforeAll(async () => {
    server = await startTestServer(kind);
    resourceServer = await registerClient(server, { client_name: 'api', grant_types: ['client_credentials'] });
    service = await registerClient(server, { grant_types: ['client_credentials'], scope: 'read write' });
    other = await registerClient(server, { grant_types: ['client_credentials'] });
  });
  afterAll(async () => server?.stop());

  it('describes an active access token with RFC 7662 §2.2 members', async () => {
    const token = await issue(service);
    const response = await introspect(token, { token_type_hint: 'access_token' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.body).toMatchObject({
      active: true,
      sub: service.id,
      client_id: service.id,
      scope: 'read write',
      token_type: 'Bearer',
      iss: server.running.services.config.issuer,
      exp: expect.any(Number),
      iat: expect.any(Number),
      jti: expect.any(String),
    });
    // A wrong hint still finds the token (RFC 7662 §2.1).
    expect((await introspect(token, { token_type_hint: 'refresh_token' })).body.active).toBe(true);
  });

  it('answers {"active":false} and nothing else for unknown, malformed and tampered tokens', async () => {
    const token = await issue(service);
    const tampered = `${token.slice(0, -4)}AAAA`;
    for (const candidate of ['nope', 'a.b.c', tampered, 'x'.repeat(20_000), 'ghr_unknownrefreshtoken']) {
      const response = await introspect(candidate);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ active: false });
    }
  });

  it('requires client authentication, and refuses public clients (docs/security.md #23)', async () => {
    const token = await issue(service);
    const anonymous = await postForm(url('/oauth/introspect'), { token });
    expectOAuthError(anonymous, 401, 'invalid_client');
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    expectOAuthError(
      await postForm(url('/oauth/introspect'), { token }, { authorization: basic(resourceServer.id, 'wrong') }),
      401,
      'invalid_client',
    );
    const spa = await registerClient(server, {
      grant_types: ['authorization_code'],
      redirect_uris: ['https://spa.example.com/cb'],
      token_endpoint_auth_method: 'none',
    });
    expectOAuthError(await postForm(url('/oauth/introspect'), { token, client_id: spa.id }), 401, 'invalid_client');
    expectOAuthError(
      await postForm(url('/oauth/introspect'), 'token_type_hint=access_token', {
        authorization: basic(resourceServer.id, resourceServer.secret),
      }),
      400,
      'invalid_request',
    );
    expectOAuthError(
      await postForm(url('/oauth/introspect'), `token=${token}&token=${token}`, {
        authorization: basic(resourceServer.id, resourceServer.secret),
      }),
      400,
      'invalid_request',
    );
  });

  it('revokes an access token of the calling client: introspection and /auth/verify then refuse it', async () => {
    const token = await issue(service);
    const revoked = await postForm(
      url('/oauth/revoke'),
      { token, token_type_hint: 'access_token' },
      {
        authorization: basic(service.id, service.secret),
      },
    );
    expect(revoked.status).toBe(200);
    expect(revoked.headers.get('cache-control')).toBe('no-store');
    expect((await introspect(token)).body).toEqual({ active: false });
    const verify = await fetch(url('/auth/verify'), { headers: { authorization: `Bearer ${token}` } });
    expect(verify.status).toBe(401);
    // Revoking again, or revoking garbage, is still a success (RFC 7009 §2.2).
    for (const again of [token, 'garbage']) {
      const response = await postForm(
        url('/oauth/revoke'),
        { token: again },
        { authorization: basic(service.id, service.secret) },
      );
      expect(response.status).toBe(200);
    }
  });

  it('never revokes another client’s token (RFC 7009 §2.1, docs/security.md #24)', async () => {
    const token = await issue(service);
    const response = await postForm(url('/oauth/revoke'), { token }, { authorization: basic(other.id, other.secret) });
    expectOAuthError(response, 400, 'unauthorized_client');
    expect((await introspect(token)).body.active).toBe(true);
  });

  it('requires client authentication to revoke and refuses unknown token type hints', async () => {
    const token = await issue(service);
    expectOAuthError(await postForm(url('/oauth/revoke'), { token }), 401, 'invalid_client');
    expectOAuthError(
      await postForm(
        url('/oauth/revoke'),
        { token, token_type_hint: 'id_token' },
        { authorization: basic(service.id, service.secret) },
      ),
      400,
      'unsupported_token_type',
    );
    expect((await introspect(token)).body.active).toBe(true);
  });
});
