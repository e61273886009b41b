import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../test/support/emulators.js';
import { expiresAtFor, type AsyncRequest } from '../src/async/async-request.js';
import { AsyncRequestStore } from '../src/async/async-store.js';
import { RegistryTable } from '../src/storage/table.js';
import { requeueUnfinishedAsyncRequests } from './recover-async.js';

let env: TestEmulators;

beforeAll(async () => {
  env = await startTestEmulators();
});
afterAll(async () => env.stop());

describe('requeueUnfinishedAsyncRequests', () => {
  it('sends a message for every queued or running request, and none for finished ones', async () => {
    // Prepare
    const table = new RegistryTable(env.dynamo, env.resources.tableName);
    const store = new AsyncRequestStore(table);
    const request = (id: string): AsyncRequest => ({
      id,
      status: 'queued',
      model: 'iris',
      routingKey: id,
      input: { key: `predictions/async/inputs/${id}`, sizeBytes: 1 },
      createdAt: new Date().toISOString(),
      attempts: 0,
      expiresAt: expiresAtFor(Date.now()),
    });
    await store.create(request('a'));
    await store.create(request('b'));
    await store.claim('b');
    await store.create(request('c'));
    await store.fail('c', 'refused');

    // Act
    const ids = await requeueUnfinishedAsyncRequests(table, env.sqs, env.resources.queues.async!.url);
    const received = await env.sqs.send(new ReceiveMessageCommand({ QueueUrl: env.resources.queues.async!.url, MaxNumberOfMessages: 10 }));

    // Assess
    expect(ids.sort()).toEqual(['a', 'b']);
    expect((received.Messages ?? []).map((message) => JSON.parse(message.Body!).requestId).sort()).toEqual(['a', 'b']);
  });
});
