import { describe, expect, it } from 'vitest';
import { ModelVersionUnavailableError } from '../errors.js';
import type { Serving } from '../inference/serving.js';
import { doublingServing } from '../../test/support/doubling-serving.js';
import { inputValue, scoreRows } from './score.js';

describe('inputValue', () => {
  it.each([
    ['12.5', 'FP32', 12.5],
    [' 7 ', 'INT64', 7],
    ['abc', 'FP32', 'abc'],
    ['0x5', 'FP32', '0x5'],
    ['0b101', 'INT64', '0b101'],
    ['Infinity', 'FP32', 'Infinity'],
    ['-.5e2', 'FP32', -50],
    ['', 'FP64', ''],
    ['true', 'BOOL', true],
    ['0', 'BOOL', false],
    ['yes', 'BOOL', 'yes'],
    ['own', 'BYTES', 'own'],
    [null, 'FP32', null],
    [3, 'FP32', 3],
  ])('turns %j for a %s input into %j', (cell, datatype, expected) => {
    expect(inputValue(cell, datatype)).toEqual(expected);
  });
});

describe('scoreRows', () => {
  it('scores rows in calls of the given size', async () => {
    // Prepare
    const calls: number[] = [];
    const rows = Array.from({ length: 5 }, (_, i) => ({ x: String(i) }));

    // Act
    const scored = await scoreRows(doublingServing({ calls }), { model: 'm', version: '1' }, [{ name: 'x', datatype: 'FP32' }], rows, 2);

    // Assess
    expect(scored).toEqual({ predictions: [0, 2, 4, 6, 8], rejected: [] });
    expect(calls).toEqual([2, 2, 1]);
  });

  it('isolates refused rows by halving the refused call, and scores the others', async () => {
    // Prepare
    const calls: number[] = [];
    const rows = [{ x: '1' }, { x: 'oops' }, { x: '3' }, { x: '4' }, { x: null }];

    // Act
    const scored = await scoreRows(doublingServing({ calls }), { model: 'm', version: '1' }, [{ name: 'x', datatype: 'FP32' }], rows);

    // Assess
    expect(scored.predictions).toEqual([2, undefined, 6, 8, undefined]);
    expect(scored.rejected).toEqual([
      { index: 1, reason: "input 'x': the row is not a number" },
      { index: 4, reason: "input 'x': the row is not a number" },
    ]);
  });

  it('throws failures that are not refusals of the rows, so the chunk is retried', async () => {
    // Prepare
    const failing: Serving = doublingServing({ failFirst: () => new ModelVersionUnavailableError('m', 1, 'loading') });

    // Act + Assess
    await expect(scoreRows(failing, { model: 'm', version: '1' }, [{ name: 'x', datatype: 'FP32' }], [{ x: '1' }])).rejects.toThrow(ModelVersionUnavailableError);
  });
});
