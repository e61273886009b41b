import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import packageJson from '../../package.json' with { type: 'json' };
import { HttpError, NotFoundError } from '../http/errors.js';
import { header, parseJsonBody } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { assertModelName, parseVersionSelector } from '../registry/names.js';
import type { ModelVersion } from '../registry/types.js';
import type { Outcome } from '../rollout/serving-stats.js';
import type { ServingTelemetry } from '../rollout/serving-telemetry.js';
import type { ShadowProtocol } from '../rollout/shadow-copy.js';
import type { LoadedModel, ModelLoader } from './model-loader.js';
import type { ModelResolver } from './resolver.js';
import { predict } from './v1-protocol.js';
import { infer, modelMetadata, parseInferRequest } from './v2-protocol.js';

/** Response header naming the model version that answered (for A/B attribution). */
export const MODEL_VERSION_HEADER = 'x-model-version';
/** Request header whose value keeps a caller on one variant of a split alias. */
export const ROUTING_KEY_HEADER = 'x-routing-key';

/** Open Inference Protocol server metadata (`GET /v2`): the platform's package name and version. */
export const SERVER_METADATA = { name: packageJson.name, version: packageJson.version, extensions: [] } as const;

/** What the data-plane routes need. */
export interface PredictDeps {
  readonly resolver: ModelResolver;
  readonly loader: ModelLoader;
  /**
   * Where per-version counters and shadow copies go.
   *
   * @default - none: no counters (rollout guards see no traffic) and no shadow copies
   */
  readonly telemetry?: ServingTelemetry;
  /** Decides which requests are copied to a shadow version. @default Math.random */
  readonly random?: () => number;
}

/** How a request that reached a version ended, for its counters. */
const outcomeOf = (error: unknown): Outcome => (error instanceof HttpError && error.statusCode < 500 ? 'rejected' : 'failed');

const answeredBy = (version: ModelVersion, body: unknown) =>
  jsonResponse(200, body, { [MODEL_VERSION_HEADER]: String(version.version) });

/**
 * The data plane: Open Inference Protocol v2 and KServe v1 routes. A version
 * segment may be a number or an alias; none means the model's default alias.
 */
export function createPredictRoutes({ resolver, loader, telemetry, random = Math.random }: PredictDeps): RouteTable {
  const resolve = (event: APIGatewayProxyEvent, name: string) => {
    const segment = event.pathParameters?.['version'];
    return resolver.resolve(
      assertModelName(name),
      segment === undefined ? undefined : parseVersionSelector(segment),
      header(event, ROUTING_KEY_HEADER),
    );
  };

  const metadata = async (event: APIGatewayProxyEvent) => {
    const { version } = await resolve(event, pathParam(event, 'name'));
    return answeredBy(version, modelMetadata(version));
  };

  const ready = async (event: APIGatewayProxyEvent) => {
    const { version } = await resolve(event, pathParam(event, 'name'));
    await loader.load(version);
    return answeredBy(version, { name: version.model, version: String(version.version), ready: true });
  };

  /**
   * Answers a request with the version its alias picks, counts how that went for the version,
   * and copies a sample of the requests to the alias's shadow version, if any.
   */
  const serve = async (event: APIGatewayProxyEvent, name: string, protocol: ShadowProtocol, request: unknown, answer: (model: LoadedModel) => Promise<unknown>) => {
    const { version, alias, shadow } = await resolve(event, name);
    let body: unknown;
    // The version's own time: its answer, not registry reads or a first load.
    let started: number | undefined;
    try {
      const model = await loader.load(version);
      started = performance.now();
      body = await answer(model);
    } catch (error) {
      telemetry?.record(version.model, alias, version.version, outcomeOf(error), started === undefined ? undefined : performance.now() - started);
      await telemetry?.flushIfDue();
      throw error;
    }
    if (telemetry === undefined) return answeredBy(version, body);
    telemetry.record(version.model, alias, version.version, 'ok', performance.now() - started);
    if (alias !== undefined && shadow !== undefined && random() * 100 < shadow.percent) {
      telemetry.offerShadow({
        model: version.model,
        alias,
        requestId: event.requestContext?.requestId ?? randomUUID(),
        at: new Date().toISOString(),
        protocol,
        request,
        primary: { version: version.version, response: body },
        shadowVersion: shadow.version,
      });
    }
    await telemetry.flushIfDue();
    return answeredBy(version, body);
  };

  const inferRoute = async (event: APIGatewayProxyEvent) => {
    const request = parseInferRequest(parseJsonBody(event));
    return serve(event, pathParam(event, 'name'), 'v2', request, (model) => infer(model, request));
  };

  const predictRoute = async (event: APIGatewayProxyEvent) => {
    const segment = pathParam(event, 'nameAndVerb');
    const colon = segment.lastIndexOf(':');
    const verb = colon < 0 ? '' : segment.slice(colon + 1);
    if (verb !== 'predict') throw new NotFoundError(`unknown KServe v1 verb in '${segment}'; use /v1/models/{name}:predict`);
    const body = parseJsonBody(event);
    return serve(event, segment.slice(0, colon), 'v1', body, (model) => predict(model, body));
  };

  return {
    'GET /v2': async () => jsonResponse(200, SERVER_METADATA),
    'GET /v2/health/live': async () => jsonResponse(200, { live: true }),
    'GET /v2/health/ready': async () => jsonResponse(200, { ready: true }),
    'GET /v2/models/{name}': metadata,
    'GET /v2/models/{name}/versions/{version}': metadata,
    'GET /v2/models/{name}/ready': ready,
    'GET /v2/models/{name}/versions/{version}/ready': ready,
    'POST /v2/models/{name}/infer': inferRoute,
    'POST /v2/models/{name}/versions/{version}/infer': inferRoute,
    'POST /v1/models/{nameAndVerb}': predictRoute,
  };
}
