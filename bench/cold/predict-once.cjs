// Cold start of the bundled predict function: a fresh process (a new Lambda
// container) loads the bundle and answers one v2 inference request. Prints the
// time at which the bundle was loaded and the answer came (ms since process start).
const { handler } = require(process.argv[2]);
const loadedAt = performance.now();

const row = [5.1, 3.5, 1.4, 0.2];
const body = JSON.stringify({
  inputs: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'].map((name, i) => ({ name, shape: [1, 1], datatype: 'FP32', data: [row[i]] })),
});
const event = {
  resource: '/v2/models/{name}/infer',
  path: '/v2/models/iris/infer',
  httpMethod: 'POST',
  headers: { 'content-type': 'application/json' },
  multiValueHeaders: {},
  queryStringParameters: null,
  multiValueQueryStringParameters: null,
  pathParameters: { name: 'iris' },
  stageVariables: null,
  body,
  isBase64Encoded: false,
  requestContext: { requestId: 'cold-start', identity: { sourceIp: '127.0.0.1' } },
};
const context = { awsRequestId: 'cold-start', functionName: 'predict', memoryLimitInMB: '1769', getRemainingTimeInMillis: () => 29000 };

handler(event, context).then(
  (response) => {
    if (response.statusCode !== 200) {
      console.error(response.body);
      process.exit(1);
    }
    process.stdout.write(`${JSON.stringify({ loadedAt, answeredAt: performance.now() })}\n`);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
