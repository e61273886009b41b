/**
 * Version numbers, shared by every numbered thing in the registry table (model versions, dataset
 * versions): 1 to {@link MAX_VERSION}, stored in sort keys zero-padded to 10 digits so they sort
 * numerically, and parsed from path segments by one rule.
 */
import { InvalidRequestError, quote } from '../errors.js';

/** Highest version number (version sort keys hold 10 digits). */
export const MAX_VERSION = 9_999_999_999;
/** A version number as a path segment writes it: plain digits, no leading zero. */
export const VERSION_NUMBER = /^[1-9][0-9]{0,9}$/;
/** Sort-key prefix of version items. */
export const VERSION_PREFIX = 'VERSION#';
/** Sort key of version `n`, zero-padded so versions sort numerically. */
export const versionSk = (version: number): string => `${VERSION_PREFIX}${String(version).padStart(10, '0')}`;

/** The rule a version number follows, for messages. */
export const VERSION_RULE = `versions are numbered from 1 to ${MAX_VERSION}, in plain digits (no leading zero, sign, point or exponent)`;

/**
 * Parses a path segment that must be a version number.
 * @param otherwise - What else the segment may be, for the message (e.g. `'latest'`), when the caller accepts more.
 */
export function parseVersionNumber(segment: string, otherwise?: string): number {
  if (!VERSION_NUMBER.test(segment)) throw new InvalidRequestError(`invalid version ${quote(segment)}: ${VERSION_RULE}${otherwise === undefined ? '' : `; or ${otherwise}`}`);
  return Number(segment);
}
