import { InvalidRequestError } from '../errors.js';

type Key = Record<string, unknown>;

/** Encodes a DynamoDB `LastEvaluatedKey` as an opaque URL-safe cursor. */
export function encodeCursor(key: Key | undefined): string | undefined {
  return key === undefined ? undefined : Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** What each attribute of a valid cursor must look like, for the query it continues. */
export type CursorShape = Readonly<Record<string, (value: string) => boolean>>;

/**
 * Decodes a cursor from {@link encodeCursor}; InvalidRequestError if it was tampered with or
 * belongs to another query (DynamoDB would reject it with a 500-class error).
 */
export function decodeCursor(cursor: string | undefined, shape: CursorShape): Key | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidRequestError('invalid pagination cursor');
  }
  const expected = Object.entries(shape);
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    Object.keys(parsed).length === expected.length &&
    expected.every(([key, accepts]) => {
      const value = (parsed as Key)[key];
      return typeof value === 'string' && accepts(value);
    });
  if (!valid) throw new InvalidRequestError('invalid pagination cursor');
  return parsed as Key;
}
