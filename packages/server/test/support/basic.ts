/** Helpers for HTTP Basic tests. */
import type { TestServer } from './server.js';

/** `Basic base64(user:password)` (RFC 7617 §2). */
export const basicHeader = (username: string, password: string): string =>
  `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;

/** GET /auth/verify with the given headers; the body parsed when there is one. */
export async function verify(
  baseUrl: string,
  headers: Record<string, string> = {},
  path = '/auth/verify',
): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${baseUrl}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Creates a user through the admin API and answers its resource. */
export async function createUser(
  server: TestServer,
  body: { username: string; password: string; scopes?: string[]; disabled?: boolean; metadata?: object },
): Promise<any> {
  const created = await server.admin('POST', '/admin/v1/users', body);
  if (created.status !== 201) throw new Error(`creating ${body.username} failed: ${JSON.stringify(created.body)}`);
  return created.body;
}

export const BASIC_CHALLENGE = 'Basic realm="gatehouse", charset="UTF-8"';

/** A clock tests move by hand (kept here for the tests that import it from this module). */
export { manualClock } from './clock.js';
