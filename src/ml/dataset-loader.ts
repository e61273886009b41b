/**
 * Reads the columns a training run needs from Parquet files (a curated dataset version) into typed arrays: numbers and booleans as Float32Array (what the served model takes)
 * with NaN for missing, a numeric target as Float64Array, text as strings. Column chunks are copied straight into the arrays; no row objects.
 */
import { parquetMetadata, parquetRead } from 'hyparquet';
import type { FeatureColumn, FeatureKind, NumericValues } from './features.js';

/** A column to read and the kind it is read as. */
export interface ColumnRequest {
  readonly name: string;
  readonly kind: FeatureKind;
  /** Read numbers in double precision (a regression target) rather than float32. */
  readonly double?: boolean;
}

function toNumber(value: unknown): number {
  if (value === null || value === undefined) return NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number(value);
}

function toText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return String(value);
}

/** Storage for one column being filled chunk by chunk. */
type Filling = { request: ColumnRequest; numbers?: NumericValues; texts?: (string | null)[] };

/**
 * Reads `columns` from the Parquet files, appended in order.
 *
 * @param files - The curated Parquet objects' bytes, in order.
 */
export async function readColumns(files: readonly ArrayBuffer[], columns: readonly ColumnRequest[]): Promise<{ rows: number; columns: FeatureColumn[] }> {
  const metadata = files.map((file) => parquetMetadata(file));
  const rows = metadata.reduce((total, m) => total + Number(m.num_rows), 0);
  const fillings: Filling[] = columns.map((request) =>
    request.kind === 'categorical'
      ? { request, texts: new Array<string | null>(rows).fill(null) }
      : { request, numbers: (request.double === true ? new Float64Array(rows) : new Float32Array(rows)).fill(NaN) },
  );
  const byName = new Map(fillings.map((filling) => [filling.request.name, filling]));
  let offset = 0;
  for (const [i, file] of files.entries()) {
    await parquetRead({
      file,
      metadata: metadata[i]!,
      columns: columns.map((c) => c.name),
      onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
        const filling = byName.get(columnName);
        if (filling === undefined) return;
        const start = offset + rowStart;
        for (let r = 0; r < rowEnd - rowStart; r++) {
          const value = columnData[r];
          if (filling.numbers !== undefined) filling.numbers[start + r] = toNumber(value);
          else filling.texts![start + r] = toText(value);
        }
      },
    });
    offset += Number(metadata[i]!.num_rows);
  }
  return {
    rows,
    columns: fillings.map(({ request, numbers, texts }): FeatureColumn =>
      request.kind === 'categorical' ? { name: request.name, kind: 'categorical', values: texts! } : { name: request.name, kind: request.kind, values: numbers! },
    ),
  };
}
