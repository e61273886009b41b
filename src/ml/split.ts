/**
 * The seeded train/validation/test split every job makes before fitting anything,
 * so preprocessing, early stopping and the reported metrics never see test rows.
 */
import { Random } from './random.js';

/** Shares of the rows held out for validation and test (the rest trains). */
export interface SplitFractions {
  readonly validation: number;
  readonly test: number;
}

/** Row indices of each part, each sorted ascending. */
export interface Split {
  readonly train: Uint32Array;
  readonly validation: Uint32Array;
  readonly test: Uint32Array;
}

/** The platform's default: 70 % train, 15 % validation, 15 % test. */
export const DEFAULT_SPLIT: SplitFractions = { validation: 0.15, test: 0.15 };

/**
 * Splits `rows` row indices with `seed`. With `strata` (the class index of every row),
 * each class is split in the same proportions (stratified), so rare classes reach
 * every part when they have enough rows; without it the rows are shuffled as one group.
 */
export function splitRows(rows: number, fractions: SplitFractions, seed: number, strata?: Float64Array): Split {
  const random = new Random(seed);
  const groups = strata === undefined ? [allRows(rows)] : groupByClass(strata);
  const parts: number[][] = [[], [], []];
  for (const group of groups) {
    random.shuffle(group);
    const test = Math.round(group.length * fractions.test);
    const validation = Math.round(group.length * fractions.validation);
    for (let i = 0; i < group.length; i++) parts[i < test ? 2 : i < test + validation ? 1 : 0]!.push(group[i]!);
  }
  const sorted = (part: number[]) => Uint32Array.from(part).sort();
  return { train: sorted(parts[0]!), validation: sorted(parts[1]!), test: sorted(parts[2]!) };
}

function allRows(rows: number): Uint32Array {
  const indices = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) indices[i] = i;
  return indices;
}

function groupByClass(strata: Float64Array): Uint32Array[] {
  const counts: number[] = [];
  for (const label of strata) counts[label] = (counts[label] ?? 0) + 1;
  const groups = counts.map((count) => new Uint32Array(count ?? 0));
  const filled = new Array<number>(groups.length).fill(0);
  strata.forEach((label, row) => {
    groups[label]![filled[label]!++] = row;
  });
  return groups;
}
