/**
 * Reads Apache htpasswd files for `gatehouse user import`. Only bcrypt entries (`htpasswd -B`:
 * `$2y$`, also `$2a$`/`$2b$`) are accepted; they are verified as bcrypt until the user's first
 * login upgrades them to argon2id. Every other format htpasswd can write is too weak to keep and
 * is refused with the line it is on, so the operator knows whom to ask for a new password.
 *
 * Format (Apache httpd `htpasswd` and mod_authn_file): one `user:hash` per line; blank lines and
 * lines starting with `#` are skipped; the user name ends at the first colon.
 */
import { BCRYPT_MAX_COST, BCRYPT_MIN_COST, bcryptCost } from './bcrypt.js';

export interface HtpasswdEntry {
  /** 1-based line number in the file. */
  readonly line: number;
  /** The user name as written in the file (normalised later, by the caller). */
  readonly username: string;
  readonly hash: string;
}

export interface HtpasswdProblem {
  readonly line: number;
  readonly message: string;
}

export interface ParsedHtpasswd {
  readonly entries: HtpasswdEntry[];
  readonly problems: HtpasswdProblem[];
}

/** The formats htpasswd (and its predecessors) write, recognised so the refusal can name them. */
const WEAK_FORMATS: ReadonlyArray<{ test: (hash: string) => boolean; name: string }> = [
  { test: (hash) => hash.startsWith('$apr1$'), name: 'MD5-crypt ($apr1$, htpasswd -m)' },
  { test: (hash) => hash.startsWith('{SHA}'), name: 'SHA-1 ({SHA}, htpasswd -s)' },
  { test: (hash) => hash.startsWith('$1$'), name: 'MD5-crypt ($1$)' },
  { test: (hash) => /^\$[56]\$/.test(hash), name: 'SHA-crypt ($5$/$6$, htpasswd -2/-5)' },
  { test: (hash) => /^[./0-9A-Za-z]{13}$/.test(hash), name: 'DES crypt (htpasswd -d)' },
];

const FIX = 'only bcrypt entries (htpasswd -B) can be imported; have this user set a new password';

export function parseHtpasswd(text: string): ParsedHtpasswd {
  const entries: HtpasswdEntry[] = [];
  const problems: HtpasswdProblem[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const colon = raw.indexOf(':');
    if (colon <= 0) {
      problems.push({ line, message: 'is not "user:hash"' });
      continue;
    }
    const username = raw.slice(0, colon);
    // Some tools append ":comment" fields after the hash (htdigest-like); htpasswd does not.
    const hash = raw.slice(colon + 1).split(':')[0] ?? '';
    const cost = bcryptCost(hash);
    if (cost !== undefined) {
      if (cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) {
        problems.push({
          line,
          message: `(${username}) has bcrypt cost ${cost}; Gatehouse accepts ${BCRYPT_MIN_COST} to ${BCRYPT_MAX_COST}`,
        });
      } else {
        entries.push({ line, username, hash });
      }
      continue;
    }
    const weak = WEAK_FORMATS.find((format) => format.test(hash));
    problems.push({
      line,
      message: weak
        ? `(${username}) uses ${weak.name}, which is too weak to import: ${FIX}`
        : `(${username}) has an unrecognised or plain-text password field: ${FIX}`,
    });
  }
  return { entries, problems };
}
