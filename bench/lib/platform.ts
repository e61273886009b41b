import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../topology/environment.js';
import { topology } from '../../topology/topology.js';
import { containerEnvironment, startLocalCloud, type LocalCloud, type LocalCloudOptions } from '../../local/cloud.js';
import type { SeedModel } from '../../local/seed.js';
import { apiEvent, lambdaContext } from '../../test/support/api-event.js';

/** A local cloud with sample models, plus the predict handler loaded in this process against the same emulators. */
export interface BenchPlatform {
  readonly cloud: LocalCloud;
  /** Prepares an API Gateway event once and returns a call that invokes the predict handler in process with it. */
  predictCall(resource: string, pathParameters: Record<string, string>, body: string): () => Promise<APIGatewayProxyResult>;
  /** Invokes the predict handler in process with an event built by the caller (a binary body, other headers). */
  predict(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult>;
  /** POSTs through the local gateway over HTTP. */
  post(path: string, body: string): Promise<Response>;
  stop(): Promise<void>;
}

/** The predict function's container environment against a running local cloud, with an empty model cache. */
export async function predictEnvironment(cloud: LocalCloud): Promise<NodeJS.ProcessEnv> {
  const spec = topology.functions.find((fn) => fn.id === 'predict');
  if (spec === undefined) throw new Error('the topology has no predict function');
  const env = containerEnvironment(topology, spec, cloud.endpoints, cloud.resources, cloud.stateDir);
  return { ...env, [ENV.modelCacheDir]: await mkdtemp(join(tmpdir(), 'bench-model-cache-')) };
}

/** Local cloud settings a benchmark may change (the SageMaker emulator's delays, the schedule). */
export type BenchCloudOptions = Pick<LocalCloudOptions, 'sagemakerDelays' | 'scheduleIntervalMs'>;

/** Starts the platform for a benchmark. */
export async function startBenchPlatform(models: readonly SeedModel[], options: BenchCloudOptions = {}): Promise<BenchPlatform> {
  const cloud = await startLocalCloud({ ...options, stateDir: await mkdtemp(join(tmpdir(), 'bench-cloud-')), port: 0, seed: models });
  Object.assign(process.env, await predictEnvironment(cloud));
  const { handler } = await import('../../functions/predict/handler.js');
  return {
    cloud,
    predictCall: (resource, pathParameters, body) => {
      const event = apiEvent({ method: 'POST', resource, pathParameters, body });
      return async () => (await handler(event, lambdaContext)) as APIGatewayProxyResult;
    },
    predict: async (event) => (await handler(event, lambdaContext)) as APIGatewayProxyResult,
    post: (path, body) =>
      fetch(`${cloud.baseUrl}${path}`, { method: 'POST', headers: { 'x-api-key': cloud.apiKey, 'content-type': 'application/json' }, body }),
    stop: () => cloud.stop(),
  };
}

/**
 * Runs `fn` with stdout discarded: Lambda ships stdout through a pipe, a terminal
 * is far slower, so timed loops must not pay for the terminal.
 */
export async function withQuietStdout<T>(fn: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await fn();
  } finally {
    process.stdout.write = write;
  }
}
