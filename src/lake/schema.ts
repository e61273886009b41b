/**
 * Dataset schemas: what a dataset declares, what ingestion infers, and how the columns of
 * a dropped file are matched against a declared schema.
 */
import { COLUMN_TYPES, type ColumnType } from './column-types.js';
import { quote } from '../errors.js';
import { InvalidDataError } from './errors.js';

/** One column of a dataset schema. */
export interface SchemaColumn {
  readonly name: string;
  readonly type: ColumnType;
  /** Whether the column may be empty. A required column's empty value rejects the row. */
  readonly nullable: boolean;
}

/** The columns of a dataset, in order. */
export interface DatasetSchema {
  readonly columns: readonly SchemaColumn[];
}

/** A column of a dropped file and how the engine reads it. */
export interface SourceColumn {
  /** Name in the file (header or JSON field). */
  readonly name: string;
  readonly type: ColumnType;
  /** Empty values are rejected rather than read as null. */
  readonly required: boolean;
  /** Whether the column goes to the curated data (columns a declared schema does not name are left out). */
  readonly keep: boolean;
}

/** The columns to read and the notes about how they were chosen. */
export interface ColumnPlan {
  /** Every column of the file, in file order. */
  readonly source: readonly SourceColumn[];
  /** Curated column order (the declared order, or the file's). */
  readonly output: readonly string[];
  readonly notes: readonly string[];
}

/** Most columns a dataset may have (keeps a version's statistics within one registry item). */
export const MAX_COLUMNS = 1_000;

/** Whether a string names a column type. */
export const isColumnType = (value: string): value is ColumnType => (COLUMN_TYPES as readonly string[]).includes(value);

/** Why a list of column names cannot name a dataset's columns: which name (`index`) and why. */
export type ColumnNameClash =
  /** An empty name, or one with a NUL character (the engine and ONNX Runtime take names as C strings). */
  | { readonly kind: 'unnamed'; readonly index: number; readonly name: string }
  /** A name equal to an earlier one but for case: column names are case-insensitive in the curated data. */
  | { readonly kind: 'case'; readonly index: number; readonly name: string; readonly earlier: string };

/**
 * The first name that cannot name a column among `names`, or `undefined` when all can. One rule
 * for the columns of a file and those a dataset declares.
 */
export function columnNameClash(names: readonly string[]): ColumnNameClash | undefined {
  const seen = new Map<string, string>();
  for (const [index, name] of names.entries()) {
    if (name === '' || name.includes('\0')) return { kind: 'unnamed', index, name };
    const earlier = seen.get(name.toLowerCase());
    if (earlier !== undefined) return { kind: 'case', index, name, earlier };
    seen.set(name.toLowerCase(), name);
  }
  return undefined;
}

/**
 * Matches the columns found in a file against the dataset's declared schema, or takes the
 * inferred ones when there is none.
 *
 * @param found - The file's columns with their inferred types, in file order.
 * @param declared - The dataset's declared schema, if any.
 * @param positional - Whether the file has no header (columns are then matched by position).
 * @throws InvalidDataError when a declared column is missing or the file is too wide.
 */
export function planColumns(
  found: readonly { readonly name: string; readonly type: ColumnType }[],
  declared: DatasetSchema | undefined,
  positional: boolean,
): ColumnPlan {
  if (found.length > MAX_COLUMNS) throw new InvalidDataError(`the file has ${found.length} columns; a dataset may have at most ${MAX_COLUMNS}`);
  if (found.length === 0) throw new InvalidDataError('the file has no columns (no field in any sampled record)');
  const clash = columnNameClash(found.map((c) => c.name));
  if (clash?.kind === 'unnamed') throw new InvalidDataError(`the file has a column with an empty name (or a NUL character in its name)`);
  if (clash?.kind === 'case') {
    throw new InvalidDataError(`columns ${quote(clash.earlier)} and ${quote(clash.name)} differ only in case; column names are case-insensitive in the curated data: rename one`);
  }
  if (declared === undefined) {
    return { source: found.map((c) => ({ ...c, required: false, keep: true })), output: found.map((c) => c.name), notes: [] };
  }
  if (positional) {
    if (found.length !== declared.columns.length) {
      throw new InvalidDataError(
        `the file has no header and ${found.length} columns, but the dataset declares ${declared.columns.length} (${declared.columns.map((c) => c.name).join(', ')}); add a header row or match the declared columns`,
      );
    }
    const source = declared.columns.map((c) => ({ name: c.name, type: c.type, required: !c.nullable, keep: true }));
    return { source, output: source.map((c) => c.name), notes: ['the file has no header: columns were matched to the declared schema by position'] };
  }
  const byName = new Map(declared.columns.map((c) => [c.name, c]));
  const missing = declared.columns.filter((c) => !found.some((f) => f.name === c.name)).map((c) => c.name);
  if (missing.length > 0) {
    throw new InvalidDataError(
      `declared column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} missing from the file (found: ${found.map((f) => f.name).join(', ')})`,
    );
  }
  const extra = found.filter((f) => !byName.has(f.name)).map((f) => f.name);
  const source = found.map((f) => {
    const d = byName.get(f.name);
    return d === undefined ? { name: f.name, type: 'string' as const, required: false, keep: false } : { name: f.name, type: d.type, required: !d.nullable, keep: true };
  });
  const notes =
    extra.length === 0 ? [] : [`columns not in the declared schema were left out of the curated data (the raw file keeps them): ${extra.join(', ')}`];
  return { source, output: declared.columns.map((c) => c.name), notes };
}
