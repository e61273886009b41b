/**
 * Dataset routes of the control plane: definitions (declared schema, rejected-row threshold,
 * auto-train), versions with their schema and statistics, presigned uploads into the raw
 * zone, and a preview of curated rows.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod/mini';
import { ConflictError, InvalidRequestError, quote } from '../errors.js';
import { expectedRevision, pageOf, parseBody } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import type { UploadSigner } from '../aws/artifact-store.js';
import { objectKeyProblem } from '../aws/object-keys.js';
import { storableNumbers } from '../storage/numbers.js';
import { parseVersionNumber } from '../storage/version-numbers.js';
import { COLUMN_TYPES } from './column-types.js';
import { DEFAULT_REJECT_THRESHOLD, type DatasetStore } from './dataset-store.js';
import { columnNameClash, MAX_COLUMNS } from './schema.js';
import type { AutoTrainChecker, DatasetDefinition, DatasetVersion } from './types.js';
import { assertDatasetName, RAW_PREFIX, rawKey } from './zones.js';

/** Reads the first rows of a curated Parquet object. */
export type CuratedPreview = (key: string, limit: number) => Promise<Record<string, unknown>[]>;

/** What the dataset routes need. */
export interface DatasetRoutesDeps {
  readonly datasets: DatasetStore;
  readonly lakeBucket: string;
  readonly signUpload: UploadSigner;
  readonly preview: CuratedPreview;
  /** Checks auto-train specs (the training context's rules). */
  readonly autoTrain: AutoTrainChecker;
}

/** Lifetime of presigned upload URLs. */
export const DATASET_UPLOAD_TTL_SECONDS = 900;

const columnSchema = z.object({
  name: z.string().check(z.minLength(1), z.maxLength(256)),
  type: z.enum(COLUMN_TYPES as ['integer', 'float', 'boolean', 'timestamp', 'string']),
  nullable: z._default(z.boolean(), true),
});
/** A dataset definition's body; its auto-train spec has the training context's shape. */
const definitionSchema = (autoTrain: AutoTrainChecker) =>
  z.object({
    description: z._default(z.string().check(z.maxLength(1024)), ''),
    schema: z.optional(
      z.object({
        columns: z
          .array(columnSchema)
          .check(
            z.minLength(1),
            z.maxLength(MAX_COLUMNS),
          ),
      }),
    ),
    rejectThreshold: z._default(z.number().check(z.gte(0), z.lte(1), storableNumbers), DEFAULT_REJECT_THRESHOLD),
    autoTrain: z.optional(autoTrain.schema),
  });
/** Refuses declared column names the lake cannot take (400 naming the field), by the rule ingestion applies to a file's columns. */
function assertColumnNames(names: readonly string[]): void {
  const clash = columnNameClash(names);
  if (clash === undefined) return;
  const field = `schema.columns.${clash.index}.name ${quote(clash.name)}`;
  throw new InvalidRequestError(
    clash.kind === 'case'
      ? `${field} duplicates ${quote(clash.earlier)} (column names are case-insensitive)`
      : `${field} is empty or has a NUL character; column names are non-empty text without NUL`,
  );
}

const uploadSchema = z.object({ fileName: z.string().check(z.minLength(1), z.maxLength(512)) });

/** Preview sizes: default and largest. */
const PREVIEW_ROWS = { default: 20, max: 100 } as const;

const definitionResponse = (status: number, definition: DatasetDefinition) => jsonResponse(status, definition, { etag: `"${definition.revision}"` });

/** Creates the dataset routes. */
export function createDatasetRoutes(deps: DatasetRoutesDeps): RouteTable {
  const { datasets } = deps;
  const definitions = definitionSchema(deps.autoTrain);
  const dataset = (event: APIGatewayProxyEvent) => assertDatasetName(pathParam(event, 'dataset'));
  const version = async (event: APIGatewayProxyEvent): Promise<DatasetVersion> => {
    const name = dataset(event);
    const segment = pathParam(event, 'version');
    if (segment === 'latest') {
      const newest = await datasets.latestReadyVersion(name);
      if (newest === undefined) throw new ConflictError(`dataset '${name}' has no READY version yet`);
      return newest;
    }
    return datasets.getVersion(name, parseVersionNumber(segment, "'latest'"));
  };

  return {
    'GET /datasets': async (event) => {
      const page = await datasets.listDatasets(pageOf(event));
      return jsonResponse(200, { datasets: page.items, nextCursor: page.nextCursor ?? null });
    },
    'GET /datasets/{dataset}': async (event) => definitionResponse(200, await datasets.getDataset(dataset(event))),
    'PUT /datasets/{dataset}': async (event) => {
      const name = dataset(event);
      const body = parseBody(event, definitions, 'dataset definition');
      if (body.schema !== undefined) assertColumnNames(body.schema.columns.map((c) => c.name));
      // Checked now (names, algorithm for the task, hyperparameters, and the columns it names when
      // the schema is declared), so a drop does not find out later.
      if (body.autoTrain !== undefined) deps.autoTrain.check(body.autoTrain, body.schema?.columns, name);
      const { autoTrain } = body;
      const saved = await datasets.putDataset(
        name,
        { description: body.description, rejectThreshold: body.rejectThreshold, ...(body.schema === undefined ? {} : { schema: body.schema }), ...(autoTrain === undefined ? {} : { autoTrain }) },
        expectedRevision(event),
      );
      return definitionResponse(saved.revision === 1 ? 201 : 200, saved);
    },
    'POST /datasets/{dataset}/uploads': async (event) => {
      const name = dataset(event);
      const { fileName } = parseBody(event, uploadSchema, 'upload');
      if (fileName.includes('/') || fileName === '.' || fileName === '..') {
        throw new InvalidRequestError(`invalid fileName ${quote(fileName)}: a file name, without '/'`);
      }
      const key = rawKey(name, fileName);
      // The same rules as every object key the platform takes (artifact URIs): a key S3 can store and list.
      const keyProblem = objectKeyProblem(key);
      if (keyProblem !== undefined) throw new InvalidRequestError(`invalid fileName ${quote(fileName)}: the object key '${RAW_PREFIX}${name}/…' it makes ${keyProblem}`);
      await datasets.ensureDataset(name);
      return jsonResponse(201, {
        uploadUrl: await deps.signUpload(key, DATASET_UPLOAD_TTL_SECONDS),
        method: 'PUT',
        key,
        uri: `s3://${deps.lakeBucket}/${key}`,
        expiresInSeconds: DATASET_UPLOAD_TTL_SECONDS,
      });
    },
    'GET /datasets/{dataset}/versions': async (event) => {
      const page = await datasets.listVersions(dataset(event), pageOf(event));
      return jsonResponse(200, { versions: page.items, nextCursor: page.nextCursor ?? null });
    },
    'GET /datasets/{dataset}/versions/{version}': async (event) => jsonResponse(200, await version(event)),
    'GET /datasets/{dataset}/versions/{version}/preview': async (event) => {
      const limitText = event.queryStringParameters?.['limit'];
      if (limitText !== undefined && !/^(100|[1-9][0-9]?)$/.test(limitText)) {
        throw new InvalidRequestError(`invalid limit ${quote(limitText)}: expected 1-${PREVIEW_ROWS.max}`);
      }
      const found = await version(event);
      const key = found.curatedKeys?.[0];
      if (key === undefined) {
        throw new ConflictError(`dataset '${found.dataset}' version ${found.version} has no curated rows (status ${found.status}${found.reason === undefined ? '' : `: ${found.reason}`})`);
      }
      const rows = await deps.preview(key, limitText === undefined ? PREVIEW_ROWS.default : Number(limitText));
      return jsonResponse(200, { dataset: found.dataset, version: found.version, columns: found.schema?.columns ?? [], rows });
    },
  };
}
