/** The settings issue 4 adds: defaults, floors and the rules that involve several settings. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { tempDir } from '../support/databases.js';

const dir = tempDir('gatehouse-config-');
const load = (env: Record<string, string> = {}) => loadConfig({ env: { GATEHOUSE_DATA_DIR: dir.path, ...env } }).config;

describe('user, password, Basic and throttle settings', () => {
  it('defaults to the OWASP argon2id floor, HTTPS-only Basic and conservative throttling', () => {
    const config = load();
    expect(config.passwords).toEqual({
      minLength: 8,
      blocklistFile: undefined,
      argon2: { memoryKib: 19_456, iterations: 2, parallelism: 1 },
      pepper: undefined,
    });
    expect(config.basic).toEqual({
      realm: 'gatehouse',
      allowInsecureLoopback: false,
      cacheTtlMs: 30_000,
      cacheMaxEntries: 10_000,
    });
    expect(config.trustProxy).toEqual([]);
    expect(config.tls).toEqual({ cert: undefined, key: undefined });
    expect(config.throttle).toMatchObject({ user: { freeAttempts: 5, lockAfter: 20 }, lockDurationMs: 900_000 });
    expect(config.issuer).toMatch(/^http:/);
  });

  it('refuses argon2id parameters below the OWASP Password Storage Cheat Sheet and a minimum length below 8', () => {
    expect(() => load({ GATEHOUSE_ARGON2_MEMORY_KIB: '4096' })).toThrow(
      /passwords.argon2.memory_kib .*must be from 19456/,
    );
    expect(() => load({ GATEHOUSE_ARGON2_ITERATIONS: '1' })).toThrow(/passwords.argon2.iterations/);
    expect(() => load({ GATEHOUSE_PASSWORD_MIN_LENGTH: '6' })).toThrow(/passwords.min_length .*must be from 8/);
    expect(load({ GATEHOUSE_ARGON2_MEMORY_KIB: '65536' }).passwords.argon2.memoryKib).toBe(65_536);
  });

  it('checks the throttle settings against each other', () => {
    expect(() => load({ GATEHOUSE_THROTTLE_USER_LOCK_AFTER: '5' })).toThrow(
      /throttle.user.lock_after must be greater than throttle.user.free_attempts/,
    );
    expect(() => load({ GATEHOUSE_THROTTLE_RESET_AFTER: '1m' })).toThrow(
      /reset_after must not be shorter than throttle.lock_duration/,
    );
    expect(() => load({ GATEHOUSE_THROTTLE_BACKOFF_MAX: '500ms' })).toThrow(/backoff_max must not be shorter/);
  });

  it('keeps the pepper secret, even when it is invalid', () => {
    expect(() => load({ GATEHOUSE_PASSWORD_PEPPER: 'not-a-valid-pepper-value' })).toThrow(/passwords.pepper/);
    try {
      load({ GATEHOUSE_PASSWORD_PEPPER: 'not-a-valid-pepper-value' });
    } catch (error) {
      expect(String(error)).not.toContain('not-a-valid-pepper-value');
    }
  });

  it('bounds the cache TTL and validates the realm', () => {
    expect(load({ GATEHOUSE_BASIC_CACHE_TTL: '0' }).basic.cacheTtlMs).toBe(0);
    expect(() => load({ GATEHOUSE_BASIC_CACHE_TTL: '1h' })).toThrow(/at most 10m/);
    expect(() => load({ GATEHOUSE_BASIC_REALM: 'a"b' })).toThrow(/basic.realm/);
  });
});
