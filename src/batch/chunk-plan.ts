/**
 * Splitting a job's input into chunks: CSV by byte ranges of whole records (a chunk reads its own
 * range only), Parquet by row ranges.
 */
import type { BatchChunk } from './types.js';

/** Rows per chunk unless the request says: one SQS message and one scoring call's worth of rows. */
export const DEFAULT_CHUNK_ROWS = 5_000;

/** Fewest and most rows a chunk may have. */
export const CHUNK_ROWS_RANGE = { min: 100, max: 50_000 } as const;

/** Row ranges of `rows` rows, `chunkRows` each (the last one shorter). */
export function planRowChunks(rows: number, chunkRows: number): BatchChunk[] {
  const chunks: BatchChunk[] = [];
  for (let firstRow = 0, index = 0; firstRow < rows; firstRow += chunkRows, index++) {
    const end = Math.min(rows, firstRow + chunkRows);
    chunks.push({ index, firstRow, rows: end - firstRow, start: firstRow, end });
  }
  return chunks;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Byte ranges of CSV records, `chunkRows` records each, starting at `dataStart` (after the header):
 * line breaks inside quoted values do not end a record; blank lines are not records.
 *
 * @param bytes - The whole file.
 * @param escape - The quote's escape: `"` (RFC 4180, a doubled quote) or `\`.
 */
export function planCsvChunks(bytes: Uint8Array, dataStart: number, chunkRows: number, escape: string): BatchChunk[] {
  const chunks: BatchChunk[] = [];
  let chunkStart = dataStart;
  let rows = 0;
  let firstRow = 0;
  let quoted = false;
  let blank = true;
  const close = (end: number) => {
    chunks.push({ index: chunks.length, firstRow, rows, start: chunkStart, end });
    firstRow += rows;
    rows = 0;
    chunkStart = end;
  };
  for (let i = dataStart; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (quoted) {
      if (byte === BACKSLASH && escape === '\\') i++;
      else if (byte === QUOTE) quoted = false;
      continue;
    }
    if (byte === QUOTE) {
      quoted = true;
      blank = false;
    } else if (byte === LF) {
      if (!blank) rows++;
      blank = true;
      if (rows === chunkRows) close(i + 1);
    } else if (byte !== CR) blank = false;
  }
  if (!blank) rows++;
  if (rows > 0) close(bytes.length);
  return chunks;
}
