/** The GatehouseAuthError a promise rejects with; fails the test when it resolves (an allow) or throws anything else. */
import { GatehouseAuthError } from '../../src/index.js';

export async function refusal(promise: Promise<unknown>): Promise<GatehouseAuthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatehouseAuthError) return error;
    throw error;
  }
  throw new Error('expected a refusal, but the credential was accepted');
}
