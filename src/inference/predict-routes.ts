import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import packageJson from '../../package.json' with { type: 'json' };
import { InvalidRequestError, NotFoundError, quote } from '../errors.js';
import { MethodNotAllowedError, NotAcceptableError, PayloadTooLargeError } from '../http/errors.js';
import { LARGE_INPUT_ADVICE } from '../../topology/limits.js';
import { acceptsBinary, header, isBinaryBody, parseJsonBody, readBinaryBody } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { assertModelName, parseVersionSelector } from '../registry/names.js';
import type { ModelVersion } from '../registry/types.js';
import type { ShadowProtocol } from './telemetry/shadow-copy.js';
import { backendKindOf, type ServedModel } from './backend.js';
import { fallsBack as isFallbackCase } from './backend-errors.js';
import { createServing, markV2, type FallbackMark, type ServingDeps } from './serving.js';
import { predict } from './v1-protocol.js';
import { infer, INFERENCE_HEADER_CONTENT_LENGTH, modelMetadata, parseInferRequest, type InferRequest, type InferResponse } from './v2-protocol.js';
import { INPUT_LOCATION_HEADER, prefersAsync, RESPOND_ASYNC } from '../http/prefer.js';
import { binaryInferRequest, binaryOutputNames, encodeBinaryAnswer, rawInferRequest } from './binary-infer.js';

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

/** Open Inference Protocol server metadata (`GET /v2`): the platform's package name and version. */
export const SERVER_METADATA = { name: packageJson.name, version: packageJson.version, extensions: [] } as const;

/** What an asynchronous infer request is for: the path's model, and its version or alias. */
export interface AsyncTarget {
  readonly model: string;
  readonly version?: string;
}

/** Where infer requests that prefer an asynchronous answer go (the async context, `src/async`). */
export interface AsyncSubmission {
  /**
   * Accepts an infer request that prefers an asynchronous answer (202). `checkInline` parses an
   * inline body as the synchronous route would (bad input is a 4xx now, not a failed request later).
   */
  submit(event: APIGatewayProxyEvent, target: AsyncTarget, checkInline: () => void): Promise<APIGatewayProxyResult>;
}

/** Runs `read`; a body over the payload limit is refused with the way to send a larger input (an async upload). */
function tooLargeForSync<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof PayloadTooLargeError)) throw error;
    throw new PayloadTooLargeError(error.limitBytes, error.actualBytes, LARGE_INPUT_ADVICE);
  }
}

/** What the data-plane routes need: what serving needs (`serving.ts`). */
export type PredictDeps = ServingDeps;

/** The target of a KServe v1 `<target>:predict` path segment (a model name, or a version or alias); 404 for another verb. */
function predictTarget(segment: string): string {
  const colon = segment.lastIndexOf(':');
  if (colon < 0 || segment.slice(colon + 1) !== 'predict') {
    throw new NotFoundError(`no KServe v1 verb ':predict' in ${quote(segment)}; use /v1/models/{name}:predict or /v1/models/{name}/versions/{version}:predict`);
  }
  return segment.slice(0, colon);
}

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
 * segment may be a number or an alias; none means the model's default alias. With `async`, a v2
 * infer request with `Prefer: respond-async` is submitted there (202) instead of answered.
 */
export function createPredictRoutes(deps: PredictDeps, async?: AsyncSubmission): RouteTable {
  const { resolver, backends } = deps;
  const serving = createServing(deps);
  const selectorOf = (versionSegment: string | undefined) => (versionSegment === undefined ? undefined : parseVersionSelector(versionSegment));

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
   * be answered (the answer marked like a fallback's, and naming the version that would answer, as
   * its `x-model-version` header does); `body` words the answer for the protocol.
   */
  const readiness = async (event: APIGatewayProxyEvent, name: string, body: (version: ModelVersion) => unknown) => {
    const { version, fallback } = await describe(event, name);
    try {
      return answeredBy(await backends.open(version), body(version));
    } catch (error) {
      if (fallback === undefined || !isFallbackCase(error)) throw error;
      const standIn = await resolver.fallbackVersion(version, fallback, header(event, ROUTING_KEY_HEADER)).catch(() => Promise.reject(error));
      const marking = { reason: error.reason, from: version.version };
      return answeredBy(await backends.open(standIn).catch(() => Promise.reject(error)), body(standIn), marking);
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

  /** Serves a request (`serving.ts`) and renders the answer with the headers that say who gave it. */
  const serve = async <T>(
    event: APIGatewayProxyEvent,
    name: string,
    protocol: ShadowProtocol,
    request: unknown,
    answer: (model: ServedModel) => Promise<T>,
    mark: (body: T, fallback: FallbackMark) => T,
    versionSegment = event.pathParameters?.['version'],
    render?: Render<T>,
  ) => {
    const target = { model: name, version: versionSegment, routingKey: header(event, ROUTING_KEY_HEADER), requestId: event.requestContext?.requestId };
    const { model, body, fallback } = await serving.serve(target, protocol, request, answer, mark);
    return answeredBy(model, body, fallback, render);
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
    return { request: binaryInferRequest(body, headerLength), body };
  };

  const inferRoute = async (event: APIGatewayProxyEvent) => {
    if (async !== undefined && prefersAsync(header(event, 'prefer'))) {
      const version = event.pathParameters?.['version'];
      const target = { model: assertModelName(pathParam(event, 'name')), ...(version === undefined ? {} : { version }) };
      // An unknown model, alias or version is a 404 now, as for a synchronous call (nothing is
      // loaded here); which version answers is decided when the request runs.
      await resolver.primary(target.model, selectorOf(version));
      return async.submit(event, target, () => void tooLargeForSync(() => inferRequestOf(event)));
    }
    if (header(event, INPUT_LOCATION_HEADER) !== undefined) {
      throw new InvalidRequestError(`${INPUT_LOCATION_HEADER} names an uploaded input, which is served asynchronously: send the request with "Prefer: ${RESPOND_ASYNC}" (202, then poll its Location)`);
    }
    const { request, body } = tooLargeForSync(() => inferRequestOf(event));
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
    if (header(event, INPUT_LOCATION_HEADER) !== undefined) {
      throw new InvalidRequestError(`${INPUT_LOCATION_HEADER} names an uploaded input, which the v2 infer route serves asynchronously: POST /v2/models/${name}/infer with "Prefer: ${RESPOND_ASYNC}" (KServe v1 :predict has no async form)`);
    }
    const body = tooLargeForSync(() => parseJsonBody(event));
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
