/**
 * The verified-token cache answers only for the exact token it stored: it is found by the
 * signature segment, so a token that reuses a cached token's signature under another header or
 * payload (a forgery attempt) must miss and go through verification.
 */
import { describe, expect, it } from 'vitest';
import { VerifiedTokenCache } from '../../src/jwt/verified-token-cache.js';

const entry = (expiresAt: number, kid = 'k1') => ({ expiresAt, kid });
const NOW = 1_000_000;

describe('VerifiedTokenCache', () => {
  const token = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

  it('answers for the stored token until its exp, then forgets it', () => {
    const cache = new VerifiedTokenCache(10);
    const stored = entry(NOW + 1000);
    cache.set(token, stored, NOW);
    expect(cache.get(token, NOW)).toBe(stored);
    expect(cache.get(token, NOW + 999)).toBe(stored);
    expect(cache.get(token, NOW + 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.stats).toEqual({ hits: 2, misses: 1 });
  });

  it('misses for another token with the same signature segment, and keeps the stored one', () => {
    const cache = new VerifiedTokenCache(10);
    const stored = entry(NOW + 1000);
    cache.set(token, stored, NOW);
    const [header, , signature] = token.split('.');
    const otherPayload = `${header}.eyJzdWIiOiJtYWxsb3J5In0.${signature}`;
    const otherHeader = `eyJhbGciOiJub25lIn0.${token.split('.')[1]}.${signature}`;
    expect(cache.get(otherPayload, NOW)).toBeUndefined();
    expect(cache.get(otherHeader, NOW)).toBeUndefined();
    expect(cache.get(`${token}A`, NOW)).toBeUndefined();
    expect(cache.get(token.slice(0, -1), NOW)).toBeUndefined();
    expect(cache.get(token, NOW)).toBe(stored);
  });

  it('never stores an expired entry, and stays within its bound, oldest first', () => {
    const cache = new VerifiedTokenCache(2);
    cache.set('a.b.s1', entry(NOW), NOW);
    expect(cache.size).toBe(0);
    cache.set('a.b.s1', entry(NOW + 1), NOW);
    cache.set('a.b.s2', entry(NOW + 1), NOW);
    cache.set('a.b.s2', entry(NOW + 1), NOW); // the same token again: nothing evicted
    expect(cache.get('a.b.s1', NOW)).toBeDefined();
    cache.set('a.b.s3', entry(NOW + 1), NOW);
    expect(cache.size).toBe(2);
    expect(cache.get('a.b.s1', NOW)).toBeUndefined();
    expect(cache.get('a.b.s3', NOW)).toBeDefined();
    expect(new VerifiedTokenCache(0).size).toBe(0);
  });

  it('drops the entries a predicate matches', () => {
    const cache = new VerifiedTokenCache(10);
    cache.set('a.b.s1', entry(NOW + 1, 'old'), NOW);
    cache.set('a.b.s2', entry(NOW + 1, 'new'), NOW);
    expect(cache.drop((cached) => cached.kid === 'old')).toBe(1);
    expect(cache.get('a.b.s1', NOW)).toBeUndefined();
    expect(cache.get('a.b.s2', NOW)).toBeDefined();
  });
});
