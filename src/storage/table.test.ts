import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { RegistryTable } from './table.js';

const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mocked = mockClient(db);

beforeEach(() => mocked.reset());

describe('RegistryTable.queryAll', () => {
  it('reads page after page until DynamoDB has no more (pages end at 1 MB read, whatever the projection)', async () => {
    // Prepare
    mocked
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ n: 1 }, { n: 2 }], LastEvaluatedKey: { pk: 'p', sk: '2' } })
      .resolvesOnce({ Items: [], LastEvaluatedKey: { pk: 'p', sk: '3' } })
      .resolvesOnce({ Items: [{ n: 4 }] });
    const table = new RegistryTable(db, 'registry');

    // Act
    const items = await table.queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'p' } });

    // Assess
    expect(items).toEqual([{ n: 1 }, { n: 2 }, { n: 4 }]);
    const starts = mocked.commandCalls(QueryCommand).map((call) => call.args[0].input.ExclusiveStartKey);
    expect(starts).toEqual([undefined, { pk: 'p', sk: '2' }, { pk: 'p', sk: '3' }]);
  });
});
