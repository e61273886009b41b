/**
 * Registry bounded context: the DynamoDB table of models, versions, aliases and their ledger.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
// Same key names the domain code and the local cloud use: one definition, no drift.
import { ATTR, MODELS_INDEX } from '../src/registry/keys.js';

/** Properties of a {@link Registry}. */
export interface RegistryProps {
  /**
   * What happens to the table when it leaves the stack.
   *
   * @default RemovalPolicy.RETAIN - the registry and its alias ledger outlive the stack
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The model registry table: on-demand, point-in-time recovery, AWS-managed encryption.
 * Keys `pk`/`sk` (strings) and the `gsi1` index (`gsi1pk`/`gsi1sk`, all attributes projected).
 */
export class Registry extends Construct {
  /** The registry table. */
  public readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RegistryProps = {}) {
    super(scope, id);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: ATTR.pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ATTR.sk, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: MODELS_INDEX,
      partitionKey: { name: ATTR.gsi1pk, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ATTR.gsi1sk, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  /**
   * Grants read access to the table and its indexes.
   *
   * Actions: `dynamodb:BatchGetItem`, `dynamodb:GetRecords`, `dynamodb:GetShardIterator`,
   * `dynamodb:Query`, `dynamodb:GetItem`, `dynamodb:Scan`, `dynamodb:ConditionCheckItem`,
   * `dynamodb:DescribeTable` on the table and `<table>/index/*`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadData(grantee);
  }

  /**
   * Grants read and write access to the table's items and read access to its indexes.
   *
   * Actions: the read actions of {@link Registry.grantRead} plus `dynamodb:BatchWriteItem`,
   * `dynamodb:PutItem`, `dynamodb:UpdateItem`, `dynamodb:DeleteItem` on the table and
   * `<table>/index/*`.
   *
   * @param grantee - The principal to grant to.
   */
  public grantReadWrite(grantee: iam.IGrantable): iam.Grant {
    return this.table.grantReadWriteData(grantee);
  }
}
