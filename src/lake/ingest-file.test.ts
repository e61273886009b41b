import { DuckDBInstance } from '@duckdb/node-api';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ColumnType } from './column-types.js';
import { ingestFile, type FileIngestResult } from './ingest-file.js';
import type { DatasetSchema } from './schema.js';

let dir: string;
let workDir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lake-ingest-'));
  workDir = join(dir, 'work');
  await mkdir(workDir);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface IngestOptions {
  readonly declared?: DatasetSchema;
  readonly rejectThreshold?: number;
  readonly maxLineBytes?: number;
}

/** Writes `content` as the staged copy of `raw/sales/<name>` and ingests it. */
async function ingest(name: string, content: string | Uint8Array, options: IngestOptions = {}): Promise<FileIngestResult> {
  const sourcePath = join(dir, 'source');
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  await writeFile(sourcePath, bytes);
  return ingestStaged(name, sourcePath, bytes.length, options);
}

function ingestStaged(name: string, sourcePath: string, sizeBytes: number, options: IngestOptions = {}): Promise<FileIngestResult> {
  return ingestFile({
    sourcePath,
    key: `raw/sales/${name}`,
    sizeBytes,
    ...(options.declared === undefined ? {} : { declared: options.declared }),
    rejectThreshold: options.rejectThreshold ?? 1,
    engine: { workDir, memoryLimitMb: 128, threads: 1, maxLineBytes: options.maxLineBytes ?? 1 << 20 },
  });
}

/** Runs one query on a throwaway in-memory DuckDB, rows as JSON values (BIGINT as text, timestamps in UTC). */
async function query(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`SET TimeZone = 'UTC'`);
    return (await connection.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Writes a Parquet file with DuckDB from a SELECT. */
async function parquet(select: string): Promise<{ path: string; size: number }> {
  const path = join(dir, 'source.parquet');
  await query(`COPY (${select}) TO '${path}' (FORMAT parquet)`);
  return { path, size: (await stat(path)).size };
}

const curatedRows = (result: FileIngestResult) => query(`SELECT * FROM read_parquet('${expectDefined(result.curatedPath)}')`);
const curatedTypes = async (result: FileIngestResult) =>
  Object.fromEntries((await query(`DESCRIBE SELECT * FROM read_parquet('${expectDefined(result.curatedPath)}')`)).map((r) => [r.column_name, r.column_type]));

/** The rejected rows written by the engine. */
async function rejectedRows(result: FileIngestResult): Promise<Record<string, unknown>[]> {
  const text = await readFile(expectDefined(result.rejectedPath), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function expectDefined<T>(value: T | undefined): T {
  expect(value).toBeDefined();
  return value as T;
}

const schema = (...columns: [string, ColumnType, boolean][]): DatasetSchema => ({
  columns: columns.map(([name, type, nullable]) => ({ name, type, nullable })),
});

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('ingestFile: CSV', () => {
  const clean = 'id,price,ok,at,name\n1,1.5,true,2024-01-01T00:00:00Z,ann\n2,2.5,false,2024-01-03 12:00:00,bob\n3,,true,,ann\n';

  it('makes a clean CSV READY with an inferred schema and typed curated data', async () => {
    // Act
    const result = await ingest('clean.csv', clean);
    // Assess
    expect(result).toMatchObject({ status: 'READY', format: 'csv', gzip: false, rowsRead: 3, rowsAccepted: 3, rowsRejected: 0, notes: [] });
    expect(result.reason).toBeUndefined();
    expect(result.rejectedPath).toBeUndefined();
    expect(result.schema).toEqual({
      inferred: true,
      columns: [
        { name: 'id', type: 'integer', nullable: false },
        { name: 'price', type: 'float', nullable: true },
        { name: 'ok', type: 'boolean', nullable: false },
        { name: 'at', type: 'timestamp', nullable: true },
        { name: 'name', type: 'string', nullable: false },
      ],
    });
    expect(await curatedTypes(result)).toEqual({ id: 'BIGINT', price: 'DOUBLE', ok: 'BOOLEAN', at: 'TIMESTAMP WITH TIME ZONE', name: 'VARCHAR' });
    expect(await curatedRows(result)).toEqual([
      { id: '1', price: 1.5, ok: true, at: '2024-01-01 00:00:00+00', name: 'ann' },
      { id: '2', price: 2.5, ok: false, at: '2024-01-03 12:00:00+00', name: 'bob' },
      { id: '3', price: null, ok: true, at: null, name: 'ann' },
    ]);
  });

  it('measures every column: nulls, number ranges, timestamp ranges, top and distinct values', async () => {
    // Act
    const { statistics } = await ingest('clean.csv', clean);
    // Assess
    const [id, price, ok, at, name] = statistics;
    expect(id).toEqual({ name: 'id', type: 'integer', nullable: false, nulls: 0, min: 1, max: 3, mean: 2, std: 1 });
    expect(price).toMatchObject({ name: 'price', type: 'float', nullable: true, nulls: 1, min: 1.5, max: 2.5, mean: 2 });
    expect(price?.std).toBeCloseTo(Math.SQRT1_2, 12);
    expect(ok).toEqual({
      name: 'ok',
      type: 'boolean',
      nullable: false,
      nulls: 0,
      distinct: 2,
      top: [
        { value: 'true', count: 2 },
        { value: 'false', count: 1 },
      ],
    });
    expect(at).toEqual({ name: 'at', type: 'timestamp', nullable: true, nulls: 1, min: '2024-01-01T00:00:00.000Z', max: '2024-01-03T12:00:00.000Z' });
    expect(name).toEqual({
      name: 'name',
      type: 'string',
      nullable: false,
      nulls: 0,
      distinct: 2,
      top: [
        { value: 'ann', count: 2 },
        { value: 'bob', count: 1 },
      ],
    });
    expect(statistics).toHaveLength(5);
  });

  it('reads the null tokens as nulls and counts them', async () => {
    // Act
    const result = await ingest('nulls.csv', 'a,b\n1,NA\nnull,x\nN/A,NULL\n4,\n');
    // Assess
    expect(result.status).toBe('READY');
    expect(await curatedRows(result)).toEqual([
      { a: '1', b: null },
      { a: null, b: 'x' },
      { a: null, b: null },
      { a: '4', b: null },
    ]);
    expect(result.statistics.map((s) => [s.name, s.nulls])).toEqual([
      ['a', 2],
      ['b', 3],
    ]);
    expect(result.statistics[0]).toMatchObject({ min: 1, max: 4, mean: 2.5 });
  });

  it('stores timestamps with offsets as UTC instants', async () => {
    // Act
    const result = await ingest('times.csv', 'at\n2024-01-01T10:00:00+02:00\n2024-01-01 10:00:00-0530\n2024-02-29\n');
    // Assess
    expect(result.schema?.columns).toEqual([{ name: 'at', type: 'timestamp', nullable: false }]);
    expect((await curatedRows(result)).map((r) => r.at)).toEqual(['2024-01-01 08:00:00+00', '2024-01-01 15:30:00+00', '2024-02-29 00:00:00+00']);
    expect(result.statistics[0]).toMatchObject({ min: '2024-01-01T08:00:00.000Z', max: '2024-02-29T00:00:00.000Z' });
  });

  it('keeps numbers with leading zeros as text', async () => {
    // Act
    const result = await ingest('zips.csv', 'zip,n\n007,1\n01234,2\n');
    // Assess
    expect(result.schema?.columns.map((c) => c.type)).toEqual(['string', 'integer']);
    expect(await curatedRows(result)).toEqual([
      { zip: '007', n: '1' },
      { zip: '01234', n: '2' },
    ]);
  });

  it('reads a semicolon-separated file with decimal commas kept as text', async () => {
    // Act
    const result = await ingest('semi.csv', 'a;b;c\n1;2,5;x\n3;4;y\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 0 });
    expect(result.schema?.columns.map((c) => [c.name, c.type])).toEqual([
      ['a', 'integer'],
      ['b', 'string'],
      ['c', 'string'],
    ]);
    expect(await curatedRows(result)).toEqual([
      { a: '1', b: '2,5', c: 'x' },
      { a: '3', b: '4', c: 'y' },
    ]);
  });

  it('reads a gzip-compressed CSV', async () => {
    // Act
    const result = await ingest('sales.csv.gz', gzipSync('a,b\n1,x\n2,y\n'));
    // Assess
    expect(result).toMatchObject({ status: 'READY', format: 'csv', gzip: true, rowsRead: 2, rowsAccepted: 2 });
    expect(await curatedRows(result)).toEqual([
      { a: '1', b: 'x' },
      { a: '2', b: 'y' },
    ]);
  });

  it('reads CRLF line ends, quoted delimiters and quoted line breaks', async () => {
    // Act
    const result = await ingest('crlf.csv', 'a,b\r\n1,"x, y"\r\n2,"multi\r\nline ""quoted"""\r\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 0 });
    expect(await curatedRows(result)).toEqual([
      { a: '1', b: 'x, y' },
      { a: '2', b: 'multi\r\nline "quoted"' },
    ]);
  });

  it('reads a CRLF file whose header and data have quoted line breaks (as Python csv and Excel write them)', async () => {
    // Act: the first line break of the file is inside the quoted header name
    const result = await ingest('crlf-header.csv', 'a,"multi\nline",c\r\n0,0,0\r\n1,"x\ny",1\r\n2,4,2\r\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 3, rowsAccepted: 3, rowsRejected: 0 });
    expect(result.schema?.columns.map((c) => c.name)).toEqual(['a', 'multi\nline', 'c']);
    expect(await curatedRows(result)).toEqual([
      { a: '0', 'multi\nline': '0', c: '0' },
      { a: '1', 'multi\nline': 'x\ny', c: '1' },
      { a: '2', 'multi\nline': '4', c: '2' },
    ]);
  });

  it('fails a gzip CSV whose header has a quoted line break, saying what to do', async () => {
    // Act
    const result = await ingest('crlf-header.csv.gz', gzipSync('a,"multi\nline"\r\n0,0\r\n'));
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', reason: expect.stringContaining('drop it uncompressed') });
  });

  it('reads backslash-escaped quotes', async () => {
    // Act
    const result = await ingest('escaped.csv', 'id,q\n1,"say \\"hi\\""\n2,plain\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 0 });
    expect(await curatedRows(result)).toEqual([
      { id: '1', q: 'say "hi"' },
      { id: '2', q: 'plain' },
    ]);
  });

  it('names blank and duplicate header columns, with notes', async () => {
    // Act
    const result = await ingest('dups.csv', 'a,a,\n1,2,3\n');
    // Assess
    expect(result.schema?.columns.map((c) => c.name)).toEqual(['a', 'a_2', 'column_3']);
    expect(result.notes).toEqual(["header column 2 ('a') was named 'a_2'", "header column 3 ('') was named 'column_3'"]);
    expect(await curatedRows(result)).toEqual([{ a: '1', a_2: '2', column_3: '3' }]);
  });

  it('names the columns of a file without a header column_1..n', async () => {
    // Act
    const result = await ingest('nohead.csv', '1,2.5\n3,4.5\n');
    // Assess
    expect(result.schema?.columns.map((c) => [c.name, c.type])).toEqual([
      ['column_1', 'integer'],
      ['column_2', 'float'],
    ]);
    expect(result.rowsAccepted).toBe(2);
  });

  it('rejects ragged rows with their line numbers, keeping the others', async () => {
    // Act
    const result = await ingest('ragged.csv', 'a,b\n1,2\n3\n4,5,6\n7,8\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 4, rowsAccepted: 2, rowsRejected: 2 });
    expect(await rejectedRows(result)).toEqual([
      { line: 3, errors: ['missing columns'], reasons: ['Expected Number of Columns: 2 Found: 1'], raw: '3' },
      { line: 4, errors: ['too many columns'], reasons: ['Expected Number of Columns: 2 Found: 3'], raw: '4,5,6' },
    ]);
    expect(await curatedRows(result)).toEqual([
      { a: '1', b: '2' },
      { a: '7', b: '8' },
    ]);
  });

  it('rejects an unterminated quoted value running to the end of the file', async () => {
    // Act
    const result = await ingest('open.csv', 'a,b\n1,x\n2,"open\n3,y\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 1, rowsRejected: 1 });
    const [rejected] = await rejectedRows(result);
    expect(rejected).toMatchObject({ line: 3, reasons: ['unterminated quote: the quoted value runs to the end of the file'] });
    expect(rejected?.raw).toContain('"open');
  });

  it('rejects a line that is not valid UTF-8', async () => {
    // Prepare
    const bytes = Buffer.concat([Buffer.from('a,b\n1,x\n2,'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('\n3,z\n')]);
    // Act
    const result = await ingest('latin.csv', bytes);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 3, rowsAccepted: 2, rowsRejected: 1 });
    const [rejected] = await rejectedRows(result);
    expect(rejected).toMatchObject({ line: 3, errors: ['invalid encoding'] });
    expect(String((rejected?.reasons as string[])[0])).toMatch(/not utf-8 encoded/i);
  });

  it('leaves the lines it rejects for their encoding out of type inference', async () => {
    // Prepare: the only text in column a is the bad bytes of the rejected line
    const bytes = Buffer.concat([Buffer.from('a,b\n'), Buffer.from([0xff, 0xfe]), Buffer.from(',1\n2,3\n4,5\n')]);
    // Act
    const result = await ingest('badutf.csv', bytes);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 1 });
    expect(result.schema?.columns.map((c) => [c.name, c.type])).toEqual([
      ['a', 'integer'],
      ['b', 'integer'],
    ]);
    expect(result.notes).toEqual([]);
  });

  it('rejects a line longer than the limit with its number', async () => {
    // Act
    const result = await ingest('long.csv', `a,b\n1,x\n2,${'y'.repeat(3000)}\n3,z\n`, { maxLineBytes: 1024 });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 3, rowsAccepted: 2, rowsRejected: 1 });
    const [rejected] = await rejectedRows(result);
    expect(rejected).toMatchObject({ line: 3, errors: ['line size over maximum'] });
    expect((rejected?.reasons as string[])[0]).toMatch(/Maximum line size of 1024 bytes exceeded/);
  });

  it('types a mostly-integer column with odd values as string, with a note', async () => {
    // Act
    const result = await ingest('mixed.csv', 'n,s\n1,a\n2,b\n3,c\nx4,d\n5,e\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 5, rowsRejected: 0 });
    expect(result.schema?.columns[0]).toEqual({ name: 'n', type: 'string', nullable: false });
    expect(result.notes).toEqual([
      "column 'n': its 5 sampled values mix kinds (numbers: 4, e.g. '1'; text: 1, e.g. 'x4'), so it was typed string; declare its type in the dataset schema to reject the rows that do not fit instead",
    ]);
  });

  it('notes a column typed string because of a mix of numbers and text, whatever the mix (hex, 1_000, beyond int64)', async () => {
    // Act
    const result = await ingest('mixed.csv', 'n,s\n1,a\n2.5,b\n0x10,c\n1_000,d\n3.0,e\n99999999999999999999,f\n');
    // Assess
    expect(result.schema?.columns[0]).toMatchObject({ name: 'n', type: 'string' });
    expect(result.notes).toEqual([expect.stringContaining("column 'n': its 6 sampled values mix kinds (numbers: 4, e.g. '1'; text: 2, e.g. '0x10')")]);
  });

  it.each([
    ['CSV', 'builtins.csv', '__proto__,constructor,toString\n1,2,a\n3,4,b\n'],
    ['JSON Lines', 'builtins.jsonl', '{"__proto__":1,"constructor":2,"toString":"a"}\n{"__proto__":3,"constructor":4,"toString":"b"}\n'],
  ])('ingests %s columns named like JavaScript built-ins as ordinary columns', async (_, name, content) => {
    // Act
    const result = await ingest(name, content);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 0 });
    expect(result.schema?.columns.map((c) => [c.name, c.type])).toEqual([['__proto__', 'integer'], ['constructor', 'integer'], ['toString', 'string']]);
    expect(result.statistics.map((s) => [s.name, s.nulls])).toEqual([['__proto__', 0], ['constructor', 0], ['toString', 0]]);
  });

  it('rejects the odd values of a declared integer column, naming the value', async () => {
    // Act
    const result = await ingest('mixed.csv', 'n,s\n1,a\n2,b\n3,c\nx4,d\n5,e\n', { declared: schema(['n', 'integer', true], ['s', 'string', true]) });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 5, rowsAccepted: 4, rowsRejected: 1, notes: [] });
    expect(result.schema).toEqual({
      inferred: false,
      columns: [
        { name: 'n', type: 'integer', nullable: true },
        { name: 's', type: 'string', nullable: true },
      ],
    });
    expect(await rejectedRows(result)).toEqual([
      { line: 5, errors: ['cast'], reasons: ['Error when converting column "n". Could not convert string "x4" to integer'], raw: 'x4,d' },
    ]);
  });

  it('rejects a decimal in a declared integer column rather than rounding it', async () => {
    // Act
    const result = await ingest('decimal.csv', 'n\n1\n2.5\n', { declared: schema(['n', 'integer', true]) });
    // Assess
    expect(result).toMatchObject({ rowsAccepted: 1, rowsRejected: 1 });
    expect(await curatedRows(result)).toEqual([{ n: '1' }]);
    expect(await rejectedRows(result)).toEqual([{ reasons: ['column "n": 2.5 is not an integer'], raw: '{"n":"2.5"}' }]);
  });

  it('uses the declared column order and leaves undeclared columns out, with a note', async () => {
    // Act
    const result = await ingest('extra.csv', 'extra,b,a\nx,2,1\ny,4,3\n', { declared: schema(['a', 'integer', false], ['b', 'float', true]) });
    // Assess
    expect(result.status).toBe('READY');
    expect(result.notes).toEqual(['columns not in the declared schema were left out of the curated data (the raw file keeps them): extra']);
    expect(await curatedTypes(result)).toEqual({ a: 'BIGINT', b: 'DOUBLE' });
    expect(await curatedRows(result)).toEqual([
      { a: '1', b: 2 },
      { a: '3', b: 4 },
    ]);
    expect(result.statistics.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('matches a file without a header to the declared columns by position', async () => {
    // Act
    const result = await ingest('nohead.csv', '1,2.5,x\n3,4.5,y\n', { declared: schema(['id', 'integer', false], ['v', 'float', true], ['w', 'string', true]) });
    // Assess
    expect(result.notes).toEqual(['the file has no header: columns were matched to the declared schema by position']);
    expect(await curatedRows(result)).toEqual([
      { id: '1', v: 2.5, w: 'x' },
      { id: '3', v: 4.5, w: 'y' },
    ]);
  });

  it('fails a file missing a declared column, naming it', async () => {
    // Act
    const result = await ingest('missing.csv', 'id,other\n1,2\n', { declared: schema(['id', 'integer', false], ['amount', 'float', true]) });
    // Assess
    expect(result).toEqual({
      status: 'FAILED',
      reason: "declared column 'amount' missing from the file (found: id, other)",
      rowsRead: 0,
      rowsAccepted: 0,
      rowsRejected: 0,
      statistics: [],
      notes: [],
    });
  });

  it('rejects an empty value of a required number column as required but empty', async () => {
    // Act
    const result = await ingest('required.csv', 'n,s\n1,a\n,b\n3,\n', { declared: schema(['n', 'integer', false], ['s', 'string', true]) });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 3, rowsAccepted: 2, rowsRejected: 1 });
    expect(await rejectedRows(result)).toMatchObject([{ line: 3, reasons: ['column "n" is required but empty'], raw: ',b' }]);
    expect(await curatedRows(result)).toEqual([
      { n: '1', s: 'a' },
      { n: '3', s: null },
    ]);
  });

  it('rejects an empty value or null token of a required text column as required but empty', async () => {
    // Act
    const result = await ingest('required.csv', 'n,s\n1,a\n2,\n3,NA\n', { declared: schema(['n', 'integer', true], ['s', 'string', false]) });
    // Assess
    expect(result).toMatchObject({ rowsRead: 3, rowsAccepted: 1, rowsRejected: 2 });
    // Checked after parsing: the row's values stand in for its line number.
    expect(await rejectedRows(result)).toEqual([
      { reasons: ['column "s" is required but empty'], raw: '{"n":"2","s":null}' },
      { reasons: ['column "s" is required but empty'], raw: '{"n":"3","s":null}' },
    ]);
  });

  it('fails a file with a header but no data rows', async () => {
    // Act
    const result = await ingest('header.csv', 'a,b\n');
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', reason: 'the file has a header (a, b) but no data rows', rowsRead: 0 });
  });

  it('fails a blank file and an empty one', async () => {
    // Act
    const blank = await ingest('blank.csv', '\n  \n\n');
    const empty = await ingest('empty.csv', '');
    // Assess
    expect(blank).toMatchObject({ status: 'FAILED', reason: 'the file has no data: it is blank' });
    expect(empty).toMatchObject({ status: 'FAILED', reason: 'the file is empty (0 bytes)' });
    expect(await exists(join(workDir, 'curated.parquet'))).toBe(false);
  });

  it('fails a file that is not data, whatever its name', async () => {
    // Act
    const result = await ingest('photo.csv', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]));
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', reason: 'the file is a PNG image, not CSV, JSON Lines or Parquet' });
  });

  it('fails a version whose share of rejected rows exceeds the threshold, still counting rows and writing the rejected ones', async () => {
    // Act
    const result = await ingest('bad.csv', 'a,b\n1,2\nx,3\ny,4\n', { declared: schema(['a', 'integer', true], ['b', 'integer', true]), rejectThreshold: 0.1 });
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', rowsRead: 3, rowsAccepted: 1, rowsRejected: 2 });
    expect(result.reason).toBe('2 of 3 rows (66.7 %) were rejected; the dataset allows 10 % (see the rejected rows)');
    expect((await rejectedRows(result)).map((r) => r.line)).toEqual([3, 4]);
    expect(await exists(expectDefined(result.curatedPath))).toBe(true);
  });

  it('accepts a share of rejected rows equal to the threshold', async () => {
    // Act
    const result = await ingest('quarter.csv', 'a\n1\n2\n3\nx\n', { declared: schema(['a', 'integer', true]), rejectThreshold: 0.25 });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 4, rowsAccepted: 3, rowsRejected: 1 });
    expect(result.reason).toBeUndefined();
  });

  it('fails a version with every row rejected, with no curated data or statistics', async () => {
    // Act
    const result = await ingest('all-bad.csv', 'a\nx\ny\n', { declared: schema(['a', 'integer', true]), rejectThreshold: 0.5 });
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', rowsRead: 2, rowsAccepted: 0, rowsRejected: 2, statistics: [] });
    expect(result.reason).toBe('2 of 2 rows (100 %) were rejected; the dataset allows 50 % (see the rejected rows)');
    expect(result.curatedPath).toBeUndefined();
    expect(await rejectedRows(result)).toHaveLength(2);
  });
});

describe('ingestFile: JSON Lines', () => {
  it('infers the schema and rejects invalid JSON and non-object lines with their row numbers', async () => {
    // Act
    const result = await ingest('rows.jsonl', '{"a":1,"b":"x"}\n{"a":2,"b":"y"}\nnot json\n[1,2]\n{"a":3,"b":"z","c":true}\n{"a":\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', format: 'jsonl', gzip: false, rowsRead: 6, rowsAccepted: 3, rowsRejected: 3 });
    expect(result.schema).toEqual({
      inferred: true,
      columns: [
        { name: 'a', type: 'integer', nullable: false },
        { name: 'b', type: 'string', nullable: false },
        { name: 'c', type: 'boolean', nullable: true },
      ],
    });
    expect(await rejectedRows(result)).toEqual([
      { row: 3, reasons: ['not valid JSON'], raw: 'not json' },
      { row: 4, reasons: ['not a JSON object'], raw: '[1,2]' },
      { row: 6, reasons: ['not valid JSON'], raw: '{"a":' },
    ]);
    expect(await curatedRows(result)).toEqual([
      { a: '1', b: 'x', c: null },
      { a: '2', b: 'y', c: null },
      { a: '3', b: 'z', c: true },
    ]);
  });

  it('rejects values that do not fit a declared type, and gives a bad line only its own reason', async () => {
    // Act
    const result = await ingest('rows.jsonl', '{"a":1,"b":"x"}\n{"a":"four","b":"w"}\nnot json\n{"b":"v"}\n', { declared: schema(['a', 'integer', false], ['b', 'string', true]) });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 4, rowsAccepted: 1, rowsRejected: 3 });
    expect(await rejectedRows(result)).toEqual([
      { row: 2, reasons: ['column "a": four is not integer'], raw: '{"a":"four","b":"w"}' },
      { row: 3, reasons: ['not valid JSON'], raw: 'not json' },
      { row: 4, reasons: ['column "a" is required but empty'], raw: '{"b":"v"}' },
    ]);
  });

  it('rejects a decimal in a declared integer field rather than rounding it', async () => {
    // Act
    const result = await ingest('rows.jsonl', '{"a":1}\n{"a":2.5}\n', { declared: schema(['a', 'integer', true]) });
    // Assess
    expect(result).toMatchObject({ rowsAccepted: 1, rowsRejected: 1 });
    expect(await rejectedRows(result)).toMatchObject([{ row: 2, reasons: ['column "a": 2.5 is not integer'] }]);
  });

  it('leaves undeclared fields seen in the sample out, with a note', async () => {
    // Act
    const result = await ingest('rows.jsonl', '{"a":1,"c":true}\n{"a":2}\n', { declared: schema(['a', 'integer', false]) });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 0 });
    expect(result.notes).toEqual(['columns not in the declared schema were left out of the curated data (the raw file keeps them): c']);
    expect(await curatedRows(result)).toEqual([{ a: '1' }, { a: '2' }]);
  });

  it('rejects a row with a field the sampled start of the file never had', async () => {
    // Prepare: the sample is the first MiB; the odd field comes after it
    const lines = Array.from({ length: 90_000 }, (_, i) => `{"a":${100_000 + i}}`);
    lines.push('{"a":1,"zz":2,"yy":3}');
    // Act
    const result = await ingest('late.jsonl', `${lines.join('\n')}\n`);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 90_001, rowsAccepted: 90_000, rowsRejected: 1 });
    expect(result.schema?.columns).toEqual([{ name: 'a', type: 'integer', nullable: false }]);
    expect(await rejectedRows(result)).toEqual([{ row: 90_001, reasons: ['fields not in the dataset schema: zz, yy'], raw: '{"a":1,"zz":2,"yy":3}' }]);
  });

  it('numbers rows by record, skipping blank lines', async () => {
    // Act
    const result = await ingest('rows.jsonl', '{"a":1}\n\n{"a":"x"}\n', { declared: schema(['a', 'integer', true]) });
    // Assess
    expect(await rejectedRows(result)).toMatchObject([{ row: 2, raw: '{"a":"x"}' }]);
  });

  it('reads gzip-compressed JSON Lines', async () => {
    // Act
    const result = await ingest('rows.jsonl.gz', gzipSync('{"a":1,"t":"2024-05-01T12:00:00Z"}\n{"a":2.5,"t":null}\n'));
    // Assess
    expect(result).toMatchObject({ status: 'READY', format: 'jsonl', gzip: true, rowsAccepted: 2 });
    expect(result.schema?.columns).toEqual([
      { name: 'a', type: 'float', nullable: false },
      { name: 't', type: 'timestamp', nullable: true },
    ]);
    expect(await curatedRows(result)).toEqual([
      { a: 1, t: '2024-05-01 12:00:00+00' },
      { a: 2.5, t: null },
    ]);
  });

  it('fails a file with no JSON object in its sample', async () => {
    // Act
    const result = await ingest('rows.jsonl', '[1]\n"x"\nnope\n');
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', reason: `no line of the first ${1024 * 1024} bytes is a JSON object: the file is not JSON Lines` });
  });

  it('rejects a line that is not valid UTF-8 instead of failing the ingestion', async () => {
    // Prepare
    const bytes = Buffer.concat([Buffer.from('{"a":"x"}\n{"a":"'), Buffer.from([0xff]), Buffer.from('"}\n{"a":"z"}\n')]);
    // Act
    const result = await ingest('latin.jsonl', bytes);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 3, rowsAccepted: 2, rowsRejected: 1 });
    expect(await rejectedRows(result)).toMatchObject([{ line: 2, errors: ['invalid encoding'] }]);
  });

  it('leaves the lines it rejects for their encoding out of type inference', async () => {
    // Prepare
    const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff]), Buffer.from('"}\n{"a":2}\n{"a":3}\n')]);
    // Act
    const result = await ingest('badutf.jsonl', bytes);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 1 });
    expect(result.schema?.columns).toEqual([{ name: 'a', type: 'integer', nullable: false }]);
  });

  it('keeps objects and arrays as their JSON text, with a note naming the field', async () => {
    // Act
    const result = await ingest('nested.jsonl', '{"a":1,"b":{"c":2}}\n{"a":2,"b":[1,2]}\n{"a":3,"b":null}\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 3 });
    expect(result.schema?.columns.map((c) => [c.name, c.type])).toEqual([
      ['a', 'integer'],
      ['b', 'string'],
    ]);
    expect(result.notes).toEqual([`column 'b': objects and arrays are kept as their JSON text (e.g. '{"c":2}'), in a string column`]);
    expect((await curatedRows(result)).map((r) => r.b)).toEqual(['{"c":2}', '[1,2]', null]);
  });

  it('rejects a line longer than the limit instead of failing the ingestion', async () => {
    // Act
    const result = await ingest('long.jsonl', `{"a":"x"}\n{"a":"${'y'.repeat(3000)}"}\n{"a":"z"}\n`, { maxLineBytes: 1024 });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 3, rowsAccepted: 2, rowsRejected: 1 });
    expect(await rejectedRows(result)).toMatchObject([{ line: 2, errors: ['line size over maximum'] }]);
  });
});

describe('ingestFile: Parquet', () => {
  it('takes the types of a Parquet file and measures it', async () => {
    // Prepare
    const { path, size } = await parquet(
      `SELECT * FROM (VALUES (1::INTEGER, 'a', 1.5::DOUBLE, TIMESTAMPTZ '2024-01-01 00:00:00+00', true),
                             (2::INTEGER, NULL, 2.5::DOUBLE, NULL, false)) t(id, name, x, "at", ok)`,
    );
    // Act
    const result = await ingestStaged('data.parquet', path, size);
    // Assess
    expect(result).toMatchObject({ status: 'READY', format: 'parquet', gzip: false, rowsRead: 2, rowsAccepted: 2, rowsRejected: 0 });
    expect(result.schema?.columns).toEqual([
      { name: 'id', type: 'integer', nullable: false },
      { name: 'name', type: 'string', nullable: true },
      { name: 'x', type: 'float', nullable: false },
      { name: 'at', type: 'timestamp', nullable: true },
      { name: 'ok', type: 'boolean', nullable: false },
    ]);
    expect(await curatedTypes(result)).toEqual({ id: 'BIGINT', name: 'VARCHAR', x: 'DOUBLE', at: 'TIMESTAMP WITH TIME ZONE', ok: 'BOOLEAN' });
    expect(result.statistics[0]).toEqual({ name: 'id', type: 'integer', nullable: false, nulls: 0, min: 1, max: 2, mean: 1.5, std: Math.SQRT1_2 });
    expect(result.statistics[3]).toEqual({ name: 'at', type: 'timestamp', nullable: true, nulls: 1, min: '2024-01-01T00:00:00.000Z', max: '2024-01-01T00:00:00.000Z' });
  });

  it('types an unsigned 64-bit integer column with values beyond int64 float, with a note, and keeps its rows', async () => {
    // Prepare
    const { path, size } = await parquet(
      `SELECT i::INTEGER AS id, (CASE WHEN i = 2 THEN 18446744073709551615 ELSE i END)::UBIGINT AS ubig, i::UBIGINT AS usmall
       FROM range(1, 5) t(i)`,
    );
    // Act
    const result = await ingestStaged('odd.parquet', path, size);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 4, rowsRejected: 0 });
    expect(result.schema?.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['ubig', 'float'],
      ['usmall', 'integer'],
    ]);
    expect(result.notes).toEqual([
      "column 'ubig': an integer beyond int64 (18446744073709551615), so it was typed float (values beyond 2^53 are rounded); declare it string to keep every digit",
    ]);
    expect((await curatedRows(result))[1]).toMatchObject({ ubig: 2 ** 64, usmall: '2' });
    // Declared integer: the row is rejected, saying the integer is beyond int64 (not that it is no integer)
    const declared = await ingestStaged('odd.parquet', path, size, { declared: schema(['id', 'integer', true], ['ubig', 'integer', true], ['usmall', 'integer', true]) });
    expect(declared).toMatchObject({ rowsAccepted: 3, rowsRejected: 1 });
    expect((await rejectedRows(declared))[0]).toMatchObject({ row: 2, reasons: ['column "ubig": 18446744073709551615 is beyond the integer range (int64)'] });
  });

  it('keeps structs, lists and maps as their JSON text, as for JSON Lines, with a note naming each column', async () => {
    // Prepare
    const { path, size } = await parquet(`SELECT 1 AS id, {'a': 0, 'b': 'x'} AS st, [1, 2] AS li, MAP {'k': 'v'} AS mp`);
    // Act
    const result = await ingestStaged('nested.parquet', path, size);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 1 });
    expect(result.schema?.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'integer'],
      ['st', 'string'],
      ['li', 'string'],
      ['mp', 'string'],
    ]);
    expect(result.notes).toEqual(['st', 'li', 'mp'].map((c) => `column '${c}': objects and arrays are kept as their JSON text, in a string column`));
    expect(await curatedRows(result)).toEqual([{ id: '1', st: '{"a":0,"b":"x"}', li: '[1,2]', mp: '{"k":"v"}' }]);
  });

  it('re-ingests its own curated output unchanged', async () => {
    // Prepare
    const first = await ingest('clean.csv', 'id,name\n1,a\n2,b\n');
    const curated = join(dir, 'curated-copy.parquet');
    await writeFile(curated, await readFile(expectDefined(first.curatedPath)));
    // Act
    const second = await ingestStaged('again.parquet', curated, (await stat(curated)).size);
    // Assess
    expect(second.schema).toEqual(first.schema);
    expect(second.statistics).toEqual(first.statistics);
  });

  it('rejects rows whose values do not fit the declared types, with their row numbers', async () => {
    // Prepare
    const { path, size } = await parquet(`SELECT * FROM (VALUES ('1', 'a'), ('x', 'b'), (NULL, 'c')) t(id, name)`);
    // Act
    const result = await ingestStaged('data.parquet', path, size, { declared: schema(['id', 'integer', false], ['name', 'string', true]) });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 3, rowsAccepted: 1, rowsRejected: 2 });
    expect(await rejectedRows(result)).toEqual([
      { row: 2, reasons: ['column "id": x is not integer'], raw: '{"id":"x","name":"b"}' },
      { row: 3, reasons: ['column "id" is required but empty'], raw: '{"id":null,"name":"c"}' },
    ]);
    expect(await curatedRows(result)).toEqual([{ id: '1', name: 'a' }]);
  });

  it('fails a Parquet file missing a declared column', async () => {
    // Prepare
    const { path, size } = await parquet(`SELECT 1 AS id`);
    // Act
    const result = await ingestStaged('data.parquet', path, size, { declared: schema(['id', 'integer', false], ['other', 'string', true]) });
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', reason: "declared column 'other' missing from the file (found: id)" });
  });

  it('fails a file with the Parquet magic that is not readable Parquet', async () => {
    // Act
    const result = await ingest('broken.parquet', 'PAR1 this is not really parquet');
    // Assess
    expect(result.status).toBe('FAILED');
    expect(result.reason).toMatch(/^the file is not a readable Parquet file: /);
  });
});

describe('ingestFile: integers are never altered', () => {
  it('rejects hex, digit separators and exponents in an integer column, accepting 3.0 as 3', async () => {
    // Act
    const result = await ingest('ints.csv', 'n\n1\n0x1F\n1_000\n1e3\n3.0\n', { declared: schema(['n', 'integer', true]) });
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 5, rowsAccepted: 2, rowsRejected: 3 });
    expect(await curatedRows(result)).toEqual([{ n: '1' }, { n: '3' }]);
    expect((await rejectedRows(result)).map((r) => r.raw)).toEqual(['{"n":"0x1F"}', '{"n":"1_000"}', '{"n":"1e3"}']);
  });
});

describe('ingestFile: files the engine cannot take', () => {
  it('fails JSON Lines whose fields differ only in case, naming them, instead of renaming one silently', async () => {
    // Act
    const result = await ingest('case.jsonl', '{"Id":1,"id":2}\n');
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', reason: "columns 'Id' and 'id' differ only in case; column names are case-insensitive in the curated data: rename one" });
  });

  it('renames CSV header names that differ only in case, with a note', async () => {
    // Act
    const result = await ingest('case.csv', 'Name,name\na,b\n');
    // Assess
    expect(result.status).toBe('READY');
    expect(result.schema?.columns.map((c) => c.name)).toEqual(['Name', 'name_2']);
    expect(result.notes).toEqual(["header column 2 ('name') was named 'name_2'"]);
  });

  it('fails JSON Lines whose records have no fields', async () => {
    // Act
    const result = await ingest('empty-objects.jsonl', '{}\n{}\n');
    // Assess
    expect(result).toMatchObject({ status: 'FAILED', reason: 'the file has no columns (no field in any sampled record)' });
  });

  it('keeps text values with NUL characters, and counts them among the top values', async () => {
    // Act
    const result = await ingest('nul.jsonl', '{"s":"a\\u0000b"}\n{"s":"a\\u0000b"}\n{"s":"c"}\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 3 });
    expect(result.statistics[0]?.top).toEqual([
      { value: 'a\u0000b', count: 2 },
      { value: 'c', count: 1 },
    ]);
  });
});

describe('ingestFile: numbers beyond the ranges of their types', () => {
  const huge = '1'.repeat(80_000);
  const outOfRange = (value: string) => `column "v": ${value} is out of the float range (finite values up to ±1.8e308)`;

  it('rejects the rows of infinite floats, each with its reason, and measures the others', async () => {
    // Act: one file with an overflowing exponent, an 80,000-digit integer and an infinity among floats
    const result = await ingest('extreme.csv', `v,w\n1.5,a\n1e309,b\n${huge},c\n-inf,d\nNaN,e\n2.5,f\n`);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsRead: 6, rowsAccepted: 3, rowsRejected: 3 });
    expect(result.schema?.columns[0]).toEqual({ name: 'v', type: 'float', nullable: false });
    expect(await rejectedRows(result)).toEqual([
      { reasons: [outOfRange('1e309')], raw: '{"v":"1e309","w":"b"}' },
      { reasons: [outOfRange(`${'1'.repeat(80)}… (80000 characters)`)], raw: `{"v":"${huge}","w":"c"}` },
      { reasons: [outOfRange('-inf')], raw: '{"v":"-inf","w":"d"}' },
    ]);
    expect((await curatedRows(result)).map((r) => r.w)).toEqual(['a', 'e', 'f']);
    // NaN is kept (a missing value to training), counted, and left out of the measures
    expect(result.statistics[0]).toEqual({ name: 'v', type: 'float', nullable: false, nulls: 0, nans: 1, min: 1.5, max: 2.5, mean: 2, std: Math.SQRT1_2 });
  });

  it('measures floats whose squares or sums overflow', async () => {
    // Act
    const result = await ingest('wide.csv', 'v\n1e200\n-1e200\n1.7e308\n1.7e308\n');
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 4, rowsRejected: 0 });
    const [v] = result.statistics;
    expect(v).toMatchObject({ min: -1e200, max: 1.7e308 });
    expect(Number(v?.mean) / 8.5e307).toBeCloseTo(1, 12);
    expect(Number(v?.std) / 8.5e307).toBeCloseTo(Math.sqrt(4 / 3), 12);
  });

  it('measures integers beyond 2^53 exactly: min and max as decimal strings, std of the exact values', async () => {
    // Prepare: 9007199254740992 and ...993 alternate (doubles cannot tell them apart)
    const values = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? '9007199254740992' : '9007199254740993'));
    // Act
    const result = await ingest('bigint.csv', `cls,small\n${values.map((v, i) => `${v},${i}`).join('\n')}\n`);
    // Assess
    expect(result).toMatchObject({ status: 'READY', rowsAccepted: 200 });
    const [cls, small] = result.statistics;
    expect(cls).toMatchObject({ type: 'integer', min: '9007199254740992', max: '9007199254740993' });
    expect(cls?.mean).toBe(2 ** 53); // the nearest double of 9007199254740992.5
    expect(cls?.std).toBeCloseTo(Math.sqrt(50 / 199), 12);
    expect(small).toMatchObject({ min: 0, max: 199, mean: 99.5 });
    expect(small?.std).toBeCloseTo(Math.sqrt((200 * 200 - 1) / 12 * 200 / 199), 9);
    // int64's extremes, exact
    const extremes = await ingest('extremes.csv', 'n\n-9223372036854775808\n9223372036854775807\n0\n');
    expect(extremes.statistics[0]).toMatchObject({ min: '-9223372036854775808', max: '9223372036854775807' });
  });

  it('rejects an integer beyond int64 in a declared integer column, and infinite floats in JSON Lines and Parquet', async () => {
    // Act
    const csv = await ingest('ints.csv', `v,w\n1,a\n${huge},b\n`, { declared: schema(['v', 'integer', true], ['w', 'string', true]) });
    const csvRejects = await rejectedRows(csv);
    const jsonl = await ingest('floats.jsonl', '{"v":1.5}\n{"v":1e309}\n{"v":"-Infinity"}\n', { declared: schema(['v', 'float', true]) });
    const jsonlRejects = await rejectedRows(jsonl);
    const { path, size } = await parquet(`SELECT * FROM (VALUES (1.5::DOUBLE), ('inf'::DOUBLE), (2.5::DOUBLE)) t(v)`);
    const parquetResult = await ingestStaged('floats.parquet', path, size);
    // Assess
    expect(csv).toMatchObject({ status: 'READY', rowsAccepted: 1, rowsRejected: 1 });
    expect(csvRejects[0]).toMatchObject({ line: 3, errors: ['cast'] });
    expect(jsonl).toMatchObject({ status: 'READY', rowsAccepted: 1, rowsRejected: 2 });
    expect(jsonlRejects.map((r) => r.reasons)).toEqual([[outOfRange('1e309')], [outOfRange('-Infinity')]]);
    expect(parquetResult).toMatchObject({ status: 'READY', rowsAccepted: 2, rowsRejected: 1 });
    expect(await rejectedRows(parquetResult)).toEqual([{ row: 2, reasons: [outOfRange('inf')], raw: '{"v":"inf"}' }]);
    expect(parquetResult.statistics[0]).toMatchObject({ min: 1.5, max: 2.5, mean: 2 });
  });
});
