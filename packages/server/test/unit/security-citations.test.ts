/**
 * Docs and code cite only files in this repository (issue 14 item 5): every security citation
 * points at docs/security.md, and each number it names has its anchor there.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tracked = execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((file) => /\.(md|ts|mjs|js)$/.test(file));
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8');
const securityDoc = read('docs/security.md');
const anchors = new Set(
  [...securityDoc.matchAll(/<a id="r(\d+)"><\/a>\*\*(\d+)\./g)].map(([, id, n]) => (id === n ? id : '')),
);

describe('security citations', () => {
  it('docs/security.md numbers its requirements 1 to 38, each with its anchor and source', () => {
    expect([...anchors].map(Number)).toEqual(Array.from({ length: 38 }, (_, i) => i + 1));
    for (const item of securityDoc.split('<a id="r').slice(1)) expect(item).toMatch(/\*Source: [^*]+\.\*/);
  });

  it('no file cites a SECURITY file outside the repository, and every number cited exists', () => {
    // Built from parts so that this file does not cite it either.
    const outside = new RegExp(`(?<![/\\w])${'SECURITY'}\\.md`);
    const offenders = tracked.filter((file) => outside.test(read(file)));
    expect(offenders).toEqual([]);
    const cited = tracked.flatMap((file) =>
      [...read(file).matchAll(/security\.md(?: #|#r)(\d+)/g)].map(([, n]) => ({ file, n: n as string })),
    );
    expect(cited.length).toBeGreaterThan(100);
    expect(cited.filter(({ n }) => !anchors.has(n))).toEqual([]);
  });
});
