/**
 * How a shadow version's answer compares with the primary's, as counts that add up across copies
 * (so agreement rates and mean differences can be computed over any time range from sums).
 *
 * Every answered value is either **categorical** (a label: compared for equality) or **numeric** (a
 * score, probability or regression value: compared by absolute difference):
 * - v2 answers carry datatypes: BYTES, BOOL, INT* and UINT* elements are categorical, FP* ones numeric;
 * - v1 answers do not: a value takes the datatype of the primary version's output of that name
 *   (`primaryOutputs`; for a single-output model, its one output), so an INT64 class index counts
 *   as a label, not as a number. A value without a known datatype is categorical when it is a
 *   string or a boolean and numeric when it is a number.
 *
 * The primary's answer is the reference, compared output by output (v2: by name; v1: by
 * prediction index and output name):
 * - every categorical element of the primary counts as compared; it agrees when the shadow has the
 *   same output with the same shape and an equal element at the same position. A missing output or
 *   a different shape is a disagreement for each of the primary's categorical elements;
 * - numeric elements are compared where both sides hold a finite number at the same position of
 *   same-shaped outputs (a difference between misaligned values would mean nothing; a missing
 *   value, `"NaN"` or `null`, has no difference);
 * - outputs only the shadow returns are not compared.
 *
 * So `agreed / categoricalCompared` is the share of the primary's labels the shadow reproduces,
 * and `absDiffSum / numericCompared` the mean absolute difference of their scores.
 */
import type { TensorSpec } from '../registry/types.js';
import { flatten } from '../inference/tensors.js';
import type { ShadowProtocol } from '../inference/telemetry/shadow-copy.js';

/** What comparing answers counted. */
export interface ComparisonCounts {
  /** Categorical elements of the primary's answer (labels). */
  readonly categoricalCompared: number;
  /** Of those, how many the shadow answered identically. */
  readonly agreed: number;
  /** Numeric elements present on both sides. */
  readonly numericCompared: number;
  /** Sum of their absolute differences. */
  readonly absDiffSum: number;
}

/** Counts of nothing compared (e.g. the shadow failed to answer). */
export const NO_COMPARISON: ComparisonCounts = { categoricalCompared: 0, agreed: 0, numericCompared: 0, absDiffSum: 0 };

/** The sum of two counts. */
export function addCounts(a: ComparisonCounts, b: ComparisonCounts): ComparisonCounts {
  return {
    categoricalCompared: a.categoricalCompared + b.categoricalCompared,
    agreed: a.agreed + b.agreed,
    numericCompared: a.numericCompared + b.numericCompared,
    absDiffSum: a.absDiffSum + b.absDiffSum,
  };
}

/** One output of an answer, flattened: its datatype when known, its shape and its elements. */
interface AnswerTensor {
  readonly datatype: string | undefined;
  readonly shape: readonly number[];
  readonly data: readonly unknown[];
}

type Kind = 'categorical' | 'numeric';

const CATEGORICAL_DATATYPES = new Set(['BYTES', 'BOOL', 'INT8', 'INT16', 'INT32', 'INT64', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

function kindOf(datatype: string | undefined, value: unknown): Kind | undefined {
  if (datatype !== undefined) {
    if (CATEGORICAL_DATATYPES.has(datatype)) return 'categorical';
    if (datatype.startsWith('FP')) return 'numeric';
  }
  if (typeof value === 'string' || typeof value === 'boolean') return 'categorical';
  return typeof value === 'number' ? 'numeric' : undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The array under `field` of a response object (empty when the response is not one). */
function listOf(response: unknown, field: string): readonly unknown[] {
  const list = isRecord(response) ? response[field] : undefined;
  return Array.isArray(list) ? list : [];
}

/** A v1 value (scalar or row) as a tensor. */
function valueTensor(datatype: string | undefined, value: unknown): AnswerTensor {
  if (!Array.isArray(value)) return { datatype, shape: [], data: [value] };
  const data = flatten(value) ?? [];
  return { datatype, shape: [data.length], data };
}

/** A v1 answer's predictions as tensors keyed `<index>` (single output) or `<index>/<output>`. */
function v1Tensors(response: unknown, outputs: readonly TensorSpec[]): Map<string, AnswerTensor> {
  const datatypes = new Map(outputs.map((o) => [o.name, o.datatype]));
  const single = outputs.length === 1 ? outputs[0]!.datatype : undefined;
  const tensors = new Map<string, AnswerTensor>();
  listOf(response, 'predictions').forEach((prediction, i) => {
    if (isRecord(prediction)) {
      for (const [name, value] of Object.entries(prediction)) tensors.set(`${i}/${name}`, valueTensor(datatypes.get(name), value));
    } else {
      tensors.set(String(i), valueTensor(single, prediction));
    }
  });
  return tensors;
}

/** A v2 answer's outputs as tensors keyed by name. */
function v2Tensors(response: unknown): Map<string, AnswerTensor> {
  const tensors = new Map<string, AnswerTensor>();
  for (const output of listOf(response, 'outputs')) {
    if (!isRecord(output) || typeof output['name'] !== 'string') continue;
    const shape = Array.isArray(output['shape']) ? (output['shape'] as number[]) : [];
    const data = Array.isArray(output['data']) ? (flatten(output['data']) ?? []) : [];
    tensors.set(output['name'], { datatype: typeof output['datatype'] === 'string' ? output['datatype'] : undefined, shape, data });
  }
  return tensors;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Compares one output of the primary with the shadow's output of the same key (if any). */
function compareTensor(primary: AnswerTensor, shadow: AnswerTensor | undefined): ComparisonCounts {
  const aligned = shadow !== undefined && sameShape(primary.shape, shadow.shape) && primary.data.length === shadow.data.length;
  let categoricalCompared = 0;
  let agreed = 0;
  let numericCompared = 0;
  let absDiffSum = 0;
  primary.data.forEach((value, i) => {
    const kind = kindOf(primary.datatype, value);
    const other = aligned ? shadow.data[i] : undefined;
    if (kind === 'categorical') {
      categoricalCompared++;
      if (aligned && other === value) agreed++;
    } else if (kind === 'numeric' && isFiniteNumber(value) && isFiniteNumber(other)) {
      numericCompared++;
      absDiffSum += Math.abs(value - other);
    }
  });
  return { categoricalCompared, agreed, numericCompared, absDiffSum };
}

/**
 * Compares a shadow version's answer with the primary's (see the module documentation for the
 * rules). Responses are the JSON bodies of the protocol (v1 `{predictions}`, v2 `{outputs}`);
 * `primaryOutputs` is the primary version's output signature, which types v1 values.
 */
export function compareAnswers(
  protocol: ShadowProtocol,
  primaryResponse: unknown,
  shadowResponse: unknown,
  primaryOutputs: readonly TensorSpec[] = [],
): ComparisonCounts {
  const [primary, shadow] =
    protocol === 'v1'
      ? [v1Tensors(primaryResponse, primaryOutputs), v1Tensors(shadowResponse, primaryOutputs)]
      : [v2Tensors(primaryResponse), v2Tensors(shadowResponse)];
  let counts = NO_COMPARISON;
  for (const [key, tensor] of primary) counts = addCounts(counts, compareTensor(tensor, shadow.get(key)));
  return counts;
}
