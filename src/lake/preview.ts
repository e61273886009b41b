/**
 * The first rows of a curated Parquet object, read with a few ranged GETs (hyparquet reads
 * the footer, then only the first row group's pages): no engine in the control plane.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetMetadataAsync, parquetRead, parquetSchema, type AsyncBuffer } from 'hyparquet';
import { jsonNumber } from '../json-number.js';
import { integerJson } from './column-types.js';

/** A Parquet object in S3 as hyparquet's random-access buffer. */
export async function s3AsyncBuffer(s3: S3Client, bucket: string, key: string): Promise<AsyncBuffer> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  return {
    byteLength: head.ContentLength ?? 0,
    slice: async (start, end) => {
      const range = `bytes=${start}-${end === undefined ? '' : end - 1}`;
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
      const bytes = await object.Body?.transformToByteArray();
      if (bytes === undefined) throw new Error(`empty response for ${range} of ${key}`);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/**
 * A Parquet value as JSON: 64-bit integers as numbers when exact (else strings), timestamps as ISO
 * strings, NaN (a missing value to training) as `"NaN"` like the data plane's outputs, never `null`.
 */
function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return integerJson(value);
  if (typeof value === 'number') return jsonNumber(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}

/**
 * Reads the first `limit` rows of a Parquet object as JSON-ready records, one property per column.
 * Rows are read as arrays and built with `Object.fromEntries`, which defines own properties: a
 * column named like a JavaScript built-in (`__proto__`, `constructor`) is a key like any other.
 */
export async function previewParquet(s3: S3Client, bucket: string, key: string, limit: number): Promise<Record<string, unknown>[]> {
  const file = await s3AsyncBuffer(s3, bucket, key);
  const metadata = await parquetMetadataAsync(file);
  const columns = parquetSchema(metadata).children.map((child) => child.element.name);
  let rows: unknown[][] = [];
  await parquetRead({ file, metadata, columns, rowStart: 0, rowEnd: limit, rowFormat: 'array', onComplete: (read) => (rows = read) });
  return rows.map((row) => Object.fromEntries(columns.map((name, i) => [name, toJsonValue(row[i])])));
}
