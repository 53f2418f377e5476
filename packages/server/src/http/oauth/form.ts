/**
 * Reading OAuth request parameters. The OAuth endpoints take `application/x-www-form-urlencoded`
 * bodies only (RFC 6749 §3.2, §4.1.3; RFC 7662 §2.1; RFC 7009 §2.1): the surface keeps each body
 * as raw text, and parameters are parsed here so that a repeated parameter can be seen and
 * refused (RFC 6749 §3.1) before any parser merges or drops it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequest, type OAuthError } from '../../core/oauth/errors.js';
import { type OAuthParams, type ParsedParams, parseOAuthParams } from '../../core/oauth/params.js';

const FORM = 'application/x-www-form-urlencoded';

/** Marks a body of any other media type: the handler answers `invalid_request`, not 415. */
const UNSUPPORTED = Symbol('unsupported body');

/** Installs the surface's body parsers: form bodies as raw text, anything else flagged. */
export function installFormParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, _body, done) => done(null, UNSUPPORTED));
}

export type FormRead = { ok: true; params: OAuthParams } | { ok: false; error: OAuthError };

export function readForm(request: FastifyRequest): FormRead {
  const body = request.body;
  if (typeof body !== 'string') {
    const type = request.headers['content-type']?.split(';')[0]?.trim() || 'none';
    return {
      ok: false,
      error: new InvalidRequest(`The body must be ${FORM} (RFC 6749 §3.2), not ${type}`),
    };
  }
  return parseText(body);
}

/** Parameters of the query string (the authorization endpoint, RFC 6749 §4.1.1); duplicates reported, not refused. */
export function readQuery(request: FastifyRequest): ParsedParams {
  const index = request.url.indexOf('?');
  return parseOAuthParams(index === -1 ? '' : request.url.slice(index + 1));
}

function parseText(text: string): FormRead {
  const parsed = parseOAuthParams(text);
  if (parsed.duplicate !== undefined) return { ok: false, error: duplicateParameter(parsed.duplicate) };
  return { ok: true, params: parsed.params };
}

export const duplicateParameter = (name: string): InvalidRequest =>
  new InvalidRequest(`The ${name} parameter appears more than once (RFC 6749 §3.1)`);
