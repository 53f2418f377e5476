/**
 * How this service authenticates itself as an OAuth client, at the token and introspection
 * endpoints: `client_secret_basic` (RFC 6749 §2.3.1) or `private_key_jwt` (RFC 7523 §2.2, OIDC Core
 * §9), one method per request (docs/security.md #18). Runtime-neutral: jose signs assertions with
 * WebCrypto, so this works in the Fetch entry too.
 */
import { type CryptoKey, importJWK, importPKCS8, type JWK, type KeyObject, SignJWT } from 'jose';

/** The algorithms a client assertion may be signed with. */
export type AssertionAlgorithm = 'ES256' | 'EdDSA' | 'RS256';

export type ClientAuthentication =
  | {
      readonly clientId: string;
      /** `client_secret_basic`: the secret Gatehouse issued with the client. */
      readonly clientSecret: string;
    }
  | {
      readonly clientId: string;
      /**
       * `private_key_jwt`: a private key whose public half is registered with the client, as a
       * PKCS#8 PEM string, a private JWK, a CryptoKey or (on Node) a KeyObject.
       */
      readonly privateKey: string | JWK | CryptoKey | KeyObject;
      /** The key's algorithm; default: the JWK's `alg`, else ES256. */
      readonly privateKeyAlgorithm?: AssertionAlgorithm;
      /** The `kid` to put in the assertion's header, so the server picks the right key. */
      readonly privateKeyId?: string;
    };

/** RFC 7523 §2.2. */
const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How long a client assertion is valid: short, it is used once. */
const ASSERTION_LIFETIME_SECONDS = 60;

/** RFC 6749 §2.3.1 / Appendix B: id and secret are form-urlencoded before Basic's base64. */
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/** Checks the configuration once, at construction; throws a TypeError naming the option. */
export function checkClientAuthentication(auth: ClientAuthentication, option: string): void {
  if (typeof auth.clientId !== 'string' || auth.clientId.length === 0) {
    throw new TypeError(`${option}.clientId is required`);
  }
  const hasSecret = 'clientSecret' in auth && auth.clientSecret !== undefined;
  const hasKey = 'privateKey' in auth && auth.privateKey !== undefined;
  if (hasSecret === hasKey) throw new TypeError(`${option} needs exactly one of clientSecret or privateKey`);
  if (hasSecret && (typeof auth.clientSecret !== 'string' || auth.clientSecret.length === 0)) {
    throw new TypeError(`${option}.clientSecret must be a non-empty string`);
  }
}

/** Signs client assertions; imports the key once. */
export class ClientAuthenticator {
  private signingKey: Promise<{ key: CryptoKey | KeyObject | Uint8Array; alg: AssertionAlgorithm }> | undefined;

  constructor(
    readonly auth: ClientAuthentication,
    private readonly clock: () => number,
  ) {}

  get clientId(): string {
    return this.auth.clientId;
  }

  /**
   * Adds the client's credentials to a token or introspection request: an `Authorization: Basic`
   * header, or `client_assertion` parameters addressed to `audience` (the issuer identifier,
   * RFC 7523bis §4: a single string, never a list).
   */
  async apply(params: URLSearchParams, headers: Record<string, string>, audience: string): Promise<void> {
    const { auth } = this;
    if ('clientSecret' in auth) {
      const pair = `${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`;
      headers.authorization = `Basic ${btoa(pair)}`;
      return;
    }
    const { key, alg } = await this.key();
    const now = Math.floor(this.clock() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg, ...(auth.privateKeyId ? { kid: auth.privateKeyId } : {}) })
      // RFC 7523 §3: iss and sub are the client_id, aud the authorization server, a unique jti.
      .setIssuer(auth.clientId)
      .setSubject(auth.clientId)
      .setAudience(audience)
      .setJti(crypto.randomUUID())
      .setIssuedAt(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
      .sign(key);
    params.set('client_id', auth.clientId);
    params.set('client_assertion_type', JWT_BEARER_ASSERTION);
    params.set('client_assertion', assertion);
  }

  private key(): Promise<{ key: CryptoKey | KeyObject | Uint8Array; alg: AssertionAlgorithm }> {
    const auth = this.auth;
    if (!('privateKey' in auth)) throw new TypeError('no private key configured');
    this.signingKey ??= (async () => {
      const given = auth.privateKey;
      if (typeof given === 'string') {
        const alg = auth.privateKeyAlgorithm ?? 'ES256';
        return { key: await importPKCS8(given, alg), alg };
      }
      if (isJwk(given)) {
        const alg = auth.privateKeyAlgorithm ?? (given.alg as AssertionAlgorithm | undefined) ?? 'ES256';
        return { key: await importJWK(given, alg), alg };
      }
      return { key: given, alg: auth.privateKeyAlgorithm ?? 'ES256' };
    })();
    // A failed import is retried next time rather than remembered.
    this.signingKey.catch(() => {
      this.signingKey = undefined;
    });
    return this.signingKey;
  }
}

function isJwk(value: unknown): value is JWK {
  return typeof value === 'object' && value !== null && typeof (value as { kty?: unknown }).kty === 'string';
}
