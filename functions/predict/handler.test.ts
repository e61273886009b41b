import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiEvent, lambdaContext } from '../../test/support/api-event.js';
import type { handler as PredictHandler } from './handler.js';

// Faults the emulators cannot produce, injected under the real handler module.
const dynamo = mockClient(DynamoDBDocumentClient);
const s3 = mockClient(S3Client);
let handler: typeof PredictHandler;
let irisBytes: Buffer;

const infer = apiEvent({
  method: 'POST',
  resource: '/v2/models/{name}/infer',
  pathParameters: { name: 'iris' },
  body: { inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name) => ({ name, shape: [1, 1], datatype: 'FP32', data: [1] })) },
});

const call = async () => (await handler(infer, lambdaContext)) as APIGatewayProxyResult;

function registryHolds(version: number): void {
  const sha256 = createHash('sha256').update(irisBytes).digest('hex');
  dynamo.on(QueryCommand).resolves({
    Items: [
      { pk: 'MODEL#iris', sk: '#MODEL', name: 'iris', defaultAlias: 'prod' },
      { pk: 'MODEL#iris', sk: 'ALIAS#prod', alias: 'prod', routes: [{ version, weight: 100 }] },
    ],
  });
  dynamo
    .on(GetCommand, { Key: { pk: 'MODEL#iris', sk: `VERSION#${String(version).padStart(10, '0')}` } })
    .resolves({ Item: { model: 'iris', version, artifact: { uri: 's3://lake/m.onnx', bucket: 'lake', key: `m${version}.onnx`, sha256, sizeBytes: 1 } } });
}

beforeAll(async () => {
  irisBytes = await readFile('models/iris.onnx');
  process.env['REGISTRY_TABLE'] = 'registry';
  process.env['LAKE_BUCKET'] = 'lake';
  process.env['ASYNC_QUEUE_URL'] = 'https://sqs.us-east-1.amazonaws.com/000000000000/async-inference';
  process.env['AWS_REGION'] = 'us-east-1';
  process.env['MODEL_CACHE_DIR'] = await mkdtemp(join(tmpdir(), 'predict-cache-'));
  process.env['ALIAS_CACHE_TTL_MS'] = '0';
  process.env['POWERTOOLS_DEV'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'CRITICAL';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  ({ handler } = await import('./handler.js'));
});
beforeEach(() => {
  dynamo.reset();
  s3.reset();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('predict handler when dependencies fail', () => {
  it('answers 503 with Retry-After when the registry throttles, without leaking internals', async () => {
    // Prepare
    const throttled = Object.assign(new Error('Rate exceeded at /var/task/x.js:1'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
    dynamo.on(QueryCommand).rejects(throttled);
    dynamo.on(GetCommand).rejects(throttled);
    // Act
    const response = await call();
    // Assess
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['Retry-After']).toBe('1');
    expect(JSON.parse(response.body)).toEqual({ error: 'model registry is temporarily unavailable; retry after 1 s', correlation_id: 'req-1' });
    expect(response.body).not.toMatch(/var\/task|Rate exceeded|\bat\b.*:\d+/);
  });

  it('answers 503 when S3 is unavailable while loading the model, then serves once it is back', async () => {
    // Prepare
    registryHolds(1);
    s3.on(GetObjectCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));
    // Act
    const failed = await call();
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(irisBytes) } as never });
    const served = await call();
    // Assess
    expect(failed.statusCode).toBe(503);
    expect(JSON.parse(failed.body).error).toBe('model artifact store is temporarily unavailable; retry after 1 s');
    expect(served.statusCode).toBe(200);
    expect(served.headers?.['x-model-version']).toBe('1');
    expect(JSON.parse(served.body)).toMatchObject({ model_name: 'iris', model_version: '1' });
  });

  it('keeps answering when serving counters cannot be written: telemetry never fails a prediction', async () => {
    // Prepare: the counters' table throttles every write.
    registryHolds(1);
    s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => new Uint8Array(irisBytes) } as never });
    dynamo.on(UpdateCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));
    vi.useFakeTimers({ toFake: ['Date'] });

    // Act: a request, then one after the flush interval (which writes the counters).
    const first = await call();
    vi.setSystemTime(Date.now() + 60_000);
    const flushing = await call();

    // Assess
    expect([first.statusCode, flushing.statusCode]).toEqual([200, 200]);
    expect(dynamo.commandCalls(UpdateCommand).length).toBeGreaterThan(0);
    expect(dynamo.commandCalls(UpdateCommand)[0]!.args[0].input.Key).toMatchObject({ pk: 'STATS#iris#1#prod' });
  });

  it('answers 500 for an unexpected failure with a generic message', async () => {
    dynamo.on(QueryCommand).rejects(new TypeError("Cannot read properties of undefined (reading 'x')"));
    const response = await call();
    expect(response.statusCode).toBe(500);
    expect(JSON.parse(response.body).error).toBe('internal error');
  });
});
