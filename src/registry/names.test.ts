import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../storage/cursor.js';
import { parseVersionNumber } from '../storage/version-numbers.js';
import { assertAliasName, assertModelName, parseVersionSelector } from './names.js';

describe('names', () => {
  it('accepts valid model and alias names and rejects others with the bad value', () => {
    expect(assertModelName('iris-v2.onnx_1')).toBe('iris-v2.onnx_1');
    expect(() => assertModelName('iris:predict')).toThrowError("invalid model name 'iris:predict'");
    expect(() => assertModelName('')).toThrowError(/invalid model name/);
    expect(assertAliasName('prod')).toBe('prod');
    expect(() => assertAliasName('Prod')).toThrowError("invalid alias 'Prod'");
    expect(() => assertAliasName('3')).toThrowError(/starting with a letter/);
  });

  it('reads a version segment as a number or an alias', () => {
    expect(parseVersionSelector('12')).toEqual({ kind: 'number', version: 12 });
    expect(parseVersionSelector('staging')).toEqual({ kind: 'alias', alias: 'staging' });
    expect(parseVersionSelector('9999999999')).toEqual({ kind: 'number', version: 9999999999 });
    expect(parseVersionNumber('3')).toBe(3);
    expect(() => parseVersionNumber('prod')).toThrowError("invalid version 'prod'");
  });

  it.each(['0', '01', '-1', '+1', '1e0', '1.5', '.5', '10000000000', '99999999999'])(
    'reads the number-like segment %s as a bad version number (the range), not as a bad alias',
    (segment) => {
      const message = `invalid version '${segment}': versions are numbered from 1 to 9999999999, in plain digits (no leading zero, sign, point or exponent)`;
      expect(() => parseVersionSelector(segment)).toThrowError(`${message}; or name an alias (it starts with a letter)`);
      expect(() => parseVersionNumber(segment)).toThrowError(message);
    },
  );

  it('still explains alias syntax for a segment that starts with a letter', () => {
    expect(() => parseVersionSelector('Prod')).toThrowError(/invalid alias 'Prod': use 1-63 lowercase letters/);
  });
});

describe('cursor', () => {
  const shape = { pk: (v: string) => v === 'MODEL#iris', sk: (v: string) => v.startsWith('VERSION#') };

  it('round-trips a key and rejects tampered cursors or cursors of another query', () => {
    const key = { pk: 'MODEL#iris', sk: 'VERSION#0000000002' };
    const cursor = encodeCursor(key);
    expect(decodeCursor(cursor, shape)).toEqual(key);
    expect(decodeCursor(undefined, shape)).toBeUndefined();
    expect(() => decodeCursor('not-a-cursor', shape)).toThrowError('invalid pagination cursor');
    expect(() => decodeCursor(encodeCursor({ pk: 'x', extra: 'y' }), shape)).toThrowError('invalid pagination cursor');
    expect(() => decodeCursor(encodeCursor({ pk: 'MODEL#other', sk: 'VERSION#0000000002' }), shape)).toThrowError('invalid pagination cursor');
    expect(() => decodeCursor(encodeCursor({ pk: 'MODEL#iris', sk: 'ALIAS#prod' }), shape)).toThrowError('invalid pagination cursor');
  });
});
