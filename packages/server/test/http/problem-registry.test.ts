/** Every problem type and /auth/verify error code Gatehouse answers is documented in docs/errors.md. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PROBLEM_TYPES, problemType } from '../../src/http/problem.js';

const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it.each(Object.keys(PROBLEM_TYPES))('documents the problem type %s', (code) => {
    expect(docs).toContain(`\`${problemType(code as keyof typeof PROBLEM_TYPES)}\``);
  });

  it.each(['https_required', 'invalid_credentials', 'too_many_attempts', 'invalid_request', 'insufficient_scope'])(
    'documents the /auth/verify error %s',
    (error) => {
      expect(docs).toContain(`\`${error}\``);
    },
  );
});
