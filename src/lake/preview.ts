/**
 * The first rows of a curated Parquet object, read with a few ranged GETs (hyparquet reads
 * the footer, then only the first row group's pages): no engine in the control plane.
 */
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects, type AsyncBuffer } from 'hyparquet';

/** A Parquet object in S3 as hyparquet's random-access buffer. */
async function s3AsyncBuffer(s3: S3Client, bucket: string, key: string): Promise<AsyncBuffer> {
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

/** A Parquet value as JSON: 64-bit integers as numbers when exact (else strings), timestamps as ISO strings. */
function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** Reads the first `limit` rows of a Parquet object as JSON-ready records. */
export async function previewParquet(s3: S3Client, bucket: string, key: string, limit: number): Promise<Record<string, unknown>[]> {
  const file = await s3AsyncBuffer(s3, bucket, key);
  const rows = await parquetReadObjects({ file, rowStart: 0, rowEnd: limit });
  return rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, toJsonValue(v)])));
}
