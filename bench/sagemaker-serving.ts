/**
 * `npm run bench -- sagemaker-serving [--quick]`: what serving a version from a SageMaker endpoint
 * adds (issue 13), on a local cloud this benchmark starts (short SageMaker emulator delays), with
 * `models/resnet_mini.onnx` (the GPU-style case) and iris (the cheap case), each registered twice:
 * version 1 on the Lambda backend (the predict function's ONNX Runtime), version 2 on the SageMaker
 * backend (the emulator's Triton-style container), alias `prod` → version 2 with fallback version 1.
 *
 * 1. Forwarding overhead: variants that alternate in short slices (their order rotating): the
 *    caller's OIP v2 JSON sent to the emulated endpoint's `/invocations` directly (the baseline; also
 *    through the SDK, and to the container's own `/invocations`), the binary request predict makes
 *    of it sent directly, the predict handler in process given the same JSON, the full path through
 *    the local gateway, and the same model on the Lambda backend (in process and through the
 *    gateway: the local gateway's own cost).
 * 2. Breaker and fallback: the endpoint's container is crashed (admin API); callers of `prod` are
 *    counted (non-200s, the first fallback answer), fallback answers are timed against serving the
 *    fallback version directly, alternating, and the time until the SageMaker version answers
 *    again after the container is replaced.
 */
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { rm } from 'node:fs/promises';
import { availableParallelism as availableCores, loadavg } from 'node:os';
import { Tensor } from 'onnxruntime-node';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/emulators.js';
import { apiClient, type SeedModel } from '../local/seed.js';
import { MODEL_FALLBACK_HEADER, MODEL_VERSION_HEADER } from '../src/inference/predict-routes.js';
import { BREAKER_DEFAULTS } from '../src/inference/circuit-breaker.js';
import { checkedOutputs } from '../src/inference/oip-answer.js';
import { encodeTritonRequest, type TritonRequest } from '../src/inference/triton-binary.js';
import type { ModelVersion } from '../src/registry/types.js';
import { startBenchPlatform, withQuietStdout, type BenchPlatform } from './lib/platform.js';
import { record, table, verdict } from './lib/record.js';
import { microsSince, summarize, type Summary } from './lib/stats.js';

const FORWARDING_TARGET_MS = 2;
const FALLBACK_TARGET_MS = 1;
const LAMBDA_VERSION = 1;
const SAGEMAKER_VERSION = 2;
/** How long the crashed container stays down: the window in which fallback answers are timed. */
const CRASH_MS = 30_000;
/** What a GPU run would show and how to run one against a real SageMaker endpoint (no GPU here). */
const GPU_NOTE = [
  '**On a GPU (not run: no GPU on these machines).** What it would show: on an `ml.g5.xlarge` (A10G) resnet_mini computes in well under a millisecond, so the endpoint\'s time is Triton decoding 12,288 floats of JSON, SageMaker\'s own hop (the endpoint\'s CloudWatch `OverheadLatency`) and the network between the predict function and the endpoint; the platform\'s own forwarding is predict\'s work around its `InvokeEndpoint` (measured here per call of (c)), which a GPU does not change. Fallback answers never touch the GPU, so their added cost is what is measured here.',
  'How to run it: deploy the stack (README, "Deploying to AWS"; a GPU quota for the instance type), register `models/resnet_mini.onnx` twice, the second time with `"backend":{"kind":"sagemaker","instanceType":"ml.g5.xlarge","minInstances":1,"maxInstances":1}`, wait for its `deployment.state` `IN_SERVICE`, set `prod` → the SageMaker version with fallback the first. From an EC2 instance in the region, alternate the body predict forwards (binary tensors, as (b′) here) sent with the SageMaker Runtime SDK (`InvokeEndpointCommand` on `deployment.endpointName`, as (b′) here: the baseline, since SageMaker exposes no unsigned endpoint URL) and `POST $API/v2/models/resnet_mini/versions/2/infer`; compare p50s, and read the endpoint\'s `ModelLatency`/`OverheadLatency` and the predict function\'s duration. Breaker and fallback: delete the endpoint behind the platform\'s back (`aws sagemaker delete-endpoint`), or register with `minInstances` 0 and set its inference component to 0 copies (`aws sagemaker update-inference-component-runtime-config --desired-copy-count 0`), then keep calling `prod`: count non-200s (expected 0) and fallback answers, and time the wake (5–10 minutes) until the GPU version answers again.',
].join('\n');

/** A round of the four fallback variants while the container is down. */
const FALLBACK_SLICE_MS = 500;
/** The emulator's delays: the benchmark waits for deployments, it does not measure them. */
const DELAYS = { endpointCreateMs: 1_000, componentCreateMs: 500, deleteMs: 200 } as const;

/** One FP32 input of a case's request. */
interface CaseInput {
  readonly name: string;
  readonly shape: number[];
  readonly data: number[];
}

interface Case {
  readonly seed: SeedModel;
  /** The caller's OIP v2 JSON request: inputs with flat data and the outputs named. */
  readonly body: string;
  /** Exactly what predict forwards to Triton for it: the checked tensors as binary data, every output asked as binary. */
  readonly forwarded: TritonRequest;
  readonly outputs: readonly string[];
  /** Alternating slices, and calls of each variant per slice. */
  readonly slices: number;
  readonly perSlice: number;
}

const deterministic = (n: number) => Array.from({ length: n }, (_, i) => Math.round(Math.sin(i * 12.9898 + 7) * 1000) / 1000);
const request = (inputs: readonly CaseInput[], outputs: readonly string[]) => ({
  body: JSON.stringify({ inputs: inputs.map(({ name, shape, data }) => ({ name, datatype: 'FP32', shape, data })), outputs: outputs.map((name) => ({ name })) }),
  forwarded: encodeTritonRequest(new Map(inputs.map(({ name, shape, data }) => [name, new Tensor('float32', Float32Array.from(data), shape)])), outputs),
  outputs,
});

const cases = (quick: boolean): readonly Case[] => [
  {
    seed: { name: 'iris', file: 'models/iris.onnx', description: 'iris (cheap case)' },
    ...request(
      ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => ({ name, shape: [1, 1], data: [[5.1, 3.5, 1.4, 0.2][i]!] })),
      ['label', 'probabilities'],
    ),
    slices: quick ? 5 : 40,
    perSlice: quick ? 5 : 25,
  },
  {
    seed: { name: 'resnet_mini', file: 'models/resnet_mini.onnx', description: 'ResNet-style image classifier (GPU case)' },
    ...request([{ name: 'image', shape: [1, 3, 64, 64], data: deterministic(3 * 64 * 64) }], ['logits']),
    slices: quick ? 5 : 40,
    perSlice: quick ? 2 : 8,
  },
];

/** What a call answered. */
interface Answer {
  readonly status: number;
  readonly version?: string;
  readonly fallbackFrom?: string;
  readonly body: string;
}

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly call: () => Promise<Answer>;
  /** The version that must answer (undefined: the container, which names none). */
  readonly expect?: string;
  /** Which answers are timed; the others are neither timed nor refused. @default every answer, which must be a 200 from `expect` */
  readonly timed?: (answer: Answer) => boolean;
  /** The time of the `InvokeEndpoint` inside the last call, for a variant that makes one through predict. */
  readonly inner?: () => number;
  readonly samples: number[];
  /** Per call: its time minus its `InvokeEndpoint` (with `inner`). */
  readonly around: number[];
  readonly sliceMedians: number[];
}

const median = (values: readonly number[]): number => summarize(values).p50;
const ms = (micros: number, digits = 2): string => `${(micros / 1000).toFixed(digits)} ms`;
const signedMs = (micros: number): string => `${micros >= 0 ? '+' : '−'}${ms(Math.abs(micros))}`;
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

const fromHandler = (response: APIGatewayProxyResult): Answer => {
  const header = (name: string) => (response.headers?.[name] === undefined ? undefined : String(response.headers[name]));
  const version = header(MODEL_VERSION_HEADER);
  const fallbackFrom = header(MODEL_FALLBACK_HEADER);
  return { status: response.statusCode, body: response.body, ...(version === undefined ? {} : { version }), ...(fallbackFrom === undefined ? {} : { fallbackFrom }) };
};

const fromFetch = async (response: Response): Promise<Answer> => {
  const body = await response.text();
  const version = response.headers.get(MODEL_VERSION_HEADER) ?? undefined;
  const fallbackFrom = response.headers.get(MODEL_FALLBACK_HEADER) ?? undefined;
  return { status: response.status, body, ...(version === undefined ? {} : { version }), ...(fallbackFrom === undefined ? {} : { fallbackFrom }) };
};

/**
 * Calls one variant once and returns its time. A wrong status or version fails the benchmark,
 * except for a variant that only times some answers (`timed`): the others are left untimed.
 */
async function timedCall(v: Variant): Promise<number | undefined> {
  const start = process.hrtime.bigint();
  const answer = await v.call();
  const micros = microsSince(start);
  if (v.timed !== undefined) return v.timed(answer) ? micros : undefined;
  if (answer.status !== 200 || (v.expect !== undefined && answer.version !== v.expect)) {
    throw new Error(`${v.label} answered ${answer.status} from version ${answer.version}: ${answer.body.slice(0, 300)}`);
  }
  return micros;
}

/** Calls a variant once and keeps its time, if timed. */
async function sample(v: Variant): Promise<void> {
  const micros = await timedCall(v);
  if (micros === undefined) return;
  v.samples.push(micros);
  if (v.inner !== undefined) v.around.push(micros - v.inner());
}

/** Runs the variants in `slices` slices of `perSlice` calls each, their order rotating. */
async function alternate(variants: readonly Variant[], slices: number, perSlice: number): Promise<void> {
  const rotations = variants.map((_, r) => [...variants.slice(r), ...variants.slice(0, r)]);
  await withQuietStdout(async () => {
    for (let slice = 0; slice < slices; slice++) {
      for (const v of rotations[slice % rotations.length]!) {
        const from = v.samples.length;
        for (let i = 0; i < perSlice; i++) await sample(v);
        v.sliceMedians.push(median(v.samples.slice(from)));
      }
    }
  });
}

/** Per slice, `v`'s median minus `base`'s median in the same slice: the median over slices. */
const paired = (v: Variant, base: Variant): number => median(v.sliceMedians.map((m, i) => m - base.sliceMedians[i]!));

interface VariantOptions {
  readonly expect?: number;
  readonly timed?: (answer: Answer) => boolean;
  readonly inner?: () => number;
}

const variant = (id: string, label: string, call: () => Promise<Answer>, options: VariantOptions = {}): Variant => ({
  id,
  label,
  call,
  ...(options.expect === undefined ? {} : { expect: String(options.expect) }),
  ...(options.timed === undefined ? {} : { timed: options.timed }),
  ...(options.inner === undefined ? {} : { inner: options.inner }),
  samples: [],
  around: [],
  sliceMedians: [],
});

/**
 * Times every `InvokeEndpoint` sent by any SageMaker Runtime client in this process (the
 * predict handler's included), so a handler call can be split into the call and predict's own
 * work around it.
 */
function instrumentInvokeEndpoint(): () => number {
  const { prototype } = SageMakerRuntimeClient;
  const original = prototype.send;
  let lastMicros = 0;
  prototype.send = async function (this: SageMakerRuntimeClient, ...args: unknown[]) {
    const start = process.hrtime.bigint();
    try {
      return await (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    } finally {
      lastMicros = microsSince(start);
    }
  } as typeof original;
  return () => lastMicros;
}


/** A 200 from the alias's fallback version, marked as such. */
const isFallback = (answer: Answer): boolean => answer.status === 200 && answer.fallbackFrom !== undefined && answer.version === String(LAMBDA_VERSION);

/** The largest absolute difference between the outputs of two OIP v2 answers. */
function outputsDiff(a: string, b: string): number {
  const outputs = (body: string) => new Map((JSON.parse(body) as { outputs: { name: string; data: number[] }[] }).outputs.map((o) => [o.name, o.data]));
  const left = outputs(a);
  let worst = 0;
  for (const [name, data] of outputs(b)) {
    const other = left.get(name);
    if (other === undefined || other.length !== data.length) return Number.POSITIVE_INFINITY;
    data.forEach((value, i) => (worst = Math.max(worst, Math.abs(value - other[i]!))));
  }
  return worst;
}

interface Deployed {
  readonly c: Case;
  /** The SageMaker version, as the registry answers it (its signature checks the endpoint's answers). */
  readonly version: ModelVersion;
  readonly endpointName: string;
  readonly containerUrl: string;
}

/** Registers version 2 of the case's model on SageMaker (the artifact of version 1), waits until it is in service, points `prod` at it with fallback version 1. */
async function deploy(platform: BenchPlatform, c: Case): Promise<Deployed> {
  const { cloud } = platform;
  const api = apiClient(cloud.baseUrl, cloud.apiKey);
  const name = c.seed.name;
  const first = await api('GET', `/models/${name}/versions/${LAMBDA_VERSION}`);
  const artifactUri = (first.body['artifact'] as { uri: string }).uri;
  const registered = await api('POST', `/models/${name}/versions`, {
    artifactUri,
    description: 'the same ONNX on the SageMaker backend',
    backend: { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 1, maxInstances: 1 },
  });
  if (registered.status !== 201 && registered.status !== 200) throw new Error(`registering ${name} on SageMaker: ${registered.status} ${JSON.stringify(registered.body)}`);
  if (registered.body['version'] !== SAGEMAKER_VERSION) throw new Error(`expected version ${SAGEMAKER_VERSION} of ${name}, got ${String(registered.body['version'])}`);
  const deadline = Date.now() + 180_000;
  let deployment: { state: string; reason?: string; endpointName: string } | undefined;
  while (deployment?.state !== 'IN_SERVICE') {
    if (Date.now() > deadline || deployment?.state === 'FAILED') throw new Error(`${name} v${SAGEMAKER_VERSION} did not deploy: ${JSON.stringify(deployment)}`);
    await sleep(250);
    deployment = (await api('GET', `/models/${name}/versions/${SAGEMAKER_VERSION}`)).body['deployment'] as typeof deployment;
  }
  const alias = await api('GET', `/models/${name}/aliases/prod`);
  const revision = String(alias.body['revision']);
  const set = await api('PUT', `/models/${name}/aliases/prod`, { version: SAGEMAKER_VERSION, fallback: { version: LAMBDA_VERSION }, reason: 'bench' }, { 'if-match': `"${revision}"` });
  if (set.status !== 200) throw new Error(`setting ${name}/prod: ${set.status} ${JSON.stringify(set.body)}`);
  const endpoint = (await (await fetch(`${cloud.endpoints.sagemaker}/_emulator/endpoints/${deployment.endpointName}`)).json()) as { containers: Record<string, { url: string }> };
  const containerUrl = Object.values(endpoint.containers)[0]?.url;
  if (containerUrl === undefined) throw new Error(`endpoint ${deployment.endpointName} has no container`);
  const version = (await api('GET', `/models/${name}/versions/${SAGEMAKER_VERSION}`)).body as unknown as ModelVersion;
  return { c, version, endpointName: deployment.endpointName, containerUrl };
}

/** The ways to reach one version (or the container) with the case's body. */
function callers(platform: BenchPlatform, runtime: SageMakerRuntimeClient, d: Deployed) {
  const name = d.c.seed.name;
  const body = d.c.body;
  const { forwarded } = d.c;
  /** An endpoint's answer to what predict forwards, decoded and checked as predict does it. */
  const decoded = (status: number, bytes: Uint8Array, contentType: string | undefined): Answer =>
    status !== 200
      ? { status, body: new TextDecoder().decode(bytes) }
      : { status, body: JSON.stringify({ outputs: checkedOutputs(d.version, bytes, contentType, d.c.outputs) }) };
  const json = { contentType: 'application/json', body: new TextEncoder().encode(body) };
  const direct = (url: string, request: { contentType: string; body: Uint8Array }) => async (): Promise<Answer> => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': request.contentType }, body: request.body });
    return decoded(response.status, new Uint8Array(await response.arrayBuffer()), response.headers.get('content-type') ?? undefined);
  };
  const endpointUrl = `${platform.cloud.endpoints.sagemaker}/endpoints/${d.endpointName}/invocations`;
  return {
    container: direct(`${d.containerUrl}/invocations`, json),
    endpoint: direct(endpointUrl, json),
    endpointBinary: direct(endpointUrl, forwarded),
    invokeEndpoint: async (): Promise<Answer> => {
      const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: d.endpointName, ContentType: json.contentType, Body: json.body }));
      return decoded(200, answer.Body ?? new Uint8Array(), answer.ContentType);
    },
    handler: (version: number | string) => {
      const call = platform.predictCall('/v2/models/{name}/versions/{version}/infer', { name, version: String(version) }, body);
      return async () => fromHandler(await call());
    },
    gateway: (version: number | string) => async () => fromFetch(await platform.post(`/v2/models/${name}/versions/${version}/infer`, body)),
  };
}

interface Forwarding {
  readonly rows: string[][];
  readonly findings: string[];
}

async function measureForwarding(platform: BenchPlatform, runtime: SageMakerRuntimeClient, invokeTimer: () => number, d: Deployed): Promise<Forwarding> {
  const at = callers(platform, runtime, d);
  const a = variant('a', 'JSON to the container\'s own `/invocations` (Triton\'s port; no SageMaker hop)', at.container);
  const b = variant('b', 'JSON to the endpoint\'s `/invocations` directly: HTTP `POST /endpoints/<name>/invocations` → emulator → container (baseline)', at.endpoint);
  const b2 = variant('b′', 'the same through the SDK (`InvokeEndpoint`)', at.invokeEndpoint);
  const b3 = variant('b″', 'what predict forwards (binary tensors) to the endpoint directly', at.endpointBinary);
  const c = variant('c', 'predict handler in process → `InvokeEndpoint` → emulator → container', at.handler(SAGEMAKER_VERSION), { expect: SAGEMAKER_VERSION, inner: invokeTimer });
  const dd = variant('d', 'HTTP: local gateway → predict container → `InvokeEndpoint` → emulator → container', at.gateway(SAGEMAKER_VERSION), { expect: SAGEMAKER_VERSION });
  const e = variant('e', 'same ONNX, Lambda backend: predict handler in process', at.handler(LAMBDA_VERSION), { expect: LAMBDA_VERSION });
  const f = variant('f', 'same ONNX, Lambda backend: HTTP through the local gateway', at.gateway(LAMBDA_VERSION), { expect: LAMBDA_VERSION });
  const variants = [a, b, b2, b3, c, dd, e, f];
  // Warm-up (connections, sessions, caches), and the answers compared: every path must answer alike.
  const answers = new Map<string, string>();
  await withQuietStdout(async () => {
    for (const v of variants) {
      for (let i = 0; i < 30; i++) await timedCall(v);
      answers.set(v.id, (await v.call()).body);
    }
  });
  const diffs = variants.filter((v) => v !== b).map((v) => outputsDiff(answers.get(b.id)!, answers.get(v.id)!));
  await alternate(variants, d.c.slices, d.c.perSlice);
  const s = new Map(variants.map((v) => [v, summarize(v.samples)]));
  const p50 = (v: Variant) => s.get(v)!.p50;
  const rows = variants.map((v) => {
    const { p50: m, p90, p99 } = s.get(v) as Summary;
    return [`${d.c.seed.name}`, `(${v.id}) ${v.label}`, ms(m), ms(p90), ms(p99), v === b ? '—' : signedMs(m - p50(b)), v === b ? '—' : signedMs(paired(v, b))];
  });
  const handlerAdded = p50(c) - p50(b);
  const pairedAdded = paired(c, b);
  const findings = [
    `- ${d.c.seed.name}: predict's forwarding, (c) − (b) p50 = ${signedMs(handlerAdded)}, paired ${signedMs(pairedAdded)} (target ≤ ${FORWARDING_TARGET_MS} ms): ${verdict(handlerAdded <= FORWARDING_TARGET_MS * 1000 && pairedAdded <= FORWARDING_TARGET_MS * 1000)}. ` +
      `Where it goes (p50 differences): the SDK over plain HTTP (b′) − (b) ${signedMs(p50(b2) - p50(b))}; binary tensors instead of JSON to the endpoint (b″) − (b) ${signedMs(p50(b3) - p50(b))}; predict's own work around its \`InvokeEndpoint\` (measured inside each call of (c): its time minus the call's) p50 ${ms(summarize(c.around).p50)}; ` +
      `the emulator's hop (b) − (a) ${signedMs(p50(b) - p50(a))}; local gateway + function host (d) − (c) ${signedMs(p50(dd) - p50(c))}, the same on the Lambda backend (f) − (e) ${signedMs(p50(f) - p50(e))}. ` +
      `Outputs against (b): largest difference ${diffs.map((x) => x.toExponential(1)).join(', ')} for ${variants.filter((v) => v !== b).map((v) => `(${v.id})`).join(', ')}.`,
  ];
  return { rows, findings };
}

interface FallbackResult {
  readonly rows: string[][];
  readonly findings: string[];
}

/** Crashes the endpoint's container and follows `prod`'s callers through the outage and the recovery. */
async function measureFallback(platform: BenchPlatform, runtime: SageMakerRuntimeClient, d: Deployed): Promise<FallbackResult> {
  const at = callers(platform, runtime, d);
  const name = d.c.seed.name;
  const prodGateway = at.gateway('prod');
  const prodHandler = at.handler('prod');
  // Both paths must be on the SageMaker version before the crash.
  for (const call of [prodGateway, prodHandler]) {
    for (let i = 0; i < 20; i++) {
      const answer = await withQuietStdout(call);
      if (answer.status !== 200 || answer.version !== String(SAGEMAKER_VERSION)) throw new Error(`${name}/prod answered ${answer.status} from ${answer.version} before the crash: ${answer.body.slice(0, 300)}`);
    }
  }
  /** Every answer to `prod`, in order, per path. */
  const log = { gateway: [] as Answer[], handler: [] as Answer[] };
  const reasons = new Map<string, number>();
  const logged = (path: keyof typeof log, call: () => Promise<Answer>) => async (): Promise<Answer> => {
    const answer = await call();
    log[path].push(answer);
    if (isFallback(answer)) {
      const reason = (JSON.parse(answer.body) as { parameters?: { fallback_reason?: string } }).parameters?.fallback_reason ?? 'unstated';
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    return answer;
  };
  const fg = variant('F-gw', 'HTTP: `prod` (SageMaker v2, crashed) → fallback answers', logged('gateway', prodGateway), { expect: LAMBDA_VERSION, timed: isFallback });
  const dg = variant('D-gw', 'HTTP: the fallback version directly (`versions/1`)', at.gateway(LAMBDA_VERSION), { expect: LAMBDA_VERSION });
  const fh = variant('F-in', 'handler in process: `prod` → fallback answers', logged('handler', prodHandler), { expect: LAMBDA_VERSION, timed: isFallback });
  const dh = variant('D-in', 'handler in process: the fallback version directly', at.handler(LAMBDA_VERSION), { expect: LAMBDA_VERSION });

  const admin = `${platform.cloud.endpoints.sagemaker}/_emulator/endpoints/${d.endpointName}/crash`;
  const crash = await fetch(admin, { method: 'POST', body: JSON.stringify({ replaceAfterMs: CRASH_MS }) });
  if (!crash.ok) throw new Error(`crashing ${d.endpointName}: ${crash.status} ${await crash.text()}`);
  const crashedAt = performance.now();

  // The first calls after the crash, one caller per path: how many fail before a fallback answers.
  const firstFallback: Record<keyof typeof log, number> = { gateway: -1, handler: -1 };
  for (const [path, call] of [['gateway', fg.call], ['handler', fh.call]] as const) {
    for (let i = 0; i < 50 && firstFallback[path] < 0; i++) {
      if (isFallback(await withQuietStdout(call))) firstFallback[path] = i;
    }
  }
  // Fallback answers against the fallback version served directly, alternating, while the container is down.
  const variants = [fg, dg, fh, dh];
  let slices = 0;
  await withQuietStdout(async () => {
    while (performance.now() - crashedAt < CRASH_MS - 2 * FALLBACK_SLICE_MS) {
      for (const v of slices % 2 === 0 ? variants : [...variants].reverse()) {
        const from = v.samples.length;
        const until = performance.now() + FALLBACK_SLICE_MS / variants.length;
        while (performance.now() < until) await sample(v);
        v.sliceMedians.push(median(v.samples.slice(from)));
      }
      slices++;
    }
  });
  // Recovery: after the replacement, until the SageMaker version answers `prod` again on both paths.
  const recovered: Record<keyof typeof log, number | undefined> = { gateway: undefined, handler: undefined };
  await withQuietStdout(async () => {
    while ((recovered.gateway === undefined || recovered.handler === undefined) && performance.now() - crashedAt < CRASH_MS + 60_000) {
      for (const [path, call] of [['gateway', fg.call], ['handler', fh.call]] as const) {
        if (recovered[path] !== undefined) continue;
        if ((await call()).version === String(SAGEMAKER_VERSION)) recovered[path] = performance.now() - crashedAt - CRASH_MS;
      }
      await sleep(20);
    }
  });

  const s = new Map(variants.map((v) => [v, summarize(v.samples)]));
  const p50 = (v: Variant) => s.get(v)!.p50;
  const rows = variants.map((v) => {
    const { p50: m, p90, p99, n } = s.get(v) as Summary;
    const base = v === fg ? dg : v === fh ? dh : undefined;
    return [name, `(${v.id}) ${v.label}`, String(n), ms(m), ms(p90), ms(p99), base === undefined ? '—' : signedMs(m - p50(base)), base === undefined ? '—' : signedMs(paired(v, base))];
  });
  const failures = (path: keyof typeof log) => log[path].filter((answer) => answer.status !== 200).length;
  const recovery = (path: keyof typeof log) => (recovered[path] === undefined ? '**not within 60 s**' : `${(recovered[path]! / 1000).toFixed(1)} s`);
  const statusCounts = (path: keyof typeof log) => {
    const counts = new Map<string, number>();
    for (const answer of log[path]) {
      const key = answer.status !== 200 ? `HTTP ${answer.status}` : answer.fallbackFrom !== undefined ? `fallback v${answer.version}` : `v${answer.version}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([key, n]) => `${key} ${n}`).join(', ');
  };
  const gwAdded = p50(fg) - p50(dg);
  const inAdded = p50(fh) - p50(dh);
  const findings = [
    `- ${name}: non-200 answers to \`prod\` from the crash to the recovery: ${failures('gateway')} through the gateway (${log.gateway.length} calls: ${statusCounts('gateway')}), ` +
      `${failures('handler')} in process (${log.handler.length} calls: ${statusCounts('handler')}); the first fallback answer was call #${firstFallback.gateway + 1} through the gateway, #${firstFallback.handler + 1} in process ` +
      `(target: at most ${BREAKER_DEFAULTS.consecutiveFailures}, the breaker's \`consecutiveFailures\`; expected 0 failures): ${verdict(failures('gateway') === 0 && failures('handler') === 0)}. ` +
      `Fallback reasons: ${[...reasons].map(([reason, n]) => `${reason} ${n}`).join(', ')}. SageMaker version answering again ${recovery('gateway')} (gateway) / ${recovery('handler')} (in process) after the container was replaced (breaker cooldown ${BREAKER_DEFAULTS.halfOpenAfterMs / 1000} s).`,
    `- ${name}: fallback answers − the fallback version served directly, p50: ${signedMs(gwAdded)} through the gateway, ${signedMs(inAdded)} in process (target ≤ ${FALLBACK_TARGET_MS} ms): ${verdict(gwAdded <= FALLBACK_TARGET_MS * 1000 && inAdded <= FALLBACK_TARGET_MS * 1000)}.`,
  ];
  return { rows, findings };
}

/** Runs the benchmark and records it (not with `--quick`). */
export async function runSageMakerServingBench(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const began = performance.now();
  const startLoad = loadavg()[0]!.toFixed(2);
  const all = cases(quick);
  const invokeTimer = instrumentInvokeEndpoint();
  const platform = await startBenchPlatform(
    all.map((c) => c.seed),
    { sagemakerDelays: DELAYS, scheduleIntervalMs: 1_000 },
  );
  const runtime = new SageMakerRuntimeClient({ region: LOCAL_REGION, endpoint: platform.cloud.endpoints.sagemaker, credentials: LOCAL_CREDENTIALS });
  try {
    const deployed = await Promise.all(all.map((c) => deploy(platform, c)));
    console.error(`deployed ${deployed.map((d) => d.endpointName).join(', ')} in ${((performance.now() - began) / 1000).toFixed(0)} s`);
    const forwarding: Forwarding[] = [];
    for (const d of deployed) {
      forwarding.push(await measureForwarding(platform, runtime, invokeTimer, d));
      console.error(`measured forwarding for ${d.c.seed.name}`);
    }
    const fallback: FallbackResult[] = [];
    for (const d of deployed) {
      fallback.push(await measureFallback(platform, runtime, d));
      console.error(`measured the fallback for ${d.c.seed.name}`);
    }
    const body = [
      ...(quick ? ['**Quick run**: not a measurement, nothing recorded.', ''] : []),
      `Local cloud started by the benchmark (functions as bundles, as Lambda runs them; SageMaker emulator with ${JSON.stringify(DELAYS)}). Each model registered twice from the same ONNX file: v${LAMBDA_VERSION} on the Lambda backend, v${SAGEMAKER_VERSION} on SageMaker (\`ml.g5.xlarge\`, 1 instance: one emulated Triton container on CPU); \`prod\` → v${SAGEMAKER_VERSION}, fallback v${LAMBDA_VERSION}.`,
      `Callers of predict send OIP v2 JSON: inputs with flat data and the outputs named (${all.map((c) => `${c.seed.name}: ${(Buffer.byteLength(c.body) / 1000).toFixed(1)} KB`).join('; ')}; resnet_mini's is one image [1, 3, 64, 64], 12,288 floats). The direct variants (a), (b), (b′) send the same JSON to the endpoint, as a caller without the platform would. Predict checks it and forwards the checked tensors to Triton as binary data, asking binary outputs; (b″) sends exactly those bytes directly (${all.map((c) => `${c.seed.name}: ${(c.forwarded.body.length / 1000).toFixed(1)} KB`).join('; ')}). Every answer is decoded and checked as predict does it.`,
      `The benchmark process hosts the emulators and the local gateway (one event loop), and calls sequentially. Load average (1 min) at the start and the end: ${startLoad} and ${loadavg()[0]!.toFixed(2)} on ${availableCores()} cores; the paired differences (per slice, against the baseline of the same slice) are steadier than the absolute times when the machine is shared.`,
      '',
      '**Forwarding overhead.** After 30 warm-up calls of each, the variants alternate in slices (order rotating). Δ: against (b); paired Δ: median over slices of the per-slice median differences.',
      '',
      table(['model', 'variant', 'p50', 'p90', 'p99', 'Δ p50', 'paired Δ'], forwarding.flatMap((f) => f.rows)),
      '',
      ...forwarding.flatMap((f) => f.findings),
      '',
      `**Breaker and fallback.** \`POST /_emulator/endpoints/<name>/crash {"replaceAfterMs": ${CRASH_MS}}\`: the container dies, SageMaker answers \`ModelError\` (OriginalStatusCode 0) until it is replaced. One caller per path calls \`prod\` from the crash on; then fallback answers and the fallback version served directly alternate (slices of ${FALLBACK_SLICE_MS / 4} ms each) while the container is down; then \`prod\` is called until v${SAGEMAKER_VERSION} answers again. Breaker defaults (${BREAKER_DEFAULTS.consecutiveFailures} failures in a row, cooldown ${BREAKER_DEFAULTS.halfOpenAfterMs / 1000} s).`,
      '',
      table(['model', 'variant', 'n', 'p50', 'p90', 'p99', 'Δ p50 vs direct', 'paired Δ'], fallback.flatMap((f) => f.rows)),
      '',
      ...fallback.flatMap((f) => f.findings),
      '',
      GPU_NOTE,
      '',
      `Took ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    ].join('\n');
    console.log(body);
    if (!quick) await record('SageMaker serving: forwarding overhead, breaker and fallback', 'npm run bench -- sagemaker-serving', body);
  } finally {
    runtime.destroy();
    await platform.stop();
    await rm(platform.cloud.stateDir, { recursive: true, force: true });
  }
}
