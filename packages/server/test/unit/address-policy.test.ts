/**
 * The outbound address classifier (core/outbound/address-policy.ts): only globally routable
 * unicast is reachable unless allowlisted; IPv4-mapped IPv6 is judged as its IPv4 address and
 * other IPv4-embedding IPv6 blocks are refused (issue 15 finding 2).
 */
import { describe, expect, it } from 'vitest';
import {
  checkAddress,
  classifyAddress,
  EMPTY_ALLOWLIST,
  parseAllowlist,
} from '../../src/core/outbound/address-policy.js';

const allowlist = (...entries: string[]) => {
  const parsed = parseAllowlist(entries);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.value;
};

describe('classifyAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'], // AWS, GCP, Azure metadata
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.100.100.200', 'carrierGradeNat'], // Alibaba metadata
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.192', 'reserved'], // Oracle Cloud metadata (192.0.0.0/24)
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'], // AWS metadata over IPv6
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'], // IPv4-mapped: judged as IPv4
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['64:ff9b::a00:1', 'rfc6052'], // NAT64 of 10.0.0.1
    ['2002:7f00:1::', '6to4'],
    ['2001:db8::1', 'reserved'],
  ])('refuses %s (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ allowed: false, range });
  });

  it.each(['93.184.215.14', '8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (address) => {
    expect(classifyAddress(address)).toEqual({ allowed: true });
  });

  it('refuses what is not an address', () => {
    expect(classifyAddress('localhost')).toEqual({ allowed: false, range: 'invalid' });
    expect(classifyAddress('127.1')).toEqual({ allowed: false, range: 'invalid' });
  });
});

describe('checkAddress with an allowlist', () => {
  it('refuses internal addresses with no allowlist', () => {
    expect(checkAddress('keys.internal', '10.0.0.5', EMPTY_ALLOWLIST).allowed).toBe(false);
  });

  it('allows addresses inside an allowlisted CIDR or equal to an allowlisted address, in either IPv6 form', () => {
    const list = allowlist('10.0.0.0/8', '127.0.0.1', 'fd00::/8');
    expect(checkAddress('a', '10.2.3.4', list).allowed).toBe(true);
    expect(checkAddress('a', '::ffff:10.2.3.4', list).allowed).toBe(true);
    expect(checkAddress('a', '127.0.0.1', list).allowed).toBe(true);
    expect(checkAddress('a', '127.0.0.2', list).allowed).toBe(false);
    expect(checkAddress('a', 'fd12::1', list).allowed).toBe(true);
    expect(checkAddress('a', 'fe80::1', list).allowed).toBe(false);
    expect(checkAddress('a', '192.168.1.1', list).allowed).toBe(false);
  });

  it('lets an allowlisted host name reach whatever it resolves to, and no other name', () => {
    const list = allowlist('Keys.Internal');
    expect(checkAddress('keys.internal', '10.0.0.5', list).allowed).toBe(true);
    expect(checkAddress('other.internal', '10.0.0.5', list).allowed).toBe(false);
  });

  it('refuses entries that are neither names, addresses nor CIDRs', () => {
    for (const entry of ['10.0.0.0/33', 'not a host', '::1/129', 'http://x']) {
      expect(parseAllowlist([entry]).ok, entry).toBe(false);
    }
    expect(parseAllowlist(['[::1]', 'keys.example.com', '192.168.0.0/16']).ok).toBe(true);
  });
});
