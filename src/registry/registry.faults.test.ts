import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../errors.js';
import { ModelRegistry } from './registry.js';
import { RegistryTable } from '../storage/table.js';

// Faults dynalite cannot produce: throttling, 5xx and timeouts from DynamoDB.
const document = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const dynamo = mockClient(document);
const registry = new ModelRegistry(new RegistryTable(document, 'registry'));

beforeEach(() => dynamo.reset());

describe('ModelRegistry when DynamoDB fails', () => {
  it('turns throttling into a 503 naming the registry', async () => {
    // Prepare
    dynamo.on(GetCommand).rejects(new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: { httpStatusCode: 400 } }));
    // Act
    const result = registry.getModel('iris');
    // Assess
    await expect(result).rejects.toThrowError(DependencyUnavailableError);
    await expect(registry.getModel('iris')).rejects.toMatchObject({ kind: 'dependency-unavailable', retryAfterSeconds: 1 });
  });

  it('turns a 5xx or a timeout into a 503', async () => {
    dynamo.on(PutCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalServerError', $metadata: { httpStatusCode: 500 } }));
    await expect(registry.createModel({ name: 'x' })).rejects.toMatchObject({ kind: 'dependency-unavailable' });
    dynamo.on(GetCommand).rejects(Object.assign(new Error('socket'), { name: 'TimeoutError' }));
    await expect(registry.findAlias('x', 'prod')).rejects.toMatchObject({ kind: 'dependency-unavailable' });
  });

  it('lets client errors through unchanged (they are bugs, not outages)', async () => {
    dynamo.on(GetCommand).rejects(Object.assign(new Error('bad key'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }));
    await expect(registry.getModel('iris')).rejects.toThrowError('bad key');
  });
});
