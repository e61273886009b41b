/**
 * The shadow function's work per `shadow-requests/` object: each copy it holds is answered by
 * the alias's shadow version, in the protocol of the original request; both answers are written
 * side by side under `predictions/<model>/shadow/<alias>/…` and their comparison is added to the
 * alias's counters (see shadow-copy.ts for the keys, shadow-compare.ts for the comparison).
 *
 * The shadow version answers through the same backends as the predict function (ONNX in this
 * container, or its SageMaker endpoint behind this container's circuit breaker). A shadow version
 * that cannot answer (a different signature, an unknown version, an artifact that does not load, a
 * SageMaker endpoint that is not ready or whose breaker is open) is the shadow's failure, recorded
 * with the copy. Only transient failures of the platform's own dependencies (throttling, outages)
 * throw, so the object is redelivered; a redelivery writes the same objects again and is not
 * counted twice.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { callDependency } from '../aws/dependency-errors.js';
import { DependencyUnavailableError } from '../errors.js';
import type { Backend, ServedModel } from '../inference/backend.js';
import { BackendUnavailableError } from '../inference/backend-errors.js';
import { predict } from '../inference/v1-protocol.js';
import { infer, parseInferRequest } from '../inference/v2-protocol.js';
import { assertAliasName, assertModelName } from '../registry/names.js';
import type { ModelVersion, TensorSpec } from '../registry/types.js';
import { addCounts, compareAnswers, NO_COMPARISON, type ComparisonCounts } from './shadow-compare.js';
import { minuteOf, type ShadowComparisons, type ShadowCounters, type ShadowGroup } from './shadow-comparisons.js';
import { SHADOW_REQUESTS_PREFIX } from '../../topology/storage-layout.js';
import { parseShadowCopy, shadowPredictionsKey, type ShadowCopy } from '../inference/telemetry/shadow-copy.js';

/** What the shadow worker needs. */
export interface ShadowWorkerDeps {
  readonly s3: S3Client;
  readonly registry: { getVersion(model: string, version: number): Promise<ModelVersion> };
  /** What answers a version, whatever serves it: the same backends as the predict function (`ServingBackends`). */
  readonly backend: Backend;
  readonly comparisons: Pick<ShadowComparisons, 'add'>;
  /** The lake bucket: objects in any other bucket are ignored. @default any bucket */
  readonly lakeBucket?: string;
}

/** A line of the object that held no usable copy. */
export interface SkippedLine {
  /** 1-based line number. */
  readonly line: number;
  readonly reason: string;
}

/** What became of one object. */
export type ShadowObjectOutcome =
  | { readonly kind: 'ignored'; readonly reason: string }
  | {
      readonly kind: 'compared';
      readonly model: string;
      /** Copies answered by a shadow version (or failed to be). */
      readonly copies: number;
      readonly shadowErrors: number;
      readonly skipped: readonly SkippedLine[];
      /** Keys of the side-by-side records written, one per alias. */
      readonly written: readonly string[];
      /** Counter items added to, and those that already held this object's counts (a redelivery). */
      readonly counted: number;
      readonly alreadyCounted: number;
    };

/** The shadow version's side of a record: its answer or why it gave none. */
export type ShadowAnswer = { readonly version: number; readonly response: unknown } | { readonly version: number; readonly error: string };

/** One line of the `predictions/…/shadow/…` objects. */
export interface ShadowRecord {
  readonly requestId: string;
  readonly at: string;
  readonly request: unknown;
  readonly primary: ShadowCopy['primary'];
  readonly shadow: ShadowAnswer;
  readonly comparison: ComparisonCounts;
}

/** A per-object cache of lookups, failures included (a version that fails to load fails once). */
function memo<K, T>(compute: (key: K) => Promise<T>): (key: K) => Promise<T> {
  const results = new Map<K, Promise<T>>();
  return (key) => {
    let result = results.get(key);
    if (result === undefined) {
      result = compute(key);
      results.set(key, result);
    }
    return result;
  };
}

/** The model a `shadow-requests/<model>/…` key belongs to, if the key is one. */
function modelOfKey(key: string): string | undefined {
  if (!key.startsWith(SHADOW_REQUESTS_PREFIX)) return undefined;
  const [model, ...rest] = key.slice(SHADOW_REQUESTS_PREFIX.length).split('/');
  try {
    return rest.length > 0 && rest.at(-1) !== '' ? assertModelName(model!) : undefined;
  } catch {
    return undefined;
  }
}

/** The object's text, or `undefined` when it no longer exists. */
async function readObject(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    return await callDependency('the lake', async () => {
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await object.Body?.transformToString('utf8')) ?? '';
    });
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
}

/** The copies of an object's lines, and the lines that held none. */
function parseLines(text: string, model: string): { copies: ShadowCopy[]; skipped: SkippedLine[] } {
  const copies: ShadowCopy[] = [];
  const skipped: SkippedLine[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const copy = parseShadowCopy(line);
      if (copy.model !== model) throw new Error(`the copy is of model '${copy.model}', not '${model}'`);
      assertAliasName(copy.alias);
      for (const version of [copy.primary.version, copy.shadowVersion]) {
        if (!Number.isSafeInteger(version) || version < 1) throw new Error(`version ${version} is not a version number`);
      }
      if (Number.isNaN(Date.parse(copy.at))) throw new Error(`'at' is not a time: '${copy.at}'`);
      copies.push(copy);
    } catch (error) {
      skipped.push({ line: i + 1, reason: (error as Error).message });
    }
  });
  return { copies, skipped };
}

/** The shadow version's answer to a copy, or its failure to give one; only transient failures throw. */
async function answer(shadowModel: (version: number) => Promise<ServedModel>, copy: ShadowCopy): Promise<ShadowAnswer> {
  try {
    const model = await shadowModel(copy.shadowVersion);
    const response = copy.protocol === 'v1' ? await predict(model, copy.request) : await infer(model, parseInferRequest(copy.request));
    return { version: copy.shadowVersion, response };
  } catch (error) {
    if (error instanceof DependencyUnavailableError && !(error instanceof BackendUnavailableError)) throw error;
    return { version: copy.shadowVersion, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Answers, compares, writes and counts the copies of one `shadow-requests/` object (see the module
 * documentation). Malformed lines are skipped and reported in the outcome.
 *
 * @throws DependencyUnavailableError when S3, the registry or the counters are throttling or down.
 */
export async function processShadowObject(deps: ShadowWorkerDeps, bucket: string, key: string): Promise<ShadowObjectOutcome> {
  if (deps.lakeBucket !== undefined && bucket !== deps.lakeBucket) return { kind: 'ignored', reason: `bucket '${bucket}' is not the lake bucket` };
  const model = modelOfKey(key);
  if (model === undefined) return { kind: 'ignored', reason: `'${key}' is not a ${SHADOW_REQUESTS_PREFIX}<model>/… object` };
  const text = await readObject(deps.s3, bucket, key);
  if (text === undefined) return { kind: 'ignored', reason: `'${key}' no longer exists` };
  const { copies, skipped } = parseLines(text, model);

  const versionOf = memo((version: number) => deps.registry.getVersion(model, version));
  const shadowModel = memo((version: number) => versionOf(version).then((found) => deps.backend.open(found)));
  // v1 answers carry no datatypes: the primary version's signature types them (by value when it cannot be read).
  const primaryOutputs = memo((version: number) =>
    versionOf(version).then(
      (found): readonly TensorSpec[] => found.signature.outputs,
      (error: unknown) => {
        if (error instanceof DependencyUnavailableError) throw error;
        return [];
      },
    ),
  );

  const records = new Map<string, ShadowRecord[]>();
  const groups = new Map<string, { readonly group: ShadowGroup; counters: ShadowCounters }>();
  for (const copy of copies) {
    const shadow = await answer(shadowModel, copy);
    const comparison =
      'response' in shadow
        ? compareAnswers(copy.protocol, copy.primary.response, shadow.response, copy.protocol === 'v1' ? await primaryOutputs(copy.primary.version) : [])
        : NO_COMPARISON;
    const aliasRecords = records.get(copy.alias) ?? [];
    aliasRecords.push({ requestId: copy.requestId, at: copy.at, request: copy.request, primary: copy.primary, shadow, comparison });
    records.set(copy.alias, aliasRecords);

    const at = new Date(copy.at);
    const groupKey = [copy.alias, minuteOf(at), copy.primary.version, copy.shadowVersion].join('#');
    const entry = groups.get(groupKey) ?? {
      group: { model, alias: copy.alias, at, primaryVersion: copy.primary.version, shadowVersion: copy.shadowVersion },
      counters: { copies: 0, shadowErrors: 0, ...NO_COMPARISON },
    };
    entry.counters = {
      ...addCounts(entry.counters, comparison),
      copies: entry.counters.copies + 1,
      shadowErrors: entry.counters.shadowErrors + ('error' in shadow ? 1 : 0),
    };
    groups.set(groupKey, entry);
  }

  // The records first: a crash before counting leaves the counts to the redelivery.
  const written: string[] = [];
  for (const [alias, aliasRecords] of records) {
    const target = shadowPredictionsKey(key, model, alias);
    const body = aliasRecords.map((record) => `${JSON.stringify(record)}\n`).join('');
    await callDependency('the lake', () => deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: target, Body: body, ContentType: 'application/x-ndjson' })));
    written.push(target);
  }
  let counted = 0;
  for (const { group, counters } of groups.values()) {
    if (await deps.comparisons.add(group, counters, key)) counted++;
  }
  return {
    kind: 'compared',
    model,
    copies: copies.length,
    shadowErrors: [...groups.values()].reduce((sum, { counters }) => sum + counters.shadowErrors, 0),
    skipped,
    written,
    counted,
    alreadyCounted: groups.size - counted,
  };
}
