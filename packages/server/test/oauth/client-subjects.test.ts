/**
 * Client ids and user subjects never collide (docs/security.md #21, RFC 9068 §5, docs/oauth.md
 * "Clients"): a user's `sub` is always its generated id `usr_…` — never the username — and a chosen
 * `client_id` may not start with `usr_` (or any other id prefix), so a client-credentials token
 * (`sub` = client id) can never carry a user's subject, whatever the client is called. A client
 * named like a username is therefore harmless, and accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { claimsOf, postForm, registerClient } from './support.js';

describe.each(storeKinds())('client ids and user subjects on %s', (kind) => {
  let server: TestServer;
  let alice: { id: string };
  const password = 'alice-password-1';
  beforeAll(async () => {
    server = await startTestServer(kind, { env: { GATEHOUSE_DEV: 'true' } });
    alice = await createUser(server, { username: 'alice', password, scopes: ['read'] });
  });
  afterAll(async () => server?.stop());

  const verifiedSubject = async (token: string) => {
    const response = await fetch(`${server.publicUrl}/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return response.headers.get('x-auth-subject');
  };

  it("a client named like a username gets tokens whose sub is never that user's", async () => {
    const client = await registerClient(server, {
      client_id: 'alice',
      grant_types: ['client_credentials'],
      scope: 'read',
      token_endpoint_auth_method: 'client_secret_post',
    });
    expect(client.id).toBe('alice');
    const issued = await postForm(
      `${server.publicUrl}/oauth/token`,
      `client_id=alice&client_secret=${client.secret}&grant_type=client_credentials`,
    );
    expect(issued.status).toBe(200);
    const clientClaims = claimsOf(issued.body.access_token);
    expect(clientClaims).toMatchObject({ sub: 'alice', client_id: 'alice' });
    // Nothing in a client token names a user.
    expect(clientClaims).not.toHaveProperty('username');
    expect(clientClaims).not.toHaveProperty('preferred_username');

    const login = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password }),
    });
    expect(login.status).toBe(200);
    const userToken = ((await login.json()) as { access_token: string }).access_token;
    expect(claimsOf(userToken).sub).toBe(alice.id);
    expect(alice.id).toMatch(/^usr_/);

    // What a service behind forward auth sees: two different subjects.
    expect(await verifiedSubject(issued.body.access_token)).toBe('alice');
    expect(await verifiedSubject(userToken)).toBe(alice.id);
  });

  it("refuses a client id that could be a user's subject: 400 naming client_id", async () => {
    for (const clientId of [alice.id, 'usr_anything', 'key_1234']) {
      const response = await server.admin('POST', '/admin/v1/clients', {
        client_id: clientId,
        grant_types: ['client_credentials'],
      });
      expect(response.status, clientId).toBe(400);
      expect(JSON.stringify(response.body), clientId).toContain('client_id');
    }
  });
});
