import { InvalidRequestError, quote } from '../errors.js';
import { VERSION_NUMBER, VERSION_RULE } from '../storage/version-numbers.js';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALIAS_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
/** A segment that reads as a number (a digit, sign or point first): meant as a version, since an alias starts with a letter. */
const NUMBER_LIKE = /^[-+.]?[0-9]/;

/** Validates a model name: 1–128 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
export function assertModelName(name: string): string {
  if (!MODEL_NAME.test(name)) {
    throw new InvalidRequestError(`invalid model name ${quote(name)}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

/** Validates an alias name: lowercase, starts with a letter (so it never reads as a version number). */
export function assertAliasName(alias: string): string {
  if (!ALIAS_NAME.test(alias)) {
    throw new InvalidRequestError(`invalid alias ${quote(alias)}: use 1-63 lowercase letters, digits, '_' or '-', starting with a letter`);
  }
  return alias;
}

/** A version path segment: either a version number or an alias name. */
export type VersionSelector = { readonly kind: 'number'; readonly version: number } | { readonly kind: 'alias'; readonly alias: string };

/** Parses a version path segment (`3`, `prod`). */
export function parseVersionSelector(segment: string): VersionSelector {
  if (VERSION_NUMBER.test(segment)) return { kind: 'number', version: Number(segment) };
  if (NUMBER_LIKE.test(segment)) throw new InvalidRequestError(`invalid version ${quote(segment)}: ${VERSION_RULE}; or name an alias (it starts with a letter)`);
  return { kind: 'alias', alias: assertAliasName(segment) };
}

