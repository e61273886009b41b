/**
 * CDK assertion tests of the SageMaker side of the stack: the execution role, the grants of the
 * functions with `sagemaker` access (each scoped to the resource prefix), their environment, the
 * endpoint state-change rule and the Triton image lookup.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_RESOURCE_PREFIX_LENGTH, sagemakerResourcePrefix } from './sagemaker-serving.js';
import {
  actionsOf,
  CDK_JSON_CONTEXT,
  logicalId,
  roleStatements,
  synthesize,
  unusedNagAcknowledgements,
  type CfnResourceJson,
  type PolicyStatementJson,
  type Synthesized,
} from './stack-test-support.js';
import { TRITON_IMAGE_TAGS, TRITON_REGISTRY_ACCOUNTS, tritonImages } from './triton-image.js';
import { PlatformFunction } from './platform-function.js';
import { PlatformStack } from './platform-stack.js';
import { ENV } from '../topology/environment.js';
import type { FunctionSpec, Topology } from '../topology/spec.js';
import { LAKE_KEYS, topology } from '../topology/topology.js';

/** The platform topology plus a scheduled deployer with `sagemaker: 'deploy'` (the stack handles any such function alike). */
/** The platform's deployer: the scheduled function that creates, follows and deletes SageMaker endpoints. */
const DEPLOYER: FunctionSpec = topology.functions.find((fn) => fn.access.sagemaker === 'deploy')!;

/** `Fn::Join` of an ARN built by `Stack.formatArn` in a region-agnostic stack, as the template has it. */
const arnJoin = (service: string, resource: string, regional = true): unknown => ({
  'Fn::Join': [
    '',
    ['arn:', { Ref: 'AWS::Partition' }, ...(regional ? [`:${service}:`, { Ref: 'AWS::Region' }, ':'] : [`:${service}::`]), { Ref: 'AWS::AccountId' }, `:${resource}`],
  ],
});

/** The resources of statements, one list entry per resource. */
const resourcesOf = (statements: readonly PolicyStatementJson[]): unknown[] =>
  statements.flatMap((statement) => (Array.isArray(statement.Resource) ? (statement.Resource as unknown[]) : [statement.Resource]));

/** The statements that allow one action. */
const allowing = (statements: readonly PolicyStatementJson[], action: string): PolicyStatementJson[] =>
  statements.filter((statement) => actionsOf([statement]).includes(action));

describe('SageMaker serving (platform topology and a deployer)', () => {
  let synthesized: Synthesized;
  let prefix: string;
  const roleOf = (id: string): string => logicalId(synthesized.stack.functions.find((fn) => fn.spec.id === id)?.role.node.defaultChild);
  const executionRoleId = (): string => logicalId(synthesized.stack.sagemaker?.executionRole.node.defaultChild);
  const tritonMappingId = (): string => {
    const mappings = Object.keys((synthesized.template.toJSON() as { Mappings: Record<string, unknown> }).Mappings);
    expect(mappings).toHaveLength(1);
    return mappings[0]!;
  };

  beforeAll(() => {
    synthesized = synthesize(topology);
    prefix = sagemakerResourcePrefix('TestPlatform');
  });

  it('derives the resource prefix from the stack name, exports it and gives it to every function with SageMaker access', () => {
    // Prepare
    const { template, stack } = synthesized;
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, CfnResourceJson>;
    const environmentOf = (id: string) =>
      (functions[logicalId(stack.functions.find((fn) => fn.spec.id === id)?.function.node.defaultChild)]?.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;

    // Act
    const predict = environmentOf('predict');
    const shadow = environmentOf('shadow');
    const deployer = environmentOf(DEPLOYER.id);
    const control = environmentOf('control-plane');

    // Assess
    expect(stack.sagemaker?.resourcePrefix).toBe(prefix);
    template.hasOutput('SageMakerResourcePrefix', { Value: prefix });
    for (const invoker of [predict, shadow]) {
      expect(invoker[ENV.sagemakerResourcePrefix]).toBe(prefix);
      expect(invoker[ENV.sagemakerExecutionRoleArn]).toBeUndefined();
      expect(invoker[ENV.tritonImageUri]).toBeUndefined();
      expect(invoker[ENV.tritonCpuImageUri]).toBeUndefined();
    }
    const imageOf = (tag: string) => ({
      'Fn::Join': ['', [{ 'Fn::FindInMap': [tritonMappingId(), { Ref: 'AWS::Region' }, 'account'] }, '.dkr.ecr.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }, `/sagemaker-tritonserver:${tag}`]],
    });
    expect(deployer).toMatchObject({
      [ENV.sagemakerResourcePrefix]: prefix,
      [ENV.sagemakerExecutionRoleArn]: { 'Fn::GetAtt': [executionRoleId(), 'Arn'] },
      // The GPU build for endpoints on instances, the CPU build for serverless ones: one registry per region hosts both.
      [ENV.tritonImageUri]: imageOf('26.05-py3'),
      [ENV.tritonCpuImageUri]: imageOf('26.05-py3-cpu'),
    });
    // The control plane names a version's resources at registration: the prefix, nothing more.
    expect(Object.keys(control).filter((name) => name.startsWith('SAGEMAKER_') || name.startsWith('TRITON_'))).toEqual([ENV.sagemakerResourcePrefix]);
  });

  it('has an execution role that only SageMaker assumes, with no managed policy', () => {
    // Act
    const roles = synthesized.template.findResources('AWS::IAM::Role') as Record<string, CfnResourceJson>;

    // Assess
    expect(roles[executionRoleId()]?.Properties?.AssumeRolePolicyDocument).toEqual({
      Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' } }],
      Version: '2012-10-17',
    });
    expect(roles[executionRoleId()]?.Properties?.ManagedPolicyArns).toBeUndefined();
  });

  it('lets the execution role read serving packages only, pull the Triton image only and write its endpoints\' logs only', () => {
    // Prepare
    const { template, stack } = synthesized;
    const bucketId = logicalId(stack.lake.bucket.node.defaultChild);

    // Act
    const statements = roleStatements(template, executionRoleId());

    // Assess
    expect(actionsOf(statements).sort()).toEqual(
      [
        's3:GetObject',
        's3:GetObjectVersion',
        's3:ListBucket',
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetDownloadUrlForLayer',
        'ecr:GetAuthorizationToken',
        'logs:CreateLogGroup',
        'logs:CreateLogStream',
        'logs:DescribeLogStreams',
        'logs:PutLogEvents',
        'cloudwatch:PutMetricData',
      ].sort(),
    );
    expect(resourcesOf(allowing(statements, 's3:GetObject'))).toEqual([{ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/${LAKE_KEYS.servingPackages}`]] }]);
    expect(LAKE_KEYS.servingPackages).toBe('models/*/serving/*');
    expect(resourcesOf(allowing(statements, 'ecr:BatchGetImage'))).toEqual([
      {
        'Fn::Join': [
          '',
          ['arn:', { Ref: 'AWS::Partition' }, ':ecr:', { Ref: 'AWS::Region' }, ':', { 'Fn::FindInMap': [tritonMappingId(), { Ref: 'AWS::Region' }, 'account'] }, ':repository/sagemaker-tritonserver'],
        ],
      },
    ]);
    expect(resourcesOf(allowing(statements, 'ecr:GetAuthorizationToken'))).toEqual(['*']);
    expect(allowing(statements, 'cloudwatch:PutMetricData')[0]?.Condition).toEqual({ StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/*' } });
    expect(resourcesOf(allowing(statements, 'logs:PutLogEvents'))).toEqual([
      arnJoin('logs', `log-group:/aws/sagemaker/Endpoints/${prefix}*`),
      arnJoin('logs', `log-group:/aws/sagemaker/Endpoints/${prefix}*:log-stream:*`),
      arnJoin('logs', `log-group:/aws/sagemaker/InferenceComponents/${prefix}*`),
      arnJoin('logs', `log-group:/aws/sagemaker/InferenceComponents/${prefix}*:log-stream:*`),
    ]);
  });

  it.each(['predict', 'shadow'])('lets %s invoke the platform\'s endpoints and inference components only, and nothing else of SageMaker', (id) => {
    // Act
    const statements = roleStatements(synthesized.template, roleOf(id));

    // Assess
    const sagemakerActions = actionsOf(statements).filter((action) => action.startsWith('sagemaker:'));
    expect(sagemakerActions).toEqual(['sagemaker:InvokeEndpoint']);
    expect(resourcesOf(allowing(statements, 'sagemaker:InvokeEndpoint'))).toEqual([arnJoin('sagemaker', `endpoint/${prefix}*`), arnJoin('sagemaker', `inference-component/${prefix}*`)]);
    expect(actionsOf(statements).filter((action) => /^(iam|application-autoscaling|cloudwatch):/.test(action))).toEqual([]);
  });

  it('lets the deployer create, follow, scale and delete models, endpoint configurations, endpoints and inference components under the prefix only', () => {
    // Act
    const statements = roleStatements(synthesized.template, roleOf(DEPLOYER.id));

    // Assess
    const sagemaker = statements.filter((statement) => actionsOf([statement]).some((action) => action.startsWith('sagemaker:')));
    expect(actionsOf(sagemaker).sort()).toEqual(
      [
        'sagemaker:AddTags',
        'sagemaker:CreateEndpoint',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateInferenceComponent',
        'sagemaker:CreateModel',
        'sagemaker:DeleteEndpoint',
        'sagemaker:DeleteEndpointConfig',
        'sagemaker:DeleteInferenceComponent',
        'sagemaker:DeleteModel',
        'sagemaker:DescribeEndpoint',
        'sagemaker:DescribeEndpointConfig',
        'sagemaker:DescribeInferenceComponent',
        'sagemaker:DescribeModel',
        'sagemaker:UpdateEndpoint',
        'sagemaker:UpdateEndpointWeightsAndCapacities',
        'sagemaker:UpdateInferenceComponent',
        'sagemaker:UpdateInferenceComponentRuntimeConfig',
      ].sort(),
    );
    expect(resourcesOf(sagemaker)).toEqual(
      expect.arrayContaining(['model', 'endpoint-config', 'endpoint', 'inference-component'].map((type) => arnJoin('sagemaker', `${type}/${prefix}*`))),
    );
    expect(resourcesOf(sagemaker)).toHaveLength(4);
    expect(sagemaker.every((statement) => statement.Condition === undefined)).toBe(true);
  });

  it('lets the deployer pass the execution role, and only to SageMaker', () => {
    // Act
    const passRole = allowing(roleStatements(synthesized.template, roleOf(DEPLOYER.id)), 'iam:PassRole');

    // Assess
    expect(passRole).toEqual([
      {
        Action: 'iam:PassRole',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [executionRoleId(), 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      },
    ]);
  });

  it('lets the deployer scale SageMaker targets only, create only the SageMaker auto scaling service-linked role, and manage only the prefix\'s alarms', () => {
    // Act
    const statements = roleStatements(synthesized.template, roleOf(DEPLOYER.id));

    // Assess
    const scaling = allowing(statements, 'application-autoscaling:RegisterScalableTarget');
    expect(scaling).toEqual([
      {
        Action: [
          'application-autoscaling:DeleteScalingPolicy',
          'application-autoscaling:DeregisterScalableTarget',
          'application-autoscaling:PutScalingPolicy',
          'application-autoscaling:RegisterScalableTarget',
        ],
        Effect: 'Allow',
        Resource: arnJoin('application-autoscaling', 'scalable-target/*'),
        Condition: {
          StringEquals: {
            'application-autoscaling:service-namespace': 'sagemaker',
            'application-autoscaling:scalable-dimension': ['sagemaker:inference-component:DesiredCopyCount', 'sagemaker:variant:DesiredInstanceCount'],
          },
        },
      },
    ]);
    expect(resourcesOf(allowing(statements, 'application-autoscaling:DescribeScalingPolicies'))).toEqual(['*']);
    expect(allowing(statements, 'iam:CreateServiceLinkedRole')).toEqual([
      {
        Action: 'iam:CreateServiceLinkedRole',
        Effect: 'Allow',
        Resource: arnJoin('iam', 'role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint', false),
        Condition: { StringLike: { 'iam:AWSServiceName': 'sagemaker.application-autoscaling.amazonaws.com' } },
      },
    ]);
    const alarms = allowing(statements, 'cloudwatch:PutMetricAlarm');
    expect(actionsOf(alarms).sort()).toEqual(['cloudwatch:DeleteAlarms', 'cloudwatch:DescribeAlarms', 'cloudwatch:PutMetricAlarm']);
    expect(resourcesOf(alarms)).toEqual([arnJoin('cloudwatch', `alarm:${prefix}*`)]);
  });

  it('gives SageMaker deploy rights and iam:PassRole to the deployer only', () => {
    // Prepare
    const { template, stack } = synthesized;

    // Act
    const holders = stack.functions
      .filter((fn) => {
        const actions = actionsOf(roleStatements(template, logicalId(fn.role.node.defaultChild)));
        return actions.includes('iam:PassRole') || actions.some((action) => /^sagemaker:(Create|Delete|Update)/.test(action));
      })
      .map((fn) => fn.spec.id);

    // Assess
    expect(holders).toEqual([DEPLOYER.id]);
  });

  it('runs the deployer on state changes of the platform\'s endpoints, besides its schedule', () => {
    // Prepare
    const { template, stack } = synthesized;
    const deployer = stack.functions.find((fn) => fn.spec.id === DEPLOYER.id);

    // Act
    const rules = Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: Match.anyValue() } })) as CfnResourceJson[];

    // Assess
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties).toMatchObject({
      EventPattern: { source: ['aws.sagemaker'], 'detail-type': ['SageMaker Endpoint State Change'], detail: { EndpointName: [{ prefix }] } },
      Targets: [{ Arn: { 'Fn::GetAtt': [logicalId(deployer?.function.node.defaultChild), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
  });

  it('looks the Triton image up by region at deploy time, and refuses a region the table lacks before creating anything', () => {
    // Act
    const json = synthesized.template.toJSON() as { Mappings: Record<string, Record<string, { account: string }>>; Rules: Record<string, { Assertions: unknown[] }> };

    // Assess
    const mappings = Object.values(json.Mappings);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]).toEqual(Object.fromEntries(Object.entries(TRITON_REGISTRY_ACCOUNTS).map(([region, account]) => [region, { account }])));
    expect(Object.values(json.Rules).flatMap((rule) => rule.Assertions)).toContainEqual({
      Assert: { 'Fn::Contains': [Object.keys(TRITON_REGISTRY_ACCOUNTS), { Ref: 'AWS::Region' }] },
      AssertDescription: expect.stringContaining('tritonImageUri') as unknown,
    });
  });

  it('has no unacknowledged cdk-nag findings and no stale acknowledgement', () => {
    // Prepare
    const { app, nag } = synthesized;

    // Act
    const report = nag.validateScope(app);
    const unused = unusedNagAcknowledgements(app, nag);

    // Assess
    expect(report.violations.map((violation) => `${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`)).toEqual([]);
    expect(unused).toEqual([]);
  });
});

describe('SageMaker serving options', () => {
  const bareApp = () => new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });

  it('creates no SageMaker resources for a topology without SageMaker access', () => {
    // Prepare
    const plain: Topology = { ...topology, functions: topology.functions.map((spec) => ({ ...spec, access: { ...spec.access, sagemaker: undefined } })) };

    // Act
    const { stack, template } = synthesize(plain);

    // Assess
    expect(stack.sagemaker).toBeUndefined();
    expect((template.toJSON() as { Mappings?: unknown }).Mappings).toBeUndefined();
    template.resourcePropertiesCountIs('AWS::IAM::Role', { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'sagemaker.amazonaws.com' } }] } }, 0);
  });

  it('takes a resource prefix and the Triton images from the stack options', () => {
    // Act
    const { template, stack } = synthesize(topology, {
      sagemakerResourcePrefix: 'ai-prod',
      tritonImageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-triton:26.06-py3',
      tritonCpuImageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-triton-cpu:26.06-py3-cpu',
    });

    // Assess
    const deployerRole = logicalId(stack.functions.find((fn) => fn.spec.id === DEPLOYER.id)?.role.node.defaultChild);
    expect(resourcesOf(allowing(roleStatements(template, deployerRole), 'sagemaker:CreateEndpoint'))).toContainEqual(arnJoin('sagemaker', 'endpoint/ai-prod*'));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.tritonImageUri]: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-triton:26.06-py3',
          [ENV.tritonCpuImageUri]: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/my-triton-cpu:26.06-py3-cpu',
          [ENV.sagemakerResourcePrefix]: 'ai-prod',
        }),
      },
    });
    const executionRole = logicalId(stack.sagemaker?.executionRole.node.defaultChild);
    expect(resourcesOf(allowing(roleStatements(template, executionRole), 'ecr:BatchGetImage'))).toEqual([
      'arn:aws:ecr:eu-west-1:123456789012:repository/my-triton',
      'arn:aws:ecr:eu-west-1:123456789012:repository/my-triton-cpu',
    ]);
    expect((template.toJSON() as { Mappings?: unknown }).Mappings).toBeUndefined();
  });

  it.each([
    [{ sagemakerResourcePrefix: 'Upper' }, "resourcePrefix must be 1-20 lowercase letters and digits with inner dashes, got 'Upper'"],
    [{ sagemakerResourcePrefix: 'a'.repeat(MAX_RESOURCE_PREFIX_LENGTH + 1) }, `got '${'a'.repeat(MAX_RESOURCE_PREFIX_LENGTH + 1)}'`],
    [{ sagemakerResourcePrefix: 'trailing-' }, "got 'trailing-'"],
    [{ tritonImageUri: 'nvcr.io/nvidia/tritonserver:26.05-py3' }, "tritonImageUri must be an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>), got 'nvcr.io/nvidia/tritonserver:26.05-py3'"],
    [{ tritonCpuImageUri: 'tritonserver:26.05-py3-cpu' }, "tritonCpuImageUri must be an ECR image URI (<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>), got 'tritonserver:26.05-py3-cpu'"],
  ])('rejects %j naming the bad value', (props, message) => {
    expect(() => new PlatformStack(bareApp(), 'Bad', { topology: topology, ...props })).toThrow(message);
  });

  it('refuses a function with SageMaker access when the stack gives it no SageMaker serving', () => {
    // Prepare
    const stack = new Stack(bareApp(), 'Functions');

    // Act + Assess
    expect(() => new PlatformFunction(stack, 'Deployer', { spec: { ...DEPLOYER, access: { sagemaker: 'deploy' } }, codeVersion: '1' })).toThrow(
      "(function 'deployments') has SageMaker access 'deploy' but no SageMaker serving was given",
    );
  });

  it('uses the literal images of a concrete region, and fails synth in a region the table lacks unless given both images', () => {
    // Prepare
    const inRegion = (region: string) => new Stack(bareApp(), 'Images', { env: { account: '111111111111', region } });
    const digest = (repository: string) => `111111111111.dkr.ecr.xx-nowhere-1.amazonaws.com/${repository}@sha256:${'a'.repeat(64)}`;

    // Act
    const frankfurt = tritonImages(inRegion('eu-central-1'));
    const zurich = tritonImages(inRegion('eu-central-2'));
    const overridden = tritonImages(inRegion('xx-nowhere-1'), { gpu: digest('triton'), cpu: digest('triton-cpu') });
    const gpuOnly = tritonImages(inRegion('eu-central-1'), { gpu: digest('triton') });

    // Assess
    expect(frankfurt).toEqual({
      gpu: { imageUri: '763104351884.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-tritonserver:26.05-py3', repositoryArn: 'arn:aws:ecr:eu-central-1:763104351884:repository/sagemaker-tritonserver' },
      cpu: { imageUri: '763104351884.dkr.ecr.eu-central-1.amazonaws.com/sagemaker-tritonserver:26.05-py3-cpu', repositoryArn: 'arn:aws:ecr:eu-central-1:763104351884:repository/sagemaker-tritonserver' },
    });
    expect(TRITON_IMAGE_TAGS).toEqual({ gpu: '26.05-py3', cpu: '26.05-py3-cpu' });
    expect(zurich.cpu.imageUri).toBe('380420809688.dkr.ecr.eu-central-2.amazonaws.com/sagemaker-tritonserver:26.05-py3-cpu');
    expect([overridden.gpu.repositoryArn, overridden.cpu.repositoryArn]).toEqual(['arn:aws:ecr:xx-nowhere-1:111111111111:repository/triton', 'arn:aws:ecr:xx-nowhere-1:111111111111:repository/triton-cpu']);
    expect(gpuOnly.cpu.imageUri).toBe(frankfurt.cpu.imageUri);
    expect(() => tritonImages(inRegion('xx-nowhere-1'))).toThrow("no Triton image for SageMaker is known in region 'xx-nowhere-1'");
    expect(() => tritonImages(inRegion('xx-nowhere-1'), { gpu: digest('triton') })).toThrow('give ECR image URIs as the tritonImageUri and tritonCpuImageUri stack props or CDK context');
  });

  it('synthesizes a stack in a concrete region with the literal image URI and no mapping', () => {
    // Act
    const { template } = synthesize(topology, { env: { account: '111111111111', region: 'us-west-2' } });

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          [ENV.tritonImageUri]: '763104351884.dkr.ecr.us-west-2.amazonaws.com/sagemaker-tritonserver:26.05-py3',
          [ENV.tritonCpuImageUri]: '763104351884.dkr.ecr.us-west-2.amazonaws.com/sagemaker-tritonserver:26.05-py3-cpu',
        }),
      },
    });
    expect((template.toJSON() as { Mappings?: unknown }).Mappings).toBeUndefined();
  });
});

describe('sagemakerResourcePrefix', () => {
  it('is a short, lowercase SageMaker name that never changes for a stack (renaming would strand its endpoints outside the grants): up to 10 letters and digits of the stack name, a dash and 6 hex digits', () => {
    expect(sagemakerResourcePrefix('ServerlessAiPlatform')).toBe('serverless-c4ebec');
    expect(sagemakerResourcePrefix('Ml-Dev')).toMatch(/^mldev-[0-9a-f]{6}$/);
    expect(sagemakerResourcePrefix('ServerlessAiPlatform')).toBe(sagemakerResourcePrefix('ServerlessAiPlatform'));
  });

  it('differs between stacks whose names share their first letters, and none starts with another', () => {
    // Act
    const prefixes = ['ServerlessAiPlatform', 'ServerlessAiPlatform-dev', 'ServerlessAiPlatform2', 'serverlessaiplatform'].map(sagemakerResourcePrefix);

    // Assess
    expect(new Set(prefixes).size).toBe(prefixes.length);
    for (const a of prefixes) for (const b of prefixes) if (a !== b) expect(b.startsWith(a)).toBe(false);
    for (const prefix of prefixes) expect(prefix.length).toBeLessThanOrEqual(MAX_RESOURCE_PREFIX_LENGTH);
  });
});
