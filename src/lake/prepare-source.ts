/**
 * Looks at a staged file before converting it: what it is, its dialect (CSV), its columns and
 * their types from a sample, matched against the dataset's declared schema.
 */
import { open } from 'node:fs/promises';
import { classifyJson, classifyText, isNullText, TypeTally, type ColumnType } from './column-types.js';
import { sniffCsv, type CsvDialect } from './csv-dialect.js';
import { describeParquet, type Engine } from './engine.js';
import { InvalidDataError } from './errors.js';
import { planColumns, type ColumnPlan, type DatasetSchema } from './schema.js';
import { detectSourceKind, readTextSample, type SourceKind } from './source-format.js';

/** Bytes of a text file sampled for its dialect and types. */
export const SAMPLE_BYTES = 1024 * 1024;

/** A staged file, understood. */
export interface PreparedSource {
  readonly kind: SourceKind;
  readonly dialect?: CsvDialect;
  readonly plan: ColumnPlan;
  /** Whether the types were inferred (no declared schema). */
  readonly inferred: boolean;
}

type FoundColumn = { readonly name: string; readonly type: ColumnType };

/**
 * Detects, samples and plans a staged file.
 *
 * @throws InvalidDataError when the file cannot become a dataset version (empty, not data,
 *   no rows, a declared column missing).
 */
export async function prepareSource(
  engine: Engine,
  path: string,
  key: string,
  sizeBytes: number,
  declared: DatasetSchema | undefined,
): Promise<PreparedSource> {
  const kind = await detectSourceKind(path, key, sizeBytes);
  const withPlan = (found: readonly FoundColumn[], notes: readonly string[], positional = false, dialect?: CsvDialect): PreparedSource => {
    const plan = planColumns(found, declared, positional);
    const inferred = declared === undefined;
    return {
      kind,
      ...(dialect === undefined ? {} : { dialect }),
      // Inference notes only matter when the types were inferred.
      plan: { ...plan, notes: [...(inferred ? notes : []), ...plan.notes] },
      inferred,
    };
  };
  if (kind.format === 'parquet') {
    const found = await describeParquet(engine, path).catch((error: unknown) => {
      throw new InvalidDataError(`the file is not a readable Parquet file: ${(error as Error).message.split('\n')[0] ?? ''}`);
    });
    const notes = found.flatMap((c) => [
      ...(c.beyondInt64 === undefined ? [] : [`column '${c.name}': an integer beyond int64 (${c.beyondInt64}), so it was typed float (values beyond 2^53 are rounded); declare it string to keep every digit`]),
      ...(c.nested === true ? [nestedNote(c.name)] : []),
    ]);
    return withPlan(found, notes);
  }
  const sample = await readTextSample(path, kind.gzip, SAMPLE_BYTES);
  if (sample.text.trim() === '') {
    throw new InvalidDataError(sample.complete ? 'the file has no data: it is blank' : `the first line is longer than ${SAMPLE_BYTES} bytes`);
  }
  // Lines with bytes that are not UTF-8 are rejected by the engine: they take no part in inference.
  const decoded = (text: string) => !(sample.invalidUtf8 && text.includes(REPLACEMENT));
  if (kind.format === 'jsonl') {
    const { found, notes } = sampleJsonLines(sample.text.split('\n').filter(decoded));
    return withPlan(found, notes);
  }
  const csv = sniffCsv(sample.text, sample.complete);
  if (csv.headerText !== undefined && /[\r\n]/.test(csv.headerText)) await blankHeaderLineBreaks(path, kind.gzip, csv.headerText);
  if (csv.records.length === 0 && sample.complete) {
    throw new InvalidDataError(csv.dialect.header ? `the file has a header (${csv.columns.join(', ')}) but no data rows` : 'the file has no data rows');
  }
  const tallies = csv.columns.map(() => new TypeTally());
  for (const record of csv.records) {
    if (!record.every(decoded)) continue;
    for (const [i, tally] of tallies.entries()) {
      const value = record[i];
      if (value !== undefined && !isNullText(value)) tally.add(classifyText(value), value);
    }
  }
  const found = csv.columns.map((name, i) => ({ name, type: tallies[i]?.result ?? 'string' }));
  const notes = [...csv.notes, ...csv.columns.flatMap((name, i) => tallies[i]?.mixedNote(name) ?? [])];
  return withPlan(found, notes, !csv.dialect.header, csv.dialect);
}

/**
 * Replaces the quoted line breaks of a CSV header with spaces in the staged copy, in place. The
 * engine takes the file's line terminator from its first line break, quoted or not: a quoted `\n`
 * in the header of a CRLF file (as Python's csv module and Excel write them) would make it read no
 * rows. The header's names come from the sniffer; the engine only skips the header, so blanking
 * its breaks changes no name and no data.
 *
 * @throws InvalidDataError for a gzip-compressed file, which cannot be changed in place.
 */
async function blankHeaderLineBreaks(path: string, gzip: boolean, headerText: string): Promise<void> {
  if (gzip) {
    throw new InvalidDataError('the CSV header has a quoted line break, which a gzip-compressed file cannot have here: drop it uncompressed, or remove the line breaks from the header');
  }
  const file = await open(path, 'r+');
  try {
    const header = Buffer.alloc(Buffer.byteLength(headerText));
    await file.read(header, 0, header.length, 0);
    // Bytes that are not UTF-8 were decoded to other lengths: their lines are the engine's to reject.
    if (header.toString('utf8') !== headerText) return;
    for (const [i, byte] of header.entries()) if (byte === 0x0a || byte === 0x0d) header[i] = 0x20;
    await file.write(header, 0, header.length, 0);
  } finally {
    await file.close();
  }
}

/** What a decoder writes for bytes that are not UTF-8. */
const REPLACEMENT = '\uFFFD';

/**
 * Columns of a JSON Lines sample: fields in order of first appearance, typed by their values.
 * Objects and arrays are kept as their JSON text (a string column), with a note naming the field.
 */
function sampleJsonLines(lines: readonly string[]): { found: FoundColumn[]; notes: string[] } {
  const tallies = new Map<string, TypeTally>();
  const nested = new Map<string, string>();
  let objects = 0;
  for (const line of lines) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) continue;
    objects += 1;
    for (const [field, value] of Object.entries(record)) {
      let tally = tallies.get(field);
      if (tally === undefined) tallies.set(field, (tally = new TypeTally()));
      tally.add(classifyJson(value), typeof value === 'string' ? value : JSON.stringify(value));
      if (typeof value === 'object' && value !== null && !nested.has(field)) nested.set(field, JSON.stringify(value));
    }
  }
  if (objects === 0) throw new InvalidDataError(`no line of the first ${SAMPLE_BYTES} bytes is a JSON object: the file is not JSON Lines`);
  const found = [...tallies].map(([name, tally]) => ({ name, type: tally.result }));
  return {
    found,
    notes: [...[...tallies].flatMap(([name, tally]) => tally.mixedNote(name) ?? []), ...[...nested].map(([name, example]) => nestedNote(name, example))],
  };
}

/** The note about a column whose objects or arrays are kept as JSON text. */
function nestedNote(column: string, example?: string): string {
  return `column '${column}': objects and arrays are kept as their JSON text${example === undefined ? '' : ` (e.g. '${example.slice(0, 40)}')`}, in a string column`;
}
