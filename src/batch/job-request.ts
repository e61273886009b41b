/**
 * What a batch job request may say, resolved into a job before anything is queued: every check
 * that can fail here refuses with an InvalidRequestError (or NotFoundError) naming the problem.
 */
import * as z from 'zod/mini';
import { InvalidRequestError, quote } from '../errors.js';
import type { DatasetStore } from '../lake/dataset-store.js';
import { assertDatasetName } from '../lake/zones.js';
import { assertModelName, parseVersionSelector } from '../registry/names.js';
import type { NewBatchJob } from './job-store.js';
import { CHUNK_ROWS_RANGE, DEFAULT_CHUNK_ROWS } from './chunk-plan.js';
import { jobOutputPrefix } from './output.js';
import { collidesWithPrediction, PREDICTION_COLUMN } from './prediction-columns.js';
import type { BatchInput, BatchJob } from './types.js';

/** Lake zones a job may read a file from: drops (`raw/`, `batch/`) and curated data. */
export const INPUT_PREFIXES = ['raw/', 'batch/', 'curated/'] as const;

const column = z.string().check(z.minLength(1), z.maxLength(256));

/** Most UTF-8 bytes of an S3 object key. */
export const MAX_KEY_BYTES = 1024;

/** What `input` and `version` must be, said when they are not. */
const INPUT_EXPECTED = 'expected {"key": "raw/…"} (a file under raw/, batch/ or curated/) or {"dataset": "<name>", "version": <n>}';
const VERSION_EXPECTED = 'expected an alias name or a version number';

/** The body of `POST /batch-jobs`. */
export const batchJobRequestSchema = z.strictObject({
  model: z.string(),
  /** An alias or a version number; none: the model's default alias. */
  version: z.optional(z.union([z.string(), z.number()], { error: VERSION_EXPECTED })),
  input: z.union([z.strictObject({ dataset: z.string(), version: z.number().check(z.int(), z.positive()) }), z.strictObject({ key: z.string().check(z.minLength(1)) })], { error: INPUT_EXPECTED }),
  format: z.optional(z.enum(['parquet', 'jsonl'])),
  passThrough: z.optional(z.array(column).check(z.maxLength(100))),
  outputDataset: z.optional(z.string()),
  chunkRows: z.optional(z.number().check(z.int(), z.minimum(CHUNK_ROWS_RANGE.min), z.maximum(CHUNK_ROWS_RANGE.max))),
});

/** A parsed `POST /batch-jobs` body. */
export type BatchJobRequest = z.infer<typeof batchJobRequestSchema>;

/** The dataset a model's predictions go to unless the request names one. */
export const defaultOutputDataset = (model: string): string => `${model}-predictions`;

/**
 * Checks a file key: in a zone jobs read, not a folder, within S3's 1,024 UTF-8 bytes, and with no
 * `.`, `..` or empty path segment (S3 keeps them literally, but tools and emulators resolve them,
 * so `raw/../models/…` would escape the zone and `raw/./credit/…` name the input's own dataset).
 */
function assertInputKey(key: string): string {
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_KEY_BYTES) throw new InvalidRequestError(`invalid input key ${quote(key)}: ${bytes} UTF-8 bytes, over S3's ${MAX_KEY_BYTES}`);
  if (key.split('/').some((segment, i, all) => (segment === '' && i < all.length - 1) || segment === '.' || segment === '..')) {
    throw new InvalidRequestError(`invalid input key ${quote(key)}: a key has no '.', '..' or empty path segment; name the file by its plain key`);
  }
  if (!INPUT_PREFIXES.some((prefix) => key.startsWith(prefix)) || key.endsWith('/')) {
    throw new InvalidRequestError(`invalid input key ${quote(key)}: name a file under ${INPUT_PREFIXES.join(', ')}`);
  }
  return key;
}

/** Pass-through columns must not collide with the prediction's columns. */
function assertPassThrough(columns: readonly string[]): readonly string[] {
  const clash = columns.find(collidesWithPrediction);
  if (clash !== undefined) throw new InvalidRequestError(`pass-through column ${quote(clash)} would collide with the prediction's columns ('${PREDICTION_COLUMN}', '${PREDICTION_COLUMN}_…')`);
  if (new Set(columns).size !== columns.length) throw new InvalidRequestError('pass-through columns must be unique');
  return columns;
}

/** A job's input: a dataset version must be READY (its curated Parquet is what is scored). */
async function resolveInput(datasets: Pick<DatasetStore, 'getVersion'> | undefined, input: BatchJobRequest['input']): Promise<BatchInput> {
  if ('key' in input) return { kind: 'file', key: assertInputKey(input.key) };
  if (datasets === undefined) throw new InvalidRequestError('this job names a file only; it cannot read datasets');
  const dataset = assertDatasetName(input.dataset);
  const version = await datasets.getVersion(dataset, input.version);
  const key = version.curatedKeys?.[0];
  if (version.status !== 'READY' || key === undefined) {
    throw new InvalidRequestError(`dataset ${quote(dataset)} version ${input.version} is ${version.status}: only READY versions can be scored`);
  }
  return { kind: 'dataset', dataset, version: input.version, key };
}

/** The lake dataset an input belongs to: a dataset version's, or the dataset of a `raw/<dataset>/…` or `curated/<dataset>/…` file. */
function datasetOfInput(input: BatchInput): string | undefined {
  if (input.kind === 'dataset') return input.dataset;
  const [zone, dataset] = input.key.split('/');
  return zone === 'raw' || zone === 'curated' ? dataset : undefined;
}

/** Resolves a request into a new job with id `id` (`datasets` reads the dataset version it may name). */
export async function resolveBatchJob(
  datasets: Pick<DatasetStore, 'getVersion'> | undefined,
  request: BatchJobRequest,
  origin: { readonly id: string; readonly submittedBy: string; readonly trigger: BatchJob['trigger'] },
): Promise<NewBatchJob> {
  const model = assertModelName(request.model);
  const selector = request.version === undefined ? undefined : String(request.version);
  if (selector !== undefined) parseVersionSelector(selector);
  const outputDataset = assertDatasetName(request.outputDataset ?? defaultOutputDataset(model));
  const input = await resolveInput(datasets, request.input);
  const inputDataset = datasetOfInput(input);
  if (inputDataset === outputDataset) {
    throw new InvalidRequestError(`the output dataset ${quote(outputDataset)} is the input's own dataset: its next version would be the predictions, not the data; name another outputDataset`);
  }
  return {
    id: origin.id,
    model,
    ...(selector === undefined ? {} : { selector }),
    input,
    format: request.format ?? 'parquet',
    ...(request.passThrough === undefined ? {} : { passThrough: assertPassThrough(request.passThrough) }),
    output: { dataset: outputDataset, prefix: jobOutputPrefix(model, origin.id) },
    chunkRows: request.chunkRows ?? DEFAULT_CHUNK_ROWS,
    trigger: origin.trigger,
    submittedBy: origin.submittedBy,
  };
}
