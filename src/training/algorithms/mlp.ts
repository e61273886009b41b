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
 * Stopping: after every epoch the monitored loss — the validation loss when
 * `earlyStopping` is on and the validation set has rows, else the training
 * loss (as scikit-learn without early stopping) — counts as no improvement
 * when it is not below the best so far minus `tolerance`; after more than
 * `patience` such epochs in a row training ends. With validation monitoring,
 * the weights of the best validation epoch are the ones returned.
 */
import * as z from 'zod/mini';
import type { DenseLayer, Examples, Link, Matrix, MlpModel, TrainingContext } from '../model.js';
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
  /** Monitor the validation loss and keep the best epoch's weights [early_stopping]. */
  earlyStopping: z._default(z.boolean(), true),
  /** Epochs without improvement tolerated [n_iter_no_change]. */
  patience: z._default(z.int().check(z.gte(1), z.lte(100_000)), 10),
  /** Smallest decrease of the monitored loss that counts as improvement [tol]. */
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
 * is undefined) into `input`, and their standardised targets into `target`.
 */
function gather(
  x: Matrix,
  y: Float64Array,
  scaling: TargetScaling,
  order: Uint32Array | undefined,
  start: number,
  rows: number,
  input: Float64Array,
  target: Float64Array,
): void {
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
 * Summed loss of the batch's output `scores` against `target`; writes
 * `scale · ∂loss/∂score` into `delta`.
 */
function outputLoss(link: Link, scores: Float64Array, target: Float64Array, rows: number, outputs: number, delta: Float64Array, scale: number): number {
  let loss = 0;
  if (link === 'identity') {
    for (let r = 0; r < rows; r++) {
      const error = scores[r]! - target[r]!;
      loss += 0.5 * error * error;
      delta[r] = error * scale;
    }
  } else if (link === 'sigmoid') {
    for (let r = 0; r < rows; r++) {
      const score = scores[r]!;
      const t = target[r]!;
      loss += softplus(score) - t * score;
      delta[r] = (sigmoid(score) - t) * scale;
    }
  } else {
    for (let r = 0, base = 0; r < rows; r++, base += outputs) {
      for (let k = 0; k < outputs; k++) delta[base + k] = scores[base + k]!;
      const t = base + target[r]!;
      const targetScore = delta[t]!;
      loss += softmaxInPlace(delta, base, outputs) - targetScore;
      delta[t]! -= 1;
      for (let k = 0; k < outputs; k++) delta[base + k]! *= scale;
    }
  }
  return loss;
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

/** Mean data loss (no penalty) over `examples`, in batches through the preallocated buffers. */
function meanLoss(network: Network, link: Link, scaling: TargetScaling, examples: Examples, batch: number, target: Float64Array): number {
  const { x, y } = examples;
  const last = network.layers[network.layers.length - 1]!;
  let total = 0;
  for (let start = 0; start < x.rows; start += batch) {
    const rows = Math.min(batch, x.rows - start);
    gather(x, y, scaling, undefined, start, rows, network.input, target);
    const scores = forward(network, rows);
    total += outputLoss(link, scores, target, rows, last.outputs, last.delta, 0);
  }
  return total / x.rows;
}

/**
 * Trains an MLP (see the module comment) on `train`, early-stopping on
 * `validation`. Reports progress after every epoch (training loss, validation
 * loss when the validation set has rows); polls `ctx.shouldStop` before every
 * epoch. All randomness (initialisation, shuffling) comes from `ctx.seed`.
 */
export function trainMlp(train: Examples, validation: Examples, params: MlpParameters, ctx: TrainingContext): MlpModel {
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
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;

  const random = new Random(ctx.seed);
  initialise(layers, random);
  transposeWeights(layers);

  const scaling = link === 'identity' ? standardisation(train.y) : { shift: 0, scale: 1 };
  // Losses are computed on standardised targets and reported (and compared) in the target's units.
  const lossUnit = scaling.scale * scaling.scale;
  const monitorValidation = params.earlyStopping && validation.x.rows > 0;
  const best = monitorValidation ? new Float64Array(count) : undefined;
  let bestLoss = Infinity;
  let stale = 0;

  for (let epoch = 1; epoch <= params.maxEpochs; epoch++) {
    if (epoch > 1 && ctx.shouldStop?.()) throw new TrainingStoppedError();
    random.shuffle(order);
    let epochLoss = 0;
    for (let start = 0; start < n; start += batch) {
      const rows = Math.min(batch, n - start);
      gather(train.x, train.y, scaling, order, start, rows, input, target);
      const scores = forward(network, rows);
      const dataLoss = outputLoss(link, scores, target, rows, outputs, last.delta, 1 / rows);
      backward(network, rows);
      epochLoss += dataLoss + adamStep(network, adam, rows, params);
      transposeWeights(layers);
    }
    const loss = (epochLoss / n) * lossUnit;
    if (!Number.isFinite(loss)) throw new Error(`MLP training diverged at epoch ${epoch} (loss ${loss}); lower learningRate`);
    const validationLoss = validation.x.rows > 0 ? meanLoss(network, link, scaling, validation, batch, target) * lossUnit : undefined;
    ctx.onProgress?.({ iteration: epoch, maxIterations: params.maxEpochs, loss, validationLoss });

    const monitored = monitorValidation ? validationLoss! : loss;
    stale = monitored > bestLoss - params.tolerance ? stale + 1 : 0;
    if (monitored < bestLoss) {
      bestLoss = monitored;
      best?.set(parameters);
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
  return { kind: 'mlp', link, activation: 'relu', layers: model };
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
  return arenaBytes + 3 * count * 8 + count * 4 + batch * 8 + rows * 4 + 4096;
}
