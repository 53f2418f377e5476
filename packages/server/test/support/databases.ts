/**
 * The stores every storage-touching test runs on: SQLite always, PostgreSQL when
 * GATEHOUSE_TEST_DATABASE_URL is set (`.ci/run` sets it). Each call makes a fresh database, so test
 * files never share state. PostgreSQL is a peer (peers.ts): without it the PostgreSQL cases are
 * skipped with a notice, and under CI they fail instead.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { peer } from './peers.js';

export type StoreKind = 'sqlite' | 'postgres';

export interface TestDatabase {
  readonly kind: StoreKind;
  readonly url: string;
  drop(): Promise<void>;
}

export const postgresBaseUrl = process.env.GATEHOUSE_TEST_DATABASE_URL;

/** The store kinds to run on; PostgreSQL only when it is here (a notice says when it is not). */
export function storeKinds(): StoreKind[] {
  return peer('postgres').present ? ['sqlite', 'postgres'] : ['sqlite'];
}

export function tempDir(prefix = 'gatehouse-test-'): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { path: dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function createTestDatabase(kind: StoreKind, dir?: string): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const owned = dir ? undefined : tempDir();
    const base = dir ?? owned?.path ?? tmpdir();
    return { kind, url: `sqlite:${path.join(base, 'gatehouse.db')}`, drop: async () => owned?.remove() };
  }
  if (!postgresBaseUrl) throw new Error('GATEHOUSE_TEST_DATABASE_URL is not set');
  const name = `gh_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresBaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(postgresBaseUrl);
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: postgresBaseUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
