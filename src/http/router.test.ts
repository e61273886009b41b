import { describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { type HttpError, MethodNotAllowedError } from './errors.js';
import { InvalidRequestError } from '../errors.js';
import { dispatch, type RouteTable } from './router.js';

const routes: RouteTable = {
  'GET /models/{name}': async (event) => ({ statusCode: 200, headers: { 'x-route': 'get' }, body: JSON.stringify({ name: event.pathParameters?.['name'] }) }),
  'PUT /models/{name}': async () => ({ statusCode: 200, headers: {}, body: '{}' }),
  'DELETE /models/{name}/aliases/{alias}': async () => ({ statusCode: 204, headers: {}, body: '' }),
};

const failure = async (promise: Promise<unknown>): Promise<HttpError> => {
  try {
    await promise;
  } catch (error) {
    return error as HttpError;
  }
  throw new Error('no error');
};

describe('dispatch', () => {
  it('answers 405 with an Allow header listing the resource\'s methods (HEAD wherever GET is)', async () => {
    const error = await failure(dispatch(routes, apiEvent({ method: 'POST', resource: '/models/{name}', pathParameters: { name: 'm1' } })));
    expect(error).toBeInstanceOf(MethodNotAllowedError);
    expect(error.headers).toEqual({ Allow: 'GET, HEAD, PUT' });
    expect(error.message).toBe("method 'POST' is not allowed on '/models/m1'; allowed: GET, HEAD, PUT");
  });

  it('answers HEAD with the GET route\'s status and headers, without the body', async () => {
    const response = await dispatch(routes, apiEvent({ method: 'HEAD', resource: '/models/{name}', pathParameters: { name: 'm1' } }));
    expect(response).toEqual({ statusCode: 200, headers: { 'x-route': 'get' }, body: '' });
  });

  it.each(['GET', 'HEAD'])('refuses a %s that carries a body with a 400 saying so', async (method) => {
    const error = await failure(dispatch(routes, apiEvent({ method, resource: '/models/{name}', pathParameters: { name: 'm1' }, body: { x: 1 } })));
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe(`a ${method} request takes no body (this one has 7 bytes): send parameters in the path or query string`);
  });

  it('refuses a DELETE that carries a body, and takes one without', async () => {
    const event = { method: 'DELETE', resource: '/models/{name}/aliases/{alias}', pathParameters: { name: 'm1', alias: 'prod' } };
    expect(await failure(dispatch(routes, apiEvent({ ...event, body: '{}' })))).toBeInstanceOf(InvalidRequestError);
    expect((await dispatch(routes, apiEvent(event))).statusCode).toBe(204);
  });
});

describe('query parameters', () => {
  const listing: RouteTable = {
    'GET /models/{name}/versions': async (event) => ({ statusCode: 200, headers: {}, body: JSON.stringify(event.queryStringParameters) }),
    'GET /models/{name}': async () => ({ statusCode: 200, headers: {}, body: '{}' }),
  };
  const get = (resource: string, query: Record<string, string>) => dispatch(listing, apiEvent({ method: 'GET', resource, pathParameters: { name: 'iris' }, query }));

  it('refuses a misspelled filter with a 400 naming it, its near match and the known ones, instead of listing unfiltered', async () => {
    // Act
    const error = await failure(get('/models/{name}/versions', { stauts: 'ARCHIVED' }));

    // Assess
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe("unknown query parameter 'stauts' (did you mean 'status'?); known: limit, cursor, status, tag, minMetric");
  });

  it('refuses any query parameter on a route that reads none, and passes the ones a route reads', async () => {
    // Act
    const error = await failure(get('/models/{name}', { foo: '1' }));
    const passed = await get('/models/{name}/versions', { status: 'ARCHIVED', limit: '3' });

    // Assess
    expect(error.message).toBe("unknown query parameter 'foo'; this route takes no query parameters");
    expect(JSON.parse(passed.body)).toEqual({ status: 'ARCHIVED', limit: '3' });
  });

  it('refuses a parameter given more than once (API Gateway would pass only the last value)', async () => {
    // Prepare
    const event = apiEvent({ method: 'GET', resource: '/models/{name}/versions', pathParameters: { name: 'iris' }, query: { limit: '2' } });
    event.multiValueQueryStringParameters = { limit: ['1', '2'] };

    // Act
    const error = await failure(dispatch(listing, event));

    // Assess
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect(error.message).toBe("query parameter 'limit' is given 2 times; it takes one value");
  });
});
