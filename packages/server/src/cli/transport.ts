/**
 * How the CLI speaks HTTP(S) to Gatehouse: Node's `fetch`, or with `--cacert` undici's (loaded only
 * then: it costs a CLI start ~0.15 s), so that one command can have its own trust store; and errors that say what went wrong. A TLS failure is not
 * "cannot reach": the server answered, and its certificate was refused — the message names the
 * reason (not trusted, issued for another name, expired, plain HTTP on an https:// URL) and what
 * to do about it (`--cacert FILE`, `NODE_EXTRA_CA_CERTS`, the right host name).
 */
import { readFileSync } from 'node:fs';
import { CliError, EXIT } from './exit-codes.js';

export interface TransportOptions {
  /** What is being reached, for the message ("the admin API"); default: the URL's origin. */
  readonly what?: string | undefined;
  /** A PEM file of CA certificates to trust, in place of the system's, for this command. */
  readonly cacert?: string | undefined;
}

/** Certificates nobody the client trusts vouches for: a self-signed one, or a private CA's. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

/** The innermost `code` and message of an error and its causes (fetch wraps the socket's). */
function rootCause(error: unknown): { code: string | undefined; message: string } {
  let current = error as { code?: string; message?: string; cause?: unknown } | undefined;
  let found: { code: string | undefined; message: string } = { code: undefined, message: String(error) };
  while (current && typeof current === 'object') {
    if (current.code) found = { code: current.code, message: current.message ?? '' };
    current = current.cause as typeof current;
  }
  if (found.code === undefined) found = { code: (error as Error).name, message: (error as Error).message };
  return found;
}

/** A CliError for a request that got no HTTP answer, saying why. */
export function transportError(error: unknown, url: string, options: TransportOptions): CliError {
  const { code, message } = rootCause(error);
  const origin = new URL(url).origin;
  const trust = options.cacert
    ? `the CA in ${options.cacert} did not sign it`
    : 'pass the CA (for a self-signed certificate, the certificate itself) with --cacert FILE, or set NODE_EXTRA_CA_CERTS=FILE';
  if (code !== undefined && UNTRUSTED.has(code)) {
    return new CliError(`TLS: the certificate of ${origin} is not trusted (${code}); ${trust}`, EXIT.unreachable);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // Node's message names the host asked for and the names the certificate holds.
    return new CliError(
      `TLS: the certificate of ${origin} is not issued for this host (${message}); use a host name the certificate lists, or reissue it with that name in subjectAltName`,
      EXIT.unreachable,
    );
  }
  if (code !== undefined && EXPIRED.has(code)) {
    return new CliError(`TLS: the certificate of ${origin} is not valid now (${code}); renew it`, EXIT.unreachable);
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return new CliError(
      `TLS: ${origin} does not speak HTTPS (${code}); use an http:// URL, or configure tls.cert/tls.key on the server`,
      EXIT.unreachable,
    );
  }
  if (code?.startsWith('ERR_SSL_') || code?.startsWith('ERR_TLS_') || code === 'EPROTO') {
    return new CliError(`TLS: the connection to ${origin} failed (${code}: ${message})`, EXIT.unreachable);
  }
  if (code === 'UND_ERR_SOCKET' && url.startsWith('http:')) {
    // An HTTPS listener asked in plain HTTP closes the connection without an answer.
    return new CliError(
      `${origin} closed the connection without answering; if it serves HTTPS, use an https:// URL`,
      EXIT.unreachable,
    );
  }
  const what = options.what ? `${options.what} at ${origin}` : origin;
  return new CliError(`cannot reach ${what} (${code}); is \`gatehouse serve\` running?`, EXIT.unreachable);
}

/** The CA certificates of `--cacert`, read once; a file that cannot be read is a usage error. */
function readCa(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(
      `--cacert: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      EXIT.usage,
    );
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CliError(`--cacert: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, EXIT.usage);
  }
  return text;
}

export interface Transport {
  /** `fetch`; a failure without an HTTP answer becomes a CliError that says why. */
  request(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Response>;
}

export function createTransport(options: TransportOptions): Transport {
  // Without --cacert: Node's fetch, with the system's trust store plus NODE_EXTRA_CA_CERTS.
  const ca = options.cacert ? readCa(options.cacert) : undefined;
  let withCa: Promise<(url: string, init: RequestInit) => Promise<Response>> | undefined;
  const send = (url: string, init: RequestInit): Promise<Response> => {
    if (ca === undefined) return fetch(url, init);
    withCa ??= import('undici').then(({ Agent, fetch: undiciFetch }) => {
      const dispatcher = new Agent({ connect: { ca } });
      return (target: string, given: RequestInit) =>
        undiciFetch(target, { ...(given as object), dispatcher }) as unknown as Promise<Response>;
    });
    return withCa.then((fetchWithCa) => fetchWithCa(url, init));
  };
  return {
    async request(url, init) {
      try {
        return await send(url, { ...init, signal: AbortSignal.timeout(15_000) });
      } catch (error) {
        throw transportError(error, url, options);
      }
    },
  };
}
