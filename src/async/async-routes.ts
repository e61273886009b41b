/**
 * Async inference over HTTP: submission of an infer request that prefers an asynchronous answer
 * (`Prefer: respond-async`: 202 with `Location: /v2/async/<id>`), presigned uploads of large
 * inputs (`POST /v2/async/uploads`), and the status resource (`GET /v2/async/<id>`). The SQS
 * client and the presigner come in through `deps` (`container-async.ts` loads them on first use).
 */
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createHash, randomUUID } from 'node:crypto';
import { callDependency } from '../aws/dependency-errors.js';
import { InvalidRequestError, NotFoundError, quote } from '../errors.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from '../http/errors.js';
import { checkJsonEncoding, header, headerText, isBinaryBody, isJsonContentType, parseNoBody } from '../http/request.js';
import { jsonResponse } from '../http/response.js';
import { pathParam, type RouteTable } from '../http/router.js';
import { declaredHeaderLength } from '../inference/binary-infer.js';
import type { AsyncSubmission } from '../inference/predict-routes.js';
import { INFERENCE_HEADER_CONTENT_LENGTH } from '../inference/v2-protocol.js';
import { BINARY_MEDIA_TYPES } from '../../topology/limits.js';
import { inputKey, inputRefOf, isAsyncId, uploadIdOf, uploadKey } from './async-keys.js';
import { expiresAtFor, statusAt, type AsyncInput, type AsyncRequest } from './async-request.js';
import type { AsyncRequestStore } from './async-store.js';
import { INPUT_LOCATION_HEADER, RESPOND_ASYNC } from '../http/prefer.js';

/** Request header of an idempotent submission: the same key and request answer the same request id. */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

/** Longest `Idempotency-Key` taken (as Stripe's API takes). */
export const IDEMPOTENCY_KEY_MAX_CHARS = 255;

/**
 * The request's `Idempotency-Key`: sent once (400 for two: which one would count?), 1–255 visible
 * ASCII characters (400 otherwise: an empty key would be shared by every client that sends one),
 * quoted in the refusal as the client wrote it.
 */
function idempotencyKeyOf(event: APIGatewayProxyEvent): string | undefined {
  const key = header(event, IDEMPOTENCY_KEY_HEADER);
  if (key === undefined) return undefined;
  if (key.length > IDEMPOTENCY_KEY_MAX_CHARS || !/^[\x21-\x7e]+$/.test(key)) {
    throw new InvalidRequestError(`${IDEMPOTENCY_KEY_HEADER} must be 1-${IDEMPOTENCY_KEY_MAX_CHARS} visible ASCII characters (a UUID, say), got ${key === '' ? 'an empty value' : quote(headerText(key))}`);
  }
  return key;
}
/** Largest uploaded input (1 GiB, as SageMaker async inference). */
export const MAX_UPLOAD_BYTES = 1024 ** 3;
/** Largest result the status resource carries inline (a larger or binary one is a presigned link). */
export const INLINE_RESULT_MAX_BYTES = 256 * 1024;
/** Lifetime of presigned upload URLs and result links. */
export const SIGNED_URL_TTL_SECONDS = 3600;

/** Signs a URL for an object key of the lake. */
export type UrlSigner = (key: string, expiresInSeconds: number) => Promise<string>;

/** What the async routes need. */
export interface AsyncApiDeps {
  readonly store: AsyncRequestStore;
  readonly s3: S3Client;
  readonly lakeBucket: string;
  /** Sends a request's message to the async queue. */
  readonly queue: (requestId: string) => Promise<void>;
  readonly signPut: UrlSigner;
  readonly signGet: UrlSigner;
  /** @default Date.now */
  readonly now?: () => number;
}

/** Async inference: submission (for the infer routes, `AsyncSubmission`), uploads and status. */
export interface AsyncApi extends AsyncSubmission {
  /** `POST /v2/async/uploads` and `GET /v2/async/{id}`. */
  readonly routes: RouteTable;
}

const statusPath = (id: string): string => `/v2/async/${id}`;
const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const iso = (epochMs: number): string => new Date(epochMs).toISOString();

/** What the submission learnt of an uploaded object: where it is, and the version of it the request is pinned to. */
type UploadedObject = Required<Pick<AsyncInput, 'key' | 'sizeBytes' | 'etag'>> & {
  /** The object's own `Content-Type` and `Content-Encoding`, as it was uploaded. */
  readonly contentType?: string;
  readonly contentEncoding?: string;
};

/** The body bytes of an event (API Gateway passes binary media types base64-encoded). */
const bodyBytes = (event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer => Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');

/** The async routes over a store, the lake, the queue and URL signers. */
export function createAsyncApi(deps: AsyncApiDeps): AsyncApi {
  const now = deps.now ?? Date.now;

  /** An uploaded input named by `ref`: checked to be one of ours, present, and within {@link MAX_UPLOAD_BYTES}. */
  const uploadedInput = async (ref: string): Promise<UploadedObject> => {
    const id = uploadIdOf(deps.lakeBucket, ref.trim());
    if (id === undefined) {
      throw new InvalidRequestError(`${INPUT_LOCATION_HEADER} must be an inputRef from POST /v2/async/uploads (s3://${deps.lakeBucket}/predictions/async/uploads/<id>), got ${quote(ref)}`);
    }
    const key = uploadKey(id);
    const head = await callDependency('lake', () => deps.s3.send(new HeadObjectCommand({ Bucket: deps.lakeBucket, Key: key }))).catch((error: unknown) => {
      if (error instanceof NotFound || (error as { name?: string }).name === 'NotFound') {
        throw new InvalidRequestError(`nothing was uploaded to ${quote(ref)}: PUT the input to its uploadUrl first`);
      }
      throw error;
    });
    const sizeBytes = head.ContentLength ?? 0;
    if (sizeBytes > MAX_UPLOAD_BYTES) throw new PayloadTooLargeError(MAX_UPLOAD_BYTES, sizeBytes, 'an uploaded input may be 1 GiB at most: split it into several requests');
    if (sizeBytes === 0) throw new InvalidRequestError(`the object uploaded to ${quote(ref)} is empty`);
    if (head.ETag === undefined) throw new Error(`the lake answered no ETag for ${key}`);
    return {
      key,
      sizeBytes,
      etag: head.ETag,
      ...(head.ContentType === undefined ? {} : { contentType: head.ContentType }),
      ...(head.ContentEncoding === undefined ? {} : { contentEncoding: head.ContentEncoding }),
    };
  };

  /**
   * The headers that describe an uploaded input, held to the rules of an inline body now (415/400),
   * not when the request runs: JSON or a binary media type, JSON as UTF-8 (the inline body's check,
   * `checkJsonEncoding`), no content coding, and an `Inference-Header-Content-Length` within the
   * object. The object's own metadata (what its PUT said) is held to the same charset and coding rules.
   */
  const checkUploadEncoding = (event: APIGatewayProxyEvent, object: UploadedObject): void => {
    const contentType = header(event, 'content-type');
    checkJsonEncoding(contentType, header(event, 'content-encoding'), 'an uploaded input');
    checkJsonEncoding(object.contentType, object.contentEncoding, 'the upload (the PUT to its uploadUrl)');
    if (!isBinaryBody(event) && (contentType === undefined || !isJsonContentType(contentType))) {
      throw new UnsupportedMediaTypeError(contentType, `content-type must describe the uploaded input: application/json, or ${BINARY_MEDIA_TYPES.join(' or ')} for binary tensors; got ${contentType === undefined ? 'none' : quote(contentType)}`);
    }
    const headerLength = header(event, INFERENCE_HEADER_CONTENT_LENGTH);
    if (headerLength !== undefined) declaredHeaderLength(headerLength, object.sizeBytes);
  };

  const accepted = (request: AsyncRequest): APIGatewayProxyResult =>
    jsonResponse(
      202,
      { id: request.id, status: statusAt(request, now()), model: request.model, ...(request.version === undefined ? {} : { version: request.version }), location: statusPath(request.id) },
      { location: statusPath(request.id), 'preference-applied': RESPOND_ASYNC, 'retry-after': '1' },
    );

  const submit: AsyncApi['submit'] = async (event, target, checkInline) => {
    const ref = header(event, INPUT_LOCATION_HEADER);
    const encoding = { contentType: header(event, 'content-type'), headerLength: header(event, INFERENCE_HEADER_CONTENT_LENGTH) };
    let inline: Buffer | undefined;
    let uploaded: Pick<AsyncInput, 'key' | 'sizeBytes' | 'etag'> | undefined;
    if (ref === undefined) {
      checkInline();
      inline = bodyBytes(event);
    } else {
      if ((event.body ?? '') !== '') throw new InvalidRequestError(`a request naming its input in ${INPUT_LOCATION_HEADER} has no body: its input is the uploaded object`);
      const object = await uploadedInput(ref);
      checkUploadEncoding(event, object);
      uploaded = { key: object.key, sizeBytes: object.sizeBytes, etag: object.etag };
    }
    const createdAt = now();
    const expiresAt = expiresAtFor(createdAt);
    let id: string = randomUUID();
    const key = idempotencyKeyOf(event);
    if (key !== undefined) {
      // An upload counts by its content (the ETag the request is pinned to), not its key: the same
      // key re-uploaded with other data is another request.
      const fingerprint = sha256(JSON.stringify({ ...target, ...encoding, input: uploaded === undefined ? sha256(inline!) : [uploaded.key, uploaded.etag] }));
      const claim = await deps.store.claimKey({ key, fingerprint }, id, expiresAt);
      if (claim.existing !== undefined) return accepted(claim.existing);
      id = claim.id;
    }
    const input: AsyncInput = {
      ...(uploaded ?? { key: inputKey(id), sizeBytes: inline!.length }),
      ...(encoding.contentType === undefined ? {} : { contentType: encoding.contentType }),
      ...(encoding.headerLength === undefined ? {} : { headerLength: encoding.headerLength }),
    };
    if (inline !== undefined) {
      await callDependency('lake', () =>
        deps.s3.send(new PutObjectCommand({ Bucket: deps.lakeBucket, Key: input.key, Body: inline, ContentType: encoding.contentType ?? 'application/json' })),
      );
    }
    const { request, created } = await deps.store.create({
      id,
      status: 'queued',
      model: target.model,
      ...(target.version === undefined ? {} : { version: target.version }),
      // Every attempt of the request lands on the same variant of a split alias.
      routingKey: header(event, 'x-routing-key') ?? id,
      input,
      createdAt: iso(createdAt),
      attempts: 0,
      expiresAt,
    });
    if (created) await deps.queue(id);
    return accepted(request);
  };

  /** The result of a succeeded request: inline when it is small JSON, else a presigned link. */
  const resultOf = async (request: AsyncRequest): Promise<Record<string, unknown>> => {
    const result = request.result!;
    const described = { resultContentType: result.contentType, resultSizeBytes: result.sizeBytes, ...(result.headerLength === undefined ? {} : { resultHeaderLength: result.headerLength }) };
    if (result.contentType === 'application/json' && result.sizeBytes <= INLINE_RESULT_MAX_BYTES) {
      const text = await callDependency('lake', async () => (await deps.s3.send(new GetObjectCommand({ Bucket: deps.lakeBucket, Key: result.key }))).Body!.transformToString());
      return { ...described, result: JSON.parse(text) as unknown };
    }
    return { ...described, resultUrl: await deps.signGet(result.key, SIGNED_URL_TTL_SECONDS), resultUrlExpiresAt: iso(now() + SIGNED_URL_TTL_SECONDS * 1000) };
  };

  const status = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const id = pathParam(event, 'id');
    const request = isAsyncId(id) ? await deps.store.get(id) : undefined;
    if (request === undefined) throw new NotFoundError(`no async request ${quote(id)} (never submitted, or deleted after it expired)`);
    const shown = statusAt(request, now());
    const started = request.startedAt === undefined ? undefined : Date.parse(request.startedAt);
    const finished = request.finishedAt === undefined ? undefined : Date.parse(request.finishedAt);
    const created = Date.parse(request.createdAt);
    const body = {
      id: request.id,
      status: shown,
      model: request.model,
      ...(request.version === undefined ? {} : { version: request.version }),
      ...(request.answeredBy === undefined
        ? {}
        : { modelVersion: String(request.answeredBy.version), backend: request.answeredBy.backend, ...(request.answeredBy.fallbackFrom === undefined ? {} : { fallbackFrom: String(request.answeredBy.fallbackFrom) }) }),
      attempts: request.attempts,
      createdAt: request.createdAt,
      ...(request.startedAt === undefined ? {} : { startedAt: request.startedAt }),
      ...(request.finishedAt === undefined ? {} : { finishedAt: request.finishedAt }),
      expiresAt: iso(request.expiresAt * 1000),
      timings: {
        ...(started === undefined ? {} : { queuedMs: started - created }),
        ...(started === undefined || finished === undefined ? {} : { runMs: finished - started }),
        ...(finished === undefined ? {} : { totalMs: finished - created }),
      },
      ...(request.error === undefined ? {} : { error: request.error }),
      ...(request.lastError === undefined || shown !== 'running' ? {} : { lastError: request.lastError }),
      ...(shown === 'succeeded' ? await resultOf(request) : {}),
    };
    return jsonResponse(200, body);
  };

  const upload = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    parseNoBody(event, 'async upload request');
    const id = randomUUID();
    return jsonResponse(201, {
      uploadUrl: await deps.signPut(uploadKey(id), SIGNED_URL_TTL_SECONDS),
      inputRef: inputRefOf(deps.lakeBucket, id),
      expiresAt: iso(now() + SIGNED_URL_TTL_SECONDS * 1000),
      maxBytes: MAX_UPLOAD_BYTES,
    });
  };

  return { submit, routes: { 'POST /v2/async/uploads': upload, 'GET /v2/async/{id}': status } };
}
