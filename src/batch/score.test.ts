import { describe, expect, it } from 'vitest';
import { ModelVersionUnavailableError } from '../errors.js';
import type { Serving } from '../inference/serving.js';
import { doublingServing } from '../../test/support/doubling-serving.js';
import { tableOfRecords } from './input.js';
import { cellReader, columnInputs, scoreRows } from './score.js';

describe('cellReader', () => {
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
    expect(cellReader(datatype)(cell)).toEqual(expected);
  });
});

describe('columnInputs', () => {
  const model = (missing: string[] = []) => ({
    inputs: new Map([
      ['x', { name: 'x', datatype: 'FP32' as const, shape: [-1, 1] }],
      ['c', { name: 'c', datatype: 'BYTES' as const, shape: [-1] }],
    ]),
    missingValueInputs: new Set(missing),
  });
  const features = [
    { name: 'x', datatype: 'FP32' },
    { name: 'c', datatype: 'BYTES' },
  ];
  const floats = (input: { bytes?: Uint8Array }) => Array.from(new Float32Array(input.bytes!.buffer));

  it('builds a float column whose cells all fit as the tensor\'s bytes, and a text column as values', () => {
    // Act
    const [x, c] = columnInputs(model(), features, tableOfRecords([{ x: ' 7 ', c: 'own' }, { x: 2.5, c: 'rent' }, { x: '1e3', c: null }]), 0, 3);

    // Assess
    expect(x).toMatchObject({ name: 'x', datatype: 'FP32', shape: [3, 1], data: [] });
    expect(floats(x!)).toEqual([7, 2.5, 1000]);
    expect(c).toMatchObject({ name: 'c', datatype: 'BYTES', shape: [3], data: ['own', 'rent', null] });
  });

  it('makes a missing value NaN where the model handles them', () => {
    // Act
    const [x] = columnInputs(model(['x']), features, tableOfRecords([{ x: '1' }, { x: null }]), 0, 2);

    // Assess
    expect(floats(x!)).toEqual([1, NaN]);
  });

  it.each([
    ['text that is no number', [{ x: '1' }, { x: 'oops' }], [1, 'oops']],
    ['a missing value the model does not handle', [{ x: '1' }, { x: null }], [1, null]],
    ['a decimal beyond FP32', [{ x: '1' }, { x: '1e39' }], [1, 1e39]],
  ])('gives a column with %s as values, for the model to name the row', (_case, rows, data) => {
    // Act
    const [x] = columnInputs(model(), features, tableOfRecords(rows), 0, 2);

    // Assess
    expect(x).toMatchObject({ data });
    expect(x!.bytes).toBeUndefined();
    expect(x!.elementName?.(1)).toBe('row 1');
  });
});

describe('scoreRows', () => {
  it('scores rows in calls of the given size', async () => {
    // Prepare
    const calls: number[] = [];
    const rows = Array.from({ length: 5 }, (_, i) => ({ x: String(i) }));

    // Act
    const scored = await scoreRows(doublingServing({ calls }), { model: 'm', version: '1' }, [{ name: 'x', datatype: 'FP32' }], tableOfRecords(rows), 2);

    // Assess
    expect(scored).toEqual({ predictions: new Map([['prediction', [0, 2, 4, 6, 8]]]), rejected: [] });
    expect(calls).toEqual([2, 2, 1]);
  });

  it('isolates refused rows by halving the refused call, and scores the others', async () => {
    // Prepare
    const calls: number[] = [];
    const rows = [{ x: '1' }, { x: 'oops' }, { x: '3' }, { x: '4' }, { x: null }];

    // Act
    const scored = await scoreRows(doublingServing({ calls }), { model: 'm', version: '1' }, [{ name: 'x', datatype: 'FP32' }], tableOfRecords(rows));

    // Assess
    expect(scored.predictions.get('prediction')).toEqual([2, undefined, 6, 8, undefined]);
    expect(scored.rejected).toEqual([
      { index: 1, reason: "input 'x': the row is the string 'oops'; expected a finite number" },
      { index: 4, reason: "input 'x': the row is null, but the model does not declare missing-value handling for this input (ONNX metadata 'missing_values'); send a number" },
    ]);
  });

  it('throws failures that are not refusals of the rows, so the chunk is retried', async () => {
    // Prepare
    const failing: Serving = doublingServing({ failFirst: () => new ModelVersionUnavailableError('m', 1, 'loading') });

    // Act + Assess
    await expect(scoreRows(failing, { model: 'm', version: '1' }, [{ name: 'x', datatype: 'FP32' }], tableOfRecords([{ x: '1' }]))).rejects.toThrow(ModelVersionUnavailableError);
  });
});
