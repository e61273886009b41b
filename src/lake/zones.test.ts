import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import { assertDatasetName, curatedKey, isDatasetName, parseRawKey, rawKey, rejectedKey } from './zones.js';

describe('parseRawKey', () => {
  it('reads the dataset of a file under raw/<dataset>/, however deep', () => {
    // Act / Assess
    expect(parseRawKey('raw/sales/2024-01.csv')).toEqual({ kind: 'file', dataset: 'sales' });
    expect(parseRawKey('raw/sales.eu_v-2/sub/dir/file.csv.gz')).toEqual({ kind: 'file', dataset: 'sales.eu_v-2' });
  });

  it('accepts file names with spaces and unicode', () => {
    // Act / Assess
    expect(parseRawKey('raw/sales/Übersicht März 2024 (final).csv')).toEqual({ kind: 'file', dataset: 'sales' });
    expect(parseRawKey('raw/sales/データ.jsonl')).toEqual({ kind: 'file', dataset: 'sales' });
  });

  it('takes a key ending in a slash as a folder placeholder', () => {
    // Act / Assess
    expect(parseRawKey('raw/sales/')).toEqual({ kind: 'folder' });
    expect(parseRawKey('raw/sales/2024/')).toEqual({ kind: 'folder' });
    expect(parseRawKey('raw/')).toEqual({ kind: 'folder' });
  });

  it('refuses a key outside raw/', () => {
    // Act / Assess
    expect(parseRawKey('curated/sales/v=1/part-00000.parquet')).toEqual({ kind: 'refused', reason: "key 'curated/sales/v=1/part-00000.parquet' is not under raw/" });
    expect(parseRawKey('RAW/sales/a.csv').kind).toBe('refused');
  });

  it('refuses a file directly under raw/, naming where to drop it', () => {
    // Act / Assess
    expect(parseRawKey('raw/file.csv')).toEqual({ kind: 'refused', reason: "key 'raw/file.csv' names no dataset: drop files under raw/<dataset>/" });
  });

  it('refuses an invalid dataset name, naming it', () => {
    // Act
    const spaced = parseRawKey('raw/my sales/a.csv');
    const empty = parseRawKey('raw//a.csv');
    const dotted = parseRawKey('raw/.hidden/a.csv');
    // Assess
    expect(spaced).toEqual({ kind: 'refused', reason: "key 'raw/my sales/a.csv': 'my sales' is not a valid dataset name (1-128 letters, digits, '.', '_' or '-')" });
    expect(empty.kind).toBe('refused');
    expect(dotted).toMatchObject({ kind: 'refused', reason: expect.stringContaining("'.hidden' is not a valid dataset name") });
  });
});

describe('dataset names', () => {
  it('accepts 1-128 letters, digits, dots, underscores and dashes starting with a letter or digit', () => {
    // Act / Assess
    expect(['a', '0', 'Sales.EU_v-2', 'x'.repeat(128)].every(isDatasetName)).toBe(true);
    expect(['', '-a', '_a', '.a', 'a b', 'a/b', 'é', 'x'.repeat(129)].some(isDatasetName)).toBe(false);
  });

  it('asserts a name with a 400 naming the bad value', () => {
    // Act / Assess
    expect(assertDatasetName('sales')).toBe('sales');
    expect(() => assertDatasetName('a/b')).toThrowError(InvalidRequestError);
    expect(() => assertDatasetName('a/b')).toThrowError("invalid dataset name 'a/b'");
  });
});

describe('zone keys', () => {
  it('builds the curated, rejected and raw keys of a dataset', () => {
    // Act / Assess
    expect(curatedKey('sales', 3)).toBe('curated/sales/v=3/part-00000.parquet');
    expect(rejectedKey('sales', 3)).toBe('rejected/sales/v=3/rejected.jsonl');
    expect(rawKey('sales', 'jan 2024.csv')).toBe('raw/sales/jan 2024.csv');
  });

  it('builds raw keys that parse back to their dataset', () => {
    // Act / Assess
    expect(parseRawKey(rawKey('sales', 'Übersicht.csv'))).toEqual({ kind: 'file', dataset: 'sales' });
  });
});
