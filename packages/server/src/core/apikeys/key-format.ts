/**
 * The API key format: `<prefix>_<secret><checksum>`, e.g. `gk_live_4Xw…k2Z9Qb1`.
 *
 * - `prefix`: configurable (`gk`, or with an environment tag, `gk_live`); lower-case letters and
 *   digits in `_`-separated segments. It tells people and secret scanners what the string is.
 * - `secret`: 43 base62 characters drawn uniformly from the OS CSPRNG: 43 × log2(62) ≈ 256 bits
 *   (docs/security.md #20, #29: at least 128 bits; ASVS 11.5.1).
 * - `checksum`: CRC-32 (zlib's, ISO-HDLC) of the UTF-8 bytes of `<prefix>_<secret>`, as 6 base62
 *   digits, most significant first. It is not a security measure: it lets the verifier (before any
 *   store lookup) and secret scanners (before reporting) tell a real key from a typo or from random
 *   text of the right shape; covering the prefix makes a key re-labelled with another prefix fail too.
 *
 * Base62 has no `_`, so the last `_` always ends the prefix. A scanner's pattern (for prefix `gk`
 * with an optional environment tag) is `\bgk(?:_[a-z0-9]+)?_[0-9A-Za-z]{49}\b` (docs/api-keys.md).
 */
import { crc32 } from 'node:zlib';
import { randomBase62 } from '../secrets/random.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SECRET_LENGTH = 43;
export const CHECKSUM_LENGTH = 6;
/** Bytes of CSPRNG output behind the secret (43 base62 characters carry 256 bits). */
const SECRET_BYTES = 32;
/** Longest prefix accepted in configuration. */
export const MAX_PREFIX_LENGTH = 32;
/**
 * Longest text considered at all. Anything longer is refused before it is even scanned, so a huge
 * header costs nothing (the longest real key is 32 + 1 + 49 = 82 characters).
 */
export const MAX_PRESENTED_LENGTH = 128;

export const PREFIX_PATTERN = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;

/** Undefined for a usable prefix, else a sentence saying what is wrong. */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix.length > MAX_PREFIX_LENGTH) return `must be at most ${MAX_PREFIX_LENGTH} characters`;
  if (!PREFIX_PATTERN.test(prefix)) {
    return 'must be lower-case letters and digits, starting with a letter, in segments joined by "_" (e.g. gk or gk_live)';
  }
  return undefined;
}

/** CRC-32 of the text as 6 base62 digits (62⁶ > 2³², so every value fits). */
export function checksumOf(text: string): string {
  let value = crc32(text);
  let out = '';
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = BASE62[value % 62] + out;
    value = Math.floor(value / 62);
  }
  return out;
}

/** A new key under `prefix`: 256 random bits and a checksum. */
export function generateApiKey(prefix: string): string {
  const body = `${prefix}_${randomBase62(SECRET_BYTES)}`;
  return body + checksumOf(body);
}

/** Why a presented text is not a key of ours; each is decided without the store. */
export type MalformedReason = 'empty' | 'too_long' | 'malformed' | 'wrong_prefix' | 'bad_checksum';

export interface KeyParser {
  /** The prefix keys must carry. */
  readonly prefix: string;
  /** The one length every key has: `<prefix>_`, the secret, the checksum. */
  readonly length: number;
  /**
   * Why a presented text cannot be one of our keys, or undefined when its shape and checksum are
   * right. No trimming and no case folding: a padded or re-cased key is not the key.
   */
  check(text: string): MalformedReason | undefined;
  /** `check` without the checksum: is this exactly `<prefix>_<49 base62 characters>`? */
  checkShape(text: string): MalformedReason | undefined;
  /** For a text of the right shape: does its checksum match? */
  checksumMatches(text: string): boolean;
}

export function createKeyParser(prefix: string): KeyParser {
  const problem = prefixProblem(prefix);
  if (problem) throw new RangeError(`API key prefix ${JSON.stringify(prefix)} ${problem}`);
  const head = `${prefix}_`;
  const length = head.length + SECRET_LENGTH + CHECKSUM_LENGTH;
  const exact = new RegExp(`^${head}[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`);
  const body = new RegExp(`^[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}$`);
  // Printable ASCII without spaces: anything else (whitespace padding, non-ASCII) is not a key.
  const token = /^[\x21-\x7e]+$/;

  /** Why a text that is not exactly `<prefix>_<49 base62>` fails: for the log and the audit. */
  const classify = (text: string): MalformedReason => {
    if (text.length === 0) return 'empty';
    if (text.length > MAX_PRESENTED_LENGTH) return 'too_long';
    if (!token.test(text)) return 'malformed';
    // Base62 has no "_": the last one ends the prefix.
    const split = text.lastIndexOf('_');
    const presentedPrefix = text.slice(0, split);
    if (split < 1 || !body.test(text.slice(split + 1)) || !PREFIX_PATTERN.test(presentedPrefix)) return 'malformed';
    // A well-formed key of another prefix (or of another environment tag): not one we issue.
    return 'wrong_prefix';
  };

  const checkShape = (text: string): MalformedReason | undefined =>
    // The length test comes first, so a huge text is never scanned.
    text.length === length && exact.test(text) ? undefined : classify(text);
  const checksumMatches = (text: string): boolean =>
    crc32(text.slice(0, length - CHECKSUM_LENGTH)) === checksumValue(text, length - CHECKSUM_LENGTH);

  return {
    prefix,
    length,
    checkShape,
    checksumMatches,
    check: (text) => checkShape(text) ?? (checksumMatches(text) ? undefined : 'bad_checksum'),
  };
}

const DIGIT = new Map([...BASE62].map((char, value) => [char.charCodeAt(0), value]));

/** The number written by the 6 base62 digits at `start` (the text is known to be base62 there). */
function checksumValue(text: string, start: number): number {
  let value = 0;
  for (let i = start; i < start + CHECKSUM_LENGTH; i++) value = value * 62 + (DIGIT.get(text.charCodeAt(i)) ?? 0);
  return value;
}

/**
 * Legacy keys: keys another system handed out before Gatehouse, imported as they are
 * (`gatehouse apikey import`, docs/api-keys.md "Importing existing keys"). They have no prefix
 * and no checksum, so nothing but a store lookup can tell one from a typo; the verifier looks a
 * text up as a legacy key only while the store holds a live one (./verify.ts).
 *
 * A plaintext legacy key must be at least this long: shorter keys are too easy to guess for a
 * credential that a fast, unsalted SHA-256 protects at rest (./hash.ts), and an import that
 * accepted "1234" would undo every other guarantee here. Twenty characters is the length below
 * which even a random alphanumeric key falls under ~119 bits, and most hand-made ones are far
 * weaker: replace them, do not import them.
 */
export const LEGACY_MIN_LENGTH = 20;
const LEGACY_TEXT = /^[\x21-\x7e]+$/;

/**
 * Could `text` be a legacy key at all? The same bounds the import enforces: printable ASCII
 * without spaces, `LEGACY_MIN_LENGTH` to `MAX_PRESENTED_LENGTH` characters. Checked before any
 * hashing or lookup.
 */
export const legacyShaped = (text: string): boolean =>
  text.length >= LEGACY_MIN_LENGTH && text.length <= MAX_PRESENTED_LENGTH && LEGACY_TEXT.test(text);

/** Why a plaintext cannot be imported as a legacy key, or undefined when it can. */
export function legacyKeyProblem(text: string, parser: KeyParser): string | undefined {
  if (text.length < LEGACY_MIN_LENGTH) {
    return `is ${text.length} characters; legacy keys must have at least ${LEGACY_MIN_LENGTH} (a shorter key is too easy to guess: issue a new key instead)`;
  }
  if (text.length > MAX_PRESENTED_LENGTH) return `is longer than ${MAX_PRESENTED_LENGTH} characters`;
  if (!LEGACY_TEXT.test(text)) return 'must be printable ASCII without spaces';
  if (parser.checkShape(text) === undefined) {
    // A mistyped key of ours is refused without a lookup, so this one could never verify.
    return `has the shape of a ${parser.prefix}_ key; import it only if Gatehouse issued it (it needs a valid checksum)`;
  }
  return undefined;
}

/** A SHA-256 as the import accepts it: 64 hex digits, either case. */
export const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
