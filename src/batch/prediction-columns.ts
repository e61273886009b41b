/**
 * A batch job's predictions as output columns, built from the model's output tensors without a
 * record per row: a single output that is one value per row is `prediction`; its values per row
 * are `prediction_0`, `prediction_1`… (two levels deep: `prediction_0_1`); several outputs are
 * `prediction_<output>` each, their values per row numbered one level deep. What lies deeper is
 * one column of JSON text per cell.
 */
import type { V2TensorOutput } from '../inference/tensors.js';
import { nest } from '../inference/v1-protocol.js';

/** Column of a prediction that is one value; predictions with parts name theirs `prediction_<part>`. */
export const PREDICTION_COLUMN = 'prediction';

/** Whether an input column would collide with the prediction's columns (`prediction`, `prediction_…`) in the output. */
export const collidesWithPrediction = (name: string): boolean => name === PREDICTION_COLUMN || name.startsWith(`${PREDICTION_COLUMN}_`);

/** Prediction columns by name, in the order the model's outputs give them: a cell per row of a chunk (undefined for a row not scored). */
export type PredictionColumns = Map<string, unknown[]>;

const product = (dimensions: readonly number[]): number => dimensions.reduce((a, b) => a * b, 1);

/** The `_i_j` suffix of cell `index` of a row laid out over `dimensions`. */
function suffix(index: number, dimensions: readonly number[]): string {
  let text = '';
  for (let d = dimensions.length - 1; d >= 0; d--) {
    text = `_${index % dimensions[d]!}${text}`;
    index = Math.floor(index / dimensions[d]!);
  }
  return text;
}

/**
 * Writes the cells of rows `from`…`from + count − 1` of a chunk of `rows` rows into `columns`
 * from `outputs`, per-instance outputs of one call (their first dimension is `count`).
 */
export function putPredictionColumns(columns: PredictionColumns, outputs: readonly V2TensorOutput[], rows: number, from: number, count: number): void {
  const single = outputs.length === 1;
  for (const output of outputs) {
    const base = single ? PREDICTION_COLUMN : `${PREDICTION_COLUMN}_${output.name}`;
    const perRow = output.shape.slice(1);
    // `[1]` per row counts as one value, as for inputs.
    const scalar = perRow.length === 0 || (perRow.length === 1 && perRow[0] === 1);
    const spread = scalar ? [] : perRow.slice(0, single ? 2 : 1);
    const deeper = scalar ? [] : perRow.slice(spread.length);
    const cellSize = product(deeper);
    const rowSize = product(spread) * cellSize;
    for (let cell = 0; cell < product(spread); cell++) {
      const name = base + suffix(cell, spread);
      let column = columns.get(name);
      if (column === undefined) columns.set(name, (column = new Array<unknown>(rows)));
      for (let i = 0; i < count; i++) {
        const at = i * rowSize + cell * cellSize;
        column[from + i] = deeper.length === 0 ? output.data[at] : JSON.stringify(nest(output.data.slice(at, at + cellSize), deeper));
      }
    }
  }
}
