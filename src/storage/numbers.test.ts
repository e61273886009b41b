import { PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod/mini';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { InvalidRequestError } from '../errors.js';
import { isStorableNumber, storableNumbers, toStorable } from './numbers.js';
import { RegistryTable } from './table.js';

let env: TestEmulators;
beforeAll(async () => {
  env = await startTestEmulators();
});
afterAll(async () => env?.stop());

const put = (value: unknown) => env.dynamo.send(new PutCommand({ TableName: env.resources.tableName, Item: { pk: 'numbers', sk: String(Math.random()), value } }));

describe('the numbers the table holds', () => {
  it.each([0, 1e-130, -1e-130, 9.99e125, -9.99999999999999e125, 1.5, 2 ** 60])('holds %s, and dynalite stores it', async (value) => {
    // Act
    const storable = isStorableNumber(value);

    // Assess
    expect(storable).toBe(true);
    await expect(put(value)).resolves.toBeDefined();
  });

  it.each([1e126, -1e200, 1e-131, 1e-320, -1e-200])('refuses %s, as dynalite does', async (value) => {
    // Act
    const storable = isStorableNumber(value);

    // Assess
    expect(storable).toBe(false);
    await expect(put(value)).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('refuses NaN and ±Infinity', () => {
    expect([Number.NaN, Infinity, -Infinity].map(isStorableNumber)).toEqual([false, false, false]);
  });
});

describe('toStorable', () => {
  it('keeps the numbers the table cannot hold as text, anywhere in a value, and the write then succeeds', async () => {
    // Prepare
    const statistics = [{ name: 'v', min: -1e200, max: 1e200, mean: 5, std: Number.NaN, top: [{ value: 'a', count: 2 }] }, { name: 'w', min: 1e-320, max: Infinity }];

    // Act
    const stored = toStorable(statistics);
    const key = { pk: 'numbers', sk: 'statistics' };
    await env.dynamo.send(new PutCommand({ TableName: env.resources.tableName, Item: { ...key, stored } }));
    const read = await env.dynamo.send(new GetCommand({ TableName: env.resources.tableName, Key: key }));

    // Assess
    expect(read.Item?.['stored']).toEqual([
      { name: 'v', min: '-1e+200', max: '1e+200', mean: 5, std: 'NaN', top: [{ value: 'a', count: 2 }] },
      { name: 'w', min: '1e-320', max: 'Infinity' },
    ]);
  });

  it('returns a value with no such number as it is', () => {
    const metrics = { rmse: 0.5, r2: 0.9 };
    expect(toStorable(metrics)).toBe(metrics);
  });
});

describe('storableNumbers', () => {
  it('names the path of each number the table cannot hold, with the range', () => {
    // Act
    const result = z.record(z.string(), z.unknown()).check(storableNumbers).safeParse({ ok: 1, tolerance: 1e-200, nested: { list: [1, 1e200] } });

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['tolerance', '1e-200 is outside the range the registry stores (0 or a magnitude from 1e-130 to 9.99e125)'],
      ['nested.list.1', '1e+200 is outside the range the registry stores (0 or a magnitude from 1e-130 to 9.99e125)'],
    ]);
  });
});

describe('a number out of range that reaches the table anyway', () => {
  it('is the caller\'s fault (400 saying the range), not an internal error', async () => {
    // Prepare
    const table = new RegistryTable(env.dynamo, env.resources.tableName).named('model registry');

    // Act
    const write = table.send(() => table.db.send(new PutCommand({ TableName: table.tableName, Item: { pk: 'numbers', sk: 'unchecked', value: 1e-200 } })));

    // Assess
    await expect(write).rejects.toThrowError(InvalidRequestError);
    await expect(write).rejects.toThrowError('a number is outside the range the model registry stores (0 or a magnitude from 1e-130 to 9.99e125)');
  });
});
