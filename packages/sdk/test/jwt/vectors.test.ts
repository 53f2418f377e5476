/**
 * The verification core against the shared vectors (test/vectors/jwt): each case must be
 * accepted, or refused with exactly its error code. The server's black-box suite replays the same
 * file over HTTP. Each case names the docs/security.md item it protects.
 */
import { describe, expect, it } from 'vitest';
import {
  tokenVectors,
  vectorKeyObjects,
  vectorSet,
  vectorVerifyOptions,
} from '../../../../test/vectors/jwt/vectors.js';
import { verifyJwt } from '../../src/jwt/index.js';

const keys = vectorKeyObjects();
const options = vectorVerifyOptions;

describe('verifyJwt on the shared vectors', () => {
  it('has vectors for every kind of bad input the issue lists', () => {
    const names = tokenVectors.map((vector) => vector.name);
    for (const required of [
      'alg-none',
      'alg-nOnE',
      'hs256-es256-public-key-as-secret',
      'kid-path-traversal',
      'kid-sql',
      'jku-elsewhere',
      'embedded-jwk-attacker',
      'segments-not-base64url',
      'too-large-1mb',
      'expired',
      'nbf-future',
      'aud-wrong',
      'iss-wrong',
      'kid-deleted-key',
    ]) {
      expect(names).toContain(required);
    }
  });

  it.each(tokenVectors.map((vector) => [vector.name, vector] as const))('%s', async (_name, vector) => {
    const result = await verifyJwt(vector.token, (kid) => keys.get(kid), options);
    if (vector.expect === 'valid') {
      expect(result, vector.description).toMatchObject({ ok: true });
      if (result.ok) expect(result.claims.iss).toBe(vectorSet.issuer);
    } else {
      expect(result.ok, vector.description).toBe(false);
      if (!result.ok) expect(result.code, `${vector.description} ${vector.security ?? ''}`).toBe(vector.expect);
    }
  });
});
