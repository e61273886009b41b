/**
 * Histogram binning for boosted trees: per-feature bin edges taken from the
 * training data, and the training matrix binned once into bytes.
 *
 * Every edge lies between two consecutive distinct values of the (sampled) data:
 * their midpoint, as scikit-learn's HistGradientBoosting takes it, so a value
 * never seen in training that falls between two bins goes to the nearer one.
 * The midpoint is rounded to float32 and kept strictly below the upper value
 * (the lower value itself when the two are float32 neighbours), and a value's
 * bin is decided with the same float32 comparison the trees use
 * (`x <= edge`). So a split "bin ≤ b" is exactly the ONNX `BRANCH_LEQ` test
 * `x <= edges[b]`: the exported model routes every training row as the
 * trainer did.
 */
import type { Matrix } from '../model.js';
import { Random } from '../random.js';

/** Size of the buffer sampled rows are copied into, a block of features at a time. */
const SAMPLE_BLOCK_BYTES = 4 << 20;

/** Rows the bin edges are computed from at most (a seeded sample of larger sets), as scikit-learn does. */
export const BIN_SUBSAMPLE = 200_000;

/** The bins of every feature of a matrix. */
export interface BinMapper {
  readonly cols: number;
  /**
   * Upper edges of all features' bins (float32 midpoints between the data values
   * on either side), concatenated: feature `f` owns
   * `edges[offsets[f] … offsets[f + 1])`, ascending. Bin `b` of a feature holds
   * the values `v` with `edges[b - 1] < v <= edges[b]`; its last bin holds the
   * values above its last edge. A constant feature has no edges and one bin.
   */
  readonly edges: Float32Array;
  /** `cols + 1` offsets into {@link edges}. */
  readonly offsets: Int32Array;
}

/** Upper bound of the transient memory of {@link fitBins} and {@link binMatrix} (besides the binned matrix itself). */
export function binningBytes(rows: number, cols: number, maxBins: number, subsample = BIN_SUBSAMPLE): number {
  const m = Math.min(rows, subsample);
  const sample = 5 * 4 * m + Math.max(SAMPLE_BLOCK_BYTES, 4 * m) + 2048 * 4;
  const edges = cols * (maxBins * 4 + 8);
  const grid = cols * (CELLS_PER_EDGE * maxBins + 1) * 4 + cols * 24;
  return sample + edges + grid;
}

/** Number of bins of feature `f` (its edges + 1). */
export function binCount(mapper: BinMapper, f: number): number {
  return mapper.offsets[f + 1]! - mapper.offsets[f]! + 1;
}

/** The edge a split "bin ≤ `bin`" of feature `f` compares with: `x <= edge` exactly for the rows in bins ≤ `bin`. */
export function binEdge(mapper: BinMapper, f: number, bin: number): number {
  return mapper.edges[mapper.offsets[f]! + bin]!;
}

/** The bin of value `v` of feature `f`: the first bin whose upper edge is ≥ `v`. */
export function binOf(mapper: BinMapper, f: number, v: number): number {
  const start = mapper.offsets[f]!;
  return lowerBound(mapper.edges, start, mapper.offsets[f + 1]!, v) - start;
}

/** First index `i` of `edges[lo … hi)` (ascending) with `v <= edges[i]`, or `hi`. */
function lowerBound(edges: Float32Array, lo: number, hi: number, v: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Bin edges of every feature of `x`: the distinct values when a feature has at
 * most `maxBins` of them, else about `maxBins` equal-count bins.
 * @param maxBins - At most this many bins per feature (2 … 256, so a bin fits a byte).
 * @param seed - Seeds the sample of rows when `x` has more than `subsample` rows.
 * @param subsample - Rows the edges are computed from at most.
 */
export function fitBins(x: Matrix, maxBins: number, seed: number, subsample = BIN_SUBSAMPLE): BinMapper {
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > 256) throw new Error(`maxBins must be an integer in 2 … 256, got ${maxBins}`);
  const { rows, cols, data } = x;
  const sample = sampleRows(rows, subsample, seed);
  const m = sample.length;
  // The sampled rows are scattered over the matrix: read them a block of
  // features at a time (column-major), not once per feature.
  const block = Math.max(1, Math.min(cols, Math.floor(SAMPLE_BLOCK_BYTES / (4 * Math.max(1, m)))));
  const columns = new Float32Array(m * block);
  const keys = new Uint32Array(m);
  const spare = new Uint32Array(m);
  const distinct = new Float32Array(m);
  const counts = new Uint32Array(m);
  const edges = new Float32Array(cols * (maxBins - 1));
  const offsets = new Int32Array(cols + 1);
  let used = 0;
  for (let f = 0; f < cols; f++) {
    if (f % block === 0) {
      const width = Math.min(block, cols - f);
      for (let i = 0; i < m; i++) {
        const rowStart = sample[i]! * cols + f;
        for (let j = 0; j < width; j++) columns[j * m + i] = data[rowStart + j]!;
      }
    }
    const values = columns.subarray((f % block) * m, (f % block + 1) * m);
    sortFloat32(values, keys, spare);
    let d = 0;
    for (let i = 0; i < m; i++) {
      const v = values[i]!;
      if (d > 0 && v === distinct[d - 1]) counts[d - 1]!++;
      else {
        distinct[d] = v;
        counts[d++] = 1;
      }
    }
    if (d <= maxBins) {
      // One bin per distinct value: an edge after every value but the largest.
      for (let j = 0; j < d - 1; j++) edges[used++] = between(distinct[j]!, distinct[j + 1]!);
    } else {
      // Equal-count bins: close a bin after the value where the running count
      // reaches the next multiple of m / maxBins (ties keep a value in one bin).
      const limit = used + maxBins - 1;
      let cumulative = 0;
      let next = 1;
      for (let j = 0; j < d - 1 && used < limit; j++) {
        cumulative += counts[j]!;
        if (cumulative * maxBins >= next * m) {
          edges[used++] = between(distinct[j]!, distinct[j + 1]!);
          while (next * m <= cumulative * maxBins) next++;
        }
      }
    }
    offsets[f + 1] = used;
  }
  return { cols, edges: edges.slice(0, used), offsets };
}

/**
 * The float32 edge between consecutive distinct float32 values `low < high`:
 * their midpoint rounded to float32 (which lies in `[low, high]`), or `low`
 * when that rounding reaches `high` (neighbours, or `high` infinite), so that
 * `low <= edge < high` always holds.
 */
function between(low: number, high: number): number {
  const midpoint = Math.fround((low + high) / 2);
  return midpoint < high ? midpoint : low;
}

/** Indices (ascending) of `min(rows, size)` rows drawn without replacement (selection sampling, Knuth's Algorithm S). */
function sampleRows(rows: number, size: number, seed: number): Uint32Array {
  const m = Math.min(rows, size);
  const sample = new Uint32Array(m);
  if (m === rows) {
    for (let r = 0; r < rows; r++) sample[r] = r;
    return sample;
  }
  const random = new Random(seed);
  let chosen = 0;
  for (let r = 0; r < rows && chosen < m; r++) {
    if (random.next() * (rows - r) < m - chosen) sample[chosen++] = r;
  }
  return sample;
}

/**
 * Sorts float32 values ascending (−0 before +0): an LSD radix sort of their
 * bits mapped to order-preserving unsigned keys, three passes of 11 bits,
 * an order of magnitude faster than `TypedArray#sort` on large arrays.
 * @param keys - Scratch of at least `values.length`.
 * @param spare - Scratch of at least `values.length`.
 */
export function sortFloat32(values: Float32Array, keys: Uint32Array, spare: Uint32Array): void {
  const m = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, m);
  // Negative floats: flip every bit (larger magnitude, smaller key); positive: set the sign bit.
  for (let i = 0; i < m; i++) {
    const u = bits[i]!;
    keys[i] = u & 0x80000000 ? ~u : u | 0x80000000;
  }
  const counts = new Uint32Array(2048);
  let source = keys;
  let target = spare;
  for (let shift = 0; shift < 32; shift += 11) {
    counts.fill(0);
    for (let i = 0; i < m; i++) counts[(source[i]! >>> shift) & 2047]!++;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const count = counts[b]!;
      counts[b] = sum;
      sum += count;
    }
    for (let i = 0; i < m; i++) {
      const key = source[i]!;
      target[counts[(key >>> shift) & 2047]!++] = key;
    }
    const swap = source;
    source = target;
    target = swap;
  }
  for (let i = 0; i < m; i++) {
    const key = source[i]!;
    bits[i] = key & 0x80000000 ? key & 0x7fffffff : ~key;
  }
}

/** Cells per edge of the grid {@link binMatrix} looks bins up in. */
const CELLS_PER_EDGE = 4;
/** Longest run of edges in one grid cell scanned linearly; longer runs are bisected. */
const LINEAR_SCAN = 8;

/**
 * Bins `x` into bytes, column-major: the bin of element (r, c) is
 * `binned[c * rows + r]`. A quarter of the float32 matrix; the only copy of
 * the data training makes.
 *
 * A value's bin is the number of edges below it. Instead of bisecting all
 * edges, each feature gets a uniform grid over its edge range: the cell
 * `clamp(floor((v − first edge) · scale))` is monotone in `v`, so every edge in
 * an earlier cell is below `v` and every edge in a later one above it: only
 * the few edges in `v`'s own cell need comparing, and the result is exactly
 * what bisection gives.
 * @param into - Where to write the binned matrix (`rows × cols` bytes); default: a new array.
 */
export function binMatrix(x: Matrix, mapper: BinMapper, into?: Uint8Array): Uint8Array {
  const { rows, cols, data } = x;
  if (cols !== mapper.cols) throw new Error(`bins are for ${mapper.cols} features, the matrix has ${cols}`);
  if (into !== undefined && into.length !== rows * cols) throw new Error(`the binned matrix needs ${rows * cols} bytes, got ${into.length}`);
  for (let f = 0; f < cols; f++) if (binCount(mapper, f) > 256) throw new Error('more than 256 bins do not fit a byte');
  const { edges, offsets } = mapper;

  // The grid of every feature with two or more finite edges; others (cells 0) bisect.
  const origin = new Float64Array(cols);
  const scale = new Float64Array(cols);
  const cells = new Int32Array(cols);
  const firstCell = new Int32Array(cols);
  let totalCells = 0;
  for (let f = 0; f < cols; f++) {
    const lo = offsets[f]!;
    const hi = offsets[f + 1]!;
    const count = hi - lo;
    const range = edges[hi - 1]! - edges[lo]!;
    const cellCount = CELLS_PER_EDGE * count;
    if (count < 2 || !(range > 0) || !Number.isFinite(range) || !Number.isFinite(cellCount / range)) continue;
    origin[f] = edges[lo]!;
    scale[f] = cellCount / range;
    cells[f] = cellCount;
    firstCell[f] = totalCells;
    totalCells += cellCount + 1;
  }
  // cellStart[firstCell[f] + c]: index (into edges) of the first edge of feature f in a cell ≥ c.
  const cellStart = new Int32Array(totalCells);
  for (let f = 0; f < cols; f++) {
    const cellCount = cells[f]!;
    if (cellCount === 0) continue;
    const base = firstCell[f]!;
    let e = offsets[f]!;
    const hi = offsets[f + 1]!;
    for (let c = 0; c <= cellCount; c++) {
      while (e < hi && cellOf(edges[e]!, origin[f]!, scale[f]!, cellCount) < c) e++;
      cellStart[base + c] = e;
    }
  }

  const binned = into ?? new Uint8Array(rows * cols);
  // Row by row: one pass over the row-major input, `cols` sequential output streams.
  for (let r = 0, at = 0; r < rows; r++) {
    for (let f = 0; f < cols; f++, at++) {
      const v = data[at]!;
      const lo = offsets[f]!;
      const cellCount = cells[f]!;
      let i: number;
      if (cellCount === 0) i = lowerBound(edges, lo, offsets[f + 1]!, v);
      else {
        const cell = firstCell[f]! + cellOf(v, origin[f]!, scale[f]!, cellCount);
        i = cellStart[cell]!;
        const end = cellStart[cell + 1]!;
        if (end - i > LINEAR_SCAN) i = lowerBound(edges, i, end, v);
        else while (i < end && edges[i]! < v) i++;
      }
      binned[f * rows + r] = i - lo;
    }
  }
  return binned;
}

/** Grid cell of `v`: monotone non-decreasing in `v`, in 0 … cells − 1. */
function cellOf(v: number, origin: number, scale: number, cells: number): number {
  const cell = Math.floor((v - origin) * scale);
  return cell <= 0 ? 0 : cell >= cells ? cells - 1 : cell;
}
