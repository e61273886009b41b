import { describe, expect, it } from 'vitest';
import { type FunctionSpec, type RouteSpec } from '../topology/spec.js';
import { topology } from '../topology/topology.js';
import { byPrecedence, compileRoutes, matchPath } from './routes.js';
import { functionSpec } from '../test/support/function-spec.js';

const routes = compileRoutes(topology.functions);

/** A function spec with only routes, for precedence cases the platform topology does not have. */
const withRoutes = (id: string, routes: readonly RouteSpec[]): FunctionSpec => functionSpec(id, { routes });

describe('compileRoutes', () => {
  it('compiles every route of every function of the topology', () => {
    // Prepare
    const expected = topology.functions.flatMap((fn) => fn.routes.map((route) => `${fn.id} ${route.method} ${route.path}`));

    // Act
    const compiled = routes.map((r) => `${r.functionId} ${r.route.method} ${r.route.path}`);

    // Assess
    expect(compiled.sort()).toEqual(expected.sort());
  });

  it('orders routes most specific first: no later route is literal where an earlier one has a parameter', () => {
    // Act
    const outOfOrder = routes.flatMap((earlier, i) => routes.slice(i + 1).filter((later) => byPrecedence(earlier, later) > 0).map((later) => `${earlier.route.path} before ${later.route.path}`));

    // Assess
    expect(outOfOrder).toEqual([]);
  });
});

describe('matchPath on the platform topology', () => {
  it('matches a versioned OIP inference path with name and version parameters', () => {
    // Act
    const matches = matchPath(routes, '/v2/models/iris/versions/prod/infer');

    // Assess
    expect(matches).toHaveLength(1);
    const [match] = matches;
    expect(match?.route.route).toEqual({ method: 'POST', path: '/v2/models/{name}/versions/{version}/infer', auth: 'apiKey' });
    expect(match?.route.functionId).toBe('predict');
    expect(match?.pathParameters).toEqual({ name: 'iris', version: 'prod' });
  });

  it('gives the KServe v1 segment as nameAndVerb', () => {
    // Act
    const matches = matchPath(routes, '/v1/models/iris:predict');

    // Assess: one resource, with the predict (POST) and model status (GET) methods.
    expect(matches.map((m) => m.route.route.method).sort()).toEqual(['GET', 'POST']);
    expect(matches.every((m) => m.route.route.path === '/v1/models/{nameAndVerb}')).toBe(true);
    expect(matches[0]?.pathParameters).toEqual({ nameAndVerb: 'iris:predict' });
  });

  it('routes KServe v1 predictions of a version to the predict function', () => {
    // Act
    const matches = matchPath(routes, '/v1/models/iris/versions/2:predict');

    // Assess
    expect(matches.map((m) => [m.route.route.method, m.route.route.path, m.route.functionId])).toEqual([
      ['POST', '/v1/models/{nameAndVerb}/versions/{versionAndVerb}', 'predict'],
    ]);
    expect(matches[0]?.pathParameters).toEqual({ nameAndVerb: 'iris', versionAndVerb: '2:predict' });
  });

  it('decodes percent-encoded path parameters', () => {
    // Act
    const matches = matchPath(routes, '/v1/models/iris%3Apredict');

    // Assess
    expect(matches[0]?.pathParameters).toEqual({ nameAndVerb: 'iris:predict' });
  });

  it('keeps a malformed percent escape as it was sent instead of throwing', () => {
    // Act
    const matches = matchPath(routes, '/v2/models/100%zz');

    // Assess
    expect(matches.map((m) => m.pathParameters)).toEqual([{ name: '100%zz' }]);
  });

  it('matches a literal route with no path parameters', () => {
    // Act
    const matches = matchPath(routes, '/v2/health/ready');

    // Assess
    expect(matches).toHaveLength(1);
    expect(matches[0]?.route.route).toEqual({ method: 'GET', path: '/v2/health/ready', auth: 'apiKey' });
    expect(matches[0]?.pathParameters).toEqual({});
  });

  it('accepts a trailing slash', () => {
    // Act
    const matches = matchPath(routes, '/v2/models/iris/ready/');

    // Assess
    expect(matches.map((m) => m.route.route.path)).toEqual(['/v2/models/{name}/ready']);
    expect(matches[0]?.pathParameters).toEqual({ name: 'iris' });
  });

  it.each(['/', '/v3/models/iris', '/v2/models', '/v2/models/iris/infer/extra', '/v2/models//infer', '/models/iris/unknown', '/V2/health/ready'])(
    'finds no route for %s',
    (path) => {
      // Act
      const matches = matchPath(routes, path);

      // Assess
      expect(matches).toEqual([]);
    },
  );

  it('returns every method on one path so the gateway can tell 405 from 404', () => {
    // Act
    const matches = matchPath(routes, '/models/iris/aliases/prod');

    // Assess
    expect(matches.map((m) => m.route.route.method).sort()).toEqual(['DELETE', 'GET', 'PUT']);
    for (const match of matches) {
      expect(match.route.functionId).toBe('control-plane');
      expect(match.route.route.path).toBe('/models/{name}/aliases/{alias}');
      expect(match.pathParameters).toEqual({ name: 'iris', alias: 'prod' });
    }
  });

  it('returns GET and POST of a collection path', () => {
    // Act
    const matches = matchPath(routes, '/models');

    // Assess
    expect(matches.map((m) => m.route.route.method).sort()).toEqual(['GET', 'POST']);
    expect(matches.every((m) => m.route.route.auth === 'iam')).toBe(true);
  });

  it('treats regular-expression characters in literal segments literally', () => {
    // Prepare
    const compiled = compileRoutes([withRoutes('dots', [{ method: 'GET', path: '/v1.0/files', auth: 'apiKey' }])]);

    // Act
    const literal = matchPath(compiled, '/v1.0/files');
    const lookalike = matchPath(compiled, '/v1x0/files');

    // Assess
    expect(literal).toHaveLength(1);
    expect(lookalike).toEqual([]);
  });
});

describe('matchPath precedence', () => {
  it('puts a literal route before a parameter route that matches the same path', () => {
    // Prepare: the parameter route is declared first, in another function.
    const compiled = compileRoutes([
      withRoutes('by-name', [{ method: 'GET', path: '/v2/models/{name}', auth: 'apiKey' }]),
      withRoutes('ready', [{ method: 'GET', path: '/v2/models/ready', auth: 'apiKey' }]),
    ]);

    // Act
    const matches = matchPath(compiled, '/v2/models/ready');

    // Assess
    expect(matches.map((m) => m.route.functionId)).toEqual(['ready', 'by-name']);
    expect(matches[0]?.pathParameters).toEqual({});
    expect(matches[1]?.pathParameters).toEqual({ name: 'ready' });
  });

  it('decides segment by segment from the left, not by counting literal segments', () => {
    // Prepare: two literal segments each; the first segment decides (declared in the other order).
    const compiled = compileRoutes([
      withRoutes('param-first', [{ method: 'GET', path: '/{kind}/b/c', auth: 'apiKey' }]),
      withRoutes('literal-first', [{ method: 'GET', path: '/a/{id}/c', auth: 'apiKey' }]),
    ]);

    // Act
    const matches = matchPath(compiled, '/a/b/c');

    // Assess
    expect(matches.map((m) => m.route.functionId)).toEqual(['literal-first', 'param-first']);
    expect(matches[0]?.pathParameters).toEqual({ id: 'b' });
  });

  it('still routes other values to the parameter route', () => {
    // Prepare
    const compiled = compileRoutes([
      withRoutes('by-name', [{ method: 'GET', path: '/v2/models/{name}', auth: 'apiKey' }]),
      withRoutes('ready', [{ method: 'GET', path: '/v2/models/ready', auth: 'apiKey' }]),
    ]);

    // Act
    const matches = matchPath(compiled, '/v2/models/iris');

    // Assess
    expect(matches.map((m) => m.route.functionId)).toEqual(['by-name']);
    expect(matches[0]?.pathParameters).toEqual({ name: 'iris' });
  });
});
