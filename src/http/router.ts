import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { MethodNotAllowedError, NotFoundError, quote } from './errors.js';

/** A route handler: receives the event, returns the response (or throws a typed error). */
export type RouteHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** Route table keyed by `"<METHOD> <resource>"`, e.g. `"POST /v2/models/{name}/infer"`. */
export type RouteTable = Readonly<Record<string, RouteHandler>>;

/**
 * Dispatches an API Gateway REST proxy event on its `httpMethod` and `resource`
 * (the route template API Gateway, or the local gateway, matched).
 */
export function dispatch(routes: RouteTable, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const route = routes[`${event.httpMethod} ${event.resource}`];
  if (route !== undefined) return route(event);
  const knownResource = Object.keys(routes).some((key) => key.endsWith(` ${event.resource}`));
  if (knownResource) throw new MethodNotAllowedError(event.httpMethod, event.path);
  throw new NotFoundError(`no route for ${event.httpMethod} ${quote(event.path)}`);
}

/** A path parameter API Gateway extracted; a missing one is a wiring bug, not a client error. */
export function pathParam(event: Pick<APIGatewayProxyEvent, 'pathParameters'>, name: string): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || value === '') throw new Error(`route is missing path parameter '${name}'`);
  return value;
}
