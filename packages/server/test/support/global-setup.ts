/**
 * Runs once around the suite. Before: checks that PostgreSQL (GATEHOUSE_TEST_DATABASE_URL) and
 * Redis (GATEHOUSE_TEST_REDIS_URL) answer when set, failing the run under CI (as .ci/run sets it)
 * or else marking them absent for peers.ts, and starts the secret scan of the run's server logs
 * (./secret-scan.ts). After: prints one notice per missing peer, naming the files whose tests it
 * skipped and how to get it (peers.ts decides; docs/testing.md), then performs the secret scan.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { summarizeSkips, underCi } from './peers.js';
import { describeFindings, RUN_DIR_VARIABLE, scanRun } from './secret-scan.js';

export default async function setup(): Promise<() => void> {
  const scan = startSecretScan();
  await checkService('GATEHOUSE_TEST_DATABASE_URL', 'PostgreSQL', async (url) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query('select 1');
    } finally {
      await client.end().catch(() => {});
    }
  });
  await checkService('GATEHOUSE_TEST_REDIS_URL', 'Redis', (url) => connects(new URL(url)));
  const skips = startSkipSummary();
  return () => {
    skips();
    scan();
  };
}

/** Test files run in worker processes; each appends the peers it missed to one file (peers.ts). */
function startSkipSummary(): () => void {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-peers-'));
  const log = path.join(dir, 'skipped.jsonl');
  process.env.GATEHOUSE_TEST_PEER_LOG = log;
  return () => {
    let lines: string[] = [];
    try {
      lines = readFileSync(log, 'utf8').split('\n');
    } catch {
      // Nothing was skipped.
    }
    rmSync(dir, { recursive: true, force: true });
    const notices = summarizeSkips(lines);
    if (notices.length > 0) process.stdout.write(`\n${notices.join('\n')}\n\n`);
  };
}

/** A service named by `variable` must answer; unreachable: fail under CI, else it counts as absent. */
async function checkService(variable: string, what: string, check: (url: string) => Promise<void>): Promise<void> {
  const url = process.env[variable];
  if (!url) return;
  try {
    await check(url);
  } catch (error) {
    const message = `${what} at ${variable} is unreachable: ${(error as Error).message}`;
    if (underCi()) throw new Error(message);
    delete process.env[variable];
    process.env[`${variable}_UNREACHABLE`] = (error as Error).message;
  }
}

function connects(url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname || '127.0.0.1', port: Number(url.port || 6379), timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('connection timed out'));
    });
    socket.once('error', reject);
  });
}

/**
 * Makes the run directory every worker records credentials and writes server logs into (the
 * workers inherit the variable), and answers the teardown that scans it: any recorded credential
 * in any log fails the run, naming the file and the kind of secret, never the secret.
 * GATEHOUSE_TEST_SECRET_SCAN=off skips it (for a quick local run of one file).
 */
function startSecretScan(): () => void {
  if (process.env.GATEHOUSE_TEST_SECRET_SCAN === 'off') return () => {};
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
