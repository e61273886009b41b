/**
 * A job's output in the lake: one part per chunk under the job's prefix (a redelivered chunk
 * rewrites its own part), rejected rows beside them, and the parts combined into one file
 * dropped under `raw/<dataset>/` once every chunk is done, which the lake versions like any drop.
 *
 * | object               | key                                                    |
 * | -------------------- | ------------------------------------------------------ |
 * | part of chunk N      | `predictions/<model>/batch/<job>/part-<N 5 digits>.<parquet or jsonl>` |
 * | rejected rows of N   | `predictions/<model>/batch/<job>/rejected/part-<N>.jsonl` |
 * | combined predictions | `raw/<dataset>/batch-<job>.<parquet or jsonl>`          |
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { callDependency } from '../aws/dependency-errors.js';
import { s3AsyncBuffer } from '../lake/preview.js';
import { rawKey } from '../lake/zones.js';
import { cellOf, type InputTable } from './input.js';
import type { ScoredRows } from './score.js';
import type { BatchOutputFormat, RejectedRow } from './types.js';

/** Prefix of a job's parts. */
export const jobOutputPrefix = (model: string, jobId: string): string => `predictions/${model}/batch/${jobId}/`;
/** Key of chunk `index`'s part. */
export const partKey = (prefix: string, index: number, format: BatchOutputFormat): string => `${prefix}part-${String(index).padStart(5, '0')}.${format}`;
/** Key of chunk `index`'s rejected rows. */
export const rejectedPartKey = (prefix: string, index: number): string => `${prefix}rejected/part-${String(index).padStart(5, '0')}.jsonl`;
/** Key of a job's combined predictions: a drop into its output dataset. */
export const combinedKey = (dataset: string, jobId: string, format: BatchOutputFormat): string => rawKey(dataset, `batch-${jobId}.${format}`);

/** A chunk's output, column by column: its pass-through columns, then its prediction's columns; rejected rows left out. */
export function outputTable(table: InputTable, scored: ScoredRows, passThrough: readonly string[]): InputTable {
  const rejected = new Set(scored.rejected.map((row) => row.index));
  const kept: number[] = [];
  for (let i = 0; i < table.rows; i++) if (!rejected.has(i)) kept.push(i);
  const columns = new Map<string, unknown[]>();
  for (const name of passThrough) columns.set(name, kept.map((i) => cellOf(table, name, i)));
  for (const [name, column] of scored.predictions) columns.set(name, kept.map((i) => column[i] ?? null));
  return { rows: kept.length, columns };
}

/** The Parquet type of a column's values: the kind of its non-null values, text when they mix. */
function columnType(values: readonly unknown[]): 'DOUBLE' | 'BOOLEAN' | 'STRING' {
  let kind: string | undefined;
  for (const value of values) {
    if (value === null || value === undefined) continue;
    if (kind === undefined) kind = typeof value;
    else if (kind !== typeof value) return 'STRING';
  }
  return kind === 'number' ? 'DOUBLE' : kind === 'boolean' ? 'BOOLEAN' : 'STRING';
}

/** A table as a file of `format`: Parquet (one column per column, nullable) or JSON Lines (a record per row, every column in it). */
export function encodeTable(table: InputTable, format: BatchOutputFormat): Uint8Array {
  const columns = [...table.columns];
  if (format === 'jsonl') {
    const lines = new Array<string>(table.rows);
    for (let i = 0; i < table.rows; i++) lines[i] = `${JSON.stringify(Object.fromEntries(columns.map(([name, cells]) => [name, cells[i] ?? null])))}\n`;
    return new TextEncoder().encode(lines.join(''));
  }
  const columnData = columns.map(([name, cells]) => {
    const type = columnType(cells);
    return { name, type, nullable: true, data: type === 'STRING' ? cells.map((v) => (v === null || v === undefined || typeof v === 'string' ? (v ?? null) : String(v))) : cells.map((v) => v ?? null) };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** Rejected rows as JSON Lines: the row's number in the input (0-based data rows), its pass-through values, the reason. */
export function encodeRejected(table: InputTable, rejected: readonly RejectedRow[], firstRow: number, passThrough: readonly string[]): Uint8Array {
  const lines = rejected.map(({ index, reason }) => JSON.stringify({ row: firstRow + index, ...Object.fromEntries(passThrough.map((name) => [name, cellOf(table, name, index)])), reason }));
  return new TextEncoder().encode(lines.map((line) => `${line}\n`).join(''));
}

/** Writes an object of the lake. */
export async function putObject(s3: S3Client, bucket: string, key: string, body: Uint8Array, contentType: string): Promise<void> {
  await callDependency('lake bucket', () => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType })));
}

/** The rows of a part written by {@link encodeTable}, as records. */
export async function readPart(s3: S3Client, bucket: string, key: string, format: BatchOutputFormat): Promise<Record<string, unknown>[]> {
  if (format === 'parquet') return parquetReadObjects({ file: await s3AsyncBuffer(s3, bucket, key) });
  const object = await callDependency('lake bucket', () => s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
  const text = (await object.Body?.transformToString()) ?? '';
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The content type of a format's objects. */
export const contentTypeOf = (format: BatchOutputFormat): string => (format === 'parquet' ? 'application/vnd.apache.parquet' : 'application/x-ndjson');
