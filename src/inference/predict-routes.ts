import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import packageJson from '../../package.json' with { type: 'json' };
import { InvalidRequestError, NotFoundError, quote } from '../errors.js';
import { MethodNotAllowedError, NotAcceptableError } from '../http/errors.js';
import { acceptsBinary, header, isBinaryBody, parseJsonBody, readBinaryBody } from '../http/request.js';
import { asHttpError, jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { assertModelName, parseVersionSelector } from '../registry/names.js';
import type { ModelVersion } from '../registry/types.js';
import type { Outcome } from './telemetry/serving-stats.js';
import type { ServingTelemetry } from './telemetry/serving-telemetry.js';
import type { ShadowProtocol } from './telemetry/shadow-copy.js';
import { backendKindOf, type Backend, type ServedModel } from './backend.js';
import { fallsBack as isFallbackCase, type FallbackReason } from './backend-errors.js';
import type { ModelResolver } from './resolver.js';
import { predict } from './v1-protocol.js';
import { infer, INFERENCE_HEADER_CONTENT_LENGTH, modelMetadata, parseInferRequest, type InferRequest, type InferResponse } from './v2-protocol.js';
import { binaryOutputNames, declaredHeaderLength, encodeBinaryAnswer, rawInferRequest, splitBinaryBody } from './binary-infer.js';

/** Response header naming the model version that answered (for A/B attribution). */
export const MODEL_VERSION_HEADER = 'x-model-version';
/** Request header whose value keeps a caller on one variant of a split alias. */
export const ROUTING_KEY_HEADER = 'x-routing-key';
/** Response header naming the backend that answered: `lambda` (ONNX in the predict function) or `sagemaker`. */
export const MODEL_BACKEND_HEADER = 'x-model-backend';
/**
 * Response header of a fallback answer: the version the alias picked, which could not answer
 * (`x-model-version` names the fallback version that did).
 */
export const MODEL_FALLBACK_HEADER = 'x-model-fallback';

/** Why a fallback answered, and for which version: the v2 answer's `parameters` say it (`fallback`, `fallback_reason`, `fallback_from`). */
interface FallbackMark {
  readonly reason: FallbackReason;
  readonly from: number;
}

/** A v2 answer marked as a fallback's: `parameters.fallback` (true), `fallback_reason` and `fallback_from` (the version that could not answer). */
const markV2 = (body: InferResponse, mark: FallbackMark): InferResponse => ({
  ...body,
  parameters: { ...body.parameters, fallback: true, fallback_reason: mark.reason, fallback_from: String(mark.from) },
});

/** Open Inference Protocol server metadata (`GET /v2`): the platform's package name and version. */
export const SERVER_METADATA = { name: packageJson.name, version: packageJson.version, extensions: [] } as const;

/** What the data-plane routes need. */
export interface PredictDeps {
  readonly resolver: ModelResolver;
  /** What answers a version, by its backend (`ServingBackends`). */
  readonly backends: Backend;
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

/** How an answer's body becomes a response (JSON by default), given the headers that say who answered. */
type Render<T> = (body: T, headers: Record<string, string>) => APIGatewayProxyResult;

const renderJson: Render<unknown> = (body, headers) => jsonResponse(200, body, headers);

const answeredBy = <T>(model: Pick<ServedModel, 'version' | 'backend'>, body: T, fallback?: FallbackMark, render: Render<T> = renderJson) =>
  render(body, {
    [MODEL_VERSION_HEADER]: String(model.version.version),
    [MODEL_BACKEND_HEADER]: model.backend,
    ...(fallback === undefined ? {} : { [MODEL_FALLBACK_HEADER]: String(fallback.from) }),
  });

/** An answer with binary outputs: the JSON response, then their bytes (`binary-infer.ts`), base64 for API Gateway to pass as bytes. */
const renderBinary = (names: ReadonlySet<string>): Render<InferResponse> => (body, headers) => {
  if (names.size === 0) return jsonResponse(200, body, headers);
  const answer = encodeBinaryAnswer(body, names);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/octet-stream', [INFERENCE_HEADER_CONTENT_LENGTH]: String(answer.headerLength), ...headers },
    body: answer.body.toString('base64'),
    isBase64Encoded: true,
  };
};

/**
 * The data plane: Open Inference Protocol v2 and KServe v1 routes. A version
 * segment may be a number or an alias; none means the model's default alias.
 */
export function createPredictRoutes({ resolver, backends, telemetry, random = Math.random }: PredictDeps): RouteTable {
  const selectorOf = (versionSegment: string | undefined) => (versionSegment === undefined ? undefined : parseVersionSelector(versionSegment));

  /** The version a request is served by: `versionSegment` is a number or an alias; none means the default alias. */
  const resolve = (event: APIGatewayProxyEvent, name: string, versionSegment = event.pathParameters?.['version']) =>
    resolver.resolve(assertModelName(name), selectorOf(versionSegment), header(event, ROUTING_KEY_HEADER));

  /** The version that describes a model (metadata, readiness): the one named, or the alias's primary route, the same for every caller. */
  const describe = (event: APIGatewayProxyEvent, name: string) => resolver.primary(assertModelName(name), selectorOf(event.pathParameters?.['version']));

  /** Model metadata: the described version's signature, with every version a request may name. */
  const metadata = async (event: APIGatewayProxyEvent) => {
    const { version } = await describe(event, pathParam(event, 'name'));
    return answeredBy({ version, backend: backendKindOf(version) }, modelMetadata(version, await resolver.servableVersions(version.model)));
  };

  /**
   * Whether the described version can answer now (loaded in this container, or its SageMaker
   * endpoint in service with its breaker closed), or else its alias's fallback, as requests would
   * be answered (the answer marked like a fallback's); `body` words the answer for the protocol.
   */
  const readiness = async (event: APIGatewayProxyEvent, name: string, body: (version: ModelVersion) => unknown) => {
    const { version, fallback } = await describe(event, name);
    try {
      return answeredBy(await backends.open(version), body(version));
    } catch (error) {
      if (fallback === undefined || !isFallbackCase(error)) throw error;
      const standIn = await resolver.fallbackVersion(version, fallback, header(event, ROUTING_KEY_HEADER)).catch(() => Promise.reject(error));
      const marking = { reason: error.reason, from: version.version };
      return answeredBy(await backends.open(standIn).catch(() => Promise.reject(error)), body(version), marking);
    }
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
   * Runs `answer` on a version and counts how that went for it. A version whose backend cannot
   * answer now is not counted here when `fallsBack`: the caller counts it as a fallback.
   */
  const attempt = async <T>(version: ModelVersion, alias: string | undefined, answer: (model: ServedModel) => Promise<T>, fallsBack: boolean) => {
    // The version's own time: its answer, not registry reads or a first load.
    let started: number | undefined;
    try {
      const model = await backends.open(version);
      started = performance.now();
      const body = await answer(model);
      telemetry?.record(version.model, alias, version.version, 'ok', performance.now() - started);
      return { model, body };
    } catch (error) {
      if (!(fallsBack && isFallbackCase(error))) {
        telemetry?.record(version.model, alias, version.version, outcomeOf(error), started === undefined ? undefined : performance.now() - started);
        await telemetry?.flushIfDue();
      }
      throw error;
    }
  };

  /**
   * Answers a request with the version its alias picks, counts how that went for the version,
   * and copies a sample of the requests to the alias's shadow version, if any. While the picked
   * version's backend cannot answer (not ready, breaker open) or when it fails the request, the alias's fallback answers,
   * marked (`mark`, and the `x-model-fallback` header) and counted as a fallback of the picked
   * version; without a fallback, the caller gets the 503 and its `Retry-After`.
   */
  const serve = async <T>(
    event: APIGatewayProxyEvent,
    name: string,
    protocol: ShadowProtocol,
    request: unknown,
    answer: (model: ServedModel) => Promise<T>,
    mark: (body: T, fallback: FallbackMark) => T,
    versionSegment?: string,
    render?: Render<T>,
  ) => {
    const { version, alias, shadow, fallback } = await resolve(event, name, versionSegment);
    let answered: { model: ServedModel; body: T };
    try {
      answered = await attempt(version, alias, answer, fallback !== undefined);
    } catch (error) {
      if (fallback === undefined || !isFallbackCase(error)) throw error;
      // A fallback that cannot be resolved or stand in (changed meanwhile) leaves the caller with the primary's error.
      const standIn = await resolver.fallbackVersion(version, fallback, header(event, ROUTING_KEY_HEADER)).catch(async () => {
        telemetry?.record(version.model, alias, version.version, outcomeOf(error), undefined);
        await telemetry?.flushIfDue();
        throw error;
      });
      telemetry?.record(version.model, alias, version.version, 'fallback', undefined);
      const marking = { reason: error.reason, from: version.version };
      const { model, body } = await attempt(standIn, alias, answer, false);
      await telemetry?.flushIfDue();
      return answeredBy(model, mark(body, marking), marking, render);
    }
    const { model, body } = answered;
    if (telemetry === undefined) return answeredBy(model, body, undefined, render);
    if (alias !== undefined && shadow !== undefined && request !== undefined && random() * 100 < shadow.percent) {
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
    return answeredBy(model, body, undefined, render);
  };

  /**
   * The request of a v2 infer call: JSON, or with the binary tensor data extension
   * (`binary-infer.ts`); `undefined` for a raw binary body, whose request depends on the model.
   */
  const inferRequestOf = (event: APIGatewayProxyEvent): { request: InferRequest | undefined; body?: Buffer } => {
    const headerLength = header(event, INFERENCE_HEADER_CONTENT_LENGTH);
    if (headerLength === undefined && !isBinaryBody(event)) return { request: parseInferRequest(parseJsonBody(event)) };
    // Tensor data starts after the JSON header: read in place when aligned there.
    const alignedAt = Number(headerLength);
    const body = readBinaryBody(event, 'a binary inference request', Number.isSafeInteger(alignedAt) && alignedAt >= 0 ? { alignedAt } : {});
    if (headerLength === undefined) {
      throw new InvalidRequestError(`a binary inference request needs the ${INFERENCE_HEADER_CONTENT_LENGTH} header: the length of its JSON part, or 0 for a raw binary body`);
    }
    const length = declaredHeaderLength(headerLength, body.length);
    if (length === 0) return { request: undefined, body };
    const { header: json, data } = splitBinaryBody(body, length);
    return { request: parseInferRequest(json, data) };
  };

  const inferRoute = async (event: APIGatewayProxyEvent) => {
    const { request, body } = inferRequestOf(event);
    const asksBinary = request === undefined || request.parameters?.['binary_data_output'] === true || (request.outputs ?? []).some((o) => o.parameters?.['binary_data'] === true);
    if (asksBinary && !acceptsBinary(event)) {
      throw new NotAcceptableError('binary outputs are sent as application/octet-stream: send "Accept: application/octet-stream" first (API Gateway returns bytes only when the first Accept value is a binary type), or ask for JSON outputs');
    }
    let effective = request;
    const answer = (model: ServedModel) => {
      effective = request ?? rawInferRequest([...model.inputs.values()], body!);
      return infer(model, effective);
    };
    // Shadow copies are JSON records: a request with binary tensors is not copied.
    const copied = request !== undefined && request.inputs.every((input) => input.bytes === undefined) ? request : undefined;
    return serve(event, pathParam(event, 'name'), 'v2', copied, answer, markV2, undefined, (answered, headers) =>
      renderBinary(effective === undefined ? new Set<string>() : binaryOutputNames(effective, answered.outputs))(answered, headers),
    );
  };

  /** KServe v1 `:predict`, on the default alias (`/v1/models/{name}:predict`) or a version (`…/versions/{v}:predict`). */
  const predictRoute = async (event: APIGatewayProxyEvent) => {
    const versioned = event.pathParameters?.['versionAndVerb'] !== undefined;
    const target = predictTarget(pathParam(event, versioned ? 'versionAndVerb' : 'nameAndVerb'));
    const name = versioned ? pathParam(event, 'nameAndVerb') : target;
    const body = parseJsonBody(event);
    // KServe v1 answers have no parameters: the headers mark a fallback answer.
    return serve(event, name, 'v1', body, (model) => predict(model, body), (answer) => answer, versioned ? target : undefined);
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
