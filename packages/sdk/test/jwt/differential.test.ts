/**
 * Differential test (issue 5 item 9): the same corpus, valid and invalid tokens, through our core
 * and through jose's `jwtVerify` with equivalent options must agree on accept/reject. Where we
 * refuse a token that jose accepts on purpose (duplicate names, non-canonical base64url, key-bearing
 * headers, …) the vector says so and why; we must never accept a token that jose refuses.
 */
import type { KeyObject } from 'node:crypto';
import { type JWTHeaderParameters, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  mutatedTokens,
  tokenVectors,
  vectorKeyObjects,
  vectorSet,
  vectorVerifyOptions,
} from '../../../../test/vectors/jwt/vectors.js';
import { verifyJwt } from '../../src/jwt/index.js';

const keys = vectorKeyObjects();

async function joseAccepts(token: string): Promise<boolean> {
  try {
    await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = header.kid === undefined ? undefined : keys.get(header.kid);
        // The key decides the algorithm, as in our core.
        if (!key || key.alg !== header.alg) throw new Error('no key for this kid and alg');
        return key.alg === 'HS256' ? new Uint8Array(key.key.export()) : (key.key as KeyObject);
      },
      {
        issuer: vectorSet.issuer,
        audience: vectorSet.audience,
        typ: 'at+jwt',
        algorithms: ['ES256', 'EdDSA', 'RS256', 'HS256'],
        clockTolerance: vectorSet.leewaySeconds,
        currentDate: new Date(vectorSet.now * 1000),
        requiredClaims: ['exp'],
      },
    );
    return true;
  } catch {
    return false;
  }
}

const ours = async (token: string) =>
  verifyJwt(token, (kid) => keys.get(kid), {
    ...vectorVerifyOptions,
    // jose has no length cap: compare the rest of the rules on the large tokens too.
    maxTokenLength: 2_000_000,
  });

describe('differential: our core vs jose jwtVerify on the same tokens', () => {
  it.each(tokenVectors.map((vector) => [vector.name, vector] as const))('%s', async (_name, vector) => {
    const [mine, theirs] = [(await ours(vector.token)).ok, await joseAccepts(vector.token)];
    if (vector.joseAccepts) {
      // Deliberately stricter: jose accepts, we refuse.
      expect({ mine, theirs }, vector.joseAccepts).toEqual({ mine: false, theirs: true });
    } else if (vector.expect === 'ERR_JWT_TOO_LARGE') {
      // Only the size differs: a padded payload is not valid base64url JSON either way.
      expect(mine).toBe(theirs);
    } else {
      expect(mine, vector.description).toBe(theirs);
    }
  });

  it('agrees on randomly mutated tokens (bit flips, truncation, segment swaps)', async () => {
    for (const token of mutatedTokens(600, 42)) {
      const mine = (await ours(token)).ok;
      const theirs = await joseAccepts(token);
      // Never accept what jose refuses; the one deliberate difference a mutation can produce is a
      // non-canonical base64url spelling, which we refuse and jose decodes.
      if (mine !== theirs)
        expect({ mine, theirs, nonCanonical: nonCanonical(token) }, token).toEqual({
          mine: false,
          theirs: true,
          nonCanonical: true,
        });
    }
  });
});
function nonCanonical(token: string): boolean {
  return token.split('.').some((segment) => Buffer.from(segment, 'base64url').toString('base64url') !== segment);
}
