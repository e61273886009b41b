import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import type { UploadSigner } from '../aws/artifact-store.js';
import { InvalidRequestError, quote } from '../errors.js';
import { callerOf, pageOf, parseBody, parseNoBody, requiredRevision } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { MAX_VERSION, parseVersionNumber } from '../storage/version-numbers.js';
import { isStorableNumber, STORED_NUMBER_RANGE, storableNumbers } from '../storage/numbers.js';
import { backendSchema, servingBackendOf } from './backend-spec.js';
import { assertAliasName, assertModelName } from './names.js';
import { registerVersion, type RegisterVersionDeps } from './register-version.js';
import type { VersionFilter } from './registry.js';
import type { AliasRecord, VersionStatus } from './types.js';

/** What the control-plane routes need. */
export interface ControlPlaneDeps extends RegisterVersionDeps {
  readonly signUpload: UploadSigner;
}

/** Lifetime of presigned upload URLs. */
export const UPLOAD_URL_TTL_SECONDS = 900;

// Bounded so that a model or version item stays far below DynamoDB's 400 KB.
const MAX_ENTRIES = 50;
/** Longest key of tags, metrics and lineage. */
const MAX_KEY_CHARS = 128;
/** The key rule of one kind of entry (`tag keys must be 1–128 characters`), checked and stated in one place. */
const entryKey = (what: string) => {
  const rule = `${what} must be 1–${MAX_KEY_CHARS} characters`;
  return z.string().check(z.minLength(1, rule), z.maxLength(MAX_KEY_CHARS, rule));
};
/** Tag keys: in tags of models and versions, and in the `tag` filter of version lists. */
const tagKey = entryKey('tag keys');
const value = z.string().check(z.maxLength(1024));
const boundedRecord = <K extends z.ZodMiniString, T extends z.ZodMiniType>(keys: K, values: T) =>
  z.record(keys, values).check(z.refine((r) => Object.keys(r).length <= MAX_ENTRIES, `at most ${MAX_ENTRIES} entries`));
const tags = z.optional(boundedRecord(tagKey, value));
const text = z.optional(z.string().check(z.maxLength(1024)));
const createModelSchema = z.object({
  name: z.string(),
  description: text,
  defaultAlias: z.optional(z.string()),
  tags,
});
const registerVersionSchema = z.object({
  artifactUri: z.string().check(z.minLength(1)),
  sha256: z.optional(z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters'))),
  description: text,
  tags,
  metrics: z.optional(boundedRecord(entryKey('metric names'), z.number().check(storableNumbers))),
  lineage: z.optional(boundedRecord(entryKey('lineage keys'), value)),
  backend: z.optional(backendSchema),
});
/** Most routes one alias splits traffic between. */
export const MAX_ROUTES = 10;
const VERSION_RANGE = `versions are numbered from 1 to ${MAX_VERSION}`;
const versionNumber = z.number().check(z.int(), z.gte(1, VERSION_RANGE), z.lte(MAX_VERSION, VERSION_RANGE));
/** Alias revisions count changes from 1 (`toRevision` of a rollback). */
const revisionNumber = z.number().check(z.int(), z.positive());
const routesSchema = z
  .array(z.strictObject({ version: versionNumber, weight: z.number().check(z.int(), z.gte(1), z.lte(100)) }))
  .check(
    z.minLength(1),
    z.maxLength(MAX_ROUTES),
    z.refine((routes) => routes.reduce((sum, r) => sum + r.weight, 0) === 100, 'weights must sum to 100'),
    z.refine((routes) => new Set(routes.map((r) => r.version)).size === routes.length, 'each version may appear once'),
  );
const shadowSchema = z.nullable(z.strictObject({ version: versionNumber, percent: z.number().check(z.int(), z.gte(1), z.lte(100)) }));
const fallbackSchema = z.nullable(
  z.union([z.strictObject({ version: versionNumber }), z.strictObject({ alias: z.string() })], {
    error: 'give exactly one of "version" (a version number) or "alias" (an alias name), or null to remove the fallback',
  }),
);
const setAliasSchema = z
  .strictObject({
    version: z.optional(versionNumber),
    routes: z.optional(routesSchema),
    requireApproved: z.optional(z.boolean()),
    shadow: z.optional(shadowSchema),
    fallback: z.optional(fallbackSchema),
    reason: text,
  })
  .check(z.refine((body) => (body.version === undefined) !== (body.routes === undefined), 'give either "version" or "routes"'));
const rollbackSchema = z.strictObject({ toRevision: z.optional(revisionNumber), reason: text });
const statusSchema = z.strictObject({ status: z.enum(['APPROVED', 'REJECTED', 'ARCHIVED']), reason: text });
const tagsSchema = z.strictObject({ tags: boundedRecord(tagKey, value) });

/** The filters of `GET /models/{name}/versions`: `status`, `tag` (`key` or `key=value`), `minMetric` (`name:value`). */
function versionFilterOf(event: APIGatewayProxyEvent): VersionFilter {
  const query = event.queryStringParameters ?? {};
  const filter: { -readonly [K in keyof VersionFilter]: VersionFilter[K] } = {};
  const status = query['status'];
  if (status !== undefined) {
    if (!(['PENDING', 'APPROVED', 'REJECTED', 'ARCHIVED'] as const).includes(status as VersionStatus)) {
      throw new InvalidRequestError(`invalid status ${quote(status)}: expected PENDING, APPROVED, REJECTED or ARCHIVED`);
    }
    filter.status = status as VersionStatus;
  }
  const tag = query['tag'];
  if (tag !== undefined) {
    const at = tag.indexOf('=');
    const filterKey = at < 0 ? tag : tag.slice(0, at);
    const checked = tagKey.safeParse(filterKey);
    if (!checked.success) throw new InvalidRequestError(`invalid tag ${quote(tag)}: expected key or key=value; ${checked.error.issues[0]!.message}`);
    filter.tag = at < 0 ? { key: filterKey } : { key: filterKey, value: tag.slice(at + 1) };
  }
  const minMetric = query['minMetric'];
  if (minMetric !== undefined) {
    const match = /^([^:]+):(-?[0-9.eE+-]+)$/.exec(minMetric);
    if (match === null || !Number.isFinite(Number(match[2]))) throw new InvalidRequestError(`invalid minMetric ${quote(minMetric)}: expected name:value, e.g. accuracy:0.9`);
    const min = Number(match[2]);
    if (!isStorableNumber(min)) throw new InvalidRequestError(`invalid minMetric ${quote(minMetric)}: ${match[2]} is outside the range the registry stores (${STORED_NUMBER_RANGE})`);
    filter.metric = { name: match[1]!, min };
  }
  return filter;
}

const aliasResponse = (status: number, alias: AliasRecord) => jsonResponse(status, alias, { etag: `"${alias.revision}"` });

/** Control-plane routes: models, versions (register from the lake or a presigned upload) and aliases. */
export function createControlPlaneRoutes(deps: ControlPlaneDeps): RouteTable {
  const { registry } = deps;
  const model = (event: APIGatewayProxyEvent) => assertModelName(pathParam(event, 'name'));
  const alias = (event: APIGatewayProxyEvent) => assertAliasName(pathParam(event, 'alias'));

  return {
    'POST /models': async (event) => {
      const body = parseBody(event, createModelSchema, 'model');
      const created = await registry.createModel({
        ...body,
        name: assertModelName(body.name),
        ...(body.defaultAlias === undefined ? {} : { defaultAlias: assertAliasName(body.defaultAlias) }),
      });
      return jsonResponse(201, created);
    },
    'GET /models': async (event) => {
      const page = await registry.listModels(pageOf(event));
      return jsonResponse(200, { models: page.items, nextCursor: page.nextCursor ?? null });
    },
    'GET /models/{name}': async (event) => jsonResponse(200, await registry.getModel(model(event))),
    'PUT /models/{name}/tags': async (event) => {
      const body = parseBody(event, tagsSchema, 'tags');
      return jsonResponse(200, await registry.setModelTags(model(event), body.tags));
    },

    'POST /models/{name}/uploads': async (event) => {
      parseNoBody(event, 'upload request');
      const name = model(event);
      await registry.getModel(name);
      const key = `models/${name}/uploads/${randomUUID()}.onnx`;
      return jsonResponse(201, {
        uploadUrl: await deps.signUpload(key, UPLOAD_URL_TTL_SECONDS),
        method: 'PUT',
        artifactUri: `s3://${deps.lakeBucket}/${key}`,
        expiresInSeconds: UPLOAD_URL_TTL_SECONDS,
      });
    },
    'POST /models/{name}/versions': async (event) => {
      const { backend, ...body } = parseBody(event, registerVersionSchema, 'version registration');
      return jsonResponse(201, await registerVersion(deps, model(event), { ...body, ...(backend === undefined ? {} : { backend: servingBackendOf(backend) }) }));
    },
    'GET /models/{name}/versions': async (event) => {
      const page = await registry.listVersions(model(event), pageOf(event), versionFilterOf(event));
      return jsonResponse(200, { versions: page.items, nextCursor: page.nextCursor ?? null });
    },
    'GET /models/{name}/versions/{version}': async (event) =>
      jsonResponse(200, await registry.getVersion(model(event), parseVersionNumber(pathParam(event, 'version')))),
    'POST /models/{name}/versions/{version}/status': async (event) => {
      const body = parseBody(event, statusSchema, 'status change');
      const changed = await registry.setVersionStatus(model(event), parseVersionNumber(pathParam(event, 'version')), {
        status: body.status,
        by: callerOf(event),
        reason: body.reason ?? '',
      });
      return jsonResponse(200, changed);
    },
    'PUT /models/{name}/versions/{version}/tags': async (event) => {
      const body = parseBody(event, tagsSchema, 'tags');
      return jsonResponse(200, await registry.setVersionTags(model(event), parseVersionNumber(pathParam(event, 'version')), body.tags));
    },

    'GET /models/{name}/aliases': async (event) => {
      const page = await registry.listAliases(model(event), pageOf(event));
      return jsonResponse(200, { aliases: page.items, nextCursor: page.nextCursor ?? null });
    },
    'GET /models/{name}/aliases/{alias}': async (event) => aliasResponse(200, await registry.getAlias(model(event), alias(event))),
    'PUT /models/{name}/aliases/{alias}': async (event) => {
      const body = parseBody(event, setAliasSchema, 'alias');
      const revision = requiredRevision(event, 'changing an alias', { creates: true });
      const updated = await registry.setAlias(model(event), alias(event), {
        routes: body.routes ?? [{ version: body.version!, weight: 100 }],
        ...(body.requireApproved === undefined ? {} : { requireApproved: body.requireApproved }),
        ...(body.shadow === undefined ? {} : { shadow: body.shadow }),
        ...(body.fallback === undefined ? {} : { fallback: body.fallback !== null && 'alias' in body.fallback ? { alias: assertAliasName(body.fallback.alias) } : body.fallback }),
        updatedBy: callerOf(event),
        reason: body.reason ?? '',
        expectedRevision: revision,
      });
      return aliasResponse(200, updated);
    },
    'DELETE /models/{name}/aliases/{alias}': async (event) => {
      const revision = requiredRevision(event, 'deleting an alias');
      await registry.deleteAlias(model(event), alias(event), { by: callerOf(event), reason: event.queryStringParameters?.['reason'] ?? '', expectedRevision: revision });
      return { statusCode: 204, headers: {}, body: '' };
    },
    'GET /models/{name}/aliases/{alias}/ledger': async (event) => {
      const page = await registry.listAliasLedger(model(event), alias(event), pageOf(event));
      return jsonResponse(200, { entries: page.items, nextCursor: page.nextCursor ?? null });
    },
    'POST /models/{name}/aliases/{alias}/rollback': async (event) => {
      const body = parseBody(event, rollbackSchema, 'rollback');
      const revision = requiredRevision(event, 'rolling an alias back');
      const restored = await registry.rollbackAlias(model(event), alias(event), {
        by: callerOf(event),
        reason: body.reason ?? '',
        ...(body.toRevision === undefined ? {} : { toRevision: body.toRevision }),
        expectedRevision: revision,
      });
      return aliasResponse(200, restored);
    },
  };
}
