import { describe, expect, it } from 'vitest';
import { loadStreamScoring } from './scoring-config.js';

describe('loadStreamScoring', () => {
  it('reads the model, alias and threshold', () => {
    const scoring = { model: 'fraud', alias: 'prod', threshold: { output: 'probabilities', index: 1, above: 0.9 } };
    expect(loadStreamScoring({ STREAM_SCORING: JSON.stringify(scoring) })).toEqual(scoring);
  });

  it('names the variable when it is missing, not JSON or incomplete', () => {
    expect(() => loadStreamScoring({})).toThrow(/STREAM_SCORING is not set/);
    expect(() => loadStreamScoring({ STREAM_SCORING: '{' })).toThrow(/STREAM_SCORING is not JSON/);
    expect(() => loadStreamScoring({ STREAM_SCORING: '{"model":"fraud"}' })).toThrow(/STREAM_SCORING: alias/);
  });
});
