import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** The parts of an API Gateway REST proxy event a test sets. */
export interface ApiEventInput {
  readonly method: string;
  /** Route template, e.g. `/v2/models/{name}/infer`. */
  readonly resource: string;
  readonly pathParameters?: Record<string, string>;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
}

/** Builds an API Gateway REST proxy event as API Gateway sends it for a route. */
export function apiEvent(input: ApiEventInput): APIGatewayProxyEvent {
  const path = input.resource.replace(/\{(\w+)\}/g, (_, name: string) => input.pathParameters?.[name] ?? '');
  const hasBody = input.body !== undefined;
  return {
    resource: input.resource,
    path,
    httpMethod: input.method,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...input.headers },
    multiValueHeaders: {},
    queryStringParameters: input.query ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: input.pathParameters ?? null,
    stageVariables: null,
    body: hasBody ? (typeof input.body === 'string' ? input.body : JSON.stringify(input.body)) : null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1', identity: { sourceIp: '127.0.0.1' } } as APIGatewayProxyEvent['requestContext'],
  };
}

/** A Lambda context for in-process handler calls. */
export const lambdaContext: Context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '1769',
  awsRequestId: 'aws-req-1',
  logGroupName: '/aws/lambda/test',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => 29_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};
