/**
 * CDK assertion tests for the platform stack. Expectations are derived from the topology
 * (routes, functions, queues) rather than hand-listed, so they follow it as it grows.
 *
 * Asset bundling is skipped (`aws:cdk:bundling-stacks: []`): neither esbuild nor the layer build
 * runs, which keeps the suite offline and fast. `npx cdk synth` exercises real bundling.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { PlatformFunction } from './platform-function.js';
import { curatedKey, rawKey, rejectedKey } from '../src/lake/zones.js';
import { shadowPredictionsKey, shadowRequestsKey } from '../src/inference/telemetry/shadow-copy.js';
import { trainedModelKey } from '../src/training/publish-model.js';
import { combinedKey, jobOutputPrefix, partKey, rejectedPartKey } from '../src/batch/output.js';
import { JobQueue } from './job-queue.js';
import { PlatformStack, type PlatformStackProps } from './platform-stack.js';
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
import { REPO_ROOT } from '../topology/paths.js';
import { TRAINING_MEMORY_MB } from '../topology/limits.js';
import { DEFAULT_MAX_CONCURRENCY, type FunctionSpec, type QueueSpec, type RouteSpec, type Topology } from '../topology/spec.js';
import { topology } from '../topology/topology.js';

const DYNAMODB_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];
const S3_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'];
/** Actions no platform function may have: the lake is never emptied, the registry never scanned. */
const FORBIDDEN_ACTIONS = ['s3:DeleteObject', 's3:DeleteObjectVersion', 'dynamodb:Scan', 'dynamodb:BatchWriteItem'];

/** Whether an IAM resource pattern (`*` any characters, `?` one) matches a key. */
function iamPatternMatches(pattern: string, key: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(key);
}

/** The lake key patterns of a role's statements that allow `action`, e.g. `['models/*']`. */
function lakeKeyPatterns(statements: readonly PolicyStatementJson[], bucketId: string, action: string): string[] {
  return statements
    .filter((statement) => actionsOf([statement]).includes(action))
    .flatMap((statement) => (Array.isArray(statement.Resource) ? (statement.Resource as unknown[]) : [statement.Resource]))
    .flatMap((resource) => {
      const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
      const [arn, suffix] = join?.[1] ?? [];
      return JSON.stringify(arn) === JSON.stringify({ 'Fn::GetAtt': [bucketId, 'Arn'] }) && typeof suffix === 'string' ? [suffix.slice(1)] : [];
    })
    .sort();
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

/** Statements of the resource policy of one queue. */
function queuePolicyStatements(template: Template, queueLogicalId: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::SQS::QueuePolicy', {
    Properties: { Queues: [{ Ref: queueLogicalId }] },
  }) as Record<string, { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }>;
  return Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** Statements whose principal is the S3 service. */
function s3ServiceStatements(statements: readonly PolicyStatementJson[]): PolicyStatementJson[] {
  return statements.filter((statement) => JSON.stringify(statement.Principal) === JSON.stringify({ Service: 's3.amazonaws.com' }));
}

interface QueueConfigurationJson {
  readonly Events: string[];
  readonly Filter: { readonly Key: { readonly FilterRules: Array<{ readonly Name: string; readonly Value: string }> } };
  readonly QueueArn: unknown;
}

/** The one `Custom::S3BucketNotifications` resource of a template. */
function bucketNotifications(template: Template): { readonly properties: Record<string, unknown>; readonly dependsOn: string[] } {
  const resources = Object.values(template.findResources('Custom::S3BucketNotifications')) as Array<CfnResourceJson & { DependsOn?: string[] }>;
  expect(resources).toHaveLength(1);
  return { properties: resources[0]?.Properties ?? {}, dependsOn: resources[0]?.DependsOn ?? [] };
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

    it('serves KServe v1 model status and versioned predictions with an API key', () => {
      const methods = methodsByRoute(synthesized.template);
      for (const route of ['GET /v1/models/{nameAndVerb}', 'POST /v1/models/{nameAndVerb}/versions/{versionAndVerb}']) {
        expect(methods.get(route)).toMatchObject({ ApiKeyRequired: true, AuthorizationType: 'NONE' });
      }
    });

    it('has one method per topology route, a HEAD beside each GET, and anonymous methods only for 404/405 answers', () => {
      // Prepare
      const { template } = synthesized;
      const routed = allRoutes.flatMap((route) => (route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]).map((method) => `${method} ${route.path}`));
      const paths = new Set(allRoutes.flatMap((route) => route.path.split('/').map((_, i, segments) => segments.slice(0, i + 1).join('/') || '/')));

      // Act
      const methods = methodsByRoute(template);
      const anonymous = [...methods].filter(([, properties]) => properties.ApiKeyRequired !== true && properties.AuthorizationType !== 'AWS_IAM');

      // Assess
      expect([...methods.keys()].sort()).toEqual([...routed, ...[...paths].map((path) => `ANY ${path}`), 'ANY /{proxy+}'].sort());
      expect(anonymous.map(([route]) => route).sort()).toEqual([...[...paths].map((path) => `ANY ${path}`), 'ANY /{proxy+}'].sort());
      for (const [, properties] of anonymous) expect(properties.Integration).toMatchObject({ Type: 'MOCK', PassthroughBehavior: 'NEVER' });
    });

    it('answers a method a resource lacks with 405, Allow and the JSON error; a path no route has with 404 (not API Gateway\'s 403)', () => {
      // Prepare
      const methods = methodsByRoute(synthesized.template);
      const answer = (route: string) => {
        const integration = methods.get(route)?.Integration as { RequestTemplates: Record<string, string>; IntegrationResponses: Record<string, unknown>[] };
        return { request: integration.RequestTemplates['application/json'], response: integration.IntegrationResponses[0] };
      };

      // Act
      const alias = answer('ANY /models/{name}/aliases/{alias}');
      const infer = answer('ANY /v2/models/{name}/infer');
      const intermediate = answer('ANY /v2/models/{name}/versions');
      const unknown = answer('ANY /{proxy+}');

      // Assess
      expect(alias.request).toBe('{"statusCode": 405}');
      expect(alias.response).toEqual({
        StatusCode: '405',
        ResponseParameters: { 'method.response.header.Allow': "'DELETE, GET, HEAD, PUT'" },
        ResponseTemplates: {
          'application/json': `{"error":"method '$context.httpMethod' is not allowed on '$context.resourcePath'; allowed: DELETE, GET, HEAD, PUT","correlation_id":"$context.requestId"}`,
        },
      });
      expect(infer.response?.['ResponseParameters']).toEqual({ 'method.response.header.Allow': "'POST'" });
      for (const notFound of [intermediate, unknown]) {
        expect(notFound.request).toBe('{"statusCode": 404}');
        expect(notFound.response).toMatchObject({
          StatusCode: '404',
          ResponseTemplates: { 'application/json': '{"error":"no route for $context.httpMethod on this path","correlation_id":"$context.requestId"}' },
        });
      }
    });

    it('says what is missing when a request has no SigV4 signature or no valid API key, and what to do with a body over 10 MB, in the platform\'s error shape', () => {
      const { template } = synthesized;
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
        ResponseTemplates: { 'application/json': '{"error":"missing authentication: control-plane routes take IAM-signed (SigV4) requests","correlation_id":"$context.requestId"}' },
      });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'INVALID_API_KEY',
        ResponseTemplates: { 'application/json': '{"error":"missing or invalid API key: send it in the x-api-key header","correlation_id":"$context.requestId"}' },
      });
      const tooLarge = template.findResources('AWS::ApiGateway::GatewayResponse', { Properties: { ResponseType: 'REQUEST_TOO_LARGE' } });
      const body = JSON.parse(Object.values(tooLarge)[0]!['Properties']['ResponseTemplates']['application/json'].replace('$context.requestId', 'id')) as { error: string };
      expect(body.error).toContain('POST /v2/async/uploads');
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'DEFAULT_4XX',
        ResponseTemplates: { 'application/json': '{"error":$context.error.messageString,"correlation_id":"$context.requestId"}' },
      });
    });

    it('passes the topology\'s binary media types as bytes (binary tensors), and JSON as text', () => {
      // Act
      const apis = Object.values(synthesized.template.findResources('AWS::ApiGateway::RestApi')) as CfnResourceJson[];

      // Assess
      expect(apis.map((api) => api.Properties?.['BinaryMediaTypes'])).toEqual([['application/octet-stream']]);
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
    it.each(topology.functions.map((spec) => [spec.id, spec] as const))('%s runs nodejs22.x with its spec, its layers and tracing', (_id, spec: FunctionSpec) => {
      // Prepare
      const { template, stack } = synthesized;
      const fn = stack.functions.find((candidate) => candidate.spec.id === spec.id);
      const layerRefs = spec.layers.map((id) => ({ Ref: logicalId(stack.layers.find((layer) => layer.layerId === id)?.layerVersion.node.defaultChild) }));

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
            ...(spec.access.lake === undefined ? {} : { LAKE_BUCKET: { Ref: logicalId(stack.lake.bucket.node.defaultChild) } }),
          },
        },
      });
      expect(resource.Properties?.Layers).toEqual(layerRefs.length === 0 ? undefined : layerRefs);
      expect(resource.Properties?.EphemeralStorage).toEqual(spec.ephemeralStorageMb === undefined ? undefined : { Size: spec.ephemeralStorageMb });
    });

    it('publishes the onnxruntime and duckdb layers for nodejs22.x on x86_64, each once', () => {
      // Prepare
      const { template, stack } = synthesized;

      // Act
      const layers = template.findResources('AWS::Lambda::LayerVersion');

      // Assess
      expect(Object.keys(layers).sort()).toEqual(stack.layers.map((layer) => logicalId(layer.layerVersion.node.defaultChild)).sort());
      expect(stack.layers.map((layer) => layer.layerId).sort()).toEqual(['duckdb', 'onnxruntime']);
      for (const description of ['^onnxruntime-node \\d+\\.\\d+\\.\\d+ \\(linux/x64\\)$', '^@duckdb/node-api 1\\.5\\.5-r\\.5 \\(linux/x64\\)$']) {
        template.hasResourceProperties('AWS::Lambda::LayerVersion', {
          CompatibleRuntimes: ['nodejs22.x'],
          CompatibleArchitectures: ['x86_64'],
          Description: Match.stringLikeRegexp(description),
          LicenseInfo: 'MIT',
        });
      }
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

    it('keeps predict read-only on the registry table and the lake bucket, but for its serving counters and shadow copies', () => {
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
      expect(tableActions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
      // Its table writes: counters, in partitions whose key starts with STATS#, and async requests (ASYNC#).
      const tableWrites = statementsOn(statements, tableId).filter((statement) => actionsOf([statement]).some((action) => DYNAMODB_WRITE_ACTIONS.includes(action)));
      expect(tableWrites).toEqual([
        expect.objectContaining({
          Action: 'dynamodb:UpdateItem',
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['STATS#*'] },
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': expect.arrayContaining(['pk', 'sk', 'requests', 'flushes', 'expiresAt', 'l0', 'l63']) as unknown },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
          },
        }),
        expect.objectContaining({ Action: 'dynamodb:PutItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ASYNC#*'] } } }),
      ]);
      expect([...new Set(bucketActions)].sort()).toEqual(['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:PutObject']);
      // Its lake writes: shadow copies under shadow-requests/, async inputs and uploads under predictions/async/.
      expect(lakeKeyPatterns(statements, bucketId, 's3:PutObject').sort()).toEqual(['predictions/async/inputs/*', 'predictions/async/uploads/*', 'shadow-requests/*']);
      expect(actionsOf(statements).filter((action) => action.includes('*'))).toEqual([]);
      // Async requests: send to the async queue only.
      expect(actionsOf(statements).filter((action) => action.startsWith('sqs:')).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    });

    it('lets the shadow function read, and write only its comparison counts and side-by-side records', () => {
      // Prepare
      const { template, stack } = synthesized;
      const shadow = stack.functions.find((fn) => fn.spec.id === 'shadow');
      const tableId = logicalId(stack.registry.table.node.defaultChild);
      const bucketId = logicalId(stack.lake.bucket.node.defaultChild);

      // Act
      const statements = roleStatements(template, logicalId(shadow?.role.node.defaultChild));
      const writes = (resourceId: string, write: (action: string) => boolean) =>
        statementsOn(statements, resourceId).filter((statement) => actionsOf([statement]).some(write));

      // Assess
      expect(writes(tableId, (action) => DYNAMODB_WRITE_ACTIONS.includes(action))).toEqual([
        expect.objectContaining({
          Action: 'dynamodb:UpdateItem',
          Condition: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SHADOW#*'] },
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': expect.arrayContaining(['pk', 'sk', 'sources', 'copies', 'agreed']) as unknown },
            StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
          },
        }),
      ]);
      expect(writes(bucketId, (action) => action === 's3:PutObject' || action.startsWith('s3:Delete'))).toEqual([
        expect.objectContaining({ Action: 's3:PutObject', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/predictions/*/shadow/*']] } }),
      ]);
      // Its only event: announcing its SageMaker circuit breakers' transitions on the registry's bus.
      expect(actionsOf(statements).filter((action) => action.startsWith('events:'))).toEqual(['events:PutEvents']);
    });

    it('runs the rollout advancer every minute without reserved concurrency (overlapping runs are safe), and expires serving counters by TTL', () => {
      // Prepare
      const { template, stack } = synthesized;
      const rollouts = stack.functions.find((fn) => fn.spec.id === 'rollouts');
      const functionId = logicalId(rollouts?.function.node.defaultChild);

      // Act
      const rules = (Object.values(template.findResources('AWS::Events::Rule')) as CfnResourceJson[]).filter((rule) =>
        JSON.stringify(rule.Properties?.['Targets']).includes(`"${functionId}"`),
      );
      const resource = template.findResources('AWS::Lambda::Function')[functionId] as CfnResourceJson;

      // Assess
      expect(rules).toEqual([
        expect.objectContaining({
          Properties: expect.objectContaining({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED', Targets: [expect.objectContaining({ Arn: { 'Fn::GetAtt': [functionId, 'Arn'] } })] }),
        }),
      ]);
      expect(resource.Properties?.['ReservedConcurrentExecutions']).toBeUndefined();
      template.hasResourceProperties('AWS::DynamoDB::Table', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
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
            expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Prefix: 'raw/', Status: 'Enabled' }),
          ]),
        },
      });
    });

    it('never expires object versions under models/, which registered model versions pin', () => {
      // Prepare
      const { template, stack } = synthesized;

      // Act
      const bucket = template.findResources('AWS::S3::Bucket')[logicalId(stack.lake.bucket.node.defaultChild)] as CfnResourceJson;
      const rules = (bucket.Properties!['LifecycleConfiguration'] as { Rules: { Prefix?: string; NoncurrentVersionExpiration?: unknown; ExpirationInDays?: unknown }[] }).Rules;

      // Assess
      const expiring = rules.filter((rule) => rule.NoncurrentVersionExpiration !== undefined || rule.ExpirationInDays !== undefined);
      expect(expiring.length).toBeGreaterThan(0);
      expect(expiring.every((rule) => rule.Prefix !== undefined && rule.Prefix !== '' && !'models/'.startsWith(rule.Prefix) && !rule.Prefix.startsWith('models/'))).toBe(true);
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
          DeletionProtectionEnabled: true,
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
      // The DLQ keeps messages for SQS's maximum, well beyond the source queue (a message keeps its
      // first enqueue time when it moves), so nothing expires there before someone can redrive it.
      expect(queues[dlqId]?.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
      expect(spec.retentionDays).toBeLessThanOrEqual(7);
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

  describe('ingest (lake → SQS → ingest function)', () => {
    const ingestParts = (): {
      readonly template: Template;
      readonly stack: PlatformStack;
      readonly fn: PlatformFunction | undefined;
      readonly queueId: string;
      readonly bucketId: string;
    } => {
      const { template, stack } = synthesized;
      const queue = stack.queues.find((candidate) => candidate.queueId === 'ingest');
      return {
        template,
        stack,
        fn: stack.functions.find((candidate) => candidate.spec.id === 'ingest'),
        queueId: logicalId(queue?.queue.node.defaultChild),
        bucketId: logicalId(stack.lake.bucket.node.defaultChild),
      };
    };

    it('has S3 send ObjectCreated events under raw/ to the ingest queue, and nothing to a function', () => {
      // Prepare
      const { template, queueId, bucketId } = ingestParts();

      // Act
      const { properties } = bucketNotifications(template);
      const configuration = properties.NotificationConfiguration as { QueueConfigurations?: QueueConfigurationJson[]; LambdaFunctionConfigurations?: unknown };

      // Assess
      expect(properties.BucketName).toEqual({ Ref: bucketId });
      expect(configuration.QueueConfigurations?.filter((c) => JSON.stringify(c.QueueArn).includes(`"${queueId}"`))).toEqual([
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'raw/' }] } },
          QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        },
      ]);
      expect(configuration.LambdaFunctionConfigurations).toBeUndefined();
    });

    it('applies the notification only after the queue policy that lets S3 send exists', () => {
      // Prepare
      const { template, queueId } = ingestParts();
      const policyIds = Object.keys(template.findResources('AWS::SQS::QueuePolicy', { Properties: { Queues: [{ Ref: queueId }] } }));

      // Act
      const { dependsOn } = bucketNotifications(template);

      // Assess
      expect(policyIds).toHaveLength(1);
      expect(dependsOn).toEqual(expect.arrayContaining([queueId, ...policyIds]));
    });

    it('lets s3.amazonaws.com send to the ingest queue only for the lake bucket and only from this account', () => {
      // Prepare
      const { template, queueId, bucketId } = ingestParts();

      // Act
      const statements = s3ServiceStatements(queuePolicyStatements(template, queueId));
      const allows = statements.filter((statement) => statement.Effect === 'Allow');
      const denies = statements.filter((statement) => statement.Effect === 'Deny');

      // Assess
      expect(allows).toHaveLength(1);
      expect(allows[0]).toMatchObject({
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } } },
      });
      expect(actionsOf(allows).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
      expect(denies).toEqual([
        expect.objectContaining({
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
          Condition: { StringNotEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        }),
      ]);
    });

    it('gives S3 no access to the queues without lake notifications', () => {
      // Prepare
      const { template, stack } = synthesized;
      const others = stack.queues.filter((queue) => (queue.spec.lakeNotifications ?? []).length === 0);

      // Act
      const statements = others.flatMap((queue) => [queue.queue, queue.deadLetterQueue]).flatMap((queue) =>
        s3ServiceStatements(queuePolicyStatements(template, logicalId(queue.node.defaultChild))),
      );

      // Assess
      expect(others.length).toBeGreaterThan(0);
      expect(statements).toEqual([]);
    });

    it('triggers the ingest function from its queue one message at a time, with partial batch responses', () => {
      // Prepare
      const { template, fn, queueId } = ingestParts();

      // Act
      const mappings = (Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as CfnResourceJson[]).filter(
        (mapping) => (mapping.Properties?.EventSourceArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] === queueId,
      );

      // Assess
      expect(mappings.map((mapping) => mapping.Properties)).toEqual([
        expect.objectContaining({
          FunctionName: { Ref: logicalId(fn?.function.node.defaultChild) },
          EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
          BatchSize: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      ]);
    });

    it('gives the ingest function 10 GB of /tmp, 2 GB of memory, 15 minutes and the duckdb layer only', () => {
      // Prepare
      const { template, stack, fn } = ingestParts();
      const duckdb = stack.layers.find((layer) => layer.layerId === 'duckdb');

      // Act
      const resource = template.findResources('AWS::Lambda::Function')[logicalId(fn?.function.node.defaultChild)] as CfnResourceJson;

      // Assess
      expect(resource.Properties).toMatchObject({
        EphemeralStorage: { Size: 10_240 },
        MemorySize: 2048,
        Timeout: 900,
        Architectures: ['x86_64'],
        Layers: [{ Ref: logicalId(duckdb?.layerVersion.node.defaultChild) }],
      });
    });

    it('lets the ingest role read and write the lake, consume its queue and send auto-train jobs, but never delete', () => {
      // Prepare
      const { template, stack, fn, queueId, bucketId } = ingestParts();
      const trainingQueue = stack.queues.find((candidate) => candidate.queueId === 'training');

      // Act
      const statements = roleStatements(template, logicalId(fn?.role.node.defaultChild));
      const actions = actionsOf(statements);

      // Assess
      expect(actionsOf(statementsOn(statements, bucketId)).sort()).toEqual(
        ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket', 's3:PutObject'].sort(),
      );
      expect(actionsOf(statementsOn(statements, queueId)).sort()).toEqual(
        ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'].sort(),
      );
      expect(actions.filter((action) => action.startsWith('s3:Delete') || action === 's3:*')).toEqual([]);
      expect(actionsOf(statementsOn(statements, logicalId(trainingQueue?.queue.node.defaultChild))).sort()).toEqual(
        ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort(),
      );
      expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    });
  });

  describe('training (API or auto-train → SQS → train function)', () => {
    const trainingParts = () => {
      const { template, stack } = synthesized;
      const queue = stack.queues.find((candidate) => candidate.queueId === 'training');
      const fnOf = (id: string) => stack.functions.find((candidate) => candidate.spec.id === id);
      return { template, stack, fnOf, queueId: logicalId(queue?.queue.node.defaultChild) };
    };

    it('triggers the train function from the training queue one job at a time, with partial batch responses', () => {
      // Prepare
      const { template, fnOf, queueId } = trainingParts();

      // Act
      const mappings = (Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as CfnResourceJson[]).filter(
        (mapping) => (mapping.Properties?.EventSourceArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] === queueId,
      );

      // Assess
      expect(mappings.map((mapping) => mapping.Properties)).toEqual([
        expect.objectContaining({ FunctionName: { Ref: logicalId(fnOf('train')?.function.node.defaultChild) }, BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'] }),
      ]);
    });

    it('keeps a job message invisible longer than the train function may run', () => {
      // Prepare
      const { template, fnOf, queueId } = trainingParts();
      const fn = template.findResources('AWS::Lambda::Function')[logicalId(fnOf('train')?.function.node.defaultChild)] as CfnResourceJson;
      const queue = template.findResources('AWS::SQS::Queue')[queueId] as CfnResourceJson;

      // Assess
      expect(fn.Properties).toMatchObject({ MemorySize: TRAINING_MEMORY_MB, Timeout: 900 });
      expect(queue.Properties?.VisibilityTimeout as number).toBeGreaterThan(fn.Properties?.Timeout as number);
    });

    it('gives every function the code version that trained models record in their lineage', () => {
      // Prepare
      const { template } = trainingParts();

      // Act
      const functions = Object.values(template.findResources('AWS::Lambda::Function')) as CfnResourceJson[];
      const platformFunctions = functions.filter((fn) => (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME !== undefined);

      // Assess
      expect(platformFunctions.length).toBe(topology.functions.length);
      for (const fn of platformFunctions) {
        expect((fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables.CODE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
      }
    });

    it.each(['control-plane', 'ingest'])('lets %s send job messages to the training queue', (id) => {
      // Prepare
      const { template, fnOf, queueId } = trainingParts();

      // Act
      const statements = statementsOn(roleStatements(template, logicalId(fnOf(id)?.role.node.defaultChild)), queueId);

      // Assess
      expect(actionsOf(statements).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    });

    it('lets the train role consume the training queue and write the lake, but never send or delete', () => {
      // Prepare
      const { template, stack, fnOf, queueId } = trainingParts();
      const statements = roleStatements(template, logicalId(fnOf('train')?.role.node.defaultChild));

      // Act
      const actions = actionsOf(statements);

      // Assess
      expect(actionsOf(statementsOn(statements, queueId)).sort()).toEqual(
        ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'].sort(),
      );
      expect(actionsOf(statementsOn(statements, logicalId(stack.lake.bucket.node.defaultChild)))).toContain('s3:PutObject');
      expect(actions).not.toContain('sqs:SendMessage');
      expect(actions.filter((action) => action.startsWith('s3:Delete') || action.includes('*'))).toEqual([]);
    });
  });

  describe('registry events', () => {
    it('lets exactly the functions that write the registry, or announce registry events, publish to its event bus, and tells them its name', () => {
      // Prepare
      const { template, stack } = synthesized;
      const busId = logicalId(stack.registry.eventBus.node.defaultChild);

      // Act
      const byFunction = stack.functions.map((fn) => {
        const resource = template.findResources('AWS::Lambda::Function')[logicalId(fn.function.node.defaultChild)] as CfnResourceJson;
        const variables = (resource.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
        const publishes = actionsOf(statementsOn(roleStatements(template, logicalId(fn.role.node.defaultChild)), busId)).includes('events:PutEvents');
        return [fn.spec.id, publishes, variables.REGISTRY_EVENT_BUS !== undefined] as const;
      });

      // Assess
      template.resourceCountIs('AWS::Events::EventBus', 1);
      expect(byFunction).toEqual(
        topology.functions.map((spec) => {
          const publishes = spec.access.registry === 'readWrite' || spec.access.registryEvents === 'publish';
          return [spec.id, publishes, publishes] as const;
        }),
      );
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
        expect.arrayContaining([
          'ApiUrl',
          'ApiKeyId',
          'LakeBucketName',
          'RegistryTableName',
          'RegistryEventBusName',
          'TrainingQueueUrl',
          'TrainingDeadLetterQueueUrl',
          'IngestQueueUrl',
          'IngestDeadLetterQueueUrl',
        ]),
      );
      template.hasOutput('ApiKeyId', { Value: { Ref: Match.stringLikeRegexp('ApiKey') } });
    });
  });

  describe('batch scoring (API or drop under batch/ → batch queue → batch function → scoring queue → scoring function)', () => {
    const batchParts = () => {
      const { template, stack } = synthesized;
      const queueOf = (id: string) => stack.queues.find((candidate) => candidate.queueId === id);
      const fnOf = (id: string) => stack.functions.find((candidate) => candidate.spec.id === id);
      return { template, queueOf, fnOf, bucketId: logicalId(stack.lake.bucket.node.defaultChild) };
    };

    it('has a queue with a DLQ for jobs and one for chunks, the scoring trigger capped so batch cannot starve predict', () => {
      // Prepare
      const { template, queueOf, fnOf } = batchParts();
      const mappingOf = (queueId: string) =>
        (Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as CfnResourceJson[]).filter(
          (mapping) => (mapping.Properties?.EventSourceArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] === logicalId(queueOf(queueId)?.queue.node.defaultChild),
        );

      // Act
      const scoring = mappingOf('scoring').map((mapping) => mapping.Properties);
      const planning = mappingOf('batch').map((mapping) => mapping.Properties);

      // Assess
      expect(queueOf('batch')?.deadLetterQueue).toBeDefined();
      expect(queueOf('scoring')?.deadLetterQueue).toBeDefined();
      expect(scoring).toEqual([
        expect.objectContaining({
          FunctionName: { Ref: logicalId(fnOf('scoring')?.function.node.defaultChild) },
          BatchSize: 1,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          ScalingConfig: { MaximumConcurrency: 4 },
        }),
      ]);
      expect(planning).toEqual([expect.objectContaining({ FunctionName: { Ref: logicalId(fnOf('batch')?.function.node.defaultChild) }, ScalingConfig: { MaximumConcurrency: 2 } })]);
    });

    it('has S3 announce files dropped under batch/ on the batch queue', () => {
      // Prepare
      const { template, queueOf } = batchParts();
      const queueId = logicalId(queueOf('batch')?.queue.node.defaultChild);

      // Act
      const configuration = bucketNotifications(template).properties.NotificationConfiguration as { QueueConfigurations?: QueueConfigurationJson[] };

      // Assess
      expect(configuration.QueueConfigurations?.filter((c) => JSON.stringify(c.QueueArn).includes(`"${queueId}"`))).toEqual([
        { Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'batch/' }] } }, QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      ]);
    });

    it('lets the control plane send only plan messages, the batch function send chunks, and the scoring function only consume them', () => {
      // Prepare
      const { template, queueOf, fnOf } = batchParts();
      const sqsActions = (fn: string, queue: string) =>
        actionsOf(statementsOn(roleStatements(template, logicalId(fnOf(fn)?.role.node.defaultChild)), logicalId(queueOf(queue)?.queue.node.defaultChild))).sort();
      const send = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
      const consume = ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'];

      // Act
      const grants = {
        controlPlaneToBatch: sqsActions('control-plane', 'batch'),
        controlPlaneToScoring: sqsActions('control-plane', 'scoring'),
        batchToBatch: sqsActions('batch', 'batch'),
        batchToScoring: sqsActions('batch', 'scoring'),
        scoringToScoring: sqsActions('scoring', 'scoring'),
        scoringToBatch: sqsActions('scoring', 'batch'),
      };

      // Assess
      expect(grants).toEqual({
        controlPlaneToBatch: send.sort(),
        controlPlaneToScoring: [],
        batchToBatch: consume.sort(),
        batchToScoring: send.sort(),
        scoringToScoring: consume.sort(),
        scoringToBatch: [],
      });
    });

    it('covers the keys batch jobs read and write with their grants: parts and rejected rows under predictions/<model>/batch/, the combined output as a batch-<job> drop only', () => {
      // Prepare
      const access = (id: string) => topology.functions.find((spec) => spec.id === id)?.access.lake;
      const covered = (patterns: readonly string[] | undefined, key: string) => (patterns ?? []).some((pattern) => iamPatternMatches(pattern, key));
      const prefix = jobOutputPrefix('credit', '20261204120000000-0a1b2c3d');
      const keys = {
        dropped: 'batch/credit/prod/today.csv',
        part: partKey(prefix, 42, 'parquet'),
        rejected: rejectedPartKey(prefix, 42),
        combined: combinedKey('credit-predictions', '20261204120000000-0a1b2c3d', 'parquet'),
      };

      // Act
      const uses = [
        ['batch', 'read', keys.dropped, covered(access('batch')?.read, keys.dropped)],
        ['batch', 'read', rawKey('credit', 'credit.csv'), covered(access('batch')?.read, rawKey('credit', 'credit.csv'))],
        ['batch', 'read', curatedKey('credit', 1), covered(access('batch')?.read, curatedKey('credit', 1))],
        ['scoring', 'read', keys.dropped, covered(access('scoring')?.read, keys.dropped)],
        ['scoring', 'read', keys.part, covered(access('scoring')?.read, keys.part)],
        ['scoring', 'write', keys.part, covered(access('scoring')?.write, keys.part)],
        ['scoring', 'write', keys.rejected, covered(access('scoring')?.write, keys.rejected)],
        ['scoring', 'write', keys.combined, covered(access('scoring')?.write, keys.combined)],
      ] as const;

      // Assess
      expect(uses.filter(([, , , ok]) => !ok)).toEqual([]);
      expect(access('batch')?.write).toBeUndefined();
      expect(covered(access('scoring')?.write, rawKey('credit', 'credit.csv'))).toBe(false);
      expect(covered(access('scoring')?.write, curatedKey('credit', 1))).toBe(false);
      expect(covered(access('scoring')?.write, 'predictions/credit/shadow/prod/x.jsonl')).toBe(false);
    });
  });

  describe('lake grants by prefix', () => {
    const lakeUsers = topology.functions.filter((spec) => spec.access.lake !== undefined);

    it.each(lakeUsers.map((spec) => [spec.id, spec] as const))('%s reads and writes only the lake keys its topology names', (_id, spec) => {
      // Prepare
      const { template, stack } = synthesized;
      const fn = stack.functions.find((candidate) => candidate.spec.id === spec.id);
      const bucketId = logicalId(stack.lake.bucket.node.defaultChild);
      const telemetryWrites = [
        ...(spec.access.servingTelemetry === 'write' ? ['shadow-requests/*'] : []),
        ...(spec.access.shadowResults === 'write' ? ['predictions/*/shadow/*'] : []),
      ];

      // Act
      const statements = roleStatements(template, logicalId(fn?.role.node.defaultChild));

      // Assess
      expect(lakeKeyPatterns(statements, bucketId, 's3:GetObject')).toEqual([...(spec.access.lake?.read ?? [])].sort());
      expect(lakeKeyPatterns(statements, bucketId, 's3:GetObjectVersion')).toEqual([...(spec.access.lake?.read ?? [])].sort());
      expect(lakeKeyPatterns(statements, bucketId, 's3:PutObject')).toEqual([...(spec.access.lake?.write ?? []), ...telemetryWrites].sort());
      expect(lakeKeyPatterns(statements, bucketId, 's3:GetObject')).not.toContain('*');
      expect(lakeKeyPatterns(statements, bucketId, 's3:PutObject')).not.toContain('*');
    });

    it('lets predict read model artifacts only, and shadow model artifacts and shadow copies only: no dataset, nothing dropped under raw/', () => {
      // Prepare
      const { template, stack } = synthesized;
      const bucketId = logicalId(stack.lake.bucket.node.defaultChild);
      const reads = (id: string) => {
        const fn = stack.functions.find((candidate) => candidate.spec.id === id);
        return lakeKeyPatterns(roleStatements(template, logicalId(fn?.role.node.defaultChild)), bucketId, 's3:GetObject');
      };

      // Act
      const predict = reads('predict');
      const shadow = reads('shadow');

      // Assess
      // Async inference: predict checks uploads exist and signs links to results.
      expect(predict).toEqual(['models/*', 'predictions/async/results/*', 'predictions/async/uploads/*']);
      expect(shadow).toEqual(['models/*', 'shadow-requests/*']);
    });

    it('covers every key the code reads or writes with the grants of the function that does it, and no other zone', () => {
      // Prepare
      const keys = {
        dropped: rawKey('iris', 'iris.csv'),
        curated: curatedKey('iris', 3),
        rejected: rejectedKey('iris', 3),
        trained: trainedModelKey({ id: 'job~01JABC', spec: { modelName: 'iris' } } as Parameters<typeof trainedModelKey>[0], 2),
        // src/registry/control-plane-routes.ts: POST /models/{name}/uploads
        uploaded: 'models/iris/uploads/0f8fad5b-d9cb-469f-a165-70867728950e.onnx',
        shadowCopy: shadowRequestsKey('iris', new Date('2026-12-03T10:00:00Z'), 'container-1', 7),
      };
      const shadowRecord = shadowPredictionsKey(keys.shadowCopy, 'iris', 'prod');
      const access = (id: string) => topology.functions.find((spec) => spec.id === id)?.access.lake;
      const covered = (patterns: readonly string[] | undefined, key: string) => (patterns ?? []).some((pattern) => iamPatternMatches(pattern, key));

      // Act
      const uses: Array<[string, 'read' | 'write', string, boolean]> = [
        ['ingest', 'read', keys.dropped, covered(access('ingest')?.read, keys.dropped)],
        ['ingest', 'write', keys.curated, covered(access('ingest')?.write, keys.curated)],
        ['ingest', 'write', keys.rejected, covered(access('ingest')?.write, keys.rejected)],
        ['train', 'read', keys.curated, covered(access('train')?.read, keys.curated)],
        ['train', 'write', keys.trained, covered(access('train')?.write, keys.trained)],
        ['control-plane', 'write', keys.dropped, covered(access('control-plane')?.write, keys.dropped)],
        ['control-plane', 'write', keys.uploaded, covered(access('control-plane')?.write, keys.uploaded)],
        ['control-plane', 'read', keys.uploaded, covered(access('control-plane')?.read, keys.uploaded)],
        ['control-plane', 'read', keys.curated, covered(access('control-plane')?.read, keys.curated)],
        ['predict', 'read', keys.trained, covered(access('predict')?.read, keys.trained)],
        ['predict', 'read', keys.uploaded, covered(access('predict')?.read, keys.uploaded)],
        ['shadow', 'read', keys.trained, covered(access('shadow')?.read, keys.trained)],
        ['shadow', 'read', keys.shadowCopy, covered(access('shadow')?.read, keys.shadowCopy)],
      ];
      const strays: Array<[string, string]> = [
        ['predict', keys.dropped],
        ['predict', keys.curated],
        ['shadow', keys.dropped],
        ['train', keys.dropped],
        ['control-plane', keys.dropped],
      ];

      // Assess
      expect(uses.filter(([, , , ok]) => !ok)).toEqual([]);
      expect(strays.filter(([id, key]) => covered(access(id)?.read, key))).toEqual([]);
      expect(iamPatternMatches('predictions/*/shadow/*', shadowRecord)).toBe(true);
      expect(iamPatternMatches('shadow-requests/*', keys.shadowCopy)).toBe(true);
    });
  });

  describe('concurrency', () => {
    const triggers = topology.functions.flatMap((spec) => spec.queueTriggers.map((trigger) => ({ functionId: spec.id, trigger })));

    it.each(triggers.map(({ functionId, trigger }) => [functionId, trigger.queue, trigger] as const))(
      '%s takes at most its maxConcurrency from queue %s, without reserving any',
      (functionId, _queue, trigger) => {
        // Prepare
        const { template, stack } = synthesized;
        const fn = stack.functions.find((candidate) => candidate.spec.id === functionId);
        const queue = stack.queues.find((candidate) => candidate.queueId === trigger.queue);

        // Act
        const mappings = Object.values(
          template.findResources('AWS::Lambda::EventSourceMapping', {
            Properties: { FunctionName: { Ref: logicalId(fn?.function.node.defaultChild) }, EventSourceArn: { 'Fn::GetAtt': [logicalId(queue?.queue.node.defaultChild), 'Arn'] } },
          }),
        ) as CfnResourceJson[];

        // Assess
        expect(mappings.map((mapping) => mapping.Properties?.ScalingConfig)).toEqual([{ MaximumConcurrency: trigger.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY }]);
        expect(trigger.maxConcurrency ?? DEFAULT_MAX_CONCURRENCY).toBeGreaterThanOrEqual(2);
      },
    );

    it('reserves no concurrency by default, so the stack deploys on accounts with the minimum concurrency quota', () => {
      // Prepare
      const { template } = synthesized;

      // Act
      const functions = Object.values(template.findResources('AWS::Lambda::Function')) as CfnResourceJson[];

      // Assess
      expect(functions.filter((fn) => fn.Properties?.ReservedConcurrentExecutions !== undefined)).toEqual([]);
    });
  });

  describe('monitoring', () => {
    const alarmsOn = (template: Template, metricName: string, dimension: Record<string, unknown>) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: metricName, Dimensions: [dimension] } })) as CfnResourceJson[];

    it.each(topology.queues.map((spec) => [spec.id] as const))('alarms as soon as the %s dead-letter queue holds a message, to the alarm topic', (queueId) => {
      // Prepare
      const { template, stack } = synthesized;
      const dlq = stack.queues.find((queue) => queue.queueId === queueId)?.deadLetterQueue;
      const topicId = logicalId(stack.monitoring.alarmTopic.node.defaultChild);

      // Act
      const alarms = alarmsOn(template, 'ApproximateNumberOfMessagesVisible', { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(dlq?.node.defaultChild), 'QueueName'] } });

      // Assess
      expect(alarms.map((alarm) => alarm.Properties)).toEqual([
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          Statistic: 'Maximum',
          Period: 60,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          EvaluationPeriods: 1,
          AlarmActions: [{ Ref: topicId }],
          OKActions: [{ Ref: topicId }],
        }),
      ]);
    });

    it.each(topology.functions.map((spec) => [spec.id] as const))('alarms on errors and throttles of the %s function', (functionId) => {
      // Prepare
      const { template, stack } = synthesized;
      const fn = stack.functions.find((candidate) => candidate.spec.id === functionId);
      const dimension = { Name: 'FunctionName', Value: { Ref: logicalId(fn?.function.node.defaultChild) } };
      const topicId = logicalId(stack.monitoring.alarmTopic.node.defaultChild);

      // Act
      const alarms = [...alarmsOn(template, 'Errors', dimension), ...alarmsOn(template, 'Throttles', dimension)];

      // Assess
      expect(alarms.map((alarm) => alarm.Properties)).toEqual([
        expect.objectContaining({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [{ Ref: topicId }] }),
        expect.objectContaining({ Namespace: 'AWS/Lambda', MetricName: 'Throttles', Statistic: 'Sum', Period: 300, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', AlarmActions: [{ Ref: topicId }] }),
      ]);
    });

    it("alarms on the API stage's 5xx rate and p99 latency", () => {
      // Prepare
      const { template, stack } = synthesized;
      const topicId = logicalId(stack.monitoring.alarmTopic.node.defaultChild);
      const dimensions = Match.arrayWith([{ Name: 'Stage', Value: { Ref: logicalId(stack.api.stage.node.defaultChild) } }]);

      // Act + Assess
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/ApiGateway',
        MetricName: '5XXError',
        Dimensions: dimensions,
        Statistic: 'Average',
        Threshold: 0.05,
        EvaluationPeriods: 2,
        AlarmActions: [{ Ref: topicId }],
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/ApiGateway',
        MetricName: 'Latency',
        Dimensions: dimensions,
        ExtendedStatistic: 'p99',
        Threshold: 5000,
        EvaluationPeriods: 2,
        AlarmActions: [{ Ref: topicId }],
      });
      template.resourceCountIs('AWS::CloudWatch::Alarm', topology.queues.length + 2 + 2 * topology.functions.length);
    });

    it('sends alarms to a KMS-encrypted, TLS-only topic with no subscriber unless one is asked for, and exports it', () => {
      // Prepare
      const { template, stack } = synthesized;
      const keyId = logicalId(stack.monitoring.alarmTopicKey.node.defaultChild);

      // Act
      const subscriptions = template.findResources('AWS::SNS::Subscription');

      // Assess
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]) },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
      });
      expect(subscriptions).toEqual({});
      template.hasOutput('AlarmTopicArn', { Value: { Ref: logicalId(stack.monitoring.alarmTopic.node.defaultChild) } });
    });

    it('draws one dashboard of the API, every function, every queue and every dead-letter queue', () => {
      // Prepare
      const { template, stack } = synthesized;

      // Act
      const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as CfnResourceJson[];
      const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);

      // Assess
      expect(dashboards).toHaveLength(1);
      for (const construct of [
        stack.api.stage,
        ...stack.functions.map((fn) => fn.function),
        ...stack.queues.flatMap((queue) => [queue.queue, queue.deadLetterQueue]),
      ]) {
        expect(body).toContain(`"${logicalId(construct.node.defaultChild)}"`);
      }
    });
  });

  describe('synthesis', () => {
    it('has no cdk-nag acknowledgement that covers no finding (stale ones hide future findings)', () => {
      // Prepare
      const { app, nag } = synthesized;

      // Act
      const unused = unusedNagAcknowledgements(app, nag);

      // Assess
      expect(unused).toEqual([]);
    });

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
      expect(sources).toEqual(
        [...topology.functions.map(() => REPO_ROOT), path.join(REPO_ROOT, 'layers', 'onnxruntime'), path.join(REPO_ROOT, 'layers', 'duckdb')].sort(),
      );
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

describe('PlatformStack (triggers, notifications and layers from a larger topology)', () => {
  /**
   * The platform topology plus lake notifications on a second queue, the control plane sending to
   * it, and a queue-triggered worker that needs both layers.
   */
  const extended: Topology = {
    ...topology,
    queues: topology.queues.map((spec): QueueSpec =>
      spec.id === 'training' ? { ...spec, lakeNotifications: [{ prefix: 'exports/', suffix: '.json' }] } : spec,
    ),
    functions: [
      ...topology.functions.map((spec) =>
        spec.id === 'control-plane' ? { ...spec, access: { ...spec.access, queues: { training: 'send' as const } } } : spec,
      ),
      {
        id: 'training-worker',
        entry: 'functions/control-plane/handler.ts',
        description: 'test: queue-triggered',
        memoryMb: 3008,
        timeoutSeconds: 900,
        layers: ['onnxruntime', 'duckdb'],
        access: { registry: 'readWrite', lake: { read: ['curated/*'], write: ['models/*'] } },
        routes: [],
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
    expect(Object.keys(mappings)).toHaveLength(extended.functions.reduce((count, spec) => count + spec.queueTriggers.length + (spec.streamTriggers?.length ?? 0), 0));
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(worker?.function.node.defaultChild) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(queue?.queue.node.defaultChild), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('configures every queue\'s lake notifications on the one bucket, each queue open to S3 for this bucket only', () => {
    // Prepare
    const { template, stack } = synthesized;
    const bucketId = logicalId(stack.lake.bucket.node.defaultChild);
    const queueIds = new Map(stack.queues.map((queue) => [queue.queueId, logicalId(queue.queue.node.defaultChild)]));

    // Act
    const { properties } = bucketNotifications(template);
    const configurations = (properties.NotificationConfiguration as { QueueConfigurations: QueueConfigurationJson[] }).QueueConfigurations;

    // Assess
    expect(configurations).toEqual(
      expect.arrayContaining([
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'raw/' }] } },
          QueueArn: { 'Fn::GetAtt': [queueIds.get('ingest'), 'Arn'] },
        },
        {
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: expect.arrayContaining([
                { Name: 'prefix', Value: 'exports/' },
                { Name: 'suffix', Value: '.json' },
              ]) as unknown,
            },
          },
          QueueArn: { 'Fn::GetAtt': [queueIds.get('training'), 'Arn'] },
        },
      ]),
    );
    // Those two, and the other queues' own (shadow-requests/, batch/): one per notification of the topology.
    expect(configurations).toHaveLength(extended.queues.flatMap((spec) => spec.lakeNotifications ?? []).length);
    // Every queue S3 notifies (a queue without lake notifications gives S3 nothing: 'gives S3 no access…').
    const notified = extended.queues.filter((spec) => (spec.lakeNotifications ?? []).length > 0).map((spec) => queueIds.get(spec.id)!);
    for (const queueId of notified) {
      const statements = s3ServiceStatements(queuePolicyStatements(template, queueId));
      expect(statements.map((statement) => statement.Effect).sort()).toEqual(['Allow', 'Deny']);
      expect(JSON.stringify(statements.find((statement) => statement.Effect === 'Allow')?.Condition)).toContain(`"${bucketId}"`);
    }
  });

  it('attaches both layers to a function that names them', () => {
    // Prepare
    const { template, stack } = synthesized;
    const worker = stack.functions.find((fn) => fn.spec.id === 'training-worker');
    const layerRef = (id: string): { Ref: string } => ({
      Ref: logicalId(stack.layers.find((layer) => layer.layerId === id)?.layerVersion.node.defaultChild),
    });

    // Act
    const resource = template.findResources('AWS::Lambda::Function')[logicalId(worker?.function.node.defaultChild)] as CfnResourceJson;

    // Assess
    // Order-insensitive: with @aws-cdk/aws-lambda:recognizeLayerVersion CDK sorts a function's layers.
    expect(resource.Properties?.Layers).toEqual(expect.arrayContaining([layerRef('onnxruntime'), layerRef('duckdb')]));
    expect(resource.Properties?.Layers).toHaveLength(2);
    expect(Object.keys(template.findResources('AWS::Lambda::LayerVersion'))).toHaveLength(2);
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

describe('PlatformStack operator options', () => {
  let synthesized: Synthesized;

  beforeAll(() => {
    synthesized = synthesize(undefined, {
      alarmEmail: 'ops@example.com',
      alarms: { api5xxRateThreshold: 0.01, apiP99LatencyThresholdMs: 2000 },
      maxConcurrency: { training: 2 },
      reservedConcurrency: { predict: 50 },
    });
  });

  it('subscribes the alarm email to the alarm topic', () => {
    // Prepare
    const { template, stack } = synthesized;

    // Act + Assess
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalId(stack.monitoring.alarmTopic.node.defaultChild) },
    });
  });

  it('takes alarm thresholds, a queue consumer concurrency cap and reserved concurrency from the stack options', () => {
    // Prepare
    const { template, stack } = synthesized;
    const functionId = (id: string) => logicalId(stack.functions.find((fn) => fn.spec.id === id)?.function.node.defaultChild);

    // Act
    const functions = template.findResources('AWS::Lambda::Function') as Record<string, CfnResourceJson>;

    // Assess
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Threshold: 0.01 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Latency', Threshold: 2000 });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: functionId('train') }, ScalingConfig: { MaximumConcurrency: 2 } });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: functionId('ingest') }, ScalingConfig: { MaximumConcurrency: 5 } });
    expect(functions[functionId('predict')]?.Properties?.ReservedConcurrentExecutions).toBe(50);
    expect(Object.entries(functions).filter(([, fn]) => fn.Properties?.ReservedConcurrentExecutions !== undefined).map(([id]) => id)).toEqual([functionId('predict')]);
  });

  it('has no unacknowledged cdk-nag AwsSolutions errors or warnings', () => {
    // Prepare
    const { app, nag } = synthesized;

    // Act
    const report = nag.validateScope(app);

    // Assess
    expect(report.violations.map((violation) => violation.ruleName)).toEqual([]);
  });

  it.each([
    [{ reservedConcurrency: { nope: 1 } }, "reservedConcurrency names no function: 'nope'"],
    [{ maxConcurrency: { training: 1 } }, 'maxConcurrency must be an integer between 2 and 1000, got 1'],
    [{ alarmEmail: 'ops' }, "alarmEmail must be an email address, got 'ops'"],
    [{ alarms: { api5xxRateThreshold: 5 } }, 'api5xxRateThreshold must be in (0, 1], got 5'],
  ] as Array<[PlatformStackProps, string]>)('rejects %j naming the bad value', (props, message) => {
    expect(() => new PlatformStack(new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } }), 'Bad', props)).toThrow(message);
  });

  it("refuses a lake grant that is not scoped to a zone, and a queue whose DLQ would not outlive its messages", () => {
    // Prepare
    const { stack } = synthesized;
    const training = topology.queues.find((spec) => spec.id === 'training');
    const grantee = stack.functions[0]!.role;

    // Act + Assess
    expect(() => stack.lake.grantRead(grantee, ['*'])).toThrow("key patterns must start with a zone ('curated/*', 'models/*/uploads/*'), got '*'");
    expect(() => stack.lake.grantWrite(grantee, ['*/uploads/*'])).toThrow("got '*/uploads/*'");
    expect(() => new JobQueue(new Stack(), 'Queue', { spec: { ...training!, retentionDays: 14 } })).toThrow('retentionDays must be under');
    expect(() => new JobQueue(new Stack(), 'Queue', { spec: { ...training!, retentionDays: 7 }, deadLetterRetentionDays: 7 })).toThrow(
      'deadLetterRetentionDays must be an integer between 8 and 14, got 7',
    );
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
      ...withFunction({ layers: [], routes: [{ method: 'GET', path: '/x', auth: 'iam' }], timeoutSeconds: 120, queueTriggers: [{ queue: 'training', batchSize: 1, reportBatchItemFailures: true }] }),
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

  it.each([256, 10_241, 1024.5])('rejects ephemeralStorageMb %s with the bad value', (ephemeralStorageMb) => {
    // Prepare
    const badStorage = withFunction({ ephemeralStorageMb });

    // Act
    const act = (): Synthesized => synthesize(badStorage);

    // Assess
    expect(act).toThrow(`ephemeralStorageMb must be an integer between 512 and 10240, got ${ephemeralStorageMb}`);
  });

  const withNotifications = (notifications: Partial<Record<QueueSpec['id'], QueueSpec['lakeNotifications']>>): Topology => ({
    ...topology,
    queues: topology.queues.map((spec) => (notifications[spec.id] === undefined ? spec : { ...spec, lakeNotifications: notifications[spec.id] })),
  });

  it('rejects lake notifications of two queues that overlap, naming both (S3 would refuse them)', () => {
    // Prepare
    const overlapping = withNotifications({ training: [{ prefix: 'raw/csv/', suffix: '.csv' }] });

    // Act
    const act = (): Synthesized => synthesize(overlapping);

    // Assess
    expect(act).toThrow(/lake notifications overlap: queue 'training' \(prefix 'raw\/csv\/', suffix '.csv'\) and queue 'ingest' \(prefix 'raw\/', suffix ''\)/);
  });

  it('rejects overlapping lake notifications on one queue, and accepts disjoint suffixes under one prefix', () => {
    // Prepare
    const overlapping = withNotifications({ ingest: [{ prefix: 'raw/' }, { prefix: 'raw/', suffix: '.csv' }] });
    const disjoint = withNotifications({ ingest: [{ prefix: 'raw/', suffix: '.csv' }, { prefix: 'raw/', suffix: '.parquet' }] });

    // Act
    const actOverlapping = (): Synthesized => synthesize(overlapping);
    const { template } = synthesize(disjoint);

    // Assess
    expect(actOverlapping).toThrow(/lake notifications overlap: queue 'ingest' .* and queue 'ingest'/);
    const { properties } = bucketNotifications(template);
    // The two of the ingest queue, and the other queues' own (shadow-requests/, batch/).
    const others = topology.queues.filter((spec) => spec.id !== 'ingest').flatMap((spec) => spec.lakeNotifications ?? []).length;
    expect((properties.NotificationConfiguration as { QueueConfigurations: unknown[] }).QueueConfigurations).toHaveLength(2 + others);
  });

  it('rejects a lake notification without a prefix: the functions\' own lake writes would trigger it', () => {
    // Prepare
    const unfiltered = withNotifications({ ingest: [{ prefix: '', suffix: '.csv' }], shadow: [], batch: [] });

    // Act
    const act = (): Synthesized => synthesize(unfiltered);

    // Assess
    expect(act).toThrow(/notification to .*IngestQueue.* needs a key prefix/);
  });

  it('rejects a function whose layer was not given, naming it', () => {
    // Prepare
    const stack = new Stack(new App(), 'LayerCheck');
    const base = topology.functions.find((spec) => spec.id === 'ingest');
    if (base === undefined) throw new Error('topology has no ingest function');

    // Act
    const act = (): PlatformFunction =>
      new PlatformFunction(stack, 'Ingest', { spec: { ...base, access: {}, queueTriggers: [] }, codeVersion: 'test', layers: [] });

    // Assess
    expect(act).toThrow(/needs the duckdb layer but it is not among the given layers \[\]/);
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
