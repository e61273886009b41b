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
 *
 * Each row's (gradient, hessian) pair, as float32, sits next to its place in
 * the permutation and moves with it when a split partitions: a leaf's pairs are
 * one contiguous run in its row order, never gathered row by row.
 *
 * Histograms are built and leaves partitioned by WebAssembly kernels written in
 * tree-grower.wat (assembled by `npm run build:kernels` into
 * tree-grower.wasm.generated.ts): each pair is widened to one float64×2 vector
 * once per row and added to a bin's (gradient, hessian) sums with one SIMD
 * addition (the root's counts, the same every tree, are counted once). The
 * binned matrix, the row permutation, the pairs and the histograms live in the
 * kernels' memory; when they would not fit WebAssembly's 4 GiB, the same
 * arithmetic runs in JavaScript on ordinary buffers. Both add the same float64
 * values in the same order: the trees are the same bit for bit.
 */
import type { Matrix, Tree } from '../model.js';
import { binCount, binEdge, binMatrix, type BinMapper } from './histogram-binning.js';
import { bytes as kernelBytes } from './tree-grower.wasm.generated.js';

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
const PAGE_BYTES = 65_536;
const MAX_PAGES = 65_536;
const ALIGNMENT = 16;

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
  /** Histogram buffers, allocated on first use, at most `maxLeaves` + 1. */
  private readonly histograms: Float64Array[] = [];
  private readonly freeHistograms: number[] = [];

  /** The training matrix binned column-major (`binned[c * rows + r]`). */
  private readonly binned: Uint8Array;
  private readonly index: Uint32Array;
  /**
   * (gradient, hessian) of the row at `index[i]`, interleaved: `pairs[2i]`,
   * `pairs[2i + 1]` (hessian 1 without hessians, so the hessian sums are the
   * counts). Filled in row order for the root, then moved along with the row
   * indices by every partition: a leaf's pairs are its range, in its row order.
   */
  private readonly pairs: Float32Array;
  /** {@link pairs} as bits, for moving them in JavaScript. */
  private readonly pairBits: Uint32Array;
  /** Partition scratch: the smaller side of a split (at most half the rows), its row indices and its pairs. */
  private readonly scratchIndex: Uint32Array;
  private readonly scratchPairs: Float32Array;
  private readonly scratchBits: Uint32Array;
  /** Where histogram buffers are carved from. */
  private readonly buffer: ArrayBuffer;
  private readonly histogramStart: number;
  /** The histogram kernels by number of features (1 … 4) when the buffers live in WebAssembly memory. */
  private readonly kernels: readonly HistogramKernel[] | undefined;
  /** The same for the root, without row indices or counts (see {@link rootCounts}). */
  private readonly rootKernels: readonly HistogramKernel[] | undefined;
  /** The row count of every bin over all rows (every root's counts), by bin as in a histogram ÷ {@link STRIDE}. */
  private readonly rootCounts: Float64Array;
  /** The partition kernels (forwards: right side set aside; backwards: left side) with {@link kernels}. */
  private readonly partitionKernels: { readonly forwards: PartitionKernel; readonly backwards: PartitionKernel } | undefined;

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
   * @param x - The training matrix, binned once here.
   * @param mapper - The bins of `x`; thresholds are their edges.
   * @param wasm - Build histograms with the WebAssembly kernel when the buffers fit its memory (else, or when false, in JavaScript).
   */
  constructor(
    x: Matrix,
    private readonly mapper: BinMapper,
    private readonly options: GrowerOptions,
    wasm = true,
  ) {
    const rows = x.rows;
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

    // One buffer: binned matrix, row permutation, pairs, partition scratch, then the histograms.
    const layout = bufferLayout(rows, cols, length, options.maxLeaves);
    const pages = Math.ceil(layout.bytes / PAGE_BYTES);
    if (wasm && pages <= MAX_PAGES) {
      const memory = new wasmApi.Memory({ initial: pages, maximum: pages });
      kernelModule ??= new wasmApi.Module(kernelBytes);
      const instance = new wasmApi.Instance(kernelModule, { env: { memory } });
      this.kernels = [1, 2, 3, 4].map((k) => instance.exports[`histogram${k}`] as HistogramKernel);
      this.rootKernels = [1, 2, 3, 4].map((k) => instance.exports[`root${k}`] as HistogramKernel);
      this.partitionKernels = { forwards: instance.exports['forwards'] as PartitionKernel, backwards: instance.exports['backwards'] as PartitionKernel };
      this.buffer = memory.buffer;
    } else {
      this.kernels = undefined;
      this.rootKernels = undefined;
      this.partitionKernels = undefined;
      this.buffer = new ArrayBuffer(layout.bytes);
    }
    this.binned = binMatrix(x, mapper, new Uint8Array(this.buffer, layout.binned, rows * cols));
    this.index = new Uint32Array(this.buffer, layout.index, rows);
    this.pairs = new Float32Array(this.buffer, layout.pairs, 2 * rows);
    this.pairBits = new Uint32Array(this.buffer, layout.pairs, 2 * rows);
    this.scratchIndex = new Uint32Array(this.buffer, layout.scratchIndex, layout.scratchRows);
    this.scratchPairs = new Float32Array(this.buffer, layout.scratchPairs, 2 * layout.scratchRows);
    this.scratchBits = new Uint32Array(this.buffer, layout.scratchPairs, 2 * layout.scratchRows);
    this.histogramStart = layout.histograms;
    this.rootCounts = new Float64Array(length / STRIDE);
    for (const feature of this.features) {
      const column = this.binned.subarray(feature * rows, (feature + 1) * rows);
      const at = this.histOffset[feature]! / STRIDE;
      for (let r = 0; r < rows; r++) this.rootCounts[at + column[r]!]!++;
    }

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
    const rowBuffers = rows * 12 + (Math.ceil(rows / 2) + 2) * 12 + 6 * ALIGNMENT;
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
    const { index, pairs } = this;
    let sumGrad = 0;
    let sumHess = 0;
    if (hess) {
      for (let i = 0; i < n; i++) {
        const g = grad[i]!;
        const h = hess[i]!;
        index[i] = i;
        pairs[2 * i] = g;
        pairs[2 * i + 1] = h;
        sumGrad += g;
        sumHess += h;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const g = grad[i]!;
        index[i] = i;
        pairs[2 * i] = g;
        pairs[2 * i + 1] = 1;
        sumGrad += g;
      }
      sumHess = n;
    }

    let nodes = 1;
    let leaves = 1;
    this.newNode(0);
    this.setLeaf(0, 0, 0, n, 0, sumGrad, sumHess);
    if (this.canSplit(0, n) && this.options.maxLeaves > 1) {
      const slot = this.acquireHistogram();
      this.leafHistogram[0] = slot;
      this.buildHistogram(slot, 0, n, true);
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
      this.split(best, right, nodes, nodes + 1, leaves < this.options.maxLeaves);
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
  private split(slot: number, rightSlot: number, leftNode: number, rightNode: number, more: boolean): void {
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
    this.buildHistogram(smallHistogram, this.leafStart[small]!, this.leafEnd[small]!, false);
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
   * Stable in-place partition of `index[start … end)` and their {@link pairs}:
   * the `leftCount` rows with bin ≤ `bin` of `feature` first. The smaller side
   * is set aside in the scratch buffers while the larger one is compacted in
   * place (branch-free: rows go either way at random, a branch would
   * mispredict half the time). Returns where the right side starts.
   */
  private partition(start: number, end: number, feature: number, bin: number, leftCount: number): number {
    const { index, pairs, scratchIndex, scratchPairs, binned } = this;
    const column = feature * this.rows;
    const mid = start + leftCount;
    const rightCount = end - mid;
    const kernels = this.partitionKernels;
    if (leftCount > rightCount) {
      // Right side smaller: compact the left rows forwards, set the right ones aside (from scratch row 0).
      if (kernels) kernels.forwards(end - start, index.byteOffset + start * 4, pairs.byteOffset + start * 8, binned.byteOffset + column, bin, scratchIndex.byteOffset, scratchPairs.byteOffset);
      else this.partitionForwards(start, end, column, bin);
      index.set(scratchIndex.subarray(0, rightCount), mid);
      pairs.set(scratchPairs.subarray(0, 2 * rightCount), 2 * mid);
    } else {
      // Left side smaller: compact the right rows backwards, set the left ones aside (scratch rows leftCount, leftCount − 1, … 1).
      if (kernels) kernels.backwards(end - start, index.byteOffset + end * 4 - 4, pairs.byteOffset + end * 8 - 8, binned.byteOffset + column, bin, scratchIndex.byteOffset + leftCount * 4, scratchPairs.byteOffset + leftCount * 8);
      else this.partitionBackwards(start, end, column, bin, leftCount);
      index.set(scratchIndex.subarray(1, 1 + leftCount), start);
      pairs.set(scratchPairs.subarray(2, 2 + 2 * leftCount), 2 * start);
    }
    return mid;
  }

  /** {@link partition}'s forward pass in JavaScript (what tree-grower.wat's `forwards` does). */
  private partitionForwards(start: number, end: number, column: number, bin: number): void {
    const { index, pairBits, scratchIndex, scratchBits, binned } = this;
    let left = start;
    let right = 0;
    for (let i = start; i < end; i++) {
      const row = index[i]!;
      const g = pairBits[2 * i]!;
      const h = pairBits[2 * i + 1]!;
      const toLeft = ((bin - binned[column + row]!) >> 31) + 1; // 1 when bin(row) <= bin, else 0
      index[left] = row;
      pairBits[2 * left] = g;
      pairBits[2 * left + 1] = h;
      scratchIndex[right] = row;
      scratchBits[2 * right] = g;
      scratchBits[2 * right + 1] = h;
      left += toLeft;
      right += 1 - toLeft;
    }
  }

  /** {@link partition}'s backward pass in JavaScript (what tree-grower.wat's `backwards` does). */
  private partitionBackwards(start: number, end: number, column: number, bin: number, leftCount: number): void {
    const { index, pairBits, scratchIndex, scratchBits, binned } = this;
    let right = end - 1;
    let left = leftCount;
    for (let i = end - 1; i >= start; i--) {
      const row = index[i]!;
      const g = pairBits[2 * i]!;
      const h = pairBits[2 * i + 1]!;
      const toLeft = ((bin - binned[column + row]!) >> 31) + 1;
      index[right] = row;
      pairBits[2 * right] = g;
      pairBits[2 * right + 1] = h;
      scratchIndex[left] = row;
      scratchBits[2 * left] = g;
      scratchBits[2 * left + 1] = h;
      right -= 1 - toLeft;
      left -= toLeft;
    }
  }

  private acquireHistogram(): number {
    const free = this.freeHistograms.pop();
    if (free !== undefined) return free;
    const slot = this.histograms.length;
    if (slot > this.options.maxLeaves) throw new Error('more live histograms than leaves');
    this.histograms.push(new Float64Array(this.buffer, this.histogramStart + slot * this.histLength * 8, this.histLength));
    return slot;
  }

  private releaseHistogram(slot: number): void {
    const histogram = this.leafHistogram[slot]!;
    if (histogram >= 0) this.freeHistograms.push(histogram);
    this.leafHistogram[slot] = -1;
  }

  /** Fills histogram `slot` from the rows `index[start … end)` and their {@link pairs} (`root`: all rows, in order). */
  private buildHistogram(slot: number, start: number, end: number, root: boolean): void {
    const histogram = this.histograms[slot]!;
    histogram.fill(0);
    const { binned, features, histOffset, rows, index, pairs } = this;
    const kernels = root ? this.rootKernels : this.kernels;
    const count = end - start;
    if (kernels === undefined) {
      accumulate(histogram, binned, features, histOffset, rows, index, start, count, pairs);
      return;
    }
    const indexAddress = index.byteOffset + start * 4;
    const pairsAddress = pairs.byteOffset + start * 8;
    const binnedAddress = binned.byteOffset;
    const histogramAddress = histogram.byteOffset;
    for (let j = 0; j < features.length; j += 4) {
      const k = Math.min(4, features.length - j);
      const f0 = features[j]!;
      const f1 = features[j + Math.min(1, k - 1)]!;
      const f2 = features[j + Math.min(2, k - 1)]!;
      const f3 = features[j + k - 1]!;
      kernels[k - 1]!(
        count,
        indexAddress,
        pairsAddress,
        binnedAddress + f0 * rows,
        binnedAddress + f1 * rows,
        binnedAddress + f2 * rows,
        binnedAddress + f3 * rows,
        histogramAddress + histOffset[f0]! * 8,
        histogramAddress + histOffset[f1]! * 8,
        histogramAddress + histOffset[f2]! * 8,
        histogramAddress + histOffset[f3]! * 8,
      );
    }
    if (root) {
      const counts = this.rootCounts;
      for (let b = 0, at = 2; b < counts.length; b++, at += STRIDE) histogram[at] = counts[b]!;
    }
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

/** Byte offsets of {@link TreeGrower}'s buffers in its one memory, and its size. */
function bufferLayout(rows: number, cols: number, histLength: number, maxLeaves: number) {
  const align = (bytes: number): number => Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;
  const binned = 0;
  const index = align(rows * cols);
  const pairs = index + align(rows * 4);
  // The side of a split set aside is at most half the rows; + 1: the branch-free partition writes one row beyond it.
  const scratchRows = Math.ceil(rows / 2) + 1;
  const scratchIndex = pairs + align(rows * 8);
  const scratchPairs = scratchIndex + align(scratchRows * 4);
  const histograms = scratchPairs + align(scratchRows * 8);
  return { binned, index, pairs, scratchRows, scratchIndex, scratchPairs, histograms, bytes: histograms + (maxLeaves + 1) * histLength * 8 };
}

/**
 * tree-grower.wat's `histogram1` … `histogram4` (and `root1` … `root4`).
 * Adds `count` rows to the histograms of up to 4 features (addresses in bytes):
 * `index` points at the rows' indices (u32), `pairs` at their (gradient,
 * hessian) float32 pairs, `c*` at the features' columns of the binned matrix
 * and `o*` at their histograms. A kernel for k features reads `c0 … c(k-1)`,
 * `o0 … o(k-1)` and ignores the rest.
 */
type HistogramKernel = (count: number, index: number, pairs: number, c0: number, c1: number, c2: number, c3: number, o0: number, o1: number, o2: number, o3: number) => void;

/** The part of the WebAssembly JavaScript API used here (the project's type libraries do not declare it). */
interface WasmApi {
  readonly Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { readonly WebAssembly: WasmApi }).WebAssembly;
let kernelModule: object | undefined;

/**
 * tree-grower.wat's `forwards` and `backwards`.
 * Moves `count` rows (addresses in bytes: `index` and `pairs` at the first row
 * read) of a stable partition by `binned[column + row] <= bin`. Forwards:
 * reads from the first row up, compacts the left rows in place from `index`
 * and writes every row to `scratchIndex`/`scratchPairs`, advancing there only
 * past right rows. Backwards: reads from the last row down (`index`, `pairs`
 * point at it), compacts the right rows in place from the end and advances
 * the scratch pointers (which start at the last left row's slot) downwards
 * only past left rows.
 */
type PartitionKernel = (count: number, index: number, pairs: number, column: number, bin: number, scratchIndex: number, scratchPairs: number) => void;

/**
 * The kernel's arithmetic in JavaScript (for buffers beyond WebAssembly's
 * memory): adds the rows `index[i]`, i in `[start, start + count)`, whose
 * (gradient, hessian) pairs are `pairs[2i]`, `pairs[2i + 1]`, to the histograms of
 * `features`, one feature at a time.
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
  pairs: Float32Array,
): void {
  for (let j = 0; j < features.length; j++) {
    const feature = features[j]!;
    const column = feature * rows;
    const offset = histOffset[feature]!;
    for (let i = 0; i < count; i++) {
      const at = offset + binned[column + index[start + i]!]! * STRIDE;
      histogram[at]! += pairs[2 * (start + i)]!;
      histogram[at + 1]! += pairs[2 * (start + i) + 1]!;
      histogram[at + 2]!++;
    }
  }
}
