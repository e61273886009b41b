/**
 * Reading a job's input from the lake: planning it (CSV dialect and byte-range chunks, or a
 * Parquet file's row-range chunks) and reading one chunk's rows, a ranged read each.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { callDependency } from '../aws/dependency-errors.js';
import { InvalidRequestError, quote } from '../errors.js';
import { parseCsvRecords, sniffCsv } from '../lake/csv-dialect.js';
import { s3AsyncBuffer } from '../lake/preview.js';
import { planCsvChunks, planRowChunks } from './chunk-plan.js';
import type { BatchChunk, CsvLayout } from './types.js';

/** A chunk's rows, column by column: each column's cells in row order (CSV cells as text, empty ones null). */
export interface InputTable {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, readonly unknown[]>;
}

/** Rows given as records, as the table of the columns they name (a cell a record lacks is null). */
export function tableOfRecords(records: readonly Readonly<Record<string, unknown>>[]): InputTable {
  const columns = new Map<string, unknown[]>();
  records.forEach((record, i) => {
    for (const [name, value] of Object.entries(record)) {
      let column = columns.get(name);
      if (column === undefined) columns.set(name, (column = new Array<unknown>(records.length).fill(null)));
      column[i] = value;
    }
  });
  return { rows: records.length, columns };
}

/** The cell of row `index` in column `name`: null when it is empty or the table has no such column. */
export const cellOf = (table: InputTable, name: string, index: number): unknown => table.columns.get(name)?.[index] ?? null;

/** What a job's input holds and how it splits. */
export interface InputPlan {
  readonly columns: readonly string[];
  /** Set for CSV inputs; Parquet inputs have none. */
  readonly csv?: CsvLayout;
  readonly chunks: readonly BatchChunk[];
  readonly rows: number;
}

/** Bytes of a CSV's start its dialect is sniffed on. */
const SNIFF_BYTES = 1 << 20;
const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31];
const GZIP_MAGIC = [0x1f, 0x8b];
const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

async function getBytes(s3: S3Client, bucket: string, key: string, range?: string): Promise<Uint8Array> {
  const object = await callDependency('lake bucket', () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range === undefined ? {} : { Range: range }) })));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}

/** Where the data records of a CSV start: after its header record and that record's line break. */
function dataStartOf(bytes: Uint8Array, headerText: string): number {
  let at = (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0) + Buffer.byteLength(headerText);
  if (bytes[at] === 0x0d) at++;
  if (bytes[at] === 0x0a) at++;
  return at;
}

/**
 * Plans a job's input: a Parquet file (by its magic bytes) splits into row ranges from its
 * footer; anything else is read as CSV with a header, split into byte ranges of whole records.
 *
 * @throws InvalidRequestError for a gzip-compressed file or a CSV without a header.
 */
export async function planInput(s3: S3Client, bucket: string, key: string, chunkRows: number): Promise<InputPlan> {
  const head = await getBytes(s3, bucket, key, 'bytes=0-3');
  if (startsWith(head, PARQUET_MAGIC)) {
    const metadata = await parquetMetadataAsync(await s3AsyncBuffer(s3, bucket, key));
    const rows = Number(metadata.num_rows);
    return { columns: parquetSchema(metadata).children.map((child) => child.element.name), chunks: planRowChunks(rows, chunkRows), rows };
  }
  if (startsWith(head, GZIP_MAGIC)) throw new InvalidRequestError(`input ${quote(key)} is gzip-compressed: batch jobs read plain CSV or Parquet`);
  const bytes = await getBytes(s3, bucket, key);
  const sample = sniffCsv(new TextDecoder().decode(bytes.subarray(0, SNIFF_BYTES)), bytes.length <= SNIFF_BYTES);
  if (!sample.dialect.header || sample.headerText === undefined) {
    throw new InvalidRequestError(`input ${quote(key)} has no header record: a batch job maps columns to the model's inputs by name`);
  }
  const chunks = planCsvChunks(bytes, dataStartOf(bytes, sample.headerText), chunkRows, sample.dialect.escape);
  const csv = { delimiter: sample.dialect.delimiter, escape: sample.dialect.escape, columns: sample.columns };
  return { columns: sample.columns, csv, chunks, rows: chunks.reduce((sum, chunk) => sum + chunk.rows, 0) };
}

/** A Parquet value as an input value: 64-bit integers as numbers, timestamps as ISO text. */
function fromParquet(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** Reads the rows of one chunk: its byte range of a CSV (`csv` set), or its row range of a Parquet file. */
export async function readChunk(s3: S3Client, bucket: string, key: string, chunk: BatchChunk, csv: CsvLayout | undefined): Promise<InputTable> {
  if (csv === undefined) {
    const rows = await parquetReadObjects({ file: await s3AsyncBuffer(s3, bucket, key), rowStart: chunk.start, rowEnd: chunk.end });
    return tableOfRecords(rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, fromParquet(value)]))));
  }
  if (chunk.end <= chunk.start) return { rows: 0, columns: new Map() };
  const text = new TextDecoder().decode(await getBytes(s3, bucket, key, `bytes=${chunk.start}-${chunk.end - 1}`));
  const records = parseCsvRecords(text, csv.delimiter, csv.escape, true).filter((record) => !(record.length === 1 && record[0] === ''));
  const column = (at: number) => records.map((record) => (record[at] === undefined || record[at] === '' ? null : record[at]));
  return { rows: records.length, columns: new Map(csv.columns.map((name, at) => [name, column(at)])) };
}
