/**
 * The secret scan of the suite's server logs (test/support/secret-scan.ts) can fail: a log that
 * holds a credential the suite recorded is reported, by file and kind, without the credential.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/databases.js';
import { describeFindings, findSecrets, scanRun } from '../support/secret-scan.js';

const KEY = 'gk_live_4Xw9aQ2LmN7pR3sT8uV1wY5zB6cD0eF2gH4iJ6kL8mN0pQ2rS';
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const PASSWORD = 'correct horse battery staple';
const secrets = new Map([
  [KEY, 'api_key'],
  [JWT, 'access_token'],
  [PASSWORD, 'password'],
]);
const kinds = (text: string) => findSecrets(text, secrets).map((found) => found.kind);

describe('secret scan', () => {
  it('finds a recorded credential wherever a log line may put it', () => {
    expect(kinds(`{"level":30,"msg":"issued","key":"${KEY}"}`)).toEqual(['api_key']);
    expect(kinds(`{"url":"/v?api_key=${KEY}&x=1"}`)).toEqual(['api_key']);
    expect(kinds(`{"msg":"authorization: Bearer%20${JWT}"}`)).toEqual(['access_token']);
    expect(kinds(`{"msg":"token was ${JWT}."}`)).toEqual(['access_token']);
    expect(kinds(`{"msg":"login with ${PASSWORD} failed"}`)).toEqual(['password']);
  });

  it('does not flag what only resembles a credential: a prefix, a longer token, a redaction', () => {
    expect(kinds(`{"key_prefix":"${KEY.slice(0, 12)}","msg":"[REDACTED]"}`)).toEqual([]);
    expect(kinds(`{"id":"${KEY}x"}`)).toEqual([]);
    expect(kinds(`{"jti":"${JWT.split('.')[1]}"}`)).toEqual([]);
  });

  it('fails a run whose log holds a secret, naming the file and the kind but never the secret', () => {
    const dir = tempDir();
    try {
      mkdirSync(path.join(dir.path, 'logs'));
      writeFileSync(path.join(dir.path, 'secrets-1.jsonl'), `${JSON.stringify({ kind: 'api_key', value: KEY })}\n`);
      writeFileSync(
        path.join(dir.path, 'secrets-2.jsonl'),
        `${JSON.stringify({ kind: 'client_secret', value: 'ghcs_notInAnyLog0123456789' })}\n`,
      );
      writeFileSync(path.join(dir.path, 'logs', 'clean.log'), '{"msg":"verified","key_id":"key_1"}\n');
      writeFileSync(path.join(dir.path, 'logs', 'leaky.log'), `{"msg":"verified","header":"${KEY}"}\n`);
      const { findings, files, secrets: count } = scanRun(dir.path);
      expect({ files, count }).toEqual({ files: 2, count: 2 });
      expect(findings).toEqual([
        { file: path.join(dir.path, 'logs', 'leaky.log'), kind: 'api_key', hint: `gk_l…(${KEY.length} chars)` },
      ]);
      const message = describeFindings(findings);
      expect(message).toContain('leaky.log');
      expect(message).toContain('api_key');
      expect(message).not.toContain(KEY.slice(0, 8));
    } finally {
      dir.remove();
    }
  });
});
