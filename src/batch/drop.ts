/**
 * Drop-to-score: a file put under `batch/<model>/<file>` (the model's default alias) or
 * `batch/<model>/<alias or version>/<file>` starts a job over it, with the defaults of a request
 * (Parquet output into `<model>-predictions`, every non-feature column passed through).
 */
import type { CreatedObject } from '../aws/s3-event.js';
import { quote } from '../errors.js';
import { resolveBatchJob } from './job-request.js';
import { newBatchJobId, type BatchJobStore } from './job-store.js';

/** Prefix under which dropped files start jobs. */
export const BATCH_DROP_PREFIX = 'batch/';

/** Who a dropped job is submitted by. */
export const DROP_SUBMITTER = 's3-drop';

/** The model and version selector a drop key names, or why it names none. */
export function parseDropKey(key: string): { readonly model: string; readonly version?: string } | { readonly refused: string } {
  const parts = key.slice(BATCH_DROP_PREFIX.length).split('/');
  if (!key.startsWith(BATCH_DROP_PREFIX) || parts.length < 2 || parts.length > 3 || parts.some((part) => part === '')) {
    return { refused: `key ${quote(key)} is not ${BATCH_DROP_PREFIX}<model>/<file> nor ${BATCH_DROP_PREFIX}<model>/<alias or version>/<file>` };
  }
  return parts.length === 2 ? { model: parts[0]! } : { model: parts[0]!, version: parts[1]! };
}

/** Creates (once per dropped object) the job a drop starts; its id, or why the drop starts none. */
export async function jobForDrop(
  jobs: BatchJobStore,
  object: CreatedObject,
  now: Date,
): Promise<{ readonly jobId: string; readonly created: boolean } | { readonly refused: string }> {
  const target = parseDropKey(object.key);
  if ('refused' in target) return target;
  const id = await jobs.claimDrop(`${object.key}\n${object.versionId ?? `${object.eTag}\n${object.sequencer ?? ''}`}`, newBatchJobId(now));
  const job = await resolveBatchJob(
    undefined,
    { model: target.model, ...(target.version === undefined ? {} : { version: target.version }), input: { key: object.key } },
    { id, submittedBy: DROP_SUBMITTER, trigger: 'drop' },
  );
  const { created } = await jobs.create(job);
  return { jobId: id, created };
}
