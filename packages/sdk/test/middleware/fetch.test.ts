/** `@gatehouse/sdk/fetch`: a Fetch-API handler (as on Workers, Deno, Bun) served over real HTTP. */
import { authenticateRequest, createVerifier, type Verifier, withAuth } from '../../src/fetch.js';
import { serveFetch } from '../support/listen.js';
import { describeIdentity, middlewareContract } from './contract.js';

function handler(verifier: Verifier) {
  const me = withAuth(verifier, (_request, identity) => Response.json(describeIdentity(identity)));
  const write = withAuth(verifier, () => Response.json({ ok: true }), { scopes: ['write'] });
  return async (request: Request): Promise<Response> => {
    const { pathname } = new URL(request.url);
    if (pathname === '/me') return me(request);
    if (pathname === '/write') return write(request);
    if (pathname === '/public') {
      const auth = await authenticateRequest(verifier, request, { optional: true });
      if (!auth.ok) return auth.response;
      return Response.json({ subject: auth.identity?.subject ?? null });
    }
    return new Response(null, { status: 404 });
  };
}

middlewareContract(
  'Fetch handler (WebCrypto verifier)',
  async (verifier) => serveFetch(handler(verifier)),
  createVerifier,
);
