/** Helpers shared by the OAuth black-box tests: register clients, call the token endpoint. */
import { expect } from 'vitest';
import type { TestServer } from '../support/server.js';

export interface RegisteredClient {
  readonly id: string;
  readonly secret: string;
  readonly body: Record<string, any>;
}

export async function registerClient(server: TestServer, body: Record<string, unknown>): Promise<RegisteredClient> {
  const created = await server.admin('POST', '/admin/v1/clients', body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return { id: created.body.client_id, secret: created.body.client_secret, body: created.body };
}

export const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

export interface FormResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** POSTs a form (given as text, so tests control the exact bytes) to an OAuth endpoint. */
export async function postForm(
  url: string,
  form: string | Record<string, string>,
  headers: Record<string, string> = {},
): Promise<FormResponse> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Decodes a JWT's claims without verifying (tests only). */
export const claimsOf = (jwt: string): Record<string, any> =>
  JSON.parse(Buffer.from(jwt.split('.')[1] as string, 'base64url').toString('utf8'));

export function expectOAuthError(response: FormResponse, status: number, error: string): void {
  expect(response.status, JSON.stringify(response.body)).toBe(status);
  expect(response.body).toEqual({ error, error_description: expect.any(String) });
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
}
