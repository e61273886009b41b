/** Messages between the local cloud and a function's host process. */

/** Parent → host: run the handler once. */
export interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: string;
  readonly event: unknown;
  readonly deadlineMs: number;
}

/** A handler error as it crosses the process boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Host → parent. */
export type HostMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: SerializedError }
  | { readonly type: 'result'; readonly id: string; readonly ok: true; readonly result: unknown }
  | { readonly type: 'result'; readonly id: string; readonly ok: false; readonly error: SerializedError };

/** Environment variable naming the handler entry the host loads. */
export const ENTRY_ENV = 'LOCAL_FUNCTION_ENTRY';

/** Turns anything thrown into a {@link SerializedError}. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
  return { name: 'Error', message: String(error) };
}
