/**
 * Property-based fuzzing of the forward-auth reader of the original request
 * (src/http/public/original-request.ts): X-Original-URI / X-Forwarded-Uri / the path below
 * /auth/verify, X-Original-Method / X-Forwarded-Method, X-Forwarded-Host. Against a plain model of
 * its documented rule: every description present must agree (else refused), one is required, and
 * X-Forwarded-Host names one host. Never throws; never answers a URI, method or host that some
 * present header contradicts. Runs: test/fuzz/runs.ts.
 */
import type { IncomingMessage } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../../test/fuzz/runs.js';
import { originalRequest } from '../../../src/http/public/original-request.js';

function model(url: string, method: string, headers: Record<string, string>) {
  const suffix = url.startsWith('/auth/verify/') ? url.slice('/auth/verify'.length) : undefined;
  const agree = (values: Array<string | undefined>) => {
    const present = values.filter((value): value is string => value !== undefined);
    if (present.some((value) => value !== present[0])) return { conflict: true } as const;
    return present[0];
  };
  const uri = agree([headers['x-original-uri'], headers['x-forwarded-uri'], suffix]);
  if (uri === undefined || typeof uri === 'object') return { ok: false };
  const verb = agree([
    headers['x-original-method'],
    headers['x-forwarded-method'],
    suffix === undefined ? undefined : method,
  ]);
  if (verb === undefined || typeof verb === 'object') return { ok: false };
  const forwardedHost = headers['x-forwarded-host'];
  if (forwardedHost?.includes(',')) return { ok: false };
  return { ok: true, method: verb, uri, host: forwardedHost ?? headers.host ?? '' };
}

const uriValue = fc.constantFrom('/a', '/a/', '/admin', '/a?x=1', '', '/%2e%2e/admin', 'http://evil/a');
const methodValue = fc.constantFrom('GET', 'POST', 'get', '');
const hostValue = fc.constantFrom('api.example.com', 'a.test, b.test', 'evil.test', '', 'API.example.com');

describe('originalRequest (fuzzed against its agreement rule)', () => {
  it(
    'never throws; answers only a request every present description agrees on',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(
            '/auth/verify',
            '/auth/verify/',
            '/auth/verify/a',
            '/auth/verify/admin',
            '/auth/verifyx/a',
            '/auth/verify?x=/a',
          ),
          fc.constantFrom('GET', 'POST', 'HEAD'),
          fc.record(
            {
              'x-original-uri': uriValue,
              'x-forwarded-uri': uriValue,
              'x-original-method': methodValue,
              'x-forwarded-method': methodValue,
              'x-forwarded-host': hostValue,
              host: hostValue,
            },
            { requiredKeys: [] },
          ),
          (url, method, headers) => {
            const request = { url, method, headers } as unknown as IncomingMessage;
            const actual = originalRequest(request);
            const expected = model(url, method, headers as Record<string, string>);
            if (actual.ok) expect(actual).toEqual(expected);
            else {
              expect(expected.ok).toBe(false);
              expect(typeof actual.description).toBe('string');
            }
          },
        ),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});
