import type { APIGatewayProxyResult } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../topology/limits.js';
import { apiEvent, lambdaContext } from '../../test/support/api-event.js';
import { createObservability } from '../runtime/observability.js';
import { createApiHandler, type ApiHandler } from './api-handler.js';

let handler: ApiHandler;
/** Bytes of the body the route answers with. */
let bodyBytes = 0;

beforeAll(() => {
  process.env['POWERTOOLS_DEV'] = 'true';
  process.env['POWERTOOLS_LOG_LEVEL'] = 'CRITICAL';
  process.env['POWERTOOLS_METRICS_DISABLED'] = 'true';
  handler = createApiHandler(
    { 'GET /big': async () => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: `"${'x'.repeat(bodyBytes - 2)}"` }) },
    createObservability('api-handler-test'),
  );
});

const call = async () => (await handler(apiEvent({ method: 'GET', resource: '/big' }), lambdaContext)) as APIGatewayProxyResult;

describe('createApiHandler: Lambda\'s response payload limit', () => {
  it('refuses a response over 6 MB with a 413 that says so (where Lambda would fail the call and API Gateway answer 502)', async () => {
    // Prepare: a body just over the limit (the serialized result counts, as Lambda counts it).
    bodyBytes = MAX_PAYLOAD_BYTES;

    // Act
    const response = await call();

    // Assess
    expect(response.statusCode).toBe(413);
    const body = JSON.parse(response.body) as { error: string; correlation_id: string };
    expect(body.error).toMatch(/^the response would be 629\d{4} bytes; Lambda returns at most 6291456 bytes per synchronous call: ask for fewer rows or outputs per request/);
    expect(body.correlation_id).toBe('req-1');
  });

  it('answers a response under the limit as it is', async () => {
    bodyBytes = MAX_PAYLOAD_BYTES - 1024;
    const response = await call();
    expect(response.statusCode).toBe(200);
    expect(response.body).toHaveLength(bodyBytes);
  });
});

describe('createApiHandler: repeated headers', () => {
  it('refuses a request that repeats a header it must send once (400), before any route runs', async () => {
    // Prepare: API Gateway keeps the last of repeated headers in `headers`, all of them in `multiValueHeaders`.
    bodyBytes = 10;
    const event = apiEvent({ method: 'GET', resource: '/big', headers: { 'content-encoding': 'identity' } });
    const twice = { ...event, multiValueHeaders: { ...event.multiValueHeaders, 'content-encoding': ['gzip', 'identity'] } };

    // Act
    const response = (await handler(twice, lambdaContext)) as APIGatewayProxyResult;

    // Assess
    expect(response.statusCode).toBe(400);
    expect((JSON.parse(response.body) as { error: string }).error).toBe("content-encoding was sent 2 times ('gzip', 'identity'); send it once");
  });
});
