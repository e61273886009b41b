import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { ALGORITHMS } from './algorithms/index.js';
import { TrainingFailedError } from './errors.js';
import type { PipelineInput, PipelineProgress } from './pipeline.js';
import { Random } from './random.js';
import { startTrainingThread } from './training-thread.js';

function input(rows: number): PipelineInput {
  const random = new Random(5);
  const x = Array.from({ length: rows }, () => random.normal());
  const y = x.map((v) => (v + 0.5 * random.normal() > 0 ? 'a' : 'b'));
  return {
    spec: {
      modelName: 'm',
      target: 'y',
      features: ['x'],
      task: 'classification',
      algorithm: 'gbdt',
      hyperparameters: ALGORITHMS.gbdt.parameters.parse({ maxIterations: 200, earlyStopping: false }) as Record<string, unknown>,
      seed: 1,
    },
    featureKinds: new Map([['x', 'numeric']]),
    files: [parquetWriteBuffer({ columnData: [{ name: 'x', data: x, type: 'DOUBLE' }, { name: 'y', data: y, type: 'STRING' }] })],
    metadata: {},
  };
}

describe('startTrainingThread', () => {
  it('trains and exports on the thread, handing back the model and what verifying it needs', async () => {
    // Act
    const stages: string[] = [];
    const artifact = await startTrainingThread(input(500), (p: PipelineProgress) => {
      if (stages.at(-1) !== p.stage) stages.push(p.stage);
    }).result;

    // Assess
    expect(stages).toEqual(['loading', 'training', 'refitting', 'evaluating', 'exporting']);
    expect(artifact.onnx.byteLength).toBeGreaterThan(0);
    expect(artifact.check.columns[0]!.values.length).toBe(artifact.metrics.testRows);
    expect(artifact.check.expected.length).toBe(2 * artifact.metrics.testRows!);
  });

  it.each([0, 30, 100, 300, 1000])('can be stopped %i ms in, whatever stage it is at, with the given reason', async (delay) => {
    // Prepare
    const run = startTrainingThread(input(20_000), () => {});
    const reason = new Error(`stopped after ${delay} ms`);

    // Act
    await new Promise((resolve) => setTimeout(resolve, delay));
    run.stop(reason);
    const outcome = await run.result.then(
      () => 'finished',
      (error: unknown) => error,
    );

    // Assess: it either finished before the stop or ends with the stop's reason; the process lives on.
    expect(outcome === 'finished' || outcome === reason).toBe(true);
  });

  it('reports a failure on the thread as a job failure, not a transient error', async () => {
    // Prepare: a feature the data does not have.
    const broken = { ...input(100), spec: { ...input(100).spec, features: ['nope'] }, featureKinds: new Map([['nope', 'numeric' as const]]) };

    // Act
    const failing = startTrainingThread(broken, () => {}).result;

    // Assess
    await expect(failing).rejects.toThrowError(TrainingFailedError);
  });
});
