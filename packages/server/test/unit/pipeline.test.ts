/**
 * The pipeline's decision rules, with small real authenticators (the interface is the contract
 * every mechanism implements).
 */
import { describe, expect, it } from 'vitest';
import { createPipeline, parseScopeList } from '../../src/core/pipeline/pipeline.js';
import type { Authenticator, AuthOutcome, AuthRequest } from '../../src/core/pipeline/types.js';
import { findDuplicateHeader, headerSafe } from '../../src/http/auth-request.js';

function headerAuthenticator(name: string, header: string, accept: Record<string, string[]>): Authenticator {
  return {
    name,
    challenge: (error) => (error ? `${name} error="${error.error}"` : name),
    authenticate(request: AuthRequest): AuthOutcome {
      const value = request.header(header);
      if (value === undefined) return { kind: 'absent' };
      const scopes = accept[value];
      if (!scopes) {
        return {
          kind: 'rejected',
          rejection: { status: 401, error: 'invalid_token', description: 'bad', reason: 'unknown' },
        };
      }
      return { kind: 'authenticated', identity: { subject: value, method: name, scopes, claims: {} } };
    },
  };
}

const request = (headers: Record<string, string>): AuthRequest => ({
  header: (name) => headers[name],
  method: 'GET',
  url: '/',
  secure: true,
  clientIp: '127.0.0.1',
});

describe('pipeline', () => {
  const pipeline = createPipeline([
    headerAuthenticator('first', 'x-first', { alice: ['read'] }),
    headerAuthenticator('second', 'x-second', { bob: ['read', 'write'] }),
  ]);

  it('answers 401 with a challenge per mechanism and no error code when nothing is presented (RFC 6750 §3.1)', async () => {
    const decision = await pipeline.decide(request({}));
    expect(decision).toMatchObject({
      allow: false,
      denial: { status: 401, reason: 'no_credentials', challenges: ['first', 'second'] },
    });
  });

  it('lets the first mechanism that recognises a credential decide', async () => {
    expect(await pipeline.decide(request({ 'x-second': 'bob' }))).toMatchObject({
      allow: true,
      identity: { subject: 'bob', method: 'second' },
    });
    // An invalid first credential is not rescued by a valid second one.
    const decision = await pipeline.decide(request({ 'x-first': 'mallory', 'x-second': 'bob' }));
    expect(decision).toMatchObject({
      allow: false,
      denial: { status: 401, method: 'first', challenges: ['first error="invalid_token"'] },
    });
  });

  it('answers 403 insufficient_scope when a required scope is missing', async () => {
    const decision = await pipeline.decide(request({ 'x-first': 'alice' }), { scopes: ['read', 'write'] });
    expect(decision).toMatchObject({
      allow: false,
      denial: {
        status: 403,
        error: 'insufficient_scope',
        challenges: ['Bearer error="insufficient_scope", scope="read write"'],
      },
    });
    expect(await pipeline.decide(request({ 'x-second': 'bob' }), { scopes: ['read', 'write'] })).toMatchObject({
      allow: true,
    });
  });

  it('restricts mechanisms to those a policy accepts, in its order', async () => {
    const decision = await pipeline.decide(request({ 'x-first': 'alice' }), { methods: ['second'] });
    expect(decision).toMatchObject({ allow: false, denial: { status: 401, challenges: ['second'] } });
  });

  it('propagates infrastructure failures instead of deciding (the HTTP layer answers 503)', async () => {
    const broken = createPipeline([
      {
        name: 'broken',
        challenge: () => 'broken',
        authenticate: async () => {
          throw new Error('store down');
        },
      },
    ]);
    await expect(broken.decide(request({}))).rejects.toThrow('store down');
  });

  it('parses scope lists per RFC 6749 §3.3', () => {
    expect(parseScopeList('read  write read')).toEqual(['read', 'write']);
    expect(parseScopeList(undefined)).toEqual([]);
  });
});

describe('credential headers', () => {
  it('finds repeated credential headers in the raw list, case-insensitively (docs/security.md #28)', () => {
    expect(findDuplicateHeader(['Host', 'x', 'Authorization', 'a', 'Accept', '*/*'])).toBeUndefined();
    expect(findDuplicateHeader(['Authorization', 'a', 'AUTHORIZATION', 'b'])).toBe('authorization');
    expect(findDuplicateHeader(['X-API-Key', 'a', 'x-api-key', 'b'])).toBe('x-api-key');
    expect(findDuplicateHeader(['X-Token', 'a', 'x-token', 'b'], ['x-token'])).toBe('x-token');
  });

  it('keeps identity header values free of control characters', () => {
    expect(headerSafe('alice')).toBe('alice');
    expect(headerSafe('a\r\nb')).toBe('a%0D%0Ab');
    expect(headerSafe('zoë')).toBe('zo%C3%AB');
  });
});
