/**
 * The conversion engine: DuckDB (`@duckdb/node-api`) reads a staged file, enforces the
 * column plan, writes accepted rows to Parquet and rejected ones, each with its line or row
 * number and reasons, to JSON Lines. Chosen by measurement (BENCHMARKS.md "Ingest
 * libraries"): it streams any file size within a memory limit, spilling to disk.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
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
  const instance = await DuckDBInstance.create(join(settings.workDir, 'engine.duckdb'), {
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

/** Converts a staged file to curated Parquet and rejected JSON Lines. */
export async function convert(engine: Engine, request: ConvertRequest, settings: EngineSettings): Promise<ConvertCounts> {
  return request.kind.format === 'csv' ? convertCsv(engine, request, settings) : convertChecked(engine, request, settings);
}

const curatedCopy = (select: string, path: string) => `COPY (${select}) TO ${literal(path)} (FORMAT parquet, COMPRESSION snappy)`;
const rejectedCopy = (select: string, path: string) => `COPY (${select}) TO ${literal(path)} (FORMAT json)`;
const keptColumns = (plan: ColumnPlan, expression: (column: SourceColumn) => string) =>
  plan.output
    .map((name) => plan.source.find((c) => c.name === name && c.keep))
    .filter((c): c is SourceColumn => c !== undefined)
    .map((c) => `${expression(c)} AS ${ident(c.name)}`)
    .join(', ');

/** CSV: DuckDB's reader enforces the types and keeps every bad line with its reason. */
async function convertCsv(engine: Engine, request: ConvertRequest, settings: EngineSettings): Promise<ConvertCounts> {
  const { dialect, plan } = request;
  if (dialect === undefined) throw new Error('a CSV conversion needs its dialect');
  const columns = plan.source.map((c) => `${literal(c.name)}: ${literal(DUCKDB_TYPE[c.type])}`).join(', ');
  const required = plan.source.filter((c) => c.required).map((c) => c.name);
  const reader = `read_csv(${literal(request.sourcePath)}, auto_detect = false, strict_mode = true, header = ${dialect.header},
    delim = ${literal(dialect.delimiter)}, quote = ${literal(dialect.quote)}, escape = ${literal(dialect.escape)},
    columns = {${columns}}, nullstr = ${literalList(NULL_TOKENS)}, ${required.length > 0 ? `force_not_null = ${literalList(required)},` : ''}
    compression = ${literal(request.kind.gzip ? 'gzip' : 'none')}, max_line_size = ${settings.maxLineBytes},
    store_rejects = true, rejects_table = 'rejects', rejects_scan = 'rejects_scan')`;
  const [copied] = await engine.rows(curatedCopy(`SELECT ${keptColumns(plan, (c) => ident(c.name))} FROM ${reader}`, request.curatedPath));
  const rowsAccepted = count(copied?.Count);
  const [rejected] = await engine.rows(`SELECT count(DISTINCT line) AS n FROM rejects`);
  const rowsRejected = count(rejected?.n);
  if (rowsRejected > 0) {
    const reason = `CASE WHEN error_type = 'CAST' AND error_message LIKE '%string "" %' THEN 'column "' || column_name || '" is required but empty'
      WHEN error_type = 'UNQUOTED VALUE' THEN 'unterminated quote: the quoted value runs to the end of the file'
      ELSE error_message END`;
    await engine.rows(
      rejectedCopy(
        `SELECT line, list(DISTINCT lower(error_type)) AS errors, list(DISTINCT ${reason}) AS reasons, any_value(csv_line) AS raw
         FROM rejects GROUP BY line ORDER BY line`,
        request.rejectedPath,
      ),
    );
  }
  return { rowsRead: rowsAccepted + rowsRejected, rowsAccepted, rowsRejected };
}

/** A source read as rows of raw values, each checked against the plan in SQL. */
interface CheckedSource {
  /** A relation with `__row`, `__raw` and whatever `value` refers to. */
  readonly from: string;
  /** The raw value of a column. */
  readonly value: (column: SourceColumn, index: number) => string;
  /** Row-level problems (SQL text expressions, NULL when fine). */
  readonly rowErrors: readonly string[];
}

/** JSON Lines and Parquet: values are cast in SQL; a value that does not fit rejects its row. */
async function convertChecked(engine: Engine, request: ConvertRequest, settings: EngineSettings): Promise<ConvertCounts> {
  const source = request.kind.format === 'jsonl' ? jsonLinesSource(request, settings) : parquetSource(request);
  const { plan } = request;
  const casts = plan.source.map((c, i) => `TRY_CAST(${source.value(c, i)} AS ${DUCKDB_TYPE[c.type]}) AS __c${i}`);
  const checks = plan.source.flatMap((c, i) => {
    const value = source.value(c, i);
    const label = `'column ' || ${literal(JSON.stringify(c.name))}`;
    const fits = `CASE WHEN ${value} IS NOT NULL AND __c${i} IS NULL THEN ${label} || ': ' || left(${value}::VARCHAR, 80) || ' is not ${c.type}' END`;
    return c.required ? [`CASE WHEN ${value} IS NULL THEN ${label} || ' is required but empty' END`, fits] : [fits];
  });
  const errors = `list_filter([${[...source.rowErrors, ...checks].join(', ')}]::VARCHAR[], e -> e IS NOT NULL)`;
  await engine.rows(
    `CREATE TEMP VIEW checked AS SELECT *, ${errors} AS __errors FROM (SELECT *, ${casts.join(', ')} FROM (${source.from}))`,
  );
  const index = new Map(plan.source.map((c, i) => [c, i]));
  const [copied] = await engine.rows(
    curatedCopy(`SELECT ${keptColumns(plan, (c) => `__c${index.get(c) ?? -1}`)} FROM checked WHERE len(__errors) = 0`, request.curatedPath),
  );
  const rowsAccepted = count(copied?.Count);
  const [rejected] = await engine.rows(
    rejectedCopy(`SELECT __row AS "row", __errors AS reasons, __raw AS raw FROM checked WHERE len(__errors) > 0 ORDER BY __row`, request.rejectedPath),
  );
  const rowsRejected = count(rejected?.Count);
  return { rowsRead: rowsAccepted + rowsRejected, rowsAccepted, rowsRejected };
}

/** JSON Lines: one record per non-blank line; `row` is the record's ordinal. */
function jsonLinesSource(request: ConvertRequest, settings: EngineSettings): CheckedSource {
  const known = literalList(request.plan.source.map((c) => c.name));
  const paths = literalList(request.plan.source.map((c) => `$."${c.name.replaceAll('"', '\\"')}"`));
  // Each line is read whole as one text value: no delimiter or quote can split it.
  const lines = `read_csv(${literal(request.sourcePath)}, auto_detect = false, header = false, columns = {'j': 'VARCHAR'},
    delim = '\x01', quote = '', escape = '', strict_mode = false, nullstr = ['\x02'],
    compression = ${literal(request.kind.gzip ? 'gzip' : 'none')}, max_line_size = ${settings.maxLineBytes})`;
  // Functions on JSON fail on invalid input, so they only ever see valid JSON (or NULL).
  const valid = `SELECT row_number() OVER () AS __row, j AS __raw, CASE WHEN json_valid(j) THEN j END AS __json FROM ${lines}`;
  const parsed = `SELECT __row, __raw, __json IS NOT NULL AS __valid,
      CASE WHEN json_type(__json) = 'OBJECT' THEN json_extract_string(__json, ${paths}) END AS __v,
      CASE WHEN json_type(__json) = 'OBJECT' THEN list_filter(json_keys(__json), k -> NOT list_contains(${known}, k)) END AS __extra
    FROM (${valid})`;
  return {
    from: parsed,
    value: (_column, i) => `__v[${i + 1}]`,
    rowErrors: [
      `CASE WHEN NOT __valid THEN 'not valid JSON' END`,
      `CASE WHEN __valid AND __v IS NULL THEN 'not a JSON object' END`,
      `CASE WHEN len(__extra) > 0 THEN 'fields not in the dataset schema: ' || array_to_string(__extra, ', ') END`,
    ],
  };
}

/** Parquet: typed already; `row` is the 1-based row number in the file. */
function parquetSource(request: ConvertRequest): CheckedSource {
  return {
    from: `SELECT row_number() OVER () AS __row, to_json(p)::VARCHAR AS __raw, * FROM read_parquet(${literal(request.sourcePath)}) AS p`,
    value: (column) => ident(column.name),
    rowErrors: [],
  };
}
