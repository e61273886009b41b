/**
 * Data drop → new model version without a human: when a dataset version becomes READY and
 * the dataset's definition carries an auto-train spec, a training job is submitted for it.
 * The submission's idempotency key is the dataset version, so a redelivered ingest event
 * never starts a second job; a spec the version cannot satisfy (a missing target column, say)
 * is recorded on the version as refused instead of failing the ingestion.
 */
import { BadRequestError } from '../http/errors.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import type { AutoTrainOutcome } from '../lake/types.js';
import { resolveJobSpec, type TrainingLimits } from './job-request.js';
import { submitJob, type SubmitDeps } from './submit-job.js';

/** What auto-training needs. */
export interface AutoTrainDeps extends SubmitDeps {
  readonly datasets: DatasetStore;
  readonly limits: TrainingLimits;
}

/** Starts the auto-train job of a dataset version, if its dataset asks for one; `undefined` when it does not. */
export async function autoTrain(deps: AutoTrainDeps, dataset: string, version: number): Promise<AutoTrainOutcome | undefined> {
  const definition = await deps.datasets.getDataset(dataset);
  if (definition.autoTrain === undefined) return undefined;
  const ingested = await deps.datasets.getVersion(dataset, version);
  if (ingested.status !== 'READY') return undefined;
  if (ingested.autoTrain !== undefined) return ingested.autoTrain; // a redelivery: done already
  let outcome: AutoTrainOutcome;
  try {
    const spec = await resolveJobSpec(deps.datasets, { ...definition.autoTrain, dataset, datasetVersion: version }, deps.limits);
    const { job } = await submitJob(deps, spec, {
      submittedBy: `auto-train of dataset '${dataset}'`,
      trigger: 'auto-train',
      idempotencyKey: `auto-train:${dataset}:v${version}`,
    });
    outcome = { jobId: job.id };
  } catch (error) {
    if (!(error instanceof BadRequestError)) throw error;
    outcome = { refused: error.message };
  }
  await deps.datasets.recordAutoTrain(dataset, version, outcome);
  return outcome;
}
