/**
 * Limited-memory BFGS for smooth unconstrained minimisation, with a strong-Wolfe
 * line search (Nocedal & Wright, algorithms 7.4, 3.5 and 3.6). Stopping rules
 * follow SciPy's L-BFGS-B as scikit-learn calls it: the largest gradient
 * component falls to `tolerance`, or the relative decrease of the objective
 * falls to `64·ε`, or `maxIterations` iterations have run.
 *
 * All vectors are preallocated Float64Arrays; an iteration allocates nothing.
 */

/**
 * The function to minimise: writes the gradient at `x` into `gradient` (every
 * element) and returns the value. Must not keep or modify `x`.
 */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

/** Reported after every iteration. */
export interface LbfgsIteration {
  /** 1-based iteration number. */
  readonly iteration: number;
  /** The new point: read it during the callback only, never keep or modify it. */
  readonly x: Float64Array;
  /** Objective value at the new point. */
  readonly value: number;
  /** Largest absolute gradient component at the new point. */
  readonly gradientNorm: number;
  /** True when this is the last iteration (converged, limit reached or no further progress). */
  readonly done: boolean;
}

/** Options of {@link minimizeLbfgs}. */
export interface LbfgsOptions {
  readonly maxIterations: number;
  /** Stop when `max |gradient_i| <= tolerance` (SciPy's `gtol`). */
  readonly tolerance: number;
  /** Correction pairs kept (SciPy's `maxcor`, default 10). */
  readonly memory?: number;
  /** Stop when `(f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= relativeDecrease` (default `64·ε`, as scikit-learn). */
  readonly relativeDecrease?: number;
  /** Objective evaluations allowed per line search (default 50, as scikit-learn). */
  readonly maxLineSearch?: number;
  /** Called after every iteration; may throw to abort the minimisation. */
  readonly onIteration?: (state: LbfgsIteration) => void;
}

/** Outcome of {@link minimizeLbfgs}. */
export interface LbfgsResult {
  /** The minimiser found (a fresh array). */
  readonly x: Float64Array;
  readonly value: number;
  readonly iterations: number;
  /** True when a tolerance was met, false when the iteration limit or a failed line search ended the run. */
  readonly converged: boolean;
}

const ARMIJO = 1e-4;
const CURVATURE = 0.9;

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function maxAbs(a: Float64Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]!);
    if (v > max || Number.isNaN(v)) max = v;
  }
  return max;
}

/** Minimiser of the cubic interpolating (a, fa, da) and (b, fb, db), clamped into the safeguarded interval. */
function interpolate(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const margin = 0.1 * (hi - lo);
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const radicand = d1 * d1 - da * db;
  let step = Number.NaN;
  if (radicand >= 0) {
    const d2 = Math.sign(b - a) * Math.sqrt(radicand);
    step = b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
  }
  if (!Number.isFinite(step)) step = (a + b) / 2;
  return Math.min(Math.max(step, lo + margin), hi - margin);
}

/**
 * Minimises `objective` from `x0` (not modified) with L-BFGS.
 * Throws whatever `onIteration` or `objective` throws.
 */
export function minimizeLbfgs(objective: Objective, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const memory = Math.max(1, options.memory ?? 10);
  const relativeDecrease = options.relativeDecrease ?? 64 * Number.EPSILON;
  const maxLineSearch = Math.max(1, options.maxLineSearch ?? 50);

  let x = Float64Array.from(x0);
  let gradient = new Float64Array(n);
  let trialX = new Float64Array(n);
  let trialGradient = new Float64Array(n);
  const direction = new Float64Array(n);
  const s = Array.from({ length: memory }, () => new Float64Array(n));
  const y = Array.from({ length: memory }, () => new Float64Array(n));
  const rho = new Float64Array(memory);
  const alpha = new Float64Array(memory);
  let pairs = 0;
  let newest = -1;

  let value = objective(x, gradient);
  if (!Number.isFinite(value)) throw new Error('the objective is not finite at the starting point');
  if (maxAbs(gradient) <= options.tolerance) return { x, value, iterations: 0, converged: true };

  /** Evaluates the objective at x + step·direction into trialX/trialGradient. */
  const evaluate = (step: number): number => {
    for (let i = 0; i < n; i++) trialX[i] = x[i]! + step * direction[i]!;
    return objective(trialX, trialGradient);
  };

  /**
   * Strong-Wolfe line search. On success trialX/trialGradient hold the accepted
   * point and its value is returned; NaN when no acceptable step was found.
   */
  const lineSearch = (initialStep: number, slope0: number): number => {
    let previousStep = 0;
    let previousValue = value;
    let previousSlope = slope0;
    let step = initialStep;
    let evaluations = 0;
    let lo = 0;
    let hi = 0;
    let valueLo = value;
    let slopeLo = slope0;
    let valueHi = value;
    let slopeHi = slope0;
    let bracketed = false;
    while (evaluations < maxLineSearch) {
      const f = evaluate(step);
      evaluations++;
      const slope = dot(trialGradient, direction);
      if (!Number.isFinite(f) || f > value + ARMIJO * step * slope0 || (evaluations > 1 && f >= previousValue)) {
        lo = previousStep;
        valueLo = previousValue;
        slopeLo = previousSlope;
        hi = step;
        valueHi = Number.isFinite(f) ? f : Number.MAX_VALUE;
        slopeHi = Number.isFinite(slope) ? slope : 0;
        bracketed = true;
        break;
      }
      if (Math.abs(slope) <= -CURVATURE * slope0) return f;
      if (slope >= 0) {
        lo = step;
        valueLo = f;
        slopeLo = slope;
        hi = previousStep;
        valueHi = previousValue;
        slopeHi = previousSlope;
        bracketed = true;
        break;
      }
      previousStep = step;
      previousValue = f;
      previousSlope = slope;
      step *= 4;
    }
    if (!bracketed) return Number.NaN;
    // Zoom: lo always satisfies the sufficient-decrease condition and has the lowest value seen.
    while (evaluations < maxLineSearch && Math.abs(hi - lo) > 1e-16 * Math.max(1, Math.abs(lo))) {
      const trial = interpolate(lo, valueLo, slopeLo, hi, valueHi, slopeHi);
      const f = evaluate(trial);
      evaluations++;
      const slope = dot(trialGradient, direction);
      if (!Number.isFinite(f) || f > value + ARMIJO * trial * slope0 || f >= valueLo) {
        hi = trial;
        valueHi = Number.isFinite(f) ? f : Number.MAX_VALUE;
        slopeHi = Number.isFinite(slope) ? slope : 0;
        continue;
      }
      if (Math.abs(slope) <= -CURVATURE * slope0) return f;
      if (slope * (hi - lo) >= 0) {
        hi = lo;
        valueHi = valueLo;
        slopeHi = slopeLo;
      }
      lo = trial;
      valueLo = f;
      slopeLo = slope;
    }
    // No strong-Wolfe point within budget: settle for the best sufficient-decrease point, if any.
    if (lo > 0 && valueLo < value) return evaluate(lo);
    return Number.NaN;
  };

  let iteration = 0;
  let converged = false;
  while (iteration < options.maxIterations) {
    iteration++;
    // Two-loop recursion: direction = -H·gradient.
    for (let i = 0; i < n; i++) direction[i] = -gradient[i]!;
    for (let k = 0, j = newest; k < pairs; k++, j = (j - 1 + memory) % memory) {
      alpha[j] = rho[j]! * dot(s[j]!, direction);
      const yj = y[j]!;
      const a = alpha[j]!;
      for (let i = 0; i < n; i++) direction[i]! -= a * yj[i]!;
    }
    if (pairs > 0) {
      const yNewest = y[newest]!;
      const gamma = dot(s[newest]!, yNewest) / dot(yNewest, yNewest);
      for (let i = 0; i < n; i++) direction[i]! *= gamma;
    }
    for (let k = 0, j = (newest - pairs + 1 + memory) % memory; k < pairs; k++, j = (j + 1) % memory) {
      const beta = rho[j]! * dot(y[j]!, direction);
      const sj = s[j]!;
      const d = alpha[j]! - beta;
      for (let i = 0; i < n; i++) direction[i]! += d * sj[i]!;
    }
    let slope0 = dot(gradient, direction);
    if (!(slope0 < 0)) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      pairs = 0;
      for (let i = 0; i < n; i++) direction[i] = -gradient[i]!;
      slope0 = dot(gradient, direction);
    }
    // First step of a fresh memory: unit length, as L-BFGS-B.
    const initialStep = pairs === 0 ? Math.min(1, 1 / Math.sqrt(-slope0)) : 1;
    const newValue = lineSearch(initialStep, slope0);
    if (Number.isNaN(newValue)) {
      if (pairs > 0) {
        // Retry once from steepest descent before giving up.
        pairs = 0;
        iteration--;
        continue;
      }
      options.onIteration?.({ iteration, x, value, gradientNorm: maxAbs(gradient), done: true });
      break;
    }

    // Store the correction pair (s, y) = (x⁺ - x, g⁺ - g) when the curvature is positive.
    const slot = (newest + 1) % memory;
    const sSlot = s[slot]!;
    const ySlot = y[slot]!;
    for (let i = 0; i < n; i++) {
      sSlot[i] = trialX[i]! - x[i]!;
      ySlot[i] = trialGradient[i]! - gradient[i]!;
    }
    const curvature = dot(sSlot, ySlot);
    if (curvature > Number.EPSILON * dot(ySlot, ySlot)) {
      rho[slot] = 1 / curvature;
      newest = slot;
      pairs = Math.min(pairs + 1, memory);
    }

    const decrease = (value - newValue) / Math.max(Math.abs(value), Math.abs(newValue), 1);
    [x, trialX] = [trialX, x];
    [gradient, trialGradient] = [trialGradient, gradient];
    value = newValue;
    const gradientNorm = maxAbs(gradient);
    converged = gradientNorm <= options.tolerance || decrease <= relativeDecrease;
    const done = converged || iteration >= options.maxIterations;
    options.onIteration?.({ iteration, x, value, gradientNorm, done });
    if (converged) break;
  }
  return { x, value, iterations: iteration, converged };
}
