import type { APIGatewayProxyEvent } from 'aws-lambda';
import { InvalidRequestError, quote } from '../errors.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { assertAliasName, assertModelName } from '../registry/names.js';
import type { AliasRecord } from '../registry/types.js';
import { RETENTION_DAYS, type ShadowComparisons } from './shadow-comparisons.js';

/** What the shadow routes need. */
export interface ShadowRoutesDeps {
  readonly comparisons: Pick<ShadowComparisons, 'summary'>;
  /** Reads an alias; throws `NotFoundError` when the model or alias is unknown. */
  readonly registry: { getAlias(model: string, alias: string): Promise<AliasRecord> };
  /** @default the clock */
  readonly now?: () => Date;
}

/** Hours summed when the request names no `since` nor `hours`. */
export const DEFAULT_SHADOW_HOURS = 24;
/** Most hours a summary may cover: as long as the counters are kept. */
export const MAX_SHADOW_HOURS = RETENTION_DAYS * 24;

const HOUR_MS = 3_600_000;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
const HOURS = /^[1-9][0-9]{0,2}$/;

/** The start of the summarised range: `?since=<ISO time>` or `?hours=1..720` before now (default 24). */
function sinceOf(event: APIGatewayProxyEvent, now: Date): Date {
  const query = event.queryStringParameters ?? {};
  const since = query['since'];
  const hours = query['hours'];
  if (since !== undefined && hours !== undefined) throw new InvalidRequestError("give either 'since' or 'hours', not both");
  if (since !== undefined) {
    if (!ISO_TIME.test(since) || Number.isNaN(Date.parse(since))) {
      throw new InvalidRequestError(`invalid since ${quote(since)}: expected an ISO 8601 time, e.g. 2026-11-24T00:00Z`);
    }
    return new Date(since);
  }
  if (hours !== undefined && (!HOURS.test(hours) || Number(hours) > MAX_SHADOW_HOURS)) {
    throw new InvalidRequestError(`invalid hours ${quote(hours)}: expected an integer from 1 to ${MAX_SHADOW_HOURS}`);
  }
  return new Date(now.getTime() - Number(hours ?? DEFAULT_SHADOW_HOURS) * HOUR_MS);
}

/**
 * Shadow traffic routes: `GET /models/{name}/aliases/{alias}/shadow` answers how the alias's
 * shadow versions compared with its primary ones, per (primary, shadow) pair, over the minutes
 * from `since` (the minute it falls in) to now.
 */
export function createShadowRoutes(deps: ShadowRoutesDeps): RouteTable {
  const now = deps.now ?? (() => new Date());
  return {
    'GET /models/{name}/aliases/{alias}/shadow': async (event) => {
      const model = assertModelName(pathParam(event, 'name'));
      const alias = assertAliasName(pathParam(event, 'alias'));
      const since = sinceOf(event, now());
      await deps.registry.getAlias(model, alias);
      const comparisons = await deps.comparisons.summary(model, alias, since);
      return jsonResponse(200, { model, alias, since: since.toISOString(), comparisons });
    },
  };
}
