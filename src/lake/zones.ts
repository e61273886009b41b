/**
 * The lake's zones: where users drop files, and where the platform writes what it makes of
 * them (README "Data lake").
 *
 * | zone          | keys                                         | written by            |
 * | ------------- | -------------------------------------------- | --------------------- |
 * | `raw/`        | `raw/<dataset>/<any file name>`              | users; never changed  |
 * | `curated/`    | `curated/<dataset>/v=<N>/part-00000.parquet` | ingest                |
 * | `rejected/`   | `rejected/<dataset>/v=<N>/rejected.jsonl`    | ingest                |
 * | `models/`     | `models/<name>/…`                            | uploads, training     |
 * | `predictions/`| `predictions/<model>/…`                      | batch and shadow      |
 */
import { InvalidRequestError, quote } from '../errors.js';

/** Prefix under which dropped files are ingested. */
export const RAW_PREFIX = 'raw/';

const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Whether a string is a valid dataset name: 1–128 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. */
export const isDatasetName = (name: string): boolean => DATASET_NAME.test(name);

/** Validates a dataset name (InvalidRequestError otherwise). */
export function assertDatasetName(name: string): string {
  if (!isDatasetName(name)) {
    throw new InvalidRequestError(`invalid dataset name ${quote(name)}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
  return name;
}

/** What a key under `raw/` means for ingestion. */
export type RawKey =
  | { readonly kind: 'file'; readonly dataset: string }
  /** A "folder" placeholder object (key ending in `/`), as consoles create: nothing to ingest. */
  | { readonly kind: 'folder' }
  | { readonly kind: 'refused'; readonly reason: string };

/** Reads the dataset a raw key belongs to: `raw/<dataset>/<file>`. */
export function parseRawKey(key: string): RawKey {
  if (!key.startsWith(RAW_PREFIX)) return { kind: 'refused', reason: `key '${key}' is not under ${RAW_PREFIX}` };
  if (key.endsWith('/')) return { kind: 'folder' };
  const rest = key.slice(RAW_PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return { kind: 'refused', reason: `key '${key}' names no dataset: drop files under ${RAW_PREFIX}<dataset>/` };
  const dataset = rest.slice(0, slash);
  if (!isDatasetName(dataset)) {
    return { kind: 'refused', reason: `key '${key}': '${dataset}' is not a valid dataset name (1-128 letters, digits, '.', '_' or '-')` };
  }
  return { kind: 'file', dataset };
}

/** Key of a dataset version's curated Parquet data. */
export const curatedKey = (dataset: string, version: number): string => `curated/${dataset}/v=${version}/part-00000.parquet`;

/** Key of a dataset version's rejected rows. */
export const rejectedKey = (dataset: string, version: number): string => `rejected/${dataset}/v=${version}/rejected.jsonl`;

/** Key of a file uploaded into a dataset's raw zone. */
export const rawKey = (dataset: string, fileName: string): string => `${RAW_PREFIX}${dataset}/${fileName}`;
