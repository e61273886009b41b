/**
 * An async inference request: what was asked, where its input and result are, and the state it
 * is in. Plain data and pure rules (no AWS): the store (`async-store.ts`) persists it, the worker
 * (`run-async-request.ts`) moves it along, the status route (`async-routes.ts`) shows it.
 *
 * ```
 * queued ──claim──► running ──answer──► succeeded
 *    │                 │  └─ transient failure: stays running, lastError recorded, retried by SQS
 *    └─────────────────┴──refusal, or last receive──► failed (with its reason)
 * any state, once expiresAt has passed ──► expired (as shown; DynamoDB TTL deletes the item later: 404)
 * ```
 */
import { ASYNC_RETENTION_DAYS } from '../../topology/storage-layout.js';

/** States a request is stored in. */
export type StoredStatus = 'queued' | 'running' | 'succeeded' | 'failed';

/** States a request is shown in: a stored state, or `expired` once its retention has passed. */
export type AsyncStatus = StoredStatus | 'expired';

/** How long a request, its input and its result are kept ({@link ASYNC_RETENTION_DAYS} days). */
export const ASYNC_RETENTION_MS = ASYNC_RETENTION_DAYS * 24 * 60 * 60 * 1000;

/** Where a request's input is in the lake, and how it is encoded (the headers the request came with). */
export interface AsyncInput {
  /** The lake key: `predictions/async/inputs/<id>` (sent inline) or `predictions/async/uploads/<id>` (uploaded). */
  readonly key: string;
  readonly sizeBytes: number;
  /**
   * The uploaded object's ETag when the request was accepted: the input is pinned to it (the
   * presigned URL stays valid after the 202), and a request whose upload changed fails.
   * @default - an inline input (the platform wrote it, under the request's own key)
   */
  readonly etag?: string;
  /** The request's `Content-Type`. @default - JSON */
  readonly contentType?: string;
  /** The request's `Inference-Header-Content-Length` (binary tensor data extension). @default - none: a JSON body */
  readonly headerLength?: string;
}

/** Where a request's result is in the lake. */
export interface AsyncResult {
  /** `predictions/async/results/<id>`. */
  readonly key: string;
  readonly sizeBytes: number;
  readonly contentType: string;
  /** The length of the JSON part of a binary answer (`Inference-Header-Content-Length`). @default - a JSON answer */
  readonly headerLength?: number;
}

/** The version that answered, as a synchronous answer's headers name it. */
export interface AnsweredBy {
  readonly version: number;
  readonly backend: string;
  /** The version the alias picked, when its fallback answered. @default - not a fallback answer */
  readonly fallbackFrom?: number;
}

/** An async inference request as stored. */
export interface AsyncRequest {
  readonly id: string;
  readonly status: StoredStatus;
  readonly model: string;
  /** The version or alias the path named. @default - the model's default alias */
  readonly version?: string;
  /** Keeps every attempt of the request on one variant of a split alias (`x-routing-key`, else the id). */
  readonly routingKey: string;
  readonly input: AsyncInput;
  readonly createdAt: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** Attempts started (deliveries of its message that claimed it). */
  readonly attempts: number;
  /** The version that answered; for a failed request, the version that was serving it when it failed, when one was. */
  readonly answeredBy?: AnsweredBy;
  readonly result?: AsyncResult;
  /** Why a failed request failed. */
  readonly error?: string;
  /** Why the last attempt failed (a transient failure that is retried). */
  readonly lastError?: string;
  /** When the request expires, in epoch seconds (the registry table's TTL attribute). */
  readonly expiresAt: number;
}

/** When a request created at `createdAt` (epoch ms) expires, in epoch seconds (a DynamoDB TTL value). */
export const expiresAtFor = (createdAtMs: number): number => Math.ceil((createdAtMs + ASYNC_RETENTION_MS) / 1000);

/** The state a request is shown in at `nowMs`: `expired` once its retention has passed, whatever it was. */
export const statusAt = (request: Pick<AsyncRequest, 'status' | 'expiresAt'>, nowMs: number): AsyncStatus =>
  nowMs >= request.expiresAt * 1000 ? 'expired' : request.status;

/** Whether a request has ended (nothing more will happen to it). */
export const isFinished = (status: StoredStatus): boolean => status === 'succeeded' || status === 'failed';

/** States a worker may claim a request from: queued, or running (a redelivery after its worker died or failed transiently). */
export const CLAIMABLE: readonly StoredStatus[] = ['queued', 'running'];
