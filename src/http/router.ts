import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { allowedMethods } from '../../topology/spec.js';
import { topology } from '../../topology/topology.js';
import { InvalidRequestError, NotFoundError, quote } from '../errors.js';
import { MethodNotAllowedError } from './errors.js';
import { nearMiss } from '../validation/strict-parse.js';

/** A route handler: receives the event, returns the response (or throws a typed error). */
export type RouteHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** Route table keyed by `"<METHOD> <resource>"`, e.g. `"POST /v2/models/{name}/infer"`. */
export type RouteTable = Readonly<Record<string, RouteHandler>>;

/** Methods whose requests carry no body on any route. */
const BODYLESS_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

/** The query parameters of each route (`"GET /models"` → `limit`, `cursor`), as the topology declares them. */
const QUERY_PARAMETERS: ReadonlyMap<string, readonly string[]> = new Map(
  topology.functions.flatMap((fn) => fn.routes.map((route) => [`${route.method} ${route.path}`, route.query ?? []] as const)),
);

/** 400 for a query parameter the route does not read, naming it, the one it resembles, and those it reads. */
function checkQuery(routeKey: string, event: Pick<APIGatewayProxyEvent, 'queryStringParameters' | 'multiValueQueryStringParameters'>): void {
  const given = Object.keys({ ...event.queryStringParameters, ...event.multiValueQueryStringParameters });
  const known = QUERY_PARAMETERS.get(routeKey) ?? [];
  const unknown = given.find((name) => !known.includes(name));
  if (unknown === undefined) {
    // Every parameter takes one value: API Gateway would pass only the last of several to the route.
    const repeated = Object.entries(event.multiValueQueryStringParameters ?? {}).find(([, values]) => (values?.length ?? 0) > 1);
    if (repeated !== undefined) throw new InvalidRequestError(`query parameter ${quote(repeated[0])} is given ${repeated[1]!.length} times; it takes one value`);
    return;
  }
  const suggestion = nearMiss(unknown, known);
  const knownText = known.length === 0 ? 'this route takes no query parameters' : `known: ${known.join(', ')}`;
  throw new InvalidRequestError(`unknown query parameter ${quote(unknown)}${suggestion === undefined ? '' : ` (did you mean '${suggestion}'?)`}; ${knownText}`);
}

/**
 * Dispatches an API Gateway REST proxy event on its `httpMethod` and `resource`
 * (the route template API Gateway, or the local gateway, matched). HEAD is answered by the GET
 * route without the body. A GET, HEAD or DELETE that carries a body is a 400 (no route reads
 * one, and ignoring it would hide the caller's mistake), and so is a query parameter the route
 * does not read (the topology lists each route's); a method the resource lacks is a 405 with `Allow`.
 */
export async function dispatch(routes: RouteTable, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const head = event.httpMethod === 'HEAD';
  const route = routes[`${head ? 'GET' : event.httpMethod} ${event.resource}`];
  if (route === undefined) {
    const methods = Object.keys(routes).filter((key) => key.endsWith(` ${event.resource}`)).map((key) => key.split(' ', 1)[0]!);
    if (methods.length > 0) throw new MethodNotAllowedError(event.httpMethod, event.path, allowedMethods(methods));
    throw new NotFoundError(`no route for ${event.httpMethod} ${quote(event.path)}`);
  }
  if (BODYLESS_METHODS.has(event.httpMethod) && event.body !== null && event.body !== '') {
    throw new InvalidRequestError(`a ${event.httpMethod} request takes no body (this one has ${Buffer.byteLength(event.body)} bytes): send parameters in the path or query string`);
  }
  checkQuery(`${head ? 'GET' : event.httpMethod} ${event.resource}`, event);
  const response = await route(event);
  return head ? { ...response, body: '' } : response;
}

/** A path parameter API Gateway extracted; a missing one is a wiring bug, not a client error. */
export function pathParam(event: Pick<APIGatewayProxyEvent, 'pathParameters'>, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === '') throw new Error(`route is missing path parameter '${name}'`);
  return value;
}
