import { describe, expect, it } from 'vitest';
import type { ColumnType } from './column-types.js';
import { InvalidDataError } from './errors.js';
import { isColumnType, MAX_COLUMNS, planColumns, type DatasetSchema } from './schema.js';

const found = (...columns: [string, ColumnType][]) => columns.map(([name, type]) => ({ name, type }));

const declared: DatasetSchema = {
  columns: [
    { name: 'id', type: 'integer', nullable: false },
    { name: 'amount', type: 'float', nullable: true },
    { name: 'at', type: 'timestamp', nullable: false },
  ],
};

/** The error a call throws. */
function thrown(call: () => unknown): unknown {
  try {
    call();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

describe('planColumns', () => {
  it('keeps the inferred columns, in file order, when no schema is declared', () => {
    // Act
    const plan = planColumns(found(['b', 'string'], ['a', 'integer']), undefined, false);
    // Assess
    expect(plan).toEqual({
      source: [
        { name: 'b', type: 'string', required: false, keep: true },
        { name: 'a', type: 'integer', required: false, keep: true },
      ],
      output: ['b', 'a'],
      notes: [],
    });
  });

  it('takes the declared types and requirements over the inferred ones, and outputs the declared order', () => {
    // Act: the file has the columns in another order and other inferred types
    const plan = planColumns(found(['at', 'string'], ['amount', 'integer'], ['id', 'string']), declared, false);
    // Assess
    expect(plan.source).toEqual([
      { name: 'at', type: 'timestamp', required: true, keep: true },
      { name: 'amount', type: 'float', required: false, keep: true },
      { name: 'id', type: 'integer', required: true, keep: true },
    ]);
    expect(plan.output).toEqual(['id', 'amount', 'at']);
    expect(plan.notes).toEqual([]);
  });

  it('reads columns the schema does not declare as text, leaves them out and notes them', () => {
    // Act
    const plan = planColumns(found(['id', 'integer'], ['extra', 'float'], ['amount', 'float'], ['at', 'timestamp'], ['more', 'string']), declared, false);
    // Assess
    expect(plan.source.filter((c) => !c.keep)).toEqual([
      { name: 'extra', type: 'string', required: false, keep: false },
      { name: 'more', type: 'string', required: false, keep: false },
    ]);
    expect(plan.output).toEqual(['id', 'amount', 'at']);
    expect(plan.notes).toEqual(['columns not in the declared schema were left out of the curated data (the raw file keeps them): extra, more']);
  });

  it('fails naming a missing declared column and listing the columns found', () => {
    // Act
    const error = thrown(() => planColumns(found(['id', 'integer'], ['at', 'timestamp'], ['other', 'string']), declared, false));
    // Assess
    expect(error).toBeInstanceOf(InvalidDataError);
    expect((error as Error).message).toBe("declared column 'amount' missing from the file (found: id, at, other)");
  });

  it('names every missing declared column', () => {
    // Act / Assess
    expect(() => planColumns(found(['amount', 'float']), declared, false)).toThrowError("declared columns 'id', 'at' missing from the file (found: amount)");
  });

  it('matches a file without a header to the declared columns by position', () => {
    // Act
    const plan = planColumns(found(['column_1', 'integer'], ['column_2', 'string'], ['column_3', 'string']), declared, true);
    // Assess
    expect(plan.source).toEqual([
      { name: 'id', type: 'integer', required: true, keep: true },
      { name: 'amount', type: 'float', required: false, keep: true },
      { name: 'at', type: 'timestamp', required: true, keep: true },
    ]);
    expect(plan.output).toEqual(['id', 'amount', 'at']);
    expect(plan.notes).toEqual(['the file has no header: columns were matched to the declared schema by position']);
  });

  it('fails a file without a header whose column count differs from the declared one', () => {
    // Act
    const error = thrown(() => planColumns(found(['column_1', 'integer'], ['column_2', 'float']), declared, true));
    // Assess
    expect(error).toBeInstanceOf(InvalidDataError);
    expect((error as Error).message).toBe(
      'the file has no header and 2 columns, but the dataset declares 3 (id, amount, at); add a header row or match the declared columns',
    );
  });

  it('keeps the generated names of a file without a header when no schema is declared', () => {
    // Act
    const plan = planColumns(found(['column_1', 'integer'], ['column_2', 'float']), undefined, true);
    // Assess
    expect(plan.output).toEqual(['column_1', 'column_2']);
    expect(plan.notes).toEqual([]);
  });

  it('refuses a file wider than a dataset may be', () => {
    // Prepare
    const wide = Array.from({ length: MAX_COLUMNS + 1 }, (_, i) => ({ name: `c${i}`, type: 'string' as const }));
    // Act / Assess
    expect(() => planColumns(wide, undefined, false)).toThrowError(`the file has ${MAX_COLUMNS + 1} columns; a dataset may have at most ${MAX_COLUMNS}`);
    expect(planColumns(wide.slice(1), undefined, false).output).toHaveLength(MAX_COLUMNS);
  });
});

describe('isColumnType', () => {
  it('knows the column type names', () => {
    // Act / Assess
    expect(['integer', 'float', 'boolean', 'timestamp', 'string'].every(isColumnType)).toBe(true);
    expect(isColumnType('int')).toBe(false);
    expect(isColumnType('STRING')).toBe(false);
  });
});
