/** CDK assertions for stream scoring: the encrypted Kinesis stream and the stream function's Kinesis event source. */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { topology } from '../topology/topology.js';
import { actionsOf, logicalId, roleStatements, synthesize, type Synthesized } from './stack-test-support.js';

const scoring = topology.streams!.find((stream) => stream.id === 'scoring')!;
const trigger = topology.functions.find((fn) => fn.id === 'stream')!.streamTriggers![0]!;

describe('PlatformStack stream scoring', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synthesize();
  });

  it('creates the scoring stream with its shards and retention, encrypted with the AWS managed key', () => {
    synthesized.template.hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: scoring.shardCount,
      RetentionPeriodHours: scoring.retentionHours,
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
    });
  });

  it("maps the stream to the stream function with Lambda's Kinesis semantics and the on-failure queue", () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.anyValue(),
      FunctionName: { Ref: Match.stringLikeRegexp('^StreamFunction') },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: trigger.batchSize,
      BisectBatchOnFunctionError: trigger.bisectBatchOnError,
      MaximumRetryAttempts: trigger.retryAttempts,
      MaximumRecordAgeInSeconds: trigger.maxRecordAgeSeconds,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StreamFailuresQueue'), 'Arn'] } } },
    });
  });

  it('tells the stream function what it scores', () => {
    synthesized.template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Stream scoring'),
      Environment: { Variables: Match.objectLike({ STREAM_SCORING: JSON.stringify(scoring.scoring) }) },
    });
  });

  it('lets the stream function read its stream, send to the on-failure queue and write only stream predictions to the lake', () => {
    const fn = synthesized.stack.functions.find((candidate) => candidate.spec.id === 'stream')!;
    const statements = roleStatements(synthesized.template, logicalId(fn.role.node.defaultChild));
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator', 'sqs:SendMessage', 's3:PutObject']));
    expect(actions).not.toContain('kinesis:PutRecord');
    expect(actions).not.toContain('s3:DeleteObject');
    const writes = statements.filter((statement) => actionsOf([statement]).includes('s3:PutObject'));
    expect(JSON.stringify(writes)).toContain('predictions/stream/*');
  });
});
