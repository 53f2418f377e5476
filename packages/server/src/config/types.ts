import type { ApiKeySettings } from '../core/apikeys/service.js';
import type { AUTH_METHODS, DECISION_LOG_LEVELS, LOG_FORMATS, LOG_LEVELS, SIGNING_ALGORITHMS } from './options.js';

export type AuthMethodName = (typeof AUTH_METHODS)[number];

/** The validated, frozen configuration. Built once at start by ./load.ts and passed explicitly. */
export interface GatehouseConfig {
  readonly dataDir: string;
  readonly dev: boolean;
  readonly public: { readonly host: string; readonly port: number };
  readonly admin: { readonly host: string; readonly port: number };
  readonly proxy: {
    readonly host: string;
    readonly port: number;
    readonly upstreamTimeoutMs: number;
    readonly connectTimeoutMs: number;
    /** `proxy.strip_headers`: client headers removed on every route (docs/gateway.md). */
    readonly stripHeaders: readonly string[];
  };
  /** `outbound.allow`: non-public destinations outbound fetches may reach (docs/security.md). */
  readonly outbound: { readonly allow: readonly string[] };
  readonly database: {
    readonly url: string;
    readonly poolSize: number;
    readonly connectTimeoutMs: number;
  };
  readonly log: { readonly level: (typeof LOG_LEVELS)[number]; readonly format: (typeof LOG_FORMATS)[number] };
  readonly masterKey: string | undefined;
  readonly adminKey: string | undefined;
  readonly issuer: string;
  readonly auth: { readonly methods: readonly AuthMethodName[] };
  readonly metrics: { readonly token: string | undefined };
  /** `apikeys.*` (docs/api-keys.md). */
  readonly apiKeys: ApiKeySettings;
  readonly rateLimit: { readonly maxKeys: number };
  readonly oauth: {
    readonly codeTtlMs: number;
    readonly sessionTtlMs: number;
    readonly secretGraceMs: number;
    readonly secureCookies: boolean;
  };
  readonly shutdownTimeoutMs: number;
  /** Signing keys and their rotation (docs/jwt.md). */
  readonly keys: {
    readonly algorithm: (typeof SIGNING_ALGORITHMS)[number];
    readonly rotateEveryMs: number;
    readonly jwksMaxAgeMs: number;
    readonly publishAheadMs: number;
    readonly hs256Secret: string | undefined;
  };
  /** Access and refresh tokens (docs/jwt.md). */
  readonly tokens: {
    readonly accessTtlMs: number;
    readonly refreshTtlMs: number;
    readonly refreshIdleTtlMs: number;
    readonly audience: string;
    readonly audiences: readonly string[];
    readonly leewayMs: number;
    readonly maxLength: number;
    readonly claims: Readonly<Record<string, string>>;
    readonly cacheSize: number;
    readonly syncIntervalMs: number;
  };
  /** HTTPS for the public and gateway listeners: file paths or PEM text, both or neither. */
  readonly tls: { readonly cert: string | undefined; readonly key: string | undefined };
  /** Proxies whose X-Forwarded-* headers are believed (IPs, CIDRs, proxy-addr names). */
  readonly trustProxy: readonly string[];
  /** Where plain HTTP may carry a secret (core/transport/secret-transport.ts). */
  readonly security: { readonly allowInsecureLoopback: boolean };
  readonly basic: {
    readonly realm: string;
    /** The alias `basic.allow_insecure_loopback` as given; `security.allowInsecureLoopback` is what counts. */
    readonly allowInsecureLoopback: boolean;
    readonly cacheTtlMs: number;
    readonly cacheMaxEntries: number;
  };
  readonly passwords: {
    readonly minLength: number;
    readonly blocklistFile: string | undefined;
    readonly argon2: { readonly memoryKib: number; readonly iterations: number; readonly parallelism: number };
    readonly pepper: string | undefined;
  };
  readonly throttle: {
    readonly user: { readonly freeAttempts: number; readonly lockAfter: number };
    readonly ip: { readonly freeAttempts: number; readonly lockAfter: number };
    readonly backoffBaseMs: number;
    readonly backoffMaxMs: number;
    readonly lockDurationMs: number;
    readonly resetAfterMs: number;
    readonly familiarTtlMs: number;
  };
  /** `throttle.verify_*`: failed API-key and bearer-token verifications per client and window. */
  readonly verifyBudget: { readonly failures: number; readonly windowMs: number };
  /** `log.decisions`: the decision log's level, or off. */
  readonly decisionLog: (typeof DECISION_LOG_LEVELS)[number];
  /** Where each value came from, for `config print` and error messages. */
  readonly sources: ReadonlyMap<string, ConfigSource>;
  /** Every resolved value by option key (`public.port`), for `config print`. */
  readonly values: ReadonlyMap<string, unknown>;
}

export type ConfigSource = 'flag' | 'env' | 'env-file' | 'file' | 'default';
