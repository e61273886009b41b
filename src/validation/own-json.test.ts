import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { parseOwnJson } from './own-json.js';
import { parseWith } from './strict-parse.js';

/** `{"a":[{"a":[…{"a":[1]}…]}]}`: `depth` objects, each holding an array holding the next. */
const nested = (depth: number): string => `${'{"a":['.repeat(depth)}1${']}'.repeat(depth)}`;

describe('parseOwnJson', () => {
  it('makes every object prototype-free and keeps built-in names, __proto__ included, as data', () => {
    const parsed = parseOwnJson('{"__proto__":{"x":1},"constructor":2,"list":[{"toString":3}]}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(parsed)).toBeNull();
    expect(Object.keys(parsed)).toEqual(['__proto__', 'constructor', 'list']);
    expect(Object.getPrototypeOf(parsed['__proto__'])).toBeNull();
    expect(parsed['constructor']).toBe(2);
    const [item] = parsed['list'] as Record<string, unknown>[];
    expect(Object.getPrototypeOf(item)).toBeNull();
    expect(item!['toString']).toBe(3);
  });

  it('parses JSON nested 100,000 deep without exhausting the stack, every object prototype-free down to the last', () => {
    const depth = 100_000;
    let current = parseOwnJson(nested(depth));
    let objects = 0;
    while (typeof current === 'object' && current !== null) {
      expect(Object.getPrototypeOf(current)).toBeNull();
      objects += 1;
      current = ((current as Record<string, unknown>)['a'] as unknown[])[0];
    }
    expect(objects).toBe(depth);
    expect(current).toBe(1);
  });

  it('parses scalars and deep arrays of scalars as JSON.parse does', () => {
    expect(parseOwnJson('"x"')).toBe('x');
    expect(parseOwnJson('null')).toBeNull();
    let current = parseOwnJson(`${'['.repeat(50_000)}1${']'.repeat(50_000)}`);
    let arrays = 0;
    for (; Array.isArray(current); arrays++) current = current[0] as unknown;
    expect([arrays, current]).toEqual([50_000, 1]);
  });

  it('lets a deeply nested body reach validation, which names the field (no engine error)', () => {
    const schema = z.object({ tags: z.record(z.string(), z.string()) });
    expect(() => parseWith(schema, parseOwnJson(`{"tags":{"k":${nested(5000)}}}`), 'model')).toThrowError(/^invalid model: tags\.k: /);
  });
});
