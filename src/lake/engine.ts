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
import { DUCKDB_TYPE, castsLosslessly, columnTypeOf, ident, isNestedType, literal, literalList } from './sql.js';

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
    // One thread reads in file order anyway; not promising an order lets COPY stream with less memory.
    await conn.run('SET preserve_insertion_order = false');
    return await work({ rows: async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS() as Record<string, unknown>[] });
  } finally {
    connection?.closeSync();
    instance.closeSync();
  }
}

/** Integer types whose values may lie beyond int64, the range of a curated integer. */
const WIDE_INTEGER = /^(UBIGINT|HUGEINT|UHUGEINT)$/i;

/** A column of a Parquet file: its curated type, and an integer value beyond int64 that made it float. */
export interface ParquetColumn {
  readonly name: string;
  readonly type: ReturnType<typeof columnTypeOf>;
  readonly beyondInt64?: string;
  /** Whether the column is nested (struct, list, map): its values are curated as JSON text. */
  readonly nested?: boolean;
}

/**
 * The columns (name and column type) of a Parquet file. An integer column of a wider type than
 * int64 (UBIGINT, HUGEINT) whose values go beyond int64 is typed float, the rule for an integer
 * beyond int64 in an inferred schema: its first such value is returned for the note.
 */
export async function describeParquet(engine: Engine, path: string): Promise<ParquetColumn[]> {
  const columns = [...(await parquetTypes(engine, path))].map(([name, type]) => ({ name, type: columnTypeOf(type), wide: WIDE_INTEGER.test(type), nested: isNestedType(type) }));
  const wide = columns.filter((c) => c.wide);
  const [beyond = {}] =
    wide.length === 0
      ? []
      : await engine.rows(
          `SELECT ${wide.map((c, i) => `(arg_min(${ident(c.name)}::VARCHAR, __ordinal) FILTER (WHERE ${ident(c.name)} NOT BETWEEN -9223372036854775808 AND 9223372036854775807)) AS b${i}`).join(', ')}
           FROM (SELECT row_number() OVER () AS __ordinal, * FROM read_parquet(${literal(path)}))`,
        );
  return columns.map(({ name, type, wide: isWide, nested }) => {
    const value = isWide ? beyond[`b${wide.findIndex((c) => c.name === name)}`] : undefined;
    if (typeof value === 'string') return { name, type: 'float' as const, beyondInt64: value };
    return nested ? { name, type, nested } : { name, type };
  });
}

/** The DuckDB type of each column of a Parquet file. */
async function parquetTypes(engine: Engine, path: string): Promise<Map<string, string>> {
  const rows = await engine.rows(`DESCRIBE SELECT * FROM read_parquet(${literal(path)})`);
  return new Map(rows.map((r) => [String(r.column_name), String(r.column_type)]));
}

const count = (value: unknown): number => Number(value ?? 0);
const numeric = (c: SourceColumn): boolean => c.type === 'integer' || c.type === 'float';

/** A check of a row after parsing: when `fails` (SQL boolean) holds, `reason` (SQL text) says why. */
interface RowCheck {
  readonly fails: string;
  readonly reason: string;
}

/** How a source is converted, in SQL. */
interface SourcePlan {
  /** First pass: the curated rows (kept columns), reading with the reader recording its rejects. */
  readonly curated: string;
  /** Second pass, when rows can fail checks after parsing: `__ordinal`, `reasons`, `raw` of the failing rows. */
  readonly valueRejects?: string;
  /**
   * When the first pass can see every failing row in its output, this query on the curated file
   * counts them (`n`): the second pass runs only when it finds some.
   */
  readonly valueRejectsProbe?: string;
  /** A first pass that cannot see every failing row is redone with this when the second pass finds some. */
  readonly curatedExcludingRejects?: string;
  /** Whether the reader keeps bad lines in the `rejects` table. */
  readonly readerRejects: boolean;
}

/**
 * Converts a staged file to curated Parquet and rejected JSON Lines. One streaming pass writes the
 * curated rows; when rows can fail checks after parsing, a second pass collects those with their
 * reasons (the costly expressions run for failing rows only).
 */
export async function convert(engine: Engine, request: ConvertRequest, settings: EngineSettings): Promise<ConvertCounts> {
  const source =
    request.kind.format === 'csv'
      ? csvPlan(request, settings)
      : request.kind.format === 'jsonl'
        ? jsonLinesPlan(request, settings)
        : parquetPlan(request, await parquetTypes(engine, request.sourcePath));
  const [copied] = await engine.rows(curatedCopy(source.curated, request.curatedPath));
  let rowsAccepted = count(copied?.Count);
  let valueRejects = 0;
  if (source.valueRejects !== undefined && (source.valueRejectsProbe === undefined || count((await engine.rows(source.valueRejectsProbe))[0]?.n) > 0)) {
    await engine.rows(`CREATE TABLE value_rejects AS ${source.valueRejects}`);
    const [bad] = await engine.rows(`SELECT count(*) AS n FROM value_rejects`);
    valueRejects = count(bad?.n);
    if (valueRejects > 0 && source.curatedExcludingRejects !== undefined) {
      const [recopied] = await engine.rows(curatedCopy(source.curatedExcludingRejects, request.curatedPath));
      rowsAccepted = count(recopied?.Count);
    }
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
          `SELECT NULL::BIGINT AS __line, __ordinal, (CASE WHEN __ordinal IS NULL THEN json_object('reasons', reasons, 'raw', raw) ELSE json_object('row', __ordinal, 'reasons', reasons, 'raw', raw) END)::VARCHAR AS j
           FROM value_rejects`,
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

/** SQL of the rows failing any check, and of the reasons of a failing row. */
function checkSql(checks: readonly RowCheck[]): { failing: string; reasons: string } {
  return {
    failing: checks.length === 0 ? 'false' : checks.map((c) => `coalesce(${c.fails}, false)`).join(' OR '),
    reasons: `list_filter([${checks.map((c) => `CASE WHEN ${c.fails} THEN ${c.reason} END`).join(', ')}]::VARCHAR[], e -> e IS NOT NULL)`,
  };
}

const curatedCopy = (select: string, path: string) => `COPY (${select}) TO ${literal(path)} (FORMAT parquet, COMPRESSION snappy)`;
const keptColumns = (plan: ColumnPlan, value: (column: SourceColumn, index: number) => string): string =>
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
  ELSE replace(replace(replace(replace(error_message, '''BIGINT''', 'integer'), '''DOUBLE''', 'float'), '''BOOLEAN''', 'boolean'), '''TIMESTAMP WITH TIME ZONE''', 'timestamp')
  END`;

/** The first pass records the reader's rejects; a re-read skips the same lines. */
const readerRejectOptions = (recording: boolean) =>
  recording ? `store_rejects = true, rejects_table = 'rejects', rejects_scan = 'rejects_scan'` : 'ignore_errors = true';

/**
 * Whether a value (of any type) is not written as a plain integer (`42`, `-7`, `3.0`): a fraction,
 * an exponent, hex or `1_000`, all of which DuckDB's casts would turn into some integer silently.
 */
const notIntegerText = (v: string) => `NOT regexp_full_match(trim(${v}::VARCHAR), '[+-]?[0-9]+(\\.0*)?')`;
const label = (c: SourceColumn) => `'column ' || ${literal(JSON.stringify(c.name))}`;
/** Longest part of a value quoted in a reason. */
const QUOTED_CHARS = 80;
/** A value as text for a reason: its start, and its length when it is longer. */
const quoted = (v: string) =>
  `(CASE WHEN length(${v}::VARCHAR) > ${QUOTED_CHARS} THEN left(${v}::VARCHAR, ${QUOTED_CHARS}) || '… (' || length(${v}::VARCHAR) || ' characters)' ELSE ${v}::VARCHAR END)`;
/**
 * A float value that is infinite: `inf`, or a number beyond the double range (`1e309`, an
 * 80,000-digit integer) that the cast turns into infinity. Curated floats are finite or NaN (NaN
 * is a missing value to training); the reason names the value. `number` is the value as DOUBLE.
 */
const infiniteFloat = (c: SourceColumn, number: string, text: string): RowCheck => ({
  fails: `isinf(${number})`,
  reason: `${label(c)} || ': ' || ${quoted(text)} || ' is out of the float range (finite values up to ±1.8e308)'`,
});

/**
 * CSV: DuckDB's reader parses and types every line, keeping bad ones with their line numbers.
 * Its text-to-integer cast rounds fractions (and reads hex, `1_000`, exponents), so integer
 * columns are checked again in a second pass that reads their text; only if it finds such values
 * is the curated file rewritten without those rows. Required text columns are checked for emptiness.
 */
function csvPlan(request: ConvertRequest, settings: EngineSettings): SourcePlan {
  const { dialect, plan } = request;
  if (dialect === undefined) throw new Error('a CSV conversion needs its dialect');
  // The second pass reads numbers as text, to check them as written.
  const reader = (numbersAsText: boolean, recording: boolean) => {
    const columns = plan.source.map((c) => `${literal(c.name)}: ${literal(numbersAsText && numeric(c) ? 'VARCHAR' : DUCKDB_TYPE[c.type])}`).join(', ');
    // Required non-text columns keep empty values as text, so the reader rejects them with their line.
    const notNull = plan.source.flatMap((c) => (c.required && c.type !== 'string' ? [c.name] : []));
    return `read_csv(${literal(request.sourcePath)}, auto_detect = false, strict_mode = true, header = ${dialect.header},
      delim = ${literal(dialect.delimiter)}, quote = ${literal(dialect.quote)}, escape = ${literal(dialect.escape)},
      columns = {${columns}}, nullstr = ${literalList(NULL_TOKENS)}, ${notNull.length > 0 ? `force_not_null = ${literalList(notNull)},` : ''}
      compression = ${literal(request.kind.gzip ? 'gzip' : 'none')}, max_line_size = ${settings.maxLineBytes}, ${readerRejectOptions(recording)})`;
  };
  const integers = plan.source.filter((c) => c.type === 'integer');
  const floats = plan.source.filter((c) => c.type === 'float' && c.keep);
  const requiredText: RowCheck[] = plan.source
    .filter((c) => c.required && c.type === 'string')
    .map((c) => ({ fails: `${ident(c.name)} IS NULL`, reason: `${label(c)} || ' is required but empty'` }));
  const fractions: RowCheck[] = integers.map((c) => ({ fails: notIntegerText(ident(c.name)), reason: `${label(c)} || ': ' || ${quoted(ident(c.name))} || ' is not an integer'` }));
  const infinities = floats.map((c) => infiniteFloat(c, `TRY_CAST(${ident(c.name)} AS DOUBLE)`, ident(c.name)));
  const kept = keptColumns(plan, (c) => ident(c.name));
  const text = checkSql(requiredText);
  const all = checkSql([...fractions, ...infinities, ...requiredText]);
  // Lines whose numbers the first pass could not read at all are its rejects already.
  const readable = plan.source.filter(numeric).map((c) => `(${ident(c.name)} IS NULL OR TRY_CAST(${ident(c.name)} AS ${DUCKDB_TYPE[c.type]}) IS NOT NULL)`).join(' AND ') || 'true';
  const raw = `json_object(${plan.source.map((c) => `${literal(c.name)}, ${ident(c.name)}`).join(', ')})::VARCHAR`;
  const curated = `SELECT ${kept} FROM ${reader(false, true)} WHERE NOT (${text.failing})`;
  if (integers.length + floats.length + requiredText.length === 0) return { curated, readerRejects: true };
  return {
    curated,
    // Rows whose numbers the first pass rejected are counted there already.
    valueRejects: `SELECT NULL::BIGINT AS __ordinal, ${all.reasons} AS reasons, ${raw} AS raw FROM ${reader(true, false)} WHERE ${readable} AND (${all.failing})`,
    // Infinite floats are visible in the curated file: without other checks, only look again when it has some.
    ...(integers.length + requiredText.length === 0
      ? { valueRejectsProbe: `SELECT count(*) AS n FROM read_parquet(${literal(request.curatedPath)}) WHERE ${floats.map((c) => `isinf(${ident(c.name)})`).join(' OR ')}` }
      : {}),
    curatedExcludingRejects: `SELECT ${keptColumns(plan, (c) => (numeric(c) ? `TRY_CAST(${ident(c.name)} AS ${DUCKDB_TYPE[c.type]})` : ident(c.name)))}
      FROM ${reader(true, false)} WHERE ${readable} AND NOT (${all.failing})`,
    readerRejects: true,
  };
}

/** JSON Lines and Parquet: values are cast in SQL; a value that does not fit rejects its row. */
function checkedPlan(
  plan: ColumnPlan,
  from: (recording: boolean) => string,
  value: (column: SourceColumn, index: number) => string,
  checks: readonly RowCheck[],
  raw: string,
  readerRejects: boolean,
): SourcePlan {
  const { failing, reasons } = checkSql(checks);
  return {
    curated: `SELECT ${keptColumns(plan, (c, i) => `TRY_CAST(${value(c, i)} AS ${DUCKDB_TYPE[c.type]})`)} FROM (${from(true)}) WHERE NOT (${failing})`,
    ...(checks.length === 0 ? {} : { valueRejects: `SELECT __ordinal, ${reasons} AS reasons, ${raw} AS raw FROM (${from(false)}) WHERE ${failing}` }),
    readerRejects,
  };
}

/**
 * Checks that each value fits its column's type (integers without a fraction, finite floats) and
 * that required values are present.
 */
function castChecks(plan: ColumnPlan, value: (column: SourceColumn, index: number) => string, isRecord: string, alwaysFits: (column: SourceColumn) => boolean = () => false): RowCheck[] {
  return plan.source.flatMap((c, i): RowCheck[] => {
    const v = value(c, i);
    const finite = c.type === 'float' && c.keep ? [infiniteFloat(c, `TRY_CAST(${v} AS DOUBLE)`, v)] : [];
    if (alwaysFits(c)) return [...(c.required ? [{ fails: `${v} IS NULL`, reason: `${label(c)} || ' is required but empty'` }] : []), ...finite];
    const exact = c.type === 'integer' ? ` OR ${notIntegerText(v)}` : '';
    // An integer that does not fit int64 is an integer all the same: the reason says what is wrong.
    const why = c.type === 'integer' ? `CASE WHEN ${notIntegerText(v)} THEN ' is not integer' ELSE ' is beyond the integer range (int64)' END` : `' is not ${c.type}'`;
    const fits = { fails: `${v} IS NOT NULL AND (TRY_CAST(${v} AS ${DUCKDB_TYPE[c.type]}) IS NULL${exact})`, reason: `${label(c)} || ': ' || ${quoted(v)} || ${why}` };
    return [...(c.required ? [{ fails: `${isRecord} AND ${v} IS NULL`, reason: `${label(c)} || ' is required but empty'` }] : []), fits, ...finite];
  });
}

/** JSON Lines: one record per non-blank line; `row` is the record's ordinal. */
function jsonLinesPlan(request: ConvertRequest, settings: EngineSettings): SourcePlan {
  const { plan } = request;
  const known = literalList(plan.source.map((c) => c.name));
  const paths = literalList(plan.source.map((c) => `$."${c.name.replaceAll('"', '\\"')}"`));
  // Each line is read whole as one text value: no delimiter or quote can split it. Lines that are
  // not UTF-8 or too long are kept by the reader with their line numbers.
  const lines = (recording: boolean) => `read_csv(${literal(request.sourcePath)}, auto_detect = false, header = false, columns = {'j': 'VARCHAR'},
    delim = '\x01', quote = '', escape = '', strict_mode = false, nullstr = ['\x02'],
    compression = ${literal(request.kind.gzip ? 'gzip' : 'none')}, max_line_size = ${settings.maxLineBytes}, ${readerRejectOptions(recording)})`;
  // Functions on JSON fail on invalid input, so they only ever see valid JSON (or NULL).
  const valid = (recording: boolean) => `SELECT row_number() OVER () AS __ordinal, j AS __raw, CASE WHEN json_valid(j) THEN j END AS __json FROM ${lines(recording)}`;
  const parsed = (recording: boolean) => `SELECT __ordinal, __raw, __json IS NOT NULL AS __valid,
      CASE WHEN json_type(__json) = 'OBJECT' THEN json_extract_string(__json, ${paths}) END AS __v,
      CASE WHEN json_type(__json) = 'OBJECT' THEN list_filter(json_keys(__json), k -> NOT list_contains(${known}, k)) END AS __extra
    FROM (${valid(recording)})`;
  const value = (_c: SourceColumn, i: number) => `__v[${i + 1}]`;
  const checks = [
    { fails: 'NOT __valid', reason: `'not valid JSON'` },
    { fails: '__valid AND __v IS NULL', reason: `'not a JSON object'` },
    { fails: 'len(__extra) > 0', reason: `'fields not in the dataset schema: ' || array_to_string(__extra, ', ')` },
    ...castChecks(plan, value, '__v IS NOT NULL'),
  ];
  return checkedPlan(plan, parsed, value, checks, '__raw', true);
}

/** Parquet: typed already; `row` is the 1-based row number in the file. */
function parquetPlan(request: ConvertRequest, types: ReadonlyMap<string, string>): SourcePlan {
  const { plan } = request;
  // Nested values become their JSON text (as JSON Lines objects do), not DuckDB's literal syntax.
  const value = (c: SourceColumn) => (isNestedType(types.get(c.name) ?? '') ? `to_json(${ident(c.name)})::VARCHAR` : ident(c.name));
  // JSON has no infinities or NaN: such floats are quoted as text (`"inf"`), as a CSV shows them.
  const rawValue = (c: SourceColumn) =>
    /^(FLOAT|DOUBLE|REAL)$/i.test(types.get(c.name) ?? '') ? `CASE WHEN isfinite(${ident(c.name)}) THEN to_json(${ident(c.name)}) ELSE to_json(${ident(c.name)}::VARCHAR) END` : ident(c.name);
  const raw = `json_object(${plan.source.map((c) => `${literal(c.name)}, ${rawValue(c)}`).join(', ')})::VARCHAR`;
  const from = () => `SELECT row_number() OVER () AS __ordinal, * FROM read_parquet(${literal(request.sourcePath)})`;
  // Columns whose Parquet type always fits need no check: a file of the right types converts in one pass.
  const fits = (c: SourceColumn) => castsLosslessly(types.get(c.name) ?? '', c.type);
  return checkedPlan(plan, from, value, castChecks(plan, value, 'true', fits), raw, false);
}
