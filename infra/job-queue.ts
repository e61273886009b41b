/**
 * Training bounded context (and any other asynchronous work): an SQS queue with its
 * dead-letter queue, described by a topology {@link QueueSpec}.
 */
import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueSpec } from '../topology/spec.js';
import { assertIntegerInRange } from './validation.js';

/** SQS limits: 12 h visibility timeout, 14 days retention, 1000 receives in a redrive policy. */
const MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 3600;
const MAX_RETENTION_DAYS = 14;
const MAX_RECEIVE_COUNT = 1000;

/** Properties of a {@link JobQueue}. */
export interface JobQueueProps {
  /** The queue's description in the topology: visibility timeout, max receives, retention. */
  readonly spec: QueueSpec;

  /**
   * Days the dead-letter queue keeps messages; more than `spec.retentionDays`, since SQS counts
   * a message's retention from its first enqueue, not from its move to the dead-letter queue.
   * Kept at the maximum so a failed job can be inspected and redriven long after it failed.
   *
   * @default 14
   */
  readonly deadLetterRetentionDays?: number;
}

/**
 * An SQS queue and its dead-letter queue, both encrypted with SQS-managed keys and TLS-only.
 * Messages that fail `spec.maxReceiveCount` times move to the dead-letter queue.
 */
export class JobQueue extends Construct {
  /** The topology id of this queue. */
  public readonly queueId: QueueSpec['id'];

  /** The queue's description in the topology. */
  public readonly spec: QueueSpec;

  /** The work queue. */
  public readonly queue: sqs.Queue;

  /** Where messages go after `spec.maxReceiveCount` failed receives. */
  public readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: JobQueueProps) {
    super(scope, id);
    const { spec } = props;
    const deadLetterRetentionDays = props.deadLetterRetentionDays ?? MAX_RETENTION_DAYS;
    const where = `${this.node.path} (queue '${spec.id}')`;
    assertIntegerInRange(`${where} visibilityTimeoutSeconds`, spec.visibilityTimeoutSeconds, 0, MAX_VISIBILITY_TIMEOUT_SECONDS);
    assertIntegerInRange(`${where} maxReceiveCount`, spec.maxReceiveCount, 1, MAX_RECEIVE_COUNT);
    assertIntegerInRange(`${where} retentionDays`, spec.retentionDays, 1, MAX_RETENTION_DAYS);
    if (spec.retentionDays >= MAX_RETENTION_DAYS) {
      throw new Error(`${where} retentionDays must be under SQS's ${MAX_RETENTION_DAYS}, so its dead-letter queue can keep messages longer, got ${spec.retentionDays}`);
    }
    // A message keeps its first enqueue time when it moves to the DLQ: the DLQ must keep messages longer.
    assertIntegerInRange(`${where} deadLetterRetentionDays`, deadLetterRetentionDays, spec.retentionDays + 1, MAX_RETENTION_DAYS);
    this.queueId = spec.id;
    this.spec = spec;

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(deadLetterRetentionDays),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(spec.retentionDays),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: spec.maxReceiveCount },
    });
  }

  /**
   * Grants sending messages to the queue.
   *
   * Actions: `sqs:SendMessage`, `sqs:GetQueueAttributes`, `sqs:GetQueueUrl` on the queue.
   *
   * @param grantee - The principal to grant to.
   */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  /**
   * Grants receiving and deleting messages from the queue.
   *
   * Actions: `sqs:ReceiveMessage`, `sqs:ChangeMessageVisibility`, `sqs:GetQueueUrl`,
   * `sqs:DeleteMessage`, `sqs:GetQueueAttributes` on the queue.
   *
   * @param grantee - The principal to grant to.
   */
  public grantConsume(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantConsumeMessages(grantee);
  }
}
