import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { request as httpRequest, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BINARY_MEDIA_TYPES, LARGE_INPUT_ADVICE, MAX_PAYLOAD_BYTES } from '../topology/limits.js';
import { topology } from '../topology/topology.js';
import { createGateway } from './gateway.js';
import { FunctionInvocationError } from './local-function.js';

const API_KEY = 'test-key-0123456789';
const MAX_REQUEST_BYTES = 8192;
const MAX_RESPONSE_BYTES = 4096;

interface Call {
  readonly functionId: string;
  readonly event: APIGatewayProxyEvent;
}

/** What the fake function does on the next invocation. */
let behaviour: (event: APIGatewayProxyEvent) => Promise<unknown>;
const calls: Call[] = [];
let server: Server;
let baseUrl: string;

const okResult: APIGatewayProxyResult = {
  statusCode: 201,
  headers: { 'content-type': 'application/json', 'x-model': 'iris' },
  body: JSON.stringify({ ok: true }),
};

beforeAll(async () => {
  server = createGateway({
    functions: topology.functions,
    apiKey: API_KEY,
    maxRequestBytes: MAX_REQUEST_BYTES,
    maxResponseBytes: MAX_RESPONSE_BYTES,
    binaryMediaTypes: BINARY_MEDIA_TYPES,
    invoke: (functionId, event) => {
      calls.push({ functionId, event: event as APIGatewayProxyEvent });
      return behaviour(event as APIGatewayProxyEvent);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  calls.length = 0;
  behaviour = () => Promise.resolve(okResult);
});

const withKey = (headers: Record<string, string> = {}) => ({ 'x-api-key': API_KEY, ...headers });

/** Sends a body without content-length (chunked), as a streaming client would. */
function postChunked(path: string, chunks: readonly string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method: 'POST', headers: withKey({ 'content-type': 'application/json' }) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/** Sends a request with its path exactly as given (fetch would resolve `//`, `..` and backslashes). */
function sendRaw(method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const { port } = server.address() as AddressInfo;
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers: withKey(headers) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('createGateway: authentication', () => {
  it('answers 401 with a JSON error when the API key is missing', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`);

    // Assess
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { error: string };
    expect(body.error).toMatch(/x-api-key/);
    expect(calls).toEqual([]);
  });

  it('answers 401 when the API key header is empty', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: { 'x-api-key': '' } });

    // Assess
    expect(response.status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('answers 403 with a JSON error when the API key is wrong', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: { 'x-api-key': 'not-the-key' } });

    // Assess
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: string }).error).toBe('invalid API key');
    expect(calls).toEqual([]);
  });

  it('answers 403 for a key that only shares a prefix with the right one', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: { 'x-api-key': `${API_KEY}x` } });

    // Assess
    expect(response.status).toBe(403);
    expect(calls).toEqual([]);
  });
});

describe('createGateway: routing', () => {
  it('answers 404 for a path no route has', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v3/nothing`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toContain('/v3/nothing');
    expect(calls).toEqual([]);
  });

  it('answers 405 for a known path with a method it does not have', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'GET', headers: withKey() });

    // Assess
    expect(response.status).toBe(405);
    expect(((await response.json()) as { error: string }).error).toContain('GET');
    expect(calls).toEqual([]);
  });

  it('lists the methods of the path in Allow on a 405 (RFC 9110 §15.5.6), HEAD wherever GET is', async () => {
    // Act
    const infer = await sendRaw('DELETE', '/v2/models/iris/infer');
    const alias = await sendRaw('POST', '/models/iris/aliases/prod');

    // Assess
    expect([infer.status, infer.headers['allow']]).toEqual([405, 'POST']);
    expect(JSON.parse(infer.body)).toEqual({ error: "method 'DELETE' is not allowed on '/v2/models/iris/infer'; allowed: POST", correlation_id: expect.any(String) });
    expect([alias.status, alias.headers['allow']]).toEqual([405, 'DELETE, GET, HEAD, PUT']);
    expect(calls).toEqual([]);
  });

  it('serves HEAD through the GET route (the event says HEAD; no body comes back)', async () => {
    // Act
    const response = await sendRaw('HEAD', '/v2/health/live');

    // Assess
    expect(response.status).toBe(201);
    expect(response.body).toBe('');
    expect(calls.map((c) => [c.functionId, c.event.httpMethod, c.event.resource])).toEqual([['predict', 'HEAD', '/v2/health/live']]);
  });

  it('serves a path with one trailing slash as the route without it, as API Gateway does (the event keeps the path as sent)', async () => {
    // Act
    const version = await sendRaw('GET', '/models/iris/versions/1/');
    const emptyParameter = await sendRaw('GET', '/v2/models/iris/versions/');

    // Assess
    expect(version.status).toBe(201);
    expect(calls.map((c) => [c.event.resource, c.event.path, c.event.pathParameters])).toEqual([
      ['/models/{name}/versions/{version}', '/models/iris/versions/1/', { name: 'iris', version: '1' }],
    ]);
    expect(emptyParameter.status).toBe(404);
  });

  it('routes each method of a multi-method path to its route', async () => {
    // Act
    const responses = [];
    for (const method of ['GET', 'PUT', 'DELETE']) {
      responses.push(await fetch(`${baseUrl}/models/iris/aliases/prod`, { method, headers: withKey() }));
    }

    // Assess
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(calls.map((c) => [c.functionId, c.event.httpMethod, c.event.resource])).toEqual([
      ['control-plane', 'GET', '/models/{name}/aliases/{alias}'],
      ['control-plane', 'PUT', '/models/{name}/aliases/{alias}'],
      ['control-plane', 'DELETE', '/models/{name}/aliases/{alias}'],
    ]);
  });
});

describe('createGateway: paths as sent', () => {
  it.each([
    ['GET', '//'],
    ['GET', '//v2'],
    ['PUT', '//%252e%252e/models'],
    ['GET', '/v2//health/live'],
    ['GET', '/v2/models//ready'],
    ['POST', '/v2/models//infer'],
  ])('answers %s %s (an empty segment) with 404 and the JSON error, like an unknown route', async (method, path) => {
    // Act
    const response = await sendRaw(method, path);

    // Assess
    expect(response.status).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ error: `no route for ${method} ${path}`, correlation_id: expect.any(String) });
    expect(calls).toEqual([]);
  });

  it('does not read a path that starts with // as a host (//anything/v2 is not /v2)', async () => {
    // Act
    const response = await sendRaw('GET', '//anything/v2');

    // Assess
    expect(response.status).toBe(404);
    expect(calls).toEqual([]);
  });

  it('does not fold dot segments or backslashes into another route', async () => {
    // Act
    const dots = await sendRaw('GET', '/v2/models/../health/live');
    const backslashes = await sendRaw('GET', '/v2\\health\\live');

    // Assess
    expect([dots.status, backslashes.status]).toEqual([404, 404]);
    expect(calls).toEqual([]);
  });

  it('passes a dot segment or an encoded slash to the handler as the path parameter it is', async () => {
    // Act
    await sendRaw('GET', '/v2/models/..');
    await sendRaw('GET', '/v2/models/a%2Fb?x=%2F');

    // Assess
    expect(calls.map((c) => [c.event.resource, c.event.path, c.event.pathParameters, c.event.queryStringParameters])).toEqual([
      ['/v2/models/{name}', '/v2/models/..', { name: '..' }, null],
      ['/v2/models/{name}', '/v2/models/a%2Fb', { name: 'a/b' }, { x: '/' }],
    ]);
  });
});

describe('createGateway: payload limit', () => {
  it('answers 413 naming the limit for a body over maxRequestBytes (declared length)', async () => {
    // Prepare
    const body = JSON.stringify({ data: 'x'.repeat(MAX_REQUEST_BYTES) });

    // Act
    const response = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ 'content-type': 'application/json' }), body });

    // Assess
    expect(response.status).toBe(413);
    const error = ((await response.json()) as { error: string }).error;
    expect(error).toContain(`${MAX_REQUEST_BYTES} bytes`);
    expect(error).toContain(`${Buffer.byteLength(body)} bytes`);
    expect(calls).toEqual([]);
  });

  it('answers 413 for a chunked body that grows over maxRequestBytes', async () => {
    // Prepare
    const chunks = Array.from({ length: 4 }, () => 'y'.repeat(2500));

    // Act
    const response = await postChunked('/v2/models/iris/infer', chunks);

    // Assess
    expect(response.status).toBe(413);
    expect((JSON.parse(response.body) as { error: string }).error).toContain(`limit is ${MAX_REQUEST_BYTES} bytes`);
    expect(calls).toEqual([]);
  });

  it('counts the request as Lambda does, the event with the body escaped: a body of quotes is refused where plain text of its size passes', async () => {
    // Prepare: 3,600 quotes become 7,200 bytes once escaped in the event, over the limit with the headers and context.
    const quotes = '"'.repeat(3600);
    const plain = 'z'.repeat(3600);

    // Act
    const refused = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey(), body: quotes });
    const accepted = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey(), body: plain });

    // Assess
    expect(refused.status).toBe(413);
    expect(((await refused.json()) as { error: string }).error).toMatch(
      new RegExp(`^request is \\d+ bytes as Lambda receives it \\(a 3600-byte body escaped as a JSON string in the API Gateway event, with the headers and request context\\); the limit is ${MAX_REQUEST_BYTES} bytes`),
    );
    expect(accepted.status).toBe(201);
    expect(calls.map((call) => call.event.body)).toEqual([plain]);
  });

  it('passes a chunked body under the limit through whole', async () => {
    // Act
    const response = await postChunked('/v2/models/iris/infer', ['{"a":', '1}']);

    // Assess
    expect(response.status).toBe(201);
    expect(calls[0]?.event.body).toBe('{"a":1}');
  });
});

describe('createGateway: proxy events and results', () => {
  it('turns a request into an API Gateway proxy event for the route', async () => {
    // Prepare
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }] });

    // Act
    const response = await fetch(`${baseUrl}/v2/models/iris/versions/prod/infer?trace=1&tag=a&tag=b`, {
      method: 'POST',
      headers: withKey({ 'content-type': 'application/json', 'x-request-id': 'r-1' }),
      body,
    });

    // Assess
    expect(response.status).toBe(201);
    expect(calls).toHaveLength(1);
    const { functionId, event } = calls[0]!;
    expect(functionId).toBe('predict');
    expect(event.resource).toBe('/v2/models/{name}/versions/{version}/infer');
    expect(event.path).toBe('/v2/models/iris/versions/prod/infer');
    expect(event.httpMethod).toBe('POST');
    expect(event.pathParameters).toEqual({ name: 'iris', version: 'prod' });
    expect(event.queryStringParameters).toEqual({ trace: '1', tag: 'b' });
    expect(event.multiValueQueryStringParameters).toEqual({ trace: ['1'], tag: ['a', 'b'] });
    expect(event.body).toBe(body);
    expect(event.isBase64Encoded).toBe(false);
    const headerNames = Object.fromEntries(Object.entries(event.headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(headerNames['content-type']).toBe('application/json');
    expect(headerNames['x-request-id']).toBe('r-1');
    expect(event.requestContext.resourcePath).toBe('/v2/models/{name}/versions/{version}/infer');
    expect(event.requestContext.httpMethod).toBe('POST');
    expect(event.requestContext.identity.sourceIp).toMatch(/127\.0\.0\.1/);
  });

  it('gives null query, path parameters and body when the request has none', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v2/health/ready`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(201);
    const event = calls[0]!.event;
    expect(event.resource).toBe('/v2/health/ready');
    expect(event.queryStringParameters).toBeNull();
    expect(event.pathParameters).toBeNull();
    expect(event.body).toBeNull();
  });

  it('writes the result status, headers and body back', async () => {
    // Prepare
    behaviour = () =>
      Promise.resolve({
        statusCode: 202,
        headers: { 'content-type': 'text/plain', 'x-one': '1' },
        multiValueHeaders: { 'x-many': ['a', 'b'] },
        body: 'accepted',
      } satisfies APIGatewayProxyResult);

    // Act
    const response = await fetch(`${baseUrl}/v1/models/iris:predict`, { method: 'POST', headers: withKey(), body: '{}' });

    // Assess
    expect(response.status).toBe(202);
    expect(response.headers.get('content-type')).toBe('text/plain');
    expect(response.headers.get('x-one')).toBe('1');
    expect(response.headers.get('x-many')).toBe('a, b');
    expect(await response.text()).toBe('accepted');
    expect(calls[0]?.event.pathParameters).toEqual({ nameAndVerb: 'iris:predict' });
  });

});

describe('createGateway: binary media types', () => {
  /** Every byte value, and bytes that are not UTF-8 (a lone continuation byte, a truncated sequence). */
  const bytes = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from([0x80, 0xe2, 0x82])]);
  const binaryResult = (body = bytes.toString('base64')): APIGatewayProxyResult => ({
    statusCode: 200,
    headers: { 'content-type': 'application/octet-stream' },
    body,
    isBase64Encoded: true,
  });

  it('passes a body of a binary media type to the function base64-encoded, every byte intact', async () => {
    // Act
    const plain = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ 'content-type': 'application/octet-stream' }), body: bytes });
    const withParameter = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ 'content-type': 'application/octet-stream; x=1' }), body: bytes });

    // Assess
    expect([plain.status, withParameter.status]).toEqual([201, 201]);
    for (const { event } of calls) {
      expect(event.isBase64Encoded).toBe(true);
      expect(event.body).toBe(bytes.toString('base64'));
      expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
    }
    expect(calls).toHaveLength(2);
  });

  it('passes a JSON body, or one without a Content-Type, as UTF-8 text (bytes that are not UTF-8 as U+FFFD), and an empty binary body as null', async () => {
    // Prepare
    const json = JSON.stringify({ inputs: [{ name: 'é', shape: [1], datatype: 'BYTES', data: ['😀'] }] });

    // Act
    await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ 'content-type': 'application/json' }), body: json });
    await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ 'content-type': 'application/json' }), body: Buffer.from([0x7b, 0x80, 0x7d]) });
    await postChunked('/v2/models/iris/infer', ['{}']);
    await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ 'content-type': 'application/octet-stream' }), body: Buffer.alloc(0) });

    // Assess
    expect(calls.map(({ event }) => [event.body, event.isBase64Encoded])).toEqual([
      [json, false],
      ['{\ufffd}', false],
      ['{}', false],
      [null, false],
    ]);
  });

  it('writes a base64 result as bytes when the first Accept media type is a binary one', async () => {
    // Prepare
    behaviour = () => Promise.resolve(binaryResult());

    // Act
    const exact = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ accept: 'application/octet-stream' }), body: '{}' });
    const first = await fetch(`${baseUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ accept: 'application/octet-stream;q=0.5, application/json' }), body: '{}' });

    // Assess
    for (const response of [exact, first]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes);
    }
  });

  it('writes a base64 result as its base64 text when the first Accept media type is not binary, as API Gateway does', async () => {
    // Prepare
    behaviour = () => Promise.resolve(binaryResult());

    // Act: JSON first, a wildcard (never expanded), and fetch's default Accept (*/*).
    const responses = [
      await fetch(`${baseUrl}/v2/health/live`, { headers: withKey({ accept: 'application/json, application/octet-stream' }) }),
      await fetch(`${baseUrl}/v2/health/live`, { headers: withKey({ accept: 'application/*' }) }),
      await fetch(`${baseUrl}/v2/health/live`, { headers: withKey() }),
    ];

    // Assess
    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(await response.text()).toBe(bytes.toString('base64'));
    }
  });

  it('answers 500 for a base64 result it must decode but cannot, as API Gateway does', async () => {
    // Prepare
    behaviour = () => Promise.resolve(binaryResult('èé+à)('));

    // Act
    const binary = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey({ accept: 'application/octet-stream' }) });
    const text = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey({ accept: 'application/json' }) });

    // Assess
    expect(binary.status).toBe(500);
    expect(await binary.json()).toEqual({ error: 'internal server error', correlation_id: expect.any(String) });
    expect([text.status, await text.text()]).toEqual([200, 'èé+à)(']);
  });

  it('passes a result that is not base64-encoded as text whatever the Accept', async () => {
    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey({ accept: 'application/octet-stream' }) });

    // Assess
    expect([response.status, await response.text()]).toEqual([201, okResult.body]);
  });
});

describe('createGateway: the largest binary body Lambda takes (the 6 MiB event carries it base64-encoded)', () => {
  let limited: Server;
  let limitedUrl: string;
  const events: APIGatewayProxyEvent[] = [];

  beforeAll(async () => {
    limited = createGateway({
      functions: topology.functions,
      apiKey: API_KEY,
      maxRequestBytes: MAX_PAYLOAD_BYTES,
      maxResponseBytes: MAX_PAYLOAD_BYTES,
      binaryMediaTypes: BINARY_MEDIA_TYPES,
      invoke: (_functionId, event) => {
        events.push(event as APIGatewayProxyEvent);
        return Promise.resolve(okResult);
      },
    });
    await new Promise<void>((resolve) => limited.listen(0, '127.0.0.1', resolve));
    limitedUrl = `http://127.0.0.1:${(limited.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    limited.closeAllConnections();
    await new Promise<void>((resolve) => limited.close(() => resolve()));
  });

  const postBinary = (size: number) =>
    fetch(`${limitedUrl}/v2/models/iris/infer`, { method: 'POST', headers: withKey({ 'content-type': 'application/octet-stream' }), body: Buffer.alloc(size, 0xab) });

  it('takes a raw body of about 4.5 MiB and refuses one byte more with 413, measuring the event as serialized', async () => {
    // Prepare: the event's bytes besides the body, from a probe whose Content-Length has as many digits.
    expect((await postBinary(1_000_000)).status).toBe(201);
    const probe = events[0]!;
    const rest = Buffer.byteLength(JSON.stringify(probe)) - probe.body!.length;
    // Base64 takes 4 characters per 3 bytes (the last group padded): the largest body whose encoding fits.
    const largest = 3 * Math.floor((MAX_PAYLOAD_BYTES - rest) / 4);

    // Act
    const fits = await postBinary(largest);
    const over = await postBinary(largest + 1);

    // Assess
    expect(fits.status).toBe(201);
    const size = Buffer.byteLength(JSON.stringify(events[1]));
    expect(size).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(size).toBeGreaterThan(MAX_PAYLOAD_BYTES - 4);
    expect(largest).toBeGreaterThan(4.5 * 1024 * 1024 - 2048);
    expect(largest).toBeLessThan(4.5 * 1024 * 1024);
    expect(over.status).toBe(413);
    expect(((await over.json()) as { error: string }).error).toBe(
      `request is ${size + 4} bytes as Lambda receives it (a ${largest + 1}-byte body base64-encoded (its Content-Type is a binary media type) in the API Gateway event, ` +
        `with the headers and request context); the limit is ${MAX_PAYLOAD_BYTES} bytes (split the request into smaller ones; ${LARGE_INPUT_ADVICE})`,
    );
    expect(events).toHaveLength(2);
  });
});

describe('createGateway: failed invocations', () => {
  const stack = 'Error: secret detail\n    at handler (/work/functions/predict/handler.ts:1:1)';

  it('answers 504 when the function timed out', async () => {
    // Prepare
    behaviour = () => Promise.reject(new FunctionInvocationError('predict', { name: 'TimeoutError', message: 'timed out after 29 s' }));

    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ error: 'endpoint request timed out', correlation_id: expect.any(String) });
  });

  it('answers 502 without the stack trace when the handler threw', async () => {
    // Prepare
    behaviour = () => Promise.reject(new FunctionInvocationError('predict', { name: 'Error', message: 'secret detail', stack }));

    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: 'internal server error', correlation_id: expect.any(String) });
    expect(text).not.toContain('secret detail');
    expect(text).not.toContain('handler.ts');
  });

  it('answers 502 when the container died', async () => {
    // Prepare
    behaviour = () => Promise.reject(new FunctionInvocationError('predict', { name: 'ContainerExited', message: 'container exited (code 1, signal null)' }));

    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(502);
    expect(await response.text()).not.toContain('container exited');
  });

  it('answers 502 for a rejection that is not a FunctionInvocationError', async () => {
    // Prepare
    const plain = new Error('TimeoutError lookalike');
    plain.name = 'TimeoutError';
    behaviour = () => Promise.reject(plain);

    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: 'internal server error', correlation_id: expect.any(String) });
  });

  it('answers 502 when the handler returns something that is not a proxy result', async () => {
    // Prepare
    behaviour = () => Promise.resolve(undefined);

    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({ error: 'internal server error', correlation_id: expect.any(String) });
  });
});

describe('createGateway: API Gateway\'s and Lambda\'s other limits', () => {
  it('answers headers over API Gateway\'s 10,240 bytes with 431 and the JSON error, never reaching the function', async () => {
    // Act: 20 KB of routing key (10,000 × "é"), as a client might send by mistake.
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey({ 'x-routing-key': encodeURIComponent('é'.repeat(10_000)) }) });

    // Assess
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ error: "request line and headers exceed 10240 bytes (API Gateway's limit)", correlation_id: expect.any(String) });
    expect(calls).toEqual([]);
  });

  it('answers an HTTP/1.1 request without Host with a 400 and the JSON error (not Node\'s empty 400)', async () => {
    // Act: a raw request, as fetch always sends Host.
    const { port } = server.address() as AddressInfo;
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.end(`GET /v2/health/live HTTP/1.1\r\nx-api-key: ${API_KEY}\r\nconnection: close\r\n\r\n`));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });

    // Assess
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))).toEqual({
      error: 'missing Host header: an HTTP/1.1 request must send one (RFC 9112 §3.2)',
      correlation_id: expect.any(String),
    });
    expect(calls).toEqual([]);
  });

  it('answers 502 saying why when the function\'s response is over Lambda\'s payload limit, as API Gateway would', async () => {
    // Prepare
    behaviour = () => Promise.resolve({ statusCode: 200, headers: {}, body: 'x'.repeat(MAX_RESPONSE_BYTES) });

    // Act
    const response = await fetch(`${baseUrl}/v2/health/live`, { headers: withKey() });

    // Assess
    expect(response.status).toBe(502);
    expect(await response.json()).toEqual({
      error: `the function's response is ${MAX_RESPONSE_BYTES + 41} bytes, over Lambda's limit of ${MAX_RESPONSE_BYTES} bytes for a synchronous response (API Gateway answers 502 in AWS)`,
      correlation_id: expect.any(String),
    });
  });
});
