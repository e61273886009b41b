/**
 * Multilayer perceptron trained with Adam on shuffled mini-batches, following
 * scikit-learn's `MLPClassifier`/`MLPRegressor` (solver 'adam', activation
 * 'relu'): Glorot-uniform initialisation of weights and biases with bound
 * `√(6 / (fan_in + fan_out))`; output and loss by task — binary classification:
 * one logit, log-loss, link `sigmoid`; multiclass: one logit per class, softmax
 * cross-entropy, link `softmax`; regression: identity output, `½·(ŷ - y)²`.
 * The training loss of a batch is its mean loss plus `l2/2·‖W‖² / batchRows`
 * (biases not penalised), and the epoch loss is the row-weighted mean over batches.
 * Unlike scikit-learn, regression trains on standardised targets (`(y - mean) / sd`
 * of the training set) so that the defaults work whatever the target's scale;
 * the output layer is rescaled afterwards, and losses are reported and compared in
 * the target's units (standardised loss × sd²).
 *
 * A mini-batch is processed as dense matrix products (WebAssembly SIMD, see
 * gemm.ts) over Float64Array buffers allocated once in a {@link MatrixArena};
 * rows are gathered through a shuffled index array into the batch buffer, the
 * training matrix itself is never copied.
 *
 * Stopping, as scikit-learn's `n_iter_no_change`/`tol`: with `earlyStopping` and
 * validation rows, after every epoch the validation score — accuracy for
 * classification, R² for regression (weighted by the rows' weights), the
 * figure scikit-learn's early stopping watches — counts as no improvement when
 * it is not above the best so far plus `tolerance`; without, the training loss
 * counts as no improvement when it is not below the best so far minus
 * `tolerance`. After more than `patience` such epochs in a row training ends.
 * With validation monitoring, the weights of the best-scoring epoch are the
 * ones returned. (Watching the validation log-loss instead stops far too
 * early on small sets: it rises as soon as a few rows become over-confident,
 * while the ranking of the rows still improves for many epochs.)
 *
 * Row weights (`Examples.weights`) multiply every row's loss and gradient.
 */
import * as z from 'zod/mini';
import type { DenseLayer, Examples, Fit, Link, MlpModel, TrainingContext } from '../model.js';
import { TrainingStoppedError } from '../model.js';
import { Random } from '../random.js';
import { checkExamples } from './examples-check.js';
import { MatrixArena } from './gemm.js';
import { sigmoid, softmaxInPlace, softplus } from './link-functions.js';

/** Hyperparameters of {@link trainMlp} (scikit-learn's names in brackets); unknown keys are rejected. */
export const mlpParameters = z.strictObject({
  /** Units of each hidden ReLU layer [hidden_layer_sizes]. */
  hiddenLayers: z._default(z.array(z.int().check(z.gte(1), z.lte(4096))).check(z.minLength(1), z.maxLength(16)), () => [100]),
  /** Adam step size [learning_rate_init]. */
  learningRate: z._default(z.number().check(z.gt(0), z.lte(10)), 1e-3),
  /** Rows per mini-batch, capped at the training rows [batch_size]. */
  batchSize: z._default(z.int().check(z.gte(1), z.lte(65_536)), 200),
  /** Epochs at most [max_iter]. */
  maxEpochs: z._default(z.int().check(z.gte(1), z.lte(100_000)), 200),
  /** L2 penalty on the weights [alpha]. */
  l2: z._default(z.number().check(z.gte(0), z.lte(1e6)), 1e-4),
  /** Monitor the validation score (accuracy, or R² for regression) and keep the best epoch's weights [early_stopping]. */
  earlyStopping: z._default(z.boolean(), true),
  /** Epochs without improvement tolerated [n_iter_no_change]. */
  patience: z._default(z.int().check(z.gte(1), z.lte(100_000)), 10),
  /** Smallest increase of the validation score (or decrease of the training loss) that counts as improvement [tol]. */
  tolerance: z._default(z.number().check(z.gte(0), z.lte(1e6)), 1e-4),
  /** Adam's first-moment decay [beta_1]. */
  beta1: z._default(z.number().check(z.gte(0), z.lt(1)), 0.9),
  /** Adam's second-moment decay [beta_2]. */
  beta2: z._default(z.number().check(z.gte(0), z.lt(1)), 0.999),
  /** Adam's denominator offset [epsilon]. */
  epsilon: z._default(z.number().check(z.gt(0), z.lte(1)), 1e-8),
});

/** Parsed {@link mlpParameters} (defaults applied). */
export type MlpParameters = z.output<typeof mlpParameters>;

/** One dense layer's parameters, gradients (views into flat arrays) and batch buffers. */
interface Layer {
  /** Index of the layer's first weight in the flat parameter and gradient arrays (its bias follows the weights). */
  readonly offset: number;
  readonly inputs: number;
  readonly outputs: number;
  /** `[inputs × outputs]` row-major, as {@link DenseLayer}. */
  readonly weights: Float64Array;
  readonly bias: Float64Array;
  readonly weightGradient: Float64Array;
  readonly biasGradient: Float64Array;
  /** `[batch × outputs]`: ReLU outputs for hidden layers, raw scores for the last. */
  readonly activation: Float64Array;
  /** `[batch × outputs]`: ∂(batch loss)/∂(pre-activation). */
  readonly delta: Float64Array;
  /** `[outputs × inputs]` copy of the weights for backpropagation (layers after the first). */
  readonly transposed: Float64Array | undefined;
}

/** Mean and standard deviation (1 when constant) of regression targets. */
function standardisation(y: Float64Array): TargetScaling {
  let sum = 0;
  for (let i = 0; i < y.length; i++) sum += y[i]!;
  const shift = sum / y.length;
  let squares = 0;
  for (let i = 0; i < y.length; i++) squares += (y[i]! - shift) ** 2;
  const deviation = Math.sqrt(squares / y.length);
  return { shift, scale: deviation > 0 ? deviation : 1 };
}

/** Output link and width for the task. */
function outputOf(ctx: TrainingContext): { readonly link: Link; readonly outputs: number } {
  if (ctx.task === 'regression') return { link: 'identity', outputs: 1 };
  if (!(Number.isInteger(ctx.classes) && ctx.classes >= 2)) throw new Error(`the MLP needs at least 2 classes, got ${ctx.classes}`);
  return ctx.classes === 2 ? { link: 'sigmoid', outputs: 1 } : { link: 'softmax', outputs: ctx.classes };
}

/** Layer widths from the input to the output. */
function widthsOf(inputs: number, hiddenLayers: readonly number[], outputs: number): number[] {
  return [inputs, ...hiddenLayers, outputs];
}

/** Number of weights and biases. */
function parameterCount(widths: readonly number[]): number {
  let count = 0;
  for (let l = 1; l < widths.length; l++) count += (widths[l - 1]! + 1) * widths[l]!;
  return count;
}

/** Float64 values the arena holds: parameters, gradients, input batch, ones, and per layer activations, deltas and transposed weights. */
function arenaLengths(widths: readonly number[], batch: number): number[] {
  const count = parameterCount(widths);
  const lengths = [count, count, batch * widths[0]!, batch];
  for (let l = 1; l < widths.length; l++) lengths.push(batch * widths[l]!, batch * widths[l]!, l > 1 ? widths[l - 1]! * widths[l]! : 0);
  return lengths;
}

/** The network's buffers in one arena: flat parameters and gradients (per layer: weights, then bias), input batch, layers. */
interface Network {
  readonly arena: MatrixArena;
  readonly parameters: Float64Array;
  readonly gradient: Float64Array;
  /** `[batch × inputs]` gathered rows. */
  readonly input: Float64Array;
  /** `[batch]` ones, to sum deltas over the batch as a product. */
  readonly ones: Float64Array;
  readonly layers: readonly Layer[];
}

/** Allocates the network's buffers (in the order of {@link arenaLengths}). */
function buildNetwork(widths: readonly number[], batch: number): Network {
  const arena = new MatrixArena(MatrixArena.bytesFor(arenaLengths(widths, batch)));
  const count = parameterCount(widths);
  const parameters = arena.allocate(count);
  const gradient = arena.allocate(count);
  const input = arena.allocate(batch * widths[0]!);
  const ones = arena.allocate(batch).fill(1);
  const layers: Layer[] = [];
  let offset = 0;
  for (let l = 1; l < widths.length; l++) {
    const inputs = widths[l - 1]!;
    const outputs = widths[l]!;
    const weightEnd = offset + inputs * outputs;
    const biasEnd = weightEnd + outputs;
    layers.push({
      offset,
      inputs,
      outputs,
      weights: parameters.subarray(offset, weightEnd),
      bias: parameters.subarray(weightEnd, biasEnd),
      weightGradient: gradient.subarray(offset, weightEnd),
      biasGradient: gradient.subarray(weightEnd, biasEnd),
      activation: arena.allocate(batch * outputs),
      delta: arena.allocate(batch * outputs),
      transposed: l > 1 ? arena.allocate(inputs * outputs) : undefined,
    });
    offset = biasEnd;
  }
  return { arena, parameters, gradient, input, ones, layers };
}

/** Refreshes the transposed weight copies used by backpropagation. */
function transposeWeights(layers: readonly Layer[]): void {
  for (const { inputs, outputs, weights, transposed } of layers) {
    if (transposed === undefined) continue;
    for (let i = 0, row = 0; i < inputs; i++, row += outputs) {
      for (let o = 0, column = i; o < outputs; o++, column += inputs) transposed[column] = weights[row + o]!;
    }
  }
}

/** Glorot-uniform initialisation of weights and biases, as scikit-learn for ReLU networks. */
function initialise(layers: readonly Layer[], random: Random): void {
  for (const layer of layers) {
    const bound = Math.sqrt(6 / (layer.inputs + layer.outputs));
    for (let i = 0; i < layer.weights.length; i++) layer.weights[i] = (2 * random.next() - 1) * bound;
    for (let i = 0; i < layer.bias.length; i++) layer.bias[i] = (2 * random.next() - 1) * bound;
  }
}

/** Where {@link gather} leaves its prefetching sum, so that the loads producing it are kept. */
const touched = new Float64Array(1);

/** How targets are standardised for training: `(y - shift) / scale` (identity for classification). */
interface TargetScaling {
  readonly shift: number;
  readonly scale: number;
}

/**
 * Copies rows `order[start … start+rows)` of `x` (or rows `start…` when `order`
 * is undefined) into `input`, their standardised targets into `target` and
 * their weights (1 without weights) into `rowWeights`.
 */
function gather(
  examples: Examples,
  scaling: TargetScaling,
  order: Uint32Array | undefined,
  start: number,
  rows: number,
  input: Float64Array,
  target: Float64Array,
  rowWeights: Float64Array,
): void {
  const { x, y, weights } = examples;
  const { cols, data } = x;
  if (order !== undefined && cols > 0) {
    // Touch the first and last value of every shuffled row first: these loads are independent, so
    // their cache misses overlap, and the copy below finds the rows in cache (3–4× faster gathers).
    let sum = 0;
    for (let r = 0; r < rows; r++) {
      const base = order[start + r]! * cols;
      sum += data[base]! + data[base + cols - 1]!;
    }
    touched[0] = sum;
  }
  for (let r = 0, out = 0; r < rows; r++, out += cols) {
    const row = order === undefined ? start + r : order[start + r]!;
    const base = row * cols;
    for (let j = 0; j < cols; j++) input[out + j] = data[base + j]!;
    target[r] = (y[row]! - scaling.shift) / scaling.scale;
    rowWeights[r] = weights === undefined ? 1 : weights[row]!;
  }
}

/** Forward pass of `rows` batch rows; returns the raw output scores (the last layer's activation buffer). */
function forward(network: Network, rows: number): Float64Array {
  const { arena, layers } = network;
  let below = network.input;
  const last = layers.length - 1;
  for (let l = 0; l <= last; l++) {
    const layer = layers[l]!;
    arena.multiply(below, layer.weights, layer.activation, rows, layer.inputs, layer.outputs, layer.bias, l < last);
    below = layer.activation;
  }
  return below;
}

/**
 * Summed loss of the batch's output `scores` against `target`, each row's weighted by
 * `rowWeights`; writes `scale · ∂loss/∂score` into `delta`.
 */
function outputLoss(
  link: Link,
  scores: Float64Array,
  target: Float64Array,
  rowWeights: Float64Array,
  rows: number,
  outputs: number,
  delta: Float64Array,
  scale: number,
): number {
  let loss = 0;
  if (link === 'identity') {
    for (let r = 0; r < rows; r++) {
      const w = rowWeights[r]!;
      const error = scores[r]! - target[r]!;
      loss += w * 0.5 * error * error;
      delta[r] = w * error * scale;
    }
  } else if (link === 'sigmoid') {
    for (let r = 0; r < rows; r++) {
      const w = rowWeights[r]!;
      const score = scores[r]!;
      const t = target[r]!;
      loss += w * (softplus(score) - t * score);
      delta[r] = w * (sigmoid(score) - t) * scale;
    }
  } else {
    for (let r = 0, base = 0; r < rows; r++, base += outputs) {
      const w = rowWeights[r]!;
      for (let k = 0; k < outputs; k++) delta[base + k] = scores[base + k]!;
      const t = base + target[r]!;
      const targetScore = delta[t]!;
      loss += w * (softmaxInPlace(delta, base, outputs) - targetScore);
      delta[t]! -= 1;
      for (let k = 0; k < outputs; k++) delta[base + k]! *= w * scale;
    }
  }
  return loss;
}

/** The class a row's raw scores predict (sigmoid: one score, class 1 when positive). */
function predictedClass(link: Link, scores: Float64Array, base: number, outputs: number): number {
  if (link === 'sigmoid') return scores[base]! > 0 ? 1 : 0;
  let best = 0;
  for (let k = 1; k < outputs; k++) if (scores[base + k]! > scores[base + best]!) best = k;
  return best;
}

/** Backward pass: weight and bias gradients of every layer from the output deltas already in place. */
function backward(network: Network, rows: number): void {
  const { arena, layers } = network;
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l]!;
    const { inputs, outputs, delta, biasGradient, transposed } = layer;
    const below = l > 0 ? layers[l - 1]!.activation : network.input;
    arena.multiplyTransposedLeft(below, delta, layer.weightGradient, rows, inputs, outputs);
    // Column sums of the deltas, as the product 1ᵀ·delta.
    arena.multiplyTransposedLeft(network.ones, delta, biasGradient, rows, 1, outputs);
    if (transposed !== undefined) {
      const belowDelta = layers[l - 1]!.delta;
      arena.multiply(delta, transposed, belowDelta, rows, outputs, inputs);
      arena.maskByPositive(belowDelta, below, rows * inputs);
    }
  }
}

/** Adam's state: moment estimates and the powers of the decay rates for the bias correction. */
interface AdamState {
  readonly moment1: Float64Array;
  readonly moment2: Float64Array;
  beta1Power: number;
  beta2Power: number;
}

/**
 * Adam on `parameters[start, end)` with gradient `gradient + decay·parameters`
 * (the L2 term, folded in here to save a pass); returns `Σ parameters²` before the step.
 */
function adamRange(
  parameters: Float64Array,
  gradient: Float64Array,
  adam: AdamState,
  start: number,
  end: number,
  decay: number,
  step: number,
  params: MlpParameters,
): number {
  const { moment1, moment2 } = adam;
  const { beta1, beta2, epsilon } = params;
  let squares = 0;
  for (let i = start; i < end; i++) {
    const w = parameters[i]!;
    squares += w * w;
    const g = gradient[i]! + decay * w;
    const m = beta1 * moment1[i]! + (1 - beta1) * g;
    const v = beta2 * moment2[i]! + (1 - beta2) * g * g;
    moment1[i] = m;
    moment2[i] = v;
    parameters[i] = w - (step * m) / (Math.sqrt(v) + epsilon);
  }
  return squares;
}

/**
 * One Adam step over all parameters, scikit-learn's bias correction folded into
 * the step size, the weights (not the biases) decayed by `l2/rows`. Returns the
 * batch's penalty `½·l2·‖W‖²` at the weights before the step.
 */
function adamStep(network: Network, adam: AdamState, rows: number, params: MlpParameters): number {
  adam.beta1Power *= params.beta1;
  adam.beta2Power *= params.beta2;
  const step = (params.learningRate * Math.sqrt(1 - adam.beta2Power)) / (1 - adam.beta1Power);
  const decay = params.l2 / rows;
  const { parameters, gradient } = network;
  let squares = 0;
  for (const { offset, inputs, outputs } of network.layers) {
    const weightEnd = offset + inputs * outputs;
    squares += adamRange(parameters, gradient, adam, offset, weightEnd, decay, step, params);
    adamRange(parameters, gradient, adam, weightEnd, weightEnd + outputs, 0, step, params);
  }
  return 0.5 * params.l2 * squares;
}

/** What {@link evaluate} measures on a set of rows. */
interface Evaluation {
  /** Weighted mean data loss (no penalty), in standardised target units. */
  readonly loss: number;
  /** Weighted accuracy (classification) or R² (regression): what early stopping watches. */
  readonly score: number;
}

/** Loss and score over `examples`, in batches through the preallocated buffers. */
function evaluate(network: Network, link: Link, scaling: TargetScaling, examples: Examples, batch: number, target: Float64Array, rowWeights: Float64Array): Evaluation {
  const { x } = examples;
  const last = network.layers[network.layers.length - 1]!;
  const outputs = last.outputs;
  let loss = 0;
  let weightTotal = 0;
  let correct = 0;
  // R² from running sums: Σw·(y − ŷ)², Σw·y, Σw·y².
  let squaredErrors = 0;
  let targetSum = 0;
  let targetSquares = 0;
  for (let start = 0; start < x.rows; start += batch) {
    const rows = Math.min(batch, x.rows - start);
    gather(examples, scaling, undefined, start, rows, network.input, target, rowWeights);
    const scores = forward(network, rows);
    loss += outputLoss(link, scores, target, rowWeights, rows, outputs, last.delta, 0);
    for (let r = 0; r < rows; r++) {
      const w = rowWeights[r]!;
      const t = target[r]!;
      weightTotal += w;
      if (link === 'identity') {
        squaredErrors += w * (t - scores[r]!) ** 2;
        targetSum += w * t;
        targetSquares += w * t * t;
      } else if (predictedClass(link, scores, r * outputs, outputs) === t) correct += w;
    }
  }
  if (!(weightTotal > 0)) return { loss: 0, score: 0 };
  if (link !== 'identity') return { loss: loss / weightTotal, score: correct / weightTotal };
  const variance = targetSquares - (targetSum * targetSum) / weightTotal;
  return { loss: loss / weightTotal, score: variance > 0 ? 1 - squaredErrors / variance : 0 };
}

/**
 * Trains an MLP (see the module comment) on `train`, early-stopping on
 * `validation`. Reports progress after every epoch (training loss, validation
 * loss when the validation set has rows); polls `ctx.shouldStop` before every
 * epoch. All randomness (initialisation, shuffling) comes from `ctx.seed`.
 */
export function trainMlp(train: Examples, validation: Examples, params: MlpParameters, ctx: TrainingContext): MlpModel {
  return fitMlp(train, validation, params, ctx).model;
}

/** {@link trainMlp} with the epochs it ran and the epoch its weights are from. */
export function fitMlp(train: Examples, validation: Examples, params: MlpParameters, ctx: TrainingContext): Fit & { model: MlpModel } {
  const { link, outputs } = outputOf(ctx);
  checkExamples(train, ctx, 'training set');
  checkExamples(validation, ctx, 'validation set', train.x.cols);
  const n = train.x.rows;
  if (n === 0) throw new Error('training set is empty');
  if (ctx.shouldStop?.()) throw new TrainingStoppedError();

  const widths = widthsOf(train.x.cols, params.hiddenLayers, outputs);
  const count = parameterCount(widths);
  const batch = Math.min(params.batchSize, n);
  const network = buildNetwork(widths, batch);
  const { parameters, input, layers } = network;
  const adam: AdamState = { moment1: new Float64Array(count), moment2: new Float64Array(count), beta1Power: 1, beta2Power: 1 };
  const last = layers[layers.length - 1]!;
  const target = new Float64Array(batch);
  const rowWeights = new Float64Array(batch);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const trainWeight = train.weights === undefined ? n : train.weights.reduce((sum, w) => sum + w, 0);

  const random = new Random(ctx.seed);
  initialise(layers, random);
  transposeWeights(layers);

  const scaling = link === 'identity' ? standardisation(train.y) : { shift: 0, scale: 1 };
  // Losses are computed on standardised targets and reported (and compared) in the target's units.
  const lossUnit = scaling.scale * scaling.scale;
  const monitorValidation = params.earlyStopping && validation.x.rows > 0;
  const best = monitorValidation ? new Float64Array(count) : undefined;
  let bestLoss = Infinity;
  let bestScore = -Infinity;
  let bestEpoch = 0;
  let stale = 0;
  let epochs = 0;

  for (let epoch = 1; epoch <= params.maxEpochs; epoch++) {
    if (epoch > 1 && ctx.shouldStop?.()) throw new TrainingStoppedError();
    epochs = epoch;
    random.shuffle(order);
    let epochLoss = 0;
    for (let start = 0; start < n; start += batch) {
      const rows = Math.min(batch, n - start);
      gather(train, scaling, order, start, rows, input, target, rowWeights);
      const scores = forward(network, rows);
      const dataLoss = outputLoss(link, scores, target, rowWeights, rows, outputs, last.delta, 1 / rows);
      backward(network, rows);
      epochLoss += dataLoss + adamStep(network, adam, rows, params);
      transposeWeights(layers);
    }
    const loss = (epochLoss / trainWeight) * lossUnit;
    if (!Number.isFinite(loss)) throw new Error(`MLP training diverged at epoch ${epoch} (loss ${loss}); lower learningRate`);
    const checked = validation.x.rows > 0 ? evaluate(network, link, scaling, validation, batch, target, rowWeights) : undefined;
    ctx.onProgress?.({
      iteration: epoch,
      maxIterations: params.maxEpochs,
      loss,
      ...(checked === undefined ? {} : { validationLoss: checked.loss * lossUnit, validationScore: checked.score }),
    });

    if (monitorValidation) {
      // scikit-learn: no improvement unless the score beats the best by more than tol; keep the best-scoring weights.
      const score = checked!.score;
      stale = score < bestScore + params.tolerance ? stale + 1 : 0;
      if (score > bestScore) {
        bestScore = score;
        bestEpoch = epoch;
        best!.set(parameters);
      }
    } else {
      stale = loss > bestLoss - params.tolerance ? stale + 1 : 0;
      if (loss < bestLoss) bestLoss = loss;
    }
    if (stale > params.patience) break;
  }
  if (best !== undefined) parameters.set(best);
  // Undo the target standardisation inside the output layer: ŷ = scale·z + shift.
  for (let i = 0; i < last.weights.length; i++) last.weights[i]! *= scaling.scale;
  for (let i = 0; i < last.bias.length; i++) last.bias[i] = last.bias[i]! * scaling.scale + scaling.shift;

  const model: DenseLayer[] = layers.map((layer) => ({
    inputs: layer.inputs,
    outputs: layer.outputs,
    weights: Float32Array.from(layer.weights),
    bias: Float32Array.from(layer.bias),
  }));
  return { model: { kind: 'mlp', link, activation: 'relu', layers: model }, iterations: { run: epochs, best: best === undefined ? epochs : bestEpoch } };
}

/**
 * Upper bound of the bytes {@link trainMlp} allocates beyond its input matrices:
 * the kernel arena (parameters, gradients, batch buffers, transposed weights),
 * Adam's moments and the best-epoch copy (float64), the float32 model and the
 * row order (4 bytes per row).
 */
export function mlpWorkingBytes(rows: number, cols: number, classes: number, params: MlpParameters): number {
  const outputs = classes <= 2 ? 1 : classes;
  const widths = widthsOf(cols, params.hiddenLayers, outputs);
  const count = parameterCount(widths);
  const batch = Math.max(1, Math.min(params.batchSize, rows));
  const arenaBytes = Math.ceil(MatrixArena.bytesFor(arenaLengths(widths, batch)) / 65_536) * 65_536;
  return arenaBytes + 3 * count * 8 + count * 4 + 2 * batch * 8 + rows * 4 + 4096;
}
