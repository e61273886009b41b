/**
 * CDK assertion tests for the platform stack. Expectations are derived from the topology
 * (routes, functions, queues) rather than hand-listed, so they follow it as it grows.
 *
 * Asset bundling is skipped (`aws:cdk:bundling-stacks: []`): neither esbuild nor the layer build
 * runs, which keeps the suite offline and fast. `npx cdk synth` exercises real bundling.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlatformStack } from './platform-stack.js';
import { REPO_ROOT } from './paths.js';
import { topology, type FunctionSpec, type RouteSpec, type Topology } from './topology.js';

/** Feature flags from cdk.json, so tests synthesize exactly what `cdk synth` does. */
const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;

const DYNAMODB_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
const S3_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'];
/** Actions no platform function may have: the lake is never emptied, the registry never scanned. */
const FORBIDDEN_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion', 'dynamodb:Scan', 'dynamodb:BatchWriteItem'];

interface Synthesized {
  readonly app: App;
  readonly stack: PlatformStack;
  readonly template: Template;
  readonly nag: AwsSolutionsChecks;
}

/** Synthesizes a platform stack with cdk-nag registered before synthesis, as in `infra/app.ts`. */
function synthesize(stackTopology?: Topology): Synthesized {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new PlatformStack(app, 'TestPlatform', stackTopology === undefined ? {} : { topology: stackTopology });
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  const template = Template.fromStack(stack);
  return { app, stack, template, nag };
}

function logicalId(element: unknown): string {
  const cfn = element as CfnElement;
  return Stack.of(cfn).resolve(cfn.logicalId) as string;
}

interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** Full path (`/v2/models/{name}`) of every API Gateway resource, by logical id. */
function resourcePaths(template: Template): Map<string, string> {
  const resources = template.findResources('AWS::ApiGateway::Resource') as Record<string, CfnResourceJson>;
  const paths = new Map<string, string>();
  const pathOf = (id: string): string => {
    const known = paths.get(id);
    if (known !== undefined) return known;
    const properties = resources[id]?.Properties ?? {};
    const parent = properties.ParentId as { Ref?: string } | undefined;
    const parentPath = parent?.Ref === undefined ? '' : pathOf(parent.Ref);
    const full = `${parentPath}/${String(properties.PathPart)}`;
    paths.set(id, full);
    return full;
  };
  for (const id of Object.keys(resources)) pathOf(id);
  return paths;
}

/** Every Method of the template as `"<METHOD> <path>"` → properties. */
function methodsByRoute(template: Template): Map<string, Record<string, unknown>> {
  const paths = resourcePaths(template);
  const methods = template.findResources('AWS::ApiGateway::Method') as Record<string, CfnResourceJson>;
  const byRoute = new Map<string, Record<string, unknown>>();
  for (const method of Object.values(methods)) {
    const properties = method.Properties ?? {};
    const resourceRef = (properties.ResourceId as { Ref?: string }).Ref;
    const methodPath = resourceRef === undefined ? '/' : (paths.get(resourceRef) ?? '?');
    byRoute.set(`${String(properties.HttpMethod)} ${methodPath}`, properties);
  }
  return byRoute;
}

interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Allow statements of the identity policies attached to a role. */
function roleStatements(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  }) as Record<string, { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }>;
  return Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

function actionsOf(statements: readonly PolicyStatementJson[]): string[] {
  return statements.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
}

/** Statements whose resources mention the given logical id. */
function statementsOn(statements: readonly PolicyStatementJson[], resourceLogicalId: string): PolicyStatementJson[] {
  return statements.filter((statement) => JSON.stringify(statement.Resource).includes(`"${resourceLogicalId}"`));
}

const allRoutes: ReadonlyArray<RouteSpec & { readonly functionId: string }> = topology.functions.flatMap((spec) =>
  spec.routes.map((route) => ({ ...route, functionId: spec.id })),
);

describe('PlatformStack (platform topology)', () => {
  let synthesized: Synthesized;

  beforeAll(() => {
    synthesized = synthesize();
  });

  describe('API', () => {
    it.each(allRoutes)('serves $method $path ($auth) with the $functionId function', (route) => {
      // Prepare
      const { template, stack } = synthesized;
      const fn = stack.functions.find((candidate) => candidate.spec.id === route.functionId);
      expect(fn).toBeDefined();

      // Act
      const method = methodsByRoute(template).get(`${route.method} ${route.path}`);

      // Assess
      expect(method).toBeDefined();
      if (route.auth === 'apiKey') {
        expect(method).toMatchObject({ ApiKeyRequired: true, AuthorizationType: 'NONE' });
      } else {
        expect(method).toMatchObject({ AuthorizationType: 'AWS_IAM' });
        expect(method?.ApiKeyRequired).not.toBe(true);
      }
      expect(JSON.stringify(method?.Integration)).toContain(logicalId(fn?.function.node.defaultChild));
      expect(method?.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
    });

    it('has exactly one method per topology route and no anonymous method', () => {
      // Prepare
      const { template } = synthesized;
      const expected = allRoutes.map((route) => `${route.method} ${route.path}`).sort();

      // Act
      const methods = methodsByRoute(template);
      const anonymous = [...methods].filter(
        ([, properties]) => properties.ApiKeyRequired !== true && properties.AuthorizationType !== 'AWS_IAM',
      );

      // Assess
      expect([...methods.keys()].sort()).toEqual(expected);
      expect(anonymous.map(([route]) => route)).toEqual([]);
    });

    it('binds a usage plan with throttle and quota to the stage and the API key', () => {
      // Prepare
      const { template, stack } = synthesized;
      const apiId = logicalId(stack.api.api.node.defaultChild);
      const stageId = logicalId(stack.api.stage.node.defaultChild);
      const keyId = logicalId(stack.api.apiKey.node.defaultChild);
      const planId = logicalId(stack.api.usagePlan.node.defaultChild);

      // Act
      const apiKeys = template.findResources('AWS::ApiGateway::ApiKey') as Record<string, CfnResourceJson>;

      // Assess
      template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        Throttle: { RateLimit: 100, BurstLimit: 200 },
        Quota: { Limit: 1_000_000, Period: 'MONTH' },
        ApiStages: [{ ApiId: { Ref: apiId }, Stage: { Ref: stageId } }],
      });
      template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
        KeyId: { Ref: keyId },
        KeyType: 'API_KEY',
        UsagePlanId: { Ref: planId },
      });
      expect(Object.values(apiKeys).map((key) => key.Properties?.Value)).toEqual([undefined]);
    });

    it('logs, traces and throttles the stage', () => {
      // Prepare
      const { template, stack } = synthesized;
      const accessLogGroupId = logicalId(stack.api.accessLogGroup.node.defaultChild);

      // Act
      const stages = Object.values(template.findResources('AWS::ApiGateway::Stage')) as CfnResourceJson[];

      // Assess
      expect(stages).toHaveLength(1);
      expect(JSON.stringify(stages[0]?.Properties?.AccessLogSetting)).toContain(`"${accessLogGroupId}"`);
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'prod',
        TracingEnabled: true,
        AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('apiKeyId') },
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
            // 10 × the per-key limits: no single key can use up a method's stage budget.
            ThrottlingRateLimit: 1000,
            ThrottlingBurstLimit: 2000,
          }),
        ]),
      });
      template.resourceCountIs('AWS::ApiGateway::Account', 1);
      template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: true,
        ValidateRequestParameters: true,
      });
    });
  });

  describe('functions', () => {
    it.each(topology.functions.map((spec) => [spec.id, spec] as const))('%s runs nodejs22.x with its spec, the layer and tracing', (_id, spec: FunctionSpec) => {
      // Prepare
      const { template, stack } = synthesized;
      const fn = stack.functions.find((candidate) => candidate.spec.id === spec.id);
      const layerId = logicalId(stack.onnxRuntimeLayer?.layerVersion.node.defaultChild);

      // Act
      const resource = template.findResources('AWS::Lambda::Function')[logicalId(fn?.function.node.defaultChild)] as CfnResourceJson;

      // Assess
      expect(resource.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['x86_64'],
        MemorySize: spec.memoryMb,
        Timeout: spec.timeoutSeconds,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: logicalId(fn?.logGroup.node.defaultChild) } },
        Environment: {
          Variables: {
            POWERTOOLS_SERVICE_NAME: spec.id,
            POWERTOOLS_METRICS_NAMESPACE: 'ServerlessAiPlatform',
            POWERTOOLS_LOG_LEVEL: 'INFO',
            REGISTRY_TABLE: { Ref: logicalId(stack.registry.table.node.defaultChild) },
            LAKE_BUCKET: { Ref: logicalId(stack.lake.bucket.node.defaultChild) },
          },
        },
      });
      expect(resource.Properties?.Layers).toEqual(spec.onnxRuntime ? [{ Ref: layerId }] : undefined);
    });

    it('publishes the onnxruntime layer for nodejs22.x on x86_64', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const layers = template.findResources('AWS::Lambda::LayerVersion');

      // Assess
      expect(Object.keys(layers)).toHaveLength(1);
      template.hasResourceProperties('AWS::Lambda::LayerVersion', {
        CompatibleRuntimes: ['nodejs22.x'],
        CompatibleArchitectures: ['x86_64'],
        Description: Match.stringLikeRegexp('^onnxruntime-node \\d+\\.\\d+\\.\\d+ \\(linux/x64\\)$'),
      });
    });

    it('gives every function role no managed policy', () => {
      // Prepare
      const { template, stack } = synthesized;

      // Act
      const roles = template.findResources('AWS::IAM::Role') as Record<string, CfnResourceJson>;

      // Assess
      for (const fn of stack.functions) {
        expect(roles[logicalId(fn.role.node.defaultChild)]?.Properties?.ManagedPolicyArns).toBeUndefined();
      }
    });

    it('keeps predict read-only on the registry table and the lake bucket', () => {
      // Prepare
      const { template, stack } = synthesized;
      const predict = stack.functions.find((fn) => fn.spec.id === 'predict');
      const tableId = logicalId(stack.registry.table.node.defaultChild);
      const bucketId = logicalId(stack.lake.bucket.node.defaultChild);

      // Act
      const statements = roleStatements(template, logicalId(predict?.role.node.defaultChild));
      const tableActions = actionsOf(statementsOn(statements, tableId));
      const bucketActions = actionsOf(statementsOn(statements, bucketId));

      // Assess
      expect(tableActions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
      expect(tableActions.filter((action) => DYNAMODB_WRITE_ACTIONS.includes(action))).toEqual([]);
      expect(bucketActions.sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion', 's3:ListBucket']);
      expect(actionsOf(statements).filter((action) => action.includes('*'))).toEqual([]);
      expect(actionsOf(statements).filter((action) => action.startsWith('sqs:'))).toEqual([]);
    });

    it('lets the control plane write to the registry table and the lake bucket', () => {
      // Prepare
      const { template, stack } = synthesized;
      const controlPlane = stack.functions.find((fn) => fn.spec.id === 'control-plane');
      const tableId = logicalId(stack.registry.table.node.defaultChild);
      const bucketId = logicalId(stack.lake.bucket.node.defaultChild);

      // Act
      const statements = roleStatements(template, logicalId(controlPlane?.role.node.defaultChild));

      // Assess
      expect(actionsOf(statementsOn(statements, tableId))).toEqual(expect.arrayContaining(DYNAMODB_WRITE_ACTIONS));
      expect(actionsOf(statementsOn(statements, bucketId))).toEqual(expect.arrayContaining(['s3:GetObject', ...S3_WRITE_ACTIONS]));
      expect(actionsOf(statements).filter((action) => action.includes('*'))).toEqual([]);
    });

    it('gives no function delete rights on the lake, nor scans or batch writes on the registry', () => {
      const { template, stack } = synthesized;
      for (const fn of stack.functions) {
        const actions = actionsOf(roleStatements(template, logicalId(fn.role.node.defaultChild)));
        expect(actions.filter((action) => FORBIDDEN_ACTIONS.includes(action))).toEqual([]);
      }
    });
  });

  describe('lake', () => {
    it('encrypts, blocks public access and denies non-TLS requests on both buckets', () => {
      // Prepare
      const { template, stack } = synthesized;
      const bucketIds = [stack.lake.bucket, stack.lake.accessLogsBucket].map((bucket) => logicalId(bucket.node.defaultChild));

      // Act
      const buckets = template.findResources('AWS::S3::Bucket') as Record<string, CfnResourceJson>;

      // Assess
      expect(Object.keys(buckets).sort()).toEqual([...bucketIds].sort());
      for (const bucketId of bucketIds) {
        template.hasResource('AWS::S3::Bucket', {
          DeletionPolicy: 'Retain',
          Properties: Match.objectLike({
            BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
            PublicAccessBlockConfiguration: {
              BlockPublicAcls: true,
              BlockPublicPolicy: true,
              IgnorePublicAcls: true,
              RestrictPublicBuckets: true,
            },
          }),
        });
        expect(buckets[bucketId]?.Properties?.BucketEncryption).toBeDefined();
        template.hasResourceProperties('AWS::S3::BucketPolicy', {
          Bucket: { Ref: bucketId },
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 's3:*',
                Principal: { AWS: '*' },
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              }),
            ]),
          },
        });
      }
    });

    it('versions the lake bucket, logs access to the logs bucket and expires old data', () => {
      // Prepare
      const { template, stack } = synthesized;
      const bucketId = logicalId(stack.lake.bucket.node.defaultChild);
      const logsBucketId = logicalId(stack.lake.accessLogsBucket.node.defaultChild);

      // Act
      const bucket = template.findResources('AWS::S3::Bucket')[bucketId] as CfnResourceJson;

      // Assess
      expect(bucket.Properties).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: { DestinationBucketName: { Ref: logsBucketId } },
        LifecycleConfiguration: {
          Rules: expect.arrayContaining([
            expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
            expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' }),
          ]),
        },
      });
    });
  });

  describe('registry', () => {
    it('is an on-demand table with PITR, SSE, the gsi1 index and RETAIN', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const tables = template.findResources('AWS::DynamoDB::Table');

      // Assess
      expect(Object.keys(tables)).toHaveLength(1);
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: Match.objectLike({
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
          GlobalSecondaryIndexes: [
            {
              IndexName: 'gsi1',
              KeySchema: [
                { AttributeName: 'gsi1pk', KeyType: 'HASH' },
                { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'ALL' },
            },
          ],
        }),
      });
    });
  });

  describe('queues', () => {
    it.each(topology.queues.map((spec) => [spec.id, spec] as const))('%s queue and its DLQ are encrypted, TLS-only and redrive after maxReceiveCount', (_id, spec) => {
      // Prepare
      const { template, stack } = synthesized;
      const jobQueue = stack.queues.find((queue) => queue.queueId === spec.id);
      const queueId = logicalId(jobQueue?.queue.node.defaultChild);
      const dlqId = logicalId(jobQueue?.deadLetterQueue.node.defaultChild);

      // Act
      const queues = template.findResources('AWS::SQS::Queue') as Record<string, CfnResourceJson>;

      // Assess
      expect(queues[queueId]?.Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        MessageRetentionPeriod: spec.retentionDays * 24 * 3600,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: spec.maxReceiveCount },
      });
      expect(queues[dlqId]?.Properties).toMatchObject({ SqsManagedSseEnabled: true });
      for (const id of [queueId, dlqId]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });
  });

  describe('logs', () => {
    it('gives every log group a 30-day retention', () => {
      // Prepare
      const { template, stack } = synthesized;
      const expectedIds = [...stack.functions.map((fn) => fn.logGroup), stack.api.accessLogGroup].map((group) =>
        logicalId(group.node.defaultChild),
      );

      // Act
      const groups = template.findResources('AWS::Logs::LogGroup') as Record<string, CfnResourceJson>;

      // Assess
      expect(Object.keys(groups).sort()).toEqual(expectedIds.sort());
      for (const group of Object.values(groups)) {
        expect(group.Properties?.RetentionInDays).toBe(30);
      }
    });
  });

  describe('outputs', () => {
    it('exports the API URL, API key id (not its value), bucket, table and queue URLs', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const outputs = Object.keys(template.findOutputs('*'));

      // Assess
      expect(outputs).toEqual(
        expect.arrayContaining(['ApiUrl', 'ApiKeyId', 'LakeBucketName', 'RegistryTableName', 'TrainingQueueUrl', 'TrainingDeadLetterQueueUrl']),
      );
      template.hasOutput('ApiKeyId', { Value: { Ref: Match.stringLikeRegexp('ApiKey') } });
    });
  });

  describe('synthesis', () => {
    it('skips asset bundling in tests: function and layer assets point at their sources', () => {
      // Prepare
      const { app } = synthesized;

      // Act
      const assembly = app.synth();
      const manifest = JSON.parse(readFileSync(path.join(assembly.directory, 'TestPlatform.assets.json'), 'utf8')) as {
        files: Record<string, { displayName?: string; source: { path: string } }>;
      };
      const sources = Object.values(manifest.files)
        .filter((file) => file.displayName?.endsWith('/Code') === true)
        .map((file) => file.source.path)
        .sort();

      // Assess
      expect(sources).toEqual([REPO_ROOT, REPO_ROOT, path.join(REPO_ROOT, 'layers', 'onnxruntime')].sort());
      expect(readdirSync(assembly.directory).filter((entry) => entry.startsWith('asset.') || entry.startsWith('bundling-temp-'))).toEqual([]);
    });

    it('has no unacknowledged cdk-nag AwsSolutions errors or warnings', () => {
      // Prepare
      const { app, nag } = synthesized;

      // Act
      const report = nag.validateScope(app);

      // Assess
      expect(report.violations.map((violation) => `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`)).toEqual([]);
      expect(report.success).toBe(true);
    });
  });
});

describe('PlatformStack (triggers and queues from a larger topology)', () => {
  /** The platform topology plus a bucket-triggered ingest function and a queue-triggered worker. */
  const extended: Topology = {
    ...topology,
    functions: [
      ...topology.functions.map((spec) =>
        spec.id === 'control-plane' ? { ...spec, access: { ...spec.access, queues: { training: 'send' as const } } } : spec,
      ),
      {
        id: 'ingest',
        entry: 'functions/control-plane/handler.ts',
        description: 'test: bucket-triggered',
        memoryMb: 512,
        timeoutSeconds: 60,
        onnxRuntime: false,
        access: { registry: 'readWrite', lake: 'readWrite', queues: { training: 'send' } },
        routes: [],
        bucketTriggers: [{ prefix: 'raw/', suffix: '.csv' }],
        queueTriggers: [],
      },
      {
        id: 'training-worker',
        entry: 'functions/control-plane/handler.ts',
        description: 'test: queue-triggered',
        memoryMb: 3008,
        timeoutSeconds: 900,
        onnxRuntime: true,
        access: { registry: 'readWrite', lake: 'readWrite' },
        routes: [],
        bucketTriggers: [],
        queueTriggers: [{ queue: 'training', batchSize: 1, reportBatchItemFailures: true }],
      },
    ],
  };
  let synthesized: Synthesized;

  beforeAll(() => {
    synthesized = synthesize(extended);
  });

  it('maps queue triggers to SQS event sources with batch size and partial batch responses', () => {
    // Prepare
    const { template, stack } = synthesized;
    const worker = stack.functions.find((fn) => fn.spec.id === 'training-worker');
    const queue = stack.queues.find((candidate) => candidate.queueId === 'training');

    // Act
    const mappings = template.findResources('AWS::Lambda::EventSourceMapping');

    // Assess
    expect(Object.keys(mappings)).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(worker?.function.node.defaultChild) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(queue?.queue.node.defaultChild), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('maps bucket triggers to ObjectCreated notifications filtered by prefix and suffix', () => {
    // Prepare
    const { template, stack } = synthesized;
    const ingest = stack.functions.find((fn) => fn.spec.id === 'ingest');

    // Act
    const notifications = Object.values(template.findResources('Custom::S3BucketNotifications')) as CfnResourceJson[];
    const configurations = (notifications[0]?.Properties?.NotificationConfiguration as {
      LambdaFunctionConfigurations: Array<{ Events: string[]; Filter: { Key: { FilterRules: Array<{ Name: string; Value: string }> } }; LambdaFunctionArn: unknown }>;
    }).LambdaFunctionConfigurations;

    // Assess
    expect(notifications).toHaveLength(1);
    expect(notifications[0]?.Properties?.BucketName).toEqual({ Ref: logicalId(stack.lake.bucket.node.defaultChild) });
    expect(configurations).toHaveLength(1);
    expect(configurations[0]?.Events).toEqual(['s3:ObjectCreated:*']);
    expect(configurations[0]?.LambdaFunctionArn).toEqual({ 'Fn::GetAtt': [logicalId(ingest?.function.node.defaultChild), 'Arn'] });
    expect(configurations[0]?.Filter.Key.FilterRules).toEqual(
      expect.arrayContaining([
        { Name: 'prefix', Value: 'raw/' },
        { Name: 'suffix', Value: '.csv' },
      ]),
    );
  });

  it('gives queue senders the queue URL and send permissions only', () => {
    // Prepare
    const { template, stack } = synthesized;
    const controlPlane = stack.functions.find((fn) => fn.spec.id === 'control-plane');
    const queue = stack.queues.find((candidate) => candidate.queueId === 'training');
    const queueId = logicalId(queue?.queue.node.defaultChild);

    // Act
    const statements = statementsOn(roleStatements(template, logicalId(controlPlane?.role.node.defaultChild)), queueId);

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'control-plane', TRAINING_QUEUE_URL: { Ref: queueId } }) },
    });
    expect(actionsOf(statements).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
  });

  it('has no unacknowledged cdk-nag AwsSolutions errors or warnings', () => {
    // Prepare
    const { app, nag } = synthesized;

    // Act
    const report = nag.validateScope(app);

    // Assess
    expect(report.violations.map((violation) => `${violation.severity} ${violation.ruleName}: ${violation.violatingResources.map((resource) => resource.constructPath).join(', ')}`)).toEqual([]);
  });
});

describe('PlatformStack validation', () => {
  const withFunction = (overrides: Partial<FunctionSpec>): Topology => {
    const base = topology.functions[0];
    if (base === undefined) throw new Error('topology has no functions');
    return { ...topology, functions: [{ ...base, ...overrides }] };
  };

  it('rejects a queue trigger whose visibility timeout is shorter than the function timeout', () => {
    // Prepare
    const shortVisibility: Topology = {
      ...withFunction({ onnxRuntime: false, routes: [{ method: 'GET', path: '/x', auth: 'iam' }], timeoutSeconds: 120, queueTriggers: [{ queue: 'training', batchSize: 1, reportBatchItemFailures: true }] }),
      queues: topology.queues.map((spec) => ({ ...spec, visibilityTimeoutSeconds: 60 })),
    };

    // Act
    const act = (): Synthesized => synthesize(shortVisibility);

    // Assess
    expect(act).toThrow(/visibility timeout \(60 s\) is shorter than the function timeout \(120 s\)/);
  });

  it('rejects a route declared twice, naming it', () => {
    // Prepare
    const duplicated = withFunction({ routes: [...(topology.functions[0]?.routes ?? []), { method: 'GET', path: '/v2/health/live', auth: 'apiKey' }] });

    // Act
    const act = (): Synthesized => synthesize(duplicated);

    // Assess
    expect(act).toThrow(/route 'GET \/v2\/health\/live' is declared twice/);
  });

  it('rejects out-of-range memory with the bad value', () => {
    // Prepare
    const tooMuchMemory = withFunction({ memoryMb: 20_000 });

    // Act
    const act = (): Synthesized => synthesize(tooMuchMemory);

    // Assess
    expect(act).toThrow(/memoryMb must be an integer between 128 and 10240, got 20000/);
  });

  it('checks the handler entry files exist', () => {
    // Prepare
    const entries = topology.functions.map((spec) => path.join(REPO_ROOT, spec.entry));

    // Act
    const missing = entries.filter((entry) => !existsSync(entry));

    // Assess
    expect(missing).toEqual([]);
  });
});
