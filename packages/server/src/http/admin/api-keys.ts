/**
 * `/admin/v1/api-keys`: issue, list, show, update, revoke and rotate API keys. The plaintext key
 * is in the body of the 201 that creates it (and of the one that rotates it), and nowhere else,
 * ever: those responses carry `Cache-Control: no-store`. Every change is audited.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { parseDuration } from '../../config/duration.js';
import {
  API_KEY_STATES,
  type ApiKey,
  type ApiKeyChanges,
  type ApiKeyState,
  type ChangeRefusal,
  stateOf,
} from '../../core/apikeys/model.js';
import type { ApiKeyService, IssuedKey } from '../../core/apikeys/service.js';
import type { AuditLog, Clock } from '../../core/audit/audit.js';
import { formatRate, parseRate, type RateLimitRule } from '../../core/ratelimit/rate.js';
import { InvalidCursorError } from '../../store/pagination.js';
import { fieldProblem, ProblemError } from '../problem.js';
import { adminActor } from './authenticate.js';
import { listQuerySchema } from './list-query.js';

export interface ApiKeyRoutesOptions {
  readonly apiKeys: ApiKeyService;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

const MAX_LIFETIME_MS = 10 * 365 * 86_400_000;
const MAX_GRACE_MS = 30 * 86_400_000;
const MAX_METADATA_BYTES = 4096;

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const scopeToken = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' };
const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: '^[^\\x00-\\x1f\\x7f]+$' });
const fields = {
  name: text(200),
  scopes: { type: 'array', items: scopeToken, maxItems: 100, uniqueItems: true },
  metadata: { type: 'object', maxProperties: 50 },
  // Checked by the handlers, which name the field: a rate string, a duration (string or seconds).
  rate_limit: {},
  expires_in: {},
  expires_at: { anyOf: [{ type: 'string', format: 'date-time' }, { type: 'null' }] },
} as const;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 100 } },
  required: ['id'],
} as const;

const createSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    ...fields,
    owner: text(200),
    remaining_uses: { type: 'integer', minimum: 1, maximum: 1_000_000_000 },
  },
} as const;

const updateSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...fields,
    remaining_uses: { anyOf: [{ type: 'integer', minimum: 0, maximum: 1_000_000_000 }, { type: 'null' }] },
  },
} as const;

const rotateSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { grace: {}, expires_in: fields.expires_in, expires_at: fields.expires_at },
} as const;

interface KeyBody {
  name?: string;
  owner?: string;
  scopes?: string[];
  metadata?: Record<string, unknown>;
  rate_limit?: unknown;
  remaining_uses?: number | null;
  expires_in?: unknown;
  expires_at?: string | null;
}

/** The wire form of a key: snake_case, times as ISO 8601, never the hash. */
export function apiKeyView(key: ApiKey, now: string) {
  return {
    id: key.id,
    name: key.name,
    owner: key.owner,
    prefix: key.prefix,
    last4: key.last4,
    state: stateOf(key, now),
    scopes: key.scopes,
    metadata: key.metadata,
    rate_limit: key.rateLimit ? formatRate(key.rateLimit) : null,
    remaining_uses: key.remainingUses,
    created_at: key.createdAt,
    updated_at: key.updatedAt,
    expires_at: key.expiresAt,
    last_used_at: key.lastUsedAt,
    revoked_at: key.revokedAt,
    replaced_by: key.replacedBy,
    grace_until: key.graceUntil,
    rotated_from: key.rotatedFrom,
  };
}

/** A duration given as seconds or as text (`30d`), within bounds; `field` names it in a 400. */
function durationField(field: string, value: unknown, minMs: number, maxMs: number): number {
  if ((typeof value === 'number' && value < 0) || (typeof value === 'string' && value.trim().startsWith('-'))) {
    throw fieldProblem(field, minMs > 0 ? 'must be positive' : 'must not be negative');
  }
  const ms = typeof value === 'number' || typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined) throw fieldProblem(field, 'must be a duration such as 3600, "90m", "12h" or "30d"');
  if (ms < minMs) throw fieldProblem(field, minMs > 0 ? 'must be positive' : 'must not be negative');
  if (ms > maxMs) throw fieldProblem(field, `must be at most ${Math.round(maxMs / 86_400_000)} days`);
  return ms;
}

/** `expires_in` (relative) or `expires_at` (absolute, or null for never): at most one. */
function expiryFrom(body: KeyBody, now: number): string | null | undefined {
  if (body.expires_in !== undefined && body.expires_at !== undefined) {
    throw fieldProblem('expires_in', 'give either expires_in or expires_at, not both');
  }
  if (body.expires_in === null) return null;
  if (body.expires_in !== undefined) {
    return new Date(now + durationField('expires_in', body.expires_in, 1, MAX_LIFETIME_MS)).toISOString();
  }
  if (body.expires_at === undefined || body.expires_at === null) return body.expires_at;
  const at = Date.parse(body.expires_at);
  if (!(at > now)) throw fieldProblem('expires_at', 'must be in the future');
  if (at - now > MAX_LIFETIME_MS) throw fieldProblem('expires_at', 'must be at most 10 years ahead');
  return new Date(at).toISOString();
}

function rateLimitFrom(value: unknown): RateLimitRule | null | undefined {
  if (value === undefined || value === null) return value;
  if (typeof value !== 'string') throw fieldProblem('rate_limit', 'must be a rate such as "100/minute", or null');
  const parsed = parseRate(value);
  if (!parsed.ok) throw fieldProblem('rate_limit', parsed.problem);
  return parsed.rule;
}

function metadataFrom(value: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (value !== undefined && Buffer.byteLength(JSON.stringify(value)) > MAX_METADATA_BYTES) {
    throw fieldProblem('metadata', `must be at most ${MAX_METADATA_BYTES} bytes as JSON`);
  }
  return value;
}

function refused(id: string, reason: ChangeRefusal | 'expired'): ProblemError {
  switch (reason) {
    case 'not_found':
      return new ProblemError('not-found', `No API key ${id}`);
    case 'revoked':
      return new ProblemError('conflict', `API key ${id} is revoked; revoked keys cannot change`);
    case 'rotated':
      return new ProblemError('conflict', `API key ${id} was rotated; change its replacement instead`);
    case 'expired':
      return new ProblemError('conflict', `API key ${id} has expired; give the replacement expires_in or expires_at`);
  }
}

/** The one response that carries a plaintext key. */
function sendIssued(reply: FastifyReply, issued: IssuedKey, now: string, extra: Record<string, unknown> = {}) {
  return reply
    .code(201)
    .header('cache-control', 'no-store')
    .header('location', `/admin/v1/api-keys/${issued.key.id}`)
    .send({ ...apiKeyView(issued.key, now), ...extra, key: issued.plaintext });
}

export function registerApiKeyRoutes(app: FastifyInstance, options: ApiKeyRoutesOptions): void {
  const { apiKeys, audit, clock } = options;
  const isoNow = () => new Date(clock.now()).toISOString();

  app.post('/admin/v1/api-keys', { schema: { body: createSchema } }, async (request, reply) => {
    const body = request.body as KeyBody & { name: string };
    const now = clock.now();
    const issued = await apiKeys.create({
      name: body.name,
      owner: body.owner ?? null,
      scopes: body.scopes ?? [],
      metadata: metadataFrom(body.metadata) ?? {},
      rateLimit: rateLimitFrom(body.rate_limit) ?? null,
      remainingUses: body.remaining_uses ?? null,
      expiresAt: expiryFrom(body, now) ?? null,
    });
    const { key } = issued;
    audit.record({
      actor: adminActor(request),
      action: 'apikey.created',
      target: key.id,
      ip: request.ip,
      details: {
        name: key.name,
        owner: key.owner,
        scopes: key.scopes,
        expires_at: key.expiresAt,
        rate_limit: key.rateLimit ? formatRate(key.rateLimit) : null,
        remaining_uses: key.remainingUses,
      },
    });
    return sendIssued(reply, issued, new Date(now).toISOString());
  });

  app.get(
    '/admin/v1/api-keys',
    {
      schema: {
        querystring: listQuerySchema({
          owner: { type: 'string', minLength: 1, maxLength: 200 },
          state: { type: 'string', enum: [...API_KEY_STATES] },
        }),
      },
    },
    async (request) => {
      const query = request.query as { limit: number; cursor?: string; owner?: string; state?: ApiKeyState };
      try {
        const page = await apiKeys.list(query);
        const now = isoNow();
        return { data: page.keys.map((key) => apiKeyView(key, now)), next_cursor: page.nextCursor };
      } catch (error) {
        if (error instanceof InvalidCursorError) throw fieldProblem('cursor', 'is not a cursor this API returned');
        throw error;
      }
    },
  );

  app.get('/admin/v1/api-keys/:id', { schema: { params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    const key = await apiKeys.get(id);
    if (!key) throw refused(id, 'not_found');
    return apiKeyView(key, isoNow());
  });

  app.patch('/admin/v1/api-keys/:id', { schema: { params: idParams, body: updateSchema } }, async (request) => {
    const { id } = request.params as { id: string };
    const body = request.body as KeyBody;
    const changes: ApiKeyChanges = {
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.scopes !== undefined ? { scopes: body.scopes } : {}),
      ...(body.metadata !== undefined ? { metadata: metadataFrom(body.metadata) } : {}),
      ...(body.rate_limit !== undefined ? { rateLimit: rateLimitFrom(body.rate_limit) } : {}),
      ...(body.remaining_uses !== undefined ? { remainingUses: body.remaining_uses } : {}),
      ...(body.expires_in !== undefined || body.expires_at !== undefined
        ? { expiresAt: expiryFrom(body, clock.now()) }
        : {}),
    };
    const result = await apiKeys.update(id, changes);
    if (!result.ok) throw refused(id, result.reason);
    audit.record({
      actor: adminActor(request),
      action: 'apikey.updated',
      target: id,
      ip: request.ip,
      details: { changed: Object.keys(body).map((field) => (field === 'expires_in' ? 'expires_at' : field)) },
    });
    return apiKeyView(result.key, isoNow());
  });

  app.delete('/admin/v1/api-keys/:id', { schema: { params: idParams } }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const result = await apiKeys.revoke(id);
    if (!result) throw refused(id, 'not_found');
    // Idempotent: revoking a revoked key answers 204 again, and is audited once.
    if (result.changed) {
      audit.record({ actor: adminActor(request), action: 'apikey.revoked', target: id, ip: request.ip });
    }
    return reply.code(204).send();
  });

  app.post(
    '/admin/v1/api-keys/:id/rotate',
    { schema: { params: idParams, body: rotateSchema } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = (request.body ?? {}) as KeyBody & { grace?: unknown };
      const now = clock.now();
      const graceMs = body.grace === undefined ? 0 : durationField('grace', body.grace, 0, MAX_GRACE_MS);
      const expiresAt = expiryFrom(body, now);
      const result = await apiKeys.rotate(id, {
        graceMs,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      if (!result.ok) throw refused(id, result.reason);
      const replacement = result.issued.key;
      audit.record({
        actor: adminActor(request),
        action: 'apikey.rotated',
        target: id,
        ip: request.ip,
        details: { replaced_by: replacement.id, grace_until: result.old.graceUntil },
      });
      return sendIssued(reply, result.issued, new Date(now).toISOString());
    },
  );
}
