/**
 * The verification failure budget: how many failed API-key and bearer-token verifications one
 * client may cause per window (ASVS 2.4.1 anti-automation, docs/security.md #32 "per-IP/client rate
 * limits"). Once a client has spent it, the pipeline answers that client's credentials from
 * memory only until the window ends: a credential memory knows to be good still passes, anything
 * else is a 429 with `Retry-After`, decided without a store lookup (core/pipeline/pipeline.ts).
 *
 * A verification that has to leave memory (a store lookup, a key-ring reload) is charged when it
 * starts and refunded if the credential turns out good, so concurrent requests cannot overrun
 * the budget: a client causes at most `failures` store lookups for unknown credentials per window,
 * however many connections it opens.
 *
 * A client is its IP address after `trust_proxy`; IPv6 addresses count per /64, the block a
 * single subscriber is usually given (RFC 6177), so that rotating through one's own addresses
 * buys nothing. Windows are fixed: they start at a client's first failure and last `windowMs`.
 * The table of clients is bounded; the least recently charged are forgotten first.
 */
import ipaddr from 'ipaddr.js';
import { LruMap } from '../cache/lru-map.js';

export interface FailureBudgetPolicy {
  /** Failed verifications per client and window; 0 turns the budget off. */
  readonly failures: number;
  readonly windowMs: number;
  /** Most clients tracked at once. */
  readonly maxClients?: number;
}

/** One charge, to refund when the verification it paid for succeeds. */
export interface Charge {
  readonly client: string;
  readonly windowEnds: number;
}

export interface FailureBudget {
  /** How long (ms) the client has to wait before credentials beyond memory are checked again; 0: not held. */
  heldFor(clientIp: string, now: number): number;
  /** Counts one failed (or, until it settles, pending) verification. */
  charge(clientIp: string, now: number): Charge;
  /** Gives back a charge whose verification turned out good (or could not be made). */
  refund(charge: Charge): void;
}

interface Window {
  spent: number;
  readonly ends: number;
}

/** The budget's key for an address: IPv4 (also IPv4-mapped) as is, IPv6 by its /64. */
export function budgetClient(ip: string): string {
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip;
  try {
    const parts = (ipaddr.parse(ip) as ipaddr.IPv6).parts;
    return `${parts
      .slice(0, 4)
      .map((part) => part.toString(16))
      .join(':')}::/64`;
  } catch {
    return ip;
  }
}

export function createFailureBudget(policy: FailureBudgetPolicy): FailureBudget | null {
  if (policy.failures <= 0) return null;
  const { failures, windowMs } = policy;
  const windows = new LruMap<string, Window>(policy.maxClients ?? 100_000);
  // When no window that is full can still be open, `heldFor` answers without a map lookup: the
  // common case, so the hot path (a cached, valid credential) pays one comparison.
  let lastHoldEnds = 0;

  const open = (client: string, now: number): Window | undefined => {
    const window = windows.get(client);
    if (window === undefined) return undefined;
    if (now >= window.ends) {
      windows.delete(client);
      return undefined;
    }
    return window;
  };

  return {
    heldFor(clientIp, now) {
      if (now >= lastHoldEnds) return 0;
      const window = open(budgetClient(clientIp), now);
      return window !== undefined && window.spent >= failures ? window.ends - now : 0;
    },
    charge(clientIp, now) {
      const client = budgetClient(clientIp);
      let window = open(client, now);
      if (window === undefined) {
        window = { spent: 0, ends: now + windowMs };
        windows.set(client, window);
      }
      window.spent++;
      if (window.spent >= failures && window.ends > lastHoldEnds) lastHoldEnds = window.ends;
      return { client, windowEnds: window.ends };
    },
    refund({ client, windowEnds }) {
      const window = windows.get(client);
      // A charge made in an earlier window is gone with it.
      if (window !== undefined && window.ends === windowEnds && window.spent > 0) window.spent--;
    },
  };
}
