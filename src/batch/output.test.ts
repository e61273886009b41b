import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { encodeRejected, encodeRows, outputRows, partKey, predictionColumns, rejectedPartKey } from './output.js';

describe('predictionColumns', () => {
  it.each([
    [0.7, { prediction: 0.7 }],
    [[0.1, 0.9], { prediction_0: 0.1, prediction_1: 0.9 }],
    [{ label: 'yes', probabilities: [0.2, 0.8] }, { prediction_label: 'yes', prediction_probabilities_0: 0.2, prediction_probabilities_1: 0.8 }],
    [{ nested: { a: 1 } }, { prediction_nested: '{"a":1}' }],
  ])('spreads %j over columns', (prediction, columns) => {
    expect(predictionColumns(prediction)).toEqual(columns);
  });
});

describe('output parts', () => {
  it('names parts and rejected rows by chunk, so a redelivery rewrites its own', () => {
    expect(partKey('predictions/m/batch/j/', 42, 'parquet')).toBe('predictions/m/batch/j/part-00042.parquet');
    expect(rejectedPartKey('predictions/m/batch/j/', 42)).toBe('predictions/m/batch/j/rejected/part-00042.jsonl');
  });

  it('writes pass-through columns beside the predictions, leaves rejected rows out, and reads back as Parquet', async () => {
    // Prepare
    const rows = [{ id: 'a', x: '1' }, { id: 'b', x: 'bad' }, { id: 'c', x: '3' }];
    const scored = { predictions: [{ label: 'no' }, undefined, { label: 'yes' }], rejected: [{ index: 1, reason: 'bad x' }] };

    // Act
    const out = outputRows(rows, scored, ['id']);
    const parquet = encodeRows(out, 'parquet');
    const read = await parquetReadObjects({ file: parquet.buffer.slice(parquet.byteOffset, parquet.byteOffset + parquet.byteLength) as ArrayBuffer });
    const rejected = new TextDecoder().decode(encodeRejected(rows, scored.rejected, 100, ['id']));

    // Assess
    expect(out).toEqual([
      { id: 'a', prediction_label: 'no' },
      { id: 'c', prediction_label: 'yes' },
    ]);
    expect(read).toEqual(out);
    expect(rejected).toBe('{"row":101,"id":"b","reason":"bad x"}\n');
  });
});
