import type { APIGatewayProxyResult } from 'aws-lambda';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { isBinaryMediaType } from '../topology/binary-media-types.js';
import { LARGE_INPUT_ADVICE, MAX_REQUEST_HEADER_BYTES } from '../topology/limits.js';
import { allowedMethods, type FunctionSpec } from '../topology/spec.js';
import { FunctionInvocationError } from './local-function.js';
import { parseRequestTarget, toProxyEvent } from './proxy-event.js';
import { compileRoutes, matchPath } from './routes.js';

/** Invokes a function by id with an event. */
export type Invoke = (functionId: string, event: unknown) => Promise<unknown>;

/** Settings of the local API gateway. */
export interface GatewayOptions {
  readonly functions: readonly FunctionSpec[];
  readonly invoke: Invoke;
  /** The key every route requires in `x-api-key` (the local stand-in for API keys and IAM). */
  readonly apiKey: string;
  /**
   * Largest request as Lambda counts it: the serialized proxy event (the body as a JSON string,
   * every `"` and control character escaped, next to the headers and the request context). A
   * larger one gets 413 (in AWS, Lambda refuses the invocation and API Gateway answers 5xx).
   */
  readonly maxRequestBytes: number;
  /**
   * Largest function result (the serialized proxy result, as Lambda counts it); a larger one is a
   * 502 saying so, as Lambda's payload limit makes API Gateway answer 502 in AWS.
   */
  readonly maxResponseBytes: number;
  /**
   * The API's `binaryMediaTypes`: a request body of one of these reaches the function base64-encoded
   * (`isBase64Encoded: true`), and a base64 result is written as bytes only when the request's first
   * `Accept` media type is one of them (otherwise its base64 text is written, as API Gateway does).
   */
  readonly binaryMediaTypes: readonly string[];
}

class BodyTooLargeError extends Error {
  constructor(readonly size: number) {
    super('body too large');
  }
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new BodyTooLargeError(declared));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError(size));
        request.removeAllListeners('data');
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Writes the gateway's own error, in the platform's error shape, as API Gateway's gateway responses do. */
function sendError(response: ServerResponse, status: number, error: string, requestId: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error, correlation_id: requestId });
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

/**
 * Answers a request Node's HTTP parser refused before it became a request: headers over
 * {@link MAX_REQUEST_HEADER_BYTES} (431) or a malformed request (400), in the platform's error shape.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', `request line and headers exceed ${MAX_REQUEST_HEADER_BYTES} bytes (API Gateway's limit)`]
      : [400, 'Bad Request', 'malformed HTTP request'];
  const body = JSON.stringify({ error: message, correlation_id: randomUUID() });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/** Padded standard base64 (RFC 4648 §4), the only body the gateway decodes. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Writes a function's result: its body decoded from base64 when `asBytes`, else as the text it is. */
function sendResult(response: ServerResponse, result: APIGatewayProxyResult, asBytes: boolean): void {
  const headers: Record<string, string | number | boolean | readonly string[]> = { ...(result.headers ?? {}) };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  response.writeHead(result.statusCode, headers as Record<string, string>);
  response.end(asBytes ? Buffer.from(result.body, 'base64') : result.body);
}

function keyMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The local API gateway: matches requests against the topology's routes, enforces
 * the API key and the payload limit, turns each request into an API Gateway REST
 * proxy event for the same handler Lambda runs, and writes back its result.
 */
export function createGateway(options: GatewayOptions): Server {
  const routes = compileRoutes(options.functions);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const target = parseRequestTarget(request.url ?? '/');
    const requestId = randomUUID();
    // Node would answer this itself with an empty 400 (its requireHostHeader, turned off below).
    if (request.httpVersion === '1.1' && request.headers.host === undefined) {
      return sendError(response, 400, 'missing Host header: an HTTP/1.1 request must send one (RFC 9112 §3.2)', requestId);
    }
    const matches = matchPath(routes, target.path);
    if (matches.length === 0) return sendError(response, 404, `no route for ${request.method} ${target.path}`, requestId);
    // As API Gateway: the most specific resource first, then its method (HEAD is served by GET).
    const resource = matches.filter((m) => m.route.route.path === matches[0]!.route.route.path);
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const match = resource.find((m) => m.route.route.method === method);
    if (match === undefined) {
      const allowed = allowedMethods(resource.map((m) => m.route.route.method));
      return sendError(response, 405, `method '${request.method}' is not allowed on '${target.path}'; allowed: ${allowed.join(', ')}`, requestId, { allow: allowed.join(', ') });
    }

    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key === '') {
      return sendError(response, 401, 'missing API key: send it in the x-api-key header', requestId);
    }
    if (!keyMatches(key, options.apiKey)) return sendError(response, 403, 'invalid API key', requestId);

    let body: Buffer;
    try {
      // The event holds the body, so a body over the limit is refused before it is read whole.
      body = await readBody(request, options.maxRequestBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      response.setHeader('connection', 'close');
      return sendError(
        response,
        413,
        `request body is ${error.size} bytes; the limit is ${options.maxRequestBytes} bytes (split the request into smaller ones; ${LARGE_INPUT_ADVICE})`,
        requestId,
      );
    }

    const event = toProxyEvent(request, target, match, body, { requestId, apiKeyId: 'local-dev-key' }, options.binaryMediaTypes);
    const eventSize = Buffer.byteLength(JSON.stringify(event));
    if (eventSize > options.maxRequestBytes) {
      const encoded = event.isBase64Encoded ? 'base64-encoded (its Content-Type is a binary media type)' : 'escaped as a JSON string';
      return sendError(
        response,
        413,
        `request is ${eventSize} bytes as Lambda receives it (a ${body.length}-byte body ${encoded} in the API Gateway event, with the headers and request context); ` +
          `the limit is ${options.maxRequestBytes} bytes (split the request into smaller ones; ${LARGE_INPUT_ADVICE})`,
        requestId,
      );
    }
    try {
      const result = (await options.invoke(match.route.functionId, event)) as APIGatewayProxyResult;
      const size = Buffer.byteLength(JSON.stringify(result));
      if (size > options.maxResponseBytes) {
        return sendError(response, 502, `the function's response is ${size} bytes, over Lambda's limit of ${options.maxResponseBytes} bytes for a synchronous response (API Gateway answers 502 in AWS)`, requestId);
      }
      // As API Gateway: a base64 result becomes bytes only for a binary first Accept media type (the
      // result's Content-Type plays no part); otherwise its base64 text is the body. One it cannot decode is a 500.
      const asBytes = result.isBase64Encoded === true && isBinaryMediaType(request.headers.accept, options.binaryMediaTypes);
      if (asBytes && !(typeof result.body === 'string' && BASE64.test(result.body))) {
        return sendError(response, 500, 'internal server error', requestId);
      }
      sendResult(response, result, asBytes);
    } catch (error) {
      const timedOut = error instanceof FunctionInvocationError && error.error.name === 'TimeoutError';
      sendError(response, timedOut ? 504 : 502, timedOut ? 'endpoint request timed out' : 'internal server error', requestId);
    }
  };

  const server = createServer({ maxHeaderSize: MAX_REQUEST_HEADER_BYTES, requireHostHeader: false }, (request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) sendError(response, 500, 'local gateway error', randomUUID());
      else response.destroy();
    });
  });
  server.on('clientError', answerClientError);
  return server;
}
