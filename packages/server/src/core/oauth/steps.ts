/**
 * Long flows as ordered lists of small named steps (the node-oidc-provider shape): each step reads
 * and fills a per-request context, and answers an `OAuthError` to stop the flow with that error.
 */
import type { OAuthError } from './errors.js';

export type Step<C> = (context: C) => Promise<OAuthError | undefined> | OAuthError | undefined;

/** Runs the steps in order; the first error ends the run and is answered. */
export async function runSteps<C>(context: C, steps: readonly Step<C>[]): Promise<OAuthError | undefined> {
  for (const step of steps) {
    const error = await step(context);
    if (error) return error;
  }
  return undefined;
}
