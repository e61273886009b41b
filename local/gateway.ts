import type { APIGatewayProxyResult } from 'aws-lambda';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FunctionSpec } from '../infra/topology.js';
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
  /** Largest request body accepted; larger ones get 413, as Lambda's payload limit does in AWS. */
  readonly maxBodyBytes: number;
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
function sendError(response: ServerResponse, status: number, error: string, requestId: string): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify({ error, correlation_id: requestId }));
}

function sendResult(response: ServerResponse, result: APIGatewayProxyResult): void {
  const headers: Record<string, string | number | boolean | readonly string[]> = { ...(result.headers ?? {}) };
  for (const [name, values] of Object.entries(result.multiValueHeaders ?? {})) headers[name] = values.map(String);
  response.writeHead(result.statusCode, headers as Record<string, string>);
  response.end(result.isBase64Encoded === true ? Buffer.from(result.body, 'base64') : result.body);
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
    const matches = matchPath(routes, target.path);
    if (matches.length === 0) return sendError(response, 404, `no route for ${request.method} ${target.path}`, requestId);
    const match = matches.find((m) => m.route.route.method === request.method);
    if (match === undefined) return sendError(response, 405, `method ${request.method} is not allowed on ${target.path}`, requestId);

    const key = request.headers['x-api-key'];
    if (typeof key !== 'string' || key === '') {
      return sendError(response, 401, 'missing API key: send it in the x-api-key header', requestId);
    }
    if (!keyMatches(key, options.apiKey)) return sendError(response, 403, 'invalid API key', requestId);

    let body: Buffer;
    try {
      body = await readBody(request, options.maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      response.setHeader('connection', 'close');
      return sendError(
        response,
        413,
        `request body is ${error.size} bytes; the limit is ${options.maxBodyBytes} bytes (send bulk predictions through batch)`,
        requestId,
      );
    }

    const event = toProxyEvent(request, target, match, body, { requestId, apiKeyId: 'local-dev-key' });
    try {
      sendResult(response, (await options.invoke(match.route.functionId, event)) as APIGatewayProxyResult);
    } catch (error) {
      const timedOut = error instanceof FunctionInvocationError && error.error.name === 'TimeoutError';
      sendError(response, timedOut ? 504 : 502, timedOut ? 'endpoint request timed out' : 'internal server error', requestId);
    }
  };

  return createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) sendError(response, 500, 'local gateway error', randomUUID());
      else response.destroy();
    });
  });
}
