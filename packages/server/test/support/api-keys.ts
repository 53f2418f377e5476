/** Helpers for API key tests: issue a key through the admin API, present it to /auth/verify. */
import { expect } from 'vitest';
import type { TestServer } from './server.js';

export interface Issued {
  readonly id: string;
  readonly key: string;
  readonly body: any;
}

/** Creates a key through the admin API and checks that it was created. */
export async function issueKey(server: TestServer, body: Record<string, unknown> = {}): Promise<Issued> {
  const response = await server.admin('POST', '/admin/v1/api-keys', { name: 'test', ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return { id: response.body.id, key: response.body.key, body: response.body };
}

/** `GET /auth/verify` with the given headers (and query string). */
export function verify(server: TestServer, headers: Record<string, string>, query = ''): Promise<Response> {
  return fetch(`${server.publicUrl}/auth/verify${query}`, { headers });
}

/** `GET /auth/verify` with the key in `X-API-Key`; answers the status. */
export async function verifyStatus(server: TestServer, key: string, query = ''): Promise<number> {
  const response = await verify(server, { 'x-api-key': key }, query);
  await response.arrayBuffer();
  return response.status;
}

/** Store lookups made by the API key verifier so far (to prove that a request made none). */
export const storeLookups = (server: TestServer): number => server.running.services.apiKeys.stats().lookups;

/** The uniform body of every 401 for a bad key: no hint of which check failed. */
export const INVALID_KEY_BODY = { error: 'invalid_token', error_description: 'The API key is not valid' };
