/**
 * The rotation timeline as a pure function (docs/security.md #37): publish ahead, switch, retire,
 * delete; algorithm changes; and the claim mapping of custom access-token claims.
 */
import { describe, expect, it } from 'vitest';
import { mapUserClaims } from '../../src/core/tokens/claim-mapping.js';
import {
  nextRotationCheck,
  planRotation,
  type RotationPolicy,
  type SigningKeyRecord,
} from '../../src/core/tokens/signing-keys.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const policy: RotationPolicy = {
  algorithm: 'ES256',
  rotateEveryMs: 30 * DAY,
  publishAheadMs: DAY,
  retainRetiredMs: 930_000,
};

const key = (
  kid: string,
  state: SigningKeyRecord['state'],
  fields: Partial<SigningKeyRecord> = {},
): SigningKeyRecord => ({
  kid,
  alg: 'ES256',
  state,
  publicJwk: {},
  privateJwkSealed: 'sealed',
  createdAt: iso(T0),
  activatesAt: null,
  activatedAt: state === 'active' ? iso(T0) : null,
  retiredAt: null,
  deleteAfter: null,
  ...fields,
});

describe('planRotation', () => {
  it('creates the first key active at once on an empty store', () => {
    expect(planRotation([], T0, policy)).toEqual([{ kind: 'create', state: 'active', activatesAt: T0 }]);
  });

  it('does nothing until rotate_every − publish_ahead, then publishes the next key', () => {
    const keys = [key('a', 'active')];
    expect(planRotation(keys, T0 + 29 * DAY - 1, policy)).toEqual([]);
    expect(nextRotationCheck(keys, policy)).toBe(T0 + 29 * DAY);
    expect(planRotation(keys, T0 + 29 * DAY, policy)).toEqual([
      { kind: 'create', state: 'next', activatesAt: T0 + 30 * DAY },
    ]);
    // Late (the server was down): still published a full publish_ahead before it signs.
    expect(planRotation(keys, T0 + 40 * DAY, policy)).toEqual([
      { kind: 'create', state: 'next', activatesAt: T0 + 41 * DAY },
    ]);
  });

  it('switches when the next key is due, and deletes retired keys after their tokens expired', () => {
    const next = key('b', 'next', { activatesAt: iso(T0 + 30 * DAY) });
    expect(planRotation([key('a', 'active'), next], T0 + 30 * DAY - 1, policy)).toEqual([]);
    expect(planRotation([key('a', 'active'), next], T0 + 30 * DAY, policy)).toEqual([
      { kind: 'activate', kid: 'b' },
      { kind: 'retire', kid: 'a' },
    ]);
    const retired = key('a', 'retired', { deleteAfter: iso(T0 + 30 * DAY + 930_000) });
    const active = key('b', 'active', { activatedAt: iso(T0 + 30 * DAY) });
    expect(planRotation([retired, active], T0 + 30 * DAY + 929_999, policy)).toEqual([]);
    expect(planRotation([retired, active], T0 + 30 * DAY + 930_000, policy)).toEqual([{ kind: 'delete', kid: 'a' }]);
  });

  it('publishes a key of the newly configured algorithm ahead, like any rotation', () => {
    expect(planRotation([key('a', 'active')], T0 + DAY, { ...policy, algorithm: 'EdDSA' })).toEqual([
      { kind: 'create', state: 'next', activatesAt: T0 + 2 * DAY },
    ]);
  });

  it('activates a published next key when no key is active (after an emergency)', () => {
    expect(planRotation([key('b', 'next', { activatesAt: iso(T0 + DAY) })], T0, policy)).toEqual([
      { kind: 'activate', kid: 'b' },
    ]);
  });
});

describe('mapUserClaims', () => {
  const user = {
    username: 'alice',
    email: 'a@example.test',
    metadata: { team: 'x', nested: { level: 3 }, empty: null },
  };
  it('reads username, email, name and nested metadata; absent sources add nothing', () => {
    expect(
      mapUserClaims(
        {
          u: 'username',
          e: 'email',
          n: 'name',
          t: 'metadata.team',
          l: 'metadata.nested.level',
          z: 'metadata.empty',
          m: 'metadata.missing.deep',
        },
        user,
      ),
    ).toEqual({ u: 'alice', e: 'a@example.test', t: 'x', l: 3 });
  });
  it('never walks into inherited properties', () => {
    expect(mapUserClaims({ p: 'metadata.constructor' }, user)).toEqual({});
  });
});
