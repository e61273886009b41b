/**
 * The async worker's work for one message: claim the request, read its input from the lake,
 * serve it through the one inference path (`serving.ts`) with the request's routing key (so every
 * attempt lands on the same variant of a split alias), write the answer under
 * `predictions/async/results/`, and end the request with an event. A refusal (bad shape, unknown
 * model) ends it as failed at once; another failure is recorded and retried until the queue's
 * last receive, which ends it as failed and lets the message go to the dead-letter queue.
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { callDependency } from '../aws/dependency-errors.js';
import { clip, InvalidRequestError, isRefusal, PlatformError } from '../errors.js';
import type { EventSink } from '../registry/events.js';
import { parseOwnJson } from '../validation/own-json.js';
import { binaryInferRequest, binaryOutputNames, encodeBinaryAnswer, rawInferRequest } from '../inference/binary-infer.js';
import { markV2, type Serving } from '../inference/serving.js';
import { infer, INFERENCE_HEADER_CONTENT_LENGTH, parseInferRequest, type InferRequest, type InferResponse } from '../inference/v2-protocol.js';
import type { AsyncInferenceEvent } from './async-events.js';
import { resultKey } from './async-keys.js';
import type { AsyncInput, AsyncRequest, AsyncResult } from './async-request.js';
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

/** A failure's reason as the status resource shows it. */
const reasonOf = (error: unknown): string =>
  clip(error instanceof PlatformError ? error.message : `${(error as Error).name ?? 'Error'}: ${(error as Error).message ?? String(error)}`, MAX_REASON_CHARS);

/** The input's bytes; a refusal when it is gone (expired, or deleted by the caller). */
async function readInput(deps: RunAsyncDeps, input: AsyncInput): Promise<Uint8Array> {
  try {
    return await callDependency('lake', async () => {
      const object = await deps.s3.send(new GetObjectCommand({ Bucket: deps.lakeBucket, Key: input.key }));
      return object.Body!.transformToByteArray();
    });
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') throw new InvalidRequestError(`the request's input (${input.key}) no longer exists`);
    throw error;
  }
}

/** The request an input holds: JSON, binary (`Inference-Header-Content-Length`), or `undefined` for a raw binary body. */
function decodeInput(input: AsyncInput, bytes: Uint8Array): InferRequest | undefined {
  if (input.headerLength !== undefined) return binaryInferRequest(bytes, input.headerLength);
  let json: unknown;
  try {
    json = parseOwnJson(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new InvalidRequestError(`the request's input is not a JSON inference request (send binary tensors with ${INFERENCE_HEADER_CONTENT_LENGTH}): ${(error as Error).message}`);
  }
  return parseInferRequest(json);
}

/** Serves the request's input (JSON requests through `Serving.infer`; binary ones without shadow copies, as the synchronous route). */
async function serveInput(serving: Serving, request: AsyncRequest, decoded: InferRequest | undefined, bytes: Uint8Array) {
  const target = { model: request.model, version: request.version, routingKey: request.routingKey, requestId: request.id };
  if (decoded !== undefined && decoded.inputs.every((input) => input.bytes === undefined)) return { served: await serving.infer(target, decoded), effective: decoded };
  let effective = decoded;
  const served = await serving.serve(
    target,
    'v2',
    undefined,
    (model) => {
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
  try {
    const bytes = await readInput(deps, request.input);
    const { served, effective } = await serveInput(deps.serving, request, decodeInput(request.input, bytes), bytes);
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
    if (await deps.store.fail(id, final)) {
      await deps.events.publish({ type: 'AsyncInferenceFailed', requestId: id, model: request.model, reason: final, attempts: request.attempts });
    }
    return { kind: 'failed', reason: final, deadLetter: !refused };
  }
}
