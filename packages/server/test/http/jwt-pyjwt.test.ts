/**
 * An independent verifier accepts our tokens (issue 5, "Done when"): PyJWT from Debian's
 * python3-jwt, with `PyJWKClient` fetching our JWKS over HTTP, verifies a token from /auth/login
 * for each algorithm Gatehouse signs with, checking signature, exp, iss and aud. And the Python
 * snippets of docs/existing-service.md (JWKS and HS256) run exactly as the doc prints them.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
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

/** The Python block that follows `<!-- snippet: NAME -->` in docs/existing-service.md, as written. */
function docSnippet(name: string): string {
  const doc = readFileSync(fileURLToPath(new URL('../../../../docs/existing-service.md', import.meta.url)), 'utf8');
  const found = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`python\\n([\\s\\S]*?)\\n\`\`\`\\n`).exec(doc);
  if (!found?.[1]) throw new Error(`docs/existing-service.md has no snippet ${name}`);
  return found[1];
}

/** Runs a doc snippet, then `verify(token)` on it, printing the claims or the exception's class. */
function runSnippet(snippet: string, token: string, env: Record<string, string>) {
  const program = `${snippet}
import json as _json, sys as _sys
try:
    print(_json.dumps({"claims": verify(_sys.argv[1])}))
except jwt.InvalidTokenError as error:
    print(_json.dumps({"refused": type(error).__name__}))
`;
  return new Promise<{ status: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      '/usr/bin/python3',
      ['-c', program, token],
      { timeout: 20_000, env: { ...process.env, ...env } },
      (error, stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the Python snippets of docs/existing-service.md run as written', () => {
  const servers: TestServer[] = [];
  afterAll(async () => Promise.all(servers.map((server) => server.stop())));

  const login = async (server: TestServer) => {
    const response = await fetch(`${server.publicUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: alice.password }),
    });
    return ((await response.json()) as { access_token: string }).access_token;
  };
  const tamper = (token: string) => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    return `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  };

  it('pyjwt-jwks: PyJWKClient with audience= verifies an ES256 token and refuses a tampered one', async () => {
    const server = await startTestServer('sqlite');
    servers.push(server);
    const aliceId = (await createUser(server, alice)).id;
    const token = await login(server);
    const snippet = docSnippet('pyjwt-jwks');
    const env = { GATEHOUSE_URL: server.publicUrl };
    const run = await runSnippet(snippet, token, env);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).claims).toMatchObject({ sub: aliceId, iss: server.publicUrl, scope: 'read' });
    expect(JSON.parse((await runSnippet(snippet, tamper(token), env)).stdout)).toEqual({
      refused: 'InvalidSignatureError',
    });
    // audience= is what makes PyJWT check aud: another audience is refused.
    const other = await runSnippet(snippet, token, { ...env, TOKEN_AUDIENCE: 'https://other.example' });
    expect(JSON.parse(other.stdout)).toEqual({ refused: 'InvalidAudienceError' });
  });

  it('pyjwt-hs256: the hex secret decoded to bytes and the derived kid verify an HS256 token', async () => {
    const secret = '0123456789abcdef'.repeat(4);
    const server = await startTestServer('sqlite', {
      env: { GATEHOUSE_KEYS_ALGORITHM: 'HS256', GATEHOUSE_KEYS_HS256_SECRET: secret },
    });
    servers.push(server);
    const aliceId = (await createUser(server, alice)).id;
    const token = await login(server);
    const snippet = docSnippet('pyjwt-hs256');
    const env = { GATEHOUSE_URL: server.publicUrl, GATEHOUSE_KEYS_HS256_SECRET: secret };
    const run = await runSnippet(snippet, token, env);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).claims).toMatchObject({ sub: aliceId });
    expect(JSON.parse((await runSnippet(snippet, tamper(token), env)).stdout)).toEqual({
      refused: 'InvalidSignatureError',
    });
    // Another secret: a different kid, refused before the signature is even checked.
    const wrong = await runSnippet(snippet, token, { ...env, GATEHOUSE_KEYS_HS256_SECRET: 'ab'.repeat(32) });
    expect(JSON.parse(wrong.stdout)).toEqual({ refused: 'InvalidTokenError' });
  });
});
