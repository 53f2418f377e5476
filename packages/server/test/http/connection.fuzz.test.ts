/**
 * Property-based fuzzing of the X-Forwarded-For / X-Forwarded-Proto reader (src/http/connection.ts)
 * against a plain model of `trust_proxy` (docs/configuration.md): walk from the TCP peer towards
 * the client through X-Forwarded-For from the right, stepping over addresses that are trusted
 * proxies (checked here with Node's own `net.BlockList`), and stop at the first that is not;
 * X-Forwarded-Proto counts only from a trusted peer, its last entry. Without `trust_proxy` the
 * headers count for nothing. Properties: never throws, and agrees with the model on the client
 * address and on whether the request came over HTTPS. Runs: test/fuzz/runs.ts.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FUZZ_TIMEOUT, fuzz } from '../../../../test/fuzz/runs.js';
import { compileProxyTrust, connectionFacts } from '../../src/http/connection.js';

const TRUSTED = ['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'];
const trusted = new BlockList();
trusted.addAddress('127.0.0.1');
trusted.addSubnet('10.0.0.0', 8);
trusted.addAddress('::1', 'ipv6');
trusted.addSubnet('fd00::', 8, 'ipv6');

const isTrusted = (address: string): boolean => {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

function model(peer: string, encrypted: boolean, xff: string | undefined, xfp: string | undefined, trust: boolean) {
  if (!trust) return { clientIp: peer, secure: encrypted, viaTrustedProxy: false };
  const hops = [
    peer,
    ...(xff ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .reverse(),
  ];
  let clientIp = peer;
  for (let i = 0; i < hops.length - 1 && isTrusted(hops[i] as string); i++) clientIp = hops[i + 1] as string;
  const viaTrustedProxy = isTrusted(peer);
  const lastProto = xfp?.slice(xfp.lastIndexOf(',') + 1).trim();
  return { clientIp, secure: xfp && viaTrustedProxy ? lastProto === 'https' : encrypted, viaTrustedProxy };
}

const ADDRESSES = [
  '127.0.0.1',
  '10.1.2.3',
  '192.0.2.7',
  '203.0.113.9',
  '::1',
  'fd12::5',
  '2001:db8::1',
  '::ffff:10.0.0.1',
  '10.0.0.300',
  'unknown',
  '127.0.0.1:80',
  '',
];
const address = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...ADDRESSES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const list = fc
  .array(fc.tuple(address, fc.constantFrom(',', ', ', ' ,', ',,')), { maxLength: 5 })
  .map((entries) => entries.map(([a, sep], i) => (i === 0 ? a : sep + a)).join(''));
const proto = fc.oneof(
  fc.constantFrom('https', 'http', 'http, https', 'https, http', 'HTTPS', ' https ', 'https,'),
  fc.string({ maxLength: 6 }),
);

describe('connectionFacts (fuzzed against a trust_proxy model)', () => {
  it(
    'never throws, and agrees with the model on the client address and HTTPS',
    () => {
      const trust = compileProxyTrust(TRUSTED);
      fc.assert(
        fc.property(
          fc.constantFrom('127.0.0.1', '10.9.9.9', '192.0.2.1', '::1', '2001:db8::2', '::ffff:127.0.0.1'),
          fc.boolean(),
          fc.option(list),
          fc.option(proto),
          fc.boolean(),
          (peer, encrypted, xff, xfp, withTrust) => {
            const headers: Record<string, string> = {};
            if (xff !== null) headers['x-forwarded-for'] = xff;
            if (xfp !== null) headers['x-forwarded-proto'] = xfp;
            const request = {
              socket: { remoteAddress: peer, encrypted },
              connection: { remoteAddress: peer },
              headers,
            } as unknown as IncomingMessage;
            const facts = connectionFacts(request, withTrust ? trust : null);
            expect(facts, JSON.stringify({ peer, xff, xfp })).toEqual(
              model(peer, encrypted, xff ?? undefined, xfp ?? undefined, withTrust),
            );
          },
        ),
        fuzz(2000),
      );
    },
    FUZZ_TIMEOUT,
  );
});
