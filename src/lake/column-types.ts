/**
 * Column types of curated datasets and how text values are classified into them.
 * The same rules drive inference (which type fits a sample) and the dialect sniffer
 * (does the first row look like data or like a header).
 */

/** Logical column types of a curated dataset. */
export type ColumnType = 'integer' | 'float' | 'boolean' | 'timestamp' | 'string';

/** Every column type, narrowest first. */
export const COLUMN_TYPES: readonly ColumnType[] = ['integer', 'float', 'boolean', 'timestamp', 'string'];

/**
 * Text that means "no value" in a CSV cell. `NaN` is not among them: it is a float.
 * The engine is given the same list, so inference and conversion agree.
 */
export const NULL_TOKENS: readonly string[] = ['', 'NA', 'N/A', 'null', 'NULL'];

const NULLS = new Set(NULL_TOKENS);
/** Integers without leading zeros (`007` is an identifier, kept as text); see `isInt64` for the range. */
const INTEGER = /^[+-]?(0|[1-9]\d{0,18})$/;
/** Digits with a leading zero and nothing else (`007`, `-01`): identifiers, not numbers. */
const LEADING_ZERO = /^[+-]?0\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(nan|inf|infinity)$/i;
const BOOLEAN = /^(true|false)$/i;
/**
 * ISO 8601 date or date-time, optional fraction; an offset only after the seconds (the engine
 * refuses `2024-01-01T10:00Z` and `2024-01-01+02:00`).
 */
const TIMESTAMP = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)?)?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Whether an integer text is within int64 (only 19 digits can be out of it). */
const isInt64 = (value: string): boolean => value.replace(/^[+-]/, '').length < 19 || (BigInt(value) >= INT64_MIN && BigInt(value) <= INT64_MAX);

/** Whether the date part of a timestamp text is a calendar day (`2024-02-30` is not). */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = [Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10))];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0));
}

/** Whether a text cell is empty or a null token. */
export const isNullText = (value: string): boolean => NULLS.has(value);

/** The narrowest type a non-null text value fits. */
export function classifyText(value: string): ColumnType {
  if (INTEGER.test(value) && isInt64(value)) return 'integer';
  if (LEADING_ZERO.test(value)) return 'string';
  if (FLOAT.test(value)) return 'float';
  if (BOOLEAN.test(value)) return 'boolean';
  if (TIMESTAMP.test(value) && isCalendarDate(value)) return 'timestamp';
  return 'string';
}

/** Whether a text value can be read as `type` (strings take anything). */
export function textFits(value: string, type: ColumnType): boolean {
  const found = classifyText(value);
  return found === type || type === 'string' || (type === 'float' && found === 'integer');
}

/** The narrowest type that holds values of both types: integers widen to floats, any other mix to strings. */
export function widen(a: ColumnType, b: ColumnType): ColumnType {
  if (a === b) return a;
  if ((a === 'integer' && b === 'float') || (a === 'float' && b === 'integer')) return 'float';
  return 'string';
}

/** The type of a JSON value (from a JSON Lines record); `undefined` for null. */
export function classifyJson(value: unknown): ColumnType | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 2 ** 63 ? 'integer' : 'float';
  if (typeof value === 'string') return classifyText(value) === 'timestamp' ? 'timestamp' : 'string';
  return 'string';
}

/** Accumulates the type of one column over sampled values. */
export class TypeTally {
  private type: ColumnType | undefined;
  private nonNull = 0;
  private readonly counts = new Map<ColumnType, number>();
  private readonly examples = new Map<ColumnType, string>();

  /** Adds one value's type (`undefined`: null). */
  add(type: ColumnType | undefined, example: string): void {
    if (type === undefined) return;
    this.nonNull += 1;
    this.counts.set(type, (this.counts.get(type) ?? 0) + 1);
    if (!this.examples.has(type)) this.examples.set(type, example);
    this.type = this.type === undefined ? type : widen(this.type, type);
  }

  /** The inferred type; a column with no sampled value is a string. */
  get result(): ColumnType {
    return this.type ?? 'string';
  }

  /**
   * Why a column was typed `string` though most sampled values were of another type, or
   * `undefined`. Such a column is usually a typing mistake in the data: the note tells the
   * user to declare the type so the odd values are rejected instead.
   */
  mixedNote(column: string): string | undefined {
    if (this.result !== 'string') return undefined;
    const [majority, count] = [...this.counts].filter(([t]) => t !== 'string').sort((x, y) => y[1] - x[1])[0] ?? [];
    if (majority === undefined || count === undefined || count * 2 <= this.nonNull) return undefined;
    const odd = [...this.examples].find(([t]) => t !== majority && widen(t, majority) === 'string')?.[1] ?? '';
    return `column '${column}': ${count} of ${this.nonNull} sampled values are ${majority} but others (e.g. '${odd.slice(0, 40)}') are not, so it was typed string; declare its type in the dataset schema to reject such rows instead`;
  }
}
