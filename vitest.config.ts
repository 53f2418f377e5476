import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each test file gets fresh databases and data dirs, so files can run in parallel.
    fileParallelism: true,
    // Most test time is spent waiting on spawned servers, CLIs and peers, not on the CPU: two
    // workers per core finish the suite in about two thirds of the time of one (docs/testing.md).
    maxWorkers: Math.max(2, availableParallelism() * 2),
    reporters: ['default'],
    globalSetup: ['packages/server/test/support/global-setup.ts'],
    // Records every credential tests send or receive, for the secret scan of the server logs.
    setupFiles: ['packages/server/test/support/secret-scan-setup.ts'],
  },
});
