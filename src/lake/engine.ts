/**
 * The conversion engine: DuckDB (`@duckdb/node-api`) reads a staged file, enforces the
 * column plan, writes accepted rows to Parquet and rejected ones, each with its line or row
 * number and reasons, to JSON Lines. Chosen by measurement (BENCHMARKS.md "Ingest
 * libraries"): it streams any file size within a memory limit, spilling to disk.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { NULL_TOKENS } from './column-types.js';
import type { CsvDialect } from './csv-dialect.js';
import type { ColumnPlan, SourceColumn } from './schema.js';
import type { SourceKind } from './source-format.js';
import { DUCKDB_TYPE, columnTypeOf, ident, literal, literalList } from './sql.js';

/** How much of the machine the engine may use. */
export interface EngineSettings {
  /** DuckDB's memory limit; beyond it, operators spill to `workDir`. */
  readonly memoryLimitMb: number;
  readonly threads: number;
  /** Folder for the engine's database and spill files. */
  readonly workDir: string;
  /** Longest CSV line accepted; a longer one is rejected with its line number. */
  readonly maxLineBytes: number;
}

/** One conversion of a staged file. */
export interface ConvertRequest {
  readonly sourcePath: string;
  readonly kind: SourceKind;
  readonly plan: ColumnPlan;
  /** Required for CSV. */
  readonly dialect?: CsvDialect;
  readonly curatedPath: string;
  readonly rejectedPath: string;
}

/** Row counts of a conversion. */
export interface ConvertCounts {
  readonly rowsRead: number;
  readonly rowsAccepted: number;
  readonly rowsRejected: number;
}

/** A connection to a DuckDB engine for one ingestion. */
export interface Engine {
  /** Runs a query and returns its rows as JS values. */
  rows(sql: string): Promise<Record<string, unknown>[]>;
}

/**
 * Runs `work` with a fresh engine whose database and spill files live in `settings.workDir`,
 * and closes it afterwards.
 */
export async function withEngine<T>(settings: EngineSettings, work: (engine: Engine) => Promise<T>): Promise<T> {
  const database = join(settings.workDir, 'engine.duckdb');
  await Promise.all([database, `${database}.wal`].map((file) => rm(file, { force: true })));
  const instance = await DuckDBInstance.create(database, {
    threads: String(settings.threads),
    memory_limit: `${settings.memoryLimitMb}MB`,
    temp_directory: join(settings.workDir, 'spill'),
    // Extensions are built in; never reach for the network.
    autoinstall_known_extensions: 'false',
  });
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect();
    const conn = connection;
    // Timestamps are instants, written and shown in UTC whatever the machine's zone.
    await conn.run(`SET TimeZone = 'UTC'`);
    return await work({ rows: async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[] });
  } finally {
    connection?.closeSync();
    instance.closeSync();
  }
}

/** The columns (name and column type) of a Parquet file. */
export async function describeParquet(engine: Engine, path: string): Promise<{ name: string; type: ReturnType<typeof columnTypeOf> }[]> {
  const rows = await engine.rows(`DESCRIBE SELECT * FROM read_parquet(${literal(path)})`);
  return rows.map((r) => ({ name: String(r.column_name), type: columnTypeOf(String(r.column_type)) }));
}

const count = (value: unknown): number => Number(value ?? 0);

/** How a source is read: its relation, and the checks each of its rows must pass. */
interface SourceRelation {
  /** SQL of a relation with one column per source column (named `__c<i>`, already in its curated type or castable to it) and `__raw`. */
  readonly from: string;
  /** The curated value of a source column. */
  readonly value: (column: SourceColumn, index: number) => string;
  /** Row checks: SQL text expressions giving a reason, or NULL when the row passes. */
  readonly checks: readonly string[];
  /** SQL of the record's ordinal (JSON Lines, Parquet), or NULL (CSV: the reader numbers lines itself). */
  readonly row: string;
  /** Whether the reader kept bad lines in the `rejects` table. */
  readonly readerRejects: boolean;
}

/** Converts a staged file to curated Parquet and rejected JSON Lines. */
export async function convert(engine: Engine, request: ConvertRequest, settings: EngineSettings): Promise<ConvertCounts> {
  const source =
    request.kind.format === 'csv' ? csvSource(request, settings) : request.kind.format === 'jsonl' ? jsonLinesSource(request, settings) : parquetSource(request);
  const kept = keptColumns(request.plan, source.value);
  let rowsAccepted: number;
  let valueRejects = 0;
  if (source.checks.length === 0) {
    // Every row the reader accepts is good: one streaming pass.
    const [copied] = await engine.rows(curatedCopy(`SELECT ${kept} FROM (${source.from})`, request.curatedPath));
    rowsAccepted = count(copied?.Count);
  } else {
    // Checked once into a table on the engine's disk, then split: one read of the source.
    const errors = `list_filter([${source.checks.join(', ')}]::VARCHAR[], e -> e IS NOT NULL)`;
    await engine.rows(`CREATE TABLE checked AS SELECT *, ${source.row} AS __row, ${errors} AS __errors FROM (${source.from})`);
    const [copied] = await engine.rows(curatedCopy(`SELECT ${kept} FROM checked WHERE len(__errors) = 0`, request.curatedPath));
    rowsAccepted = count(copied?.Count);
    const [bad] = await engine.rows(`SELECT count(*) AS n FROM checked WHERE len(__errors) > 0`);
    valueRejects = count(bad?.n);
  }
  const [reader] = source.readerRejects ? await engine.rows(`SELECT count(DISTINCT line) AS n FROM rejects`) : [];
  const readerRejects = count(reader?.n);
  // One JSON object per rejected row, with only the fields known for it.
  const parts = [
    ...(readerRejects > 0
      ? [
          `SELECT line AS __line, NULL::BIGINT AS __ordinal, json_object('line', line, 'errors', list(DISTINCT lower(error_type)), 'reasons', list(DISTINCT ${READER_REASON}), 'raw', any_value(csv_line))::VARCHAR AS j
           FROM rejects GROUP BY line`,
        ]
      : []),
    ...(valueRejects > 0
      ? [
          `SELECT NULL::BIGINT AS __line, __row AS __ordinal, (CASE WHEN __row IS NULL THEN json_object('reasons', __errors, 'raw', __raw) ELSE json_object('row', __row, 'reasons', __errors, 'raw', __raw) END)::VARCHAR AS j
           FROM checked WHERE len(__errors) > 0`,
        ]
      : []),
  ];
  if (parts.length > 0) {
    await engine.rows(
      `COPY (SELECT j FROM (${parts.join(' UNION ALL ')}) ORDER BY __line NULLS LAST, __ordinal NULLS LAST) TO ${literal(request.rejectedPath)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')`,
    );
  }
  const rowsRejected = readerRejects + valueRejects;
  return { rowsRead: rowsAccepted + rowsRejected, rowsAccepted, rowsRejected };
}

const curatedCopy = (select: string, path: string) => `COPY (${select}) TO ${literal(path)} (FORMAT parquet, COMPRESSION snappy)`;
const keptColumns = (plan: ColumnPlan, value: (column: SourceColumn, index: number) => string) =>
  plan.output
    .map((name) => plan.source.findIndex((c) => c.name === name && c.keep))
    .filter((i) => i >= 0)
    .map((i) => {
      const column = plan.source[i] as SourceColumn;
      return `${value(column, i)} AS ${ident(column.name)}`;
    })
    .join(', ');

/** Reasons of the reader's rejects, in the platform's words where DuckDB's are terse. */
const READER_REASON = `CASE
  WHEN error_type = 'CAST' AND (error_message LIKE '%string "" %' OR rtrim(error_message) LIKE 'Error when converting column "%".')
    THEN 'column "' || column_name || '" is required but empty'
  WHEN error_type = 'UNQUOTED VALUE' THEN 'unterminated quote: the quoted value runs to the end of the file'
  ELSE replace(replace(replace(replace(error_message, '''DECIMAL''', 'integer'), '''DOUBLE''', 'float'), '''BOOLEAN''', 'boolean'), '''TIMESTAMP WITH TIME ZONE''', 'timestamp')
  END`;

const readerRejectOptions = `store_rejects = true, rejects_table = 'rejects', rejects_scan = 'rejects_scan'`;

/** Reader type of integer columns: exact, so a fraction is seen (casting text to BIGINT would round it). */
const EXACT_NUMBER = 'DECIMAL(38, 9)';

/**
 * CSV: DuckDB's reader parses and types every line, keeping bad ones with their line numbers.
 * Integer columns are read exactly and checked for fractions; required text columns for emptiness.
 */
function csvSource(request: ConvertRequest, settings: EngineSettings): SourceRelation {
  const { dialect, plan } = request;
  if (dialect === undefined) throw new Error('a CSV conversion needs its dialect');
  const readType = (c: SourceColumn) => (c.type === 'integer' ? EXACT_NUMBER : DUCKDB_TYPE[c.type]);
  const columns = plan.source.map((c) => `${literal(c.name)}: ${literal(readType(c))}`).join(', ');
  // Required non-text columns keep empty values as text, so the reader rejects them with their line.
  const notNull = plan.source.flatMap((c) => (c.required && c.type !== 'string' ? [c.name] : []));
  const reader = `read_csv(${literal(request.sourcePath)}, auto_detect = false, strict_mode = true, header = ${dialect.header},
    delim = ${literal(dialect.delimiter)}, quote = ${literal(dialect.quote)}, escape = ${literal(dialect.escape)},
    columns = {${columns}}, nullstr = ${literalList(NULL_TOKENS)}, ${notNull.length > 0 ? `force_not_null = ${literalList(notNull)},` : ''}
    compression = ${literal(request.kind.gzip ? 'gzip' : 'none')}, max_line_size = ${settings.maxLineBytes}, ${readerRejectOptions})`;
  const label = (c: SourceColumn) => `'column ' || ${literal(JSON.stringify(c.name))}`;
  const checks = plan.source.flatMap((c) => {
    const v = ident(c.name);
    return [
      ...(c.type === 'integer'
        ? [`CASE WHEN ${v} IS NOT NULL AND (${v} <> trunc(${v}) OR TRY_CAST(${v} AS BIGINT) IS NULL) THEN ${label(c)} || ': ' || ${v}::DOUBLE || ' is not an integer' END`]
        : []),
      ...(c.required && c.type === 'string' ? [`CASE WHEN ${v} IS NULL THEN ${label(c)} || ' is required but empty' END`] : []),
    ];
  });
  const raw = `json_object(${plan.source.map((c) => `${literal(c.name)}, ${ident(c.name)}${c.type === 'integer' ? '::DOUBLE' : ''}`).join(', ')})::VARCHAR`;
  return {
    from: `SELECT *, ${checks.length === 0 ? 'NULL' : raw} AS __raw FROM ${reader}`,
    value: (c) => (c.type === 'integer' ? `CAST(${ident(c.name)} AS BIGINT)` : ident(c.name)),
    checks,
    row: 'NULL::BIGINT',
    readerRejects: true,
  };
}

/** JSON Lines and Parquet: values are cast in SQL; a value that does not fit rejects its row. */
function castChecks(plan: ColumnPlan, value: (column: SourceColumn, index: number) => string, isRecord: string): string[] {
  return plan.source.flatMap((c, i) => {
    const v = value(c, i);
    const label = `'column ' || ${literal(JSON.stringify(c.name))}`;
    const exact = c.type === 'integer' ? ` OR TRY_CAST(${v} AS ${EXACT_NUMBER}) <> TRY_CAST(${v} AS BIGINT)` : '';
    const fits = `CASE WHEN ${v} IS NOT NULL AND (TRY_CAST(${v} AS ${DUCKDB_TYPE[c.type]}) IS NULL${exact}) THEN ${label} || ': ' || left(${v}::VARCHAR, 80) || ' is not ${c.type}' END`;
    return c.required ? [`CASE WHEN ${isRecord} AND ${v} IS NULL THEN ${label} || ' is required but empty' END`, fits] : [fits];
  });
}

/** JSON Lines: one record per non-blank line; `row` is the record's ordinal. */
function jsonLinesSource(request: ConvertRequest, settings: EngineSettings): SourceRelation {
  const { plan } = request;
  const known = literalList(plan.source.map((c) => c.name));
  const paths = literalList(plan.source.map((c) => `$."${c.name.replaceAll('"', '\\"')}"`));
  // Each line is read whole as one text value: no delimiter or quote can split it. Lines that are
  // not UTF-8 or too long are kept by the reader with their line numbers.
  const lines = `read_csv(${literal(request.sourcePath)}, auto_detect = false, header = false, columns = {'j': 'VARCHAR'},
    delim = '\x01', quote = '', escape = '', strict_mode = false, nullstr = ['\x02'],
    compression = ${literal(request.kind.gzip ? 'gzip' : 'none')}, max_line_size = ${settings.maxLineBytes}, ${readerRejectOptions})`;
  // Functions on JSON fail on invalid input, so they only ever see valid JSON (or NULL).
  const valid = `SELECT row_number() OVER () AS __ordinal, j AS __raw, CASE WHEN json_valid(j) THEN j END AS __json FROM ${lines}`;
  const parsed = `SELECT __ordinal, __raw, __json IS NOT NULL AS __valid,
      CASE WHEN json_type(__json) = 'OBJECT' THEN json_extract_string(__json, ${paths}) END AS __v,
      CASE WHEN json_type(__json) = 'OBJECT' THEN list_filter(json_keys(__json), k -> NOT list_contains(${known}, k)) END AS __extra
    FROM (${valid})`;
  const value = (_c: SourceColumn, i: number) => `__v[${i + 1}]`;
  return {
    from: parsed,
    value: (c, i) => `TRY_CAST(${value(c, i)} AS ${DUCKDB_TYPE[c.type]})`,
    checks: [
      `CASE WHEN NOT __valid THEN 'not valid JSON' END`,
      `CASE WHEN __valid AND __v IS NULL THEN 'not a JSON object' END`,
      `CASE WHEN len(__extra) > 0 THEN 'fields not in the dataset schema: ' || array_to_string(__extra, ', ') END`,
      ...castChecks(plan, value, '__v IS NOT NULL'),
    ],
    row: '__ordinal',
    readerRejects: true,
  };
}

/** Parquet: typed already; `row` is the 1-based row number in the file. */
function parquetSource(request: ConvertRequest): SourceRelation {
  const value = (c: SourceColumn) => ident(c.name);
  return {
    from: `SELECT row_number() OVER () AS __ordinal, to_json(p)::VARCHAR AS __raw, * FROM read_parquet(${literal(request.sourcePath)}) AS p`,
    value: (c) => `TRY_CAST(${value(c)} AS ${DUCKDB_TYPE[c.type]})`,
    checks: castChecks(request.plan, value, 'true'),
    row: '__ordinal',
    readerRejects: false,
  };
}
