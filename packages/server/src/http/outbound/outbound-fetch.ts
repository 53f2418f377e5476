/**
 * The one outbound fetch policy (docs/security.md, "Outbound fetches"). Every request the server
 * makes on behalf of configuration or of a client (a client's `jwks_uri` today) goes through
 * `createOutboundFetcher`:
 *
 * - `https` only; plain `http` only in development mode (`dev`);
 * - no credentials in the URL, no redirects (a 3xx is a refusal, never followed);
 * - a connect timeout and a total timeout;
 * - a response size cap (256 KB by default): an announced `Content-Length` over it is refused
 *   before the body is read, and a streamed body is cut as soon as it passes the cap;
 * - only public addresses (./address-policy.ts) unless allowlisted (`outbound.allow`), checked on
 *   the address each connection actually uses: the `lookup` hook validates what DNS answered
 *   before the socket connects (so a name that resolves or rebinds to 127.0.0.1 is refused), IP
 *   literals are checked before connecting, and the socket's remote address is checked again
 *   once connected;
 * - a fresh connection per fetch (no agent, no keep-alive): nothing is reused across policies.
 *
 * node:http / node:https do the HTTP; ipaddr.js the address ranges.
 */
import dns from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction, type Socket } from 'node:net';
import { type AddressAllowlist, checkAddress, EMPTY_ALLOWLIST, unbracket } from '../../core/outbound/address-policy.js';
import type { OutboundFetcher, OutboundRefusalReason, OutboundResult } from '../../core/outbound/fetch-port.js';

export interface OutboundPolicy {
  /** Plain `http` URLs are fetched (development mode only). */
  readonly allowHttp: boolean;
  /** Hosts, addresses and ranges the operator allows although not public. */
  readonly allowlist: AddressAllowlist;
  /** Largest body read, in bytes. */
  readonly maxBytes: number;
  /** Time to establish the TCP (and TLS) connection. */
  readonly connectTimeoutMs: number;
  /** Time for the whole exchange, from the first byte sent to the last byte read. */
  readonly totalTimeoutMs: number;
  /** DNS resolution (tests replace it to map a name onto an address). */
  readonly resolve?: typeof dns.lookup;
  /** Extra TLS trust (tests with a self-signed certificate). */
  readonly ca?: string | undefined;
}

export const DEFAULT_OUTBOUND_POLICY: OutboundPolicy = {
  allowHttp: false,
  allowlist: EMPTY_ALLOWLIST,
  maxBytes: 256 * 1024,
  connectTimeoutMs: 3000,
  totalTimeoutMs: 5000,
};

/** Thrown inside the request machinery, turned into a result at the end. */
class Refusal extends Error {
  constructor(
    readonly reason: OutboundRefusalReason,
    detail: string,
  ) {
    super(detail);
  }
}

const refused = (reason: OutboundRefusalReason, detail: string): OutboundResult => ({ ok: false, reason, detail });

type ParsedTarget = { ok: true; url: URL; host: string } | { ok: false; reason: OutboundRefusalReason; detail: string };

export function createOutboundFetcher(policy: OutboundPolicy): OutboundFetcher {
  const parseTarget = (raw: string): ParsedTarget => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false, reason: 'invalid_url', detail: 'must be an absolute URL' };
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return { ok: false, reason: 'scheme_refused', detail: 'must be an https URL' };
    }
    if (url.protocol === 'http:' && !policy.allowHttp) {
      return {
        ok: false,
        reason: 'scheme_refused',
        detail: 'must be an https URL (plain http only in development mode)',
      };
    }
    if (url.username || url.password) {
      return { ok: false, reason: 'invalid_url', detail: 'must not carry credentials (user:password@)' };
    }
    const host = unbracket(url.hostname).replace(/\.$/, '').toLowerCase();
    if (host === '') return { ok: false, reason: 'invalid_url', detail: 'must name a host' };
    return { ok: true, url, host };
  };

  /** An IP-literal host can be judged before any connection; a name only once resolved. */
  const literalProblem = (host: string): string | undefined => {
    if (!isIP(host)) return undefined;
    const verdict = checkAddress(host, host, policy.allowlist);
    return verdict.allowed
      ? undefined
      : `must not point at a ${verdict.range} address (allowlist it in outbound.allow)`;
  };

  /** Resolves like dns.lookup, then keeps only allowed addresses; none left → refused. */
  const guardedLookup =
    (host: string): LookupFunction =>
    (hostname, options, callback) => {
      const resolve = policy.resolve ?? dns.lookup;
      resolve(hostname, { ...options, all: true }, (error, addresses) => {
        if (error) return callback(error, '', 0);
        const list = addresses as unknown as dns.LookupAddress[];
        const allowed = list.filter((entry) => checkAddress(host, entry.address, policy.allowlist).allowed);
        if (allowed.length === 0) {
          const first = list[0];
          const range = first ? checkAddress(host, first.address, policy.allowlist) : undefined;
          const detail = `${hostname} resolves to a ${range && !range.allowed ? range.range : 'refused'} address`;
          return callback(Object.assign(new Refusal('address_refused', detail), { code: 'EREFUSED' }), '', 0);
        }
        if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, allowed);
        const chosen = allowed[0] as dns.LookupAddress;
        return callback(null, chosen.address, chosen.family);
      });
    };

  function exchange(url: URL, host: string, accept: string): Promise<OutboundResult> {
    return new Promise((resolve) => {
      let settled = false;
      const chunks: Buffer[] = [];
      let received = 0;
      const finish = (result: OutboundResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(totalTimer);
        clearTimeout(connectTimer);
        resolve(result);
        request.destroy();
      };
      const fail = (error: unknown) => {
        if (error instanceof Refusal) return finish(refused(error.reason, error.message));
        const cause = (error as { cause?: unknown })?.cause;
        if (cause instanceof Refusal) return finish(refused(cause.reason, cause.message));
        const code = (error as NodeJS.ErrnoException)?.code;
        finish(refused('network_error', `fetch failed${code ? ` (${code})` : ''}`));
      };
      const options: https.RequestOptions = {
        method: 'GET',
        headers: { accept, 'user-agent': 'gatehouse' },
        agent: false,
        lookup: guardedLookup(host),
        ...(policy.ca ? { ca: policy.ca } : {}),
      };
      const client = url.protocol === 'https:' ? https : http;
      const request = client.request(url, options, (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        // RFC 9110 §15.4: a 3xx would send us elsewhere; the policy allows no second target.
        if (status >= 300 && status < 400)
          return fail(new Refusal('redirect_refused', `answered ${status} (redirects are not followed)`));
        if (status < 200 || status >= 300) return fail(new Refusal('bad_status', `answered ${status}`));
        const announced = Number(response.headers['content-length']);
        if (Number.isFinite(announced) && announced > policy.maxBytes) {
          return fail(new Refusal('too_large', `announced ${announced} bytes; the cap is ${policy.maxBytes}`));
        }
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > policy.maxBytes) {
            fail(new Refusal('too_large', `the body exceeds the cap of ${policy.maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        response.on('end', () =>
          finish({
            ok: true,
            status,
            contentType: response.headers['content-type'],
            body: Buffer.concat(chunks),
          }),
        );
        response.on('error', fail);
        response.on('close', () => {
          if (!response.complete) fail(new Refusal('network_error', 'the connection closed mid-body'));
        });
      });
      const connectTimer = setTimeout(
        () => fail(new Refusal('timeout', `no connection within ${policy.connectTimeoutMs} ms`)),
        policy.connectTimeoutMs,
      );
      const totalTimer = setTimeout(
        () => fail(new Refusal('timeout', `no complete answer within ${policy.totalTimeoutMs} ms`)),
        policy.totalTimeoutMs,
      );
      request.on('socket', (socket: Socket) => {
        socket.once('connect', () => {
          // Belt and braces: the address this socket really reached (lookup already judged it).
          const remote = socket.remoteAddress;
          if (!remote || !checkAddress(host, remote, policy.allowlist).allowed) {
            fail(new Refusal('address_refused', 'connected to a refused address'));
          }
        });
        // The connect timeout covers the TLS handshake too.
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
      });
      request.on('error', fail);
      request.end();
    });
  }

  return {
    checkUrl(raw) {
      const target = parseTarget(raw);
      if (!target.ok) return target.detail;
      return literalProblem(target.host);
    },
    async get(raw, { accept = 'application/json' } = {}) {
      const target = parseTarget(raw);
      if (!target.ok) return refused(target.reason, target.detail);
      const literal = literalProblem(target.host);
      if (literal) return refused('address_refused', `${target.host}: ${literal}`);
      return exchange(target.url, target.host, accept);
    },
  };
}
