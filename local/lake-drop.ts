/**
 * What `npm run lake -- drop` makes of a dataset's versions after its upload: which version the
 * dropped file became (a new one, or the latest one when it had the same bytes), and the report
 * it prints, auto-train job included.
 */
import type { DatasetVersion } from '../src/lake/types.js';

/** How many duplicate drops each version had before the upload (version number → count). */
export type DropSnapshot = ReadonlyMap<number, number>;

/** The versions' duplicate-drop counts, taken before the upload. */
export function snapshotOf(versions: readonly DatasetVersion[]): DropSnapshot {
  return new Map(versions.map((v) => [v.version, v.duplicateDrops ?? 0]));
}

/** What a drop became: a new version, or a duplicate of the version whose source had the same bytes. */
export interface DropOutcome {
  readonly kind: 'new' | 'duplicate';
  readonly version: DatasetVersion;
}

/** The uploaded object: its key and ETag (unquoted). */
export interface DroppedObject {
  readonly key: string;
  readonly eTag: string;
}

const finished = (v: DatasetVersion) => v.status === 'READY' || v.status === 'FAILED';

/**
 * The finished version the drop became, or `undefined` while there is none yet: a version of the
 * object that did not exist before the upload, or a version that recorded one more duplicate drop
 * of it than before.
 */
export function dropOutcome(versions: readonly DatasetVersion[], before: DropSnapshot, dropped: DroppedObject): DropOutcome | undefined {
  const isDropped = (source: { key: string; eTag: string } | undefined) => source?.key === dropped.key && source.eTag === dropped.eTag;
  const created = versions.find((v) => !before.has(v.version) && isDropped(v.source));
  if (created !== undefined) return finished(created) ? { kind: 'new', version: created } : undefined;
  const duplicated = versions.find((v) => (v.duplicateDrops ?? 0) > (before.get(v.version) ?? 0) && isDropped(v.lastDuplicateDrop?.source));
  return duplicated !== undefined && finished(duplicated) ? { kind: 'duplicate', version: duplicated } : undefined;
}

/**
 * Whether the report must wait for the auto-train outcome: the dataset has an auto-train spec and
 * the version is READY, but what auto-train did is not recorded yet.
 */
export const awaitsAutoTrain = (version: DatasetVersion, datasetAutoTrains: boolean): boolean =>
  datasetAutoTrains && version.status === 'READY' && version.autoTrain === undefined;

/** The lines `drop` prints about the version a drop became. */
export function dropReport({ kind, version: v }: DropOutcome): string {
  const lines = [
    ...(kind === 'duplicate'
      ? [`duplicate of version ${v.version}: the file has the same bytes as that version's source (${v.source.key}) under the same dataset definition; no new version was made`]
      : []),
    `dataset '${v.dataset}' version ${v.version}: ${v.status}${v.reason === undefined ? '' : ` (${v.reason})`}`,
    `  rows: ${v.rowsRead ?? 0} read, ${v.rowsAccepted ?? 0} accepted, ${v.rowsRejected ?? 0} rejected`,
    ...(v.schema === undefined ? [] : [`  schema${v.schema.inferred ? ' (inferred)' : ''}: ${v.schema.columns.map((c) => `${c.name}:${c.type}${c.nullable ? '?' : ''}`).join(', ')}`]),
    ...(v.curatedKeys ?? []).map((k) => `  curated: ${k}`),
    ...(v.rejectedKey === undefined ? [] : [`  rejected rows: ${v.rejectedKey}`]),
    ...(v.notes ?? []).map((n) => `  note: ${n}`),
    ...autoTrainLines(v, kind),
    `  details: GET /datasets/${v.dataset}/versions/${v.version}  preview: GET /datasets/${v.dataset}/versions/${v.version}/preview`,
  ];
  return lines.join('\n');
}

function autoTrainLines(v: DatasetVersion, kind: DropOutcome['kind']): string[] {
  const outcome = v.autoTrain;
  if (outcome === undefined) return [];
  if ('refused' in outcome) return [`  auto-train refused: ${outcome.refused}`];
  const started = kind === 'duplicate' ? `training job ${outcome.jobId} (started for version ${v.version}; no new job)` : `started training job ${outcome.jobId}`;
  return [`  auto-train: ${started}; watch it: npm run lake -- watch ${outcome.jobId}  (GET /jobs/${outcome.jobId})`];
}
