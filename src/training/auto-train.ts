/**
 * Data drop → new model version without a human: when a dataset version becomes READY and
 * the dataset's definition carries an auto-train spec, a training job is submitted for it.
 * The submission's idempotency key is the dataset version, so a redelivered ingest event
 * never starts a second job; a spec the version cannot satisfy (a missing target column, say)
 * is recorded on the version as refused instead of failing the ingestion.
 */
import * as z from 'zod/mini';
import { InvalidRequestError, quote } from '../errors.js';
import { describeIssues } from '../validation/strict-parse.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import type { AutoTrainChecker, AutoTrainOutcome } from '../lake/types.js';
import { checkTrainingColumns, checkTrainingFields, resolveJobSpec, trainingFields, type ColumnLabels, type TrainingLimits } from './job-request.js';
import { submitJob, type SubmitDeps } from './submit-job.js';

/** An auto-train spec: the fields of a training request, without the dataset. */
const autoTrainFields = z.object(trainingFields);

/** How an auto-train spec's columns are named in messages. */
const AUTO_TRAIN_LABELS: ColumnLabels = { target: (name) => `autoTrain.target ${quote(name)}`, feature: (name) => `autoTrain.features entry ${quote(name)}` };

/**
 * The training context's rules for the auto-train spec of a dataset definition, checked when the
 * definition is saved: names, the algorithm for the task, hyperparameters, and the columns it
 * names when the definition declares a schema (else each READY version checks them).
 */
export const autoTrainChecker: AutoTrainChecker = {
  schema: autoTrainFields,
  check(spec, declared, dataset) {
    const fields = z.parse(autoTrainFields, spec);
    checkTrainingFields(fields);
    if (declared !== undefined) checkTrainingColumns(fields, declared, `the declared schema of dataset '${dataset}'`, AUTO_TRAIN_LABELS);
  },
};

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
    const fields = z.safeParse(autoTrainFields, definition.autoTrain);
    if (!fields.success) throw new InvalidRequestError(`the dataset's autoTrain spec is no longer valid: ${describeIssues(fields.error.issues)}`);
    const spec = await resolveJobSpec(deps.datasets, { ...fields.data, dataset, datasetVersion: version }, deps.limits);
    const { job } = await submitJob(deps, spec, {
      submittedBy: `auto-train of dataset '${dataset}'`,
      trigger: 'auto-train',
      idempotencyKey: `auto-train:${dataset}:v${version}`,
    });
    outcome = { jobId: job.id };
  } catch (error) {
    if (!(error instanceof InvalidRequestError)) throw error;
    outcome = { refused: error.message };
  }
  await deps.datasets.recordAutoTrain(dataset, version, outcome);
  return outcome;
}
