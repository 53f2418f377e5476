/**
 * The certificate and key for HTTPS on the public (and gateway) listeners, from `tls.cert` /
 * `tls.key`: each a file path, or the PEM itself (as `GATEHOUSE_TLS_KEY_FILE` delivers it).
 * They are checked together before listening, so a wrong path, a key that does not match the
 * certificate or a file that is not PEM stops the start with one clear line each.
 */
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../config/load.js';
import type { GatehouseConfig } from '../config/types.js';

export interface TlsCredentials {
  readonly cert: Buffer;
  readonly key: Buffer;
}

function readPem(option: string, source: string, problems: string[]): Buffer | undefined {
  if (source.trimStart().startsWith('-----BEGIN ')) return Buffer.from(source, 'utf8');
  try {
    return readFileSync(source);
  } catch (error) {
    problems.push(`${option}: cannot read ${source} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
}

/** Null when TLS is not configured; throws `ConfigError` when it is and cannot be used. */
export function loadTlsCredentials(config: Pick<GatehouseConfig, 'tls'>): TlsCredentials | null {
  const { cert: certSource, key: keySource } = config.tls;
  if (certSource === undefined || keySource === undefined) return null;
  const problems: string[] = [];
  const cert = readPem('tls.cert', certSource, problems);
  const key = readPem('tls.key', keySource, problems);
  if (!cert || !key) throw new ConfigError(problems);
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    // OpenSSL's reason (e.g. "key values mismatch"), never the key material.
    const reason = (error as Error).message.split('\n')[0];
    throw new ConfigError([`tls.cert/tls.key: cannot be used together (${reason})`]);
  }
  return { cert, key };
}
