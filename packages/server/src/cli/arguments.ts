/** Parsers of option values shared by the admin-API commands (commander `argParser`s), and arguments. */
import { type Command, InvalidArgumentError } from 'commander';

/** `read,write` or `read write` (or both); an empty value means no scopes. */
export const parseScopes = (value: string): string[] => value.split(/[\s,]+/).filter((scope) => scope.length > 0);

/** A JSON object (metadata, labels). */
export const parseMetadata = (value: string): Record<string, unknown> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('must be a JSON object, e.g. \'{"team":"billing"}\'');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('must be a JSON object');
  }
  return parsed as Record<string, unknown>;
};

/** A page size for list commands: 1–200, as the admin API allows. */
export const parseLimit = (value: string): number => {
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new InvalidArgumentError('must be from 1 to 200');
  return limit;
};

/** A word only a mistyped option looks like (`--pasword`, `--password=…`); no kid or id does. */
const OPTION_LIKE = /^--[a-z][a-z-]*(=|$)/;

/**
 * Lets a command's one argument begin with `-`. Commander takes every such word for an option, so
 * `gatehouse keys retire <kid>` refused one signing key in 64 (a kid is an RFC 7638 thumbprint in
 * base64url, whose first character is `-` that often) and a username like `-bob` could not be
 * named. Now a word that is no option of the command is its argument when it stands alone, unless
 * it looks like a long option (which is not sent to the server: it may hold a secret); beside the
 * argument it is refused as an unknown option, as before. After `--`, any word is the argument.
 */
export function acceptDashedArgument(command: Command): Command {
  return command
    .allowUnknownOption()
    .allowExcessArguments()
    .hook('preAction', (self) => {
      const expected = self.registeredArguments.length;
      // After `--` every word is an argument: the user said so.
      const escaped = process.argv.includes('--');
      const stray =
        (escaped ? undefined : self.args.find((word) => OPTION_LIKE.test(word))) ??
        (self.args.length > expected ? self.args.find((word) => word.startsWith('-')) : undefined);
      // The checks the two settings above turned off, in commander's words.
      if (stray !== undefined) self.error(`error: unknown option '${stray}'`, { code: 'commander.unknownOption' });
      if (self.args.length > expected) {
        self.error(
          `error: too many arguments for '${self.name()}'. Expected ${expected} argument${expected === 1 ? '' : 's'} but got ${self.args.length}.`,
          { code: 'commander.excessArguments' },
        );
      }
    });
}
