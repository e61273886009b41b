import type { RouteSpec, Topology } from '../../topology/spec.js';
import { corruptText, fromValue, hostileValue, mutate, toText, type JsonNode } from './json-text.js';
import { createRng, requestSeed, type Rng } from './prng.js';

/** One fuzz request, fully determined by its run seed and index. */
export interface FuzzRequest {
  readonly index: number;
  /** The route template it was made from (`POST /models/{name}/versions`). */
  readonly route: string;
  readonly method: string;
  /** Path and query exactly as sent. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** What the fuzzer knows of the platform under test, so some requests reach deep code. */
export interface FuzzContext {
  readonly apiKey: string;
  /** Registered artifacts (`s3://lake/models/iris/uploads/….onnx`), for plausible registrations. */
  readonly artifactUris: readonly string[];
}

/** Plausible values of path parameters by name; parameters not listed get generic values. */
const PARAMETER_VALUES: Readonly<Record<string, readonly string[]>> = {
  name: ['iris', 'mlp', 'sensor_cnn', 'fuzz-model'],
  version: ['1', '2', '3', 'prod', 'staging', 'latest'],
  alias: ['prod', 'staging', 'canary'],
  dataset: ['iris', 'credit', 'fuzz-data'],
  id: ['iris~01J0000000000000000000000', 'fuzz~x'],
  nameAndVerb: ['iris:predict', 'mlp:predict', 'iris:explain', 'iris'],
};
const GENERIC_VALUES = ['x', '1', 'prod'];

/** Path segments that break routing and parameter parsing: empty, dot segments, encoded slashes, bad escapes, unicode, huge, prototype names. */
function hostileSegment(rng: Rng): string {
  return rng.pick([
    () => rng.pick(['', '.', '..', '%2e%2e', '%252e%252e', '%2F', 'a%2Fb', '%5C', '%00', '%', '%zz', '%C0%AF', '%20', '~', '%3A', ':', '::predict']),
    () => rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype']),
    () => rng.pick(['-1', '0', '1e400', '1.5', 'NaN', '99999999999999999999', '0x10', '01']),
    () => encodeURIComponent(rng.pick(['名前', '💩', 'é', '\u0000', '\ud7ff', "'\"<>", 'a b'])),
    () => 'a'.repeat(rng.pick([64, 129, 256, 1_100, 4_000])),
    () => `${rng.pick(['iris', 'mlp'])}:${rng.pick(['predict', 'predict:predict', '', 'PREDICT', 'a'.repeat(300)])}`,
  ])();
}

function parameterValue(name: string, rng: Rng): string {
  if (rng.chance(0.2)) return hostileSegment(rng);
  return rng.pick(PARAMETER_VALUES[name] ?? GENERIC_VALUES);
}

function fillPath(template: string, rng: Rng): string {
  let path = template.replace(/\{([A-Za-z0-9_]+)\}/g, (_, name: string) => parameterValue(name, rng));
  if (rng.chance(0.05)) path = rng.pick([`${path}/`, `/${path}`, path.replace('/', '//'), `${path}/extra`, `${path}%2F`, `${path}/..`]);
  return path;
}

const QUERY_KEYS = ['limit', 'cursor', 'status', 'tag', 'minMetric', 'reason', 'hours', 'since', 'x'];
const QUERY_VALUES = ['', '1', '0', '-1', '100', '101', '1e400', 'NaN', 'abc', 'APPROVED', 'team=a', 'accuracy:0.9', 'accuracy:abc', ':', '2026-13-45', '2026-01-01T00:00:00Z', 'eyJ4IjoxfQ', '%', '%zz', '%E2%9C%93', 'a'.repeat(3_000)];

/** A query string: mostly parameters the route reads (so their checks are exercised, not only the refusal of unknown ones). */
function query(route: RouteSpec, rng: Rng): string {
  if (!rng.chance(0.3)) return '';
  const own = route.query ?? [];
  const key = () => (own.length > 0 && rng.chance(0.8) ? rng.pick(own) : rng.pick(QUERY_KEYS));
  const pairs = Array.from({ length: rng.int(1, 4) }, () => `${key()}=${rng.pick(QUERY_VALUES)}`);
  return `?${pairs.join('&')}`;
}

const OTHER_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

function method(route: RouteSpec, rng: Rng): string {
  return rng.chance(0.9) ? route.method : rng.pick(OTHER_METHODS);
}

function headers(context: FuzzContext, hasBody: boolean, rng: Rng): Record<string, string> {
  const result: Record<string, string> = {};
  if (!rng.chance(0.02)) result['x-api-key'] = rng.chance(0.99) ? context.apiKey : rng.pick(['wrong', `${context.apiKey}x`]);
  if (hasBody || rng.chance(0.1)) {
    result['content-type'] = rng.chance(0.9)
      ? 'application/json'
      : rng.pick(['text/plain', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/octet-stream', 'garbage', '']);
  }
  if (rng.chance(0.4)) result['if-match'] = rng.pick(['"0"', '"1"', '"2"', '"3"', '*', 'W/"1"', '1', '"abc"', '""', '"-1"', '"1e400"', '"99999999999999999999"', '"1", "2"', '"1.5"']);
  if (rng.chance(0.2)) result['x-routing-key'] = rng.pick(['alice', 'bob', '', 'k'.repeat(4_000), '\u00e9\u00ff']);
  if (rng.chance(0.05)) result['x-correlation-id'] = rng.pick(['', 'c'.repeat(4_000), '../x', '\u00e9']);
  return result;
}

const irisFeatures = { sepal_length: 5.1, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 };
const irisInputs = Object.entries(irisFeatures).map(([name, value]) => ({ name, shape: [1, 1], datatype: 'FP32', data: [value] }));

/** Well-formed bodies per route, the starting points of mutation. A route without one gets generic hostile bodies. */
const VALID_BODIES: Readonly<Record<string, (context: FuzzContext, rng: Rng) => unknown>> = {
  'POST /models': (_, rng) => ({ name: `fuzz-${rng.int(0, 50)}`, description: 'fuzz', tags: { team: 'fuzz' } }),
  'PUT /models/{name}/tags': () => ({ tags: { team: 'fuzz', stage: 'test' } }),
  'POST /models/{name}/versions': (context, rng) => ({
    artifactUri: context.artifactUris.length > 0 ? rng.pick(context.artifactUris) : 's3://lake/models/iris/model.onnx',
    description: 'fuzz',
    tags: { source: 'fuzz' },
    metrics: { accuracy: 0.9 },
  }),
  'POST /models/{name}/versions/{version}/status': (_, rng) => ({ status: rng.pick(['APPROVED', 'REJECTED', 'ARCHIVED']), reason: 'fuzz' }),
  'PUT /models/{name}/versions/{version}/tags': () => ({ tags: { checked: 'yes' } }),
  'PUT /models/{name}/aliases/{alias}': (_, rng) =>
    rng.pick([
      { version: 1, reason: 'fuzz' },
      { routes: [{ version: 1, weight: 90 }, { version: 2, weight: 10 }], reason: 'fuzz' },
      { version: 1, shadow: { version: 2, percent: 25 } },
      { version: 1, requireApproved: true },
    ]),
  'POST /models/{name}/aliases/{alias}/rollback': () => ({ toRevision: 1, reason: 'fuzz' }),
  'POST /models/{name}/aliases/{alias}/rollout': () => ({
    candidate: 2,
    steps: [10, 50, 100],
    bakeSeconds: 30,
    guards: { maxErrorRate: 0.01, maxP99Ms: 100, minRequests: 10, minMetric: { name: 'accuracy', minDelta: 0 } },
    reason: 'fuzz',
  }),
  'POST /models/{name}/aliases/{alias}/rollout/pause': () => ({ reason: 'fuzz' }),
  'POST /models/{name}/aliases/{alias}/rollout/resume': () => ({ reason: 'fuzz' }),
  'POST /models/{name}/aliases/{alias}/rollout/abort': () => ({ reason: 'fuzz' }),
  'PUT /datasets/{dataset}': () => ({
    description: 'fuzz',
    schema: { columns: [{ name: 'a', type: 'float', nullable: true }, { name: 'b', type: 'string' }] },
    rejectThreshold: 0.1,
    autoTrain: { modelName: 'fuzz-trained', target: 'b', task: 'classification' },
  }),
  'POST /datasets/{dataset}/uploads': () => ({ fileName: 'data.csv' }),
  'POST /jobs': () => ({ dataset: 'fuzz-data', target: 'species', task: 'classification', modelName: 'fuzz-trained', algorithm: 'gbdt', hyperparameters: { maxIterations: 5 }, seed: 1 }),
  'POST /v2/models/{name}/infer': () => ({ id: 'fuzz', inputs: irisInputs, outputs: [{ name: 'label' }], parameters: {} }),
  'POST /v2/models/{name}/versions/{version}/infer': () => ({ id: 'fuzz', inputs: irisInputs }),
  'POST /v1/models/{nameAndVerb}': () => ({ instances: [irisFeatures, irisFeatures] }),
};

function body(routeKey: string, context: FuzzContext, rng: Rng): string | undefined {
  const valid = VALID_BODIES[routeKey];
  if (rng.chance(0.02)) return 'x'.repeat(rng.pick([1_000_000, 6 * 1024 * 1024 + 1]));
  const start: JsonNode =
    valid !== undefined && rng.chance(0.8)
      ? fromValue(valid(context, rng))
      : { t: 'obj', entries: Array.from({ length: rng.int(0, 3) }, (_, i): [string, JsonNode] => [`field${i}`, hostileValue(rng)]) };
  const tree = rng.chance(0.15) ? start : mutate(start, rng);
  const text = toText(tree);
  return rng.chance(0.1) ? corruptText(text, rng) : text;
}

/** Every route of the topology, so a new route is fuzzed without touching the fuzzer. */
export function topologyRoutes(topology: Topology): RouteSpec[] {
  return topology.functions.flatMap((fn) => fn.routes);
}

/** Request `index` of a run with seed `seed`: the same arguments always give the same request. */
export function fuzzRequest(routes: readonly RouteSpec[], context: FuzzContext, seed: number, index: number): FuzzRequest {
  const rng = createRng(requestSeed(seed, index));
  const route = rng.pick(routes);
  const routeKey = `${route.method} ${route.path}`;
  const chosenMethod = method(route, rng);
  const sendsBody = chosenMethod === 'POST' || chosenMethod === 'PUT' ? rng.chance(0.95) : rng.chance(0.05);
  const text = sendsBody ? body(routeKey, context, rng) : undefined;
  return {
    index,
    route: routeKey,
    method: chosenMethod,
    path: `${fillPath(route.path, rng)}${query(route, rng)}`,
    headers: headers(context, text !== undefined, rng),
    ...(text === undefined ? {} : { body: text }),
  };
}
