/**
 * Managing users: what the admin API (and through it the CLI) does. Every change is audited and
 * reported to `onUserChanged`, so that remembered Basic verifications of that user are dropped at
 * once. Expected problems (a bad field, a taken username, no such user) are answered as values.
 */
import type { AuditLog, Clock } from '../audit/audit.js';
import { parseHtpasswd } from '../passwords/htpasswd.js';
import type { PasswordHasher } from '../passwords/password-hasher.js';
import { checkNewPassword, type PasswordPolicy } from '../passwords/password-policy.js';
import { type User, type UserListQuery, UsernameTakenError, type UserPatch, type UserStore } from './user.js';
import { normaliseUsername } from './username.js';

export interface FieldIssue {
  readonly field: string;
  readonly message: string;
}

export type UserFailure =
  | { readonly ok: false; readonly error: 'invalid'; readonly issues: readonly FieldIssue[] }
  | { readonly ok: false; readonly error: 'not_found' }
  | { readonly ok: false; readonly error: 'username_taken'; readonly username: string; readonly detail?: string };

export type UserResult<T = User> = { readonly ok: true; readonly value: T } | UserFailure;

export interface NewUser {
  readonly username: string;
  readonly password: string;
  readonly scopes?: readonly string[] | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  readonly disabled?: boolean | undefined;
}

export interface UserChanges {
  readonly username?: string | undefined;
  readonly scopes?: readonly string[] | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  readonly disabled?: boolean | undefined;
}

export interface HtpasswdImport {
  readonly htpasswd: string;
  readonly scopes?: readonly string[] | undefined;
  /** Skip users whose username exists instead of refusing the whole import. */
  readonly skipExisting?: boolean | undefined;
}

export interface ImportReport {
  readonly imported: ReadonlyArray<{ line: number; username: string; id: string }>;
  readonly skipped: ReadonlyArray<{ line: number; username: string; reason: 'exists' }>;
}

export interface UserService {
  create(input: NewUser, actor: string): Promise<UserResult>;
  get(id: string): Promise<UserResult>;
  findByUsername(username: string): Promise<User | undefined>;
  list(query: UserListQuery): Promise<{ users: User[]; nextCursor: string | null }>;
  update(id: string, changes: UserChanges, actor: string): Promise<UserResult>;
  setPassword(id: string, password: string, actor: string): Promise<UserResult>;
  delete(id: string, actor: string): Promise<UserResult<null>>;
  importHtpasswd(input: HtpasswdImport, actor: string): Promise<UserResult<ImportReport>>;
}

export interface UserServiceOptions {
  readonly users: UserStore;
  readonly hasher: PasswordHasher;
  readonly policy: PasswordPolicy;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly newId: () => string;
  /** Called after any change to a user (and after deletion) with its id. */
  readonly onUserChanged: (userId: string) => void;
}

/** JSON metadata is for labels and references, not documents. */
export const METADATA_MAX_BYTES = 8192;

const invalid = (field: string, message: string): UserFailure => ({
  ok: false,
  error: 'invalid',
  issues: [{ field, message }],
});
const notFound: UserFailure = { ok: false, error: 'not_found' };

export function createUserService(options: UserServiceOptions): UserService {
  const { users, hasher, policy, audit, clock, onUserChanged } = options;
  const now = () => new Date(clock.now()).toISOString();

  const checkMetadata = (metadata: Readonly<Record<string, unknown>> | undefined): UserFailure | undefined =>
    metadata !== undefined && Buffer.byteLength(JSON.stringify(metadata), 'utf8') > METADATA_MAX_BYTES
      ? invalid('metadata', `must be at most ${METADATA_MAX_BYTES} bytes as JSON`)
      : undefined;

  const changed = (user: User, actor: string, action: string, details: Record<string, unknown> = {}) => {
    onUserChanged(user.id);
    audit.record({ actor, action, target: user.id, details });
  };

  return {
    async create(input, actor) {
      const username = normaliseUsername(input.username);
      if (!username.ok) return invalid('username', username.problem);
      const password = checkNewPassword(input.password, policy, username.username);
      if (!password.ok) return invalid('password', password.problem);
      const badMetadata = checkMetadata(input.metadata);
      if (badMetadata) return badMetadata;
      if (await users.findByUsername(username.username)) {
        return { ok: false, error: 'username_taken', username: username.username };
      }
      const at = now();
      const user: User = {
        id: options.newId(),
        username: username.username,
        password: await hasher.hash(password.password),
        passwordChangedAt: at,
        scopes: [...new Set(input.scopes ?? [])],
        metadata: input.metadata ?? {},
        disabled: input.disabled ?? false,
        createdAt: at,
        updatedAt: at,
        lastLoginAt: null,
      };
      try {
        await users.insert(user);
      } catch (error) {
        // Two creations of one username can race past the check above; the unique index decides.
        if (error instanceof UsernameTakenError) return { ok: false, error: 'username_taken', username: user.username };
        throw error;
      }
      audit.record({ actor, action: 'user.created', target: user.id, details: { username: user.username } });
      return { ok: true, value: user };
    },

    async get(id) {
      const user = await users.findById(id);
      return user ? { ok: true, value: user } : notFound;
    },

    findByUsername: async (username) => {
      const canonical = normaliseUsername(username);
      return canonical.ok ? users.findByUsername(canonical.username) : undefined;
    },

    list: (query) => users.list(query),

    async update(id, changes, actor) {
      const patch: { -readonly [K in keyof UserPatch]: UserPatch[K] } = { updatedAt: now() };
      if (changes.username !== undefined) {
        const username = normaliseUsername(changes.username);
        if (!username.ok) return invalid('username', username.problem);
        patch.username = username.username;
      }
      const badMetadata = checkMetadata(changes.metadata);
      if (badMetadata) return badMetadata;
      if (changes.scopes !== undefined) patch.scopes = [...new Set(changes.scopes)];
      if (changes.metadata !== undefined) patch.metadata = changes.metadata;
      if (changes.disabled !== undefined) patch.disabled = changes.disabled;
      let user: User | undefined;
      try {
        user = await users.update(id, patch);
      } catch (error) {
        if (error instanceof UsernameTakenError)
          return { ok: false, error: 'username_taken', username: error.username };
        throw error;
      }
      if (!user) return notFound;
      const fields = Object.keys(patch).filter((field) => field !== 'updatedAt' && field !== 'disabled');
      if (fields.length > 0) changed(user, actor, 'user.updated', { fields });
      if (changes.disabled !== undefined) changed(user, actor, changes.disabled ? 'user.disabled' : 'user.enabled');
      return { ok: true, value: user };
    },

    async setPassword(id, password, actor) {
      const user = await users.findById(id);
      if (!user) return notFound;
      const checked = checkNewPassword(password, policy, user.username);
      if (!checked.ok) return invalid('password', checked.problem);
      const updated = await users.setPassword(id, await hasher.hash(checked.password), now());
      if (!updated) return notFound;
      changed(updated, actor, 'user.password_changed');
      return { ok: true, value: updated };
    },

    async delete(id, actor) {
      const user = await users.findById(id);
      if (!user || !(await users.delete(id))) return notFound;
      changed(user, actor, 'user.deleted', { username: user.username });
      return { ok: true, value: null };
    },

    async importHtpasswd(input, actor) {
      const parsed = parseHtpasswd(input.htpasswd);
      const issues: FieldIssue[] = parsed.problems.map((problem) => ({
        field: 'htpasswd',
        message: `line ${problem.line} ${problem.message}`,
      }));
      const firstLine = new Map<string, number>();
      const accepted: Array<{ line: number; username: string; hash: string }> = [];
      for (const entry of parsed.entries) {
        const username = normaliseUsername(entry.username);
        if (!username.ok) {
          issues.push({
            field: 'htpasswd',
            message: `line ${entry.line} (${entry.username}): the username ${username.problem}`,
          });
          continue;
        }
        const earlier = firstLine.get(username.username);
        if (earlier !== undefined) {
          issues.push({
            field: 'htpasswd',
            message: `line ${entry.line} (${entry.username}): the same user as line ${earlier} (usernames are case-insensitive)`,
          });
          continue;
        }
        firstLine.set(username.username, entry.line);
        accepted.push({ line: entry.line, username: username.username, hash: entry.hash });
      }
      if (issues.length > 0) return { ok: false, error: 'invalid', issues };
      if (accepted.length === 0) return invalid('htpasswd', 'has no entries');

      const existing = await users.existingUsernames(accepted.map((entry) => entry.username));
      const clashes = accepted.filter((entry) => existing.has(entry.username));
      if (clashes.length > 0 && !input.skipExisting) {
        return {
          ok: false,
          error: 'username_taken',
          username: clashes[0]?.username ?? '',
          detail: `these users exist already (use skip_existing to import the others): ${clashes
            .map((entry) => `line ${entry.line} (${entry.username})`)
            .join(', ')}`,
        };
      }
      const at = now();
      const fresh = accepted
        .filter((entry) => !existing.has(entry.username))
        .map((entry): User & { line: number } => ({
          line: entry.line,
          id: options.newId(),
          username: entry.username,
          password: { hash: entry.hash, pepperId: null },
          passwordChangedAt: at,
          scopes: [...new Set(input.scopes ?? [])],
          metadata: { imported_from: 'htpasswd' },
          disabled: false,
          createdAt: at,
          updatedAt: at,
          lastLoginAt: null,
        }));
      try {
        await users.insertMany(fresh.map(({ line: _line, ...user }) => user));
      } catch (error) {
        if (error instanceof UsernameTakenError) {
          return {
            ok: false,
            error: 'username_taken',
            username: error.username,
            detail: 'a user with one of these usernames was created meanwhile; nothing was imported, run it again',
          };
        }
        throw error;
      }
      audit.record({
        actor,
        action: 'user.imported',
        details: { format: 'htpasswd', imported: fresh.length, skipped: clashes.length },
      });
      for (const user of fresh) {
        audit.record({
          actor,
          action: 'user.created',
          target: user.id,
          details: { username: user.username, source: 'htpasswd' },
        });
      }
      return {
        ok: true,
        value: {
          imported: fresh.map((user) => ({ line: user.line, username: user.username, id: user.id })),
          skipped: clashes.map((entry) => ({ line: entry.line, username: entry.username, reason: 'exists' as const })),
        },
      };
    },
  };
}
