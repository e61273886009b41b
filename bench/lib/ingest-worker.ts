/**
 * One measurement of the ingest-libraries benchmark (`bench/ingest-libraries.ts`),
 * run in a fresh process so that its peak RSS is its own:
 *
 *   node --import tsx bench/lib/ingest-worker.ts <task> <input> [output] [duckdb settings]
 *
 * (the benchmark runs it bundled by esbuild, as a Lambda function would be).
 *
 * Prints one JSON line ({@link WorkerResult}) on stdout. Each task imports only
 * the libraries it measures, before the clock starts; the clock stops when the
 * last row is processed (and, for writers, the file is closed).
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, openAsBlob } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Vector } from 'apache-arrow';
import type { RecordBatch as WasmRecordBatch } from 'parquet-wasm';
import { ChecksumBuilder, convertRow, inferKinds, type AnyValue, type Cell, type Checksum, type Kind } from './credit-csv.js';

/** What a worker prints. */
export interface WorkerResult {
  readonly task: string;
  /** Time to import the measured libraries (not part of `seconds`). */
  readonly loadSeconds: number;
  /** Wall time of the measured work. */
  readonly seconds: number;
  /** CPU time (user + system) of the whole process during the measured work, all threads. */
  readonly cpuSeconds: number;
  readonly rows: number;
  readonly checksum: Checksum | null;
  /** Peak resident set size of the process (`process.resourceUsage().maxRSS`), bytes. */
  readonly maxRssBytes: number;
  /** Size of the file written, for writers. */
  readonly outBytes?: number;
  /** Cells that did not match their inferred kind (must be 0). */
  readonly badCells?: number;
  readonly detail?: string;
}

/** CSV read in 1 MiB chunks, decoded as UTF-8 by the stream (a multi-byte character is never split). */
const CHUNK = 1 << 20;
/** Rows per Parquet row group, for the JS writers (DuckDB's default is 122,880). */
export const ROW_GROUP = 100_000;
/** Rows kept to infer column kinds before converting. */
const SAMPLE = 1_000;

const csvChunks = (file: string): AsyncIterable<string> =>
  createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK }) as AsyncIterable<string>;

/**
 * Receives rows of strings from any parser: the header, a sample to infer the
 * kinds, then every row converted to typed cells and added to the checksum.
 */
class RowSink {
  names: string[] | undefined;
  kinds: Kind[] | undefined;
  checksum: ChecksumBuilder | undefined;
  badCells = 0;
  private readonly pending: string[][] = [];
  private readonly row: Cell[] = [];

  constructor(private readonly onRow?: (row: readonly Cell[], kinds: readonly Kind[]) => void) {}

  header(names: readonly string[]): void {
    this.names = [...names];
    this.checksum = new ChecksumBuilder(this.names);
  }

  push(fields: readonly string[]): void {
    if (this.names === undefined) return this.header(fields);
    if (fields.length === 1 && fields[0] === '') return; // blank line (e.g. after the last newline)
    if (this.kinds === undefined) {
      this.pending.push([...fields]);
      if (this.pending.length >= SAMPLE) this.settle();
      return;
    }
    this.badCells += convertRow(fields, this.kinds, this.row);
    this.checksum!.addRow(this.row, this.kinds);
    this.onRow?.(this.row, this.kinds);
  }

  private settle(): void {
    this.kinds = inferKinds(this.pending, this.names!.length);
    for (const fields of this.pending.splice(0)) this.push(fields);
  }

  end(): void {
    if (this.kinds === undefined && this.names !== undefined) this.settle();
  }
}

/** Typed cells gathered column by column, a row group at a time. */
class ColumnBatch {
  cols: Cell[][];
  n = 0;

  constructor(private readonly width: number) {
    this.cols = this.fresh();
  }

  private fresh(): Cell[][] {
    return Array.from({ length: this.width }, () => new Array<Cell>(ROW_GROUP));
  }

  add(row: readonly Cell[]): boolean {
    for (let c = 0; c < this.width; c++) this.cols[c]![this.n] = row[c]!;
    return ++this.n === ROW_GROUP;
  }

  take(): { cols: Cell[][]; n: number } {
    const out = { cols: this.cols, n: this.n };
    if (this.n < ROW_GROUP) for (const col of out.cols) col.length = this.n;
    this.cols = this.fresh();
    this.n = 0;
    return out;
  }
}

/** A copy of a string that shares no memory with the string it came from. */
const detach = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

/**
 * Streams a CSV through uDSV (string tuples), calling `sink.push` per row and
 * yielding after each chunk, so that a pull-based caller can drain what the sink built.
 */
async function* udsvChunks(file: string, sink: RowSink): AsyncGenerator<void> {
  const { inferSchema, initParser } = await import('udsv');
  let parser: ReturnType<typeof initParser> | undefined;
  const each = (row: string[]): void => sink.push(row);
  for await (const chunk of csvChunks(file)) {
    if (parser === undefined) {
      // the quote character is given: uDSV otherwise decides per chunk from the presence of '"'
      const schema = inferSchema(chunk, { encl: '"' });
      sink.header(schema.cols.map((col) => col.name));
      parser = initParser(schema);
    }
    parser.chunk<string[]>(chunk, parser.stringArrs, each);
    yield;
  }
  parser?.end();
}

/** Streams a CSV through uDSV (string tuples), calling `sink.push` per row. */
async function parseWithUdsv(file: string, sink: RowSink): Promise<void> {
  const chunks = udsvChunks(file, sink);
  while (!(await chunks.next()).done) {
    // every row has gone to the sink
  }
}

/** What a task measures itself; `main` adds the timings and the peak RSS. */
type Measured = Omit<WorkerResult, 'task' | 'maxRssBytes' | 'seconds' | 'cpuSeconds' | 'loadSeconds'>;
type Task = (input: string, output: string | undefined, settings: string | undefined) => Promise<Measured>;

/** A parse task: the rows come from `parse`, the conversion and checksum are shared. */
function parseTask(parse: (file: string, sink: RowSink) => Promise<void>): Task {
  return async (input) => {
    const sink = new RowSink();
    await parse(input, sink);
    sink.end();
    const checksum = sink.checksum!.result();
    return { rows: checksum.rows, checksum, badCells: sink.badCells };
  };
}

const TASKS: Record<string, Task> = {
  /** The process floor: Node + tsx + this module, no work. */
  noop: async () => ({ rows: 0, checksum: null }),

  udsv: parseTask(parseWithUdsv),

  /** uDSV converting values itself (its `typedArrs`, with the types its `inferSchema` guesses). */
  'udsv-typed': async (input) => {
    const { inferSchema, initParser } = await import('udsv');
    let parser: ReturnType<typeof initParser> | undefined;
    let checksum: ChecksumBuilder | undefined;
    const each = (row: unknown[]): void => {
      checksum!.rows++;
      for (let c = 0; c < row.length; c++) checksum!.add(c, row[c] as AnyValue);
    };
    for await (const chunk of csvChunks(input)) {
      if (parser === undefined) {
        const schema = inferSchema(chunk, { encl: '"' });
        checksum = new ChecksumBuilder(schema.cols.map((col) => col.name));
        parser = initParser(schema);
      }
      parser.chunk<unknown[]>(chunk, parser.typedArrs, each);
    }
    parser?.end();
    const result = checksum!.result();
    return { rows: result.rows, checksum: result, detail: parser?.schema.cols.map((col) => `${col.name}:${col.type}`).join(' ') };
  },

  /** papaparse reading the Node stream itself, rows delivered per chunk. */
  papaparse: parseTask(async (file, sink) => {
    const { default: Papa } = await import('papaparse');
    await new Promise<void>((resolve, reject) => {
      Papa.parse<string[]>(createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK }), {
        header: false,
        dynamicTyping: false,
        chunk: (results) => {
          for (const row of results.data) sink.push(row);
        },
        complete: () => resolve(),
        error: (error: Error) => reject(error),
      });
    });
  }),

  /** csv-parse (node-csv) as a Node transform stream, consumed with `for await`. */
  'csv-parse': parseTask(async (file, sink) => {
    const { parse } = await import('csv-parse');
    const parser = createReadStream(file, { highWaterMark: CHUNK }).pipe(parse());
    for await (const row of parser as AsyncIterable<string[]>) sink.push(row);
  }),

  /** uDSV → typed cells → hyparquet-writer's ParquetWriter, one row group per 100,000 rows, appended to one file. */
  'hyparquet-writer': async (input, output) => {
    const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
    type Source = Parameters<typeof schemaFromColumnData>[0]['columnData'][number];
    const basic = { int: 'INT64', float: 'DOUBLE', bool: 'BOOLEAN', timestamp: 'TIMESTAMP', string: 'STRING' } as const;
    let writer: InstanceType<typeof ParquetWriter> | undefined;
    let batch: ColumnBatch | undefined;
    const flush = (names: readonly string[], kinds: readonly Kind[]): void => {
      const { cols, n } = batch!.take();
      if (n === 0) return;
      // INT64 takes bigint values in hyparquet-writer; TIMESTAMP takes epoch milliseconds as numbers
      const data = (c: number): Cell[] | (bigint | null)[] =>
        kinds[c] === 'int' ? cols[c]!.map((v) => (v === null ? null : BigInt(v as number))) : cols[c]!;
      const columnData: Source[] = names.map((name, c) => ({ name, data: data(c), type: basic[kinds[c]!] }));
      writer ??= new ParquetWriter({ writer: fileWriter(output!), schema: schemaFromColumnData({ columnData }) });
      void writer.write({ columnData, rowGroupSize: ROW_GROUP });
      // The writer keeps each row group's statistics until the footer is written. A string min/max is
      // the parsed cell itself, which V8 keeps as a slice of the 1 MiB chunk it was parsed from: without
      // this copy every row group pins a few chunks and the heap grows with the file (measured: ~1.8 MB
      // per 25,000 rows, out of memory under a 128 MB heap). A flat copy frees the chunks.
      for (const column of writer.row_groups.at(-1)?.columns ?? []) {
        const stats = column.meta_data?.statistics;
        if (stats === undefined) continue;
        if (typeof stats.min_value === 'string') stats.min_value = detach(stats.min_value);
        if (typeof stats.max_value === 'string') stats.max_value = detach(stats.max_value);
      }
    };
    const sink = new RowSink((row, kinds) => {
      batch ??= new ColumnBatch(kinds.length);
      if (batch.add(row)) flush(sink.names!, kinds);
    });
    await parseWithUdsv(input, sink);
    sink.end();
    if (batch !== undefined) flush(sink.names!, sink.kinds!);
    await writer?.finish();
    const checksum = sink.checksum!.result();
    return { rows: checksum.rows, checksum, badCells: sink.badCells, outBytes: (await stat(output!)).size };
  },

  /** uDSV → typed cells → Arrow record batches (apache-arrow) → parquet-wasm's transformParquetStream → file. */
  'parquet-wasm-write': async (input, output) => {
    const pw = await import('parquet-wasm');
    const arrow = await import('apache-arrow');
    const ready: { cols: Cell[][]; n: number }[] = [];
    let batch: ColumnBatch | undefined;
    const sink = new RowSink((row, kinds) => {
      batch ??= new ColumnBatch(kinds.length);
      if (batch.add(row)) ready.push(batch.take());
    });

    const bitmap = (col: readonly Cell[], n: number): { nullBitmap: Uint8Array; nullCount: number } => {
      const nullBitmap = new Uint8Array((n + 7) >> 3);
      let nullCount = 0;
      for (let i = 0; i < n; i++) {
        if (col[i] === null) nullCount++;
        else nullBitmap[i >> 3]! |= 1 << (i & 7);
      }
      return { nullBitmap, nullCount };
    };
    const bigints = (col: readonly Cell[], n: number): BigInt64Array => {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt((col[i] as number | null) ?? 0);
      return out;
    };
    const vector = (kind: Kind, col: Cell[], n: number): Vector => {
      switch (kind) {
        case 'int':
          return arrow.makeVector(arrow.makeData({ type: new arrow.Int64(), length: n, ...bitmap(col, n), data: bigints(col, n) }));
        case 'timestamp':
          return arrow.makeVector(arrow.makeData({ type: new arrow.TimestampMillisecond(), length: n, ...bitmap(col, n), data: bigints(col, n) }));
        case 'float': {
          const data = new Float64Array(n);
          for (let i = 0; i < n; i++) data[i] = (col[i] as number | null) ?? 0;
          return arrow.makeVector(arrow.makeData({ type: new arrow.Float64(), length: n, ...bitmap(col, n), data }));
        }
        case 'bool':
          return arrow.vectorFromArray(col as (boolean | null)[], new arrow.Bool());
        default:
          return arrow.vectorFromArray(col as (string | null)[], new arrow.Utf8());
      }
    };
    const toWasm = ({ cols, n }: { cols: Cell[][]; n: number }): WasmRecordBatch[] => {
      const vectors: Record<string, Vector> = {};
      sink.names!.forEach((name, c) => {
        vectors[name] = vector(sink.kinds![c]!, cols[c]!, n);
      });
      const table = pw.Table.fromIPCStream(arrow.tableToIPC(new arrow.Table(vectors), 'stream'));
      const batches = table.recordBatches();
      table.free();
      return batches;
    };

    async function* drainReady(): AsyncGenerator<WasmRecordBatch> {
      while (ready.length > 0) yield* toWasm(ready.shift()!);
      if (batch !== undefined && batch.n > 0) yield* toWasm(batch.take());
    }
    // Pull-based: the next CSV chunk is parsed only when the Parquet writer asks for more record batches.
    async function* source(): AsyncGenerator<WasmRecordBatch> {
      const chunks = udsvChunks(input, sink);
      while (!(await chunks.next()).done) {
        while (ready.length > 0) yield* toWasm(ready.shift()!);
      }
      sink.end();
      yield* drainReady();
    }

    const iterator = source();
    const recordBatches = new ReadableStream<WasmRecordBatch>(
      {
        async pull(controller) {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
      },
      { highWaterMark: 1 },
    );
    const props = new pw.WriterPropertiesBuilder().setCompression(pw.Compression.SNAPPY).setMaxRowGroupSize(ROW_GROUP).build();
    const bytes = await pw.transformParquetStream(recordBatches, props);
    const out = createWriteStream(output!);
    for await (const piece of bytes as AsyncIterable<Uint8Array>) {
      if (!out.write(piece)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const checksum = sink.checksum!.result();
    return { rows: checksum.rows, checksum, badCells: sink.badCells, outBytes: (await stat(output!)).size };
  },

  /** hyparquet, one `parquetRead` per row group (bounded memory), every column decoded. */
  'hyparquet-read': async (input) => hyparquetRead(input, true),

  /** hyparquet, one `parquetRead` over the whole file (it fetches every row group up front). */
  'hyparquet-read-whole': async (input) => hyparquetRead(input, false),

  /** parquet-wasm's ParquetFile.stream over a file-backed Blob, batches decoded to JS through apache-arrow. */
  'parquet-wasm-read': async (input) => {
    const pw = await import('parquet-wasm');
    const arrow = await import('apache-arrow');
    const file = await pw.ParquetFile.fromFile(await openAsBlob(input));
    const stream = await file.stream({ batchSize: 65_536 });
    let checksum: ChecksumBuilder | undefined;
    for await (const batch of stream as AsyncIterable<WasmRecordBatch>) {
      const table = arrow.tableFromIPC(batch.intoIPCStream());
      checksum ??= new ChecksumBuilder(table.schema.fields.map((field) => field.name));
      checksum.rows += table.numRows;
      table.schema.fields.forEach((field, c) => {
        const column = table.getChildAt(c)!;
        const seconds = arrow.DataType.isTimestamp(field.type);
        for (const v of column as Iterable<AnyValue>) checksum!.add(c, seconds && typeof v === 'number' ? v / 1000 : v);
      });
    }
    const result = checksum!.result();
    return { rows: result.rows, checksum: result };
  },

  /** DuckDB: CSV → Parquet with `COPY (SELECT * FROM read_csv_auto(…)) TO … (FORMAT parquet)`. */
  'duckdb-convert': async (input, output, settings) => {
    const connection = await duckdb(settings);
    const copied = await connection.runAndReadAll(`COPY (SELECT * FROM read_csv_auto('${input}')) TO '${output}' (FORMAT parquet)`);
    const rows = Number(copied.getRows()[0]![0]);
    return { rows, checksum: null, outBytes: (await stat(output!)).size, detail: await settingsInUse(connection) };
  },

  /** DuckDB: Parquet → Parquet, the baseline of the platform's Parquet ingestion. */
  'duckdb-parquet-convert': async (input, output, settings) => {
    const connection = await duckdb(settings);
    const copied = await connection.runAndReadAll(`COPY (SELECT * FROM read_parquet('${input}')) TO '${output}' (FORMAT parquet)`);
    return { rows: Number(copied.getRows()[0]![0]), checksum: null, outBytes: (await stat(output!)).size, detail: await settingsInUse(connection) };
  },

  /**
   * The platform's ingestion of a staged file (src/lake `ingestFile`: sniff, type, convert with
   * rejects, statistics), in a work folder `output`; settings `memory_limit_mb=…;threads=…`.
   */
  'platform-ingest': async (input, output, settings) => {
    const { ingestFile } = await import('../../src/lake/ingest-file.js');
    const options = Object.fromEntries((settings ?? '').split(';').map((pair) => pair.split('=') as [string, string]));
    await mkdir(output!, { recursive: true });
    const result = await ingestFile({
      sourcePath: input,
      key: input,
      sizeBytes: (await stat(input)).size,
      rejectThreshold: 1,
      engine: { workDir: output!, memoryLimitMb: Number(options['memory_limit_mb'] ?? 128), threads: Number(options['threads'] ?? 1), maxLineBytes: 2 << 20 },
    });
    return {
      rows: result.rowsRead,
      checksum: null,
      outBytes: result.curatedPath === undefined ? 0 : (await stat(result.curatedPath)).size,
      detail: `${result.status}: ${result.rowsAccepted} accepted, ${result.rowsRejected} rejected, ${result.statistics.length} column statistics`,
    };
  },

  /** Whether DuckDB's httpfs extension (S3 reads) is available without a download: `LOAD` only, never `INSTALL`. */
  'duckdb-httpfs': async () => {
    const connection = await duckdb('default');
    try {
      await connection.run('LOAD httpfs');
      return { rows: 0, checksum: null, detail: 'httpfs loads without a download' };
    } catch (error) {
      const message = String(error);
      const detail = message.includes('not found') ? 'httpfs is not built in (LOAD fails; INSTALL would download it)' : `LOAD httpfs: ${message.split('\n')[0]}`;
      return { rows: 0, checksum: null, detail };
    }
  },

  /** DuckDB: every column of a Parquet file folded into the checksum. */
  'duckdb-read': async (input, _output, settings) => {
    const connection = await duckdb(settings);
    const checksum = await duckdbChecksum(connection, `'${input}'`);
    return { rows: checksum.rows, checksum, detail: await settingsInUse(connection) };
  },

  /** DuckDB: the same checksum straight from the CSV (the reference the JS parsers are checked against). */
  'duckdb-csv-scan': async (input, _output, settings) => {
    const connection = await duckdb(settings);
    const checksum = await duckdbChecksum(connection, `read_csv_auto('${input}')`);
    return { rows: checksum.rows, checksum, detail: await settingsInUse(connection) };
  },
};

async function hyparquetRead(input: string, byRowGroup: boolean): Promise<Measured> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } = await import('hyparquet');
  const file = await asyncBufferFromFile(input);
  const metadata = await parquetMetadataAsync(file);
  const names = parquetSchema(metadata).children.map((child) => child.element.name);
  const index = new Map(names.map((name, c) => [name, c]));
  const checksum = new ChecksumBuilder(names);
  const first = names[0]!;
  const ranges: [number, number][] = [];
  if (byRowGroup) {
    let start = 0;
    for (const group of metadata.row_groups) {
      ranges.push([start, start + Number(group.num_rows)]);
      start += Number(group.num_rows);
    }
  } else {
    ranges.push([0, Number(metadata.num_rows)]);
  }
  for (const [rowStart, rowEnd] of ranges) {
    await parquetRead({
      file,
      metadata,
      rowStart,
      rowEnd,
      onChunk: ({ columnName, columnData, rowStart: chunkStart }) => {
        const c = index.get(columnName)!;
        // a chunk may hold rows outside the requested range: count each row once
        const from = Math.max(rowStart - chunkStart, 0);
        const to = Math.min(rowEnd - chunkStart, columnData.length);
        for (let i = from; i < to; i++) checksum.add(c, columnData[i] as AnyValue);
        if (columnName === first) checksum.rows += Math.max(0, to - from);
      },
    });
  }
  return { rows: checksum.rows, checksum: checksum.result(), detail: `${metadata.row_groups.length} row groups` };
}

/** An in-memory DuckDB; `settings` is `default` or `name=value[;name=value…]` (e.g. `threads=1;memory_limit=128MB`). */
async function duckdb(settings: string | undefined): Promise<DuckDBConnection> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const options: Record<string, string> = {};
  for (const pair of settings === undefined || settings === 'default' ? [] : settings.split(';')) {
    const [name, value] = pair.split('=');
    if (name !== undefined && value !== undefined) options[name] = value;
  }
  const instance = await DuckDBInstance.create(':memory:', options);
  return instance.connect();
}

async function settingsInUse(connection: DuckDBConnection): Promise<string> {
  const row = (await connection.runAndReadAll(`SELECT current_setting('threads'), current_setting('memory_limit')`)).getRows()[0]!;
  return `threads=${String(row[0])}, memory_limit=${String(row[1])}`;
}

/** The {@link Checksum} in SQL, over every column of `relation`. */
async function duckdbChecksum(connection: DuckDBConnection, relation: string): Promise<Checksum> {
  const columns = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${relation}`)).getRowObjectsJS() as { column_name: string; column_type: string }[];
  const fold = ({ column_name: name, column_type: type }: { column_name: string; column_type: string }): string => {
    const q = `"${name}"`;
    if (type === 'BOOLEAN') return `count_if(${q})::DOUBLE`;
    if (type === 'VARCHAR') return `sum(length(${q}))::DOUBLE`;
    if (type.startsWith('TIMESTAMP')) return `sum(epoch(${q}))::DOUBLE`;
    return `sum(${q})::DOUBLE`;
  };
  const select = columns.map((col, c) => `${fold(col)} AS s${c}, (count(*) - count("${col.column_name}"))::DOUBLE AS n${c}`).join(', ');
  const row = (await connection.runAndReadAll(`SELECT count(*)::DOUBLE AS rows, ${select} FROM ${relation}`)).getRowObjectsJS()[0]!;
  const sums: Record<string, number> = {};
  const nulls: Record<string, number> = {};
  columns.forEach((col, c) => {
    sums[col.column_name] = Number(row[`s${c}`] ?? 0);
    nulls[col.column_name] = Number(row[`n${c}`]);
  });
  return { rows: Number(row.rows), sums, nulls };
}

const PRELOAD: Record<string, string[]> = {
  udsv: ['udsv'],
  'udsv-typed': ['udsv'],
  papaparse: ['papaparse'],
  'csv-parse': ['csv-parse'],
  'hyparquet-writer': ['udsv', 'hyparquet-writer'],
  'parquet-wasm-write': ['udsv', 'parquet-wasm', 'apache-arrow'],
  'hyparquet-read': ['hyparquet'],
  'hyparquet-read-whole': ['hyparquet'],
  'parquet-wasm-read': ['parquet-wasm', 'apache-arrow'],
  'duckdb-convert': ['@duckdb/node-api'],
  'duckdb-read': ['@duckdb/node-api'],
  'duckdb-csv-scan': ['@duckdb/node-api'],
  'duckdb-httpfs': ['@duckdb/node-api'],
  'duckdb-parquet-convert': ['@duckdb/node-api'],
  'platform-ingest': ['@duckdb/node-api'],
};

async function main(): Promise<void> {
  const [task, input, output, settings] = process.argv.slice(2);
  const run = task === undefined ? undefined : TASKS[task];
  if (task === undefined || run === undefined || input === undefined) {
    console.error(`usage: ingest-worker <${Object.keys(TASKS).join('|')}> <input> [output] [duckdb settings]`);
    process.exit(2);
  }
  // the measured libraries are loaded before the clock starts (the tasks' own imports then hit the module cache)
  const loading = performance.now();
  for (const name of PRELOAD[task] ?? []) await import(name);
  const loadSeconds = (performance.now() - loading) / 1000;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const result = await run(input, output, settings);
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const out: WorkerResult = {
    task,
    loadSeconds,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    ...result,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

await main();
process.exit(0);
