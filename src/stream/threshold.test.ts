import { describe, expect, it } from 'vitest';
import { crossing, scoreOf } from './threshold.js';

describe('scoreOf', () => {
  it('reads an element of a named output of a prediction with several outputs', () => {
    expect(scoreOf({ label: 1, probabilities: [0.05, 0.95] }, { output: 'probabilities', index: 1, above: 0.9 })).toBe(0.95);
  });

  it('reads the prediction itself, or its element, for a model with one output', () => {
    expect(scoreOf(0.7, { above: 0.5 })).toBe(0.7);
    expect(scoreOf([0.1, 0.9], { index: 0, above: 0.5 })).toBe(0.1);
  });

  it('has no score when the output, the element or a number is missing', () => {
    expect(scoreOf({ label: 1 }, { output: 'probabilities', index: 1, above: 0.9 })).toBeUndefined();
    expect(scoreOf({ probabilities: [0.1] }, { output: 'probabilities', index: 3, above: 0.9 })).toBeUndefined();
    expect(scoreOf({ probabilities: ['x', 'y'] }, { output: 'probabilities', index: 1, above: 0.9 })).toBeUndefined();
    expect(scoreOf([0.1], { output: 'probabilities', above: 0.9 })).toBeUndefined();
  });
});

describe('crossing', () => {
  it('is the score only when it is strictly above the rule', () => {
    const rule = { output: 'p', index: 0, above: 0.9 };
    expect(crossing({ p: [0.91] }, rule)).toBe(0.91);
    expect(crossing({ p: [0.9] }, rule)).toBeUndefined();
    expect(crossing({ p: [0.2] }, rule)).toBeUndefined();
  });
});
