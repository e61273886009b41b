import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueId, StreamId, Topology } from '../topology/spec.js';
import { ensureStreams, type ProvisionedStream } from './kinesis-streams.js';
import { ATTR, LIST_INDEX } from '../src/storage/table.js';

/** URLs and ARNs of a queue and its dead-letter queue. */
export interface ProvisionedQueue {
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
}

/** What provisioning created (or found). */
export interface ProvisionedResources {
  readonly tableName: string;
  readonly bucketName: string;
  readonly queues: Readonly<Record<QueueId, ProvisionedQueue>>;
  /** Kinesis streams (stream scoring); none without a Kinesis client. */
  readonly streams: Readonly<Partial<Record<StreamId, ProvisionedStream>>>;
}

async function ensureTable(dynamo: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await dynamo.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
  }
  const key = (hash: string, range: string) => [
    { AttributeName: hash, KeyType: 'HASH' as const },
    { AttributeName: range, KeyType: 'RANGE' as const },
  ];
  await dynamo.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [ATTR.pk, ATTR.sk, ATTR.gsi1pk, ATTR.gsi1sk].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
      KeySchema: key(ATTR.pk, ATTR.sk),
      GlobalSecondaryIndexes: [{ IndexName: LIST_INDEX, KeySchema: key(ATTR.gsi1pk, ATTR.gsi1sk), Projection: { ProjectionType: 'ALL' } }],
    }),
  );
}

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = result.Attributes?.QueueArn;
  if (arn === undefined) throw new Error(`queue ${url} has no ARN`);
  return arn;
}

/**
 * Creates the stack's resources on the emulators, idempotently: the registry
 * table (same keys and index as the CDK table), and each queue with its DLQ and
 * redrive policy, and each Kinesis stream. The lake bucket is created by s3rver at start.
 */
export async function provisionResources(topology: Topology, clients: { dynamo: DynamoDBClient; sqs: SQSClient; kinesis?: KinesisClient }): Promise<ProvisionedResources> {
  await ensureTable(clients.dynamo, topology.registry.localName);
  const queues: Partial<Record<QueueId, ProvisionedQueue>> = {};
  for (const spec of topology.queues) {
    const retention = String(spec.retentionDays * 24 * 3600);
    const dlq = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: `${spec.localName}-dlq`, Attributes: { MessageRetentionPeriod: '1209600' } }),
    );
    const dlqArn = await queueArn(clients.sqs, dlq.QueueUrl!);
    const queue = await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: spec.localName,
        Attributes: {
          VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
          MessageRetentionPeriod: retention,
          RedrivePolicy: JSON.stringify({ maxReceiveCount: spec.maxReceiveCount, deadLetterTargetArn: dlqArn }),
        },
      }),
    );
    queues[spec.id] = { url: queue.QueueUrl!, arn: await queueArn(clients.sqs, queue.QueueUrl!), dlqUrl: dlq.QueueUrl! };
  }
  const streams = clients.kinesis === undefined ? {} : await ensureStreams(topology, clients.kinesis);
  return { tableName: topology.registry.localName, bucketName: topology.lake.localName, queues: queues as Record<QueueId, ProvisionedQueue>, streams };
}
