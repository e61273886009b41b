import type { FunctionSpec, RouteSpec } from '../topology/spec.js';

/** A topology route compiled for matching request paths. */
export interface CompiledRoute {
  readonly route: RouteSpec;
  readonly functionId: string;
  readonly pattern: RegExp;
  readonly params: readonly string[];
  readonly literalSegments: number;
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
    literalSegments: segments.length - params.length,
  };
}

/** Compiles every function's routes; literal segments win over parameters, as in API Gateway. */
export function compileRoutes(functions: readonly FunctionSpec[]): CompiledRoute[] {
  return functions
    .flatMap((fn) => fn.routes.map((route) => compile(route, fn.id)))
    .sort((a, b) => b.literalSegments - a.literalSegments);
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
