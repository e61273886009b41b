/**
 * Ingests one staged file, with no AWS in sight: prepare, convert, measure, judge. The caller
 * stages the object, uploads the outputs and records the dataset version.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { convert, withEngine, type EngineSettings } from './engine.js';
import { InvalidDataError } from './errors.js';
import { prepareSource } from './prepare-source.js';
import type { DatasetSchema, SchemaColumn } from './schema.js';
import type { SourceFormat } from './source-format.js';
import { columnStatistics, type ColumnStatistics } from './statistics.js';

/** What to ingest and under which rules. */
export interface FileIngestRequest {
  readonly sourcePath: string;
  /** The object key (its name helps tell JSON Lines from CSV). */
  readonly key: string;
  readonly sizeBytes: number;
  readonly declared?: DatasetSchema;
  /** Largest accepted share of rejected rows (0–1). */
  readonly rejectThreshold: number;
  readonly engine: EngineSettings;
}

/** The outcome of ingesting one file. */
export interface FileIngestResult {
  readonly status: 'READY' | 'FAILED';
  /** Why the version FAILED. */
  readonly reason?: string;
  readonly format?: SourceFormat;
  readonly gzip?: boolean;
  readonly rowsRead: number;
  readonly rowsAccepted: number;
  readonly rowsRejected: number;
  readonly schema?: { readonly columns: readonly SchemaColumn[]; readonly inferred: boolean };
  readonly statistics: readonly ColumnStatistics[];
  readonly notes: readonly string[];
  /** Local paths of the outputs, when there are any rows for them. */
  readonly curatedPath?: string;
  readonly rejectedPath?: string;
}

/** The result of a file that cannot be ingested as a whole. */
export function failedIngest(reason: string): FileIngestResult {
  return { status: 'FAILED', reason, rowsRead: 0, rowsAccepted: 0, rowsRejected: 0, statistics: [], notes: [] };
}

const percent = (share: number) => `${(share * 100).toFixed(1).replace(/\.0$/, '')} %`;

/** Ingests a staged file into `engine.workDir` (curated.parquet, rejected.jsonl). */
export async function ingestFile(request: FileIngestRequest): Promise<FileIngestResult> {
  const curatedPath = join(request.engine.workDir, 'curated.parquet');
  const rejectedPath = join(request.engine.workDir, 'rejected.jsonl');
  return withEngine(request.engine, async (engine) => {
    let prepared;
    try {
      prepared = await prepareSource(engine, request.sourcePath, request.key, request.sizeBytes, request.declared);
    } catch (error) {
      if (error instanceof InvalidDataError) return failedIngest(error.message);
      throw error;
    }
    const kept = prepared.plan.output.map((name) => ({ name, type: prepared.plan.source.find((c) => c.name === name)?.type ?? 'string' }));
    let counts;
    let statistics;
    try {
      counts = await convert(engine, { sourcePath: request.sourcePath, kind: prepared.kind, plan: prepared.plan, ...(prepared.dialect === undefined ? {} : { dialect: prepared.dialect }), curatedPath, rejectedPath }, request.engine);
      statistics = counts.rowsAccepted > 0 ? await columnStatistics(engine, curatedPath, kept) : [];
    } catch (error) {
      // The engine refusing this file would refuse it on every retry: a FAILED version, not a retry.
      // Operating-system errors (a full disk, a missing folder) carry a code and are retried.
      if ((error as NodeJS.ErrnoException).code !== undefined) throw error;
      return failedIngest(`the file could not be converted: ${String((error as Error).message).split('\n')[0] ?? ''}`);
    }
    const declared = new Map(request.declared?.columns.map((c) => [c.name, c]));
    const columns = kept.map((c) => ({ ...c, nullable: declared.get(c.name)?.nullable ?? statistics.find((s) => s.name === c.name)?.nullable ?? true }));
    const share = counts.rowsRead === 0 ? 0 : counts.rowsRejected / counts.rowsRead;
    const reason =
      counts.rowsRead === 0
        ? 'the file has no data rows'
        : share > request.rejectThreshold
          ? `${counts.rowsRejected} of ${counts.rowsRead} rows (${percent(share)}) were rejected; the dataset allows ${percent(request.rejectThreshold)} (see the rejected rows)`
          : undefined;
    return {
      status: reason === undefined ? 'READY' : 'FAILED',
      ...(reason === undefined ? {} : { reason }),
      format: prepared.kind.format,
      gzip: prepared.kind.gzip,
      ...counts,
      schema: { columns, inferred: prepared.inferred },
      statistics,
      notes: prepared.plan.notes,
      ...(counts.rowsAccepted > 0 ? { curatedPath } : {}),
      ...(counts.rowsRejected > 0 && (await exists(rejectedPath)) ? { rejectedPath } : {}),
    };
  });
}

const exists = (path: string) => stat(path).then(() => true, () => false);
