/** One error registry, fully documented: an undocumented problem type fails the suite. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEM_TYPES, problemType } from '../../src/http/problem.js';

describe('problem types', () => {
  const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

  it('documents every problem type with its status in docs/errors.md', () => {
    for (const [code, { status }] of Object.entries(PROBLEM_TYPES)) {
      expect(docs, code).toContain(`| \`${problemType(code as keyof typeof PROBLEM_TYPES)}\` | ${status} |`);
    }
  });
});
