/**
 * Per-column statistics of a curated Parquet file: nulls for every column; NaN values for floats;
 * min, max, mean and standard deviation for numbers; min and max for timestamps; distinct count (approximate) and
 * most frequent values for text and booleans.
 */
import { integerJson, type ColumnType } from './column-types.js';
import type { Engine } from './engine.js';
import { ident, literal } from './sql.js';

/** A value and how often it occurs. */
export interface ValueCount {
  readonly value: string;
  readonly count: number;
}

/** Statistics of one curated column. */
export interface ColumnStatistics {
  readonly name: string;
  readonly type: ColumnType;
  /** Whether the column has empty values (`nulls > 0`). */
  readonly nullable: boolean;
  /** Empty values. */
  readonly nulls: number;
  /**
   * NaN values of a float column (floats only). They are not empty, so not among `nulls`; training
   * reads them as missing values, like nulls, and they are left out of min, max, mean and std.
   */
  readonly nans?: number;
  /**
   * Integers beyond ±(2^53 − 1) are decimal strings (exact); timestamps' min and max are ISO
   * strings; as stored, a number beyond DynamoDB's range (magnitudes 1e-130 … 9.99e125) is its
   * decimal text (`"1e+200"`).
   */
  readonly min?: number | string;
  readonly max?: number | string;
  /** The nearest double (for integers, computed from the exact values), or its text beyond DynamoDB's range. */
  readonly mean?: number | string;
  readonly std?: number | string;
  /** Approximate (HyperLogLog) number of distinct values. */
  readonly distinct?: number;
  readonly top?: readonly ValueCount[];
}

/** How many most frequent values are kept per text column. */
export const TOP_VALUES = 10;
/** Longest text value kept in statistics. */
const MAX_VALUE_CHARS = 100;

const numeric = (type: ColumnType) => type === 'integer' || type === 'float';
const finite = (value: unknown): number | undefined => {
  const n = Number(value);
  return value === null || value === undefined || !Number.isFinite(n) ? undefined : n;
};

const exact = (value: unknown): number | string | undefined => (typeof value === 'bigint' ? integerJson(value) : undefined);

/** Computes statistics of every column of a Parquet file. */
export async function columnStatistics(
  engine: Engine,
  path: string,
  columns: readonly { readonly name: string; readonly type: ColumnType }[],
): Promise<ColumnStatistics[]> {
  if (columns.length === 0) return [];
  const from = `read_parquet(${literal(path)})`;
  const numbers = columns.flatMap((c, i) => (c.type === 'float' ? [{ i, x: `${ident(c.name)}::DOUBLE` }] : []));
  // Integer columns are measured exactly: min and max as integers, mean and std of the offsets from
  // the minimum (exact in HUGEINT, small enough for a double), not of values rounded to doubles
  // (beyond 2^53, 9007199254740993 would be read as ...992).
  const integers = columns.flatMap((c, i) => (c.type === 'integer' ? [{ i, x: ident(c.name) }] : []));
  const offset = (i: number, x: string) => `(${x}::HUGEINT - m${i}::HUGEINT)::DOUBLE`;
  // Each number column's scale: the power of two at or below its largest magnitude. Mean and
  // standard deviation are taken of the values divided by it (exact: a power of two), so their
  // sums and squares cannot overflow, whatever the values (1e200 and -1e200 overflow a variance).
  const scaleColumns = [
    ...numbers.map(({ i, x }) => `pow(2, floor(log2(coalesce(nullif(max(abs(${x})) FILTER (WHERE isfinite(${x})), 0), 1)))) AS s${i}`),
    ...integers.map(({ i, x }) => `min(${x}) AS m${i}`),
  ];
  const scales = scaleColumns.length === 0 ? '' : `, (SELECT ${scaleColumns.join(', ')} FROM ${from}) AS scales`;
  const aggregates = columns.flatMap((c, i) => {
    const col = ident(c.name);
    const base = [`(count(*) - count(${col}))::DOUBLE AS n${i}`];
    if (c.type === 'integer') {
      return [
        ...base,
        `min(${col}) AS lo${i}`,
        `max(${col}) AS hi${i}`,
        `any_value(m${i})::DOUBLE + avg(${offset(i, col)}) AS mean${i}`,
        `stddev_samp(${offset(i, col)}) AS std${i}`,
      ];
    }
    if (c.type === 'float') {
      // NaN (a missing value to training) is left out of the measures, as nulls are.
      const x = `${col}::DOUBLE`;
      const finiteOnly = `FILTER (WHERE isfinite(${x}))`;
      return [
        ...base,
        ...(c.type === 'float' ? [`count(*) FILTER (WHERE isnan(${x}))::DOUBLE AS nan${i}`] : []),
        `min(${x}) ${finiteOnly} AS lo${i}`,
        `max(${x}) ${finiteOnly} AS hi${i}`,
        `avg(${x} / s${i}) ${finiteOnly} * any_value(s${i}) AS mean${i}`,
        `stddev_samp(${x} / s${i}) ${finiteOnly} * any_value(s${i}) AS std${i}`,
      ];
    }
    if (c.type === 'timestamp') {
      const iso = (e: string) => `strftime(${e}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
      return [...base, `${iso(`min(${col})`)} AS lo${i}`, `${iso(`max(${col})`)} AS hi${i}`];
    }
    // The sketch may overshoot by a few percent; no column has more distinct values than values.
    return [...base, `least(approx_count_distinct(${col}), count(${col}))::DOUBLE AS d${i}`];
  });
  const [row = {}] = await engine.rows(`SELECT ${aggregates.join(', ')} FROM ${from}${scales}`);
  const stats: ColumnStatistics[] = [];
  for (const [i, c] of columns.entries()) {
    const nulls = Number(row[`n${i}`] ?? 0);
    const common = { name: c.name, type: c.type, nullable: nulls > 0, nulls };
    if (numeric(c.type)) {
      const nans = c.type === 'float' ? { nans: Number(row[`nan${i}`] ?? 0) } : {};
      const [lo, hi] = [row[`lo${i}`], row[`hi${i}`]];
      const range = c.type === 'integer' ? { min: exact(lo), max: exact(hi) } : { min: finite(lo), max: finite(hi) };
      stats.push({ ...common, ...nans, ...defined({ ...range, mean: finite(row[`mean${i}`]), std: finite(row[`std${i}`]) }) });
    } else if (c.type === 'timestamp') {
      stats.push({ ...common, ...defined({ min: row[`lo${i}`] ?? undefined, max: row[`hi${i}`] ?? undefined }) as { min?: string; max?: string } });
    } else {
      // Candidates from a bounded-memory sketch (Space-Saving), then counted exactly.
      const value = `left(${ident(c.name)}::VARCHAR, ${MAX_VALUE_CHARS})`;
      const top = await engine.rows(
        `SELECT ${value} AS value, count(*)::DOUBLE AS n FROM ${from}
         WHERE ${value} IN (SELECT unnest(approx_top_k(${value}, ${TOP_VALUES})) FROM ${from})
         GROUP BY 1 ORDER BY n DESC, value LIMIT ${TOP_VALUES}`,
      );
      stats.push({ ...common, distinct: Number(row[`d${i}`] ?? 0), top: top.map((t) => ({ value: String(t.value), count: Number(t.n) })) });
    }
  }
  return stats;
}

function defined<T extends Record<string, unknown>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}
