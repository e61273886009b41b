import type { APIGatewayProxyEvent } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import packageJson from '../../package.json' with { type: 'json' };
import { NotFoundError, quote } from '../errors.js';
import { MethodNotAllowedError } from '../http/errors.js';
import { header, parseJsonBody } from '../http/request.js';
import { asHttpError, jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { assertModelName, parseVersionSelector } from '../registry/names.js';
import type { ModelVersion } from '../registry/types.js';
import type { Outcome } from './telemetry/serving-stats.js';
import type { ServingTelemetry } from './telemetry/serving-telemetry.js';
import type { ShadowProtocol } from './telemetry/shadow-copy.js';
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

/** The target of a KServe v1 `<target>:predict` path segment (a model name, or a version or alias); 404 for another verb. */
function predictTarget(segment: string): string {
  const colon = segment.lastIndexOf(':');
  if (colon < 0 || segment.slice(colon + 1) !== 'predict') {
    throw new NotFoundError(`no KServe v1 verb ':predict' in ${quote(segment)}; use /v1/models/{name}:predict or /v1/models/{name}/versions/{version}:predict`);
  }
  return segment.slice(0, colon);
}

/** How a request that reached a version ended, for its counters. */
const outcomeOf = (error: unknown): Outcome => (asHttpError(error).statusCode < 500 ? 'rejected' : 'failed');

const answeredBy = (version: ModelVersion, body: unknown) =>
  jsonResponse(200, body, { [MODEL_VERSION_HEADER]: String(version.version) });

/**
 * The data plane: Open Inference Protocol v2 and KServe v1 routes. A version
 * segment may be a number or an alias; none means the model's default alias.
 */
export function createPredictRoutes({ resolver, loader, telemetry, random = Math.random }: PredictDeps): RouteTable {
  const selectorOf = (versionSegment: string | undefined) => (versionSegment === undefined ? undefined : parseVersionSelector(versionSegment));

  /** The version a request is served by: `versionSegment` is a number or an alias; none means the default alias. */
  const resolve = (event: APIGatewayProxyEvent, name: string, versionSegment = event.pathParameters?.['version']) =>
    resolver.resolve(assertModelName(name), selectorOf(versionSegment), header(event, ROUTING_KEY_HEADER));

  /** The version that describes a model (metadata, readiness): the one named, or the alias's primary route, the same for every caller. */
  const describe = (event: APIGatewayProxyEvent, name: string) => resolver.primary(assertModelName(name), selectorOf(event.pathParameters?.['version']));

  /** Model metadata: the described version's signature, with every version a request may name. */
  const metadata = async (event: APIGatewayProxyEvent) => {
    const { version } = await describe(event, pathParam(event, 'name'));
    return answeredBy(version, modelMetadata(version, await resolver.servableVersions(version.model)));
  };

  /** Whether the described version loads; `body` words the answer for the protocol. */
  const readiness = async (event: APIGatewayProxyEvent, name: string, body: (version: ModelVersion) => unknown) => {
    const { version } = await describe(event, name);
    await loader.load(version);
    return answeredBy(version, body(version));
  };

  const ready = (event: APIGatewayProxyEvent) =>
    readiness(event, pathParam(event, 'name'), (version) => ({ name: version.model, version: String(version.version), ready: true }));

  /** KServe v1 model status (`GET /v1/models/{name}`): `{"name", "ready"}`. */
  const v1Status = async (event: APIGatewayProxyEvent) => {
    const segment = pathParam(event, 'nameAndVerb');
    if (segment.includes(':')) throw new MethodNotAllowedError(event.httpMethod, event.path, ['POST']);
    return readiness(event, segment, (version) => ({ name: version.model, ready: true }));
  };

  /**
   * Answers a request with the version its alias picks, counts how that went for the version,
   * and copies a sample of the requests to the alias's shadow version, if any.
   */
  const serve = async (
    event: APIGatewayProxyEvent,
    name: string,
    protocol: ShadowProtocol,
    request: unknown,
    answer: (model: LoadedModel) => Promise<unknown>,
    versionSegment?: string,
  ) => {
    const { version, alias, shadow } = await resolve(event, name, versionSegment);
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

  /** KServe v1 `:predict`, on the default alias (`/v1/models/{name}:predict`) or a version (`…/versions/{v}:predict`). */
  const predictRoute = async (event: APIGatewayProxyEvent) => {
    const versioned = event.pathParameters?.['versionAndVerb'] !== undefined;
    const target = predictTarget(pathParam(event, versioned ? 'versionAndVerb' : 'nameAndVerb'));
    const name = versioned ? pathParam(event, 'nameAndVerb') : target;
    const body = parseJsonBody(event);
    return serve(event, name, 'v1', body, (model) => predict(model, body), versioned ? target : undefined);
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
    'GET /v1/models/{nameAndVerb}': v1Status,
    'POST /v1/models/{nameAndVerb}': predictRoute,
    'POST /v1/models/{nameAndVerb}/versions/{versionAndVerb}': predictRoute,
  };
}
