/**
 * Registry bounded context: the DynamoDB table of models, versions and aliases.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
// Same key names the domain code and the local cloud use: one definition, no drift.
import { ATTR, LIST_INDEX } from '../src/storage/table.js';
import { ASYNC_PK_PREFIX, SHADOW_ATTRIBUTES, SHADOW_PK_PREFIX, STATS_ATTRIBUTES, STATS_PK_PREFIX } from '../topology/storage-layout.js';

/** Properties of a {@link Registry}. */
export interface RegistryProps {
  /**
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN - the registry outlives the stack
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Whether DynamoDB refuses to delete the table (stack updates and console clicks included)
   * until someone turns this off: the registry is the platform's memory (versions, aliases and
   * their ledger).
   *
   * @default - on, unless `removalPolicy` is `DESTROY`
   */
  readonly deletionProtection?: boolean;
}

/**
 * The model registry table: on-demand, point-in-time recovery, deletion protection, AWS-managed encryption.
 * Keys `pk`/`sk` (strings) and the `gsi1` index (`gsi1pk`/`gsi1sk`, all attributes projected).
 */
export class Registry extends Construct {
  /** The registry table. */
  public readonly table: dynamodb.Table;

  /** The bus registry events go to (new versions, status and alias changes; `src/registry/events.ts`). */
  public readonly eventBus: events.EventBus;

  constructor(scope: Construct, id: string, props: RegistryProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: ATTR.pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ATTR.sk, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? removalPolicy !== RemovalPolicy.DESTROY,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy,
      // Serving counters and shadow comparisons expire (src/inference/telemetry/serving-stats-store.ts).
      timeToLiveAttribute: 'expiresAt',
    });
    this.table.addGlobalSecondaryIndex({
      indexName: LIST_INDEX,
      partitionKey: { name: ATTR.gsi1pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ATTR.gsi1sk, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.eventBus = new events.EventBus(this, 'Events', { description: 'Registry events: new model versions, version status changes, alias changes' });
  }

  /**
   * Grants the reads the registry code makes (no scans, no streams).
   *
   * Actions: `dynamodb:GetItem`, `dynamodb:Query` on the table and `<table>/index/*`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.grant(grantee, READ_ACTIONS);
  }

  /**
   * Grants the reads and the single-item writes the registry code makes (no batch writes).
   *
   * Actions: those of {@link Registry.grantRead} plus `dynamodb:PutItem`, `dynamodb:UpdateItem`,
   * `dynamodb:DeleteItem` on the table and `<table>/index/*`, and `events:PutEvents` on the
   * registry's event bus (writers announce their changes).
   *
   * @param grantee - The principal to grant to.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    this.eventBus.grantPutEventsTo(grantee);
    return this.grant(grantee, [...READ_ACTIONS, 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']);
  }

  /**
   * Grants adding to serving counters, and nothing else: updates of items whose partition key
   * starts with `STATS#`, of the counters' own attributes, returning nothing (the predict function
   * counts requests per version).
   *
   * Actions: `dynamodb:UpdateItem` on the table, with `dynamodb:LeadingKeys` limited to `STATS#*`,
   * `dynamodb:Attributes` to the counter attributes and `dynamodb:ReturnValues` to `NONE`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantWriteServingStats(grantee: iam.IGrantable): iam.Grant {
    return this.grantUpdatesOnly(grantee, STATS_PK_PREFIX, STATS_ATTRIBUTES);
  }

  /**
   * Grants adding to shadow comparison counts, and nothing else: updates of items whose partition
   * key starts with `SHADOW#`, of the comparison attributes, returning nothing (the shadow function).
   *
   * Actions: `dynamodb:UpdateItem` on the table, with `dynamodb:LeadingKeys` limited to `SHADOW#*`,
   * `dynamodb:Attributes` to the comparison attributes and `dynamodb:ReturnValues` to `NONE`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantWriteShadowComparisons(grantee: iam.IGrantable): iam.Grant {
    return this.grantUpdatesOnly(grantee, SHADOW_PK_PREFIX, SHADOW_ATTRIBUTES);
  }

  /**
   * Grants the writes of async inference requests, and nothing else: items whose partition key
   * starts with `ASYNC#`. `submit` (the predict function) creates requests and idempotency keys;
   * `run` (the async worker) updates requests.
   *
   * Actions: `dynamodb:PutItem` (`submit`) or `dynamodb:UpdateItem` (`run`) on the table, with
   * `dynamodb:LeadingKeys` limited to `ASYNC#*`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantWriteAsyncRequests(grantee: iam.IGrantable, use: 'submit' | 'run'): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [use === 'submit' ? 'dynamodb:PutItem' : 'dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${ASYNC_PK_PREFIX}*`] } },
    });
  }

  /** `dynamodb:UpdateItem` of items whose partition key starts with `pkPrefix`, of `attributes` only, returning nothing. */
  private grantUpdatesOnly(grantee: iam.IGrantable, pkPrefix: string, attributes: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${pkPrefix}*`] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...attributes] },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
      },
    });
  }

  private grant(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...actions],
      resourceArns: [this.table.tableArn, `${this.table.tableArn}/index/*`],
    });
  }
}

/** What `src/registry/registry.ts` reads with. */
const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query'] as const;
