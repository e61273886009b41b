import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { IncomingMessage } from 'node:http';
import { isBinaryMediaType } from '../topology/binary-media-types.js';
import type { RouteMatch } from './routes.js';

/** The path and query of an HTTP request, as the client sent them. */
export interface RequestTarget {
  /** The path exactly as sent: not decoded, dot segments and empty segments kept. */
  readonly path: string;
  readonly query: URLSearchParams;
}

/**
 * Splits a request target (`/v2/models/iris?x=1`) into its path and query without
 * resolving it as a URL: `new URL()` would read `//host/v2` as a protocol-relative URL
 * (serving `/v2`), throw on `//`, and fold `..` segments and backslashes; routes are matched
 * against the path as the client sent it. A target that is not a path (`*`, `http://…`) yields a path no route has.
 */
export function parseRequestTarget(target: string): RequestTarget {
  const queryAt = target.indexOf('?');
  return queryAt === -1
    ? { path: target, query: new URLSearchParams() }
    : { path: target.slice(0, queryAt), query: new URLSearchParams(target.slice(queryAt + 1)) };
}

/**
 * Builds the API Gateway REST proxy event that API Gateway would send for this request. A body whose
 * `Content-Type` is one of `binaryMediaTypes` arrives base64-encoded with `isBase64Encoded: true`;
 * any other body as UTF-8 text (bytes that are not UTF-8 become U+FFFD, as API Gateway passes them).
 */
export function toProxyEvent(
  request: IncomingMessage,
  target: RequestTarget,
  match: RouteMatch,
  body: Buffer,
  ids: { readonly requestId: string; readonly apiKeyId: string },
  binaryMediaTypes: readonly string[],
): APIGatewayProxyEvent {
  const { requestId, apiKeyId } = ids;
  const binary = body.length > 0 && isBinaryMediaType(request.headers['content-type'], binaryMediaTypes);
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!;
    const value = request.rawHeaders[i + 1]!;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [key, value] of target.query) {
    query[key] = value;
    (multiQuery[key] ??= []).push(value);
  }
  const hasQuery = Object.keys(query).length > 0;
  const resource = match.route.route.path;
  const sourceIp = request.socket.remoteAddress ?? '127.0.0.1';
  return {
    resource,
    path: target.path,
    httpMethod: request.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(match.pathParameters).length > 0 ? match.pathParameters : null,
    stageVariables: null,
    body: body.length === 0 ? null : body.toString(binary ? 'base64' : 'utf8'),
    isBase64Encoded: binary,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${request.httpVersion}`,
      httpMethod: request.method ?? 'GET',
      path: target.path,
      stage: 'local',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: resource,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: request.headers['user-agent'] ?? null,
        userArn: null,
      },
    },
  };
}
