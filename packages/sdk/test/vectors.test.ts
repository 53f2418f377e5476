/**
 * The shared JWT vectors (test/vectors/jwt, the same file the core and the server replay) through
 * createVerifier: the Node entry (the core on KeyObjects) and the Fetch entry (jose on
 * CryptoKeys), with static keys and with the keys served as a JWKS over HTTP. Each case is
 * accepted, or refused with exactly its ERR_JWT_* code as a 401 invalid_token. Then the two
 * engines are compared on randomly mutated tokens: they must agree on the code.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutatedTokens, type TokenVector, tokenVectors, vectorSet } from '../../../test/vectors/jwt/vectors.js';
import { createVerifier as createFetchVerifier } from '../src/fetch.js';
import { createVerifier, GatehouseAuthError, type Verifier } from '../src/index.js';

const publicJwks = vectorSet.keys.filter((key) => key.published && key.publicJwk).map((key) => key.publicJwk);
const hs256 = vectorSet.keys.find((key) => key.published && key.secretHex);
const common = {
  issuer: vectorSet.issuer,
  audience: vectorSet.audience,
  types: vectorSet.types,
  leewaySeconds: vectorSet.leewaySeconds,
  maxTokenLength: vectorSet.maxTokenLength,
  // The vectors are judged as the core judges them: no claim required beyond iss, aud, exp.
  requiredClaims: [],
  clock: () => vectorSet.now * 1000,
  cacheSize: 0,
};
const staticKeys = {
  keys: publicJwks as never,
  secret: { secret: hs256?.secretHex as string, kid: hs256?.kid as string },
};

/** The outcome as a vector spells it: `valid` or the error code. */
async function outcome(verifier: Verifier, token: string): Promise<string> {
  try {
    const identity = await verifier.verify(token);
    expect(identity.method).toBe('jwt');
    return 'valid';
  } catch (error) {
    if (!(error instanceof GatehouseAuthError)) throw error;
    // docs/security.md #11: every refusal of a token is a 401 invalid_token.
    expect({ status: error.status, error: error.error }).toEqual({ status: 401, error: 'invalid_token' });
    return error.code;
  }
}

const cases = tokenVectors.map((vector) => [vector.name, vector] as const);

describe.each([
  ['Node entry (core on KeyObjects)', () => createVerifier({ ...common, ...staticKeys })],
  ['Fetch entry (jose on CryptoKeys)', () => createFetchVerifier({ ...common, ...staticKeys })],
])('shared vectors through createVerifier: %s', (_name, make) => {
  const verifier = make();
  it.each(cases)('%s', async (_case, vector: TokenVector) => {
    expect(await outcome(verifier, vector.token), `${vector.description} ${vector.security ?? ''}`).toBe(vector.expect);
  });
});

describe('shared vectors with the keys served as a JWKS over HTTP', () => {
  let server: http.Server;
  let jwksUri: string;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: publicJwks }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => server.close());

  // The HS256 secret is never in a JWKS: its tokens name a kid the set does not hold.
  const hsKid = hs256?.kid;
  const expected = (vector: TokenVector) =>
    vector.token.split('.').length === 3 && headerKid(vector.token) === hsKid && vector.expect !== 'ERR_JWT_TOO_LARGE'
      ? 'ERR_JWT_UNKNOWN_KID'
      : vector.expect;

  it.each(cases)('%s', async (_case, vector) => {
    const node = createVerifier({ ...common, jwksUri });
    const web = createFetchVerifier({ ...common, jwksUri });
    expect(await outcome(node, vector.token), vector.description).toBe(expected(vector));
    expect(await outcome(web, vector.token), vector.description).toBe(expected(vector));
  });
});

function headerKid(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).kid;
  } catch {
    return undefined;
  }
}

describe('the Node and WebCrypto engines agree', () => {
  it('on the code for randomly mutated tokens (bit flips, truncation, segment swaps)', async () => {
    const node = createVerifier({ ...common, ...staticKeys });
    const web = createFetchVerifier({ ...common, ...staticKeys });
    for (const token of mutatedTokens(500, 7)) {
      expect(await outcome(web, token), token).toBe(await outcome(node, token));
    }
  });
});
