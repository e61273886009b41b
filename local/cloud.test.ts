import { describe, expect, it, vi } from 'vitest';
import { topology } from '../topology/topology.js';
import { containerEnvironment } from './cloud.js';

const endpoints = { dynamodb: 'http://127.0.0.1:1', s3: 'http://127.0.0.1:2', sqs: 'http://127.0.0.1:3', sagemaker: 'http://127.0.0.1:4', kinesis: 'http://127.0.0.1:5' };
const resources = { tableName: 'registry', bucketName: 'lake', queues: {} } as unknown as Parameters<typeof containerEnvironment>[3];

describe('containerEnvironment', () => {
  it("passes the host's switch for the AWS SDK's Node-version notice to containers, and nothing else of the host's beyond the basics", () => {
    // Prepare
    vi.stubEnv('AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED', 'true');
    vi.stubEnv('SOME_HOST_SECRET', 'x');
    const predict = topology.functions.find((fn) => fn.id === 'predict')!;

    // Act
    const env = containerEnvironment(topology, predict, endpoints, resources, '/tmp/state');
    vi.unstubAllEnvs();

    // Assess
    expect(env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED']).toBe('true');
    expect(env['SOME_HOST_SECRET']).toBeUndefined();
  });

  it('points the SageMaker, SageMaker Runtime, Application Auto Scaling and CloudWatch clients at the SageMaker emulator, by the variables the AWS SDK reads', () => {
    // Prepare
    const predict = topology.functions.find((fn) => fn.id === 'predict')!;

    // Act
    const env = containerEnvironment(topology, predict, endpoints, resources, '/tmp/state');

    // Assess
    for (const service of ['SAGEMAKER', 'SAGEMAKER_RUNTIME', 'APPLICATION_AUTO_SCALING', 'CLOUDWATCH']) {
      expect(env[`AWS_ENDPOINT_URL_${service}`]).toBe('http://127.0.0.1:4');
    }
  });
});
