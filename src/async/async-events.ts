/**
 * Events of async inference, published on the registry's event bus (`serverless-ai-platform.registry`,
 * detail-type = `type`) when a request ends, so callers can react instead of polling.
 */
import type { PlatformEvent } from '../registry/events.js';

/** A request ended. */
export type AsyncInferenceEvent =
  | (PlatformEvent & {
      readonly type: 'AsyncInferenceSucceeded';
      readonly requestId: string;
      readonly model: string;
      /** The version that answered. */
      readonly version: number;
      readonly backend: string;
      /** `s3://…/predictions/async/results/<id>`. */
      readonly result: string;
    })
  | (PlatformEvent & {
      readonly type: 'AsyncInferenceFailed';
      readonly requestId: string;
      readonly model: string;
      readonly reason: string;
      readonly attempts: number;
      /** The version the request failed on, when one took it. @default - none did (e.g. the model could not be resolved) */
      readonly version?: number;
    });
