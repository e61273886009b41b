/**
 * Dataset items in the registry table (see README "Registry table"):
 *
 * | item            | pk                 | sk                        | gsi1pk     | gsi1sk |
 * | --------------- | ------------------ | ------------------------- | ---------- | ------ |
 * | dataset         | `DATASET#<name>`   | `#DATASET`                | `DATASETS` | name   |
 * | dataset version | `DATASET#<name>`   | `VERSION#<10-digit n>`    |            |        |
 * | version counter | `DATASET#<name>`   | `#VERSIONS`               |            |        |
 * | source claim    | `DATASET#<name>`   | `SOURCE#<sha256 of object>` |          |        |
 */
import { createHash } from 'node:crypto';
import type { SourceObject } from './types.js';


/** Partition key of a dataset's items. */
export const datasetPk = (name: string): string => `DATASET#${name}`;
/** Sort key of the dataset definition. */
export const DATASET_SK = '#DATASET';
/** Index partition shared by all dataset definitions. */
export const DATASETS_GSI_PK = 'DATASETS';
/** Sort key of the item whose `lastVersion` hands out version numbers (one atomic update each). */
export const VERSION_COUNTER_SK = '#VERSIONS';
/** Sort-key prefix of source claims. */
export const SOURCE_PREFIX = 'SOURCE#';

/**
 * Sort key of the claim on one S3 object version: the same object delivered twice maps to
 * the same claim. The S3 version id identifies it when the bucket is versioned, else the ETag and
 * the event's sequencer (S3 orders the writes of a key with it: a second upload of the same bytes
 * to the same key has another).
 */
export const sourceSk = (source: Pick<SourceObject, 'key' | 'eTag' | 'versionId' | 'sequencer'>): string =>
  `${SOURCE_PREFIX}${createHash('sha256')
    .update(`${source.key}\n${source.versionId ?? `${source.eTag}\n${source.sequencer ?? ''}`}`)
    .digest('hex')}`;
