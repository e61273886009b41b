/**
 * The deployer against mocked SageMaker, Application Auto Scaling and CloudWatch clients
 * (aws-sdk-client-mock): the calls it makes for each shape of backend, as the SDK's input shapes
 * have them; how it carries on after a crash or a race (resources that exist, creates that find
 * them); SageMaker's failure reasons; the order of a teardown; and throttling, which it passes on.
 */
import {
  ApplicationAutoScalingClient,
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  ObjectNotFoundException,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
} from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient, DeleteAlarmsCommand, PutMetricAlarmCommand, ResourceNotFound } from '@aws-sdk/client-cloudwatch';
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
} from '@aws-sdk/client-sagemaker';
import { mockClient } from 'aws-sdk-client-mock';
import type { SinonSpyCall } from 'sinon';
import { beforeEach, describe, expect, it } from 'vitest';
import type { SageMakerBackend } from '../registry/types.js';
import { SageMakerDeployer, type DeploymentTarget } from './deployer.js';
import { versionResourceNames } from './names.js';
import { isTransient } from './state-machine.js';
import type { ServingPackage } from './triton-package.js';

const sagemaker = mockClient(SageMakerClient);
const autoScaling = mockClient(ApplicationAutoScalingClient);
const cloudWatch = mockClient(CloudWatchClient);
const deployer = new SageMakerDeployer(
  { sagemaker: new SageMakerClient({}), autoScaling: new ApplicationAutoScalingClient({}), cloudWatch: new CloudWatchClient({}) },
  {
    executionRoleArn: 'arn:aws:iam::123456789012:role/sap-sagemaker',
    tritonImageUri: '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3',
    tritonCpuImageUri: '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3-cpu',
  },
);
const names = versionResourceNames('sap', 'resnet', 2);
const servingPackage: ServingPackage = { bucket: 'lake', key: 'models/resnet/serving/v2/model.tar.gz', uri: 's3://lake/models/resnet/serving/v2/model.tar.gz', tritonModelName: 'resnet' };
const target = (backend: SageMakerBackend): DeploymentTarget => ({ names, backend, modelBytes: 600 * 1024 ** 2 });
const TO_ZERO: SageMakerBackend = { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 0, maxInstances: 2 };
const INSTANCES: SageMakerBackend = { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 1, maxInstances: 1 };

const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
const notFound = (what: string) => validation(`Could not find ${what} "${names.base}".`);

beforeEach(() => {
  sagemaker.reset().onAnyCommand().resolves({});
  autoScaling.reset().onAnyCommand().resolves({});
  cloudWatch.reset().onAnyCommand().resolves({});
  sagemaker.on(DescribeEndpointCommand).rejects(notFound('endpoint'));
  sagemaker.on(DescribeModelCommand).rejects(notFound('model'));
  sagemaker.on(DescribeEndpointConfigCommand).rejects(notFound('endpoint configuration'));
  sagemaker.on(DescribeInferenceComponentCommand).rejects(notFound('inference component'));
  autoScaling.on(PutScalingPolicyCommand).callsFake((input: { PolicyName: string }) => ({ PolicyARN: `arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1:resource/sagemaker/x:policyName/${input.PolicyName}` }));
});

/** The names of the commands sent so far, across the three clients, in the order they were sent. */
function commandsSent(): string[] {
  const calls: SinonSpyCall<[object]>[] = [...sagemaker.calls(), ...autoScaling.calls(), ...cloudWatch.calls()];
  return calls.sort((a, b) => (a.calledBefore(b) ? -1 : 1)).map((call) => call.args[0].constructor.name.replace(/Command$/, ''));
}

describe('deploying on instances', () => {
  it('creates the model (Triton, the package, the default model), the configuration and the endpoint, then follows it to InService', async () => {
    // Act
    const first = await deployer.deploy(target(INSTANCES), servingPackage);
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: names.endpoint, EndpointStatus: 'Creating' });
    const second = await deployer.deploy(target(INSTANCES), servingPackage);
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: names.endpoint, EndpointStatus: 'InService' });
    const third = await deployer.deploy(target(INSTANCES), servingPackage);

    // Assess
    expect([first, second, third]).toEqual([
      { state: 'DEPLOYING', reason: 'creating the endpoint' },
      { state: 'DEPLOYING', reason: 'the endpoint is Creating' },
      { state: 'IN_SERVICE' },
    ]);
    expect(sagemaker.commandCalls(CreateModelCommand)[0]!.args[0].input).toEqual({
      ModelName: names.model,
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/sap-sagemaker',
      PrimaryContainer: {
        Image: '785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3',
        ModelDataUrl: 's3://lake/models/resnet/serving/v2/model.tar.gz',
        Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: 'resnet' },
      },
    });
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: names.endpointConfig,
      ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: names.model, InstanceType: 'ml.g5.xlarge', InitialInstanceCount: 1 }],
    });
    expect(sagemaker.commandCalls(CreateEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: names.endpoint, EndpointConfigName: names.endpointConfig });
    expect(sagemaker.commandCalls(CreateEndpointCommand)).toHaveLength(1);
    expect(autoScaling.calls()).toHaveLength(0);
  });

  it('scales between more than one instance by invocations per instance', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: names.endpoint, EndpointStatus: 'InService' });

    // Act
    const progress = await deployer.deploy(target({ ...INSTANCES, minInstances: 1, maxInstances: 4 }), servingPackage);

    // Assess
    expect(progress).toEqual({ state: 'IN_SERVICE' });
    expect(autoScaling.commandCalls(RegisterScalableTargetCommand)[0]!.args[0].input).toEqual({
      ServiceNamespace: 'sagemaker',
      ResourceId: `endpoint/${names.endpoint}/variant/AllTraffic`,
      ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      MinCapacity: 1,
      MaxCapacity: 4,
    });
    expect(autoScaling.commandCalls(PutScalingPolicyCommand)[0]!.args[0].input).toMatchObject({
      PolicyName: names.trackingPolicy,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' } },
    });
    expect(cloudWatch.calls()).toHaveLength(0);
  });

  it('fails with the endpoint’s FailureReason', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: names.endpoint, EndpointStatus: 'Failed', FailureReason: 'The primary container for production variant AllTraffic did not pass the ping health check.' });

    // Act
    const progress = await deployer.deploy(target(INSTANCES), servingPackage);

    // Assess
    expect(progress).toEqual({ state: 'FAILED', reason: 'the endpoint failed: The primary container for production variant AllTraffic did not pass the ping health check.' });
  });
});

describe('deploying to scale to zero (an inference component)', () => {
  it('creates an endpoint with the execution role and managed scaling from 0, no model on the variant', async () => {
    // Act
    await deployer.deploy(target(TO_ZERO), servingPackage);

    // Assess
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input).toEqual({
      EndpointConfigName: names.endpointConfig,
      ExecutionRoleArn: 'arn:aws:iam::123456789012:role/sap-sagemaker',
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          InstanceType: 'ml.g5.xlarge',
          InitialInstanceCount: 1,
          ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: 2 },
          RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
        },
      ],
    });
    expect(sagemaker.commandCalls(CreateModelCommand)).toHaveLength(1);
  });

  it('creates the component at one copy, then the scaling target from 0, the scale-in policy, the wake policy and its alarm', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: names.endpoint, EndpointStatus: 'InService' });

    // Act
    const created = await deployer.deploy(target(TO_ZERO), servingPackage);
    sagemaker.on(DescribeInferenceComponentCommand).resolves({ InferenceComponentName: names.inferenceComponent, InferenceComponentStatus: 'Creating' } as never);
    const creating = await deployer.deploy(target(TO_ZERO), servingPackage);
    sagemaker.on(DescribeInferenceComponentCommand).resolves({ InferenceComponentName: names.inferenceComponent, InferenceComponentStatus: 'InService' } as never);
    const inService = await deployer.deploy(target(TO_ZERO), servingPackage);

    // Assess
    expect([created, creating, inService]).toEqual([
      { state: 'DEPLOYING', reason: 'creating the inference component' },
      { state: 'DEPLOYING', reason: 'the inference component is Creating' },
      { state: 'IN_SERVICE' },
    ]);
    expect(sagemaker.commandCalls(CreateInferenceComponentCommand)[0]!.args[0].input).toEqual({
      InferenceComponentName: names.inferenceComponent,
      EndpointName: names.endpoint,
      VariantName: 'AllTraffic',
      Specification: { ModelName: names.model, ComputeResourceRequirements: { MinMemoryRequiredInMb: 1800, NumberOfAcceleratorDevicesRequired: 1 } },
      RuntimeConfig: { CopyCount: 1 },
    });
    const resource = { ServiceNamespace: 'sagemaker', ResourceId: `inference-component/${names.inferenceComponent}`, ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount' };
    expect(autoScaling.commandCalls(RegisterScalableTargetCommand)[0]!.args[0].input).toEqual({ ...resource, MinCapacity: 0, MaxCapacity: 2 });
    const [tracking, wake] = autoScaling.commandCalls(PutScalingPolicyCommand).map((call) => call.args[0].input);
    expect(tracking).toMatchObject({
      ...resource,
      PolicyName: names.trackingPolicy,
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: { PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerInferenceComponentInvocationsPerCopy' }, ScaleInCooldown: 300 },
    });
    expect(wake).toEqual({
      ...resource,
      PolicyName: names.wakePolicy,
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: { AdjustmentType: 'ChangeInCapacity', MetricAggregationType: 'Maximum', Cooldown: 60, StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }] },
    });
    expect(cloudWatch.commandCalls(PutMetricAlarmCommand)[0]!.args[0].input).toMatchObject({
      AlarmName: names.wakeAlarm,
      AlarmActions: [expect.stringContaining(`policyName/${names.wakePolicy}`)],
      Namespace: 'AWS/SageMaker',
      MetricName: 'NoCapacityInvocationFailures',
      Dimensions: [{ Name: 'InferenceComponentName', Value: names.inferenceComponent }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('fails with the inference component’s FailureReason', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointName: names.endpoint, EndpointStatus: 'InService' });
    sagemaker.on(DescribeInferenceComponentCommand).resolves({ InferenceComponentStatus: 'Failed', FailureReason: 'Insufficient memory on the instance' } as never);

    // Act & Assess
    expect(await deployer.deploy(target(TO_ZERO), servingPackage)).toEqual({ state: 'FAILED', reason: 'the inference component failed: Insufficient memory on the instance' });
  });
});

describe('deploying serverless', () => {
  it('creates the model on Triton’s CPU image, a serverless variant and no scaling', async () => {
    // Act
    await deployer.deploy(target({ kind: 'sagemaker', serverless: { memorySizeMb: 6144, maxConcurrency: 5 } }), servingPackage);
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' });
    const progress = await deployer.deploy(target({ kind: 'sagemaker', serverless: { memorySizeMb: 6144, maxConcurrency: 5 } }), servingPackage);

    // Assess
    expect(progress).toEqual({ state: 'IN_SERVICE' });
    expect(sagemaker.commandCalls(CreateModelCommand)[0]!.args[0].input.PrimaryContainer?.Image).toBe('785573368785.dkr.ecr.us-east-1.amazonaws.com/sagemaker-tritonserver:24.09-py3-cpu');
    expect(sagemaker.commandCalls(CreateEndpointConfigCommand)[0]!.args[0].input.ProductionVariants).toEqual([
      { VariantName: 'AllTraffic', ModelName: names.model, ServerlessConfig: { MemorySizeInMB: 6144, MaxConcurrency: 5 } },
    ]);
    expect(autoScaling.calls()).toHaveLength(0);
  });
});

describe('carrying on after a crash or an overlapping run', () => {
  it('keeps what exists and takes a create that finds its resource as done', async () => {
    // Prepare: the model exists (an earlier run); the configuration and endpoint were created by a run that overlapped.
    sagemaker.on(DescribeModelCommand).resolves({ ModelName: names.model });
    sagemaker.on(CreateEndpointConfigCommand).rejects(validation(`Cannot create already existing endpoint configuration "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/${names.base}".`));
    sagemaker.on(CreateEndpointCommand).rejects(validation(`Cannot create already existing endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/${names.base}".`));

    // Act
    const progress = await deployer.deploy(target(INSTANCES), servingPackage);

    // Assess
    expect(progress).toEqual({ state: 'DEPLOYING', reason: 'creating the endpoint' });
    expect(sagemaker.commandCalls(CreateModelCommand)).toHaveLength(0);
    expect(sagemaker.commandCalls(CreateEndpointCommand)).toHaveLength(1);
  });

  it('passes throttling on (the run retries later) and other refusals too (the deployment fails with them)', async () => {
    // Prepare
    sagemaker.on(CreateEndpointCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    // Act
    const throttled = await deployer.deploy(target(INSTANCES), servingPackage).catch((error: unknown) => error);
    sagemaker.on(CreateEndpointCommand).rejects(Object.assign(new Error('The account-level service limit is 0 Instances'), { name: 'ResourceLimitExceeded', $metadata: { httpStatusCode: 400 } }));
    const refused = await deployer.deploy(target(INSTANCES), servingPackage).catch((error: unknown) => error);

    // Assess
    expect(isTransient(throttled)).toBe(true);
    expect(refused).toMatchObject({ name: 'ResourceLimitExceeded' });
    expect(isTransient(refused)).toBe(false);
  });
});

describe('tearing down', () => {
  it('deletes the alarm, the policies and target, the component, the endpoint, the configuration and the model, in order, waiting for each deletion', async () => {
    // Prepare
    sagemaker.on(DescribeInferenceComponentCommand).resolves({ InferenceComponentStatus: 'InService' } as never);
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' });

    // Act
    const first = await deployer.teardown(target(TO_ZERO));
    sagemaker.on(DescribeInferenceComponentCommand).resolves({ InferenceComponentStatus: 'Deleting' } as never);
    const second = await deployer.teardown(target(TO_ZERO));
    sagemaker.on(DescribeInferenceComponentCommand).rejects(notFound('inference component'));
    const third = await deployer.teardown(target(TO_ZERO));
    sagemaker.on(DescribeEndpointCommand).rejects(notFound('endpoint'));
    autoScaling.on(DeregisterScalableTargetCommand).rejects(new ObjectNotFoundException({ message: 'No scalable target registered', $metadata: {} }));
    sagemaker.on(DeleteModelCommand).rejects(notFound('model'));
    const fourth = await deployer.teardown(target(TO_ZERO));

    // Assess
    expect([first, second, third, fourth]).toEqual([
      { done: false, reason: 'deleting the inference component' },
      { done: false, reason: 'deleting the inference component' },
      { done: false, reason: 'deleting the endpoint' },
      { done: true },
    ]);
    const order = commandsSent();
    const firstOf = (name: string) => order.indexOf(name);
    expect(firstOf('DeleteAlarms')).toBeLessThan(firstOf('DeleteScalingPolicy'));
    expect(firstOf('DeleteScalingPolicy')).toBeLessThan(firstOf('DeregisterScalableTarget'));
    expect(firstOf('DeregisterScalableTarget')).toBeLessThan(firstOf('DeleteInferenceComponent'));
    expect(firstOf('DeleteInferenceComponent')).toBeLessThan(firstOf('DeleteEndpoint'));
    expect(firstOf('DeleteEndpoint')).toBeLessThan(firstOf('DeleteEndpointConfig'));
    expect(firstOf('DeleteEndpointConfig')).toBeLessThan(firstOf('DeleteModel'));
    expect(sagemaker.commandCalls(DeleteInferenceComponentCommand)).toHaveLength(1);
    expect(sagemaker.commandCalls(DeleteEndpointCommand)).toHaveLength(1);
    expect(cloudWatch.commandCalls(DeleteAlarmsCommand)[0]!.args[0].input).toEqual({ AlarmNames: [names.wakeAlarm] });
    expect(autoScaling.commandCalls(DeleteScalingPolicyCommand).map((call) => call.args[0].input.PolicyName)).toContain(names.wakePolicy);
  });

  it('carries on past the alarm an earlier run deleted (CloudWatch answers ResourceNotFound for it)', async () => {
    // Prepare: the first run deleted the alarm and the component is still deleting.
    sagemaker.on(DescribeInferenceComponentCommand).resolves({ InferenceComponentStatus: 'Deleting' } as never);
    cloudWatch.on(DeleteAlarmsCommand).rejects(new ResourceNotFound({ message: `${names.wakeAlarm} not found`, $metadata: {} }));

    // Act
    const progress = await deployer.teardown(target(TO_ZERO));

    // Assess
    expect(progress).toEqual({ done: false, reason: 'deleting the inference component' });
  });

  it('deletes an instance endpoint with no scaling to undo, and finishes when everything is gone already', async () => {
    // Prepare
    sagemaker.on(DeleteEndpointConfigCommand).rejects(notFound('endpoint configuration'));
    sagemaker.on(DeleteModelCommand).rejects(notFound('model'));

    // Act
    const progress = await deployer.teardown(target(INSTANCES));

    // Assess
    expect(progress).toEqual({ done: true });
    expect(autoScaling.calls()).toHaveLength(0);
    expect(cloudWatch.calls()).toHaveLength(0);
  });

  it('deletes what a failed deployment left: a failed component on an endpoint in service, with scaling never put', async () => {
    // Prepare: the component failed, so no alarm, policy or scalable target was created.
    sagemaker.on(DescribeInferenceComponentCommand).resolves({ InferenceComponentStatus: 'Failed', FailureReason: 'Failed to extract model data archive' } as never);
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' });
    cloudWatch.on(DeleteAlarmsCommand).rejects(new ResourceNotFound({ message: `${names.wakeAlarm} not found`, $metadata: {} }));
    autoScaling.on(DeleteScalingPolicyCommand).rejects(new ObjectNotFoundException({ message: 'No scaling policy found', $metadata: {} }));
    autoScaling.on(DeregisterScalableTargetCommand).rejects(new ObjectNotFoundException({ message: 'No scalable target registered', $metadata: {} }));

    // Act
    const first = await deployer.teardown(target(TO_ZERO));
    sagemaker.on(DescribeInferenceComponentCommand).rejects(notFound('inference component'));
    const second = await deployer.teardown(target(TO_ZERO));

    // Assess
    expect([first, second]).toEqual([
      { done: false, reason: 'deleting the inference component' },
      { done: false, reason: 'deleting the endpoint' },
    ]);
    expect(sagemaker.commandCalls(DeleteInferenceComponentCommand)[0]!.args[0].input).toEqual({ InferenceComponentName: names.inferenceComponent });
    expect(sagemaker.commandCalls(DeleteEndpointCommand)[0]!.args[0].input).toEqual({ EndpointName: names.endpoint });
  });

  it('tells whether the model exists (what decides whether a deployment packages the model again)', async () => {
    // Act
    const missing = await deployer.hasModel(target(INSTANCES));
    sagemaker.on(DescribeModelCommand).resolves({ ModelName: names.model });
    const existing = await deployer.hasModel(target(INSTANCES));

    // Assess
    expect([missing, existing]).toEqual([false, true]);
    expect(sagemaker.commandCalls(DescribeModelCommand)[0]!.args[0].input).toEqual({ ModelName: names.model });
  });

  it('passes throttling on, leaving the rest for the next run', async () => {
    // Prepare
    sagemaker.on(DescribeEndpointCommand).resolves({ EndpointStatus: 'InService' });
    sagemaker.on(DeleteEndpointCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }));

    // Act
    const error = await deployer.teardown(target(INSTANCES)).catch((e: unknown) => e);

    // Assess
    expect(isTransient(error)).toBe(true);
    expect(sagemaker.commandCalls(DeleteModelCommand)).toHaveLength(0);
  });
});
