/**
 * `POST /admin/v1/tokens/revoke`: revoke access tokens by `jti`, by `subject` (every token of a
 * user issued until now, and their refresh tokens) or by `client_id`. Exactly one of the three.
 */

import type { FastifyInstance } from 'fastify';
import type { AuditLog } from '../../core/audit/audit.js';
import type { RevocationKind } from '../../core/tokens/revocations.js';
import type { TokenService } from '../../core/tokens/token-service.js';
import { adminActor } from './authenticate.js';

const value = { type: 'string', minLength: 1, maxLength: 256 } as const;

export function registerTokenAdminRoutes(app: FastifyInstance, service: TokenService, audit: AuditLog): void {
  app.post(
    '/admin/v1/tokens/revoke',
    {
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { jti: value, subject: value, client_id: value },
          minProperties: 1,
          maxProperties: 1,
        },
      },
    },
    async (request) => {
      const body = request.body as { jti?: string; subject?: string; client_id?: string };
      const [kind, target]: [RevocationKind, string] =
        body.jti !== undefined
          ? ['jti', body.jti]
          : body.subject !== undefined
            ? ['subject', body.subject]
            : ['client', body.client_id as string];
      const result = await service.revoke(kind, target);
      audit.record({
        actor: adminActor(request),
        action: 'token.revoked',
        target,
        details: { kind, refresh_tokens_revoked: result.refreshTokensRevoked },
      });
      return { revoked: { kind, value: target }, refresh_tokens_revoked: result.refreshTokensRevoked };
    },
  );
}
