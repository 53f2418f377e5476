/**
 * `/admin/v1/signing-keys`: list, rotate, retire (and delete) signing keys, and import a public
 * key to keep verifying tokens of a previous issuer key. Every change is audited by the key ring
 * (`signing_key.created|activated|retired|deleted`) with the admin as actor.
 */
import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../../core/tokens/key-ring.js';
import { KeyRingError } from '../../core/tokens/key-ring.js';
import type { SigningKeyRecord } from '../../core/tokens/signing-keys.js';
import { ProblemError } from '../problem.js';
import { adminActor } from './authenticate.js';
import { listQuerySchema } from './list-query.js';

const KID_PARAM = {
  type: 'object',
  additionalProperties: false,
  required: ['kid'],
  properties: { kid: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } },
} as const;

export const signingKeyView = (record: SigningKeyRecord) => ({
  kid: record.kid,
  alg: record.alg,
  state: record.state,
  created_at: record.createdAt,
  activates_at: record.state === 'next' ? record.activatesAt : null,
  activated_at: record.activatedAt,
  retired_at: record.retiredAt,
  delete_after: record.deleteAfter,
  public_jwk: record.publicJwk,
});

const STATE_ORDER = { next: 0, active: 1, retired: 2 } as const;
const view = (records: readonly SigningKeyRecord[]) =>
  [...records].sort((a, b) => STATE_ORDER[a.state] - STATE_ORDER[b.state]).map(signingKeyView);

export function registerSigningKeyRoutes(app: FastifyInstance, keyRing: KeyRing): void {
  app.get('/admin/v1/signing-keys', { schema: { querystring: listQuerySchema() } }, async (request) => {
    const { limit } = request.query as { limit: number };
    // A handful of keys at most: one page always holds them all.
    return { data: view(await keyRing.list()).slice(0, limit), next_cursor: null };
  });

  app.post(
    '/admin/v1/signing-keys/rotate',
    {
      schema: {
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { immediate: { type: 'boolean' } },
        },
      },
    },
    async (request) => {
      const body = (request.body ?? {}) as { immediate?: boolean };
      return { data: view(await keyRing.rotate({ immediate: body.immediate === true }, adminActor(request))) };
    },
  );

  app.post(
    '/admin/v1/signing-keys/:kid/retire',
    {
      schema: {
        params: KID_PARAM,
        body: { type: ['object', 'null'], additionalProperties: false, properties: { delete: { type: 'boolean' } } },
      },
    },
    async (request) => {
      const { kid } = request.params as { kid: string };
      const body = (request.body ?? {}) as { delete?: boolean };
      try {
        return { data: view(await keyRing.retire(kid, { delete: body.delete === true }, adminActor(request))) };
      } catch (error) {
        if (error instanceof KeyRingError) {
          throw new ProblemError(error.reason === 'not_found' ? 'not-found' : 'conflict', error.message);
        }
        throw error;
      }
    },
  );
}
