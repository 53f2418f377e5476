/**
 * Peers: the real programs and services some tests run against (nginx, Caddy, htpasswd, Python
 * libraries, PostgreSQL, …). One rule for all of them, decided here:
 *
 * - present → the tests that need it run;
 * - absent → they are skipped, and the run ends with one notice per missing peer naming it, the
 *   test files it skipped, and how to install it;
 * - absent under CI (`CI=true`, as `.ci/run` sets it) → the test file fails, naming the peer:
 *   CI runs everything or fails.
 *
 * Usage, in a test file:
 *
 * ```ts
 * const nginx = peer('nginx');
 * describe.runIf(nginx.present)('behind nginx', () => { … });
 * it.runIf(peer('python3-jwt').present)('PyJWT verifies …', async () => { … });
 * ```
 *
 * Call `peer()` at the top level of the test file (it throws there under CI). A new peer is one
 * entry in `PEERS`. `GATEHOUSE_TEST_HIDE_PEERS=nginx,python3` (or `all`) makes peers absent even
 * where they are installed: `.ci/run` uses it, with a PATH holding only `node`, to check that
 * every peer-backed test skips cleanly (docs/testing.md).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, constants } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

const INSTALL_HINT = 'or run bash .ci/run, which provides every peer';

export type PeerName = keyof typeof PEERS;

export interface Peer {
  readonly name: PeerName;
  readonly present: boolean;
  /** Where it is: the executable's absolute path, or the service's URL; '' when absent. */
  readonly location: string;
  /** Why it is absent and how to get it (empty when present). */
  readonly notice: string;
}

interface PeerSpec {
  /** The location when present, or a reason (starting with "not found", "not set", …) when absent. */
  find(): { location: string } | { reason: string };
  readonly install: string;
}

/** An executable looked up on PATH, as the tests then run it (by name). */
function onPath(command: string, install: string): PeerSpec {
  return {
    install,
    find() {
      for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
        if (!dir) continue;
        const candidate = path.join(dir, command);
        if (executable(candidate)) return { location: candidate };
      }
      return { reason: `${command} not found on PATH` };
    },
  };
}

/** An executable at a fixed path (the Debian one, not a pyenv or snap shim earlier on PATH). */
function atPath(file: string, install: string): PeerSpec {
  return {
    install,
    find: () => (executable(file) ? { location: file } : { reason: `${file} not found` }),
  };
}

/** Debian's /usr/bin/python3 able to import `modules`. */
function pythonModules(modules: string[], install: string): PeerSpec {
  return {
    install,
    find() {
      const python = locate('python3');
      if (!('location' in python)) return python;
      const imported = spawnSync(python.location, ['-c', `import ${modules.join(', ')}`], {
        stdio: 'ignore',
        timeout: 15_000,
      });
      return imported.status === 0
        ? { location: python.location }
        : { reason: `${python.location} cannot import ${modules.join(', ')}` };
    },
  };
}

/** A service named by an environment variable (global-setup.ts checks that it answers). */
function fromEnv(variable: string, install: string): PeerSpec {
  return {
    install,
    find() {
      const value = process.env[variable];
      if (value) return { location: value };
      const unreachable = process.env[`${variable}_UNREACHABLE`];
      return { reason: unreachable ? `${variable} is unreachable (${unreachable})` : `${variable} is not set` };
    },
  };
}

const PEERS = {
  nginx: onPath('nginx', 'apt-get install nginx'),
  caddy: onPath('caddy', 'apt-get install caddy'),
  haproxy: onPath('haproxy', 'apt-get install haproxy'),
  hydra: onPath('hydra', 'apt-get install hydra'),
  htpasswd: onPath('htpasswd', 'apt-get install apache2-utils'),
  openssl: onPath('openssl', 'apt-get install openssl'),
  chromium: atPath('/usr/bin/chromium', 'apt-get install chromium'),
  python3: atPath('/usr/bin/python3', 'apt-get install python3'),
  'python3-jwt': pythonModules(['jwt'], 'apt-get install python3-jwt'),
  'python3-authlib': pythonModules(['authlib', 'requests'], 'apt-get install python3-authlib python3-requests'),
  postgres: fromEnv(
    'GATEHOUSE_TEST_DATABASE_URL',
    'set GATEHOUSE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (a role that may create databases)',
  ),
  redis: fromEnv('GATEHOUSE_TEST_REDIS_URL', 'set GATEHOUSE_TEST_REDIS_URL=redis://127.0.0.1:6379'),
} satisfies Record<string, PeerSpec>;

/** True under CI (`CI=true`, `CI=1`, …), where a missing peer fails instead of skipping. */
export function underCi(): boolean {
  const value = (process.env.CI ?? '').trim().toLowerCase();
  return value !== '' && value !== '0' && value !== 'false';
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function hidden(name: string): boolean {
  const list = (process.env.GATEHOUSE_TEST_HIDE_PEERS ?? '').split(',').map((entry) => entry.trim());
  return list.includes(name) || list.includes('all');
}

function locate(name: PeerName): { location: string } | { reason: string } {
  return hidden(name) ? { reason: `${name} is hidden by GATEHOUSE_TEST_HIDE_PEERS` } : PEERS[name].find();
}

const found = new Map<PeerName, Peer>();
const reported = new Set<string>();

/**
 * Whether `name` is here. Absent: records the skip for the end-of-run notice (or prints it, outside
 * this repository's vitest config); absent under CI: throws, failing the test file.
 */
export function peer(name: PeerName): Peer {
  let result = found.get(name);
  if (!result) {
    const where = locate(name);
    result =
      'location' in where
        ? { name, present: true, location: where.location, notice: '' }
        : { name, present: false, location: '', notice: `${where.reason}: ${PEERS[name].install}, ${INSTALL_HINT}` };
    found.set(name, result);
  }
  if (!result.present) {
    if (underCi()) {
      throw new Error(
        `peer ${name} is missing under CI=${process.env.CI} (CI fails instead of skipping): ${result.notice}`,
      );
    }
    report(result);
  }
  return result;
}

function report(missing: Peer): void {
  const file = path.relative(process.cwd(), expect.getState().testPath ?? '') || 'a test file';
  const key = `${missing.name} ${file}`;
  if (reported.has(key)) return;
  reported.add(key);
  const log = process.env.GATEHOUSE_TEST_PEER_LOG;
  if (log) {
    // One line per file and peer; global-setup.ts prints one notice per peer when the run ends.
    appendFileSync(log, `${JSON.stringify({ peer: missing.name, notice: missing.notice, file })}\n`);
  } else {
    process.stderr.write(`notice: skipping tests in ${file} that need ${missing.name}: ${missing.notice}\n`);
  }
}

/** The end-of-run notices for the lines `report` appended: one per peer, with the files it skipped. */
export function summarizeSkips(lines: string[]): string[] {
  const byPeer = new Map<string, { notice: string; files: Set<string> }>();
  for (const line of lines) {
    if (!line.trim()) continue;
    const { peer: name, notice, file } = JSON.parse(line) as { peer: string; notice: string; file: string };
    const entry = byPeer.get(name) ?? { notice, files: new Set<string>() };
    entry.files.add(file);
    byPeer.set(name, entry);
  }
  return [...byPeer]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, { notice, files }]) => {
      const list = [...files].sort();
      const shown = list.length > 3 ? `${list.slice(0, 3).join(', ')} and ${list.length - 3} more` : list.join(', ');
      return `notice: skipped tests that need ${name} (${list.length} file${list.length === 1 ? '' : 's'}: ${shown}): ${notice}`;
    });
}
