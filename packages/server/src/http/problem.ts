/**
 * RFC 9457 problem details, and the registry of every problem type Gatehouse answers outside the
 * OAuth endpoints (which answer RFC 6749 §5.2 bodies). A test checks that every code here is
 * documented in docs/errors.md.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isStoreUnavailable } from '../store/errors.js';

export const PROBLEM_TYPES = {
  'invalid-request': { status: 400, title: 'The request is malformed' },
  'validation-failed': { status: 400, title: 'A field of the request is invalid' },
  'duplicate-header': { status: 400, title: 'A header that must appear once appears several times' },
  unauthorized: { status: 401, title: 'Authentication is required' },
  'invalid-credentials': { status: 401, title: 'The username or password is wrong' },
  'https-required': { status: 401, title: 'Secrets are only accepted over HTTPS' },
  'invalid-refresh-token': { status: 400, title: 'The refresh token is invalid, expired or revoked' },
  forbidden: { status: 403, title: 'The credential does not allow this' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'The request did not arrive in time' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body has an unsupported media type' },
  'no-route': { status: 404, title: 'No route covers this request' },
  'rate-limited': { status: 429, title: 'Too many requests' },
  'request-header-too-large': { status: 431, title: 'The request headers are too large' },
  internal: { status: 500, title: 'Internal error' },
  'bad-gateway': { status: 502, title: 'The upstream service failed' },
  'store-unavailable': { status: 503, title: 'The store is unavailable' },
  'shutting-down': { status: 503, title: 'The server is shutting down' },
  'gateway-timeout': { status: 504, title: 'The upstream service did not answer in time' },
} as const;

export type ProblemCode = keyof typeof PROBLEM_TYPES;

export const problemType = (code: ProblemCode): string => `urn:gatehouse:problem:${code}`;

export interface FieldProblem {
  /** The field, as a JSON pointer-ish dotted path (`scopes`, `metadata.team`). */
  readonly field: string;
  readonly message: string;
}

/** Throw from a handler to answer a problem; anything else thrown becomes a generic 500. */
export class ProblemError extends Error {
  readonly status: number;
  constructor(
    readonly problem: ProblemCode,
    readonly detail: string,
    readonly extra: {
      readonly errors?: readonly FieldProblem[];
      readonly headers?: Readonly<Record<string, string>>;
      readonly status?: number;
    } = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.status = extra.status ?? PROBLEM_TYPES[problem].status;
  }
}

/** A 400 naming the field that is wrong. */
export const fieldProblem = (field: string, message: string): ProblemError =>
  new ProblemError('validation-failed', `${field}: ${message}`, { errors: [{ field, message }] });

export function sendProblem(
  reply: FastifyReply,
  problem: ProblemCode,
  detail: string,
  extra: { errors?: readonly FieldProblem[]; status?: number; headers?: Readonly<Record<string, string>> } = {},
): FastifyReply {
  const status = extra.status ?? PROBLEM_TYPES[problem].status;
  if (extra.headers) reply.headers(extra.headers);
  return reply
    .code(status)
    .type('application/problem+json')
    .send(problemBody(problem, detail, { url: reply.request.url, requestId: reply.request.id, ...extra }));
}

/** The RFC 9457 body of a problem, for the rare callers that write a response without a reply. */
export function problemBody(
  problem: ProblemCode,
  detail: string,
  context: { url: string; requestId: string; status?: number; errors?: readonly FieldProblem[] },
): Record<string, unknown> {
  return {
    type: problemType(problem),
    title: PROBLEM_TYPES[problem].title,
    status: context.status ?? PROBLEM_TYPES[problem].status,
    detail,
    instance: context.url.split('?')[0],
    request_id: context.requestId,
    ...(context.errors ? { errors: context.errors } : {}),
  };
}

/** Maps Fastify's own client-error codes onto our problem types. */
const FASTIFY_CODES: Record<string, ProblemCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid-request',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid-request',
};

/** Converts Fastify/ajv validation errors into field problems that name the field. */
export function validationProblems(error: FastifyError): FieldProblem[] {
  return (error.validation ?? []).map((item) => {
    const params = item.params as Record<string, unknown>;
    const base = item.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const child = (params.missingProperty as string | undefined) ?? (params.additionalProperty as string | undefined);
    const field = [base, child].filter(Boolean).join('.') || (error.validationContext ?? 'body');
    const message = params.additionalProperty ? 'is not a known field' : (item.message ?? 'is invalid');
    return { field, message };
  });
}

/**
 * The error handler every surface installs (the OAuth surface wraps it to answer RFC 6749 bodies).
 * Stack traces and internal messages never reach the client; they go to the log.
 */
export function problemErrorHandler(
  error: FastifyError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof ProblemError) {
    return sendProblem(reply, error.problem, error.detail, {
      status: error.status,
      ...(error.extra.errors ? { errors: error.extra.errors } : {}),
      ...(error.extra.headers ? { headers: error.extra.headers } : {}),
    });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const errors = validationProblems(fastifyError);
    const detail = errors.map((item) => `${item.field}: ${item.message}`).join('; ');
    return sendProblem(reply, 'validation-failed', detail, { errors });
  }
  if (isStoreUnavailable(error)) {
    request.log.warn(
      { err: { message: error.message, code: (error as { code?: unknown }).code } },
      'store unavailable',
    );
    return sendProblem(reply, 'store-unavailable', 'The store is unreachable; try again shortly', {
      headers: { 'retry-after': '5' },
    });
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = FASTIFY_CODES[fastifyError.code] ?? (status === 413 ? 'payload-too-large' : 'invalid-request');
    const detail =
      code === 'payload-too-large'
        ? `The request body is larger than ${request.routeOptions.bodyLimit} bytes, the limit of this endpoint`
        : fastifyError.message;
    return sendProblem(reply, code, detail, { status });
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, 'internal', 'An internal error occurred; it has been logged');
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, 'not-found', `No route for ${request.method} ${request.url.split('?')[0]}`);
}
