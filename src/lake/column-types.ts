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
/** Float words, in any case, after an optional sign. */
const FLOAT_WORDS = new Set(['nan', 'inf', 'infinity']);
const LONGEST_FLOAT_WORD = 8;
const BOOLEAN = /^(true|false)$/i;
/**
 * ISO 8601 date or date-time, optional fraction; an offset only after the seconds (the engine
 * refuses `2024-01-01T10:00Z` and `2024-01-01+02:00`). Every quantifier is bounded, so a match
 * attempt reads at most 35 characters whatever the length of the text.
 */
const TIMESTAMP = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?(Z|[+-]\d{2}(:?\d{2})?)?)?)?$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Digits of the widest int64 (`9223372036854775807`). */
const INT64_DIGITS = 19;

/**
 * How a text is written as a number:
 * - `integer`: digits without a leading zero, optional sign (`0`, `-17`), any number of them;
 * - `leading-zero`: digits with a leading zero (`007`, `-01`), identifiers rather than numbers;
 * - `float`: a fraction and/or an exponent (`1.5`, `1.`, `.5`, `-2.5e+10`), or `nan`, `inf`,
 *   `infinity` in any case;
 * - `undefined`: not a number.
 */
export type NumberShape = 'integer' | 'leading-zero' | 'float';

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;

/**
 * The number shape of a text, in one left-to-right pass that reads each character at most once.
 * Values are user data of any length: regular expressions for these shapes (optional parts
 * between digit runs) backtrack quadratically on a long run of digits that ends in a non-digit.
 */
export function numberShape(text: string): NumberShape | undefined {
  const length = text.length;
  const codeAt = (index: number): number => (index < length ? text.charCodeAt(index) : NaN);
  let at = 0;
  let code = codeAt(at);
  if (code === PLUS || code === MINUS) code = codeAt(++at);
  if (length - at <= LONGEST_FLOAT_WORD && !isDigit(code) && code !== DOT) {
    return FLOAT_WORDS.has(text.slice(at).toLowerCase()) ? 'float' : undefined;
  }
  const firstDigit = code;
  let digits = 0;
  for (; isDigit(code); code = codeAt(++at)) digits += 1;
  const fraction = code === DOT;
  if (fraction) {
    for (code = codeAt(++at); isDigit(code); code = codeAt(++at)) digits += 1;
  }
  if (digits === 0) return undefined;
  const exponent = code === LOWER_E || code === UPPER_E;
  if (exponent) {
    code = codeAt(++at);
    if (code === PLUS || code === MINUS) code = codeAt(++at);
    let exponentDigits = 0;
    for (; isDigit(code); code = codeAt(++at)) exponentDigits += 1;
    if (exponentDigits === 0) return undefined;
  }
  if (at !== length) return undefined;
  if (fraction || exponent) return 'float';
  return firstDigit === ZERO && digits > 1 ? 'leading-zero' : 'integer';
}

/** Whether an integer text (sign and digits) is within int64. */
function isInt64(value: string): boolean {
  const digits = value.length - (value.startsWith('+') || value.startsWith('-') ? 1 : 0);
  if (digits !== INT64_DIGITS) return digits < INT64_DIGITS;
  const n = BigInt(value);
  return n >= INT64_MIN && n <= INT64_MAX;
}

/** Whether the date part of a timestamp text is a calendar day (`2024-02-30` is not). */
function isCalendarDate(value: string): boolean {
  const [year, month, day] = [Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10))];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0));
}

/** Whether a text cell is empty or a null token. */
export const isNullText = (value: string): boolean => NULLS.has(value);

/**
 * The narrowest type a non-null text value fits. Integers beyond int64 are floats; numbers with a
 * leading zero are text. Linear in the length of the value.
 */
export function classifyText(value: string): ColumnType {
  const shape = numberShape(value);
  if (shape === 'integer') return isInt64(value) ? 'integer' : 'float';
  if (shape === 'float') return 'float';
  if (shape === 'leading-zero') return 'string';
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

/** What a note calls the values of each type: integers and floats are both numbers (they widen to float). */
const KIND_OF_TYPE: Readonly<Record<ColumnType, string>> = {
  integer: 'numbers',
  float: 'numbers',
  boolean: 'booleans',
  timestamp: 'timestamps',
  string: 'text',
};

/** Longest example value quoted in a note. */
const NOTE_EXAMPLE_CHARS = 40;

/** Accumulates the type of one column over sampled values. */
export class TypeTally {
  private type: ColumnType | undefined;
  private nonNull = 0;
  /** Sampled values of each kind (see {@link KIND_OF_TYPE}), with the first one seen. */
  private readonly kinds = new Map<string, { count: number; example: string }>();

  /** Adds one value's type (`undefined`: null). */
  add(type: ColumnType | undefined, example: string): void {
    if (type === undefined) return;
    this.nonNull += 1;
    const kind = KIND_OF_TYPE[type];
    const seen = this.kinds.get(kind);
    if (seen === undefined) this.kinds.set(kind, { count: 1, example });
    else seen.count += 1;
    this.type = this.type === undefined ? type : widen(this.type, type);
  }

  /** The inferred type; a column with no sampled value is a string. */
  get result(): ColumnType {
    return this.type ?? 'string';
  }

  /**
   * Why a column was typed `string` although its sampled values are of different kinds (numbers
   * and text, booleans and numbers…), whatever their shares, or `undefined` when they are all of
   * one kind. Such a column is often a typing mistake in the data: the note tells the user to
   * declare the type so the odd values are rejected instead.
   */
  mixedNote(column: string): string | undefined {
    if (this.result !== 'string' || this.kinds.size < 2) return undefined;
    const mix = [...this.kinds]
      .sort(([a, x], [b, y]) => y.count - x.count || a.localeCompare(b))
      .map(([kind, { count, example }]) => `${kind}: ${count}, e.g. '${example.slice(0, NOTE_EXAMPLE_CHARS)}'`)
      .join('; ');
    return `column '${column}': its ${this.nonNull} sampled values mix kinds (${mix}), so it was typed string; declare its type in the dataset schema to reject the rows that do not fit instead`;
  }
}

/**
 * A 64-bit integer as JSON: a number when it is exact as one (a safe integer, within ±(2^53 − 1)),
 * else its decimal string, so no value is ever rounded.
 */
export const integerJson = (value: bigint): number | string => (Number.isSafeInteger(Number(value)) ? Number(value) : value.toString());
