/**
 * The password login service on a real store: timing equalisation by structure (docs/security.md #33:
 * an unknown user, a wrong password and a disabled account all run one argon2id verification),
 * throttling before any hashing, rehash on login (docs/security.md #30), audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditEvent, createAuditLog } from '../../src/core/audit/audit.js';
import { ARGON2_FLOOR, createPasswordHasher, type PasswordHasher } from '../../src/core/passwords/password-hasher.js';
import { newId } from '../../src/core/secrets/random.js';
import { createLoginThrottle } from '../../src/core/throttle/login-throttle.js';
import { createMemoryThrottleStore } from '../../src/core/throttle/memory-throttle-store.js';
import { createUserService } from '../../src/core/users/user-service.js';
import { createUserPasswordVerifier } from '../../src/core/users/verify-user-password.js';
import { openStore, type Store } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrate.js';
import { userRepository } from '../../src/store/user-repository.js';
import { createTestDatabase, storeKinds, type TestDatabase } from '../support/databases.js';

const verifierFor = (
  users: ReturnType<typeof userRepository>,
  hasher: PasswordHasher,
  audit: ReturnType<typeof createAuditLog>,
  clock: { now(): number },
  limits: { free: number; lockAfter: number; ms: number },
) =>
  createUserPasswordVerifier({
    users,
    hasher,
    throttle: createLoginThrottle(createMemoryThrottleStore(), {
      user: { freeAttempts: limits.free, lockAfter: limits.lockAfter },
      ip: { freeAttempts: 100, lockAfter: 200 },
      backoffBaseMs: limits.ms,
      backoffMaxMs: limits.ms * 8,
      lockDurationMs: limits.ms * 60,
      resetAfterMs: limits.ms * 60,
      familiarTtlMs: limits.ms * 60,
    }),
    audit,
    clock,
    warn: () => {},
  });

/** The real hasher, counting what it is asked to do (instrumentation, not a mock). */
function countingHasher(inner: PasswordHasher) {
  const calls = { verify: 0, verifyDummy: 0, hash: 0 };
  const hasher: PasswordHasher = {
    parameters: inner.parameters,
    needsRehash: (stored) => inner.needsRehash(stored),
    hash: (password) => {
      calls.hash++;
      return inner.hash(password);
    },
    verify: (stored, password) => {
      calls.verify++;
      return inner.verify(stored, password);
    },
    verifyDummy: (password) => {
      calls.verifyDummy++;
      return inner.verifyDummy(password);
    },
  };
  return { hasher, calls, reset: () => Object.assign(calls, { verify: 0, verifyDummy: 0, hash: 0 }) };
}

describe.each(storeKinds())('verifyUserPassword on %s', (kind) => {
  let database: TestDatabase;
  let store: Store;
  const events: AuditEvent[] = [];
  const clock = { now: () => 1_700_000_000_000 };
  const counting = countingHasher(createPasswordHasher({ argon2: ARGON2_FLOOR }));
  const audit = createAuditLog({
    store: {
      append: async (batch) => void events.push(...batch),
      list: async () => ({ events: [], nextCursor: null }),
    },
    clock,
    newId: () => newId('evt'),
  });
  let service: ReturnType<typeof createUserService>;
  let verifier: ReturnType<typeof createUserPasswordVerifier>;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    store = await openStore(database.url);
    await migrateToLatest(store);
    const users = userRepository(store.db);
    service = createUserService({
      users,
      hasher: counting.hasher,
      policy: { minLength: 8 },
      audit,
      clock,
      newId: () => newId('usr'),
      onUserChanged: () => {},
    });
    verifier = verifierFor(users, counting.hasher, audit, clock, { free: 3, lockAfter: 5, ms: 1000 });
    await service.create({ username: 'carol', password: 'carol-password' }, 'test');
    await service.create({ username: 'dave', password: 'dave-password', disabled: true }, 'test');
  });
  afterAll(async () => {
    await audit.close();
    await store?.close();
    await database?.drop();
  });

  const attempt = (username: string, password: string, clientIp = '192.0.2.1') =>
    verifier.verifyUserPassword({ username, password, clientIp, method: 'test' });

  it('runs exactly one argon2id verification for an unknown user, a wrong password and a disabled account', async () => {
    const cases = [
      ['nobody', 'some-password', 'unknown_user', { verify: 0, verifyDummy: 1 }],
      ['carol', 'wrong-password', 'wrong_password', { verify: 1, verifyDummy: 0 }],
      ['dave', 'dave-password', 'disabled', { verify: 1, verifyDummy: 0 }],
    ] as const;
    for (const [username, password, reason, expected] of cases) {
      counting.reset();
      const result = await attempt(username, password, `198.51.100.${reason.length}`);
      expect(result).toMatchObject({ ok: false, error: 'invalid_credentials', reason });
      expect(counting.calls).toMatchObject(expected);
    }
  });

  it('accepts the right password with any spelling of the username, and notes the login', async () => {
    counting.reset();
    const result = await attempt('CAROL', 'carol-password');
    expect(result).toMatchObject({ ok: true, user: { username: 'carol' } });
    expect(counting.calls).toEqual({ verify: 1, verifyDummy: 0, hash: 0 });
    const stored = await userRepository(store.db).findByUsername('carol');
    expect(stored?.lastLoginAt).toBe(new Date(clock.now()).toISOString());
    await audit.flush();
    expect(events.find((event) => event.action === 'user.login')).toMatchObject({
      target: stored?.id,
      ip: '192.0.2.1',
    });
  });

  it('throttles before hashing: a throttled attempt costs no argon2id', async () => {
    for (let i = 0; i < 3; i++) await attempt('erin', 'wrong-password', '203.0.113.5');
    counting.reset();
    const result = await attempt('erin', 'wrong-password', '203.0.113.5');
    expect(result).toEqual({
      ok: false,
      error: 'throttled',
      reason: 'throttled',
      scope: 'user',
      retryAfterSeconds: 1,
      userId: null,
    });
    expect(counting.calls).toEqual({ verify: 0, verifyDummy: 0, hash: 0 });
  });

  it('refuses without hashing what cannot match: malformed usernames, empty and over-long passwords', async () => {
    counting.reset();
    expect(await attempt('bad name', 'whatever-password', '203.0.113.9')).toMatchObject({
      reason: 'malformed_username',
    });
    expect(await attempt('carol', '', '203.0.113.9')).toMatchObject({ reason: 'empty_password' });
    expect(await attempt('carol', 'a'.repeat(1025), '203.0.113.9')).toMatchObject({ reason: 'password_too_long' });
    expect(counting.calls).toEqual({ verify: 0, verifyDummy: 0, hash: 0 });
  });

  it('rehashes a weaker hash at login, only once, and audits it', async () => {
    const users = userRepository(store.db);
    const weak = createPasswordHasher({ argon2: ARGON2_FLOOR });
    const strongVerifier = verifierFor(
      users,
      createPasswordHasher({ argon2: { memoryKib: 20_480, iterations: 3, parallelism: 1 } }),
      audit,
      clock,
      { free: 5, lockAfter: 10, ms: 1 },
    );
    const frank = await service.create({ username: 'frank', password: 'frank-password' }, 'test');
    if (!frank.ok) throw new Error('create failed');
    expect(weak.needsRehash(frank.value.password)).toBe(false);
    const login = () =>
      strongVerifier.verifyUserPassword({
        username: 'frank',
        password: 'frank-password',
        clientIp: '192.0.2.2',
        method: 'test',
      });
    expect((await login()).ok).toBe(true);
    const after = await users.findById(frank.value.id);
    expect(after?.password.hash).toMatch(/^\$argon2id\$v=19\$m=20480,t=3,p=1\$/);
    expect((await login()).ok).toBe(true);
    expect((await users.findById(frank.value.id))?.password.hash).toBe(after?.password.hash);
    await audit.flush();
    expect(
      events.filter((event) => event.action === 'user.password_rehashed' && event.target === frank.value.id),
    ).toHaveLength(1);
  });
});
