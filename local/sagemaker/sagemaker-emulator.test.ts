import { ApplicationAutoScalingClient, DeleteScalingPolicyCommand, DeregisterScalableTargetCommand, DescribeScalableTargetsCommand, PutScalingPolicyCommand, RegisterScalableTargetCommand } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DeleteAlarmsCommand, DescribeAlarmsCommand, PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateInferenceComponentCommand,
  CreateModelCommand,
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteInferenceComponentCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  DescribeEndpointConfigCommand,
  DescribeInferenceComponentCommand,
  DescribeModelCommand,
  SageMakerClient,
  UpdateInferenceComponentRuntimeConfigCommand,
  type DescribeEndpointCommandOutput,
  type ProductionVariantInstanceType,
  type DescribeInferenceComponentCommandOutput,
} from '@aws-sdk/client-sagemaker';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { execFile } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../emulators.js';
import { BINARY_CONTENT_TYPE } from './triton/oip-codec.js';
import { NO_CAPACITY_MESSAGE } from './runtime.js';
import { startSageMakerEmulator } from './server.js';

const RESNET = new URL('../../models/resnet_mini.onnx', import.meta.url).pathname;
const TRITON_IMAGE = '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3';
const ROLE = 'arn:aws:iam::000000000000:role/sagemaker-execution';
const BUCKET = 'lake';
const CONFIG = 'name: "resnet"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\ninput [ { name: "image" data_type: TYPE_FP32 dims: [ 3, 64, 64 ] } ]\n';
/** The model card's example image and its expected logits (models/resnet_mini.md). */
const IMAGE = Array.from({ length: 3 * 64 * 64 }, (_, i) => ((Math.floor(i / 4096) + 1) * Math.sin((Math.floor((i % 4096) / 64) + (i % 64)) / 10)) / 3);
const EXPECTED_LOGITS = [0.0072, 0.0019, 0.0789, 0.1061, 0.0892, 0.2466, 0.0304, 0.1551, -0.0588, 0.2549];

let env: TestEmulators;
let sagemaker: SageMakerClient;
let runtime: SageMakerRuntimeClient;
let scaling: ApplicationAutoScalingClient;
let cloudwatch: CloudWatchClient;
let emulator: string;
let workDir: string;

/** Packs a Triton model repository (`resnet/config.pbtxt`, `resnet/1/model.onnx`, or `files`) and uploads it. */
async function uploadArchive(key: string, files: Readonly<Record<string, string>> = { 'resnet/config.pbtxt': CONFIG }): Promise<string> {
  const dir = await mkdtemp(join(workDir, 'repo-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  if (files['resnet/config.pbtxt'] !== undefined) {
    await mkdir(join(dir, 'resnet', '1'), { recursive: true });
    await copyFile(RESNET, join(dir, 'resnet', '1', 'model.onnx'));
  }
  const archive = join(workDir, `${key.replaceAll('/', '-')}.tar.gz`);
  await promisify(execFile)('tar', ['-czf', archive, '-C', dir, '.']);
  await env.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(archive) }));
  return `s3://${BUCKET}/${key}`;
}

async function createModel(name: string, modelDataUrl: string): Promise<void> {
  await sagemaker.send(
    new CreateModelCommand({
      ModelName: name,
      ExecutionRoleArn: ROLE,
      PrimaryContainer: { Image: TRITON_IMAGE, ModelDataUrl: modelDataUrl, Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'resnet' } },
    }),
  );
}

/** Polls until `check` passes (the delays are short; the test's timeout bounds the wait). */
async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The error a call fails with (a call that succeeds fails the test). */
async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded');
}

const endpointStatus = (name: string) =>
  eventually(
    () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: name })),
    (e: DescribeEndpointCommandOutput) => e.EndpointStatus !== 'Creating' && e.EndpointStatus !== 'Updating',
  );

async function createEndpoint(name: string, modelName: string): Promise<DescribeEndpointCommandOutput> {
  await sagemaker.send(
    new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: modelName, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }] }),
  );
  await sagemaker.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
  return endpointStatus(name);
}

const jsonRequest = (batch = 1) => JSON.stringify({ id: '42', inputs: [{ name: 'image', datatype: 'FP32', shape: [batch, 3, 64, 64], data: Array.from({ length: batch }, () => IMAGE).flat() }] });

async function admin(path: string, method: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${emulator}/_emulator/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  expect(response.status).toBe(200);
  return response.json();
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'sagemaker-emulator-test-'));
  env = await startTestEmulators(undefined, { endpointCreateMs: 20, deleteMs: 20, componentCreateMs: 20, copyStartMs: 200, scaleInIdleMs: 3_600_000, instanceReplacementMs: 200 });
  emulator = env.emulators.endpoints.sagemaker;
  const config = { region: LOCAL_REGION, endpoint: emulator, credentials: LOCAL_CREDENTIALS };
  sagemaker = new SageMakerClient(config);
  runtime = new SageMakerRuntimeClient({ ...config, maxAttempts: 1 });
  scaling = new ApplicationAutoScalingClient(config);
  cloudwatch = new CloudWatchClient(config);
  await createModel('resnet', await uploadArchive('models/resnet/model.tar.gz'));
});

afterAll(async () => {
  [sagemaker, runtime, scaling, cloudwatch].forEach((client) => client?.destroy());
  await env?.stop();
  await rm(workDir, { recursive: true, force: true });
});

describe('SageMaker emulator: endpoints hosting Triton', () => {
  beforeAll(async () => {
    const endpoint = await createEndpoint('resnet-ep', 'resnet');
    expect(endpoint.EndpointStatus).toBe('InService');
  });

  it('describes what it created with SageMaker fields', async () => {
    // Act
    const model = await sagemaker.send(new DescribeModelCommand({ ModelName: 'resnet' }));
    const endpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'resnet-ep' }));

    // Assess
    expect(model.ModelArn).toBe('arn:aws:sagemaker:us-east-1:000000000000:model/resnet');
    expect(model.PrimaryContainer?.Environment).toEqual({ SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'resnet' });
    expect(endpoint.CreationTime).toBeInstanceOf(Date);
    expect(endpoint.ProductionVariants?.[0]).toMatchObject({ VariantName: 'AllTraffic', CurrentInstanceCount: 1, DeployedImages: [{ SpecifiedImage: TRITON_IMAGE }] });
  });

  it('answers an OIP v2 JSON request as Triton does, through InvokeEndpoint', async () => {
    // Act
    const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'resnet-ep', ContentType: 'application/json', Body: Buffer.from(jsonRequest(2)) }));

    // Assess
    expect(answer.ContentType).toBe('application/json');
    expect(answer.InvokedProductionVariant).toBe('AllTraffic');
    const body = JSON.parse(Buffer.from(answer.Body).toString('utf8')) as { id: string; model_name: string; model_version: string; outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(body).toMatchObject({ id: '42', model_name: 'resnet', model_version: '1', outputs: [{ name: 'logits', datatype: 'FP32', shape: [2, 10] }] });
    body.outputs[0]!.data.slice(0, 10).forEach((value, i) => expect(value).toBeCloseTo(EXPECTED_LOGITS[i]!, 4));
  });

  it('answers a binary request in kind: the JSON header size in the content type, then the raw output tensor', async () => {
    // Prepare
    const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 64, 64], parameters: { binary_data_size: IMAGE.length * 4 } }], outputs: [{ name: 'logits', parameters: { binary_data: true } }] }));
    const body = Buffer.concat([header, Buffer.from(new Float32Array(IMAGE).buffer)]);

    // Act
    const answer = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'resnet-ep', ContentType: `${BINARY_CONTENT_TYPE}${header.length}`, Body: body }));

    // Assess
    expect(answer.ContentType).toMatch(/^application\/vnd\.sagemaker-triton\.binary\+json;json-header-size=\d+$/);
    const size = Number(/json-header-size=(\d+)$/.exec(answer.ContentType ?? '')?.[1]);
    const bytes = Buffer.from(answer.Body);
    expect(JSON.parse(bytes.toString('utf8', 0, size))).toMatchObject({ outputs: [{ name: 'logits', datatype: 'FP32', shape: [1, 10], parameters: { binary_data_size: 40 } }] });
    const logits = new Float32Array(bytes.buffer.slice(bytes.byteOffset + size, bytes.byteOffset + size + 40));
    Array.from(logits).forEach((value, i) => expect(value).toBeCloseTo(EXPECTED_LOGITS[i]!, 4));
  });

  it("returns Triton's refusal as a ModelError carrying the container's status and message", async () => {
    // Prepare
    const wrongShape = JSON.stringify({ inputs: [{ name: 'image', datatype: 'FP32', shape: [1, 3, 2, 2], data: Array(12).fill(0) }] });

    // Act
    const error = await runtime.send(new InvokeEndpointCommand({ EndpointName: 'resnet-ep', ContentType: 'application/json', Body: Buffer.from(wrongShape) })).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ModelError);
    const modelError = error as ModelError;
    expect(modelError.$metadata.httpStatusCode).toBe(424);
    expect(modelError.OriginalStatusCode).toBe(400);
    expect(JSON.parse(modelError.OriginalMessage!)).toEqual({ error: "unexpected shape for input 'image' for model 'resnet'. Expected [-1,3,64,64], got [1,3,2,2]" });
    expect(modelError.message).toMatch(/^Received client error \(400\) from primary with message /);
    expect(modelError.LogStreamArn).toBe('arn:aws:logs:us-east-1:000000000000:log-group:/aws/sagemaker/Endpoints/resnet-ep');
  });

  it('injects faults: container errors, throttling, latency beyond the invocation timeout, a crash (the endpoint stays InService and its container is replaced)', async () => {
    // Prepare
    const invoke = () => runtime.send(new InvokeEndpointCommand({ EndpointName: 'resnet-ep', ContentType: 'application/json', Body: Buffer.from(jsonRequest()) })).catch((e: unknown) => e);

    // Act
    await admin('endpoints/resnet-ep/faults', 'PUT', { error: { status: 503, body: 'overloaded' } });
    const injected = (await invoke()) as ModelError;
    await admin('endpoints/resnet-ep/faults', 'PUT', { error: null, throttle: true });
    const throttled = (await invoke()) as Error & { $metadata: { httpStatusCode: number } };
    await admin('endpoints/resnet-ep/faults', 'PUT', { throttle: false, latencyMs: 500 });
    await admin('delays', 'PUT', { invocationTimeoutMs: 100 });
    const timedOut = (await invoke()) as ModelError;
    await admin('delays', 'PUT', { invocationTimeoutMs: 60_000 });
    await admin('endpoints/resnet-ep/faults', 'DELETE');
    await admin('endpoints/resnet-ep/crash', 'POST', { replaceAfterMs: 300 });
    const crashed = (await invoke()) as ModelError;
    const whileCrashed = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'resnet-ep' }));
    const recovered = await eventually(invoke, (answer) => !(answer instanceof Error));

    // Assess
    expect(injected).toBeInstanceOf(ModelError);
    expect([injected.OriginalStatusCode, injected.OriginalMessage]).toEqual([503, 'overloaded']);
    expect([throttled.name, throttled.$metadata.httpStatusCode]).toEqual(['ThrottlingException', 400]);
    expect([timedOut.name, timedOut.OriginalStatusCode]).toEqual(['ModelError', 0]);
    expect(timedOut.OriginalMessage).toMatch(/^Your invocation timed out while waiting for a response from container primary/);
    expect(crashed).toBeInstanceOf(ModelError);
    expect(crashed.OriginalStatusCode).toBe(0);
    expect(crashed.OriginalMessage).toMatch(/^Amazon SageMaker could not get a response from the resnet-ep endpoint/);
    expect(whileCrashed.EndpointStatus).toBe('InService');
    expect(recovered).toMatchObject({ InvokedProductionVariant: 'AllTraffic' });
  });

  it('refuses invalid faults with one line naming the field, as the other admin routes do', async () => {
    // Act
    const response = await fetch(`${emulator}/_emulator/endpoints/resnet-ep/faults`, { method: 'PUT', body: JSON.stringify({ error: { status: 200 }, latencyMs: -1 }) });

    // Assess
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: string };
    expect(error).not.toContain('\n');
    expect(error).toMatch(/^error\.status: .+; latencyMs: .+$/);
  });

  it("exposes each container's URL, whose /ping and /invocations answer like Triton's SageMaker server", async () => {
    // Act
    const listed = (await admin('endpoints', 'GET')) as { name: string; status: string }[];
    const { containers } = (await admin('endpoints/resnet-ep', 'GET')) as { containers: Record<string, { url: string; running: boolean }> };
    const url = containers['AllTraffic']!.url;
    const ping = await fetch(`${url}/ping`);
    const direct = await fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: jsonRequest() });
    const other = await fetch(`${url}/v2/models/resnet`);

    // Assess
    expect(listed).toContainEqual({ name: 'resnet-ep', status: 'InService' });
    expect(ping.status).toBe(200);
    expect(((await direct.json()) as { model_name: string }).model_name).toBe('resnet');
    expect(other.status).toBe(400);
  });
});

describe('SageMaker emulator: errors as SageMaker words them', () => {
  it('names missing resources by ARN and refuses duplicates and invalid names', async () => {
    // Act
    const errors = await Promise.all([
      failure(sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'Nope' }))),
      failure(sagemaker.send(new DeleteModelCommand({ ModelName: 'nope' }))),
      failure(sagemaker.send(new CreateEndpointCommand({ EndpointName: 'x', EndpointConfigName: 'nope' }))),
      failure(createModel('resnet', 's3://lake/x')),
      failure(sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'bad_name' }))),
      failure(runtime.send(new InvokeEndpointCommand({ EndpointName: 'nope', Body: Buffer.from('{}') }))),
    ]);

    // Assess
    expect(errors.map((e) => [e.name, e.message])).toEqual([
      ['ValidationException', 'Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/nope".'],
      ['ValidationException', 'Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/nope".'],
      ['ValidationException', 'Could not find endpoint configuration "arn:aws:sagemaker:us-east-1:000000000000:endpoint-config/nope".'],
      ['ValidationException', 'Cannot create already existing model "arn:aws:sagemaker:us-east-1:000000000000:model/resnet".'],
      ['ValidationException', "1 validation error detected: Value 'bad_name' at 'endpointName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"],
      ['ValidationError', 'Endpoint nope of account 000000000000 not found.'],
    ]);
    expect(errors[5]).toBeInstanceOf(ValidationError);
  });

  it('refuses an endpoint configuration whose instance type SageMaker does not have, with the enum constraint', async () => {
    // Act
    const error = await failure(
      sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'typo', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'resnet', InstanceType: 'ml.nonexistent.xlarge' as ProductionVariantInstanceType, InitialInstanceCount: 1 }] })),
    );

    // Assess
    expect(error.name).toBe('ValidationException');
    const enumSet = /^1 validation error detected: Value 'ml\.nonexistent\.xlarge' at 'productionVariants\.1\.member\.instanceType' failed to satisfy constraint: Member must satisfy enum value set: \[(.+)\]$/.exec(error.message)?.[1];
    expect(enumSet?.split(', ')).toEqual(expect.arrayContaining(['ml.g5.xlarge', 'ml.m5.large', 'ml.p4d.24xlarge']));
    expect(await failure(sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: 'typo' })))).toMatchObject({ name: 'ValidationException' });
  });

  it('fails an endpoint whose model archive is missing or not a Triton repository, with the reason', async () => {
    // Prepare
    await createModel('missing-archive', 's3://lake/models/none/model.tar.gz');
    await createModel('not-triton', await uploadArchive('models/flat/model.tar.gz', { 'config.pbtxt': 'platform: "onnxruntime_onnx"' }));

    // Act
    const [missing, flat] = await Promise.all([createEndpoint('missing-ep', 'missing-archive'), createEndpoint('flat-ep', 'not-triton')]);

    // Assess
    expect([missing.EndpointStatus, missing.FailureReason]).toEqual([
      'Failed',
      'Failed to download model data(bucket: lake, key: models/none/model.tar.gz). Please ensure that there is an object located at the URL and that the role passed to CreateModel has permissions to download the model.',
    ]);
    expect(flat.EndpointStatus).toBe('Failed');
    expect(flat.FailureReason).toBe(
      'The primary container for production variant AllTraffic did not pass the ping health check. Please check CloudWatch logs for this endpoint. (Triton: Incorrect directory structure. Model directory needs to contain the top level folder)',
    );
  });

  it('deletes an endpoint: Deleting, then gone', async () => {
    // Prepare
    await sagemaker.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'short-lived', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'resnet', ServerlessConfig: { MemorySizeInMB: 2048, MaxConcurrency: 1 } }] }));
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: 'short-lived', EndpointConfigName: 'short-lived' }));
    expect((await endpointStatus('short-lived')).EndpointStatus).toBe('InService');

    // Act
    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'short-lived' }));
    const deleting = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'short-lived' }));
    const gone = await eventually(
      () => sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'short-lived' })).catch((e: Error) => e),
      (answer) => answer instanceof Error,
    );
    await sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: 'short-lived' }));

    // Assess
    expect(deleting.EndpointStatus).toBe('Deleting');
    expect((gone as Error).message).toBe('Could not find endpoint "arn:aws:sagemaker:us-east-1:000000000000:endpoint/short-lived".');
  });
});

describe('SageMaker emulator: inference components that scale to zero', () => {
  const componentName = 'resnet-ic';
  const resourceId = `inference-component/${componentName}`;
  const dimension = 'sagemaker:inference-component:DesiredCopyCount';
  const invoke = () =>
    runtime.send(new InvokeEndpointCommand({ EndpointName: 'ic-ep', InferenceComponentName: componentName, ContentType: 'application/json', Body: Buffer.from(jsonRequest()) })).catch((e: unknown) => e);
  const component = () => sagemaker.send(new DescribeInferenceComponentCommand({ InferenceComponentName: componentName }));
  const archiveKey = 'models/resnet-ic/model.tar.gz';
  const alarmState = async () => (await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['resnet-ic-wake'] }))).MetricAlarms?.[0]?.StateValue;
  /** The wake alarm: any no-capacity failure in a period runs the step policy. */
  const putWakeAlarm = (policyArn: string, period: number, treatMissingData: string) =>
    cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: 'resnet-ic-wake',
        MetricName: 'NoCapacityInvocationFailures',
        Namespace: 'AWS/SageMaker',
        Statistic: 'Maximum',
        Dimensions: [{ Name: 'InferenceComponentName', Value: componentName }],
        Period: period,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: treatMissingData,
        AlarmActions: [policyArn],
      }),
    );
  let wakePolicyArn: string;

  beforeAll(async () => {
    await createModel('resnet-ic', await uploadArchive(archiveKey));
    await sagemaker.send(
      new CreateEndpointConfigCommand({
        EndpointConfigName: 'ic-ep',
        ExecutionRoleArn: ROLE,
        ProductionVariants: [{ VariantName: 'AllTraffic', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1, ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 1 }, RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' } }],
      }),
    );
    await sagemaker.send(new CreateEndpointCommand({ EndpointName: 'ic-ep', EndpointConfigName: 'ic-ep' }));
    expect((await endpointStatus('ic-ep')).EndpointStatus).toBe('InService');
  });

  it('refuses a component created at zero copies', async () => {
    // Act
    const error = await failure(
      sagemaker.send(new CreateInferenceComponentCommand({ InferenceComponentName: 'zero', EndpointName: 'ic-ep', VariantName: 'AllTraffic', Specification: { ModelName: 'resnet', ComputeResourceRequirements: { MinMemoryRequiredInMb: 1024 } }, RuntimeConfig: { CopyCount: 0 } })),
    );

    // Assess
    expect([error.name, error.message]).toEqual(['ValidationException', "1 validation error detected: Value '0' at 'runtimeConfig.copyCount' failed to satisfy constraint: Member must have value greater than or equal to 1"]);
  });

  it('serves with a copy, answers "no capacity" at zero copies, and the alarm on NoCapacityInvocationFailures wakes it through its step-scaling policy', async () => {
    // Prepare
    await sagemaker.send(
      new CreateInferenceComponentCommand({ InferenceComponentName: componentName, EndpointName: 'ic-ep', VariantName: 'AllTraffic', Specification: { ModelName: 'resnet-ic', ComputeResourceRequirements: { MinMemoryRequiredInMb: 1024, NumberOfAcceleratorDevicesRequired: 1 } }, RuntimeConfig: { CopyCount: 1 } }),
    );
    const created = await eventually(component, (c: DescribeInferenceComponentCommandOutput) => c.InferenceComponentStatus !== 'Creating');
    await scaling.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dimension, MinCapacity: 0, MaxCapacity: 2 }));
    const { PolicyARN } = await scaling.send(
      new PutScalingPolicyCommand({
        PolicyName: 'wake',
        ServiceNamespace: 'sagemaker',
        ResourceId: resourceId,
        ScalableDimension: dimension,
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', MetricAggregationType: 'Maximum', Cooldown: 60, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }] },
      }),
    );
    wakePolicyArn = PolicyARN!;
    await putWakeAlarm(wakePolicyArn, 30, 'missing');
    const served = await invoke();

    // Act
    await sagemaker.send(new UpdateInferenceComponentRuntimeConfigCommand({ InferenceComponentName: componentName, DesiredRuntimeConfig: { CopyCount: 0 } }));
    const refused = (await invoke()) as ValidationError;
    const alarm = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['resnet-ic-wake'] }));
    const waking = await component();
    const emptyEndpoint = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: 'ic-ep' }));
    const woken = await eventually(invoke, (answer) => !(answer instanceof Error));

    // Assess
    expect([created.InferenceComponentStatus, created.RuntimeConfig]).toEqual(['InService', { DesiredCopyCount: 1, CurrentCopyCount: 1 }]);
    expect(served).toMatchObject({ InvokedProductionVariant: 'AllTraffic', ContentType: 'application/json' });
    expect(refused).toBeInstanceOf(ValidationError);
    expect([refused.$metadata.httpStatusCode, refused.message]).toEqual([400, NO_CAPACITY_MESSAGE]);
    expect(alarm.MetricAlarms?.[0]?.StateValue).toBe('ALARM');
    expect(waking.RuntimeConfig).toEqual({ DesiredCopyCount: 1, CurrentCopyCount: 0 });
    expect(emptyEndpoint.ProductionVariants?.[0]?.CurrentInstanceCount).toBe(0);
    expect(woken).toMatchObject({ InvokedProductionVariant: 'AllTraffic' });
  });

  it('scales an idle component in to zero when a target-tracking policy may and its minimum is 0', async () => {
    // Prepare
    await scaling.send(
      new PutScalingPolicyCommand({
        PolicyName: 'track',
        ServiceNamespace: 'sagemaker',
        ResourceId: resourceId,
        ScalableDimension: dimension,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 5, CustomizedMetricSpecification: { MetricName: 'ConcurrentRequestsPerCopy', Namespace: 'AWS/SageMaker', Statistic: 'Average', Dimensions: [{ Name: 'InferenceComponentName', Value: componentName }] } },
      }),
    );

    // Act
    await admin('delays', 'PUT', { scaleInIdleMs: 0 });
    const scaledIn = await eventually(component, (c) => c.RuntimeConfig?.CurrentCopyCount === 0);
    await admin('delays', 'PUT', { scaleInIdleMs: 3_600_000 });
    const targets = await scaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker', ResourceIds: [resourceId] }));

    // Assess
    expect(scaledIn.RuntimeConfig).toEqual({ DesiredCopyCount: 0, CurrentCopyCount: 0 });
    expect(targets.ScalableTargets?.map((t) => [t.ResourceId, t.MinCapacity, t.MaxCapacity])).toEqual([[resourceId, 0, 2]]);
  });

  it('keeps waking a component: a copy still starting is not scaled in, the alarm runs the step policy again each period it stays in ALARM, a copy that fails to start starts again', async () => {
    // Prepare: the alarm evaluated every 2 s (no failure in a period: OK), idle components scaled in after 300 ms, copies starting in 2 s
    await putWakeAlarm(wakePolicyArn, 2, 'notBreaching');
    await admin('delays', 'PUT', { scaleInIdleMs: 300, copyStartMs: 2_000 });
    const setCopies = (copies: number) => sagemaker.send(new UpdateInferenceComponentRuntimeConfigCommand({ InferenceComponentName: componentName, DesiredRuntimeConfig: { CopyCount: copies } }));
    const served = (answer: unknown) => !(answer instanceof Error);
    await eventually(alarmState, (state) => state === 'OK');
    await setCopies(0);

    // Act: one call at zero copies, then none for longer than the idle time while the copy starts
    const refused = await invoke();
    const starting = await component();
    const started = await eventually(component, (c) => c.RuntimeConfig?.CurrentCopyCount === 1);

    // Act: left at zero copies while its alarm is in ALARM, then called until it answers (every failed call keeps the alarm in ALARM)
    await admin('delays', 'PUT', { scaleInIdleMs: 3_600_000, copyStartMs: 500 });
    await setCopies(0);
    await eventually(alarmState, (state) => state === 'OK');
    await invoke();
    await setCopies(0);
    const stuck = [(await component()).RuntimeConfig, await alarmState()];
    const rewoken = await eventually(invoke, served);

    // Act: woken while its archive is broken, then repaired
    await setCopies(0);
    await env.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: archiveKey, Body: 'not a tar.gz' }));
    await eventually(alarmState, (state) => state === 'OK');
    await invoke();
    const failing = await eventually(component, (c) => c.FailureReason !== undefined);
    await uploadArchive(archiveKey);
    const repaired = await eventually(invoke, served);
    const afterRepair = await component();

    // Assess
    expect(refused).toBeInstanceOf(ValidationError);
    expect(starting.RuntimeConfig).toEqual({ DesiredCopyCount: 1, CurrentCopyCount: 0 });
    expect(started.RuntimeConfig).toEqual({ DesiredCopyCount: 1, CurrentCopyCount: 1 });
    expect(stuck).toEqual([{ DesiredCopyCount: 0, CurrentCopyCount: 0 }, 'ALARM']);
    expect(rewoken).toMatchObject({ InvokedProductionVariant: 'AllTraffic' });
    expect([failing.InferenceComponentStatus, failing.RuntimeConfig]).toEqual(['InService', { DesiredCopyCount: 1, CurrentCopyCount: 0 }]);
    expect(failing.FailureReason).toMatch(/^Failed to extract model data archive from URL "s3:\/\/lake\/models\/resnet-ic\/model\.tar\.gz"/);
    expect(repaired).toMatchObject({ InvokedProductionVariant: 'AllTraffic' });
    expect(afterRepair.FailureReason).toBeUndefined();
  }, 60_000);

  it('tears down: policies, target, alarm, component (the endpoint refuses deletion while it hosts one), endpoint', async () => {
    // Act
    const refused = await failure(sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'ic-ep' })));
    await scaling.send(new DeleteScalingPolicyCommand({ PolicyName: 'wake', ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dimension }));
    await scaling.send(new DeregisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dimension }));
    const again = await failure(scaling.send(new DeregisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: resourceId, ScalableDimension: dimension })));
    await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: ['resnet-ic-wake'] }));
    await sagemaker.send(new DeleteInferenceComponentCommand({ InferenceComponentName: componentName }));
    await eventually(() => component().catch((e: Error) => e), (answer) => answer instanceof Error);
    await sagemaker.send(new DeleteEndpointCommand({ EndpointName: 'ic-ep' }));

    // Assess
    expect(refused.name).toBe('ValidationException');
    expect([again.name, again.message]).toEqual([
      'ObjectNotFoundException',
      `No scalable target registered for service namespace: sagemaker, resource ID: ${resourceId}, scalable dimension: ${dimension}`,
    ]);
    expect((await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: ['resnet-ic-wake'] }))).MetricAlarms).toEqual([]);
  });
});

describe('SageMaker emulator: extracted model archives', () => {
  it("removes a model's extracted archive once no container uses it: its endpoint deleted, or failed", async () => {
    // Prepare
    const stateDir = await mkdtemp(join(workDir, 'archives-'));
    const own = await startSageMakerEmulator({ port: 0, region: LOCAL_REGION, s3: env.s3, stateDir, delays: { endpointCreateMs: 20, deleteMs: 20 } });
    const client = new SageMakerClient({ region: LOCAL_REGION, endpoint: own.endpoint, credentials: LOCAL_CREDENTIALS });
    const extracted = (model: string) => access(join(stateDir, 'models', model)).then(() => true, () => false);
    const deploy = async (name: string, modelDataUrl: string) => {
      await client.send(new CreateModelCommand({ ModelName: name, ExecutionRoleArn: ROLE, PrimaryContainer: { Image: TRITON_IMAGE, ModelDataUrl: modelDataUrl } }));
      await client.send(new CreateEndpointConfigCommand({ EndpointConfigName: name, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: name, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }] }));
      await client.send(new CreateEndpointCommand({ EndpointName: name, EndpointConfigName: name }));
      return eventually(() => client.send(new DescribeEndpointCommand({ EndpointName: name })), (e) => e.EndpointStatus !== 'Creating');
    };
    const unloadable = await uploadArchive('models/unloadable/model.tar.gz', { 'config.pbtxt': 'platform: "onnxruntime_onnx"' });
    try {
      // Act
      const [served, failed] = await Promise.all([deploy('served', `s3://${BUCKET}/models/resnet/model.tar.gz`), deploy('unloadable', unloadable)]);
      const whileServing = await extracted('served');
      await client.send(new DeleteEndpointCommand({ EndpointName: 'served' }));
      const afterDeletion = await eventually(() => extracted('served'), (present) => !present);
      const afterFailure = await eventually(() => extracted('unloadable'), (present) => !present);

      // Assess
      expect([served.EndpointStatus, failed.EndpointStatus]).toEqual(['InService', 'Failed']);
      expect([whileServing, afterDeletion, afterFailure]).toEqual([true, false, false]);
    } finally {
      client.destroy();
      await own.close();
    }
  });
});

describe('SageMaker emulator: a restart', () => {
  it('keeps its resources: what was in service is in service again and answers once its container runs', async () => {
    // Prepare
    const stateDir = await mkdtemp(join(workDir, 'restart-'));
    const start = () => startSageMakerEmulator({ port: 0, region: LOCAL_REGION, s3: env.s3, stateDir, delays: { endpointCreateMs: 20 } });
    const first = await start();
    const client = (endpoint: string) => new SageMakerClient({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS });
    const before = client(first.endpoint);
    await before.send(new CreateModelCommand({ ModelName: 'kept', ExecutionRoleArn: ROLE, PrimaryContainer: { Image: TRITON_IMAGE, ModelDataUrl: 's3://lake/models/resnet/model.tar.gz' } }));
    await before.send(new CreateEndpointConfigCommand({ EndpointConfigName: 'kept', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'kept', InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }] }));
    await before.send(new CreateEndpointCommand({ EndpointName: 'kept', EndpointConfigName: 'kept' }));
    await eventually(() => before.send(new DescribeEndpointCommand({ EndpointName: 'kept' })), (e) => e.EndpointStatus === 'InService');
    const beforeTargets = new ApplicationAutoScalingClient({ region: LOCAL_REGION, endpoint: first.endpoint, credentials: LOCAL_CREDENTIALS });
    await beforeTargets.send(new RegisterScalableTargetCommand({ ServiceNamespace: 'sagemaker', ResourceId: 'endpoint/kept/variant/AllTraffic', ScalableDimension: 'sagemaker:variant:DesiredInstanceCount', MinCapacity: 1, MaxCapacity: 2 }));
    before.destroy();
    beforeTargets.destroy();
    await first.close();

    // Act
    const second = await start();
    const after = client(second.endpoint);
    const afterRuntime = new SageMakerRuntimeClient({ region: LOCAL_REGION, endpoint: second.endpoint, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const afterTargets = new ApplicationAutoScalingClient({ region: LOCAL_REGION, endpoint: second.endpoint, credentials: LOCAL_CREDENTIALS });
    try {
      const endpoint = await after.send(new DescribeEndpointCommand({ EndpointName: 'kept' }));
      const answer = await eventually(
        () => afterRuntime.send(new InvokeEndpointCommand({ EndpointName: 'kept', ContentType: 'application/json', Body: Buffer.from(jsonRequest()) })).catch((e: unknown) => e),
        (result) => !(result instanceof Error),
      );
      const targets = await afterTargets.send(new DescribeScalableTargetsCommand({ ServiceNamespace: 'sagemaker' }));

      // Assess
      expect(endpoint.EndpointStatus).toBe('InService');
      expect(answer).toMatchObject({ InvokedProductionVariant: 'AllTraffic', ContentType: 'application/json' });
      expect(targets.ScalableTargets?.map((t) => t.ResourceId)).toEqual(['endpoint/kept/variant/AllTraffic']);
    } finally {
      [after, afterRuntime, afterTargets].forEach((c) => c.destroy());
      await second.close();
    }
  });
});
