/**
 * Assembles the OAuth 2.0 authorization server from the store and the ports it needs (token
 * signing and refresh tokens from the JWT feature, users from the users feature). app.ts calls
 * this once; the HTTP surface (http/oauth/) receives the result.
 */
import type { Logger } from 'pino';
import type { GatehouseConfig } from './config/types.js';
import type { AuditLog, Clock } from './core/audit/audit.js';
import { type AuthorizationFlow, createAuthorizationFlow } from './core/oauth/authorization.js';
import type { InteractionStore, Pruner, SessionStore } from './core/oauth/authorization-store.js';
import { type ClientAuthenticator, createClientAuthenticator } from './core/oauth/client-auth.js';
import { createClientKeySets } from './core/oauth/client-key-sets.js';
import type { ClientStore } from './core/oauth/clients.js';
import { createGrantRevoker, type GrantRevoker } from './core/oauth/grant-revocation.js';
import { authorizationCodeGrant } from './core/oauth/grants/authorization-code.js';
import { clientCredentialsGrant } from './core/oauth/grants/client-credentials.js';
import { refreshTokenGrant } from './core/oauth/grants/refresh-token.js';
import { tokenExchangeGrant } from './core/oauth/grants/token-exchange.js';
import { createIntrospector, type Introspector } from './core/oauth/introspection.js';
import { authorizationServerMetadata, OAUTH_PATHS } from './core/oauth/metadata.js';
import type { AccessTokens, RefreshTokens, TokenIssuer, UserDirectory } from './core/oauth/ports.js';
import { createRevoker, type Revoker } from './core/oauth/revocation.js';
import { OIDC_SCOPES } from './core/oauth/scopes.js';
import { createTokenEndpoint, type TokenEndpoint } from './core/oauth/token-endpoint.js';
import { parseAllowlist } from './core/outbound/address-policy.js';
import type { OutboundFetcher } from './core/outbound/fetch-port.js';
import type { Pipeline } from './core/pipeline/pipeline.js';
import { createOutboundFetcher, DEFAULT_OUTBOUND_POLICY } from './http/outbound/outbound-fetch.js';
import type { Store } from './store/database.js';
import { oauthClientRepository } from './store/oauth-client-repository.js';
import {
  assertionReplayRepository,
  codeRepository,
  consentRepository,
  grantRepository,
  interactionRepository,
  oauthPruner,
  sessionRepository,
} from './store/oauth-grant-repository.js';

/** What the OAuth server borrows from other features (see ./oauth-token-ports.ts). */
export interface OAuthPorts {
  readonly issuer: TokenIssuer;
  readonly accessTokens: AccessTokens;
  readonly refreshTokens: RefreshTokens;
  /** The user directory `/auth/login` uses (the users feature); undefined → no user flows. */
  readonly users?: UserDirectory | undefined;
}

export interface OAuthServices {
  readonly issuer: string;
  readonly clients: ClientStore;
  readonly clientAuth: ClientAuthenticator;
  readonly tokenEndpoint: TokenEndpoint;
  readonly introspector: Introspector;
  readonly revoker: Revoker;
  readonly grantRevoker: GrantRevoker;
  readonly ports: OAuthPorts;
  readonly pruner: Pruner;
  readonly flow: AuthorizationFlow;
  readonly sessions: SessionStore;
  readonly interactions: InteractionStore;
  /** The outbound fetch policy (client `jwks_uri`); its `checkUrl` vets a jwks_uri at registration. */
  readonly outbound: OutboundFetcher;
  metadata(): Record<string, unknown>;
  /** Starts the hourly removal of expired codes, sessions, interactions and assertion ids. */
  start(): void;
  close(): void;
}

const PRUNE_INTERVAL_MS = 3_600_000;

export interface OAuthServiceOptions {
  readonly config: GatehouseConfig;
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly audit: AuditLog;
  readonly ports: OAuthPorts;
  /** The pipeline is built after the services; introspection reads it lazily. */
  readonly pipeline: () => Pipeline;
}

export function createOAuthServices(options: OAuthServiceOptions): OAuthServices {
  const { config, store, clock, ports } = options;
  // The token subsystem's issuer: with a default issuer it becomes the bound address (and scheme).
  const issuer = () => ports.issuer.issuer;
  const clients = oauthClientRepository(store.db, { now: () => clock.now() });
  const grants = grantRepository(store.db);
  // Every fetch made on behalf of a client goes through one policy (docs/security.md).
  const allowlist = parseAllowlist(config.outbound.allow);
  if (!allowlist.ok) throw new Error(`outbound.allow: ${allowlist.problem}`); // validated by the config already
  const outbound = createOutboundFetcher({
    ...DEFAULT_OUTBOUND_POLICY,
    allowHttp: config.dev,
    allowlist: allowlist.value,
  });
  const clientAuth = createClientAuthenticator({
    clients,
    replay: assertionReplayRepository(store.db),
    remoteKeys: createClientKeySets({ fetcher: outbound, clock }),
    clock,
    // RFC 7523 §3 item 3: the assertion's audience identifies the authorization server.
    assertionAudiences: () => [
      issuer(),
      `${issuer()}${OAUTH_PATHS.token}`,
      `${issuer()}${OAUTH_PATHS.introspection}`,
      `${issuer()}${OAUTH_PATHS.revocation}`,
    ],
  });
  const grantRevoker = createGrantRevoker({
    grants,
    accessTokens: ports.accessTokens,
    refreshTokens: ports.refreshTokens,
    clock,
  });
  const codes = codeRepository(store.db);
  const users = () => ports.users;
  const userTokens = { issuer: ports.issuer, refreshTokens: ports.refreshTokens, grants, users, clock };
  const tokenEndpoint = createTokenEndpoint({
    clientAuth,
    grants: [
      clientCredentialsGrant({ issuer: ports.issuer }),
      authorizationCodeGrant({ ...userTokens, codes, grantRevoker }),
      refreshTokenGrant({ ...userTokens, grantRevoker }),
      tokenExchangeGrant({ issuer: ports.issuer, accessTokens: ports.accessTokens, now: () => clock.now() }),
    ],
  });
  const flow = createAuthorizationFlow({
    issuer,
    codes,
    consents: consentRepository(store.db),
    users,
    clock,
    codeTtlMs: config.oauth.codeTtlMs,
  });
  const introspector = createIntrospector({
    pipeline: {
      get authenticators() {
        return options.pipeline().authenticators;
      },
      get credentialHeaders() {
        return options.pipeline().credentialHeaders;
      },
      decide: (request, policy) => options.pipeline().decide(request, policy),
    },
    accessTokens: ports.accessTokens,
    refreshTokens: ports.refreshTokens,
  });
  const pruner = oauthPruner(store.db);
  let pruneTimer: NodeJS.Timeout | undefined;
  const prune = () =>
    pruner.prune(new Date(clock.now()).toISOString()).then(
      (removed) => {
        if (removed > 0) options.logger.debug({ removed }, 'expired OAuth state removed');
      },
      (error: Error) => options.logger.warn({ err: { message: error.message } }, 'removing expired OAuth state failed'),
    );
  const revoker = createRevoker({ accessTokens: ports.accessTokens, refreshTokens: ports.refreshTokens, grantRevoker });
  return {
    get issuer() {
      return issuer();
    },
    clients,
    clientAuth,
    outbound,
    tokenEndpoint,
    introspector,
    revoker,
    grantRevoker,
    ports,
    pruner,
    start() {
      pruneTimer ??= setInterval(prune, PRUNE_INTERVAL_MS);
      pruneTimer.unref();
    },
    close() {
      if (pruneTimer) clearInterval(pruneTimer);
      pruneTimer = undefined;
    },
    flow,
    sessions: sessionRepository(store.db),
    interactions: interactionRepository(store.db),
    metadata: () =>
      authorizationServerMetadata({
        issuer: issuer(),
        grantTypes: tokenEndpoint.grantTypes,
        scopes: [...OIDC_SCOPES].filter((scope) => scope !== 'offline_access'),
        idTokenAlgs: ports.issuer.idTokenAlgorithms(),
      }),
  };
}
