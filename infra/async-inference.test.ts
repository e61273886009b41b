/**
 * CDK assertions of async inference (src/async/): its queue and dead-letter queue, the worker's
 * concurrency cap and event source, the lifecycle rule on `predictions/async/`, and the grants of
 * the worker, scoped to its lake prefixes and `ASYNC#` registry items.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { actionsOf, logicalId, roleStatements, synthesize, type PolicyStatementJson, type Synthesized } from './stack-test-support.js';

let synthesized: Synthesized;

beforeAll(() => {
  synthesized = synthesize();
});

/** The lake key patterns a statement list grants `action` on. */
function keysOf(statements: readonly PolicyStatementJson[], bucketId: string, action: string): string[] {
  return statements
    .filter((statement) => actionsOf([statement]).includes(action))
    .flatMap((statement) => (Array.isArray(statement.Resource) ? (statement.Resource as unknown[]) : [statement.Resource]))
    .flatMap((resource) => {
      const [arn, suffix] = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1] ?? [];
      return JSON.stringify(arn) === JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] }) && typeof suffix === 'string' ? [suffix.slice(1)] : [];
    })
    .sort();
}

describe('async inference in the stack', () => {
  it('has an async queue whose messages move to its DLQ after 3 receives, with a visibility timeout above the worker timeout', () => {
    const { template, stack } = synthesized;
    const queue = stack.queues.find((candidate) => candidate.queueId === 'async')!;
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(queue.deadLetterQueue.node.defaultChild), 'Arn'] }, maxReceiveCount: 3 },
    });
  });

  it('triggers the async worker one message at a time with partial batch responses and at most 5 concurrent invocations', () => {
    const { template, stack } = synthesized;
    const worker = stack.functions.find((fn) => fn.spec.id === 'async')!;
    const queue = stack.queues.find((candidate) => candidate.queueId === 'async')!;
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(worker.function.node.defaultChild) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(queue.queue.node.defaultChild), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it('expires everything under predictions/async/ a day after the requests’ TTL', () => {
    synthesized.template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-async-inference', Prefix: 'predictions/async/', ExpirationInDays: 2, Status: 'Enabled' })]) },
    });
  });

  it('lets the worker read only model artifacts and async inputs, write only async results, and update only ASYNC# items', () => {
    // Prepare
    const { template, stack } = synthesized;
    const worker = stack.functions.find((fn) => fn.spec.id === 'async')!;
    const bucketId = logicalId(stack.lake.bucket.node.defaultChild);
    const tableId = logicalId(stack.registry.table.node.defaultChild);

    // Act
    const statements = roleStatements(template, logicalId(worker.role.node.defaultChild));
    const tableWrites = statements.filter(
      (statement) => JSON.stringify(statement.Resource).includes(tableId) && actionsOf([statement]).some((action) => ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'].includes(action)),
    );

    // Assess
    expect(keysOf(statements, bucketId, 's3:GetObject')).toEqual(['models/*', 'predictions/async/inputs/*', 'predictions/async/uploads/*']);
    expect(keysOf(statements, bucketId, 's3:PutObject')).toEqual(['predictions/async/results/*', 'shadow-requests/*']);
    expect(tableWrites).toEqual(
      expect.arrayContaining([expect.objectContaining({ Action: 'dynamodb:UpdateItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ASYNC#*'] } } })]),
    );
    expect(actionsOf(tableWrites)).not.toContain('dynamodb:PutItem');
    expect(actionsOf(tableWrites)).not.toContain('dynamodb:DeleteItem');
    expect(actionsOf(statements).filter((action) => action.startsWith('sqs:')).sort()).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
  });
});
