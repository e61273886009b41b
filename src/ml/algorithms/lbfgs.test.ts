import { describe, expect, it } from 'vitest';
import { minimizeLbfgs, type LbfgsIteration, type Objective } from './lbfgs.js';

const rosenbrock: Objective = (x, gradient) => {
  const [a, b] = [x[0]!, x[1]!];
  gradient[0] = -2 * (1 - a) - 400 * a * (b - a * a);
  gradient[1] = 200 * (b - a * a);
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};

describe('minimizeLbfgs', () => {
  it('minimises the Rosenbrock function', () => {
    const result = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIterations: 500, tolerance: 1e-9 });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 5);
    expect(result.x[1]).toBeCloseTo(1, 5);
  });

  it('solves an ill-conditioned quadratic in a few iterations', () => {
    const scales = [1, 10, 100, 1000, 1e4];
    const quadratic: Objective = (x, gradient) => {
      let value = 0;
      for (let i = 0; i < x.length; i++) {
        const d = x[i]! - i;
        value += 0.5 * scales[i]! * d * d;
        gradient[i] = scales[i]! * d;
      }
      return value;
    };
    const result = minimizeLbfgs(quadratic, new Float64Array(5), { maxIterations: 100, tolerance: 1e-8 });
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(40);
    [...result.x].forEach((v, i) => expect(v).toBeCloseTo(i, 6));
  });

  it('reports every iteration, marks the last, and stops at maxIterations', () => {
    const seen: LbfgsIteration[] = [];
    const result = minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), {
      maxIterations: 5,
      tolerance: 1e-12,
      onIteration: (state) => seen.push({ ...state, x: Float64Array.from(state.x) }),
    });
    expect(result.iterations).toBe(5);
    expect(result.converged).toBe(false);
    expect(seen.map((s) => s.iteration)).toEqual([1, 2, 3, 4, 5]);
    expect(seen.map((s) => s.done)).toEqual([false, false, false, false, true]);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.value).toBeLessThan(seen[i - 1]!.value);
    expect([...seen[4]!.x]).toEqual([...result.x]);
  });

  it('returns at once from a stationary start and propagates errors from the callback', () => {
    const flat: Objective = (_x, gradient) => {
      gradient.fill(0);
      return 3;
    };
    expect(minimizeLbfgs(flat, new Float64Array(2), { maxIterations: 10, tolerance: 1e-6 })).toMatchObject({ iterations: 0, converged: true, value: 3 });
    const abort = (): never => {
      throw new Error('abort');
    };
    expect(() => minimizeLbfgs(rosenbrock, Float64Array.of(0, 0), { maxIterations: 10, tolerance: 1e-9, onIteration: abort })).toThrow('abort');
  });
});
