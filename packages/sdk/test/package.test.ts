/**
 * Package hygiene, on what ships (`dist/`, built by `npm test`): the Fetch entry, the client and
 * the Hono middleware load no `node:` module and nothing but jose (they must run where only
 * WebCrypto exists); only jose is a runtime dependency; every export path resolves; every
 * exported function carries TSDoc with an example.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

/** Every module specifier a built file loads statically or dynamically (type-only imports are erased). */
function specifiers(file: string): string[] {
  // Comments (TSDoc examples import the package by name) are not code.
  const source = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const found: string[] = [];
  const pattern =
    /(?:^|[;\s])(?:import|export)\s*(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const match of source.matchAll(pattern)) found.push((match[1] ?? match[2]) as string);
  return found;
}

/** The outside modules (`node:…`, packages) reachable from an entry through relative imports. */
function externalImports(entry: string): Set<string> {
  const external = new Set<string>();
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const specifier of specifiers(file)) {
      if (specifier.startsWith('.')) queue.push(path.resolve(path.dirname(file), specifier));
      else external.add(specifier);
    }
  }
  return external;
}

const dist = (file: string) => {
  const full = path.join(root, 'dist', file);
  if (!existsSync(full)) throw new Error(`${full} is missing: run npm run build first`);
  return full;
};

describe('@gatehouse/sdk package', () => {
  it.each(['fetch.js', 'client/index.js', 'middleware/hono.js'])(
    '%s loads no node: module, only jose (it runs where only WebCrypto exists)',
    (entry) => {
      const external = [...externalImports(dist(entry))];
      expect(external.filter((name) => name.startsWith('node:') || !['jose', 'hono'].includes(name))).toEqual([]);
    },
  );

  it('the Node entry does use node:crypto (so the check above can see it)', () => {
    expect(externalImports(dist('index.js'))).toContain('node:crypto');
  });

  it('has jose as its only runtime dependency; frameworks are optional peers', () => {
    expect(Object.keys(manifest.dependencies)).toEqual(['jose']);
    for (const peer of Object.keys(manifest.peerDependencies)) {
      expect(manifest.peerDependenciesMeta[peer]).toEqual({ optional: true });
      expect(manifest.devDependencies[peer]).toBeDefined();
    }
    expect(manifest.sideEffects).toBe(false);
    expect(manifest.type).toBe('module');
  });

  it('resolves every subpath export to built JavaScript and types', () => {
    for (const [subpath, target] of Object.entries(manifest.exports as Record<string, unknown>)) {
      if (typeof target === 'string') continue;
      const { types, default: js } = target as { types: string; default: string };
      expect(existsSync(path.join(root, js)), `${subpath} → ${js}`).toBe(true);
      expect(existsSync(path.join(root, types)), `${subpath} → ${types}`).toBe(true);
    }
  });

  it('documents every exported function with TSDoc and an example (STYLE.md)', () => {
    const undocumented: string[] = [];
    for (const target of Object.values(manifest.exports as Record<string, { types?: string }>)) {
      if (typeof target !== 'object' || !target.types) continue;
      const declarations = collectDeclarations(path.join(root, target.types));
      for (const [name, doc] of declarations) if (!/@example/.test(doc)) undocumented.push(name);
    }
    expect([...new Set(undocumented)]).toEqual([]);
  });
});

/**
 * Exported function declarations (and `export const x = plugin`) with their TSDoc, following
 * re-exports: `export *` brings every name, `export { a, b as c }` only those.
 */
function collectDeclarations(file: string, names?: ReadonlySet<string>, seen = new Set<string>()): Map<string, string> {
  const found = new Map<string, string>();
  const key = `${file}|${names ? [...names].join(',') : '*'}`;
  if (seen.has(key) || !existsSync(file)) return found;
  seen.add(key);
  const text = readFileSync(file, 'utf8');
  const declaration = /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/)?\s*export declare (?:function|const) (\w+)\s*[(:<]/g;
  for (const match of text.matchAll(declaration)) {
    const name = match[2] as string;
    // Plain data constants are not functions.
    if (/^[A-Z0-9_]+$/.test(name) || (names && !names.has(name))) continue;
    found.set(name, `${found.get(name) ?? ''}${match[1] ?? ''}`);
  }
  for (const reexport of text.matchAll(/export (\*|\{([^}]*)\}) from ['"](\.[^'"]+)['"]/g)) {
    const listed =
      reexport[1] === '*'
        ? undefined
        : new Set(
            (reexport[2] as string)
              .split(',')
              .map((entry) => entry.trim())
              .filter((entry) => entry && !entry.startsWith('type '))
              .map((entry) => (entry.split(/\s+as\s+/)[0] as string).trim()),
          );
    const target = path.resolve(path.dirname(file), (reexport[3] as string).replace(/\.js$/, '.d.ts'));
    for (const [name, doc] of collectDeclarations(target, listed, seen))
      found.set(name, `${found.get(name) ?? ''}${doc}`);
  }
  return found;
}
