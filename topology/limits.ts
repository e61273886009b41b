/** Limits of the platform that the stack, the local cloud and the functions all respect. */

/** Memory of the training function, which also bounds the jobs the control plane accepts. */
export const TRAINING_MEMORY_MB = 4096;

/** Maximum request/response payload: the Lambda synchronous invocation limit. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/** Largest request line and headers together: API Gateway's REST API quota (10,240 bytes); the local gateway applies it too. */
export const MAX_REQUEST_HEADER_BYTES = 10_240;
