/**
 * Issuer discovery: where the issuer publishes its keys, token and introspection endpoints.
 * Tries OpenID Connect Discovery 1.0 §4 (`/.well-known/openid-configuration`), then RFC 8414 §3
 * (`/.well-known/oauth-authorization-server`); when neither exists (HTTP 404) it falls back to
 * Gatehouse's own fixed paths. The document's `issuer` must be identical to the configured one
 * (RFC 8414 §3.3; docs/security.md #25), so a metadata document from elsewhere cannot redirect trust.
 */
import { RemoteDocumentError } from '../errors.js';
import { fetchJson } from './fetch-json.js';

export interface IssuerEndpoints {
  readonly issuer: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  /** Gatehouse's forward-auth endpoint (not part of any metadata standard). */
  readonly verifyEndpoint: string;
}

export interface DiscoveryOptions {
  readonly fetch: typeof globalThis.fetch;
  readonly timeoutMs: number;
  readonly allowHttp: boolean;
  /** Monotonic-enough clock in ms, for the retry backoff. */
  readonly now: () => number;
}

/** Gatehouse's paths when the issuer publishes no metadata (the JWT issue's JWKS path). */
export function defaultEndpoints(issuer: string): IssuerEndpoints {
  const base = issuer.replace(/\/+$/, '');
  return {
    issuer,
    jwksUri: `${base}/.well-known/jwks.json`,
    tokenEndpoint: `${base}/oauth/token`,
    introspectionEndpoint: `${base}/oauth/introspect`,
    verifyEndpoint: `${base}/auth/verify`,
  };
}

/**
 * Checks a URL we will fetch keys or send credentials to: absolute, no userinfo, and https unless
 * the host is loopback or the operator allowed plain http for a trusted internal network. Throws
 * a TypeError naming the option, because this is a configuration mistake.
 */
export function checkEndpointUrl(value: string, option: string, allowHttp: boolean): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${option} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.username || url.password) throw new TypeError(`${option} must not carry credentials in the URL`);
  if (url.protocol === 'https:') return value;
  if (url.protocol !== 'http:') throw new TypeError(`${option} must be an https URL, got ${url.protocol}`);
  if (!allowHttp && !isLoopback(url.hostname)) {
    throw new TypeError(
      `${option} uses plain http on a non-loopback host (${url.host}): use https, or set allowHttp: true for a trusted internal network`,
    );
  }
  return value;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

/** The well-known URLs for an issuer, in the order they are tried. */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  return [
    // OIDC Discovery §4: the well-known path is appended to the issuer.
    `${url.origin}${path}/.well-known/openid-configuration`,
    // RFC 8414 §3: the well-known path is inserted between the host and the issuer's path.
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

/**
 * Finds the issuer's endpoints once and remembers them; a failure is remembered too, for a backoff
 * that doubles from 1 s to 30 s, so that a down issuer is not asked on every request.
 */
export class IssuerDiscovery {
  private endpoints: IssuerEndpoints | undefined;
  private inflight: Promise<IssuerEndpoints> | undefined;
  private failure: { error: unknown; at: number; count: number } | undefined;

  constructor(
    private readonly issuer: string,
    private readonly options: DiscoveryOptions,
    private readonly overrides: Partial<Omit<IssuerEndpoints, 'issuer'>> = {},
  ) {}

  /** The endpoints, discovering them first if needed. Rejects with a RemoteDocumentError. */
  get(): Promise<IssuerEndpoints> {
    if (this.endpoints) return Promise.resolve(this.endpoints);
    if (this.inflight) return this.inflight;
    const failure = this.failure;
    if (failure && this.options.now() - failure.at < backoffMs(failure.count)) return Promise.reject(failure.error);
    this.inflight = this.discover().then(
      (endpoints) => {
        this.endpoints = endpoints;
        this.failure = undefined;
        this.inflight = undefined;
        return endpoints;
      },
      (error: unknown) => {
        this.failure = { error, at: this.options.now(), count: (failure?.count ?? 0) + 1 };
        this.inflight = undefined;
        throw error;
      },
    );
    return this.inflight;
  }

  private async discover(): Promise<IssuerEndpoints> {
    const fallback = { ...defaultEndpoints(this.issuer), ...this.overrides };
    // Every endpoint given explicitly: nothing to discover.
    if (this.overrides.jwksUri && this.overrides.tokenEndpoint && this.overrides.introspectionEndpoint) return fallback;
    for (const url of metadataUrls(this.issuer)) {
      let document: unknown;
      try {
        ({ body: document } = await fetchJson(url, {
          what: 'issuer metadata',
          fetch: this.options.fetch,
          timeoutMs: this.options.timeoutMs,
          maxBytes: 256 * 1024,
        }));
      } catch (error) {
        if (error instanceof RemoteDocumentError && error.status === 404) continue;
        throw error;
      }
      return { ...this.fromMetadata(url, document), ...this.overrides };
    }
    return fallback;
  }

  private fromMetadata(url: string, document: unknown): IssuerEndpoints {
    const fail = (message: string) =>
      new RemoteDocumentError('ERR_DISCOVERY_INVALID', url, `issuer metadata at ${url}: ${message}`);
    if (document === null || typeof document !== 'object' || Array.isArray(document)) {
      throw fail('is not a JSON object');
    }
    const metadata = document as Record<string, unknown>;
    // RFC 8414 §3.3: the issuer value returned MUST be identical to the issuer identifier used.
    if (metadata.issuer !== this.issuer) {
      throw new RemoteDocumentError(
        'ERR_DISCOVERY_ISSUER_MISMATCH',
        url,
        `issuer metadata at ${url} names issuer ${JSON.stringify(metadata.issuer)}, not the configured ${JSON.stringify(this.issuer)}`,
      );
    }
    const defaults = defaultEndpoints(this.issuer);
    const endpoint = (name: string, fallback: string): string => {
      const value = metadata[name];
      if (value === undefined) return fallback;
      if (typeof value !== 'string') throw fail(`${name} is not a string`);
      try {
        return checkEndpointUrl(value, name, this.options.allowHttp);
      } catch (error) {
        throw fail((error as Error).message);
      }
    };
    return {
      issuer: this.issuer,
      jwksUri: endpoint('jwks_uri', defaults.jwksUri),
      tokenEndpoint: endpoint('token_endpoint', defaults.tokenEndpoint),
      introspectionEndpoint: endpoint('introspection_endpoint', defaults.introspectionEndpoint),
      verifyEndpoint: defaults.verifyEndpoint,
    };
  }
}

/** 1 s, 2 s, 4 s … 30 s. */
export function backoffMs(failures: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));
}
