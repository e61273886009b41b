/**
 * Grows one regression tree of a boosting round on the binned training matrix,
 * leaf-wise (best gain first, as LightGBM and scikit-learn's
 * HistGradientBoosting do) under a leaf and a depth limit.
 *
 * Each leaf owns a range of a row-index permutation that splits partition in
 * place; gradient/hessian/count histograms are built over a leaf's rows, and
 * only for the smaller child of a split: the larger one is its parent's
 * histogram minus the smaller's. Leaves take the Newton step −G/(H + λ),
 * splits maximise G_L²/(H_L + λ) + G_R²/(H_R + λ) − G²/(H + λ).
 */
import type { Tree } from '../model.js';
import { binCount, binEdge, type BinMapper } from './histogram-binning.js';

/** The tree-shape hyperparameters of {@link TreeGrower}. */
export interface GrowerOptions {
  readonly maxDepth: number;
  readonly maxLeaves: number;
  readonly minSamplesLeaf: number;
  /** L2 regularisation λ of leaf values. */
  readonly l2: number;
  /** Shrinkage applied to every leaf value. */
  readonly learningRate: number;
}

/**
 * Hessian both children of a split must keep at least (scikit-learn's
 * `min_hessian_to_split`): leaves of saturated probabilities have no
 * meaningful Newton step.
 */
const MIN_CHILD_HESSIAN = 1e-3;

/** Entries per histogram bin: gradient sum, hessian sum, row count. */
const STRIDE = 3;

/**
 * Grows the trees of one training run; holds the working memory (row
 * permutation, histograms, node arrays) that every tree reuses.
 */
export class TreeGrower {
  private readonly rows: number;
  /** The features that have at least two bins. */
  private readonly features: Int32Array;
  private readonly bins: Int32Array;
  /** Where each feature's bins start in a histogram (already × {@link STRIDE}). */
  private readonly histOffset: Int32Array;
  private readonly histLength: number;
  private readonly histograms: Float64Array[] = [];
  private readonly freeHistograms: number[] = [];

  private readonly index: Uint32Array;
  /** Partition scratch: the smaller side of a split, at most half the rows; shares its memory with {@link orderedGrad}. */
  private readonly scratch: Uint32Array;
  private readonly orderedGrad: Float32Array;
  private readonly orderedHess: Float32Array;

  // Current leaves, by slot.
  private readonly leafNode: Int32Array;
  private readonly leafStart: Int32Array;
  private readonly leafEnd: Int32Array;
  private readonly leafDepth: Int32Array;
  private readonly leafHistogram: Int32Array;
  private readonly leafGrad: Float64Array;
  private readonly leafHess: Float64Array;
  // Best split of each leaf (gain ≤ 0: none).
  private readonly splitGain: Float64Array;
  private readonly splitFeature: Int32Array;
  private readonly splitBin: Int32Array;
  private readonly splitGrad: Float64Array;
  private readonly splitHess: Float64Array;
  private readonly splitCount: Int32Array;

  // Nodes of the tree being grown.
  private readonly nodeFeature: Int32Array;
  private readonly nodeThreshold: Float32Array;
  private readonly nodeLeft: Int32Array;
  private readonly nodeRight: Int32Array;
  private readonly nodeValue: Float32Array;

  /**
   * @param binned - The training matrix binned column-major (`binned[c * rows + r]`).
   * @param mapper - The bins `binned` was made with; thresholds are its edges.
   */
  constructor(
    private readonly binned: Uint8Array,
    private readonly mapper: BinMapper,
    rows: number,
    private readonly options: GrowerOptions,
  ) {
    this.rows = rows;
    const cols = mapper.cols;
    this.bins = new Int32Array(cols);
    this.histOffset = new Int32Array(cols).fill(-1);
    const splittable: number[] = [];
    let length = 0;
    for (let f = 0; f < cols; f++) {
      const count = binCount(mapper, f);
      this.bins[f] = count;
      if (count < 2) continue;
      splittable.push(f);
      this.histOffset[f] = length;
      length += count * STRIDE;
    }
    this.features = Int32Array.from(splittable);
    this.histLength = length;

    this.index = new Uint32Array(rows);
    // Only the smaller child of a split is gathered or set aside: at most half the rows.
    const half = Math.ceil(rows / 2) + 1; // + 1: the branch-free partition writes one past the side it sets aside
    this.orderedGrad = new Float32Array(half);
    this.orderedHess = new Float32Array(half);
    this.scratch = new Uint32Array(this.orderedGrad.buffer, 0, half);

    const leaves = options.maxLeaves;
    this.leafNode = new Int32Array(leaves);
    this.leafStart = new Int32Array(leaves);
    this.leafEnd = new Int32Array(leaves);
    this.leafDepth = new Int32Array(leaves);
    this.leafHistogram = new Int32Array(leaves);
    this.leafGrad = new Float64Array(leaves);
    this.leafHess = new Float64Array(leaves);
    this.splitGain = new Float64Array(leaves);
    this.splitFeature = new Int32Array(leaves);
    this.splitBin = new Int32Array(leaves);
    this.splitGrad = new Float64Array(leaves);
    this.splitHess = new Float64Array(leaves);
    this.splitCount = new Int32Array(leaves);

    const nodes = 2 * leaves - 1;
    this.nodeFeature = new Int32Array(nodes);
    this.nodeThreshold = new Float32Array(nodes);
    this.nodeLeft = new Int32Array(nodes);
    this.nodeRight = new Int32Array(nodes);
    this.nodeValue = new Float32Array(nodes);
  }

  /** Bytes of working memory a grower holds for `rows` rows, `totalBins` bins over all features and `maxLeaves`. */
  static workingBytes(rows: number, totalBins: number, maxLeaves: number): number {
    const rowBuffers = rows * 4 + (Math.ceil(rows / 2) + 1) * 4 * 2;
    // Live histograms: one per leaf that may still split, plus the one being built.
    const histograms = (maxLeaves + 1) * totalBins * STRIDE * 8;
    const leavesAndNodes = maxLeaves * 64 + (2 * maxLeaves - 1) * 20;
    return rowBuffers + histograms + leavesAndNodes;
  }

  /**
   * Grows one tree on the gradients and hessians of the training rows and adds
   * its (float32) leaf values to column `output` of `scores`.
   * @param hess - Omitted when every hessian is 1 (squared error).
   * @param scores - Row-major raw scores `[rows × columns]`, updated in place.
   */
  grow(grad: Float32Array, hess: Float32Array | undefined, output: number, scores: Float64Array, columns: number): Tree {
    const n = this.rows;
    const index = this.index;
    for (let i = 0; i < n; i++) index[i] = i;
    let sumGrad = 0;
    let sumHess = 0;
    for (let i = 0; i < n; i++) sumGrad += grad[i]!;
    if (hess) for (let i = 0; i < n; i++) sumHess += hess[i]!;
    else sumHess = n;

    let nodes = 1;
    let leaves = 1;
    this.newNode(0);
    this.setLeaf(0, 0, 0, n, 0, sumGrad, sumHess);
    if (this.canSplit(0, n) && this.options.maxLeaves > 1) {
      const slot = this.acquireHistogram();
      this.leafHistogram[0] = slot;
      this.buildHistogram(slot, 0, n, grad, hess, true);
      this.findSplit(0);
    }

    while (leaves < this.options.maxLeaves) {
      let best = -1;
      let bestGain = 0;
      for (let l = 0; l < leaves; l++) {
        if (this.splitGain[l]! > bestGain) {
          bestGain = this.splitGain[l]!;
          best = l;
        }
      }
      if (best < 0) break;
      const right = leaves++;
      this.split(best, right, nodes, nodes + 1, leaves < this.options.maxLeaves, grad, hess);
      nodes += 2;
    }

    const { l2, learningRate } = this.options;
    for (let l = 0; l < leaves; l++) {
      const denominator = this.leafHess[l]! + l2;
      const step = denominator > 0 ? (-this.leafGrad[l]! / denominator) * learningRate : 0;
      const value = Math.fround(Number.isFinite(step) ? step : 0);
      this.nodeValue[this.leafNode[l]!] = value;
      for (let i = this.leafStart[l]!, end = this.leafEnd[l]!; i < end; i++) scores[index[i]! * columns + output]! += value;
      this.releaseHistogram(l);
    }
    return {
      output,
      feature: this.nodeFeature.slice(0, nodes),
      threshold: this.nodeThreshold.slice(0, nodes),
      left: this.nodeLeft.slice(0, nodes),
      right: this.nodeRight.slice(0, nodes),
      value: this.nodeValue.slice(0, nodes),
    };
  }

  private newNode(node: number): void {
    this.nodeFeature[node] = -1;
    this.nodeThreshold[node] = 0;
    this.nodeLeft[node] = -1;
    this.nodeRight[node] = -1;
    this.nodeValue[node] = 0;
  }

  private setLeaf(slot: number, node: number, start: number, end: number, depth: number, sumGrad: number, sumHess: number): void {
    this.leafNode[slot] = node;
    this.leafStart[slot] = start;
    this.leafEnd[slot] = end;
    this.leafDepth[slot] = depth;
    this.leafGrad[slot] = sumGrad;
    this.leafHess[slot] = sumHess;
    this.leafHistogram[slot] = -1;
    this.splitGain[slot] = 0;
  }

  private canSplit(depth: number, count: number): boolean {
    return depth < this.options.maxDepth && count >= 2 * this.options.minSamplesLeaf && this.features.length > 0;
  }

  /**
   * Splits leaf `slot` by its best split: the left child stays in `slot`, the
   * right one takes `rightSlot`; their histograms and best splits are prepared
   * when `more` leaves may still be split.
   */
  private split(slot: number, rightSlot: number, leftNode: number, rightNode: number, more: boolean, grad: Float32Array, hess: Float32Array | undefined): void {
    const feature = this.splitFeature[slot]!;
    const bin = this.splitBin[slot]!;
    const start = this.leafStart[slot]!;
    const end = this.leafEnd[slot]!;
    const mid = this.partition(start, end, feature, bin, this.splitCount[slot]!);

    const parent = this.leafNode[slot]!;
    this.nodeFeature[parent] = feature;
    this.nodeThreshold[parent] = binEdge(this.mapper, feature, bin);
    this.nodeLeft[parent] = leftNode;
    this.nodeRight[parent] = rightNode;
    this.newNode(leftNode);
    this.newNode(rightNode);

    const depth = this.leafDepth[slot]! + 1;
    const gradLeft = this.splitGrad[slot]!;
    const hessLeft = this.splitHess[slot]!;
    const parentHistogram = this.leafHistogram[slot]!;
    this.setLeaf(rightSlot, rightNode, mid, end, depth, this.leafGrad[slot]! - gradLeft, this.leafHess[slot]! - hessLeft);
    this.setLeaf(slot, leftNode, start, mid, depth, gradLeft, hessLeft);

    const splitLeft = more && this.canSplit(depth, mid - start);
    const splitRight = more && this.canSplit(depth, end - mid);
    if (!splitLeft && !splitRight) {
      this.freeHistograms.push(parentHistogram);
      return;
    }
    // Build the smaller child; the larger is the parent minus it, in the parent's buffer.
    const leftSmaller = mid - start <= end - mid;
    const small = leftSmaller ? slot : rightSlot;
    const large = leftSmaller ? rightSlot : slot;
    const smallHistogram = this.acquireHistogram();
    this.buildHistogram(smallHistogram, this.leafStart[small]!, this.leafEnd[small]!, grad, hess, false);
    const parentBins = this.histograms[parentHistogram]!;
    const smallBins = this.histograms[smallHistogram]!;
    for (let i = 0, length = this.histLength; i < length; i++) parentBins[i]! -= smallBins[i]!;
    this.leafHistogram[small] = smallHistogram;
    this.leafHistogram[large] = parentHistogram;

    if (splitLeft) this.findSplit(slot);
    else this.releaseHistogram(slot);
    if (splitRight) this.findSplit(rightSlot);
    else this.releaseHistogram(rightSlot);
  }

  /**
   * Stable in-place partition of `index[start … end)`: the `leftCount` rows
   * with bin ≤ `bin` of `feature` first. The smaller side is set aside in
   * {@link scratch} while the larger one is compacted in place (branch-free:
   * rows go either way at random, a branch would mispredict half the time).
   * Returns where the right side starts.
   */
  private partition(start: number, end: number, feature: number, bin: number, leftCount: number): number {
    const { index, scratch, binned } = this;
    const column = feature * this.rows;
    const mid = start + leftCount;
    if (leftCount > end - mid) {
      // Right side smaller: compact the left rows forwards, set the right ones aside.
      let left = start;
      let right = 0;
      for (let i = start; i < end; i++) {
        const row = index[i]!;
        const toLeft = ((bin - binned[column + row]!) >> 31) + 1; // 1 when bin(row) <= bin, else 0
        index[left] = row;
        scratch[right] = row;
        left += toLeft;
        right += 1 - toLeft;
      }
      index.set(scratch.subarray(0, right), left);
    } else {
      // Left side smaller: compact the right rows backwards, set the left ones aside (in reverse).
      let right = end;
      let left = 0;
      for (let i = end - 1; i >= start; i--) {
        const row = index[i]!;
        const toLeft = ((bin - binned[column + row]!) >> 31) + 1;
        index[right - 1] = row;
        scratch[left] = row;
        right -= 1 - toLeft;
        left += toLeft;
      }
      for (let j = 0; j < left; j++) index[start + j] = scratch[left - 1 - j]!;
    }
    return mid;
  }

  private acquireHistogram(): number {
    const free = this.freeHistograms.pop();
    if (free !== undefined) return free;
    this.histograms.push(new Float64Array(this.histLength));
    return this.histograms.length - 1;
  }

  private releaseHistogram(slot: number): void {
    const histogram = this.leafHistogram[slot]!;
    if (histogram >= 0) this.freeHistograms.push(histogram);
    this.leafHistogram[slot] = -1;
  }

  /** Fills histogram `slot` from the rows `index[start … end)` (`root`: all rows, in order). */
  private buildHistogram(slot: number, start: number, end: number, grad: Float32Array, hess: Float32Array | undefined, root: boolean): void {
    const histogram = this.histograms[slot]!;
    histogram.fill(0);
    const { binned, features, histOffset, rows } = this;
    const count = end - start;
    const index = this.index;
    let orderedGrad = grad;
    let orderedHess = hess;
    if (!root) {
      // The root's rows are all rows in order; a child's derivatives are gathered
      // into contiguous buffers first, so each feature pass reads them in sequence.
      orderedGrad = this.orderedGrad;
      for (let i = 0; i < count; i++) orderedGrad[i] = grad[index[start + i]!]!;
      if (hess) {
        orderedHess = this.orderedHess;
        for (let i = 0; i < count; i++) orderedHess[i] = hess[index[start + i]!]!;
      }
    }
    accumulate(histogram, binned, features, histOffset, rows, index, start, count, orderedGrad, orderedHess);
    if (!hess) for (let i = 0, length = this.histLength; i < length; i += STRIDE) histogram[i + 1] = histogram[i + 2]!;
  }

  /** Finds the best split of leaf `slot` from its histogram (none: gain 0). */
  private findSplit(slot: number): void {
    const histogram = this.histograms[this.leafHistogram[slot]!]!;
    const { features, histOffset, bins } = this;
    const { l2, minSamplesLeaf } = this.options;
    const sumGrad = this.leafGrad[slot]!;
    const sumHess = this.leafHess[slot]!;
    const count = this.leafEnd[slot]! - this.leafStart[slot]!;
    const parentScore = (sumGrad * sumGrad) / (sumHess + l2);
    let bestGain = 0;
    let bestFeature = -1;
    let bestBin = 0;
    let bestGrad = 0;
    let bestHess = 0;
    let bestCount = 0;
    for (let j = 0; j < features.length; j++) {
      const feature = features[j]!;
      const offset = histOffset[feature]!;
      const last = bins[feature]! - 1;
      let gradLeft = 0;
      let hessLeft = 0;
      let countLeft = 0;
      for (let b = 0, at = offset; b < last; b++, at += STRIDE) {
        gradLeft += histogram[at]!;
        hessLeft += histogram[at + 1]!;
        countLeft += histogram[at + 2]!;
        if (countLeft < minSamplesLeaf) continue;
        if (count - countLeft < minSamplesLeaf) break;
        const hessRight = sumHess - hessLeft;
        if (hessLeft < MIN_CHILD_HESSIAN || hessRight < MIN_CHILD_HESSIAN) continue;
        const gradRight = sumGrad - gradLeft;
        const gain = (gradLeft * gradLeft) / (hessLeft + l2) + (gradRight * gradRight) / (hessRight + l2) - parentScore;
        if (gain > bestGain) {
          bestGain = gain;
          bestFeature = feature;
          bestBin = b;
          bestGrad = gradLeft;
          bestHess = hessLeft;
          bestCount = countLeft;
        }
      }
    }
    if (bestFeature < 0) {
      this.splitGain[slot] = 0;
      this.releaseHistogram(slot);
      return;
    }
    this.splitGain[slot] = bestGain;
    this.splitFeature[slot] = bestFeature;
    this.splitBin[slot] = bestBin;
    this.splitGrad[slot] = bestGrad;
    this.splitHess[slot] = bestHess;
    this.splitCount[slot] = bestCount;
  }
}

// The histogram loops are plain functions over typed arrays (monomorphic, no
// closures): they are where boosting spends its time. Four features share a
// pass over the rows: their histograms are independent, so the additions
// overlap instead of waiting on each other, and the row's index and gradient
// are loaded once per four features.

/**
 * Adds the rows `index[start … start + count)` to the histograms of
 * `features`; `grad[i]` and `hess[i]` (none: every hessian is 1, left to the
 * caller) belong to row `index[start + i]`.
 */
function accumulate(
  histogram: Float64Array,
  binned: Uint8Array,
  features: Int32Array,
  histOffset: Int32Array,
  rows: number,
  index: Uint32Array,
  start: number,
  count: number,
  grad: Float32Array,
  hess: Float32Array | undefined,
): void {
  // Each loop lives in its own function: a loop that has not run yet (the
  // remainder, for 20 features) would deoptimise the function holding the hot one.
  let j = 0;
  for (; j + 4 <= features.length; j += 4) {
    const f0 = features[j]!;
    const f1 = features[j + 1]!;
    const f2 = features[j + 2]!;
    const f3 = features[j + 3]!;
    const o0 = histOffset[f0]!;
    const o1 = histOffset[f1]!;
    const o2 = histOffset[f2]!;
    const o3 = histOffset[f3]!;
    if (hess) accumulateFour(histogram, binned, f0 * rows, f1 * rows, f2 * rows, f3 * rows, o0, o1, o2, o3, index, start, count, grad, hess);
    else accumulateFourUnitHessian(histogram, binned, f0 * rows, f1 * rows, f2 * rows, f3 * rows, o0, o1, o2, o3, index, start, count, grad);
  }
  for (; j < features.length; j++) {
    const feature = features[j]!;
    if (hess) accumulateOne(histogram, binned, feature * rows, histOffset[feature]!, index, start, count, grad, hess);
    else accumulateOneUnitHessian(histogram, binned, feature * rows, histOffset[feature]!, index, start, count, grad);
  }
}

/** Four features' histograms in one pass over the rows (columns `c*` of `binned`, histogram offsets `o*`). */
function accumulateFour(
  histogram: Float64Array,
  binned: Uint8Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  index: Uint32Array,
  start: number,
  count: number,
  grad: Float32Array,
  hess: Float32Array,
): void {
  for (let i = 0; i < count; i++) {
    const row = index[start + i]!;
    const g = grad[i]!;
    const h = hess[i]!;
    const a0 = o0 + binned[c0 + row]! * 3;
    const a1 = o1 + binned[c1 + row]! * 3;
    const a2 = o2 + binned[c2 + row]! * 3;
    const a3 = o3 + binned[c3 + row]! * 3;
    histogram[a0]! += g;
    histogram[a0 + 1]! += h;
    histogram[a0 + 2]!++;
    histogram[a1]! += g;
    histogram[a1 + 1]! += h;
    histogram[a1 + 2]!++;
    histogram[a2]! += g;
    histogram[a2 + 1]! += h;
    histogram[a2 + 2]!++;
    histogram[a3]! += g;
    histogram[a3 + 1]! += h;
    histogram[a3 + 2]!++;
  }
}

/** {@link accumulateFour} without hessians. */
function accumulateFourUnitHessian(
  histogram: Float64Array,
  binned: Uint8Array,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  o0: number,
  o1: number,
  o2: number,
  o3: number,
  index: Uint32Array,
  start: number,
  count: number,
  grad: Float32Array,
): void {
  for (let i = 0; i < count; i++) {
    const row = index[start + i]!;
    const g = grad[i]!;
    const a0 = o0 + binned[c0 + row]! * 3;
    const a1 = o1 + binned[c1 + row]! * 3;
    const a2 = o2 + binned[c2 + row]! * 3;
    const a3 = o3 + binned[c3 + row]! * 3;
    histogram[a0]! += g;
    histogram[a0 + 2]!++;
    histogram[a1]! += g;
    histogram[a1 + 2]!++;
    histogram[a2]! += g;
    histogram[a2 + 2]!++;
    histogram[a3]! += g;
    histogram[a3 + 2]!++;
  }
}

/** One feature's histogram (column `column` of `binned`, histogram offset `offset`). */
function accumulateOne(
  histogram: Float64Array,
  binned: Uint8Array,
  column: number,
  offset: number,
  index: Uint32Array,
  start: number,
  count: number,
  grad: Float32Array,
  hess: Float32Array,
): void {
  for (let i = 0; i < count; i++) {
    const at = offset + binned[column + index[start + i]!]! * 3;
    histogram[at]! += grad[i]!;
    histogram[at + 1]! += hess[i]!;
    histogram[at + 2]!++;
  }
}

/** {@link accumulateOne} without hessians. */
function accumulateOneUnitHessian(
  histogram: Float64Array,
  binned: Uint8Array,
  column: number,
  offset: number,
  index: Uint32Array,
  start: number,
  count: number,
  grad: Float32Array,
): void {
  for (let i = 0; i < count; i++) {
    const at = offset + binned[column + index[start + i]!]! * 3;
    histogram[at]! += grad[i]!;
    histogram[at + 2]!++;
  }
}
