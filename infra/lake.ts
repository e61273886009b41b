/**
 * Lake bounded context: the S3 bucket that holds datasets and model artifacts, and the
 * notifications through which it announces new objects.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { acknowledgeNag } from './nag.js';
import { ASYNC_PREFIX, ASYNC_RETENTION_DAYS, SHADOW_PREDICTIONS_PATTERN, SHADOW_REQUESTS_PREFIX } from '../topology/storage-layout.js';
import { assertIntegerInRange } from './validation.js';

/** Days after which incomplete multipart uploads are aborted. */
const ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS = 7;

/** S3's longest notification filter value (prefix or suffix). */
const MAX_FILTER_RULE_LENGTH = 1024;

/** Construct id of the stack-wide singleton with which CDK applies S3 bucket notifications. */
const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Which new objects a notification announces: keys starting with `prefix` (and ending with `suffix`). */
export interface ObjectCreatedFilter {
  readonly prefix: string;
  readonly suffix?: string;
}

/** Properties of a {@link Lake}. */
export interface LakeProps {
  /**
   * Days after which noncurrent (overwritten or deleted) object versions of the data zones are
   * deleted (never those under `models/`, which model versions pin).
   *
   * @default 30
   */
  readonly noncurrentVersionExpirationDays?: number;

  /**
   * Days after which server access log objects are deleted from the logs bucket.
   *
   * @default 365
   */
  readonly accessLogsExpirationDays?: number;

  /**
   * What happens to both buckets when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN - datasets and model artifacts outlive the stack
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Origins allowed to `PUT` objects through presigned URLs from a browser.
   *
   * @default - no CORS rule: presigned uploads work from any non-browser client
   */
  readonly corsAllowedOrigins?: readonly string[];
}

/**
 * The data lake: a versioned, encrypted, TLS-only S3 bucket with server access logging to a
 * separate logs bucket (itself encrypted, TLS-only and private).
 */
export class Lake extends Construct {
  /** The lake bucket: datasets, model artifacts. */
  public readonly bucket: s3.Bucket;

  /** The bucket that receives the lake bucket's server access logs. */
  public readonly accessLogsBucket: s3.Bucket;

  /** Addresses of the queues that already deny S3 notifications from other accounts. */
  private readonly notifiedQueues = new Set<string>();

  constructor(scope: Construct, id: string, props: LakeProps = {}) {
    super(scope, id);

    const noncurrentVersionExpirationDays = props.noncurrentVersionExpirationDays ?? 30;
    const accessLogsExpirationDays = props.accessLogsExpirationDays ?? 365;
    assertIntegerInRange(`${this.node.path} noncurrentVersionExpirationDays`, noncurrentVersionExpirationDays, 1, 36_500);
    assertIntegerInRange(`${this.node.path} accessLogsExpirationDays`, accessLogsExpirationDays, 1, 36_500);
    for (const origin of props.corsAllowedOrigins ?? []) {
      if (!/^(\*|https?:\/\/\S+)$/.test(origin)) {
        throw new Error(`${this.node.path} corsAllowedOrigins must be '*' or http(s) origins, got '${origin}'`);
      }
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3 server access logging only delivers to SSE-S3 encrypted buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(accessLogsExpirationDays) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS) },
      ],
      removalPolicy,
    });

    const cors = props.corsAllowedOrigins;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'lake/',
      lifecycleRules: [
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS) },
        // Overwritten or deleted data expires, zone by zone; nothing under models/ ever does: a model
        // version pins its artifact's S3 version there, which must outlive any later write to the key.
        ...NONCURRENT_EXPIRING_PREFIXES.map((prefix) => ({
          id: `expire-noncurrent-versions-${prefix.slice(0, -1)}`,
          prefix,
          noncurrentVersionExpiration: Duration.days(noncurrentVersionExpirationDays),
        })),
        // Shadow copies are a hand-over to the shadow function, which keeps what it makes of them under predictions/.
        { id: 'expire-shadow-requests', prefix: SHADOW_REQUESTS_PREFIX, expiration: Duration.days(SHADOW_REQUESTS_EXPIRATION_DAYS) },
        // Async inference inputs, uploads and results outlive their request items (DynamoDB TTL) by a day.
        { id: 'expire-async-inference', prefix: ASYNC_PREFIX, expiration: Duration.days(ASYNC_RETENTION_DAYS + 1), noncurrentVersionExpiration: Duration.days(1) },
      ],
      ...(cors === undefined || cors.length === 0
        ? {}
        : {
            cors: [
              {
                allowedMethods: [s3.HttpMethods.PUT],
                allowedOrigins: [...cors],
                allowedHeaders: ['*'],
                exposedHeaders: ['ETag'],
                maxAge: 3600,
              },
            ],
          }),
      removalPolicy,
    });
  }

  /**
   * Grants reading the lake's objects under the given key patterns, and nothing else.
   *
   * Actions: `s3:GetObject` and `s3:GetObjectVersion` (model versions pin their artifact's
   * S3 version) on `<bucket>/<pattern>` for each pattern; `s3:ListBucket` on the bucket, so a
   * missing key is a 404 rather than a 403 (it reveals key names, never contents).
   *
   * @param grantee - The principal to grant to.
   * @param keyPatterns - Key patterns (`curated/*`), each starting with its zone (`zone/`).
   * @throws If a pattern does not start with a zone: no grant covers the whole bucket.
   */
  public grantRead(grantee: iam.IGrantable, keyPatterns: readonly string[]): iam.Grant {
    return this.grantOnKeys(grantee, READ_OBJECT_ACTIONS, keyPatterns).combine(
      iam.Grant.addToPrincipalOrResource({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn], resource: this.bucket }),
    );
  }

  /**
   * Grants writing the lake's objects under the given key patterns, and nothing else. No
   * delete: the platform never deletes what is in the lake (raw data is kept as dropped;
   * versioning keeps overwritten objects). Presigned upload URLs a grantee signs for these keys
   * work; for others they are refused by S3.
   *
   * Actions: `s3:PutObject`, `s3:AbortMultipartUpload` on `<bucket>/<pattern>` for each pattern.
   *
   * @param grantee - The principal to grant to.
   * @param keyPatterns - Key patterns (`raw/*`), each starting with its zone (`zone/`).
   * @throws If a pattern does not start with a zone: no grant covers the whole bucket.
   */
  public grantWrite(grantee: iam.IGrantable, keyPatterns: readonly string[]): iam.Grant {
    return this.grantOnKeys(grantee, ['s3:PutObject', 's3:AbortMultipartUpload'], keyPatterns);
  }

  /**
   * Has S3 send an `ObjectCreated` event (the S3 event JSON) to `queue` for every new object
   * whose key matches `filter`.
   *
   * The queue's policy lets `s3.amazonaws.com` send messages (`sqs:SendMessage`,
   * `sqs:GetQueueAttributes`, `sqs:GetQueueUrl`) only on behalf of this bucket (`aws:SourceArn`)
   * and, since a deleted bucket's name can be claimed by another account, only from this stack's
   * account (`aws:SourceAccount`, an explicit deny). The queue must not use a customer-managed
   * KMS key (SQS-managed encryption works with S3 notifications as it is).
   *
   * @param queue - The queue that receives the events.
   * @param filter - The key prefix (required and not empty: functions write to the lake, so an
   *   unfiltered notification would announce their own writes) and optional suffix.
   * @throws If the prefix is empty, a filter value is too long, or the queue has a KMS key.
   */
  public notifyObjectCreated(queue: sqs.IQueue, filter: ObjectCreatedFilter): void {
    const where = `${this.node.path} notification to ${queue.node.path}`;
    if (filter.prefix.length === 0) {
      throw new Error(`${where} needs a key prefix: functions write to the lake, so an unfiltered notification would announce their own writes`);
    }
    for (const [name, value] of [['prefix', filter.prefix], ['suffix', filter.suffix ?? '']] as const) {
      if (value.length > MAX_FILTER_RULE_LENGTH) {
        throw new Error(`${where} ${name} must be at most ${MAX_FILTER_RULE_LENGTH} characters, got ${value.length}`);
      }
    }
    if (queue.encryptionMasterKey !== undefined) {
      throw new Error(`${where}: the queue is encrypted with a KMS key; use SQS-managed encryption (S3 cannot use the key without a key policy change)`);
    }
    this.bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.SqsDestination(queue),
      { prefix: filter.prefix, ...(filter.suffix === undefined ? {} : { suffix: filter.suffix }) },
    );
    this.denyForeignAccountNotifications(queue);
    acknowledgeBucketNotificationsHandler(Stack.of(this));
  }

  private denyForeignAccountNotifications(queue: sqs.IQueue): void {
    if (this.notifiedQueues.has(queue.node.addr)) return;
    this.notifiedQueues.add(queue.node.addr);
    const result = queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'DenyS3NotificationsFromOtherAccounts',
        effect: iam.Effect.DENY,
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [queue.queueArn],
        conditions: { StringNotEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (!result.statementAdded) {
      throw new Error(`${this.node.path} cannot add to the policy of ${queue.node.path} (imported queue?)`);
    }
  }

  /**
   * Grants writing shadow copies of requests, and nothing else (the predict function).
   *
   * Actions: `s3:PutObject` on `shadow-requests/*`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantWriteShadowCopies(grantee: iam.IGrantable): iam.Grant {
    return this.grantPutsOnly(grantee, `${SHADOW_REQUESTS_PREFIX}*`);
  }

  /**
   * Grants writing side-by-side shadow records, and nothing else (the shadow function).
   *
   * Actions: `s3:PutObject` on keys under `predictions/<model>/shadow/` (any model).
   *
   * @param grantee - The principal to grant to.
   */
  public grantWriteShadowPredictions(grantee: iam.IGrantable): iam.Grant {
    return this.grantPutsOnly(grantee, SHADOW_PREDICTIONS_PATTERN);
  }

  /** `s3:PutObject` of keys matching `keyPattern`, and nothing else. */
  private grantPutsOnly(grantee: iam.IGrantable, keyPattern: string): iam.Grant {
    return iam.Grant.addToPrincipalOrResource({ grantee, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects(keyPattern)], resource: this.bucket });
  }

  private grantOnKeys(grantee: iam.IGrantable, actions: readonly string[], keyPatterns: readonly string[]): iam.Grant {
    if (keyPatterns.length === 0) throw new Error(`${this.node.path} grant of ${actions.join(', ')} to ${grantee.grantPrincipal} names no keys`);
    for (const pattern of keyPatterns) {
      if (!ZONED_KEY_PATTERN.test(pattern)) {
        throw new Error(`${this.node.path} key patterns must start with a zone ('curated/*', 'models/*/uploads/*'), got '${pattern}'`);
      }
    }
    return iam.Grant.addToPrincipalOrResource({ grantee, actions: [...actions], resourceArns: keyPatterns.map((pattern) => this.bucket.arnForObjects(pattern)), resource: this.bucket });
  }
}

/** A key pattern that starts with a zone: a first segment without wildcards, then `/`. */
const ZONED_KEY_PATTERN = /^[^*?/]+\/\S*$/;

/**
 * The zones whose noncurrent object versions expire: every data zone, never `models/` (model
 * artifacts, which versions pin). A zone missing here keeps its old versions: the safe side.
 */
export const NONCURRENT_EXPIRING_PREFIXES = ['raw/', 'curated/', 'rejected/', 'predictions/', SHADOW_REQUESTS_PREFIX] as const;

/** How long copies of requests for shadow versions are kept. */
const SHADOW_REQUESTS_EXPIRATION_DAYS = 7;

/** Object reads: the latest object, or a pinned version of it. */
const READ_OBJECT_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'] as const;

/** Handlers whose nag findings were already acknowledged (one per stack). */
const acknowledgedNotificationHandlers = new WeakSet<IConstruct>();

/**
 * Acknowledges the findings on the role of CDK's stack-wide bucket-notifications handler,
 * which `Bucket.addEventNotification` creates to configure notifications on the lake bucket.
 */
function acknowledgeBucketNotificationsHandler(stack: Stack): void {
  const handler = stack.node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
  if (handler === undefined) {
    throw new Error(`${stack.node.path} has no ${BUCKET_NOTIFICATIONS_HANDLER_ID}: aws-cdk-lib renamed it; update infra/lake.ts`);
  }
  if (acknowledgedNotificationHandlers.has(handler)) {
    return;
  }
  acknowledgedNotificationHandlers.add(handler);
  acknowledgeNag(
    handler,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'CDK-owned custom resource that applies S3 bucket notifications at deploy time; its role and logging policy are fixed by aws-cdk-lib.',
  );
}
