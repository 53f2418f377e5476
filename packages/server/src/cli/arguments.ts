/** Parsers of option values shared by the admin-API commands (commander `argParser`s). */
import { InvalidArgumentError } from 'commander';

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
