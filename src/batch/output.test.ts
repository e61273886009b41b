import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { tableOfRecords } from './input.js';
import { encodeRejected, encodeRows, outputRows, partKey, rejectedPartKey } from './output.js';

describe('output parts', () => {
  it('names parts and rejected rows by chunk, so a redelivery rewrites its own', () => {
    expect(partKey('predictions/m/batch/j/', 42, 'parquet')).toBe('predictions/m/batch/j/part-00042.parquet');
    expect(rejectedPartKey('predictions/m/batch/j/', 42)).toBe('predictions/m/batch/j/rejected/part-00042.jsonl');
  });

  it('writes pass-through columns beside the predictions, leaves rejected rows out, and reads back as Parquet', async () => {
    // Prepare
    const rows = tableOfRecords([{ id: 'a', x: '1' }, { id: 'b', x: 'bad' }, { id: 'c', x: '3' }]);
    const scored = { predictions: new Map([['prediction_label', ['no', undefined, 'yes']]]), rejected: [{ index: 1, reason: 'bad x' }] };

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
