/**
 * Input checks shared by the trainers: a malformed training set fails loudly
 * before any work instead of producing a silently wrong model.
 */
import type { Examples, Task, TrainingContext } from '../model.js';

/**
 * Throws when `examples` is inconsistent (shape, targets) with `ctx`, or when
 * `expectedColumns` is given and differs. Classification targets must be class
 * indices `0 … classes-1`; regression targets must be finite.
 */
export function checkExamples(examples: Examples, ctx: TrainingContext, name: string, expectedColumns?: number): void {
  const { x, y } = examples;
  if (x.data.length !== x.rows * x.cols) throw new Error(`${name}: matrix data has ${x.data.length} values for ${x.rows} × ${x.cols}`);
  if (y.length !== x.rows) throw new Error(`${name}: ${y.length} targets for ${x.rows} rows`);
  if (expectedColumns !== undefined && x.cols !== expectedColumns) throw new Error(`${name}: ${x.cols} columns, expected ${expectedColumns}`);
  checkWeights(examples, name);
  if (ctx.task === 'classification') {
    for (let i = 0; i < y.length; i++) {
      const label = y[i]!;
      if (!Number.isInteger(label) || label < 0 || label >= ctx.classes) {
        throw new Error(`${name}: target ${label} at row ${i} is not a class index in [0, ${ctx.classes})`);
      }
    }
  } else {
    for (let i = 0; i < y.length; i++) if (!Number.isFinite(y[i]!)) throw new Error(`${name}: target at row ${i} is not finite`);
  }
}

/** Throws unless `examples.weights`, when given, has one finite, non-negative weight per row. */
export function checkWeights(examples: Examples, name: string): void {
  const { weights } = examples;
  if (weights === undefined) return;
  if (weights.length !== examples.x.rows) throw new Error(`${name}: ${weights.length} weights for ${examples.x.rows} rows`);
  for (let i = 0; i < weights.length; i++) if (!(weights[i]! >= 0 && Number.isFinite(weights[i]!))) throw new Error(`${name}: weight ${weights[i]} at row ${i} is not a finite non-negative number`);
}

/** Throws unless `ctx.task` is `task` (and, for classification, `classes ≥ 2`). */
export function requireTask(ctx: TrainingContext, task: Task, algorithm: string): void {
  if (ctx.task !== task) throw new Error(`${algorithm} supports ${task} only, not ${ctx.task}`);
  if (task === 'classification' && !(Number.isInteger(ctx.classes) && ctx.classes >= 2)) {
    throw new Error(`${algorithm} needs at least 2 classes, got ${ctx.classes}`);
  }
}
