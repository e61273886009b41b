/**
 * Lake bounded context: the S3 bucket that holds datasets and model artifacts.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { assertIntegerInRange } from './validation.js';

/** Days after which incomplete multipart uploads are aborted. */
const ABORT_INCOMPLETE_MULTIPART_UPLOAD_DAYS = 7;

/** Properties of a {@link Lake}. */
export interface LakeProps {
  /**
   * Days after which noncurrent (overwritten or deleted) object versions are deleted.
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
        { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(noncurrentVersionExpirationDays) },
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
   * Grants read access to the lake's objects.
   *
   * Actions: `s3:GetObject` and `s3:GetObjectVersion` (model versions pin their artifact's
   * S3 version) on `<bucket>/*`; `s3:ListBucket` on the bucket (so a missing key is a 404,
   * not a 403).
   *
   * @param grantee - The principal to grant to.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, READ_OBJECT_ACTIONS, ['s3:ListBucket']);
  }

  /**
   * Grants read and write access to the lake's objects. No delete: the platform
   * never deletes what is in the lake (raw data is kept as dropped; versioning keeps
   * overwritten objects).
   *
   * Actions: those of {@link Lake.grantRead} plus `s3:PutObject`, `s3:AbortMultipartUpload`
   * on `<bucket>/*`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, [...READ_OBJECT_ACTIONS, 's3:PutObject', 's3:AbortMultipartUpload'], ['s3:ListBucket']);
  }

  private grant(grantee: iam.IGrantable, objectActions: readonly string[], bucketActions: readonly string[]): iam.Grant {
    const onObjects = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...objectActions],
      resourceArns: [this.bucket.arnForObjects('*')],
      resource: this.bucket,
    });
    const onBucket = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...bucketActions],
      resourceArns: [this.bucket.bucketArn],
      resource: this.bucket,
    });
    return onObjects.combine(onBucket);
  }
}

/** Object reads: the latest object, or a pinned version of it. */
const READ_OBJECT_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'] as const;
