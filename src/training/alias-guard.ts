/**
 * The guard before a training job moves an alias: a classifier that is no better than always
 * predicting the most frequent class must not take traffic, however good its accuracy looks
 * (95 % of rows in one class: 95 % accuracy for a model that never finds the other).
 *
 * "Better" is a balanced accuracy (the mean of the per-class recalls, which weighs every class
 * equally) on the test rows strictly above that of the majority-class baseline on the same rows
 * (1 / classes present): a model that predicts one class for every row scores exactly the baseline.
 */

/** Test metrics the guard reads (from the pipeline; regression has neither). */
type GuardedMetrics = Readonly<Record<string, number>>;

/** Why a version must not take the job's alias, or `undefined` when it may (also for regression and versions without these metrics). */
export function baselineRefusal(metrics: GuardedMetrics): string | undefined {
  const model = metrics['balancedAccuracy'];
  const baseline = metrics['baselineBalancedAccuracy'];
  if (model === undefined || baseline === undefined || model > baseline) return undefined;
  return (
    `the model's balanced accuracy on the test rows (${model.toFixed(4)}) is no better than always predicting the majority class (${baseline.toFixed(4)}), ` +
    `so the alias was left as it was; with imbalanced classes, try the hyperparameter {"classWeight": "balanced"}`
  );
}
