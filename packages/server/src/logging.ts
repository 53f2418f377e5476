/**
 * The process logger (pino). JSON lines by default, pretty on a terminal. Secrets never reach a
 * log line (docs/security.md #34): credential headers and secret-named fields are redacted wherever
 * they appear, and request URLs are logged with sensitive query values masked.
 */
import pino, { type Logger } from 'pino';
import type { GatehouseConfig } from './config/types.js';
import { redactUrl } from './http/url-redaction.js';

/** Field names whose values are secrets wherever they appear (one level deep and at the top). */
const SECRET_FIELDS = [
  'password',
  'new_password',
  'secret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'code_verifier',
  'key',
  'api_key',
  'admin_key',
  'master_key',
  'authorization',
  'cookie',
];

const HEADER_PATHS = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', '"x-api-key"'].flatMap(
  (header) => [`req.headers.${header}`, `headers.${header}`, `res.headers.${header}`],
);

export const REDACT_PATHS = [...HEADER_PATHS, ...SECRET_FIELDS, ...SECRET_FIELDS.map((field) => `*.${field}`)];

/** A URL safe to log (one rule for every listener: http/url-redaction.ts). */
export { redactUrl } from './http/url-redaction.js';

export function createLogger(config: Pick<GatehouseConfig, 'log'>, destination?: pino.DestinationStream): Logger {
  const pretty = config.log.format === 'pretty' || (config.log.format === 'auto' && process.stdout.isTTY === true);
  const options: pino.LoggerOptions = {
    level: config.log.level,
    base: { service: 'gatehouse' },
    // `"level":"info"` and `"time":"2026-…Z"` rather than pino's 30 and epoch milliseconds: what
    // log pipelines (Loki, Elasticsearch, CloudWatch, jq) read without a mapping.
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string; id?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url ? redactUrl(req.url) : undefined,
        ip: req.ip,
      }),
      err: pino.stdSerializers.err,
    },
  };
  if (destination) return pino(options, destination);
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(options);
}
