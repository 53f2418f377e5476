/**
 * `/admin/v1/clients`: OAuth client management. Wire names are RFC 7591's (`client_id`,
 * `client_secret`, `client_name`, `grant_types`, `scope`, `redirect_uris`,
 * `token_endpoint_auth_method`, `jwks`, `jwks_uri`, `client_id_issued_at`,
 * `client_secret_expires_at`). A secret is shown once, at creation or rotation; only its SHA-256
 * is stored.
 */
import type { FastifyInstance } from 'fastify';
import type { AuditLog, Clock } from '../../core/audit/audit.js';
import {
  AUTH_METHODS,
  applyRegistration,
  blankClient,
  type ClientRegistration,
  type ClientStore,
  checkClientId,
  generateClientSecret,
  hashClientSecret,
  newClientId,
  type OAuthClient,
  SUPPORTED_GRANT_TYPES,
  usesSecret,
} from '../../core/oauth/clients.js';
import type { UserDirectory } from '../../core/oauth/ports.js';
import { InvalidCursorError } from '../../store/pagination.js';
import { fieldProblem, ProblemError } from '../problem.js';
import { adminActor } from './authenticate.js';
import { listQuerySchema } from './list-query.js';

export interface ClientRoutesOptions {
  readonly clients: ClientStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** Default grace period of the previous secret after a rotation. */
  readonly secretGraceMs: number;
  /** When users exist, a client id may not name one (docs/security.md #21). */
  readonly users?: () => UserDirectory | undefined;
  /** The outbound fetch policy's verdict on a jwks_uri before any fetch (docs/security.md). */
  readonly checkJwksUri?: (uri: string) => string | undefined;
}

const lifetime = { type: ['integer', 'null'], minimum: 10, maximum: 31_536_000 } as const;

const registrationProperties = {
  client_name: { type: 'string', minLength: 1, maxLength: 200 },
  grant_types: { type: 'array', maxItems: 10, items: { type: 'string', enum: [...SUPPORTED_GRANT_TYPES] } },
  scope: { type: 'string', maxLength: 2000 },
  redirect_uris: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 2000 } },
  audience: { type: 'array', maxItems: 50, items: { type: 'string', minLength: 1, maxLength: 500 } },
  token_endpoint_auth_method: { type: 'string', enum: [...AUTH_METHODS] },
  jwks: {
    type: ['object', 'null'],
    additionalProperties: false,
    required: ['keys'],
    properties: { keys: { type: 'array', maxItems: 20, items: { type: 'object' } } },
  },
  jwks_uri: { type: ['string', 'null'], maxLength: 2000 },
  access_token_lifetime: lifetime,
  refresh_token_lifetime: lifetime,
  skip_consent: { type: 'boolean' },
} as const;

const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

/** The client as the admin API shows it: never a secret or a secret's digest. */
export function presentClient(client: OAuthClient, now: number): Record<string, unknown> {
  const previous = client.secrets.find((secret) => secret.expiresAt !== null && Date.parse(secret.expiresAt) > now);
  return {
    client_id: client.id,
    client_name: client.name,
    grant_types: client.grantTypes,
    scope: client.scopes.join(' '),
    redirect_uris: client.redirectUris,
    audience: client.audience,
    token_endpoint_auth_method: client.authMethod,
    ...(client.jwks ? { jwks: client.jwks } : {}),
    ...(client.jwksUri ? { jwks_uri: client.jwksUri } : {}),
    access_token_lifetime: client.accessTokenLifetime,
    refresh_token_lifetime: client.refreshTokenLifetime,
    skip_consent: client.skipConsent,
    client_id_issued_at: Math.floor(Date.parse(client.createdAt) / 1000),
    // RFC 7591 §3.2.1: 0 means the secret does not expire.
    ...(usesSecret(client) ? { client_secret_expires_at: 0 } : {}),
    ...(previous ? { previous_secret_expires_at: previous.expiresAt } : {}),
    created_at: client.createdAt,
    updated_at: client.updatedAt,
  };
}

function throwProblems(problems: ReadonlyArray<{ field: string; message: string }>): never {
  const detail = problems.map((problem) => `${problem.field}: ${problem.message}`).join('; ');
  throw new ProblemError('validation-failed', detail, { errors: problems });
}

export function registerClientRoutes(app: FastifyInstance, options: ClientRoutesOptions): void {
  const { clients, audit, clock } = options;
  const nowIso = () => new Date(clock.now()).toISOString();
  const registrationChecks = options.checkJwksUri ? { checkJwksUri: options.checkJwksUri } : {};

  const load = async (id: string): Promise<OAuthClient> => {
    const client = await clients.find(id);
    if (!client) throw new ProblemError('not-found', `No client ${id}`);
    return client;
  };

  app.post(
    '/admin/v1/clients',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { client_id: { type: 'string', minLength: 1, maxLength: 64 }, ...registrationProperties },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as ClientRegistration;
      let id = newClientId();
      if (body.client_id !== undefined) {
        const problem = checkClientId(body.client_id);
        if (problem) throw fieldProblem(problem.field, problem.message);
        if (await options.users?.()?.findActiveUser(body.client_id)) {
          throw fieldProblem('client_id', 'names a user; a client id may not equal a user subject');
        }
        id = body.client_id;
      }
      const now = nowIso();
      const built = applyRegistration(blankClient(id, now), body, registrationChecks);
      if (!built.ok) throwProblems(built.problems);
      const secret = usesSecret(built.client) ? generateClientSecret() : undefined;
      const client: OAuthClient = {
        ...built.client,
        secrets: secret ? [{ hash: hashClientSecret(secret), expiresAt: null }] : [],
      };
      if (!(await clients.insert(client))) throw new ProblemError('conflict', `A client ${id} already exists`);
      audit.record({
        actor: adminActor(request),
        action: 'client.created',
        target: id,
        details: { grant_types: client.grantTypes, token_endpoint_auth_method: client.authMethod },
      });
      return reply
        .code(201)
        .header('location', `/admin/v1/clients/${encodeURIComponent(id)}`)
        .header('cache-control', 'no-store')
        .send({ ...presentClient(client, clock.now()), ...(secret ? { client_secret: secret } : {}) });
    },
  );

  app.get('/admin/v1/clients', { schema: { querystring: listQuerySchema() } }, async (request) => {
    const query = request.query as { limit: number; cursor?: string };
    try {
      const page = await clients.list(query);
      return { data: page.clients.map((client) => presentClient(client, clock.now())), next_cursor: page.nextCursor };
    } catch (error) {
      if (error instanceof InvalidCursorError) throw fieldProblem('cursor', 'is not a cursor this API returned');
      throw error;
    }
  });

  app.get('/admin/v1/clients/:id', { schema: { params: idParams } }, async (request) =>
    presentClient(await load((request.params as { id: string }).id), clock.now()),
  );

  app.patch(
    '/admin/v1/clients/:id',
    {
      schema: {
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: registrationProperties },
      },
    },
    async (request, reply) => {
      const existing = await load((request.params as { id: string }).id);
      const body = request.body as ClientRegistration;
      const built = applyRegistration({ ...existing, updatedAt: nowIso() }, body, registrationChecks);
      if (!built.ok) throwProblems(built.problems);
      let client = built.client;
      let secret: string | undefined;
      // Moving to a secret-based method mints a secret; moving away drops the old ones.
      if (usesSecret(client) && client.secrets.length === 0) {
        secret = generateClientSecret();
        client = { ...client, secrets: [{ hash: hashClientSecret(secret), expiresAt: null }] };
      } else if (!usesSecret(client)) {
        client = { ...client, secrets: [] };
      }
      if (!(await clients.update(client))) throw new ProblemError('not-found', `No client ${existing.id}`);
      audit.record({
        actor: adminActor(request),
        action: 'client.updated',
        target: client.id,
        details: { fields: Object.keys(body) },
      });
      return reply
        .header('cache-control', 'no-store')
        .send({ ...presentClient(client, clock.now()), ...(secret ? { client_secret: secret } : {}) });
    },
  );

  app.post(
    '/admin/v1/clients/:id/rotate-secret',
    {
      schema: {
        params: idParams,
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { grace_period_seconds: { type: 'integer', minimum: 0, maximum: 2_592_000 } },
        },
      },
    },
    async (request, reply) => {
      const existing = await load((request.params as { id: string }).id);
      if (!usesSecret(existing)) {
        throw new ProblemError(
          'conflict',
          `Client ${existing.id} authenticates with ${existing.authMethod} and has no secret to rotate`,
        );
      }
      const body = (request.body ?? {}) as { grace_period_seconds?: number };
      const graceMs =
        body.grace_period_seconds !== undefined ? body.grace_period_seconds * 1000 : options.secretGraceMs;
      const now = clock.now();
      const secret = generateClientSecret();
      const current = existing.secrets.find((record) => record.expiresAt === null);
      const previousExpiresAt = new Date(now + graceMs).toISOString();
      // The current secret stays valid for the grace period; older ones are dropped.
      const secrets = [
        { hash: hashClientSecret(secret), expiresAt: null },
        ...(current && graceMs > 0 ? [{ hash: current.hash, expiresAt: previousExpiresAt }] : []),
      ];
      const client: OAuthClient = { ...existing, secrets, updatedAt: new Date(now).toISOString() };
      if (!(await clients.update(client))) throw new ProblemError('not-found', `No client ${existing.id}`);
      audit.record({
        actor: adminActor(request),
        action: 'client.secret_rotated',
        target: client.id,
        details: { grace_period_seconds: Math.round(graceMs / 1000) },
      });
      return reply.header('cache-control', 'no-store').send({
        client_id: client.id,
        client_secret: secret,
        client_secret_expires_at: 0,
        previous_secret_expires_at: graceMs > 0 && current ? previousExpiresAt : null,
      });
    },
  );

  app.delete('/admin/v1/clients/:id', { schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!(await clients.delete(id))) throw new ProblemError('not-found', `No client ${id}`);
    audit.record({ actor: adminActor(request), action: 'client.deleted', target: id });
    return reply.code(204).send();
  });
}
