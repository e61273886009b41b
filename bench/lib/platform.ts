import type { APIGatewayProxyResult } from 'aws-lambda';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../infra/topology.js';
import { startLocalCloud, type LocalCloud } from '../../local/cloud.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import type { SeedModel } from '../../local/seed.js';
import { apiEvent, lambdaContext } from '../../test/support/api-event.js';

/** A local cloud with sample models, plus the predict handler loaded in this process against the same emulators. */
export interface BenchPlatform {
  readonly cloud: LocalCloud;
  /** Invokes the predict handler in process with an API Gateway event. */
  invokePredict(resource: string, pathParameters: Record<string, string>, body: string): Promise<APIGatewayProxyResult>;
  /** POSTs through the local gateway over HTTP. */
  post(path: string, body: string): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts the platform for a benchmark. */
export async function startBenchPlatform(models: readonly SeedModel[]): Promise<BenchPlatform> {
  const cloud = await startLocalCloud({ stateDir: await mkdtemp(join(tmpdir(), 'bench-cloud-')), port: 0, seed: models });
  Object.assign(process.env, {
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: cloud.endpoints.dynamodb,
    AWS_ENDPOINT_URL_S3: cloud.endpoints.s3,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
    POWERTOOLS_SERVICE_NAME: 'predict',
    POWERTOOLS_TRACE_ENABLED: 'false',
    [ENV.registryTable]: cloud.resources.tableName,
    [ENV.lakeBucket]: cloud.resources.bucketName,
    [ENV.modelCacheDir]: await mkdtemp(join(tmpdir(), 'bench-model-cache-')),
  });
  const { handler } = await import('../../functions/predict/handler.js');
  return {
    cloud,
    invokePredict: async (resource, pathParameters, body) =>
      (await handler(apiEvent({ method: 'POST', resource, pathParameters, body }), lambdaContext)) as APIGatewayProxyResult,
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
