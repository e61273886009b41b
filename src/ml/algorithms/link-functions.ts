/**
 * Numerically stable link functions and their losses, shared by the logistic and
 * MLP trainers so that training minimises exactly what `score.ts` predicts with.
 */

/** `log(1 + eᶻ)` without overflow: the log-loss of a logit is `softplus(z) - y·z`. */
export function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** `1 / (1 + e⁻ᶻ)` without overflow. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/**
 * Replaces `values[offset … offset+count)` (logits) by their softmax probabilities
 * and returns the log-sum-exp of the logits, so the cross-entropy of class `c`
 * is `logSumExp - logit[c]`.
 */
export function softmaxInPlace(values: Float64Array, offset: number, count: number): number {
  const end = offset + count;
  let max = -Infinity;
  for (let i = offset; i < end; i++) if (values[i]! > max) max = values[i]!;
  let total = 0;
  for (let i = offset; i < end; i++) {
    const e = Math.exp(values[i]! - max);
    values[i] = e;
    total += e;
  }
  const inverse = 1 / total;
  for (let i = offset; i < end; i++) values[i]! *= inverse;
  return max + Math.log(total);
}
