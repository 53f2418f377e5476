/**
 * The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) and its interaction pages.
 *
 * `GET|POST /oauth/authorize` validates the request (errors about the client or the redirect URI
 * are shown on a page, never redirected; docs/security.md #13), then either issues a code at once (the
 * user is logged in and has consented before) or stores the request as an *interaction* and sends
 * the browser to `/oauth/interaction/:id`, which shows the login form, then the consent form.
 * Forms carry a CSRF token and only work from the browser that started the interaction. Every
 * redirect after a POST is 303 (RFC 9700 §4.12, docs/security.md #22); responses carry `state` and
 * `iss` (RFC 9207). No CORS headers are ever sent here (docs/security.md #26).
 *
 * RFC 6749 §3.1: the authorization endpoint MUST require TLS; the login form carries a password.
 * Every route here follows the HTTPS rule of every secret (../connection.ts `mayCarrySecret`):
 * over plain HTTP it shows a 401 page `https_required` before anything is read or checked.
 */
import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditLog, Clock } from '../../core/audit/audit.js';
import type { AuthenticatedUser, AuthorizationFlow } from '../../core/oauth/authorization.js';
import { type AuthorizationRequest, validateAuthorizationRequest } from '../../core/oauth/authorization-request.js';
import {
  type Interaction,
  type InteractionStore,
  type SessionStore,
  sha256,
} from '../../core/oauth/authorization-store.js';
import type { ClientStore, OAuthClient } from '../../core/oauth/clients.js';
import { AccessDenied, type OAuthError } from '../../core/oauth/errors.js';
import type { ParsedParams } from '../../core/oauth/params.js';
import type { UserDirectory } from '../../core/oauth/ports.js';
import { randomBase64url } from '../../core/secrets/random.js';
import {
  HTTPS_REQUIRED,
  HTTPS_REQUIRED_DESCRIPTION,
  type SecretTransportPolicy,
} from '../../core/transport/secret-transport.js';
import { mayCarrySecret } from '../connection.js';
import { createCookieJar } from './cookies.js';
import { readForm, readQuery } from './form.js';
import { consentPage, errorPage, loginPage, STYLESHEET_PATH, sendPage } from './pages.js';

export interface AuthorizeRoutesOptions {
  readonly clients: ClientStore;
  readonly flow: AuthorizationFlow;
  readonly sessions: SessionStore;
  readonly interactions: InteractionStore;
  /** The user directory `/auth/login` uses too (the users feature). */
  readonly users: () => UserDirectory | undefined;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly secureCookies: boolean;
  readonly sessionTtlMs: number;
  /** How long a login/consent page stays usable. */
  readonly interactionTtlMs?: number;
  /** When plain HTTP may carry the password of the login form. */
  readonly transport: SecretTransportPolicy;
}

const STYLESHEET = readFileSync(new URL('../../../assets/oauth.css', import.meta.url), 'utf8');
const BROWSER_COOKIE_SECONDS = 365 * 86_400;

const sameSecret = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** The origin a redirect URI sends the browser to, for the page's `form-action` (custom schemes as `scheme:`). */
function formTarget(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : url.protocol;
}

export function registerAuthorizeRoutes(app: FastifyInstance, options: AuthorizeRoutesOptions): void {
  const { clients, flow, sessions, interactions, clock } = options;
  const cookies = createCookieJar(options.secureCookies);
  const interactionTtlMs = options.interactionTtlMs ?? 10 * 60_000;
  const nowIso = () => new Date(clock.now()).toISOString();

  const showError = (reply: FastifyReply, status: number, error: OAuthError | { error: string; description: string }) =>
    sendPage(
      reply,
      status,
      errorPage({ title: 'This request cannot be completed', message: error.description, code: error.error }),
    );

  // Each route's onRequest, before the body is read: a password sent in clear text is not parsed.
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    if (mayCarrySecret(request, options.transport)) return;
    options.audit.recordFailure({ method: 'oauth_authorize', reason: HTTPS_REQUIRED, ip: request.ip });
    return showError(reply.header('cache-control', 'no-store'), 401, {
      error: HTTPS_REQUIRED,
      description: HTTPS_REQUIRED_DESCRIPTION,
    });
  };

  const redirect = (reply: FastifyReply, location: string) =>
    reply.code(303).header('location', location).header('cache-control', 'no-store').send();

  async function currentUser(request: FastifyRequest): Promise<AuthenticatedUser | undefined> {
    const id = cookies.read(request, 'session');
    if (!id) return undefined;
    const session = await sessions.find(sha256(id), nowIso());
    return session ? { subject: session.subject, authTime: session.authTime } : undefined;
  }

  /** Moves an authorization request on: issue the code, or show the next page. */
  async function proceed(
    reply: FastifyReply,
    client: OAuthClient,
    request: AuthorizationRequest,
    user: AuthenticatedUser | undefined,
    interaction: { id: string; record: Interaction } | undefined,
    progress: { loggedInNow?: boolean; consentedNow?: boolean } = {},
  ): Promise<FastifyReply> {
    const next = await flow.next(client, request, user, progress);
    if (next.kind === 'error')
      return redirect(reply, flow.errorRedirect(request.redirectUri, request.state, next.error));
    if (next.kind === 'complete') {
      // Completing an interaction is single-use: a replayed consent POST finds it gone.
      if (interaction && !(await interactions.delete(interaction.record.idHash))) {
        return showError(reply, 400, { error: 'invalid_request', description: 'This sign-in was already completed' });
      }
      return redirect(reply, await flow.issueCode(client, request, next.user));
    }
    if (interaction) return redirect(reply, `/oauth/interaction/${interaction.id}`);
    // Start an interaction bound to this browser.
    const id = randomBase64url(32);
    let browser = cookies.read(reply.request, 'browser');
    if (!browser) {
      browser = randomBase64url(32);
      cookies.set(reply, 'browser', browser, BROWSER_COOKIE_SECONDS);
    }
    const keepUser = user !== undefined && next.kind === 'consent';
    await interactions.create({
      idHash: sha256(id),
      browserHash: sha256(browser),
      csrfToken: randomBase64url(32),
      request: request as unknown as Record<string, unknown>,
      subject: keepUser ? user.subject : null,
      authTime: keepUser ? user.authTime : null,
      createdAt: nowIso(),
      expiresAt: new Date(clock.now() + interactionTtlMs).toISOString(),
    });
    return redirect(reply, `/oauth/interaction/${id}`);
  }

  async function authorize(request: FastifyRequest, reply: FastifyReply, parsed: ParsedParams) {
    const validation = await validateAuthorizationRequest(clients, parsed.params, parsed.duplicate);
    if (validation.kind === 'show') {
      options.audit.recordFailure({ method: 'oauth_authorize', reason: validation.error.error, ip: request.ip });
      return showError(reply, 400, validation.error);
    }
    if (validation.kind === 'redirect') {
      return redirect(reply, flow.errorRedirect(validation.redirectUri, validation.state, validation.error));
    }
    return proceed(reply, validation.client, validation.request, await currentUser(request), undefined);
  }

  app.get('/oauth/authorize', { onRequest }, async (request, reply) => authorize(request, reply, readQuery(request)));
  // OIDC Core §3.1.2.1: the authorization endpoint accepts POST (form) as well as GET.
  app.post('/oauth/authorize', { onRequest }, async (request, reply) => {
    const form = readForm(request);
    if (!form.ok) return showError(reply, 400, form.error);
    return authorize(request, reply, { params: form.params, duplicate: undefined });
  });

  /** Loads the interaction named in the path, checking that this browser started it. */
  async function loadInteraction(request: FastifyRequest, reply: FastifyReply) {
    const { id } = request.params as { id: string };
    const fail = () => {
      showError(reply, 400, {
        error: 'invalid_request',
        description:
          'This sign-in page has expired or was opened in another browser. Start again from the application.',
      });
      return undefined;
    };
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return fail();
    const record = await interactions.find(sha256(id), nowIso());
    const browser = cookies.read(request, 'browser');
    if (!record || !browser || !sameSecret(sha256(browser), record.browserHash)) return fail();
    const authorizationRequest = record.request as unknown as AuthorizationRequest;
    const client = await clients.find(authorizationRequest.clientId);
    if (!client) return fail();
    return { id, record, client, authorizationRequest };
  }

  function checkCsrf(request: FastifyRequest, reply: FastifyReply, record: Interaction) {
    const form = readForm(request);
    const token = form.ok ? form.params.get('csrf_token') : undefined;
    if (!form.ok || token === undefined || !sameSecret(token, record.csrfToken)) {
      showError(reply, 403, {
        error: 'invalid_request',
        description: 'The form has expired; start again from the application.',
      });
      return undefined;
    }
    return form.params;
  }

  const targetsOf = (request: AuthorizationRequest) => [formTarget(request.redirectUri)];

  async function renderStep(
    reply: FastifyReply,
    loaded: NonNullable<Awaited<ReturnType<typeof loadInteraction>>>,
    status = 200,
    error?: string,
    username?: string,
  ) {
    const { id, record, client, authorizationRequest } = loaded;
    if (record.subject === null) {
      return sendPage(
        reply,
        status,
        loginPage({
          clientName: client.name,
          action: `/oauth/interaction/${id}/login`,
          csrf: record.csrfToken,
          error,
          username,
        }),
        targetsOf(authorizationRequest),
      );
    }
    const user = await options.users()?.findActiveUser(record.subject);
    return sendPage(
      reply,
      status,
      consentPage({
        clientName: client.name,
        username: user?.username ?? record.subject,
        scopes: authorizationRequest.scopes,
        action: `/oauth/interaction/${id}/consent`,
        csrf: record.csrfToken,
      }),
      targetsOf(authorizationRequest),
    );
  }

  app.get('/oauth/interaction/:id', { onRequest }, async (request, reply) => {
    const loaded = await loadInteraction(request, reply);
    if (!loaded) return reply;
    return renderStep(reply, loaded);
  });

  app.post('/oauth/interaction/:id/login', { onRequest }, async (request, reply) => {
    const loaded = await loadInteraction(request, reply);
    if (!loaded) return reply;
    const params = checkCsrf(request, reply, loaded.record);
    if (!params) return reply;
    const directory = options.users();
    if (!directory) {
      return showError(reply, 503, { error: 'temporarily_unavailable', description: 'No user store is configured' });
    }
    const username = params.get('username') ?? '';
    const password = params.get('password') ?? '';
    // The directory throttles and answers unknown user and wrong password alike (docs/security.md #32, #33).
    const check = await directory.verifyCredentials(username, password, { ip: request.ip });
    if (!check.ok) {
      options.audit.recordFailure({ method: 'oauth_login', reason: check.reason, ip: request.ip });
      const throttled = check.reason === 'throttled';
      if (throttled) reply.header('retry-after', String(check.retryAfterSeconds ?? 1));
      const message = throttled
        ? 'Too many attempts. Wait a moment and try again.'
        : 'The username or password is not correct.';
      return renderStep(reply, loaded, throttled ? 429 : 401, message, username);
    }
    const authTime = Math.floor(clock.now() / 1000);
    const sessionId = randomBase64url(32);
    await sessions.create({
      idHash: sha256(sessionId),
      subject: check.user.id,
      authTime,
      createdAt: nowIso(),
      expiresAt: new Date(clock.now() + options.sessionTtlMs).toISOString(),
    });
    cookies.set(reply, 'session', sessionId, Math.floor(options.sessionTtlMs / 1000));
    await interactions.setSubject(loaded.record.idHash, check.user.id, authTime);
    options.audit.record({ actor: check.user.id, action: 'oauth.login', target: loaded.client.id, ip: request.ip });
    return proceed(
      reply,
      loaded.client,
      loaded.authorizationRequest,
      { subject: check.user.id, authTime },
      { id: loaded.id, record: { ...loaded.record, subject: check.user.id, authTime } },
      { loggedInNow: true },
    );
  });

  app.post('/oauth/interaction/:id/consent', { onRequest }, async (request, reply) => {
    const loaded = await loadInteraction(request, reply);
    if (!loaded) return reply;
    const params = checkCsrf(request, reply, loaded.record);
    if (!params) return reply;
    const { record, client, authorizationRequest } = loaded;
    if (record.subject === null || record.authTime === null) return renderStep(reply, loaded);
    const user = { subject: record.subject, authTime: record.authTime };
    if (params.get('decision') !== 'allow') {
      await interactions.delete(record.idHash);
      options.audit.record({ actor: user.subject, action: 'oauth.consent.denied', target: client.id, ip: request.ip });
      return redirect(
        reply,
        flow.errorRedirect(
          authorizationRequest.redirectUri,
          authorizationRequest.state,
          new AccessDenied('The user denied the request'),
        ),
      );
    }
    await flow.rememberConsent(user.subject, client.id, authorizationRequest.scopes);
    options.audit.record({
      actor: user.subject,
      action: 'oauth.consent.granted',
      target: client.id,
      ip: request.ip,
      details: { scope: authorizationRequest.scopes.join(' ') },
    });
    return proceed(
      reply,
      client,
      authorizationRequest,
      user,
      { id: loaded.id, record },
      { loggedInNow: true, consentedNow: true },
    );
  });

  app.get(STYLESHEET_PATH, async (_request, reply) =>
    reply
      .header('cache-control', 'public, max-age=3600')
      .header('x-content-type-options', 'nosniff')
      .type('text/css; charset=utf-8')
      .send(STYLESHEET),
  );
}
