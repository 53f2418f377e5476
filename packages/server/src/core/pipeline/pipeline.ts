/**
 * Runs the enabled authenticators in order and decides. The rules, in order:
 * 1. the first authenticator that recognises a credential decides authentication: an invalid
 *    credential is rejected even when a later mechanism would accept another one (a client that
 *    sends a bad key learns so instead of being silently treated as someone else);
 * 2. no credential at all is a 401 with one challenge per accepted mechanism and no error code
 *    (RFC 6750 §3.1: "the resource server SHOULD NOT include an error code" when the request
 *    lacks any authentication information);
 * 3. an authenticated caller without every required scope is a 403 `insufficient_scope`
 *    (RFC 6750 §3.1).
 * Exceptions (infrastructure failures) propagate: the caller answers 503, never 2xx.
 * The decision is synchronous when every authenticator that runs answers synchronously (a key
 * found in memory), so the hot path makes no promises; callers `await` it either way.
 */
import type { AccessPolicy, Authenticator, AuthOutcome, AuthRequest, Decision, Identity } from './types.js';

export interface Pipeline {
  /** The enabled authenticators, in order. */
  readonly authenticators: readonly Authenticator[];
  /** Headers besides `Authorization` that carry a credential of an enabled mechanism. */
  readonly credentialHeaders: readonly string[];
  /** Synchronous when every authenticator that runs answers synchronously; throws or rejects only for infrastructure failures. */
  decide(request: AuthRequest, policy?: AccessPolicy): Decision | Promise<Decision>;
}

export function createPipeline(authenticators: readonly Authenticator[]): Pipeline {
  const byName = new Map(authenticators.map((authenticator) => [authenticator.name, authenticator]));

  function select(policy: AccessPolicy | undefined): readonly Authenticator[] {
    if (!policy?.methods) return authenticators;
    const selected: Authenticator[] = [];
    for (const name of policy.methods) {
      const authenticator = byName.get(name);
      if (authenticator) selected.push(authenticator);
    }
    return selected;
  }

  /** The decision once an authenticator recognised a credential, or undefined to try the next. */
  function conclude(authenticator: Authenticator, outcome: AuthOutcome, policy: AccessPolicy | undefined) {
    if (outcome.kind === 'absent') return undefined;
    if (outcome.kind === 'rejected') {
      const { rejection } = outcome;
      return {
        allow: false,
        denial: {
          ...rejection,
          method: authenticator.name,
          challenges:
            rejection.status === 401
              ? [authenticator.challenge({ error: rejection.error, description: rejection.description })]
              : [],
        },
      } satisfies Decision;
    }
    const missing = missingScopes(outcome.identity, policy?.scopes);
    if (missing.length > 0) {
      return {
        allow: false,
        denial: {
          status: 403,
          error: 'insufficient_scope',
          description: `The credential lacks the required scope: ${missing.join(' ')}`,
          reason: 'insufficient_scope',
          // RFC 6750 §3: the scope attribute names the scopes needed.
          challenges: [`Bearer error="insufficient_scope", scope="${(policy?.scopes ?? []).join(' ')}"`],
          method: authenticator.name,
          identity: outcome.identity,
        },
      } satisfies Decision;
    }
    return (
      outcome.headers
        ? { allow: true, identity: outcome.identity, headers: outcome.headers }
        : { allow: true, identity: outcome.identity }
    ) satisfies Decision;
  }

  function nobody(candidates: readonly Authenticator[]): Decision {
    return {
      allow: false,
      denial: {
        status: 401,
        error: 'unauthorized',
        description:
          candidates.length === 0
            ? 'No authentication mechanism is enabled for this request'
            : 'No credentials were presented',
        reason: candidates.length === 0 ? 'no_mechanism' : 'no_credentials',
        challenges: candidates.map((authenticator) => authenticator.challenge()),
      },
    };
  }

  /**
   * Tries the candidates from `start` on. Stays synchronous while the authenticators answer
   * synchronously (a cached API key): no promise is made on the hot path.
   */
  function decideFrom(
    candidates: readonly Authenticator[],
    start: number,
    request: AuthRequest,
    policy: AccessPolicy | undefined,
  ): Decision | Promise<Decision> {
    for (let i = start; i < candidates.length; i++) {
      const authenticator = candidates[i] as Authenticator;
      const outcome = authenticator.authenticate(request, policy);
      if (outcome instanceof Promise) {
        return outcome.then(
          (settled) => conclude(authenticator, settled, policy) ?? decideFrom(candidates, i + 1, request, policy),
        );
      }
      const decision = conclude(authenticator, outcome, policy);
      if (decision) return decision;
    }
    return nobody(candidates);
  }

  return {
    authenticators,
    credentialHeaders: [...new Set(authenticators.flatMap((authenticator) => authenticator.headers ?? []))],
    decide: (request, policy) => decideFrom(select(policy), 0, request, policy),
  };
}

function missingScopes(identity: Identity, required: readonly string[] | undefined): string[] {
  if (!required || required.length === 0) return [];
  return required.filter((scope) => !identity.scopes.includes(scope));
}

/** Parses a space-delimited scope string (RFC 6749 §3.3) into a list without duplicates. */
export function parseScopeList(value: string | undefined): string[] {
  if (!value) return [];
  return [...new Set(value.split(' ').filter((scope) => scope.length > 0))];
}
