/** Token and key settings are validated at start, with one line per problem (docs/jwt.md). */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig({ env });
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
};

describe('token configuration', () => {
  it('has safe defaults: ES256, 30 d rotation, published 1 d ahead, JWKS cached 10 min, 15 min tokens', () => {
    const { config } = loadConfig({ env: {} });
    expect(config.keys).toMatchObject({
      algorithm: 'ES256',
      rotateEveryMs: 30 * 86_400_000,
      publishAheadMs: 86_400_000,
      jwksMaxAgeMs: 600_000,
    });
    expect(config.tokens).toMatchObject({
      accessTtlMs: 900_000,
      leewayMs: 30_000,
      maxLength: 8192,
      audience: config.issuer,
    });
  });

  it('refuses a publish_ahead not longer than the JWKS cache lifetime (docs/security.md #37)', () => {
    expect(problemsOf({ GATEHOUSE_KEYS_PUBLISH_AHEAD: '5m' })).toEqual([
      'keys.publish_ahead: must be longer than keys.jwks_max_age, or verifiers may not know a new key when it starts signing',
    ]);
  });

  it('refuses HS256 without a secret, and secrets under 256 bits (docs/security.md #10)', () => {
    expect(problemsOf({ GATEHOUSE_KEYS_ALGORITHM: 'HS256' })[0]).toMatch(
      /^keys.algorithm: HS256 needs keys.hs256_secret/,
    );
    const short = problemsOf({ GATEHOUSE_KEYS_HS256_SECRET: 'a'.repeat(62) });
    expect(short[0]).toMatch(
      /^keys.hs256_secret \(from GATEHOUSE_KEYS_HS256_SECRET\): must be at least 32 random bytes/,
    );
    // The secret is never echoed back.
    expect(short[0]).not.toContain('a'.repeat(62));
    expect(problemsOf({ GATEHOUSE_KEYS_ALGORITHM: 'none' })[0]).toMatch(/must be one of ES256, EdDSA, RS256, HS256/);
  });

  it('refuses a leeway above five minutes and claim mappings onto registered claims', () => {
    expect(problemsOf({ GATEHOUSE_TOKENS_LEEWAY: '10m' })[0]).toMatch(/tokens.leeway .*at most 5m/);
    expect(problemsOf({ GATEHOUSE_TOKENS_CLAIMS: '{"sub":"username"}' })[0]).toMatch(
      /must not set the registered claim "sub"/,
    );
    expect(problemsOf({ GATEHOUSE_TOKENS_CLAIMS: '{"team":"password"}' })[0]).toMatch(/sources are username, email/);
    expect(problemsOf({ GATEHOUSE_TOKENS_CLAIMS: '{"team":"metadata.team"}' })).toEqual([]);
  });
});
