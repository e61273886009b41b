/** Limits of the platform that the stack, the local cloud and the functions all respect. */

/** Memory of the training function, which also bounds the jobs the control plane accepts. */
export const TRAINING_MEMORY_MB = 4096;

/** Maximum request/response payload: the Lambda synchronous invocation limit. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * What to do with an inference input over the synchronous payload limit: said by the infer routes'
 * 413, by the local gateway's, and by API Gateway's own (a body over its 10 MB) in AWS.
 */
export const LARGE_INPUT_ADVICE =
  'an inference input this large goes through an upload: POST /v2/async/uploads, PUT the body to its uploadUrl, then send POST /v2/models/{name}/infer with "Prefer: respond-async" and x-input-location (KServe v1 :predict has no async form)';

/** Largest request line and headers together: API Gateway's REST API quota (10,240 bytes); the local gateway applies it too. */
export const MAX_REQUEST_HEADER_BYTES = 10_240;

/**
 * Request and response media types API Gateway passes as bytes (its `binaryMediaTypes`): a request
 * body of one of these reaches the function base64-encoded (`isBase64Encoded`), 4/3 its size, and a
 * base64 result goes back as bytes when the request's first `Accept` value is one of them. Binary
 * tensors (the Open Inference Protocol's binary data extension) travel as `application/octet-stream`;
 * JSON stays text, so a JSON request keeps the whole payload limit.
 */
export const BINARY_MEDIA_TYPES: readonly string[] = ['application/octet-stream'];
