/**
 * An independent verifier accepts our tokens (issue 5, "Done when"): PyJWT from Debian's
 * python3-jwt, with `PyJWKClient` fetching our JWKS over HTTP, verifies a token from /auth/login
 * for each algorithm Gatehouse signs with, checking signature, exp, iss and aud.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../support/basic.js';
import { storeKinds } from '../support/databases.js';
import { peer } from '../support/peers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const PYTHON = `
import json, sys, jwt
from jwt import PyJWKClient
args = json.loads(sys.argv[1])
client = PyJWKClient(args["jwks_uri"])
key = client.get_signing_key_from_jwt(args["token"])
claims = jwt.decode(args["token"], key.key, algorithms=[args["alg"]], audience=args["audience"], issuer=args["issuer"],
                    options={"require": ["exp", "iat", "iss", "aud", "sub"]})
header = jwt.get_unverified_header(args["token"])
print(json.dumps({"sub": claims["sub"], "typ": header["typ"], "kid": key.key_id}))
`;

/** Runs the verifier asynchronously: the server answering its JWKS request lives in this process. */
function python(args: Record<string, string>): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', ['-c', PYTHON, JSON.stringify(args)], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const alice = { username: 'alice', password: 'correct horse battery staple', scopes: ['read'] };

describe.runIf(peer('python3-jwt').present).each(storeKinds())('PyJWT verifies our tokens (%s)', (kind) => {
  const servers: TestServer[] = [];
  afterAll(async () => Promise.all(servers.map((server) => server.stop())));

  for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
    describe(alg, () => {
      let server: TestServer;
      let aliceId: string;
      beforeAll(async () => {
        server = await startTestServer(kind, { env: { GATEHOUSE_KEYS_ALGORITHM: alg } });
        aliceId = (await createUser(server, alice)).id;
        servers.push(server);
      });

      it('accepts a token from /auth/login using our JWKS', async () => {
        const response = await fetch(`${server.publicUrl}/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'alice', password: alice.password }),
        });
        const { access_token: token } = (await response.json()) as { access_token: string };
        const args = {
          jwks_uri: `${server.publicUrl}/.well-known/jwks.json`,
          token,
          alg,
          audience: server.publicUrl,
          issuer: server.publicUrl,
        };
        const run = await python(args);
        expect(run.stderr).toBe('');
        expect(run.status).toBe(0);
        expect(JSON.parse(run.stdout)).toMatchObject({ sub: aliceId, typ: 'at+jwt' });

        // And refuses it once tampered with: the check is real.
        const [header, payload, signature] = token.split('.') as [string, string, string];
        const forged = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
        const refused = await python({ ...args, token: forged });
        expect(refused.status).not.toBe(0);
        expect(refused.stderr).toMatch(/InvalidSignatureError|DecodeError/);
      });
    });
  }
});
