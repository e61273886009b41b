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
