/**
 * Scoring one chunk's rows through the one inference path (`Serving.serve`: one tensor per
 * feature, built from the columns, and one prediction per row as KServe v1 answers), a few
 * thousand rows a call. Rows the model refuses are
 * isolated by halving the refused call until each refusal names one row; the rest are scored.
 */
import { PlatformError } from '../errors.js';
import type { ServedModel, ServedSignature } from '../inference/backend.js';
import type { Serving, ServeTarget } from '../inference/serving.js';
import type { V2TensorInput } from '../inference/tensors.js';
import { outputsToPredictions } from '../inference/v1-protocol.js';
import type { InputRow } from './input.js';
import type { BatchFeature } from './types.js';

/** Rows per scoring call. */
export const ROWS_PER_CALL = 5_000;

/** A row the model could not score, and why. */
export interface RejectedRow {
  /** Its index among the chunk's rows. */
  readonly index: number;
  readonly reason: string;
}

/** One chunk's predictions (undefined for rejected rows) and rejected rows. */
export interface ScoredRows {
  readonly predictions: readonly unknown[];
  readonly rejected: readonly RejectedRow[];
}

const NUMERIC = /^(FP|INT|UINT)/;

/** A decimal number as CSV writes one (`12`, `-0.5`, `.5`, `1e-3`): not `0x1F`, `0b101` or `Infinity`, which `Number()` would also take. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A cell as the value of a model input of `datatype`: numeric text becomes a number and `true`/`false`
 * a boolean; anything else stays as it is, for the model's signature to accept or refuse by name.
 */
export function inputValue(cell: unknown, datatype: string): unknown {
  if (typeof cell !== 'string') return cell;
  const text = cell.trim();
  if (NUMERIC.test(datatype)) {
    const number = DECIMAL.test(text) ? Number(text) : NaN;
    return Number.isNaN(number) ? cell : number;
  }
  if (datatype === 'BOOL') {
    const lower = text.toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
  }
  return cell;
}

/**
 * The model inputs of rows `from`–`to`: one tensor per feature, built column by column from the
 * cells (no per-row records), shaped as the model declares the input (`[n, 1]` for a rank-2
 * input, else `[n]`). Errors name "the row" when one row is scored, its index otherwise.
 */
export function columnInputs(model: Pick<ServedSignature, 'inputs'>, features: readonly BatchFeature[], rows: readonly InputRow[], from: number, to: number): V2TensorInput[] {
  const count = to - from;
  return features.map((feature) => {
    const data = new Array<unknown>(count);
    for (let i = 0; i < count; i++) data[i] = inputValue(rows[from + i]![feature.name] ?? null, feature.datatype);
    const rank = model.inputs.get(feature.name)?.shape?.length;
    return {
      name: feature.name,
      datatype: feature.datatype,
      shape: rank === 2 ? [count, 1] : [count],
      data,
      elementName: (index: number) => (count === 1 ? 'the row' : `row ${from + index}`),
    };
  });
}

/** Whether the model refused the request for what it holds (a row's values), not for a failure. */
const refusedInput = (error: unknown): error is PlatformError => error instanceof PlatformError && error.kind === 'invalid-request';

/**
 * Scores `rows` with the version `target` names. A refused call is split in halves until each
 * refusal is one row's: that row is rejected with the refusal's message. Failures (backend
 * unavailable, model errors) are thrown: the chunk is retried.
 */
export async function scoreRows(serving: Serving, target: ServeTarget, features: readonly BatchFeature[], rows: readonly InputRow[], rowsPerCall = ROWS_PER_CALL): Promise<ScoredRows> {
  const predictions: unknown[] = new Array<unknown>(rows.length);
  const rejected: RejectedRow[] = [];
  // Served like a v1 call (one prediction per row), with tensors built from the columns; no shadow copies of batch rows.
  const run = async (model: ServedModel, from: number, to: number) =>
    outputsToPredictions(model, await model.run(columnInputs(model, features, rows, from, to)), to - from);
  const score = async (from: number, to: number): Promise<void> => {
    try {
      const { body } = await serving.serve(target, 'v1', undefined, (model) => run(model, from, to), (answer) => answer);
      body.forEach((prediction, i) => (predictions[from + i] = prediction));
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
  for (let from = 0; from < rows.length; from += rowsPerCall) await score(from, Math.min(rows.length, from + rowsPerCall));
  return { predictions, rejected };
}
