/**
 * Reads a JWK Set (RFC 7517 §5) into the public verification keys a verifier may trust, each
 * pinned to exactly one algorithm (docs/security.md #1). A set that publishes private or symmetric key
 * material is refused whole: it means the endpoint is misconfigured or compromised, and anyone who
 * fetched it can forge tokens (RFC 8414 §3.3 / docs/security.md #25: a JWKS holds public members only).
 * Keys we cannot use (encryption keys, unknown algorithms, RSA under 2048 bits) are skipped with a
 * reason; a set with none left is an error.
 */
import type { JWK } from 'jose';
import { KID_PATTERN, MIN_RSA_BITS } from '../jwt/keys.js';

/** The algorithms a published key may carry. HS256 never comes from a JWKS (its secret is private). */
export type PublicAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

export interface PublishedKey {
  readonly kid: string;
  readonly alg: PublicAlgorithm;
  readonly jwk: JWK;
}

export interface ParsedKeySet {
  readonly keys: readonly PublishedKey[];
  /** Keys left out, with the reason, for the operator. */
  readonly skipped: readonly string[];
}

export class KeySetError extends Error {
  constructor(
    /** `ERR_JWKS_INVALID`, `ERR_JWKS_PRIVATE_KEY`, `ERR_JWKS_NO_USABLE_KEYS`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'KeySetError';
  }
}

export const MAX_KEYS = 100;

/** Members that only private (or symmetric) keys carry (RFC 7518 §6.2.2, §6.3.2, §6.4.1; RFC 8037 §2). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Parses and vets a JWK Set document; throws {@link KeySetError} when it cannot be trusted at all. */
export function parseKeySet(document: unknown, allowed: ReadonlySet<PublicAlgorithm>): ParsedKeySet {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new KeySetError('ERR_JWKS_INVALID', 'is not a JSON object');
  }
  const entries = (document as { keys?: unknown }).keys;
  if (!Array.isArray(entries)) throw new KeySetError('ERR_JWKS_INVALID', 'has no "keys" array (RFC 7517 §5)');
  if (entries.length > MAX_KEYS) {
    throw new KeySetError('ERR_JWKS_INVALID', `has ${entries.length} keys; more than ${MAX_KEYS} is refused`);
  }
  const keys: PublishedKey[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  entries.forEach((entry: unknown, index) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      skipped.push(`keys[${index}]: not a JSON object`);
      return;
    }
    const jwk = entry as JWK;
    const label = typeof jwk.kid === 'string' && KID_PATTERN.test(jwk.kid) ? `kid ${jwk.kid}` : `keys[${index}]`;
    const secret = PRIVATE_MEMBERS.find((member) => member in jwk);
    if (secret !== undefined) {
      throw new KeySetError(
        'ERR_JWKS_PRIVATE_KEY',
        `${label} carries private key material ("${secret}"); a JWKS must hold public keys only, so the whole set is refused`,
      );
    }
    const reason = unusable(jwk, allowed);
    if (reason) {
      skipped.push(`${label}: ${reason}`);
      return;
    }
    const kid = jwk.kid as string;
    if (seen.has(kid)) throw new KeySetError('ERR_JWKS_INVALID', `publishes kid ${kid} twice`);
    seen.add(kid);
    keys.push({ kid, alg: algorithmOf(jwk) as PublicAlgorithm, jwk: publicMembers(jwk) });
  });
  if (keys.length === 0) {
    const why = skipped.length > 0 ? `: ${skipped.join('; ')}` : '';
    throw new KeySetError('ERR_JWKS_NO_USABLE_KEYS', `has no usable signature verification key${why}`);
  }
  return { keys, skipped };
}

function unusable(jwk: JWK, allowed: ReadonlySet<PublicAlgorithm>): string | undefined {
  if (typeof jwk.kid !== 'string') return 'no kid (tokens name their key by kid)';
  if (!KID_PATTERN.test(jwk.kid)) return 'kid outside [A-Za-z0-9._-]{1,64}';
  if (jwk.use !== undefined && jwk.use !== 'sig') return `use is ${JSON.stringify(jwk.use)}, not "sig"`;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    return 'key_ops does not include "verify"';
  }
  const alg = algorithmOf(jwk);
  if (alg === undefined) return `unsupported key (kty ${jwk.kty}, crv ${jwk.crv ?? '-'}, alg ${jwk.alg ?? '-'})`;
  if (!allowed.has(alg)) return `algorithm ${alg} is not allowed by this verifier`;
  // RFC 8725 §3.5 / docs/security.md #10: RSA keys of at least 2048 bits.
  if (alg === 'RS256' && modulusBits(jwk.n) < MIN_RSA_BITS) return `RSA modulus shorter than ${MIN_RSA_BITS} bits`;
  return undefined;
}

/**
 * The one algorithm a key is used with: its `alg` member when present (and consistent with the
 * key type), otherwise the only algorithm we allow for its type. Never the token's header.
 */
function algorithmOf(jwk: JWK): PublicAlgorithm | undefined {
  const inferred: PublicAlgorithm | undefined =
    jwk.kty === 'EC' && jwk.crv === 'P-256'
      ? 'ES256'
      : jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
        ? 'EdDSA'
        : jwk.kty === 'RSA' && typeof jwk.n === 'string' && typeof jwk.e === 'string'
          ? 'RS256'
          : undefined;
  if (inferred === undefined) return undefined;
  if (jwk.alg === undefined) return inferred;
  // RFC 9864 spells Ed25519 EdDSA as "Ed25519"; both mean the same thing for our purpose.
  const declared = jwk.alg === 'Ed25519' ? 'EdDSA' : jwk.alg;
  return declared === inferred ? inferred : undefined;
}

function modulusBits(n: unknown): number {
  if (typeof n !== 'string') return 0;
  const trimmed = n.replace(/^A+/, ''); // leading zero bits
  return Math.floor((trimmed.length * 6) / 8) * 8;
}

/** Copies only the public members we need, so nothing unexpected reaches the key importer. */
function publicMembers(jwk: JWK): JWK {
  switch (jwk.kty) {
    case 'EC':
      return { kty: 'EC', crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string };
    case 'OKP':
      return { kty: 'OKP', crv: jwk.crv as string, x: jwk.x as string };
    default:
      return { kty: 'RSA', n: jwk.n as string, e: jwk.e as string };
  }
}
