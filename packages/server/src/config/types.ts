import type { AUTH_METHODS, LOG_FORMATS, LOG_LEVELS } from './options.js';

export type AuthMethodName = (typeof AUTH_METHODS)[number];

/** The validated, frozen configuration. Built once at start by ./load.ts and passed explicitly. */
export interface GatehouseConfig {
  readonly dataDir: string;
  readonly dev: boolean;
  readonly public: { readonly host: string; readonly port: number };
  readonly admin: { readonly host: string; readonly port: number };
  readonly proxy: { readonly host: string; readonly port: number };
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
  readonly apiKeys: {
    readonly prefix: string;
    /** Lower-case. */
    readonly header: string;
    readonly queryParam: boolean;
    readonly cacheTtlMs: number;
    readonly negativeCacheTtlMs: number;
    readonly cacheSize: number;
    readonly staleIfErrorMs: number;
    readonly lastUsedFlushMs: number;
  };
  readonly rateLimit: { readonly maxKeys: number };
  readonly shutdownTimeoutMs: number;
  /** Where each value came from, for `config print` and error messages. */
  readonly sources: ReadonlyMap<string, ConfigSource>;
  /** Every resolved value by option key (`public.port`), for `config print`. */
  readonly values: ReadonlyMap<string, unknown>;
}

export type ConfigSource = 'flag' | 'env' | 'env-file' | 'file' | 'default';
