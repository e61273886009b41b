import type { FunctionSpec, RouteSpec } from '../topology/spec.js';

/** A topology route compiled for matching request paths. */
export interface CompiledRoute {
  readonly route: RouteSpec;
  readonly functionId: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  /** Each segment of the template: `true` when literal, `false` when a parameter. */
  readonly literal: readonly boolean[];
}

/** A request path matched to a route template. */
export interface RouteMatch {
  readonly route: CompiledRoute;
  readonly pathParameters: Record<string, string>;
}

function compile(route: RouteSpec, functionId: string): CompiledRoute {
  const params: string[] = [];
  const segments = route.path.split('/').filter(Boolean);
  const source = segments
    .map((segment) => {
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (param === null) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(param[1]!);
      return '([^/]+)';
    })
    .join('/');
  return {
    route,
    functionId,
    pattern: new RegExp(`^/${source}/?$`),
    params,
    literal: segments.map((segment) => !/^\{[A-Za-z0-9_]+\}$/.test(segment)),
  };
}

/**
 * API Gateway's precedence between two templates that match the same path: compared segment by
 * segment from the left, the first segment where one is literal and the other a parameter decides
 * (the literal wins): `/a/{x}/c` before `/{y}/b/c`.
 */
export function byPrecedence(a: CompiledRoute, b: CompiledRoute): number {
  for (let i = 0; i < Math.min(a.literal.length, b.literal.length); i++) {
    if (a.literal[i] !== b.literal[i]) return a.literal[i] ? -1 : 1;
  }
  return 0;
}

/** Compiles every function's routes, most specific first (segment by segment, literal before parameter, as API Gateway). */
export function compileRoutes(functions: readonly FunctionSpec[]): CompiledRoute[] {
  return functions.flatMap((fn) => fn.routes.map((route) => compile(route, fn.id))).sort(byPrecedence);
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Finds the route template for a path. Returns the routes whose template
 * matches regardless of method, so the caller can tell 404 from 405.
 */
export function matchPath(routes: readonly CompiledRoute[], path: string): RouteMatch[] {
  const matches: RouteMatch[] = [];
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (found === null) continue;
    const pathParameters: Record<string, string> = {};
    route.params.forEach((name, i) => {
      const raw = found[i + 1]!;
      pathParameters[name] = safeDecode(raw);
    });
    matches.push({ route, pathParameters });
  }
  return matches;
}
