/**
 * Runs once before the suite: checks that PostgreSQL answers when GATEHOUSE_TEST_DATABASE_URL is
 * set (failing the run under CI=true, as .ci/run sets it), or says plainly that PostgreSQL-backed
 * cases are skipped.
 */
import pg from 'pg';

export default async function setup(): Promise<void> {
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
