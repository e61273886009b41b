import { BadRequestError } from '../http/errors.js';

type Key = Record<string, unknown>;

/** Encodes a DynamoDB `LastEvaluatedKey` as an opaque URL-safe cursor. */
export function encodeCursor(key: Key | undefined): string | undefined {
  return key === undefined ? undefined : Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor from {@link encodeCursor}; 400 if it was tampered with. */
export function decodeCursor(cursor: string | undefined, expectedKeys: readonly string[]): Key | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new BadRequestError('invalid pagination cursor');
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    expectedKeys.every((k) => typeof (parsed as Key)[k] === 'string') &&
    Object.keys(parsed).length === expectedKeys.length;
  if (!valid) throw new BadRequestError('invalid pagination cursor');
  return parsed as Key;
}
