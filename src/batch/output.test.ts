import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { tableOfRecords } from './input.js';
import { encodeRejected, encodeTable, outputTable, partKey, rejectedPartKey } from './output.js';

describe('output parts', () => {
  it('names parts and rejected rows by chunk, so a redelivery rewrites its own', () => {
    expect(partKey('predictions/m/batch/j/', 42, 'parquet')).toBe('predictions/m/batch/j/part-00042.parquet');
    expect(rejectedPartKey('predictions/m/batch/j/', 42)).toBe('predictions/m/batch/j/rejected/part-00042.jsonl');
  });

  it.each(['parquet', 'jsonl'] as const)('writes pass-through columns beside the predictions as %s, and leaves rejected rows out', async (format) => {
    // Prepare
    const rows = tableOfRecords([{ id: 'a', x: '1' }, { id: 'b', x: 'bad' }, { id: 'c', x: '3' }, { id: null, x: '4' }]);
    const scored = {
      predictions: new Map([
        ['prediction_label', ['no', undefined, 'yes', 'no']],
        ['prediction_score', [0.25, undefined, 0.75, 0.5]],
      ]),
      rejected: [{ index: 1, reason: 'bad x' }],
    };

    // Act
    const encoded = encodeTable(outputTable(rows, scored, ['id']), format);
    const read =
      format === 'parquet'
        ? await parquetReadObjects({ file: encoded.buffer.slice(encoded.byteOffset, encoded.byteOffset + encoded.byteLength) as ArrayBuffer })
        : new TextDecoder().decode(encoded).trim().split('\n').map((line) => JSON.parse(line) as unknown);
    const rejected = new TextDecoder().decode(encodeRejected(rows, scored.rejected, 100, ['id']));

    // Assess
    expect(read).toEqual([
      { id: 'a', prediction_label: 'no', prediction_score: 0.25 },
      { id: 'c', prediction_label: 'yes', prediction_score: 0.75 },
      { id: null, prediction_label: 'no', prediction_score: 0.5 },
    ]);
    expect(rejected).toBe('{"row":101,"id":"b","reason":"bad x"}\n');
  });

  it('writes a column of mixed kinds as text in Parquet, and one of numbers as numbers', async () => {
    // Act
    const encoded = encodeTable({ rows: 3, columns: new Map<string, unknown[]>([['mixed', [1, 'two', true]], ['n', [1, null, 2.5]]]) }, 'parquet');
    const read = await parquetReadObjects({ file: encoded.buffer.slice(encoded.byteOffset, encoded.byteOffset + encoded.byteLength) as ArrayBuffer });

    // Assess
    expect(read).toEqual([
      { mixed: '1', n: 1 },
      { mixed: 'two', n: null },
      { mixed: 'true', n: 2.5 },
    ]);
  });
});
