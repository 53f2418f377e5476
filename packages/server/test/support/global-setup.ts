/**
 * Runs once before the suite: checks that PostgreSQL answers when GATEHOUSE_TEST_DATABASE_URL is
 * set (failing the run under CI=true, as .ci/run sets it), or says plainly that PostgreSQL-backed
 * cases are skipped. It also starts the secret scan of the run's server logs, which its teardown
 * performs (./secret-scan.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describeFindings, RUN_DIR_VARIABLE, scanRun } from './secret-scan.js';

async function checkPostgres(): Promise<void> {
  const url = process.env.GATEHOUSE_TEST_DATABASE_URL;
  if (!url) {
    process.stdout.write(
      '\nnotice: GATEHOUSE_TEST_DATABASE_URL is not set: storage tests run on SQLite only (PostgreSQL cases are skipped)\n\n',
    );
    return;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (error) {
    const message = `PostgreSQL at GATEHOUSE_TEST_DATABASE_URL is unreachable: ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(message);
    process.stdout.write(`\nnotice: ${message}; PostgreSQL cases are skipped\n\n`);
    delete process.env.GATEHOUSE_TEST_DATABASE_URL;
  } finally {
    await client.end().catch(() => {});
  }
}

export default async function setup(): Promise<() => void> {
  const teardown = startSecretScan();
  await checkPostgres();
  return teardown;
}

/**
 * Makes the run directory every worker records credentials and writes server logs into (the
 * workers inherit the variable), and answers the teardown that scans it: any recorded credential
 * in any log fails the run, naming the file and the kind of secret, never the secret.
 * GATEHOUSE_SECRET_SCAN=off skips it (for a quick local run of one file).
 */
function startSecretScan(): () => void {
  if (process.env.GATEHOUSE_SECRET_SCAN === 'off') return () => {};
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-secret-scan-'));
  process.env[RUN_DIR_VARIABLE] = dir;
  return () => {
    const { findings, files, secrets } = scanRun(dir);
    if (findings.length === 0) {
      rmSync(dir, { recursive: true, force: true });
      process.stdout.write(`\nsecret scan: ${secrets} credentials, ${files} server logs: clean\n`);
      return;
    }
    // vitest only logs an error thrown here; the exit code is what fails the run.
    process.exitCode = 1;
    process.stderr.write(`\n${describeFindings(findings)}\n(logs kept in ${dir})\n\n`);
    throw new Error('secret scan: credentials found in server logs');
  };
}
