import { describe, expect, it } from 'vitest';
import type { JobProgress, TrainingJob } from '../src/training/types.js';
import { outcomeLines, progressLine, watchJob } from './job-watch.js';

const at = '2026-12-03T10:00:00.000Z';
const job = (overrides: Partial<TrainingJob> = {}): TrainingJob => ({
  id: 'iris-gbdt~20261203100000000-0a1b2c3d',
  status: 'RUNNING',
  spec: {
    modelName: 'iris-gbdt',
    dataset: 'iris',
    datasetVersion: 1,
    target: 'species',
    features: ['petal_length'],
    task: 'classification',
    algorithm: 'gbdt',
    hyperparameters: {},
    seed: 1,
    alias: 'prod',
  },
  submittedBy: 'dev',
  trigger: 'api',
  attempts: 1,
  createdAt: at,
  updatedAt: at,
  ...overrides,
});
const progress = (stage: JobProgress['stage'], elapsedSeconds: number, extra: Partial<JobProgress> = {}): JobProgress => ({ stage, elapsedSeconds, updatedAt: at, ...extra });

describe('watchJob', () => {
  it('ends a succeeded job on its done stage, its version and its alias, never on "registering"', async () => {
    // Prepare
    const states = [
      job({ progress: progress('training', 1, { iteration: 3, maxIterations: 100, loss: 0.51234 }) }),
      job({ progress: progress('registering', 2) }),
      job({ status: 'SUCCEEDED', modelVersion: 2, metrics: { accuracy: 0.95, testRows: 24 }, progress: progress('done', 2.4) }),
    ];
    const lines: string[] = [];

    // Act
    const finished = await watchJob(async () => states.shift()!, (line) => lines.push(line), 0);

    // Assess
    expect(finished.status).toBe('SUCCEEDED');
    expect(lines).toEqual([
      'RUNNING · training · iteration 3/100 · loss 0.5123 · 1 s',
      'RUNNING · registering · 2 s',
      'SUCCEEDED · done · 2.4 s',
      "registered model 'iris-gbdt' version 2; alias 'prod' points to it",
      '  accuracy 0.9500, testRows 24',
    ]);
  });

  it('says when the alias was not moved, and why', () => {
    // Act
    const lines = outcomeLines(job({ status: 'SUCCEEDED', modelVersion: 3, aliasNotMoved: "alias 'prod' already serves a newer version", progress: progress('done', 5) }));

    // Assess
    expect(lines?.[0]).toBe("registered model 'iris-gbdt' version 3; alias 'prod' not moved: alias 'prod' already serves a newer version");
  });

  it('ends a failed or cancelled job on its status and reason, keeping the stage it stopped in', () => {
    // Prepare
    const failed = job({ status: 'FAILED', reason: 'only one class in the target', progress: progress('loading', 0.5) });
    const cancelled = job({ status: 'CANCELLED', reason: 'cancelled; its worker had stopped (no heartbeat for over 30 s)' });

    // Act / Assess
    expect(progressLine(failed)).toBe('FAILED · loading · 0.5 s');
    expect(outcomeLines(failed)).toEqual(['FAILED: only one class in the target']);
    expect(outcomeLines(cancelled)).toEqual(['CANCELLED: cancelled; its worker had stopped (no heartbeat for over 30 s)']);
    expect(outcomeLines(job())).toBeUndefined();
  });
});
