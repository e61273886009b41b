/**
 * Reading a job's input from the lake: planning it (CSV dialect and byte-range chunks, or a
 * Parquet file's row-range chunks) and reading one chunk's rows, a ranged read each.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { InvalidRequestError, PlatformError, quote } from '../errors.js';
import { parseCsvRecords, sniffCsv } from '../lake/csv-dialect.js';
import { planCsvChunks, planRowChunks } from './chunk-plan.js';
import { pinnedBuffer, pinObject, readPinned } from './pinned-object.js';
import type { BatchChunk, CsvLayout, PinnedObject, RejectedRow } from './types.js';

/** A chunk's rows, column by column: each column's cells in row order (CSV cells as text, empty ones null). */
export interface InputTable {
  readonly rows: number;
  readonly columns: ReadonlyMap<string, readonly unknown[]>;
  /** Rows that cannot be read as the header says (a CSV record with another field count), by index, with why: not scored. */
  readonly malformed?: readonly RejectedRow[];
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
  /** The object planned: every chunk reads this one. */
  readonly object: PinnedObject;
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
/** How a JSON (Lines) file starts; no CSV header does. */
const OPEN_BRACE = 0x7b;
const startsWith = (bytes: Uint8Array, magic: readonly number[]) => magic.every((b, i) => bytes[i] === b);

/** Where the data records of a CSV start: after its header record and that record's line break. */
function dataStartOf(bytes: Uint8Array, headerText: string): number {
  let at = (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0) + Buffer.byteLength(headerText);
  if (bytes[at] === 0x0d) at++;
  if (bytes[at] === 0x0a) at++;
  return at;
}

/** Names that occur more than once in `columns`, ignoring case (as the lake does), as written. */
function duplicatesOf(columns: readonly string[]): string[] {
  const folded = columns.map((name) => name.toLowerCase());
  return [...new Set(columns.filter((_, i) => folded.indexOf(folded[i]!) !== folded.lastIndexOf(folded[i]!)))];
}

/** Whether an error is hyparquet's about the file (not a failed or refused read of it). */
const isParquetError = (error: unknown): error is Error => error instanceof Error && !(error instanceof PlatformError) && !('$metadata' in error);

/** A Parquet file's footer; InvalidRequestError naming hyparquet's reason when it has no readable one. */
async function parquetMetadataOf(file: AsyncBuffer, key: string): Promise<FileMetaData> {
  try {
    return await parquetMetadataAsync(file);
  } catch (error) {
    if (isParquetError(error)) throw new InvalidRequestError(`input ${quote(key)} is not a readable Parquet file: ${error.message}`);
    throw error;
  }
}

/**
 * Plans a job's input, pinned as it is now (its ETag): a Parquet file (by its magic bytes) splits
 * into row ranges from its footer; anything else is read as CSV with a header, split into byte
 * ranges of whole records.
 *
 * @throws InvalidRequestError for an empty file, an unreadable Parquet file, a gzip-compressed
 * file, JSON Lines, or a CSV without a header or with a column named twice.
 */
export async function planInput(s3: S3Client, bucket: string, key: string, chunkRows: number): Promise<InputPlan> {
  const object = await pinObject(s3, bucket, key);
  if (object.bytes === 0) throw new InvalidRequestError(`input ${quote(key)} is empty`);
  const head = await readPinned(s3, bucket, object, 0, Math.min(4, object.bytes));
  if (startsWith(head, PARQUET_MAGIC)) {
    const metadata = await parquetMetadataOf(pinnedBuffer(s3, bucket, object), key);
    const rows = Number(metadata.num_rows);
    return { object, columns: parquetSchema(metadata).children.map((child) => child.element.name), chunks: planRowChunks(rows, chunkRows), rows };
  }
  if (startsWith(head, GZIP_MAGIC)) throw new InvalidRequestError(`input ${quote(key)} is gzip-compressed: batch jobs read plain CSV or Parquet`);
  if (head[0] === OPEN_BRACE) throw new InvalidRequestError(`input ${quote(key)} starts with '{': JSON Lines input is not supported; batch jobs read CSV with a header, or Parquet`);
  const bytes = await readPinned(s3, bucket, object);
  const sample = sniffCsv(new TextDecoder().decode(bytes.subarray(0, SNIFF_BYTES)), bytes.length <= SNIFF_BYTES);
  if (!sample.dialect.header || sample.headerText === undefined) {
    throw new InvalidRequestError(`input ${quote(key)} has no header record: a batch job maps columns to the model's inputs by name`);
  }
  // The sniffer renames a repeated name (`x`, `x_2`), and a job would score the first: it refuses instead.
  const header = parseCsvRecords(sample.headerText, sample.dialect.delimiter, sample.dialect.escape, true)[0] ?? [];
  const duplicates = duplicatesOf(header.map((name) => name.trim()));
  if (duplicates.length > 0) throw new InvalidRequestError(`input ${quote(key)} names column(s) ${duplicates.map(quote).join(', ')} more than once in its header (names are compared ignoring case): a batch job maps columns by name`);
  const chunks = planCsvChunks(bytes, dataStartOf(bytes, sample.headerText), chunkRows, sample.dialect.escape);
  const csv = { delimiter: sample.dialect.delimiter, escape: sample.dialect.escape, columns: sample.columns };
  return { object, columns: sample.columns, csv, chunks, rows: chunks.reduce((sum, chunk) => sum + chunk.rows, 0) };
}

/** A Parquet value as an input value: 64-bit integers as numbers, timestamps as ISO text. */
function fromParquet(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}

/**
 * Reads the rows of one chunk of the pinned input: its byte range of a CSV (`csv` set), or its row
 * range of a Parquet file. A CSV record whose field count is not the header's is a malformed row.
 *
 * @throws InputChangedError when the input is no longer the object planned.
 */
export async function readChunk(s3: S3Client, bucket: string, object: PinnedObject, chunk: BatchChunk, csv: CsvLayout | undefined): Promise<InputTable> {
  if (csv === undefined) {
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file: pinnedBuffer(s3, bucket, object), rowStart: chunk.start, rowEnd: chunk.end });
    } catch (error) {
      // Corrupt pages read the same on every delivery: a refusal of the chunk, not a failure to retry.
      if (isParquetError(error)) throw new InvalidRequestError(`rows ${chunk.firstRow + 1}-${chunk.firstRow + chunk.rows} of input ${quote(object.key)} are not readable Parquet: ${error.message}`);
      throw error;
    }
    const { columns } = tableOfRecords(rows);
    return { rows: rows.length, columns: new Map([...columns].map(([name, cells]) => [name, cells.map(fromParquet)])) };
  }
  if (chunk.end <= chunk.start) return { rows: 0, columns: new Map() };
  const text = new TextDecoder().decode(await readPinned(s3, bucket, object, chunk.start, chunk.end));
  const records = parseCsvRecords(text, csv.delimiter, csv.escape, true).filter((record) => !(record.length === 1 && record[0] === ''));
  const fields = csv.columns.length;
  const malformed = records.flatMap((record, index) => (record.length === fields ? [] : [{ index, reason: `row has ${record.length} field${record.length === 1 ? '' : 's'}; the header has ${fields}` }]));
  const column = (at: number) => records.map((record) => (record[at] === undefined || record[at] === '' ? null : record[at]));
  return { rows: records.length, columns: new Map(csv.columns.map((name, at) => [name, column(at)])), ...(malformed.length === 0 ? {} : { malformed }) };
}
