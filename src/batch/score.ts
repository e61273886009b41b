/**
 * Scoring one chunk's rows through the one inference path (`Serving.serve`: one tensor per
 * feature, built from the columns, and outputs with one entry per row, as KServe v1 needs, laid
 * out as prediction columns), a few thousand rows a call. Rows the model refuses are
 * isolated by halving the refused call until each refusal names one row; the rest are scored.
 */
import { PlatformError } from '../errors.js';
import { decimalValue } from './decimal.js';
import type { ServedModel, ServedSignature } from '../inference/backend.js';
import type { Serving, ServeTarget } from '../inference/serving.js';
import type { V2TensorInput } from '../inference/tensors.js';
import { requirePerInstance } from '../inference/v1-protocol.js';
import type { InputTable } from './input.js';
import { putPredictionColumns, type PredictionColumns } from './prediction-columns.js';
import type { BatchFeature, RejectedRow } from './types.js';

/** Rows per scoring call. */
export const ROWS_PER_CALL = 5_000;

/** One chunk's predictions (no cells for rejected rows) and rejected rows (malformed or refused), in row order. */
export interface ScoredRows {
  readonly predictions: PredictionColumns;
  readonly rejected: readonly RejectedRow[];
}

const NUMERIC = /^(FP|INT|UINT)/;

/**
 * How the cells of a column become the values of a model input of `datatype`: numeric text
 * becomes a number and `true`/`false` a boolean; anything else stays as it is, for the model's
 * signature to accept or refuse by name.
 */
export function cellReader(datatype: string): (cell: unknown) => unknown {
  if (NUMERIC.test(datatype)) {
    return (cell) => {
      if (typeof cell !== 'string') return cell;
      const number = decimalValue(cell);
      return Number.isNaN(number) ? cell : number;
    };
  }
  if (datatype === 'BOOL') {
    return (cell) => {
      if (typeof cell !== 'string') return cell;
      const lower = cell.trim().toLowerCase();
      if (lower === 'true' || lower === '1') return true;
      if (lower === 'false' || lower === '0') return false;
      return cell;
    };
  }
  return (cell) => cell;
}

const FLOAT_ARRAYS = { FP32: Float32Array, FP64: Float64Array } as const;

/**
 * The cells of a float input as its tensor's values, when every cell is a number, decimal text, or
 * a missing value the model handles (NaN); else undefined, and the cells go the general way, which
 * names the row that does not fit. The same values the general way gives, without a value per cell.
 */
function floatColumn(model: Pick<ServedSignature, 'inputs' | 'missingValueInputs'>, feature: BatchFeature, cells: readonly unknown[], from: number, count: number): Float32Array | Float64Array | undefined {
  const datatype = model.inputs.get(feature.name)?.datatype;
  if (datatype !== feature.datatype || (datatype !== 'FP32' && datatype !== 'FP64')) return undefined;
  const values = new FLOAT_ARRAYS[datatype](count);
  const missing = model.missingValueInputs.has(feature.name);
  for (let i = 0; i < count; i++) {
    const cell = cells[from + i] ?? null;
    const value = typeof cell === 'string' ? decimalValue(cell) : typeof cell === 'number' ? cell : cell === null && missing ? NaN : undefined;
    if (value === undefined || (Number.isNaN(value) && (cell !== null || !missing))) return undefined;
    values[i] = value;
    // 1e39 is a decimal, but no FP32.
    if (values[i]! - values[i]! !== 0 && cell !== null) return undefined;
  }
  return values;
}

/**
 * The model inputs of rows `from`–`to`: one tensor per feature, built column by column from the
 * cells (no per-row records), shaped as the model declares the input (`[n, 1]` for a rank-2
 * input, else `[n]`). Float columns whose cells all fit come as the tensor's bytes (the host's
 * byte order, little-endian on Lambda); the others as values. Errors name "the row" when one row
 * is scored, its index otherwise.
 */
export function columnInputs(model: Pick<ServedSignature, 'inputs' | 'missingValueInputs'>, features: readonly BatchFeature[], table: InputTable, from: number, to: number): V2TensorInput[] {
  const count = to - from;
  return features.map((feature) => {
    // A column the input lacks is all missing values, for the model to accept or refuse.
    const cells = table.columns.get(feature.name) ?? [];
    const rank = model.inputs.get(feature.name)?.shape?.length;
    const shape = rank === 2 ? [count, 1] : [count];
    const floats = floatColumn(model, feature, cells, from, count);
    if (floats !== undefined) return { name: feature.name, datatype: feature.datatype, shape, data: [], bytes: new Uint8Array(floats.buffer) };
    const read = cellReader(feature.datatype);
    const data = new Array<unknown>(count);
    for (let i = 0; i < count; i++) data[i] = read(cells[from + i] ?? null);
    return { name: feature.name, datatype: feature.datatype, shape, data, elementName: (index: number) => (count === 1 ? 'the row' : `row ${from + index}`) };
  });
}

/** Whether the model refused the request for what it holds (a row's values), not for a failure. */
const refusedInput = (error: unknown): error is PlatformError => error instanceof PlatformError && error.kind === 'invalid-request';

/**
 * Scores `rows` with the version `target` names, except its malformed rows (rejected as they
 * are). A refused call is split in halves until each
 * refusal is one row's: that row is rejected with the refusal's message. Failures (backend
 * unavailable, model errors) are thrown: the chunk is retried.
 */
export async function scoreRows(serving: Serving, target: ServeTarget, features: readonly BatchFeature[], table: InputTable, rowsPerCall = ROWS_PER_CALL): Promise<ScoredRows> {
  const predictions: PredictionColumns = new Map();
  const rejected: RejectedRow[] = [];
  // Served like a v1 call (outputs with one entry per row), with tensors built from the columns; no shadow copies of batch rows.
  const run = async (model: ServedModel, from: number, to: number) => {
    const outputs = await model.run(columnInputs(model, features, table, from, to));
    requirePerInstance(model, outputs, to - from);
    return outputs;
  };
  const score = async (from: number, to: number): Promise<void> => {
    try {
      const { body } = await serving.serve(target, 'v1', undefined, (model) => run(model, from, to), (answer) => answer);
      putPredictionColumns(predictions, body, table.rows, from, to - from);
    } catch (error) {
      if (!refusedInput(error)) throw error;
      if (to - from === 1) {
        rejected.push({ index: from, reason: error.message });
        return;
      }
      const middle = from + Math.ceil((to - from) / 2);
      await score(from, middle);
      await score(middle, to);
    }
  };
  // Malformed rows are rejected as read; the runs of rows between them are scored.
  const malformed = table.malformed ?? [];
  const ends = [...malformed.map((row) => row.index), table.rows];
  let start = 0;
  for (const end of ends) {
    for (let from = start; from < end; from += rowsPerCall) await score(from, Math.min(end, from + rowsPerCall));
    start = end + 1;
  }
  return { predictions, rejected: [...malformed, ...rejected].sort((a, b) => a.index - b.index) };
}
