import { describe, expect, it } from 'vitest';
import { ENV, functionEnvironment } from './environment.js';
import { topology } from './topology.js';

const names = { registryTable: 'registry', lakeBucket: 'lake', queueUrls: { training: 'https://queue/training' }, codeVersion: '1.0.0' };
const spec = (id: string) => topology.functions.find((fn) => fn.id === id)!;

describe('functionEnvironment', () => {
  it("gives a queue consumer its queue's maxReceiveCount, and other functions none", () => {
    // Act
    const train = functionEnvironment(spec('train'), topology.queues, names);
    const predict = functionEnvironment(spec('predict'), topology.queues, names);

    // Assess
    const training = topology.queues.find((queue) => queue.id === 'training')!;
    expect(train[ENV.maxReceiveCount]).toBe(String(training.maxReceiveCount));
    expect(predict[ENV.maxReceiveCount]).toBeUndefined();
  });

  it('points a function only at the resources its access names', () => {
    // Act
    const predict = functionEnvironment(spec('predict'), topology.queues, names);
    const control = functionEnvironment(spec('control-plane'), topology.queues, names);

    // Assess
    expect(predict[ENV.trainingQueueUrl]).toBeUndefined();
    expect(control[ENV.trainingQueueUrl]).toBe('https://queue/training');
    expect(predict[ENV.registryTable]).toBe('registry');
  });
});

describe('functionEnvironment (SageMaker)', () => {
  const sagemaker = {
    resourcePrefix: 'platform-1a2b3c',
    executionRoleArn: 'arn:aws:iam::111111111111:role/sagemaker',
    tritonImageUri: '763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:26.05-py3',
    tritonCpuImageUri: '763104351884.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:26.05-py3-cpu',
  };
  const tritonImages = [ENV.tritonImageUri, ENV.tritonCpuImageUri] as string[];
  const withAccess = (access: 'name' | 'invoke' | 'deploy') => ({ ...spec('predict'), access: { ...spec('predict').access, sagemaker: access } });

  it('tells a namer and an invoker the resource prefix only, and a deployer the prefix, the execution role and both Triton images', () => {
    // Act
    const namer = functionEnvironment(withAccess('name'), topology.queues, { ...names, sagemaker });
    const invoker = functionEnvironment(withAccess('invoke'), topology.queues, { ...names, sagemaker });
    const deployer = functionEnvironment(withAccess('deploy'), topology.queues, { ...names, sagemaker });

    // Assess
    expect(Object.keys(namer).filter((name) => name.startsWith('SAGEMAKER_') || tritonImages.includes(name))).toEqual([ENV.sagemakerResourcePrefix]);
    expect(invoker[ENV.sagemakerResourcePrefix]).toBe('platform-1a2b3c');
    expect(invoker[ENV.sagemakerExecutionRoleArn]).toBeUndefined();
    expect(invoker[ENV.tritonImageUri]).toBeUndefined();
    expect(invoker[ENV.tritonCpuImageUri]).toBeUndefined();
    expect(deployer).toMatchObject({
      [ENV.sagemakerResourcePrefix]: 'platform-1a2b3c',
      [ENV.sagemakerExecutionRoleArn]: 'arn:aws:iam::111111111111:role/sagemaker',
      [ENV.tritonImageUri]: sagemaker.tritonImageUri,
      [ENV.tritonCpuImageUri]: sagemaker.tritonCpuImageUri,
    });
  });

  it('gives no SageMaker settings to a function without SageMaker access, nor when the platform has none', () => {
    // Act
    const control = functionEnvironment(spec('ingest'), topology.queues, { ...names, sagemaker });
    const noSageMaker = functionEnvironment(withAccess('deploy'), topology.queues, names);

    // Assess
    for (const environment of [control, noSageMaker]) {
      expect([ENV.sagemakerResourcePrefix, ENV.sagemakerExecutionRoleArn, ...tritonImages].filter((name) => environment[name] !== undefined)).toEqual([]);
    }
  });
});

describe('functionEnvironment: registry events', () => {
  it('tells the registry writers and the functions that announce registry events (predict: breaker transitions) the event bus, and no other', () => {
    // Act
    const withBus = { ...names, registryEventBus: 'events' };
    const predict = functionEnvironment(spec('predict'), topology.queues, withBus);
    const control = functionEnvironment(spec('control-plane'), topology.queues, withBus);
    const train = functionEnvironment({ ...spec('predict'), access: { registry: 'read' } }, topology.queues, withBus);

    // Assess
    expect([predict[ENV.registryEventBus], control[ENV.registryEventBus], train[ENV.registryEventBus]]).toEqual(['events', 'events', undefined]);
  });
});
