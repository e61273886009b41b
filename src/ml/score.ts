/**
 * In-process inference of trained models: the reference the exported ONNX graph
 * is checked against before a version is registered, and what evaluation uses.
 * Arithmetic mirrors the graph: float32 inputs, float32 results.
 */
import { scoreColumns, type DenseLayer, type Link, type Matrix, type TrainedModel, type TreeEnsembleModel } from './model.js';

/** `x · weights + bias` for every row of `x` (row-major result `[rows × layer.outputs]`), optionally ReLU'd. */
export function denseForward(layer: DenseLayer, x: Matrix, relu: boolean): Matrix {
  if (x.cols !== layer.inputs) throw new Error(`layer expects ${layer.inputs} inputs, got ${x.cols}`);
  const { inputs, outputs, weights, bias } = layer;
  const out = new Float32Array(x.rows * outputs);
  const sums = new Float64Array(outputs);
  for (let r = 0; r < x.rows; r++) {
    sums.set(bias);
    const rowStart = r * inputs;
    for (let i = 0; i < inputs; i++) {
      const value = x.data[rowStart + i]!;
      if (value === 0) continue;
      const w = i * outputs;
      for (let o = 0; o < outputs; o++) sums[o]! += value * weights[w + o]!;
    }
    const base = r * outputs;
    for (let o = 0; o < outputs; o++) {
      const sum = sums[o]!;
      out[base + o] = relu && sum < 0 ? 0 : sum;
    }
  }
  return { rows: x.rows, cols: outputs, data: out };
}

function treeScores(model: TreeEnsembleModel, x: Matrix): Float32Array {
  const columns = model.baseScore.length;
  const sums = new Float64Array(x.rows * columns);
  for (let r = 0; r < x.rows; r++) for (let c = 0; c < columns; c++) sums[r * columns + c] = model.baseScore[c]!;
  for (const tree of model.trees) {
    for (let r = 0; r < x.rows; r++) {
      const rowStart = r * x.cols;
      let node = 0;
      while (tree.feature[node]! >= 0) {
        node = x.data[rowStart + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
      }
      sums[r * columns + tree.output]! += tree.value[node]!;
    }
  }
  return Float32Array.from(sums);
}

/** Raw scores (before the link), `[rows × scoreColumns]`. */
export function rawScores(model: TrainedModel, x: Matrix): Float32Array {
  switch (model.kind) {
    case 'linear':
      return denseForward(model.layer, x, false).data;
    case 'mlp': {
      let activations = x;
      model.layers.forEach((layer, i) => {
        activations = denseForward(layer, activations, i < model.layers.length - 1);
      });
      return activations.data;
    }
    case 'trees':
      return treeScores(model, x);
  }
}

/** The model with every weight, bias, base score and leaf value replaced by its absolute value. */
function absoluteModel(model: TrainedModel): TrainedModel {
  const abs = (values: Float32Array): Float32Array => values.map(Math.abs);
  const absLayer = (layer: DenseLayer): DenseLayer => ({ ...layer, weights: abs(layer.weights), bias: abs(layer.bias) });
  switch (model.kind) {
    case 'linear':
      return { ...model, layer: absLayer(model.layer) };
    case 'mlp':
      return { ...model, layers: model.layers.map(absLayer) };
    case 'trees':
      return { ...model, baseScore: abs(model.baseScore), trees: model.trees.map((tree) => ({ ...tree, value: abs(tree.value) })) };
  }
}

/**
 * The magnitude of the summed terms behind every row's raw scores (the largest over its score
 * columns): what float32 rounding of the computation is proportional to, whatever the order of
 * the sums. Dense layers: the network run on |x| with |weights| and |biases| (so each layer's
 * rounding, carried through the layers after it, is bounded too); trees: |base score| plus the
 * |value| of every leaf the row reaches.
 */
export function termMagnitudes(model: TrainedModel, x: Matrix): Float64Array {
  const input = model.kind === 'trees' ? x : { ...x, data: x.data.map(Math.abs) };
  const scores = rawScores(absoluteModel(model), input);
  const columns = x.rows === 0 ? 1 : scores.length / x.rows;
  const magnitudes = new Float64Array(x.rows);
  for (let r = 0; r < x.rows; r++) {
    let largest = 0;
    for (let c = 0; c < columns; c++) largest = Math.max(largest, scores[r * columns + c]!);
    magnitudes[r] = largest;
  }
  return magnitudes;
}

/**
 * Turns raw scores into predictions: class probabilities `[rows × classes]` for
 * classification (binary: `[1 - p, p]`), the values `[rows]` for regression.
 */
export function applyLink(link: Link, scores: Float32Array, rows: number, classes: number): Float32Array {
  if (scores.length !== rows * scoreColumns(link, classes)) throw new Error(`expected ${rows * scoreColumns(link, classes)} scores, got ${scores.length}`);
  switch (link) {
    case 'identity':
      return scores;
    case 'sigmoid': {
      const out = new Float32Array(rows * 2);
      for (let r = 0; r < rows; r++) {
        const p = 1 / (1 + Math.exp(-scores[r]!));
        out[2 * r] = 1 - p;
        out[2 * r + 1] = p;
      }
      return out;
    }
    case 'softmax': {
      const out = new Float32Array(rows * classes);
      for (let r = 0; r < rows; r++) {
        const base = r * classes;
        let max = -Infinity;
        for (let c = 0; c < classes; c++) max = Math.max(max, scores[base + c]!);
        let total = 0;
        for (let c = 0; c < classes; c++) total += Math.exp(scores[base + c]! - max);
        for (let c = 0; c < classes; c++) out[base + c] = Math.exp(scores[base + c]! - max) / total;
      }
      return out;
    }
  }
}

/** Predictions of a model: probabilities `[rows × classes]` or regression values `[rows]`. */
export function predict(model: TrainedModel, x: Matrix, classes: number): Float32Array {
  return applyLink(model.link, rawScores(model, x), x.rows, classes);
}
