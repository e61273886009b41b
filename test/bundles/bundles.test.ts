/**
 * What ships: every handler built with the stack's bundling settings, every layer built as the
 * stack builds it, and each bundle run in a clean child process laid out as Lambda lays it out
 * (bundle in a task root outside the repository, layers reached only through NODE_PATH, no tsx,
 * only the function's own environment) answering one real event against the emulators. A module
 * missing from a bundle or a layer fails here, not after a deploy.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerEnvironment } from '../../local/cloud.js';
import { buildArtifacts, type FunctionArtifact } from '../../local/lambda-artifacts.js';
import { shadowPredictionsKey, shadowRequestsKey } from '../../src/inference/telemetry/shadow-copy.js';
import { ALGORITHMS } from '../../src/ml/algorithms/index.js';
import { RegistryTable } from '../../src/storage/table.js';
import { JobStore } from '../../src/training/job-store.js';
import { topology } from '../../topology/topology.js';
import { apiEvent } from '../support/api-event.js';
import { startTestEmulators, type TestEmulators } from '../support/emulators.js';

const run = promisify(execFile);

/** Loads a bundle with `require` (as Lambda's Node.js runtime loads a CommonJS handler) and invokes it once. */
const INVOKE = `
const { handler } = require(process.env.BUNDLE);
const context = { awsRequestId: 'bundle-test', functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + process.env.AWS_LAMBDA_FUNCTION_NAME,
  memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, getRemainingTimeInMillis: () => Number(process.env.TIMEOUT_MS) };
handler(JSON.parse(process.env.EVENT), context).then(
  (result) => process.stdout.write('\\n@@result ' + JSON.stringify(result) + '\\n'),
  (error) => { process.stdout.write('\\n@@error ' + String(error && error.stack || error) + '\\n'); process.exitCode = 1; },
);
`;

let env: TestEmulators;
let root: string;
let artifacts: Map<string, FunctionArtifact>;

beforeAll(async () => {
  env = await startTestEmulators();
  root = await mkdtemp(path.join(tmpdir(), 'lambda-artifacts-'));
  artifacts = await buildArtifacts(topology.functions, { bundles: root });
}, 300_000);

afterAll(async () => {
  await env.stop();
  await rm(root, { recursive: true, force: true });
});

/**
 * Runs a function's bundle on one event in a fresh process whose cwd is its task root (`overrides` added to its
 * environment): what the handler returned, and the process's log lines (stdout and stderr, as Lambda keeps both).
 */
async function runBundle(functionId: string, event: unknown, overrides: Readonly<Record<string, string>> = {}): Promise<{ result: unknown; log: string[] }> {
  const spec = topology.functions.find((fn) => fn.id === functionId)!;
  const artifact = artifacts.get(functionId)!;
  const taskRoot = path.dirname(artifact.bundle);
  const { stdout, stderr } = await run(process.execPath, ['-e', INVOKE], {
    cwd: taskRoot,
    env: {
      ...containerEnvironment(topology, spec, env.emulators.endpoints, env.resources, root, overrides),
      NODE_PATH: artifact.nodePath,
      BUNDLE: artifact.bundle,
      EVENT: JSON.stringify(event),
      TIMEOUT_MS: String(spec.timeoutSeconds * 1000),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout: string; stderr: string }) => error);
  const line = stdout.split('\n').find((l) => l.startsWith('@@result '));
  if (line === undefined) throw new Error(`${functionId} returned no result:\n${stdout}\n${stderr}`);
  return { result: JSON.parse(line.slice('@@result '.length)), log: [...stdout.split('\n'), ...stderr.split('\n')] };
}

/** What a function's bundle returned for one event (see {@link runBundle}). */
const invokeBundle = async (functionId: string, event: unknown, overrides: Readonly<Record<string, string>> = {}): Promise<unknown> =>
  (await runBundle(functionId, event, overrides)).result;

const sqsEvent = (body: string) => ({
  Records: [{ messageId: 'm1', receiptHandle: 'r1', body, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, eventSource: 'aws:sqs' }],
});

describe('the bundles Lambda runs', () => {
  it('builds a bundle for every function of the topology, and reaches the layers only through NODE_PATH', () => {
    // Assess
    expect([...artifacts.keys()].sort()).toEqual(topology.functions.map((fn) => fn.id).sort());
    for (const fn of topology.functions) {
      const { bundle, nodePath } = artifacts.get(fn.id)!;
      expect(path.relative(process.cwd(), bundle).startsWith('..')).toBe(true);
      expect(nodePath.split(path.delimiter).filter(Boolean)).toHaveLength(fn.layers.length);
    }
  });

  it('control plane: answers GET /models from the registry table', async () => {
    // Act
    const result = (await invokeBundle('control-plane', apiEvent({ method: 'GET', resource: '/models' }))) as { statusCode: number; body: string };

    // Assess
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ models: [], nextCursor: null });
  });

  it('control plane: logs a refused request with the Lambda context of a cold start', async () => {
    // Act
    const { result, log } = await runBundle('control-plane', apiEvent({ method: 'GET', resource: '/models/{name}', pathParameters: { name: 'nosuch' } }));

    // Assess
    expect((result as { statusCode: number }).statusCode).toBe(404);
    const lines = log.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line['message'] === 'request rejected')).toMatchObject({ function_request_id: 'bundle-test', cold_start: true, statusCode: 404 });
  });

  it('ingest: turns a dropped CSV into a READY dataset version with DuckDB from its layer', async () => {
    // Prepare
    const csv = `x,y\n${Array.from({ length: 40 }, (_, i) => `${i},${2 * i + 1}`).join('\n')}\n`;
    const put = await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: 'raw/bundled/data.csv', Body: csv }));
    const notification = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: env.resources.bucketName }, object: { key: 'raw/bundled/data.csv', size: csv.length, eTag: put.ETag, sequencer: '01' } },
        },
      ],
    };

    // Act
    const result = await invokeBundle('ingest', sqsEvent(JSON.stringify(notification)));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const version = await env.dynamo.send(new GetCommand({ TableName: env.resources.tableName, Key: { pk: 'DATASET#bundled', sk: 'VERSION#0000000001' } }));
    expect(version.Item).toMatchObject({ status: 'READY', rowsAccepted: 40 });
  });

  it('train: runs a job on its worker thread (the bundle loads itself), proves the export with onnxruntime from its layer, and registers the model', async () => {
    // Prepare: a job on the dataset the ingest test made.
    const jobs = new JobStore(new RegistryTable(env.dynamo, env.resources.tableName));
    const { job } = await jobs.createJob(
      {
        modelName: 'bundled',
        dataset: 'bundled',
        datasetVersion: 1,
        target: 'y',
        features: ['x'],
        task: 'regression',
        algorithm: 'linear',
        hyperparameters: ALGORITHMS.linear.parameters.parse({}),
        seed: 1,
        alias: 'prod',
      },
      { submittedBy: 'bundle test', trigger: 'api' },
    );

    // Act
    const result = await invokeBundle('train', sqsEvent(JSON.stringify({ jobId: job.id })));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const finished = await jobs.getJob(job.id);
    expect(finished, finished.reason).toMatchObject({ status: 'SUCCEEDED', modelVersion: 1 });
  });

  it('predict: loads onnxruntime-node from its layer and serves the trained model', async () => {
    // Act
    const event = apiEvent({ method: 'POST', resource: '/v2/models/{name}/infer', pathParameters: { name: 'bundled' }, body: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [10] }] } });
    const result = (await invokeBundle('predict', event)) as { statusCode: number; body: string };

    // Assess
    expect(result.statusCode).toBe(200);
    const [value] = (JSON.parse(result.body) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    // y = 2x + 1, learnt by ridge regression (l2 = 1) from 40 rows: about 21 at x = 10.
    expect(Math.abs(value! - 21)).toBeLessThan(2);
  });

  it('shadow: answers a sampled copy with the shadow version from its layer and writes the side-by-side record', async () => {
    // Prepare: a copy of a request the predict test answered, as predict writes it, and its lake notification.
    const request = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [10] }] };
    const copy = { model: 'bundled', alias: 'prod', requestId: 'r-1', at: new Date().toISOString(), protocol: 'v2', request, primary: { version: 1, response: { outputs: [] } }, shadowVersion: 1 };
    const key = shadowRequestsKey('bundled', new Date(), 'bundle-test', 1);
    await env.s3.send(new PutObjectCommand({ Bucket: env.resources.bucketName, Key: key, Body: `${JSON.stringify(copy)}\n` }));
    const notification = { Records: [{ eventVersion: '2.1', eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: env.resources.bucketName }, object: { key, size: 1, sequencer: '02' } } }] };

    // Act
    const result = await invokeBundle('shadow', sqsEvent(JSON.stringify(notification)));

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    const records = await env.s3.send(new GetObjectCommand({ Bucket: env.resources.bucketName, Key: shadowPredictionsKey(key, 'bundled', 'prod') }));
    const [record] = (await records.Body!.transformToString()).trim().split('\n').map((line) => JSON.parse(line) as { shadow: { version: number; response: { outputs: { data: number[] }[] } } });
    expect(record!.shadow).toMatchObject({ version: 1, response: { outputs: [{ data: [expect.any(Number)] }] } });
  });

  it('rollouts: runs its schedule over the registry table', async () => {
    // Act
    const result = await invokeBundle('rollouts', { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} });

    // Assess
    expect(result).toEqual({ changed: 0 });
  });

  it('deployments: runs its schedule over the registry table with the SageMaker clients', async () => {
    // Act: no version is deploying, so no SageMaker call is made.
    const result = await invokeBundle(
      'deployments',
      { 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} },
      {
        SAGEMAKER_RESOURCE_PREFIX: 'sap-test',
        SAGEMAKER_EXECUTION_ROLE_ARN: 'arn:aws:iam::000000000000:role/sagemaker',
        TRITON_IMAGE_URI: 'tritonserver:test',
        TRITON_CPU_IMAGE_URI: 'tritonserver:test-cpu',
      },
    );

    // Assess
    expect(result).toEqual({ changed: 0 });
  });
});
