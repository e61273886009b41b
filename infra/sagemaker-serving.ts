/**
 * Inference bounded context, SageMaker side: the resource prefix that every SageMaker name the
 * platform creates starts with, the execution role SageMaker assumes to run the platform's
 * endpoints, the Triton image they run, and the grants of the functions that invoke or deploy
 * them, each scoped to that prefix.
 */
import { createHash } from 'node:crypto';
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { SageMakerNames } from '../topology/environment.js';
import { LAKE_KEYS } from '../topology/topology.js';
import type { Lake } from './lake.js';
import { acknowledgeNag, cfnOf, iam5ArnWildcardFinding } from './nag.js';
import { tritonImages, type TritonImages } from './triton-image.js';

/** Longest resource prefix: SageMaker names are at most 63 characters, the rest is the deployer's. */
export const MAX_RESOURCE_PREFIX_LENGTH = 20;

/** Characters of the stack name kept in a derived prefix, and hex digits of its hash. */
const PREFIX_SLUG_LENGTH = 10;
const PREFIX_HASH_LENGTH = 6;

/**
 * A valid prefix: lowercase letters and digits, dashes inside (SageMaker names allow
 * `[a-zA-Z0-9](-*[a-zA-Z0-9])*`; SageMaker lowercases names in ARNs, so IAM patterns must be lowercase).
 */
const RESOURCE_PREFIX = /^[a-z0-9](?:-*[a-z0-9])*$/;

/** The principal of SageMaker (execution roles, `iam:PassedToService`). */
const SAGEMAKER_SERVICE = 'sagemaker.amazonaws.com';

/** The principal of Application Auto Scaling for SageMaker, and the service-linked role it uses. */
const SAGEMAKER_AUTOSCALING_SERVICE = 'sagemaker.application-autoscaling.amazonaws.com';
const SAGEMAKER_AUTOSCALING_ROLE = 'AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint';

/** What the deployer scales: inference component copies (scale to zero) and endpoint variant instances. */
const SCALABLE_DIMENSIONS = ['sagemaker:inference-component:DesiredCopyCount', 'sagemaker:variant:DesiredInstanceCount'] as const;

/** SageMaker resource types an invocation is authorized against. */
const INVOKED_RESOURCE_TYPES = ['endpoint', 'inference-component'] as const;

/** SageMaker resource types the deployer creates, each named `<prefix>…`. */
const DEPLOYED_RESOURCE_TYPES = ['model', 'endpoint-config', 'endpoint', 'inference-component'] as const;

/** SageMaker actions of the deployer: create, follow, update (scaling), tag on creation, delete. */
const DEPLOY_ACTIONS = [
  'sagemaker:CreateModel',
  'sagemaker:DescribeModel',
  'sagemaker:DeleteModel',
  'sagemaker:CreateEndpointConfig',
  'sagemaker:DescribeEndpointConfig',
  'sagemaker:DeleteEndpointConfig',
  'sagemaker:CreateEndpoint',
  'sagemaker:DescribeEndpoint',
  'sagemaker:UpdateEndpoint',
  'sagemaker:UpdateEndpointWeightsAndCapacities',
  'sagemaker:DeleteEndpoint',
  'sagemaker:CreateInferenceComponent',
  'sagemaker:DescribeInferenceComponent',
  'sagemaker:UpdateInferenceComponent',
  'sagemaker:UpdateInferenceComponentRuntimeConfig',
  'sagemaker:DeleteInferenceComponent',
  'sagemaker:AddTags',
] as const;

/** Why a deployer's role has Application Auto Scaling describe actions on `*` (for its `AwsSolutions-IAM5[Resource::*]` acknowledgement). */
export const DEPLOY_DESCRIBE_ACTIONS_REASON =
  'application-autoscaling:DescribeScalableTargets and DescribeScalingPolicies do not support resource-level permissions, so AWS requires Resource "*" (read-only).';

/** Log groups SageMaker writes an endpoint's and an inference component's container logs to. */
const LOG_GROUP_PREFIXES = ['/aws/sagemaker/Endpoints/', '/aws/sagemaker/InferenceComponents/'] as const;

/**
 * The resource prefix of a stack: up to 10 lowercase letters and digits of its name, a dash, and
 * 6 hex digits of the name's SHA-256 (e.g. `ServerlessAiPlatform` → `serverless-c4ebec`). Two
 * stacks in one account never share a prefix, nor does one stack's prefix start with another's
 * (the slug has no dash and the hash has a fixed length), so no grant of one reaches the other.
 *
 * @param stackName - The CloudFormation stack name (starts with a letter).
 */
export function sagemakerResourcePrefix(stackName: string): string {
  const slug = stackName.toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, PREFIX_SLUG_LENGTH);
  const hash = createHash('sha256').update(stackName).digest('hex').slice(0, PREFIX_HASH_LENGTH);
  return `${slug}-${hash}`;
}

/** Properties of a {@link SageMakerServing}. */
export interface SageMakerServingProps {
  /** The lake whose serving packages (`LAKE_KEYS.servingPackages`) the execution role reads. */
  readonly lake: Lake;

  /**
   * Prefix of every SageMaker resource name (and CloudWatch alarm name) the platform creates:
   * lowercase letters, digits and inner dashes, at most 20 characters.
   *
   * @default - derived from the stack name (`sagemakerResourcePrefix`)
   */
  readonly resourcePrefix?: string;

  /**
   * The Triton Inference Server image endpoints on instances run (an ECR image URI).
   *
   * @default - AWS's `sagemaker-tritonserver` image (GPU build) of the stack's region (`infra/triton-image.ts`)
   */
  readonly tritonImageUri?: string;

  /**
   * The Triton Inference Server image serverless endpoints run (an ECR image URI; serverless
   * endpoints have no GPU and take images up to 10 GB).
   *
   * @default - AWS's `sagemaker-tritonserver` image (CPU build) of the stack's region (`infra/triton-image.ts`)
   */
  readonly tritonCpuImageUri?: string;
}

/**
 * Where the platform's SageMaker-backed versions run: a resource prefix, an execution role for
 * SageMaker (trusted by `sagemaker.amazonaws.com`; reads serving packages from the lake, pulls the
 * Triton images, writes its endpoints' logs) and the Triton images (GPU and CPU builds), with grants for the functions
 * that invoke or deploy endpoints.
 */
export class SageMakerServing extends Construct {
  /** Prefix of every SageMaker resource name the platform creates. */
  public readonly resourcePrefix: string;

  /** The role SageMaker assumes to run the platform's models. */
  public readonly executionRole: iam.Role;

  /** The Triton images (GPU build for instances, CPU build for serverless) and their repositories. */
  public readonly tritonImages: TritonImages;

  /** The settings functions with `sagemaker` access get (`functionEnvironment`). */
  public readonly names: SageMakerNames;

  constructor(scope: Construct, id: string, props: SageMakerServingProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.resourcePrefix = props.resourcePrefix ?? sagemakerResourcePrefix(stack.stackName);
    if (this.resourcePrefix.length > MAX_RESOURCE_PREFIX_LENGTH || !RESOURCE_PREFIX.test(this.resourcePrefix)) {
      throw new Error(
        `${this.node.path} resourcePrefix must be 1-${MAX_RESOURCE_PREFIX_LENGTH} lowercase letters and digits with inner dashes, got '${this.resourcePrefix}'`,
      );
    }
    this.tritonImages = tritonImages(this, {
      ...(props.tritonImageUri === undefined ? {} : { gpu: props.tritonImageUri }),
      ...(props.tritonCpuImageUri === undefined ? {} : { cpu: props.tritonCpuImageUri }),
    });

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal(SAGEMAKER_SERVICE),
      description: `SageMaker execution role of the platform's endpoints (${this.resourcePrefix}*): serving packages, the Triton image, logs`,
    });
    props.lake.grantRead(this.executionRole, [LAKE_KEYS.servingPackages]);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        // One repository when both builds come from AWS's table (or the same override repository).
        resources: [...new Set([this.tritonImages.gpu.repositoryArn, this.tritonImages.cpu.repositoryArn])],
      }),
    );
    this.executionRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: this.logGroupArns(),
      }),
    );
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } },
      }),
    );
    this.names = {
      resourcePrefix: this.resourcePrefix,
      executionRoleArn: this.executionRole.roleArn,
      tritonImageUri: this.tritonImages.gpu.imageUri,
      tritonCpuImageUri: this.tritonImages.cpu.imageUri,
    };
    this.acknowledgeExecutionRoleFindings(props.lake);
  }

  /**
   * Grants calling the platform's endpoints, and nothing else (the predict and shadow functions).
   *
   * Actions: `sagemaker:InvokeEndpoint` on `endpoint/<prefix>*` and `inference-component/<prefix>*`
   * (a call naming an inference component is authorized against it as well).
   *
   * @param grantee - The principal to grant to.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:InvokeEndpoint'], resourceArns: INVOKED_RESOURCE_TYPES.map((type) => this.sagemakerArn(type)) });
  }

  /**
   * Grants deploying, following, scaling and deleting the platform's endpoints (the deployer).
   *
   * Actions:
   * - SageMaker create, describe, update, tag and delete actions of models, endpoint
   *   configurations, endpoints and inference components (`sagemaker:CreateModel` …
   *   `sagemaker:DeleteInferenceComponent`, `sagemaker:AddTags`) on `<type>/<prefix>*` only;
   * - `iam:PassRole` of the execution role only, and only to SageMaker (`iam:PassedToService`);
   * - Application Auto Scaling `RegisterScalableTarget`, `DeregisterScalableTarget`,
   *   `PutScalingPolicy`, `DeleteScalingPolicy` on scalable targets of SageMaker's namespace and
   *   dimensions only (scalable target ARNs carry a random id, not the SageMaker name; registering
   *   a target also needs the SageMaker describe/update actions above on the target, which are
   *   prefix-scoped); `DescribeScalableTargets`, `DescribeScalingPolicies` (no resource-level
   *   permissions: `*`);
   * - `iam:CreateServiceLinkedRole` of the Application Auto Scaling role for SageMaker endpoints
   *   only (created on the first registration in an account);
   * - CloudWatch `PutMetricAlarm`, `DeleteAlarms`, `DescribeAlarms` on alarms named `<prefix>*`
   *   (the alarm that wakes a scaled-to-zero endpoint; describe them by name).
   *
   * @param grantee - The principal to grant to.
   */
  public grantDeploy(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [...DEPLOY_ACTIONS],
      resourceArns: DEPLOYED_RESOURCE_TYPES.map((type) => this.sagemakerArn(type)),
    })
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['iam:PassRole'],
          resourceArns: [this.executionRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': SAGEMAKER_SERVICE } },
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: [
            'application-autoscaling:RegisterScalableTarget',
            'application-autoscaling:DeregisterScalableTarget',
            'application-autoscaling:PutScalingPolicy',
            'application-autoscaling:DeleteScalingPolicy',
          ],
          resourceArns: [stack.formatArn({ service: 'application-autoscaling', resource: 'scalable-target', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
          conditions: {
            StringEquals: {
              'application-autoscaling:service-namespace': 'sagemaker',
              'application-autoscaling:scalable-dimension': [...SCALABLE_DIMENSIONS],
            },
          },
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingPolicies'],
          resourceArns: ['*'],
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['iam:CreateServiceLinkedRole'],
          resourceArns: [
            stack.formatArn({
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: `aws-service-role/${SAGEMAKER_AUTOSCALING_SERVICE}/${SAGEMAKER_AUTOSCALING_ROLE}`,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
          conditions: { StringLike: { 'iam:AWSServiceName': SAGEMAKER_AUTOSCALING_SERVICE } },
        }),
      )
      .combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms'],
          resourceArns: [this.alarmArn()],
        }),
      );
  }

  /**
   * The EventBridge pattern of state changes (`Creating`, `InService`, `Failed`, `Deleting`, …) of
   * the platform's endpoints: source `aws.sagemaker`, detail type `SageMaker Endpoint State
   * Change`, `detail.EndpointName` starting with the prefix.
   */
  public endpointStateChangePattern(): events.EventPattern {
    return {
      source: ['aws.sagemaker'],
      detailType: ['SageMaker Endpoint State Change'],
      detail: { EndpointName: [{ prefix: this.resourcePrefix }] },
    };
  }

  /**
   * Acknowledges, on a role given {@link SageMakerServing.grantInvoke}, the prefix wildcards of its
   * endpoint and inference component ARNs.
   *
   * @param role - The grantee's role.
   */
  public acknowledgeInvokeFindings(role: iam.IRole): void {
    for (const type of INVOKED_RESOURCE_TYPES) {
      acknowledgeNag(
        role,
        this.wildcardFinding(this.sagemakerArn(type)),
        `SageMaker ${type}s are created at run time, one per SageMaker-backed version; the statement allows only sagemaker:InvokeEndpoint, only on those named ${this.resourcePrefix}*.`,
      );
    }
  }

  /**
   * Acknowledges, on a role given {@link SageMakerServing.grantDeploy}, the wildcards of its
   * prefix-scoped ARNs and of Application Auto Scaling's scalable targets. (The describe actions'
   * `Resource::*` is acknowledged with the role's other `*` resources: see
   * {@link DEPLOY_DESCRIBE_ACTIONS_REASON}.)
   *
   * @param role - The grantee's role.
   */
  public acknowledgeDeployFindings(role: iam.IRole): void {
    for (const type of DEPLOYED_RESOURCE_TYPES) {
      acknowledgeNag(
        role,
        this.wildcardFinding(this.sagemakerArn(type)),
        `SageMaker ${type}s are created at run time, one per SageMaker-backed version; the statement covers only those named ${this.resourcePrefix}*, with explicit actions.`,
      );
    }
    acknowledgeNag(
      role,
      this.wildcardFinding(this.alarmArn()),
      `The alarms that wake scaled-to-zero endpoints are created at run time; the statement covers only alarms named ${this.resourcePrefix}*.`,
    );
    acknowledgeNag(
      role,
      this.wildcardFinding(Stack.of(this).formatArn({ service: 'application-autoscaling', resource: 'scalable-target', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })),
      'Scalable target ARNs carry a random id assigned at registration; the statement is limited to the sagemaker service namespace and its scalable dimensions by condition keys.',
    );
  }

  /** `arn:…:sagemaker:<region>:<account>:<type>/<prefix>*`. */
  private sagemakerArn(type: string): string {
    return Stack.of(this).formatArn({ service: 'sagemaker', resource: type, resourceName: `${this.resourcePrefix}*`, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
  }

  /** `arn:…:cloudwatch:<region>:<account>:alarm:<prefix>*`. */
  private alarmArn(): string {
    return Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${this.resourcePrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  }

  /** The log groups (and their streams) of the platform's endpoints and inference components. */
  private logGroupArns(): string[] {
    return LOG_GROUP_PREFIXES.flatMap((prefix) => {
      const logGroup = Stack.of(this).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `${prefix}${this.resourcePrefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      return [logGroup, `${logGroup}:log-stream:*`];
    });
  }

  /** The cdk-nag `AwsSolutions-IAM5` finding id of a wildcard ARN. */
  private wildcardFinding(arn: string): string {
    return `AwsSolutions-IAM5[Resource::${nagArnText(Stack.of(this).resolve(arn))}]`;
  }

  private acknowledgeExecutionRoleFindings(lake: Lake): void {
    acknowledgeNag(
      this.executionRole,
      iam5ArnWildcardFinding(cfnOf(lake.bucket), `/${LAKE_KEYS.servingPackages}`),
      `Serving packages get keys at run time (model and version); SageMaker reads only keys matching ${LAKE_KEYS.servingPackages} of the lake bucket.`,
    );
    acknowledgeNag(
      this.executionRole,
      'AwsSolutions-IAM5[Resource::*]',
      'ecr:GetAuthorizationToken does not support resource-level permissions (image pulls themselves are limited to the Triton repository); cloudwatch:PutMetricData does not either, and is limited to /aws/sagemaker/* namespaces by condition.',
    );
    for (const arn of this.logGroupArns()) {
      acknowledgeNag(
        this.executionRole,
        this.wildcardFinding(arn),
        `SageMaker names an endpoint's log group and streams after the endpoint, created at run time; the statement covers only the platform's (${this.resourcePrefix}*).`,
      );
    }
  }
}

/**
 * How cdk-nag writes a resolved ARN in a finding id: intrinsic references as `<Name>`,
 * `Fn::Join` concatenated (`arn:<AWS::Partition>:sagemaker:<AWS::Region>:…`).
 */
function nagArnText(resolved: unknown): string {
  if (typeof resolved === 'string') return resolved;
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join !== undefined) return join[1].map(nagArnText).join(join[0]);
  const ref = (resolved as { Ref?: string }).Ref;
  if (ref !== undefined) return `<${ref}>`;
  throw new Error(`cannot spell ${JSON.stringify(resolved)} as cdk-nag does`);
}
