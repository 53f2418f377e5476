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
 * 4. the verification failure budget (../throttle/failure-budget.ts), for budgeted mechanisms
 *    (API keys, bearer tokens): each failed verification (401) is charged to the client, a
 *    verification that leaves memory is charged when it starts and refunded when the credential
 *    turns out good; a client that has spent its budget is answered from memory only until its
 *    window ends — a credential memory knows to be good still passes (never locking out a key
 *    that verifies), anything else is a 429 `too_many_attempts` with `Retry-After`, decided
 *    without a store lookup. Guessing a 128-bit key is hopeless either way; what the budget
 *    bounds is what an enumeration costs the store (issue 15 finding 4).
 * Exceptions (infrastructure failures) propagate: the caller answers 503, never 2xx.
 * The decision is synchronous when every authenticator that runs answers synchronously (a key
 * found in memory), so the hot path makes no promises; callers `await` it either way.
 */
import { type Clock, systemClock } from '../audit/audit.js';
import type { FailureBudget } from '../throttle/failure-budget.js';
import type {
  AccessPolicy,
  AuthenticateOptions,
  Authenticator,
  AuthOutcome,
  AuthRequest,
  Decision,
  Identity,
} from './types.js';

export interface Pipeline {
  /** The enabled authenticators, in order. */
  readonly authenticators: readonly Authenticator[];
  /** Headers besides `Authorization` that carry a credential of an enabled mechanism. */
  readonly credentialHeaders: readonly string[];
  /** Synchronous when every authenticator that runs answers synchronously; throws or rejects only for infrastructure failures. */
  decide(request: AuthRequest, policy?: AccessPolicy): Decision | Promise<Decision>;
}

export interface PipelineOptions {
  /** Failed verifications of budgeted mechanisms per client; null or absent: no budget. */
  readonly budget?: FailureBudget | null;
  readonly clock?: Clock;
}

const MEMORY_ONLY: AuthenticateOptions = Object.freeze({ memoryOnly: true });

/** A failed verification: a credential was checked and refused (not a 400, not a rate limit). */
const failed = (outcome: AuthOutcome): boolean => outcome.kind === 'rejected' && outcome.rejection.status === 401;

export function createPipeline(authenticators: readonly Authenticator[], options: PipelineOptions = {}): Pipeline {
  const budget = options.budget ?? null;
  const clock = options.clock ?? systemClock;
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
    if (outcome.kind === 'uncached') throw new Error(`${authenticator.name} answered uncached without memoryOnly`);
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

  /** RFC 6585 §4: 429 with Retry-After (RFC 9110 §10.2.3), for a client over its failure budget. */
  function overBudget(authenticator: Authenticator, heldMs: number): Decision {
    const seconds = Math.max(1, Math.ceil(heldMs / 1000));
    return {
      allow: false,
      denial: {
        status: 429,
        error: 'too_many_attempts',
        description: `Too many failed verifications from this client; retry after ${seconds} second${seconds === 1 ? '' : 's'}`,
        reason: 'verify_budget',
        method: authenticator.name,
        challenges: [],
        headers: { 'retry-after': String(seconds) },
      },
    };
  }

  /**
   * A budgeted mechanism's decision (rule 4), or undefined when it found no credential. `heldMs`
   * is how long the client is still held (0: not held).
   */
  function decideBudgeted(
    authenticator: Authenticator,
    request: AuthRequest,
    policy: AccessPolicy | undefined,
    spending: FailureBudget,
    now: number,
    heldMs: number,
  ): Decision | undefined | Promise<Decision | undefined> {
    if (heldMs > 0) {
      const judge = (outcome: AuthOutcome): Decision | undefined =>
        outcome.kind === 'absent' || outcome.kind === 'authenticated'
          ? conclude(authenticator, outcome, policy)
          : overBudget(authenticator, heldMs);
      const outcome = authenticator.authenticate(request, policy, MEMORY_ONLY);
      return outcome instanceof Promise ? outcome.then(judge) : judge(outcome);
    }
    const outcome = authenticator.authenticate(request, policy);
    if (outcome instanceof Promise) {
      // Charged before it settles, so that concurrent lookups cannot overrun the budget.
      const charge = spending.charge(request.clientIp, now);
      return outcome.then(
        (settled) => {
          if (!failed(settled)) spending.refund(charge);
          return conclude(authenticator, settled, policy);
        },
        (error: unknown) => {
          // The store failing is not the client's failure.
          spending.refund(charge);
          throw error;
        },
      );
    }
    if (failed(outcome)) spending.charge(request.clientIp, now);
    return conclude(authenticator, outcome, policy);
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
    now: number,
    heldMs: number,
  ): Decision | Promise<Decision> {
    for (let i = start; i < candidates.length; i++) {
      const authenticator = candidates[i] as Authenticator;
      if (budget !== null && authenticator.budgeted === true) {
        const decided = decideBudgeted(authenticator, request, policy, budget, now, heldMs);
        if (decided instanceof Promise) {
          return decided.then((settled) => settled ?? decideFrom(candidates, i + 1, request, policy, now, heldMs));
        }
        if (decided) return decided;
        continue;
      }
      const outcome = authenticator.authenticate(request, policy);
      if (outcome instanceof Promise) {
        return outcome.then(
          (settled) =>
            conclude(authenticator, settled, policy) ?? decideFrom(candidates, i + 1, request, policy, now, heldMs),
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
    decide(request, policy) {
      if (budget === null) return decideFrom(select(policy), 0, request, policy, 0, 0);
      const now = clock.now();
      return decideFrom(select(policy), 0, request, policy, now, budget.heldFor(request.clientIp, now));
    },
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
