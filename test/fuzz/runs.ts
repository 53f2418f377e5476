/**
 * How hard the property-based fuzzers (`*.fuzz.test.ts`, fast-check) try. `npm test` runs each
 * property a few thousand times; `GATEHOUSE_TEST_FUZZ_RUNS=200000` runs every property that many times
 * (and lifts the test timeout) for a long hunt. `GATEHOUSE_TEST_FUZZ_SEED` replays a reported failure.
 */
import type fc from 'fast-check';

const requested = Number.parseInt(process.env.GATEHOUSE_TEST_FUZZ_RUNS ?? '', 10);
const seed = Number.parseInt(process.env.GATEHOUSE_TEST_FUZZ_SEED ?? '', 10);

/** True when a long run was asked for. */
export const LONG_FUZZ = Number.isSafeInteger(requested) && requested > 0;

/** fast-check parameters: `runs` in the normal suite, GATEHOUSE_TEST_FUZZ_RUNS in a long run. */
export function fuzz<T>(runs: number): fc.Parameters<T> {
  return {
    numRuns: LONG_FUZZ ? requested : runs,
    ...(Number.isSafeInteger(seed) ? { seed } : {}),
  };
}

/** The timeout of a fuzz test: the suite's default, or none worth mentioning in a long run. */
export const FUZZ_TIMEOUT = LONG_FUZZ ? 24 * 60 * 60 * 1000 : 30_000;
