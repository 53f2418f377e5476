/**
 * Who is on the other end of a request Fastify did not route (a WebSocket upgrade, a fast-lane
 * verification): the client's address and whether it used HTTPS, read exactly as Fastify reads
 * `request.ip` and `request.protocol` with the same `trust_proxy` list, so that a request means
 * the same thing whichever way it arrives. X-Forwarded-For/-Proto are believed only from a
 * trusted peer (config `trust_proxy`); without one, the socket is the truth.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyRequest } from 'fastify';
import { type SecretTransportPolicy, secretTransportAllowed } from '../core/transport/secret-transport.js';

/** Decides whether an address (at a hop) is a trusted proxy; null when none is. */
export type ProxyTrust = ((address: string, hop: number) => boolean) | null;

export function compileProxyTrust(trustProxy: readonly string[] | undefined): ProxyTrust {
  return trustProxy && trustProxy.length > 0 ? proxyAddr.compile([...trustProxy]) : null;
}

export interface ConnectionFacts {
  readonly clientIp: string;
  readonly secure: boolean;
  /** The peer is a trusted proxy, so its X-Forwarded-* headers count. */
  readonly viaTrustedProxy: boolean;
}

/** The last entry of a list-valued header, as Fastify reads X-Forwarded-Proto. */
export const lastEntry = (value: string | string[]): string => {
  const text = Array.isArray(value) ? value.join(',') : value;
  return text.slice(text.lastIndexOf(',') + 1).trim();
};

export function connectionFacts(request: IncomingMessage, trust: ProxyTrust): ConnectionFacts {
  const socket = request.socket as Socket & { encrypted?: boolean };
  const peer = socket.remoteAddress ?? '';
  if (trust === null) return { clientIp: peer, secure: socket.encrypted === true, viaTrustedProxy: false };
  const addresses = proxyAddr.all(request, trust);
  const proto = request.headers['x-forwarded-proto'];
  const viaTrustedProxy = trust(peer, 0);
  return {
    clientIp: addresses[addresses.length - 1] ?? peer,
    // Fastify's request.protocol: a trusted peer's X-Forwarded-Proto wins over the socket.
    secure: proto && viaTrustedProxy ? lastEntry(proto) === 'https' : socket.encrypted === true,
    viaTrustedProxy,
  };
}

/**
 * Whether a routed request may carry a secret (a password, a client secret, a refresh token):
 * the same rule as Basic on `/auth/verify` (../core/transport/secret-transport.ts), with
 * Fastify's `request.protocol` and `request.ip`, which read `trust_proxy` as `connectionFacts`
 * does. Every surface that takes a secret asks this before reading its body.
 */
export function mayCarrySecret(request: FastifyRequest, policy: SecretTransportPolicy): boolean {
  return secretTransportAllowed(policy, { secure: request.protocol === 'https', clientIp: request.ip });
}
