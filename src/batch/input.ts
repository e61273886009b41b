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

/** An input row: its cells by column name (CSV cells as text, empty ones null). */
export type InputRow = Readonly<Record<string, unknown>>;

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
export async function readChunk(s3: S3Client, bucket: string, key: string, chunk: BatchChunk, csv: CsvLayout | undefined): Promise<InputRow[]> {
  if (csv === undefined) {
    const rows = await parquetReadObjects({ file: await s3AsyncBuffer(s3, bucket, key), rowStart: chunk.start, rowEnd: chunk.end });
    return rows.map((row) => Object.fromEntries(Object.entries(row).map(([name, value]) => [name, fromParquet(value)])));
  }
  if (chunk.end <= chunk.start) return [];
  const text = new TextDecoder().decode(await getBytes(s3, bucket, key, `bytes=${chunk.start}-${chunk.end - 1}`));
  const records = parseCsvRecords(text, csv.delimiter, csv.escape, true).filter((record) => !(record.length === 1 && record[0] === ''));
  return records.map((record) => Object.fromEntries(csv.columns.map((name, i) => [name, record[i] === undefined || record[i] === '' ? null : record[i]])));
}
