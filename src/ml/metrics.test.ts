import { describe, expect, it } from 'vitest';
import { classificationMetrics, constantBalancedAccuracy, regressionMetrics } from './metrics.js';

// Expected values computed once with scikit-learn 1.2.1 (accuracy_score, f1_score(average='macro'),
// log_loss, roc_auc_score(multi_class='ovr'), confusion_matrix, mean_squared_error, mean_absolute_error, r2_score).
describe('constantBalancedAccuracy', () => {
  it('is 1 / classes present for the majority class, 0 for a class absent from the rows', () => {
    const actual = Float64Array.from([0, 0, 0, 0, 1, 2]);
    expect(constantBalancedAccuracy(actual, 0, 4)).toBeCloseTo(1 / 3, 12);
    expect(constantBalancedAccuracy(actual, 3, 4)).toBe(0);
  });
});

describe('classificationMetrics', () => {
  it('matches scikit-learn on a three-class example', () => {
    const actual = Float64Array.from([0, 1, 2, 2, 1, 0, 1, 2]);
    const probabilities = Float32Array.from([
      0.7, 0.2, 0.1, 0.1, 0.6, 0.3, 0.2, 0.2, 0.6, 0.3, 0.4, 0.3, 0.2, 0.5, 0.3, 0.5, 0.4, 0.1, 0.4, 0.3, 0.3, 0.1, 0.1, 0.8,
    ]);
    const metrics = classificationMetrics(actual, probabilities, 3);
    expect(metrics.accuracy).toBeCloseTo(0.75, 12);
    expect(metrics.balancedAccuracy).toBeCloseTo(0.7777777777777777, 12); // balanced_accuracy_score
    expect(metrics.f1Macro).toBeCloseTo(0.7555555555555555, 12);
    expect(metrics.logLoss).toBeCloseTo(0.6744636944674633, 6);
    expect(metrics.rocAuc).toBeCloseTo(0.9222222222222222, 12);
    expect(metrics.confusionMatrix).toEqual([[2, 0, 0], [1, 2, 0], [0, 1, 2]]);
  });

  it('matches scikit-learn on a binary example with tied scores', () => {
    const actual = Float64Array.from([0, 0, 1, 1, 1, 0]);
    const positive = [0.1, 0.4, 0.35, 0.8, 0.4, 0.2];
    const probabilities = Float32Array.from(positive.flatMap((p) => [1 - p, p]));
    const metrics = classificationMetrics(actual, probabilities, 2);
    expect(metrics.rocAuc).toBeCloseTo(0.8333333333333334, 12);
    expect(metrics.logLoss).toBeCloseTo(0.5047643429176681, 6);
  });

  it('averages F1 over the classes in the test rows or the predictions, as scikit-learn does', () => {
    // Class 2 (rare, all in the training rows) is neither in the test rows nor predicted:
    // f1_score([0, 1, 1], [0, 1, 1], average='macro') == 1.0 in scikit-learn.
    const metrics = classificationMetrics(Float64Array.from([0, 1, 1]), Float32Array.from([0.9, 0.05, 0.05, 0.1, 0.8, 0.1, 0.2, 0.7, 0.1]), 3);
    expect(metrics.f1Macro).toBe(1);
  });

  it('leaves AUC undefined (NaN) when the test split holds one class only', () => {
    const metrics = classificationMetrics(Float64Array.from([1, 1]), Float32Array.from([0.2, 0.8, 0.6, 0.4]), 2);
    expect(metrics.rocAuc).toBeNaN();
    expect(metrics.accuracy).toBe(0.5);
  });
});

describe('regressionMetrics', () => {
  it('matches scikit-learn', () => {
    const metrics = regressionMetrics(Float64Array.from([3, -0.5, 2, 7]), Float32Array.from([2.5, 0, 2, 8]));
    expect(metrics.rmse).toBeCloseTo(0.6123724356957945, 12);
    expect(metrics.mae).toBeCloseTo(0.5, 12);
    expect(metrics.r2).toBeCloseTo(0.9486081370449679, 12);
  });
});
