/**
 * CSV dialect sniffing on a sample: delimiter, quoting, escape and header, then the
 * column names. Written here rather than taken from DuckDB's sniffer, which gives up
 * on a sample with an unterminated quote (a bad-input case the lake must report row by
 * row, not refuse as a whole).
 */
import { classifyText, isNullText, TypeTally } from './column-types.js';

/** How a CSV file is written. */
export interface CsvDialect {
  readonly delimiter: string;
  readonly quote: string;
  /** Escape of the quote inside a quoted value: the quote itself (`""`, RFC 4180) or a backslash. */
  readonly escape: string;
  readonly header: boolean;
}

/** A sniffed CSV sample: its dialect, column names, and the data records sampled. */
export interface CsvSample {
  readonly dialect: CsvDialect;
  readonly columns: readonly string[];
  readonly records: readonly (readonly string[])[];
  /** What the sniffer changed or assumed (renamed columns), for the version's notes. */
  readonly notes: readonly string[];
  /** The text from the start of the file to the end of the header record (without its line break), when there is a header. */
  readonly headerText?: string;
}

/** Records each candidate dialect is judged on; the chosen one then parses the whole sample. */
const DIALECT_RECORDS = 500;

/** Delimiters tried, in order of preference when equally consistent. */
const DELIMITERS = [',', ';', '\t', '|'] as const;
const QUOTE = '"';

/**
 * Splits text into records. A quoted value may hold delimiters, quotes (escaped) and
 * line breaks. When `complete` is false the text is a prefix of the file and its last
 * record may be cut, so it is dropped.
 */
export function parseCsvRecords(text: string, delimiter: string, escape: string, complete: boolean, maxRecords = Infinity): string[][] {
  return parse(text, delimiter, escape, complete, maxRecords).records;
}

/**
 * `parseCsvRecords`, also counting stray quotes: closing quotes followed by something other
 * than a delimiter or a line break, which the engine refuses (the sign of a wrong escape).
 */
function parse(
  text: string,
  delimiter: string,
  escape: string,
  complete: boolean,
  maxRecords: number,
): { records: string[][]; stray: number; firstRecordEnd: number | undefined } {
  const records: string[][] = [];
  let stray = 0;
  let firstRecordEnd: number | undefined;
  let record: string[] = [];
  let value = '';
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(value);
    records.push(record);
    record = [];
    value = '';
  };
  while (i < text.length && records.length < maxRecords) {
    const c = text[i] as string;
    if (quoted) {
      if (c === escape && escape !== QUOTE && text[i + 1] === QUOTE) {
        value += QUOTE;
        i += 2;
      } else if (c === QUOTE && escape === QUOTE && text[i + 1] === QUOTE) {
        value += QUOTE;
        i += 2;
      } else if (c === QUOTE) {
        quoted = false;
        const next = text[i + 1];
        if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') stray += 1;
        i += 1;
      } else {
        // Plain characters up to the next quote or escape, in one slice.
        let j = i + 1;
        while (j < text.length && text[j] !== QUOTE && text[j] !== escape) j += 1;
        value += text.slice(i, j);
        i = j;
      }
    } else if (c === QUOTE && value === '') {
      quoted = true;
      i += 1;
    } else if (c === delimiter) {
      record.push(value);
      value = '';
      i += 1;
    } else if (c === '\n' || c === '\r') {
      if (firstRecordEnd === undefined && (record.length > 0 || value !== '')) firstRecordEnd = i;
      endRecord();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      // The rest of an unquoted value, in one slice.
      let j = i + 1;
      while (j < text.length && text[j] !== delimiter && text[j] !== '\n' && text[j] !== '\r') j += 1;
      value += text.slice(i, j);
      i = j;
    }
  }
  const partial = value !== '' || record.length > 0;
  if (partial && complete && !quoted && records.length < maxRecords) endRecord();
  // Blank lines are not records.
  return { records: records.filter((r) => !(r.length === 1 && r[0] === '')), stray, firstRecordEnd };
}

/** The most common field count of the records and the share of records that have it. */
function consistency(records: readonly (readonly string[])[]): { fields: number; share: number } {
  const counts = new Map<number, number>();
  for (const r of records) counts.set(r.length, (counts.get(r.length) ?? 0) + 1);
  let fields = 0;
  let best = 0;
  for (const [n, count] of counts) {
    if (count > best || (count === best && n > fields)) [fields, best] = [n, count];
  }
  return { fields, share: records.length === 0 ? 0 : best / records.length };
}

/**
 * Whether the first record is a header: it is, when a column whose sampled values all fit a
 * typed (non-string) type has a first value that does not; when every column is text, when
 * its values are non-empty and distinct.
 */
function looksLikeHeader(first: readonly string[], rest: readonly (readonly string[])[]): boolean {
  let typedColumns = 0;
  for (let c = 0; c < first.length; c++) {
    const tally = new TypeTally();
    for (const r of rest) {
      const v = r[c];
      if (v !== undefined && !isNullText(v)) tally.add(classifyText(v), v);
    }
    if (tally.result === 'string') continue;
    typedColumns += 1;
    const head = first[c] ?? '';
    if (!isNullText(head) && classifyText(head) === 'string') return true;
  }
  if (typedColumns > 0) return false;
  const names = first.map((v) => v.trim());
  return names.every((n) => n !== '' && classifyText(n) === 'string') && new Set(names).size === names.length;
}

/** Column names from a header: trimmed, blanks named `column_<n>`, duplicates suffixed. */
function columnNames(header: readonly string[] | undefined, count: number, notes: string[]): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const original = header?.[i];
    let name = original?.replaceAll('\0', '').trim() ?? '';
    if (name === '') name = `column_${i + 1}`;
    const base = name;
    // Column names are case-insensitive in the engine (and in many Parquet readers).
    for (let k = 2; seen.has(name.toLowerCase()); k++) name = `${base}_${k}`;
    if (header !== undefined && name !== original) notes.push(`header column ${i + 1} ('${original ?? ''}') was named '${name}'`);
    seen.add(name.toLowerCase());
    names.push(name);
  }
  return names;
}

/**
 * Sniffs the dialect of a CSV sample (a byte-order mark is ignored) and names its columns.
 *
 * @param text - The start of the file, decoded.
 * @param complete - Whether `text` is the whole file.
 * @param maxRecords - How many records to sample.
 */
export function sniffCsv(text: string, complete: boolean, maxRecords = 20_000): CsvSample {
  const bom = text.startsWith('\uFEFF') ? 1 : 0;
  const body = text.slice(bom);
  const escapes = body.includes('\\"') ? [QUOTE, '\\'] : [QUOTE];
  let best: { delimiter: string; escape: string; fields: number; share: number; stray: number } | undefined;
  for (const escape of escapes) {
    for (const delimiter of DELIMITERS) {
      const { records, stray } = parse(body, delimiter, escape, complete, Math.min(DIALECT_RECORDS, maxRecords));
      const { fields, share } = consistency(records);
      if (fields < 2) continue;
      const better =
        best === undefined ||
        share > best.share ||
        (share === best.share && (stray < best.stray || (stray === best.stray && fields > best.fields)));
      if (better) best = { delimiter, escape, fields, share, stray };
    }
  }
  const { delimiter, escape, fields } = best ?? { delimiter: ',', escape: QUOTE, fields: 1 };
  const { records, firstRecordEnd } = parse(body, delimiter, escape, complete, maxRecords);
  const [first, ...rest] = records;
  const header = first !== undefined && looksLikeHeader(first, rest);
  const notes: string[] = [];
  const columns = columnNames(header ? first : undefined, fields, notes);
  return {
    dialect: { delimiter, quote: QUOTE, escape, header },
    columns,
    records: header ? rest : records,
    notes,
    ...(header ? { headerText: text.slice(0, bom + (firstRecordEnd ?? body.length)) } : {}),
  };
}
