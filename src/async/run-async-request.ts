/**
 * The async worker's work for one message: claim the request, read its input from the lake,
 * serve it through the one inference path (`serving.ts`) with the request's routing key (so every
 * attempt lands on the same variant of a split alias), write the answer under
 * `predictions/async/results/`, and end the request with an event. A refusal (bad shape, unknown
 * model) ends it as failed at once; another failure is recorded and retried until the queue's
 * last receive, which ends it as failed and lets the message go to the dead-letter queue.
 */
import { GetObjectCommand, HeadObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { callDependency } from '../aws/dependency-errors.js';
import { ObjectChangedError, readObjectVersion } from '../aws/object-version.js';
import { clip, DependencyUnavailableError, InvalidRequestError, isRefusal, PlatformError } from '../errors.js';
import type { EventSink } from '../registry/events.js';
import { parseOwnJson, refuseByteOrderMark } from '../validation/own-json.js';
import { binaryInferRequest, binaryOutputNames, encodeBinaryAnswer, rawInferRequest } from '../inference/binary-infer.js';
import type { ServedModel } from '../inference/backend.js';
import { markV2, type Serving } from '../inference/serving.js';
import { infer, INFERENCE_HEADER_CONTENT_LENGTH, parseInferRequest, type InferRequest, type InferResponse } from '../inference/v2-protocol.js';
import type { AsyncInferenceEvent } from './async-events.js';
import { resultKey } from './async-keys.js';
import type { AnsweredBy, AsyncInput, AsyncRequest, AsyncResult } from './async-request.js';
import type { AsyncRequestStore } from './async-store.js';

/** What the worker needs. */
export interface RunAsyncDeps {
  readonly store: AsyncRequestStore;
  readonly serving: Serving;
  readonly s3: S3Client;
  readonly lakeBucket: string;
  readonly events: EventSink<AsyncInferenceEvent>;
  /** Deliveries of a message before SQS moves it to the dead-letter queue (the queue's `maxReceiveCount`). */
  readonly maxReceives: number;
}

/** How one delivery ended. */
export type AsyncOutcome =
  | { readonly kind: 'succeeded' }
  /** Ended as failed: refused (the message is done), or failed at the last receive (`deadLetter`: the message goes to the DLQ). */
  | { readonly kind: 'failed'; readonly reason: string; readonly deadLetter: boolean }
  /** Already finished, or gone: a duplicate delivery. */
  | { readonly kind: 'duplicate' }
  /** A transient failure, recorded on the request: the message is retried. */
  | { readonly kind: 'retry'; readonly error: Error };

/** Longest failure reason kept on a request. */
const MAX_REASON_CHARS = 1000;

const described = (error: unknown): string => `${(error as Error).name ?? 'Error'}: ${(error as Error).message ?? String(error)}`;

/**
 * A failure's reason as the status resource shows it: a platform error's message, with what
 * caused a dependency's failure (a transient one is otherwise only "temporarily unavailable").
 */
const reasonOf = (error: unknown): string => {
  if (!(error instanceof PlatformError)) return clip(described(error), MAX_REASON_CHARS);
  const cause = error instanceof DependencyUnavailableError && error.cause !== undefined ? ` (${described(error.cause)})` : '';
  return clip(`${error.message}${cause}`, MAX_REASON_CHARS);
};

const isNamed = (error: unknown, ...names: string[]): boolean => names.includes((error as { name?: string }).name ?? '');

/** The refusal of a request whose uploaded input is no longer the object it was accepted with. */
const inputChanged = (input: AsyncInput, now: string | undefined): InvalidRequestError =>
  new InvalidRequestError(
    `the uploaded input changed after the request was accepted (ETag ${input.etag}, now ${now ?? 'deleted'}); upload it again and resubmit`,
  );

/**
 * The input's bytes; a refusal when it is gone (expired, or deleted by the caller) or, for an
 * uploaded input, no longer the object the request was accepted with (its presigned URL stays
 * valid after the 202): read with `If-Match` on its ETag (S3 answers 412 when it changed), and
 * checked against that ETag and size as well (for stores that ignore `If-Match`). A read that
 * fails otherwise is told apart from a changed object by the object's current ETag.
 */
async function readInput(deps: RunAsyncDeps, input: AsyncInput): Promise<Uint8Array> {
  const { etag } = input;
  try {
    if (etag === undefined) return await callDependency('lake', async () => (await deps.s3.send(new GetObjectCommand({ Bucket: deps.lakeBucket, Key: input.key }))).Body!.transformToByteArray());
    const bytes = await readObjectVersion(deps.s3, deps.lakeBucket, 'lake', { key: input.key, etag });
    if (bytes.length !== input.sizeBytes) throw inputChanged(input, etag);
    return bytes;
  } catch (error) {
    if (error instanceof NoSuchKey || isNamed(error, 'NoSuchKey')) {
      throw etag === undefined ? new InvalidRequestError(`the request's input (${input.key}) no longer exists`) : inputChanged(input, undefined);
    }
    if (error instanceof ObjectChangedError && error.now !== undefined) throw inputChanged(input, error.now);
    if (etag === undefined || isRefusal(error)) throw error;
    const now = await currentEtag(deps, input.key);
    if (now !== etag) throw inputChanged(input, now);
    throw error;
  }
}

/** The ETag an object has now; `undefined` when it is gone. */
async function currentEtag(deps: RunAsyncDeps, key: string): Promise<string | undefined> {
  try {
    return (await callDependency('lake', () => deps.s3.send(new HeadObjectCommand({ Bucket: deps.lakeBucket, Key: key })))).ETag;
  } catch (error) {
    if (isNamed(error, 'NotFound', 'NoSuchKey')) return undefined;
    throw error;
  }
}

/** The request an input holds: JSON, binary (`Inference-Header-Content-Length`), or `undefined` for a raw binary body. */
function decodeInput(input: AsyncInput, bytes: Uint8Array): InferRequest | undefined {
  if (input.headerLength !== undefined) return binaryInferRequest(bytes, input.headerLength);
  let json: unknown;
  try {
    // A byte-order mark is kept (not skipped) so that it is refused as in an inline JSON body.
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    refuseByteOrderMark(text, "the request's input");
    json = parseOwnJson(text);
  } catch (error) {
    if (isRefusal(error)) throw error;
    throw new InvalidRequestError(`the request's input is not a JSON inference request (send binary tensors with ${INFERENCE_HEADER_CONTENT_LENGTH}): ${(error as Error).message}`);
  }
  return parseInferRequest(json);
}

/**
 * Serves the request's input as the synchronous route does (shadow copies of JSON requests only;
 * a raw binary body's request made for the model that answers it); `tried` hears of every
 * version that takes it, so that a failure can name the version it failed on.
 */
async function serveInput(serving: Serving, request: AsyncRequest, decoded: InferRequest | undefined, bytes: Uint8Array, tried: (model: ServedModel) => void) {
  const target = { model: request.model, version: request.version, routingKey: request.routingKey, requestId: request.id };
  const copied = decoded !== undefined && decoded.inputs.every((input) => input.bytes === undefined) ? decoded : undefined;
  let effective = decoded;
  const served = await serving.serve(
    target,
    'v2',
    copied,
    (model) => {
      tried(model);
      effective = decoded ?? rawInferRequest([...model.inputs.values()], bytes);
      return infer(model, effective);
    },
    markV2,
  );
  return { served, effective: effective! };
}

/** Writes an answer as the synchronous route would send it: JSON, or binary outputs after a JSON header. */
async function writeResult(deps: RunAsyncDeps, id: string, answer: InferResponse, request: InferRequest): Promise<AsyncResult> {
  const binary = binaryOutputNames(request, answer.outputs);
  const key = resultKey(id);
  const encoded =
    binary.size === 0
      ? { body: Buffer.from(JSON.stringify(answer)), contentType: 'application/json' }
      : (({ body, headerLength }) => ({ body, contentType: 'application/octet-stream', headerLength }))(encodeBinaryAnswer(answer, binary));
  await callDependency('lake', () => deps.s3.send(new PutObjectCommand({ Bucket: deps.lakeBucket, Key: key, Body: encoded.body, ContentType: encoded.contentType })));
  return { key, sizeBytes: encoded.body.length, contentType: encoded.contentType, ...('headerLength' in encoded ? { headerLength: encoded.headerLength } : {}) };
}

/** Runs one delivery of request `id`'s message (`receiveCount`: SQS's ApproximateReceiveCount). */
export async function runAsyncRequest(deps: RunAsyncDeps, id: string, receiveCount: number): Promise<AsyncOutcome> {
  const request = await deps.store.claim(id);
  if (request === undefined) return { kind: 'duplicate' };
  let servedBy: AnsweredBy | undefined;
  try {
    const bytes = await readInput(deps, request.input);
    const { served, effective } = await serveInput(deps.serving, request, decodeInput(request.input, bytes), bytes, (model) => {
      servedBy = { version: model.version.version, backend: model.backend };
    });
    const result = await writeResult(deps, id, served.body, effective);
    const answeredBy = {
      version: served.model.version.version,
      backend: served.model.backend,
      ...(served.fallback === undefined ? {} : { fallbackFrom: served.fallback.from }),
    };
    if (!(await deps.store.succeed(id, answeredBy, result))) return { kind: 'duplicate' };
    await deps.events.publish({
      type: 'AsyncInferenceSucceeded',
      requestId: id,
      model: request.model,
      version: answeredBy.version,
      backend: answeredBy.backend,
      result: `s3://${deps.lakeBucket}/${result.key}`,
    });
    return { kind: 'succeeded' };
  } catch (error) {
    const reason = reasonOf(error);
    const refused = isRefusal(error);
    if (!refused && receiveCount < deps.maxReceives) {
      await deps.store.noteAttemptFailure(id, reason);
      return { kind: 'retry', error: error as Error };
    }
    const final = refused ? reason : `failed ${receiveCount} times; last failure: ${reason}`;
    if (await deps.store.fail(id, final, servedBy)) {
      await deps.events.publish({
        type: 'AsyncInferenceFailed',
        requestId: id,
        model: request.model,
        reason: final,
        attempts: request.attempts,
        ...(servedBy === undefined ? {} : { version: servedBy.version }),
      });
    }
    return { kind: 'failed', reason: final, deadLetter: !refused };
  }
}
