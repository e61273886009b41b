/**
 * Dense symmetric positive-definite solves (Cholesky) for the small systems the
 * trainers build: the `(p × p)` normal equations of ridge regression, where `p`
 * is the number of features. Float64 throughout, row-major `n × n` storage.
 */

/**
 * Factors the symmetric positive-definite matrix `a` (row-major `n × n`, only
 * the lower triangle is read) in place into its Cholesky factor `L` (lower
 * triangle, `a = L·Lᵀ`). Returns false, leaving `a` partly overwritten, when a
 * pivot is not positive (the matrix is singular or not positive definite).
 */
export function choleskyFactor(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    const rowJ = j * n;
    let pivot = a[rowJ + j]!;
    for (let k = 0; k < j; k++) pivot -= a[rowJ + k]! * a[rowJ + k]!;
    if (!(pivot > 0)) return false;
    const diagonal = Math.sqrt(pivot);
    a[rowJ + j] = diagonal;
    for (let i = j + 1; i < n; i++) {
      const rowI = i * n;
      let sum = a[rowI + j]!;
      for (let k = 0; k < j; k++) sum -= a[rowI + k]! * a[rowJ + k]!;
      a[rowI + j] = sum / diagonal;
    }
  }
  return true;
}

/** Solves `L·Lᵀ·x = b` in place (`b` becomes `x`) given the factor from {@link choleskyFactor}. */
export function choleskySolve(factor: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * n;
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= factor[row + k]! * b[k]!;
    b[i] = sum / factor[row + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let k = i + 1; k < n; k++) sum -= factor[k * n + i]! * b[k]!;
    b[i] = sum / factor[i * n + i]!;
  }
}

/**
 * Solves `a·x = b` for a symmetric positive semi-definite `a` (row-major `n × n`;
 * neither argument is modified). When `a` is singular — collinear or constant
 * features without a penalty — a ridge of `1e-12·trace/n`, growing tenfold per
 * attempt, is added to the diagonal until the factorisation succeeds, which picks
 * a (near) minimum-norm solution rather than failing.
 */
export function solveSymmetric(a: Float64Array, n: number, b: Float64Array): Float64Array {
  const work = new Float64Array(n * n);
  let trace = 0;
  for (let i = 0; i < n; i++) trace += Math.abs(a[i * n + i]!);
  const scale = n > 0 && trace > 0 ? trace / n : 1;
  for (let jitter = 0, attempt = 0; attempt < 16; attempt++, jitter = jitter === 0 ? 1e-12 * scale : jitter * 10) {
    work.set(a);
    for (let i = 0; i < n; i++) work[i * n + i]! += jitter;
    if (choleskyFactor(work, n)) {
      const x = Float64Array.from(b);
      choleskySolve(work, n, x);
      return x;
    }
  }
  throw new Error('the normal equations are not positive definite (non-finite features?)');
}
