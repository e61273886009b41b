/**
 * Deploys a version to SageMaker and tears it down, through injected SDK clients. Each call does
 * what is missing and reports how far the deployment is, so the `deployments` function calls it
 * once a run until it settles: every step finds what exists (after a crash, a timeout or an
 * overlapping run) and carries on, and SageMaker's own Describe* calls tell the state.
 *
 * Three shapes, from the version's backend:
 * - instances (`minInstances` ≥ 1): model → endpoint configuration (one variant on the instance
 *   type) → endpoint; above `minInstances`, Application Auto Scaling tracks invocations per instance.
 * - scale to zero (`minInstances: 0`): model → endpoint configuration with the execution role and
 *   managed instance scaling from 0 → endpoint → inference component at one copy (SageMaker refuses
 *   zero) → scalable target (0 to `maxInstances` copies) with a target-tracking policy that scales
 *   in, and a step-scaling policy (+1 copy) that a CloudWatch alarm on `NoCapacityInvocationFailures`
 *   triggers: target tracking alone never leaves zero (AWS: "Scale an endpoint to zero instances").
 * - serverless: model (on Triton's CPU image: serverless endpoints have no GPU) → endpoint
 *   configuration with a serverless variant → endpoint.
 * Teardown deletes, in order: the wake alarm, the scaling policies and target, the inference
 * component, the endpoint (each waited for), the endpoint configuration, the model.
 */
import {
  DeleteScalingPolicyCommand,
  DeregisterScalableTargetCommand,
  PutScalingPolicyCommand,
  RegisterScalableTargetCommand,
  type ApplicationAutoScalingClient,
} from '@aws-sdk/client-application-auto-scaling';
import { DeleteAlarmsCommand, PutMetricAlarmCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
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
  type ProductionVariant,
  type ProductionVariantInstanceType,
  type SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { SageMakerBackend } from '../registry/types.js';
import { scalesToZero, type VersionResourceNames } from './names.js';
import type { ServingPackage } from './triton-package.js';

/** The one production variant of a version's endpoint. */
export const VARIANT_NAME = 'AllTraffic';
/** Invocations per minute per instance (or per copy) that target tracking holds. */
export const INVOCATIONS_PER_MINUTE_TARGET = 70;
/** Seconds after a scale-in before the next (target tracking), as AWS's scale-to-zero guide sets it. */
export const SCALE_IN_COOLDOWN_SECONDS = 300;
/** Seconds after a scale-out before the next. */
export const SCALE_OUT_COOLDOWN_SECONDS = 60;
/** Memory an inference component copy reserves: this many times the model's size, at least {@link MIN_COPY_MEMORY_MB}. */
export const COPY_MEMORY_PER_MODEL_BYTE = 3;
export const MIN_COPY_MEMORY_MB = 1024;

/** The SDK clients the deployer calls (created once per container). */
export interface DeployerClients {
  readonly sagemaker: SageMakerClient;
  readonly autoScaling: ApplicationAutoScalingClient;
  readonly cloudWatch: CloudWatchClient;
}

/** The platform's SageMaker settings. */
export interface DeployerSettings {
  /** The role SageMaker assumes to pull the image and read the package. */
  readonly executionRoleArn: string;
  /** Triton Inference Server's image in this region (GPU build): endpoints on instances. */
  readonly tritonImageUri: string;
  /** Triton Inference Server's CPU build in this region: serverless endpoints (CPU only, images up to 10 GB). */
  readonly tritonCpuImageUri: string;
}

/** A version to deploy or tear down. */
export interface DeploymentTarget {
  readonly names: VersionResourceNames;
  readonly backend: SageMakerBackend;
  /** Size of the ONNX model: what an inference component copy reserves memory for. */
  readonly modelBytes: number;
}

/** How far a deployment got: in service, still deploying (and what it waits for), or failed (and why). */
export type DeployProgress = { readonly state: 'IN_SERVICE' } | { readonly state: 'DEPLOYING' | 'FAILED'; readonly reason: string };

/** How far a teardown got: done, or what it waits for. */
export type TeardownProgress = { readonly done: true } | { readonly done: false; readonly reason: string };

interface AwsError {
  readonly name?: string;
  readonly message?: string;
}

/** Whether a SageMaker, Application Auto Scaling or CloudWatch error says the resource does not exist. */
export function isNotFound(error: unknown): boolean {
  const { name, message = '' } = (error ?? {}) as AwsError;
  if (name === 'ResourceNotFound' || name === 'ResourceNotFoundException' || name === 'ObjectNotFoundException') return true;
  return name === 'ValidationException' && /could not find|does not exist|not found/i.test(message);
}

/** Whether a create call failed because the resource exists already (a retried or overlapping run created it). */
export function isAlreadyExisting(error: unknown): boolean {
  const { name, message = '' } = (error ?? {}) as AwsError;
  return (name === 'ValidationException' || name === 'ResourceInUse') && /already exist/i.test(message);
}

/** Runs a create call; a resource that exists already is what the call wanted. */
async function created(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isAlreadyExisting(error)) throw error;
  }
}

/** Runs a delete call; a resource that is gone already is what the call wanted. */
async function deleted(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Runs a Describe* call: `undefined` when the resource does not exist. */
async function described<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Accelerators a copy needs: one GPU on the NVIDIA families (`ml.g*`, `ml.p*`), none on CPU types. */
const acceleratorsOf = (instanceType: string): number | undefined => (/^ml\.[gp][0-9]/.test(instanceType) ? 1 : undefined);

/** The Application Auto Scaling resource of a target: its inference component, or its endpoint's variant. */
function scalableResource(target: DeploymentTarget): { ResourceId: string; ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount' | 'sagemaker:variant:DesiredInstanceCount' } {
  return scalesToZero(target.backend)
    ? { ResourceId: `inference-component/${target.names.inferenceComponent}`, ScalableDimension: 'sagemaker:inference-component:DesiredCopyCount' }
    : { ResourceId: `endpoint/${target.names.endpoint}/variant/${VARIANT_NAME}`, ScalableDimension: 'sagemaker:variant:DesiredInstanceCount' };
}

/** Whether a target scales at all: to zero, or on instances between a minimum and a larger maximum. */
const isScaled = (backend: SageMakerBackend): boolean => scalesToZero(backend) || (backend.serverless === undefined && backend.maxInstances > backend.minInstances);

/** Deploys versions to SageMaker and tears them down (see the module's description). */
export class SageMakerDeployer {
  constructor(
    private readonly clients: DeployerClients,
    private readonly settings: DeployerSettings,
  ) {}

  /** Takes a deployment one step further; see {@link DeployProgress}. */
  async deploy(target: DeploymentTarget, servingPackage: ServingPackage): Promise<DeployProgress> {
    const { sagemaker } = this.clients;
    const { names } = target;
    const endpoint = await described(() => sagemaker.send(new DescribeEndpointCommand({ EndpointName: names.endpoint })));
    if (endpoint === undefined) {
      await this.ensureModel(target, servingPackage);
      await this.ensureEndpointConfig(target);
      await created(() => sagemaker.send(new CreateEndpointCommand({ EndpointName: names.endpoint, EndpointConfigName: names.endpointConfig })));
      return { state: 'DEPLOYING', reason: 'creating the endpoint' };
    }
    if (endpoint.EndpointStatus === 'Failed') return { state: 'FAILED', reason: `the endpoint failed: ${endpoint.FailureReason ?? 'SageMaker gave no reason'}` };
    if (endpoint.EndpointStatus !== 'InService') return { state: 'DEPLOYING', reason: `the endpoint is ${endpoint.EndpointStatus ?? 'starting'}` };
    if (scalesToZero(target.backend)) {
      const component = await described(() => sagemaker.send(new DescribeInferenceComponentCommand({ InferenceComponentName: names.inferenceComponent })));
      if (component === undefined) {
        await this.createInferenceComponent(target);
        return { state: 'DEPLOYING', reason: 'creating the inference component' };
      }
      const status = component.InferenceComponentStatus;
      if (status === 'Failed') return { state: 'FAILED', reason: `the inference component failed: ${component.FailureReason ?? 'SageMaker gave no reason'}` };
      if (status !== 'InService') return { state: 'DEPLOYING', reason: `the inference component is ${status ?? 'starting'}` };
    }
    if (isScaled(target.backend)) await this.applyScaling(target);
    return { state: 'IN_SERVICE' };
  }

  /** Whether the target's SageMaker model exists (it is created from the serving package, and deleted last by a teardown). */
  async hasModel(target: DeploymentTarget): Promise<boolean> {
    const model = await described(() => this.clients.sagemaker.send(new DescribeModelCommand({ ModelName: target.names.model })));
    return model !== undefined;
  }

  /** Deletes a deployment one step further; see {@link TeardownProgress}. */
  async teardown(target: DeploymentTarget): Promise<TeardownProgress> {
    const { sagemaker, autoScaling, cloudWatch } = this.clients;
    const { names } = target;
    if (scalesToZero(target.backend)) await deleted(() => cloudWatch.send(new DeleteAlarmsCommand({ AlarmNames: [names.wakeAlarm] })));
    if (isScaled(target.backend)) {
      const resource = { ServiceNamespace: 'sagemaker', ...scalableResource(target) } as const;
      for (const policy of scalesToZero(target.backend) ? [names.wakePolicy, names.trackingPolicy] : [names.trackingPolicy]) {
        await deleted(() => autoScaling.send(new DeleteScalingPolicyCommand({ ...resource, PolicyName: policy })));
      }
      await deleted(() => autoScaling.send(new DeregisterScalableTargetCommand(resource)));
    }
    if (scalesToZero(target.backend)) {
      const component = await described(() => sagemaker.send(new DescribeInferenceComponentCommand({ InferenceComponentName: names.inferenceComponent })));
      if (component !== undefined) {
        if (component.InferenceComponentStatus !== 'Deleting') {
          await deleted(() => sagemaker.send(new DeleteInferenceComponentCommand({ InferenceComponentName: names.inferenceComponent })));
        }
        return { done: false, reason: 'deleting the inference component' };
      }
    }
    const endpoint = await described(() => sagemaker.send(new DescribeEndpointCommand({ EndpointName: names.endpoint })));
    if (endpoint !== undefined) {
      if (endpoint.EndpointStatus !== 'Deleting') await deleted(() => sagemaker.send(new DeleteEndpointCommand({ EndpointName: names.endpoint })));
      return { done: false, reason: 'deleting the endpoint' };
    }
    await deleted(() => sagemaker.send(new DeleteEndpointConfigCommand({ EndpointConfigName: names.endpointConfig })));
    await deleted(() => sagemaker.send(new DeleteModelCommand({ ModelName: names.model })));
    return { done: true };
  }

  /** The SageMaker model: Triton's image (its CPU build for serverless), the package, and the model Triton serves by default. */
  private async ensureModel(target: DeploymentTarget, servingPackage: ServingPackage): Promise<void> {
    const { sagemaker } = this.clients;
    const name = target.names.model;
    if (await this.hasModel(target)) return;
    await created(() =>
      sagemaker.send(
        new CreateModelCommand({
          ModelName: name,
          ExecutionRoleArn: this.settings.executionRoleArn,
          PrimaryContainer: {
            Image: target.backend.serverless === undefined ? this.settings.tritonImageUri : this.settings.tritonCpuImageUri,
            ModelDataUrl: servingPackage.uri,
            Environment: { SAGEMAKER_TRITON_DEFAULT_MODEL_NAME: servingPackage.tritonModelName },
          },
        }),
      ),
    );
  }

  /** The endpoint configuration of the target's shape (instances, scale to zero, serverless). */
  private async ensureEndpointConfig(target: DeploymentTarget): Promise<void> {
    const { sagemaker } = this.clients;
    const { names, backend } = target;
    if ((await described(() => sagemaker.send(new DescribeEndpointConfigCommand({ EndpointConfigName: names.endpointConfig })))) !== undefined) return;
    let variant: ProductionVariant;
    if (backend.serverless !== undefined) {
      variant = { VariantName: VARIANT_NAME, ModelName: names.model, ServerlessConfig: { MemorySizeInMB: backend.serverless.memorySizeMb, MaxConcurrency: backend.serverless.maxConcurrency } };
    } else if (scalesToZero(backend)) {
      // No model on the variant: the inference component brings it.
      variant = {
        VariantName: VARIANT_NAME,
        InstanceType: backend.instanceType as ProductionVariantInstanceType,
        InitialInstanceCount: 1,
        ManagedInstanceScaling: { Status: 'ENABLED', MinInstanceCount: 0, MaxInstanceCount: backend.maxInstances },
        RoutingConfig: { RoutingStrategy: 'LEAST_OUTSTANDING_REQUESTS' },
      };
    } else {
      variant = { VariantName: VARIANT_NAME, ModelName: names.model, InstanceType: backend.instanceType as ProductionVariantInstanceType, InitialInstanceCount: backend.minInstances };
    }
    await created(() =>
      sagemaker.send(
        new CreateEndpointConfigCommand({
          EndpointConfigName: names.endpointConfig,
          ProductionVariants: [variant],
          // An endpoint that hosts inference components names the role itself.
          ...(scalesToZero(backend) ? { ExecutionRoleArn: this.settings.executionRoleArn } : {}),
        }),
      ),
    );
  }

  /** The inference component, at one copy (SageMaker creates none at zero; scaling takes it there). */
  private async createInferenceComponent(target: DeploymentTarget): Promise<void> {
    const { names, backend } = target;
    const memory = Math.max(MIN_COPY_MEMORY_MB, Math.ceil((COPY_MEMORY_PER_MODEL_BYTE * target.modelBytes) / 1024 ** 2));
    const accelerators = acceleratorsOf(backend.instanceType ?? '');
    await created(() =>
      this.clients.sagemaker.send(
        new CreateInferenceComponentCommand({
          InferenceComponentName: names.inferenceComponent,
          EndpointName: names.endpoint,
          VariantName: VARIANT_NAME,
          Specification: {
            ModelName: names.model,
            ComputeResourceRequirements: { MinMemoryRequiredInMb: memory, ...(accelerators === undefined ? {} : { NumberOfAcceleratorDevicesRequired: accelerators }) },
          },
          RuntimeConfig: { CopyCount: 1 },
        }),
      ),
    );
  }

  /** Registers the scalable target and puts its policies (and, scaling to zero, the wake alarm): each call an upsert. */
  private async applyScaling(target: DeploymentTarget): Promise<void> {
    const { autoScaling, cloudWatch } = this.clients;
    const { names, backend } = target;
    const resource = { ServiceNamespace: 'sagemaker', ...scalableResource(target) } as const;
    const toZero = scalesToZero(backend);
    await autoScaling.send(new RegisterScalableTargetCommand({ ...resource, MinCapacity: toZero ? 0 : backend.minInstances, MaxCapacity: backend.maxInstances }));
    await autoScaling.send(
      new PutScalingPolicyCommand({
        ...resource,
        PolicyName: names.trackingPolicy,
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: toZero ? 'SageMakerInferenceComponentInvocationsPerCopy' : 'SageMakerVariantInvocationsPerInstance' },
          TargetValue: INVOCATIONS_PER_MINUTE_TARGET,
          ScaleInCooldown: SCALE_IN_COOLDOWN_SECONDS,
          ScaleOutCooldown: SCALE_OUT_COOLDOWN_SECONDS,
        },
      }),
    );
    if (!toZero) return;
    const wake = await autoScaling.send(
      new PutScalingPolicyCommand({
        ...resource,
        PolicyName: names.wakePolicy,
        PolicyType: 'StepScaling',
        StepScalingPolicyConfiguration: {
          AdjustmentType: 'ChangeInCapacity',
          MetricAggregationType: 'Maximum',
          Cooldown: SCALE_OUT_COOLDOWN_SECONDS,
          StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
        },
      }),
    );
    if (wake.PolicyARN === undefined) throw new Error(`Application Auto Scaling returned no ARN for policy '${names.wakePolicy}'`);
    // One failed call at zero copies is enough to wake the component (AWS's guide alarms above 1 a minute).
    await cloudWatch.send(
      new PutMetricAlarmCommand({
        AlarmName: names.wakeAlarm,
        AlarmDescription: `Wakes inference component ${names.inferenceComponent} from zero copies when it is called`,
        AlarmActions: [wake.PolicyARN],
        Namespace: 'AWS/SageMaker',
        MetricName: 'NoCapacityInvocationFailures',
        Dimensions: [{ Name: 'InferenceComponentName', Value: names.inferenceComponent }],
        Statistic: 'Sum',
        Period: 60,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
  }
}
