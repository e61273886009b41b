/**
 * Threshold rules of stream scoring: which score of a prediction is compared, and whether it
 * crosses the configured value (the fraud-detection case: announce `probabilities[1] > 0.9`).
 */
import type { ThresholdRule } from '../../topology/spec.js';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The score a rule reads from one prediction (a KServe v1 prediction: the single output's row,
 * or a record of every output's row), or undefined when the prediction has no such number.
 */
export function scoreOf(prediction: unknown, rule: ThresholdRule): number | undefined {
  const output = rule.output === undefined ? prediction : isRecord(prediction) ? prediction[rule.output] : undefined;
  const value = rule.index === undefined ? output : Array.isArray(output) ? (output as unknown[])[rule.index] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The score when it is above the rule's value, else undefined. */
export function crossing(prediction: unknown, rule: ThresholdRule): number | undefined {
  const score = scoreOf(prediction, rule);
  return score !== undefined && score > rule.above ? score : undefined;
}
