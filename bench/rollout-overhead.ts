/**
 * `npm run bench -- rollout-overhead [--quick]`: what weighted routing and serving counters add to
 * a predict request. Target (issue): ≤ 20 µs p50 over the foundation's predict path, measured side
 * by side.
 *
 * In one process, the predict handler (`createPredictRoutes` wrapped by `createApiHandler`, as
 * `functions/predict/handler.ts` wires it) is invoked in process with API Gateway events on the
 * real iris model (loaded by the real `ModelLoader` from the S3 emulator), in four variants built
 * alike, alternating in short slices (their order rotating) so that noise on a shared machine
 * hits all of them:
 *
 * - (A) foundation path: the default alias has one route, no routing key, no telemetry;
 * - (A′) the same again, a second handler instance: the A/A noise floor of the comparison;
 * - (B) full path: the alias splits 90/10 between two versions (same iris bytes registered twice,
 *   both loaded), every request with a distinct `x-routing-key`, and `ServingTelemetry` whose
 *   counters go to the real `ServingStatsStore.add` against the local DynamoDB emulator;
 * - (C) one route and the same telemetry: counters without routing.
 *
 * Every call gets an event object of its own (built beforehand), as every invocation does. Each
 * call is also split into its `session.run` and its `resolver.resolve` (timed in place), so the
 * model's own noise can be cancelled and routing seen where it runs. Registry reads come from an
 * in-memory reader (the resolver caches them for its TTL anyway, so a warm container reads the
 * registry once per TTL, whatever the routing). A cross-check times `pickRoute` with a key and
 * `telemetry.record` in a tight loop.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { functionEnvironment } from '../topology/environment.js';
import { topology } from '../topology/topology.js';
import { ArtifactStore, sha256Hex } from '../src/aws/artifact-store.js';
import { createApiHandler, type ApiHandler } from '../src/http/api-handler.js';
import { ModelLoader } from '../src/inference/model-loader.js';
import { ServingBackends } from '../src/inference/backend.js';
import { OnnxBackend } from '../src/inference/onnx-backend.js';
import { inspectOnnxModel, servingSessionOptions } from '../src/inference/onnx-session.js';
import { createPredictRoutes, MODEL_VERSION_HEADER, ROUTING_KEY_HEADER } from '../src/inference/predict-routes.js';
import { ModelResolver, type RegistryReader } from '../src/inference/resolver.js';
import { pickRoute } from '../src/inference/routing.js';
import { createObservability } from '../src/runtime/observability.js';
import type { ModelWithAliases } from '../src/registry/registry.js';
import { RegistryTable } from '../src/storage/table.js';
import type { AliasRecord, AliasRoute, ModelSignature, ModelVersion } from '../src/registry/types.js';
import { ServingStatsStore } from '../src/inference/telemetry/serving-stats-store.js';
import { FLUSH_INTERVAL_MS, ServingTelemetry, type TelemetrySinks } from '../src/inference/telemetry/serving-telemetry.js';
import { apiEvent, lambdaContext } from '../test/support/api-event.js';
import { startTestEmulators, type TestEmulators } from '../test/support/emulators.js';
import { withQuietStdout } from './lib/platform.js';
import { record, table, verdict } from './lib/record.js';
import { microsSince, summarize, type Summary } from './lib/stats.js';
import { instrumentSessionRun } from './lib/session-timer.js';

const TARGET_US = 20;
const MODEL = 'iris';
const ALIAS = 'prod';
const IRIS_FILE = 'models/iris.onnx';
const BODY = JSON.stringify({
  inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => ({ name, shape: [1, 1], datatype: 'FP32', data: [[5.1, 3.5, 1.4, 0.2][i]!] })),
});

interface Settings {
  readonly quick: boolean;
  /** Alternating slices, and calls of each variant per slice. */
  readonly slices: number;
  readonly perSlice: number;
  /** Warm-up calls of each variant. */
  readonly warm: number;
  /** Calls per round of the tight loops, and rounds (the median round is reported). */
  readonly loop: number;
  readonly rounds: number;
}

const settings = (quick: boolean): Settings =>
  quick ? { quick, slices: 10, perSlice: 50, warm: 100, loop: 20_000, rounds: 3 } : { quick, slices: 200, perSlice: 100, warm: 500, loop: 200_000, rounds: 7 };

/**
 * Times `resolve` of the given resolvers, in the handler (alias lookup and route pick, where
 * the routing key is hashed), so routing can be seen where it runs rather than in a tight loop.
 */
function instrumentResolve(): { add(resolver: ModelResolver): void; last(): number; stop(): void } {
  const timed = new WeakSet<ModelResolver>();
  const { prototype } = ModelResolver;
  const original = prototype.resolve;
  let lastMicros = 0;
  prototype.resolve = async function (this: ModelResolver, ...args: Parameters<ModelResolver['resolve']>) {
    if (!timed.has(this)) return original.apply(this, args);
    const start = process.hrtime.bigint();
    try {
      return await original.apply(this, args);
    } finally {
      lastMicros = Number(process.hrtime.bigint() - start) / 1000;
    }
  };
  return {
    add: (resolver) => void timed.add(resolver),
    last: () => lastMicros,
    stop: () => void (prototype.resolve = original),
  };
}

/** A registry reader over fixed records, counting its reads. */
class MemoryRegistry implements RegistryReader {
  reads = 0;
  private readonly snapshot: ModelWithAliases;

  constructor(
    routes: readonly AliasRoute[],
    private readonly versions: ReadonlyMap<number, ModelVersion>,
  ) {
    const at = new Date().toISOString();
    const alias: AliasRecord = { model: MODEL, alias: ALIAS, routes, revision: 1, updatedAt: at, updatedBy: 'bench', reason: 'bench' };
    this.snapshot = {
      model: { name: MODEL, description: 'iris', defaultAlias: ALIAS, tags: {}, createdAt: at, updatedAt: at },
      aliases: new Map([[ALIAS, alias]]),
    };
  }

  async findModelWithAliases(name: string): Promise<ModelWithAliases | undefined> {
    this.reads++;
    return name === MODEL ? this.snapshot : undefined;
  }

  async servableVersionNumbers(model: string): Promise<number[]> {
    this.reads++;
    return model === MODEL ? [...this.versions.keys()] : [];
  }

  async getVersion(model: string, version: number): Promise<ModelVersion> {
    this.reads++;
    const found = model === MODEL ? this.versions.get(version) : undefined;
    if (found === undefined) throw new Error(`no version ${version} of ${model}`);
    return found;
  }
}

/** Telemetry sinks around the real counter store: counts flushes, writes and failures. */
class CountingSinks implements TelemetrySinks {
  writes = 0;
  errors = 0;
  /** Set when a write starts; the bench clears it before each call to see which calls flushed. */
  flushed = false;

  constructor(private readonly stats: ServingStatsStore, private readonly s3: TestEmulators['s3'], private readonly bucket: string) {}

  addStats(...args: Parameters<TelemetrySinks['addStats']>): Promise<unknown> {
    this.writes++;
    this.flushed = true;
    return this.stats.add(...args);
  }

  putObject(key: string, body: string): Promise<unknown> {
    this.flushed = true;
    return this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
  }

  onError(what: string, error: unknown): void {
    this.errors++;
    console.error(`telemetry dropped ${what}: ${(error as Error).message}`);
  }
}

/** One handler variant and its samples. */
interface Variant {
  readonly id: string;
  readonly label: string;
  readonly handler: ApiHandler;
  readonly events: readonly APIGatewayProxyEvent[];
  readonly registry: MemoryRegistry;
  readonly sinks?: CountingSinks;
  readonly telemetry?: ServingTelemetry;
  /** Calls made (warm-up included), to check the counters written. */
  calls: number;
  readonly total: number[];
  /** Per call: total minus the `session.run` inside it. */
  readonly around: number[];
  /** Per call: the `resolver.resolve` inside it (alias lookup and route pick). */
  readonly resolve: number[];
  /** Per slice: median of the slice's totals. */
  readonly sliceMedians: number[];
  /** Totals of the calls that flushed telemetry. */
  readonly flushing: number[];
  readonly answeredBy: Map<string, number>;
}

const median = (values: readonly number[]): number => summarize(values).p50;
const us = (v: number, digits = 0): string => `${v.toFixed(digits)} µs`;
const signed = (v: number, digits = 1): string => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)} µs`;

/** Nanoseconds per call of `fn` over `n` calls, median of `rounds` rounds. */
function tightLoop(n: number, rounds: number, fn: (i: number) => unknown): number {
  const perRound: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds + 1; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) if (fn(i) === undefined) sink++;
    const ns = Number(process.hrtime.bigint() - start) / n;
    if (r > 0) perRound.push(ns); // round 0 warms up
  }
  if (sink < 0) console.error(sink);
  return median(perRound);
}

async function tightLoopAsync(n: number, rounds: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const perRound: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await fn(i);
    const ns = Number(process.hrtime.bigint() - start) / n;
    if (r > 0) perRound.push(ns);
  }
  return median(perRound);
}

/** Runs the benchmark and records it (not with `--quick`). */
export async function runRolloutOverheadBench(): Promise<void> {
  const s = settings(process.argv.includes('--quick'));
  const began = performance.now();
  const runTimer = instrumentSessionRun();
  const resolveTimer = instrumentResolve();
  const emulators = await startTestEmulators();
  try {
    const { tableName, bucketName } = emulators.resources;
    const spec = topology.functions.find((fn) => fn.id === 'predict');
    if (spec === undefined) throw new Error('the topology has no predict function');
    // Powertools settings of the predict function (namespace, service, log level).
    Object.assign(process.env, functionEnvironment(spec, topology.queues, { registryTable: tableName, lakeBucket: bucketName, queueUrls: {}, codeVersion: 'bench' }));

    // The same iris bytes registered as versions 1 and 2, in the emulated lake.
    const bytes = await readFile(IRIS_FILE);
    const signature: ModelSignature = await inspectOnnxModel(bytes);
    const sha256 = sha256Hex(bytes);
    const versions = new Map<number, ModelVersion>();
    for (const version of [1, 2]) {
      const key = `models/${MODEL}/v${version}.onnx`;
      await emulators.s3.send(new PutObjectCommand({ Bucket: bucketName, Key: key, Body: bytes }));
      versions.set(version, {
        model: MODEL,
        version,
        framework: 'onnx',
        artifact: { uri: `s3://${bucketName}/${key}`, bucket: bucketName, key, sha256, sizeBytes: bytes.byteLength },
        signature,
        description: '',
        tags: {},
        metrics: {},
        lineage: {},
        status: 'APPROVED',
        createdAt: new Date().toISOString(),
      });
    }

    // One loader (one session per version) shared by every variant, as in one container.
    const loader = new ModelLoader(new ArtifactStore(emulators.s3), await mkdtemp(join(tmpdir(), 'bench-model-cache-')), servingSessionOptions(spec.memoryMb));
    const stats = new ServingStatsStore(new RegistryTable(emulators.dynamo, tableName));
    const ttlMs = 10_000; // ENV.aliasCacheTtlMs default (src/config.ts)
    const total = s.warm + s.slices * s.perSlice;
    // Every call gets an event object of its own, as every Lambda invocation does (a reused event stays hot in
    // the CPU caches and flatters the variant that reuses it), built beforehand: the timed call takes the next one.
    const events = (keyed: boolean) =>
      Array.from({ length: total }, (_, i) =>
        apiEvent({
          method: 'POST',
          resource: '/v2/models/{name}/infer',
          pathParameters: { name: MODEL },
          body: BODY,
          ...(keyed ? { headers: { [ROUTING_KEY_HEADER]: `caller-${i}` } } : {}),
        }),
      );

    const variant = (id: string, label: string, routes: readonly AliasRoute[], withTelemetry: boolean, keyed: boolean): Variant => {
      const registry = new MemoryRegistry(routes, versions);
      const sinks = withTelemetry ? new CountingSinks(stats, emulators.s3, bucketName) : undefined;
      const telemetry = sinks === undefined ? undefined : new ServingTelemetry(sinks);
      const resolver = new ModelResolver(registry, ttlMs, Date.now, (version) => loader.load(version));
      resolveTimer.add(resolver);
      const routesTable = createPredictRoutes({ resolver, backends: new ServingBackends({ lambda: new OnnxBackend(loader) }), ...(telemetry === undefined ? {} : { telemetry }) });
      const handler = createApiHandler(routesTable, createObservability('predict'));
      return {
        id,
        label,
        handler,
        events: events(keyed),
        registry,
        ...(sinks === undefined ? {} : { sinks }),
        ...(telemetry === undefined ? {} : { telemetry }),
        calls: 0,
        total: [],
        around: [],
        resolve: [],
        sliceMedians: [],
        flushing: [],
        answeredBy: new Map(),
      };
    };
    const one: AliasRoute[] = [{ version: 1, weight: 100 }];
    const split: AliasRoute[] = [{ version: 1, weight: 90 }, { version: 2, weight: 10 }];
    const A = variant('A', 'foundation: 1 route, no key, no telemetry', one, false, false);
    const A2 = variant('A′', 'foundation again (A/A noise floor)', one, false, false);
    const B = variant('B', 'full: 90/10 split, distinct x-routing-key, telemetry', split, true, true);
    const C = variant('C', 'counters only: 1 route, no key, telemetry', one, true, false);
    const variants = [A, A2, B, C];

    const call = async (v: Variant, timed: boolean): Promise<void> => {
      const event = v.events[v.calls % v.events.length]!;
      v.calls++;
      if (v.sinks !== undefined) v.sinks.flushed = false;
      const start = process.hrtime.bigint();
      const response = (await v.handler(event, lambdaContext)) as APIGatewayProxyResult;
      const micros = microsSince(start);
      if (response.statusCode !== 200) throw new Error(`${v.id} answered ${response.statusCode}: ${response.body}`);
      if (!timed) return;
      v.total.push(micros);
      v.around.push(micros - runTimer.last());
      v.resolve.push(resolveTimer.last());
      if (v.sinks?.flushed === true) v.flushing.push(micros);
      const by = String(response.headers?.[MODEL_VERSION_HEADER]);
      v.answeredBy.set(by, (v.answeredBy.get(by) ?? 0) + 1);
    };

    const countersFrom = new Date();
    await Promise.all([...versions.values()].map((version) => loader.load(version)));
    await withQuietStdout(async () => {
      for (let i = 0; i < s.warm; i++) for (const v of variants) await call(v, false);
    });
    // The first counter writes (SDK client set-up) happen in the warm-up, not in the measurement.
    for (const v of variants) await v.telemetry?.flush();
    const writesBefore = new Map(variants.map((v) => [v, v.sinks?.writes ?? 0]));

    const rotations = variants.map((_, r) => [...variants.slice(r), ...variants.slice(0, r)]);
    const measuredFrom = performance.now();
    await withQuietStdout(async () => {
      for (let slice = 0; slice < s.slices; slice++) {
        for (const v of rotations[slice % rotations.length]!) {
          const from = v.total.length;
          for (let j = 0; j < s.perSlice; j++) await call(v, true);
          v.sliceMedians.push(median(v.total.slice(from)));
        }
      }
    });
    const measuredSeconds = (performance.now() - measuredFrom) / 1000;
    const writesDuring = new Map(variants.map((v) => [v, (v.sinks?.writes ?? 0) - writesBefore.get(v)!]));
    resolveTimer.stop();

    // Check the counters reached DynamoDB: every call of B and C, warm-up included.
    for (const v of variants) await v.telemetry?.flush();
    const written = (await Promise.all([...versions.keys()].map((version) => stats.window(MODEL, ALIAS, version, countersFrom, new Date())))).reduce((sum, w) => sum + w.requests, 0);
    const expectedCounts = B.calls + C.calls;
    const telemetryErrors = (B.sinks?.errors ?? 0) + (C.sinks?.errors ?? 0);

    // Cross-check: the per-request work routing and counting add, in tight loops.
    const keys = Array.from({ length: 4096 }, (_, i) => `caller-${i}`);
    const memoryTelemetry = new ServingTelemetry({ addStats: async () => true, putObject: async () => undefined, onError: () => undefined });
    const pick = tightLoop(s.loop, s.rounds, (i) => pickRoute(split, keys[i & 4095]));
    const count = tightLoop(s.loop, s.rounds, (i) => memoryTelemetry.record(MODEL, ALIAS, 1 + (i & 1), 'ok', 0.2));
    const both = tightLoop(s.loop, s.rounds, (i) => memoryTelemetry.record(MODEL, ALIAS, pickRoute(split, keys[i & 4095]), 'ok', 0.2));
    const bothFlushCheck = await tightLoopAsync(s.loop, s.rounds, async (i) => {
      memoryTelemetry.record(MODEL, ALIAS, pickRoute(split, keys[i & 4095]), 'ok', 0.2);
      await memoryTelemetry.flushIfDue();
    });
    const loopResolver = (routes: readonly AliasRoute[]) => new ModelResolver(new MemoryRegistry(routes, versions), ttlMs);
    const resolveOne = loopResolver(one);
    const resolveSplit = loopResolver(split);
    const resolvePlain = await tightLoopAsync(s.loop, s.rounds, () => resolveOne.resolve(MODEL, undefined, undefined));
    const resolveKeyed = await tightLoopAsync(s.loop, s.rounds, (i) => resolveSplit.resolve(MODEL, undefined, keys[i & 4095]));

    // Results.
    const sum = new Map<Variant, { total: Summary; around: Summary; resolve: Summary }>(
      variants.map((v) => [v, { total: summarize(v.total), around: summarize(v.around), resolve: summarize(v.resolve) }]),
    );
    const resolveP50 = (v: Variant) => sum.get(v)!.resolve.p50;
    const p50 = (v: Variant) => sum.get(v)!.total.p50;
    const aroundP50 = (v: Variant) => sum.get(v)!.around.p50;
    /** Per slice, the variant's median minus A's median in the same slice: median and interquartile range over slices. */
    const paired = (v: Variant) => {
      const diffs = v.sliceMedians.map((m, i) => m - A.sliceMedians[i]!).sort((x, y) => x - y);
      const at = (q: number) => diffs[Math.min(diffs.length - 1, Math.floor(diffs.length * q))]!;
      return `${signed(at(0.5))} (${signed(at(0.25))} … ${signed(at(0.75))})`;
    };
    const rows = variants.map((v) => {
      const { total: t, around: a, resolve: r } = sum.get(v)!;
      return [
        `(${v.id}) ${v.label}`,
        us(t.p50, 1),
        us(t.p90, 1),
        us(t.p99, 1),
        us(a.p50, 1),
        v === A ? '—' : signed(p50(v) - p50(A)),
        v === A ? '—' : signed(aroundP50(v) - aroundP50(A)),
        v === A ? '—' : paired(v),
        us(r.p50, 1),
      ];
    });
    const bMinusA = p50(B) - p50(A);
    const cMinusA = p50(C) - p50(A);
    const bVersions = [...B.answeredBy].sort().map(([version, n]) => `v${version} ${((100 * n) / B.total.length).toFixed(1)} %`).join(', ');
    const loopRows = [
      ['`pickRoute` 90/10 with a distinct key (sha256 of the key)', (pick / 1000).toFixed(3)],
      ['`telemetry.record` (in memory)', (count / 1000).toFixed(3)],
      ['`pickRoute` + `telemetry.record`', (both / 1000).toFixed(3)],
      ['`pickRoute` + `telemetry.record` + `await telemetry.flushIfDue()` (not due)', (bothFlushCheck / 1000).toFixed(3)],
      ['`await resolver.resolve` cached, 1 route, no key (A, C)', (resolvePlain / 1000).toFixed(3)],
      ['`await resolver.resolve` cached, 90/10 split, distinct key (B)', (resolveKeyed / 1000).toFixed(3)],
    ];
    const flushRow = (v: Variant) =>
      `${v.id}: ${writesDuring.get(v)!} counter writes in ${v.flushing.length} flushing calls${v.flushing.length === 0 ? '' : ` (${v.flushing.map((t) => us(t)).join(', ')})`}`;
    const registryReads = variants.map((v) => `${v.id} ${v.registry.reads}`).join(', ');

    const body = [
      ...(s.quick ? ['**Quick run**: not a measurement, nothing recorded.', ''] : []),
      'The predict handler (`createPredictRoutes` + `createApiHandler`, Powertools Logger/Metrics on, as `functions/predict/handler.ts` wires them) invoked in process with API Gateway events (`POST /v2/models/iris/infer`, default alias) on the real iris model, loaded by the real `ModelLoader` from the S3 emulator; one loader (one session per version) shared by all variants.',
      `(A) foundation path: alias with one route, no \`${ROUTING_KEY_HEADER}\`, no telemetry. (A′) the same, a second handler instance: the A/A noise floor. (B) full path: alias split 90/10 between versions 1 and 2 (the same iris bytes registered twice, both loaded), a distinct \`${ROUTING_KEY_HEADER}\` per request, \`ServingTelemetry\` flushing (every ${FLUSH_INTERVAL_MS / 1000} s, by the request that finds it due) to the real \`ServingStatsStore.add\` against the local DynamoDB emulator (dynalite, in this process). (C) one route, no key, the same telemetry: counters without routing.`,
      `Registry reads come from an in-memory reader; the resolver caches them for its TTL (${ttlMs / 1000} s, the default) anyway, so a warm container reads once per TTL whatever the routing (reads during the run: ${registryReads}).`,
      `After ${s.warm} warm-up calls of each, ${s.slices} slices of ${s.perSlice} calls of each variant alternate, their order rotating; ${s.slices * s.perSlice} calls per variant in ${measuredSeconds.toFixed(1)} s. "Around run": each call minus the \`session.run\` inside it (cancels the model's own noise). "Paired": per slice, the variant's median minus A's median in the same slice; median (interquartile range) over slices. "Resolve in call": the \`resolver.resolve\` inside each call (alias lookup from the cache and route pick, where B hashes its routing key).`,
      '',
      table(['variant', 'p50', 'p90', 'p99', 'around run p50', 'Δ p50 vs A', 'Δ around-run p50 vs A', 'paired Δ per slice, median (IQR)', 'resolve in call p50'], rows),
      '',
      `- Routing + counters: (B) p50 − (A) p50 = ${signed(bMinusA)} (target ≤ ${TARGET_US} µs): ${verdict(bMinusA <= TARGET_US)}; around-run p50 difference ${signed(aroundP50(B) - aroundP50(A))}; A/A noise floor (A′ − A) ${signed(p50(A2) - p50(A))}.`,
      `- Counters only: (C) p50 − (A) p50 = ${signed(cMinusA)}; routing alone (B − C) ${signed(p50(B) - p50(C))}, of which \`resolve\` in the call ${signed(resolveP50(B) - resolveP50(C))} (B ${us(resolveP50(B), 1)} vs C ${us(resolveP50(C), 1)}).`,
      `- B answered by ${bVersions} (target split 90/10). Telemetry during the measured slices: ${flushRow(B)}; ${flushRow(C)}. Counters read back from DynamoDB: ${written} requests for ${expectedCounts} calls of B and C (warm-up included)${written === expectedCounts ? ', all counted' : ': **mismatch**'}; ${telemetryErrors} failed writes.`,
      '',
      `Cross-check, per call in a tight loop (${s.loop.toLocaleString('en-US')} calls, median of ${s.rounds} rounds):`,
      '',
      table(['work', 'µs per call'], loopRows),
      '',
      `In a tight loop the added work (pick + record + flush check, and the keyed resolve's extra over the plain one) comes to ${((bothFlushCheck + resolveKeyed - resolvePlain - pick) / 1000).toFixed(1)} µs per request, against ${signed(bMinusA)} measured in the handler: in a loop, the code and data it touches stay in the CPU caches, while between two predict requests the rest of the request (ONNX Runtime, JSON, Powertools, V8) evicts them.`,
      '',
      `Took ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    ].join('\n');
    console.log(body);
    if (written !== expectedCounts || telemetryErrors > 0) throw new Error('serving counters were not all written');
    if (!s.quick) await record('Rollout overhead: routing + serving counters on predict', 'npm run bench -- rollout-overhead', body);
  } finally {
    await emulators.stop();
  }
}
