/**
 * Evaluation metrics, computed on the held-out test split and stored on the
 * model version. Definitions follow scikit-learn's, so numbers compare directly.
 */

/** Metrics of a classifier. */
export interface ClassificationMetrics {
  readonly accuracy: number;
  /** Unweighted mean of the per-class recalls over the classes present in the test rows (scikit-learn `balanced_accuracy_score`). */
  readonly balancedAccuracy: number;
  /** Unweighted mean of the per-class F1 scores over the classes present in the test rows or predicted (scikit-learn `average='macro'`). */
  readonly f1Macro: number;
  /** Mean cross-entropy, probabilities clipped to [1e-15, 1 − 1e-15]. */
  readonly logLoss: number;
  /** Binary: ROC-AUC of class 1; multiclass: unweighted mean of the one-vs-rest AUCs of the classes present. */
  readonly rocAuc: number;
  /** `confusionMatrix[actual][predicted]` counts. */
  readonly confusionMatrix: number[][];
}

/** Metrics of a regressor. */
export interface RegressionMetrics {
  readonly rmse: number;
  readonly mae: number;
  readonly r2: number;
}

const EPSILON = 1e-15;

/** Index of the largest of `classes` probabilities starting at `offset` (first wins ties, like argmax). */
export function argmax(values: Float32Array, offset: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (values[offset + c]! > values[offset + best]!) best = c;
  return best;
}

/**
 * Classification metrics of `probabilities` (`[rows × classes]`) against class indices `actual`.
 */
export function classificationMetrics(actual: Float64Array, probabilities: Float32Array, classes: number): ClassificationMetrics {
  const rows = actual.length;
  const confusionMatrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  let logLoss = 0;
  for (let r = 0; r < rows; r++) {
    const truth = actual[r]!;
    const predicted = argmax(probabilities, r * classes, classes);
    confusionMatrix[truth]![predicted]!++;
    if (predicted === truth) correct++;
    const p = Math.min(Math.max(probabilities[r * classes + truth]!, EPSILON), 1 - EPSILON);
    logLoss -= Math.log(p);
  }
  return {
    accuracy: correct / rows,
    balancedAccuracy: balancedAccuracy(confusionMatrix),
    f1Macro: macroF1(confusionMatrix),
    logLoss: logLoss / rows,
    rocAuc: classes === 2 ? rocAuc(actual, probabilities, 2, 1) : oneVsRestAuc(actual, probabilities, classes),
    confusionMatrix,
  };
}

/** Mean recall over the classes with rows (`confusion[actual][predicted]`); 0 without rows. */
export function balancedAccuracy(confusion: readonly (readonly number[])[]): number {
  let total = 0;
  let present = 0;
  confusion.forEach((row, c) => {
    const rows = row.reduce((sum, count) => sum + count, 0);
    if (rows === 0) return;
    present++;
    total += row[c]! / rows;
  });
  return present === 0 ? 0 : total / present;
}

/**
 * The balanced accuracy of always predicting `majority` on rows of the classes `actual`: the
 * baseline a classifier must beat (1 / classes present when `majority` is among them).
 */
export function constantBalancedAccuracy(actual: Float64Array, majority: number, classes: number): number {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (const truth of actual) confusion[truth]![majority]!++;
  return balancedAccuracy(confusion);
}

function macroF1(confusion: number[][]): number {
  const classes = confusion.length;
  let total = 0;
  let labels = 0;
  for (let c = 0; c < classes; c++) {
    const truePositives = confusion[c]![c]!;
    let predicted = 0;
    let actual = 0;
    for (let k = 0; k < classes; k++) {
      predicted += confusion[k]![c]!;
      actual += confusion[c]![k]!;
    }
    // Like scikit-learn, only the labels in the test rows or the predictions count.
    if (predicted + actual === 0) continue;
    labels++;
    total += (2 * truePositives) / (predicted + actual);
  }
  return labels === 0 ? 0 : total / labels;
}

function oneVsRestAuc(actual: Float64Array, probabilities: Float32Array, classes: number): number {
  let total = 0;
  let counted = 0;
  for (let c = 0; c < classes; c++) {
    const auc = rocAuc(actual, probabilities, classes, c);
    if (Number.isNaN(auc)) continue;
    total += auc;
    counted++;
  }
  return counted === 0 ? NaN : total / counted;
}

/**
 * ROC-AUC of `positive` against the rest, from the probability column `positive`:
 * the Mann–Whitney statistic with tied scores counted half. NaN when only one side is present.
 */
function rocAuc(actual: Float64Array, probabilities: Float32Array, classes: number, positive: number): number {
  const rows = actual.length;
  const order = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) order[i] = i;
  const score = (row: number) => probabilities[row * classes + positive]!;
  order.sort((a, b) => score(a) - score(b));
  let positives = 0;
  let rankSum = 0;
  for (let start = 0; start < rows; ) {
    let end = start;
    while (end < rows && score(order[end]!) === score(order[start]!)) end++;
    // Tied scores share the mean of their 1-based ranks.
    const meanRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) {
      if (actual[order[i]!] === positive) {
        positives++;
        rankSum += meanRank;
      }
    }
    start = end;
  }
  const negatives = rows - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Regression metrics of `predicted` values against `actual`. */
export function regressionMetrics(actual: Float64Array, predicted: Float32Array): RegressionMetrics {
  const rows = actual.length;
  let mean = 0;
  for (let r = 0; r < rows; r++) mean += actual[r]!;
  mean /= rows;
  let squared = 0;
  let absolute = 0;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const error = actual[r]! - predicted[r]!;
    squared += error * error;
    absolute += Math.abs(error);
    total += (actual[r]! - mean) ** 2;
  }
  return {
    rmse: Math.sqrt(squared / rows),
    mae: absolute / rows,
    // scikit-learn: a constant target scores 1 when predicted exactly, else 0.
    r2: total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total,
  };
}
