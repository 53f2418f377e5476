/**
 * `/admin/v1/users`: create, list, show, update, set password, disable/enable, delete, and
 * import from an htpasswd file. Passwords and hashes never appear in a response or the audit log.
 *
 * Bodies are capped at 64 KiB (a password may be at most 1024 bytes), so a huge password is a
 * 413 naming the limit before anything is parsed; a password over 1024 bytes that fits is a 400
 * naming the `password` field. Imports may be larger (8 MiB).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { passwordScheme } from '../../core/passwords/password-hasher.js';
import type { User } from '../../core/users/user.js';
import type { UserFailure, UserService } from '../../core/users/user-service.js';
import { InvalidCursorError } from '../../store/pagination.js';
import { fieldProblem, ProblemError } from '../problem.js';
import { adminActor } from './authenticate.js';
import { listQuerySchema } from './list-query.js';

export const USER_BODY_LIMIT = 64 * 1024;
export const IMPORT_BODY_LIMIT = 8 * 1024 * 1024;

/** RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ) */
const scopesSchema = {
  type: 'array',
  maxItems: 100,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[\\x21\\x23-\\x5b\\x5d-\\x7e]+$' },
} as const;
const usernameSchema = { type: 'string', minLength: 1, maxLength: 512 } as const;
const passwordSchema = { type: 'string' } as const;
const metadataSchema = { type: 'object' } as const;
/** A JSON object body with exactly these fields (unknown fields are errors naming the field). */
const strictBody = (properties: Record<string, object>, extra: { required?: string[]; minProperties?: number } = {}) =>
  ({ type: 'object', additionalProperties: false, properties, ...extra }) as const;

const idParams = {
  type: 'object',
  properties: { id: { type: 'string', maxLength: 100 } },
  required: ['id'],
} as const;

/** The user as the admin API shows it: never the hash, only which scheme protects the password. */
export function userResource(user: User) {
  return {
    id: user.id,
    username: user.username,
    scopes: user.scopes,
    metadata: user.metadata,
    disabled: user.disabled,
    password_scheme: passwordScheme(user.password.hash),
    password_changed_at: user.passwordChangedAt,
    created_at: user.createdAt,
    updated_at: user.updatedAt,
    last_login_at: user.lastLoginAt,
  };
}

/** Turns an expected failure of the user service into the problem it answers. */
function failure(result: UserFailure, id?: string): ProblemError {
  switch (result.error) {
    case 'invalid': {
      const detail = result.issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
      return new ProblemError('validation-failed', detail, { errors: result.issues });
    }
    case 'not_found':
      return new ProblemError('not-found', `No user ${id ?? ''}`.trim());
    case 'username_taken':
      return new ProblemError('conflict', result.detail ?? `The username "${result.username}" is taken`);
  }
}

export function registerUserRoutes(app: FastifyInstance, users: UserService): void {
  app.post(
    '/admin/v1/users',
    {
      bodyLimit: USER_BODY_LIMIT,
      schema: {
        body: strictBody(
          {
            username: usernameSchema,
            password: passwordSchema,
            scopes: scopesSchema,
            metadata: metadataSchema,
            disabled: { type: 'boolean' },
          },
          { required: ['username', 'password'] },
        ),
      },
    },
    async (request, reply) => {
      const body = request.body as {
        username: string;
        password: string;
        scopes?: string[];
        metadata?: Record<string, unknown>;
        disabled?: boolean;
      };
      const result = await users.create(body, adminActor(request));
      if (!result.ok) throw failure(result);
      return reply.code(201).header('location', `/admin/v1/users/${result.value.id}`).send(userResource(result.value));
    },
  );

  app.get(
    '/admin/v1/users',
    {
      schema: {
        querystring: listQuerySchema({
          username: { type: 'string', minLength: 1, maxLength: 512 },
          disabled: { type: 'boolean' },
        }),
      },
    },
    async (request) => {
      const query = request.query as { limit: number; cursor?: string; username?: string; disabled?: boolean };
      if (query.username !== undefined) {
        // A filter by username matches the canonical form (Alice finds alice).
        const user = await users.findByUsername(query.username);
        const matches = user && (query.disabled === undefined || user.disabled === query.disabled);
        return { data: matches ? [userResource(user)] : [], next_cursor: null };
      }
      try {
        const page = await users.list(query);
        return { data: page.users.map(userResource), next_cursor: page.nextCursor };
      } catch (error) {
        if (error instanceof InvalidCursorError) throw fieldProblem('cursor', 'is not a cursor this API returned');
        throw error;
      }
    },
  );

  app.get('/admin/v1/users/:id', { schema: { params: idParams } }, async (request) => {
    const { id } = request.params as { id: string };
    const result = await users.get(id);
    if (!result.ok) throw failure(result, id);
    return userResource(result.value);
  });

  app.patch(
    '/admin/v1/users/:id',
    {
      bodyLimit: USER_BODY_LIMIT,
      schema: {
        params: idParams,
        body: strictBody(
          { username: usernameSchema, scopes: scopesSchema, metadata: metadataSchema, disabled: { type: 'boolean' } },
          { minProperties: 1 },
        ),
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const result = await users.update(id, request.body as Record<string, never>, adminActor(request));
      if (!result.ok) throw failure(result, id);
      return userResource(result.value);
    },
  );

  app.put(
    '/admin/v1/users/:id/password',
    {
      bodyLimit: USER_BODY_LIMIT,
      schema: {
        params: idParams,
        body: strictBody({ password: passwordSchema }, { required: ['password'] }),
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const { password } = request.body as { password: string };
      const result = await users.setPassword(id, password, adminActor(request));
      if (!result.ok) throw failure(result, id);
      return reply.code(204).send();
    },
  );

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(`/admin/v1/users/:id/${action}`, { schema: { params: idParams } }, async (request) => {
      const { id } = request.params as { id: string };
      const result = await users.update(id, { disabled }, adminActor(request));
      if (!result.ok) throw failure(result, id);
      return userResource(result.value);
    });
  }

  app.delete('/admin/v1/users/:id', { schema: { params: idParams } }, async (request, reply: FastifyReply) => {
    const { id } = request.params as { id: string };
    const result = await users.delete(id, adminActor(request));
    if (!result.ok) throw failure(result, id);
    return reply.code(204).send();
  });

  app.post(
    '/admin/v1/users/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        body: strictBody(
          { htpasswd: { type: 'string', minLength: 1 }, scopes: scopesSchema, skip_existing: { type: 'boolean' } },
          { required: ['htpasswd'] },
        ),
      },
    },
    async (request) => {
      const body = request.body as { htpasswd: string; scopes?: string[]; skip_existing?: boolean };
      const result = await users.importHtpasswd(
        { htpasswd: body.htpasswd, scopes: body.scopes, skipExisting: body.skip_existing },
        adminActor(request),
      );
      if (!result.ok) throw failure(result);
      return result.value;
    },
  );
}
