/**
 * The numbers the registry table can hold. DynamoDB numbers are 0 or magnitudes from 1e-130 to
 * 9.99…e125 (38 digits), on AWS as on dynalite; NaN and ±Infinity are not numbers to it at all.
 * A write carrying any other number is refused whole (`ValidationException`, "Number overflow").
 *
 * - Values from a request that would be stored or compared with stored ones are checked at the
 *   boundary ({@link storableNumbers}, a zod check): an InvalidRequestError naming the field, before anything is written.
 * - Values the platform computes (dataset statistics, training metrics) are stored with
 *   {@link toStorable}: a number the table cannot hold is kept as its decimal text (`"1e+200"`,
 *   `"Infinity"`, `"NaN"`), so the write never fails on it.
 */
import * as z from 'zod/mini';

/** The smallest magnitude other than 0 the table holds. */
export const MIN_STORED_MAGNITUDE = 1e-130;
/** The first magnitude the table refuses (its largest is 9.99…e125, 38 nines). */
const MAX_STORED_MAGNITUDE_EXCLUSIVE = 1e126;

/** The range in words, for messages. */
export const STORED_NUMBER_RANGE = '0 or a magnitude from 1e-130 to 9.99e125';

/** Whether the table can hold `value` as a number. */
export function isStorableNumber(value: number): boolean {
  const magnitude = Math.abs(value);
  return value === 0 || (magnitude >= MIN_STORED_MAGNITUDE && magnitude < MAX_STORED_MAGNITUDE_EXCLUSIVE);
}

/** Where in a value a number lies that the table cannot hold, and the number. */
export interface UnstorableNumber {
  readonly path: readonly (string | number)[];
  readonly value: number;
}

/** Every number in a JSON-like value that the table cannot hold (depth first). */
export function unstorableNumbers(value: unknown, path: readonly (string | number)[] = []): UnstorableNumber[] {
  if (typeof value === 'number') return isStorableNumber(value) ? [] : [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => unstorableNumbers(item, [...path, i]));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([key, item]) => unstorableNumbers(item, [...path, key]));
  return [];
}

/**
 * A zod check for request values that are stored or compared with stored numbers: each number
 * the table cannot hold is an issue at its own path ("`1e+200` is outside the range the registry
 * stores (…)"), so the error names the field.
 */
export const storableNumbers = z.superRefine<unknown>((value, context) => {
  for (const found of unstorableNumbers(value)) {
    context.addIssue({
      code: 'custom',
      input: found.value,
      path: [...found.path],
      message: `${String(found.value)} is outside the range the registry stores (${STORED_NUMBER_RANGE})`,
    });
  }
});

/**
 * A computed value ready to be stored: every number the table cannot hold (beyond its range,
 * NaN, ±Infinity) replaced by its decimal text; everything else as it was. Returns `value` itself
 * when it holds no such number.
 */
export function toStorable<T>(value: T): T {
  if (unstorableNumbers(value).length === 0) return value;
  return replaceUnstorable(value) as T;
}

function replaceUnstorable(value: unknown): unknown {
  if (typeof value === 'number') return isStorableNumber(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(replaceUnstorable);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replaceUnstorable(item)]));
  return value;
}
