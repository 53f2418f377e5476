/**
 * Fetches a JSON document from the issuer with every bound a verifier needs to fail closed and
 * fast: a deadline covering connect, headers and body (AbortSignal), a body size cap enforced
 * while streaming (a 10 MB answer is cut at the cap, not buffered), no redirects (keys come only
 * from the configured URL, docs/security.md #3), a JSON media type (an HTML error page is named as
 * such), and strict UTF-8 (RFC 8259 §8.1). Runtime-neutral: `fetch`, streams and TextDecoder only.
 */
import { RemoteDocumentError } from '../errors.js';

export interface FetchJsonOptions {
  /** What is fetched, for error messages: `JWKS`, `issuer metadata`, `token endpoint`. */
  readonly what: string;
  readonly fetch: typeof globalThis.fetch;
  /** Deadline for the whole exchange, body included. */
  readonly timeoutMs: number;
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Statuses whose body is read as JSON (default: 200 only); any other is an error. */
  readonly acceptStatus?: (status: number) => boolean;
  /** The caller's signal, combined with the deadline. */
  readonly signal?: AbortSignal | undefined;
}

export interface JsonDocument {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

const okOnly = (status: number) => status === 200;

/**
 * GETs (or POSTs) `url` and parses its JSON body, or throws a {@link RemoteDocumentError} whose
 * `code` says what went wrong (`ERR_REMOTE_TIMEOUT`, `ERR_REMOTE_UNREACHABLE`,
 * `ERR_REMOTE_REDIRECT`, `ERR_REMOTE_STATUS`, `ERR_REMOTE_CONTENT_TYPE`, `ERR_REMOTE_TOO_LARGE`,
 * `ERR_REMOTE_INVALID_JSON`).
 */
export async function fetchJson(url: string, options: FetchJsonOptions): Promise<JsonDocument> {
  const exchange = await openExchange(url, options);
  if (!(options.acceptStatus ?? okOnly)(exchange.response.status)) {
    exchange.discard();
    throw exchange.fail(
      'ERR_REMOTE_STATUS',
      `answered HTTP ${exchange.response.status}`,
      undefined,
      exchange.response.status,
    );
  }
  return { status: exchange.response.status, headers: exchange.response.headers, body: await exchange.readJson() };
}

/** An answer whose status is known and whose body is not read yet. */
export interface Exchange {
  readonly response: Response;
  /** Reads the body as JSON under every bound (media type, size, UTF-8, deadline). */
  readJson(): Promise<unknown>;
  /** Drops the body (frees the connection). */
  discard(): void;
  fail(code: string, message: string, cause?: unknown, status?: number): RemoteDocumentError;
}

/**
 * Sends the request and returns once the status and headers are in, the deadline still running
 * for the body. Redirects are refused here.
 */
export async function openExchange(url: string, options: Omit<FetchJsonOptions, 'acceptStatus'>): Promise<Exchange> {
  const { what } = options;
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const fail = (code: string, message: string, cause?: unknown, status?: number) =>
    new RemoteDocumentError(code, url, `${what} at ${url}: ${message}`, { cause, status });
  const failFromAbort = (error: unknown) => {
    if (deadline.aborted) return fail('ERR_REMOTE_TIMEOUT', `no complete answer within ${options.timeoutMs} ms`, error);
    if (options.signal?.aborted) return fail('ERR_REMOTE_ABORTED', 'the request was aborted', error);
    return undefined;
  };

  let response: Response;
  try {
    response = await options.fetch(url, {
      method: options.method ?? 'GET',
      headers: { accept: 'application/json', ...options.headers },
      ...(options.body === undefined ? {} : { body: options.body }),
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    throw failFromAbort(error) ?? fail('ERR_REMOTE_UNREACHABLE', `unreachable (${describeCause(error)})`, error);
  }
  const discard = () => {
    response.body?.cancel().catch(() => {});
  };
  if (response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400)) {
    discard();
    const location = response.headers.get('location');
    throw fail('ERR_REMOTE_REDIRECT', `redirects${location ? ` to ${location}` : ''}; configure the final URL`);
  }

  const readJson = async (): Promise<unknown> => {
    const mediaType = (response.headers.get('content-type') ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
    if (!isJsonMediaType(mediaType)) {
      discard();
      const shown = mediaType === '' ? 'no content type' : mediaType;
      const html = mediaType === 'text/html' || mediaType === 'application/xhtml+xml' ? 'an HTML page' : 'not JSON';
      throw fail('ERR_REMOTE_CONTENT_TYPE', `answered ${html} (${shown}), expected JSON`, undefined, response.status);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > options.maxBytes) {
      discard();
      throw fail('ERR_REMOTE_TOO_LARGE', `answer of ${declared} bytes exceeds the ${options.maxBytes}-byte limit`);
    }
    let bytes: Uint8Array;
    try {
      bytes = await readCapped(response, options.maxBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        throw fail('ERR_REMOTE_TOO_LARGE', `answer exceeds the ${options.maxBytes}-byte limit`);
      }
      throw (
        failFromAbort(error) ?? fail('ERR_REMOTE_UNREACHABLE', `failed mid-answer (${describeCause(error)})`, error)
      );
    }
    try {
      // RFC 8259 §8.1: JSON exchanged between systems MUST be UTF-8; a bad byte is an error, not U+FFFD.
      return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
    } catch (error) {
      throw fail('ERR_REMOTE_INVALID_JSON', 'answered something that is not valid UTF-8 JSON', error);
    }
  };
  return { response, readJson, discard, fail };
}

/** `application/json` and structured-syntax `+json` types (RFC 6838 §4.2.8): `jwk-set+json`… */
function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'));
}

class BodyTooLarge extends Error {}

/** Reads the body, cancelling the stream as soon as it passes `maxBytes`. */
async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** A short reason from a fetch failure (undici hides the socket error in `cause`). */
export function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}
