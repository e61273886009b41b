/**
 * The emulated SageMaker control plane: models, endpoint configurations (instance, serverless and
 * inference-component style), endpoints and inference components, with SageMaker's fields,
 * validation, messages and state changes (Creating → InService | Failed, Updating, Deleting →
 * gone), hosting a container for every variant with a model and every component with copies.
 */
import { ProductionVariantInstanceType } from '@aws-sdk/client-sagemaker';
import * as z from 'zod/mini';
import { epochSeconds, parseInput, validationException } from './aws-protocol.js';
import type { Arns } from './arns.js';
import { HostingError, type ContainerSpec, type HostedModel, type Hosting } from './hosting.js';
import type { EmulatorDelays } from './settings.js';

const NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const name = z.string().check(z.regex(NAME_PATTERN, `Member must satisfy regular expression pattern: ${NAME_PATTERN.source.slice(1, -1)}`));
const ROLE_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const roleArn = z.string().check(z.regex(ROLE_PATTERN, `Member must satisfy regular expression pattern: ${ROLE_PATTERN.source.slice(1, -1)}`));
const atLeast = (min: number) => z.number().check(z.int(), z.gte(min, `Member must have value greater than or equal to ${min}`));
/** The instance types SageMaker hosts endpoints on, as the SDK's model of the API lists them. */
const INSTANCE_TYPES = Object.values(ProductionVariantInstanceType);
const instanceType = z.enum(INSTANCE_TYPES, `Member must satisfy enum value set: [${INSTANCE_TYPES.join(', ')}]`);
const environment = z.optional(z.record(z.string(), z.string()));
const tags = z.optional(z.array(z.object({ Key: z.string(), Value: z.string() })));

const containerSchema = z.looseObject({ Image: z.string(), ModelDataUrl: z.optional(z.string()), Environment: environment, Mode: z.optional(z.string()) });
const createModelSchema = z.looseObject({
  ModelName: name,
  ExecutionRoleArn: roleArn,
  PrimaryContainer: z.optional(containerSchema),
  Containers: z.optional(z.array(containerSchema)),
  Tags: tags,
});
const variantSchema = z.looseObject({
  VariantName: name,
  ModelName: z.optional(name),
  InstanceType: z.optional(instanceType),
  InitialInstanceCount: z.optional(atLeast(1)),
  InitialVariantWeight: z.optional(z.number().check(z.gte(0, 'Member must have value greater than or equal to 0'))),
  ServerlessConfig: z.optional(z.looseObject({ MemorySizeInMB: atLeast(1024), MaxConcurrency: atLeast(1) })),
  ManagedInstanceScaling: z.optional(z.looseObject({ Status: z.optional(z.string()), MinInstanceCount: z.optional(atLeast(0)), MaxInstanceCount: z.optional(atLeast(1)) })),
  RoutingConfig: z.optional(z.looseObject({ RoutingStrategy: z.string() })),
});
const createEndpointConfigSchema = z.looseObject({
  EndpointConfigName: name,
  ProductionVariants: z.array(variantSchema).check(z.minLength(1, 'Member must have length greater than or equal to 1'), z.maxLength(10, 'Member must have length less than or equal to 10')),
  ExecutionRoleArn: z.optional(roleArn),
  Tags: tags,
});
const createEndpointSchema = z.looseObject({ EndpointName: name, EndpointConfigName: name, Tags: tags });
const updateEndpointSchema = z.looseObject({ EndpointName: name, EndpointConfigName: name });
const createComponentSchema = z.looseObject({
  InferenceComponentName: name,
  EndpointName: name,
  VariantName: z.optional(name),
  Specification: z.looseObject({
    ModelName: z.optional(name),
    ComputeResourceRequirements: z.optional(
      z.looseObject({ MinMemoryRequiredInMb: atLeast(128), NumberOfCpuCoresRequired: z.optional(z.number()), NumberOfAcceleratorDevicesRequired: z.optional(z.number()), MaxMemoryRequiredInMb: z.optional(z.number()) }),
    ),
    StartupParameters: z.optional(z.looseObject({})),
  }),
  RuntimeConfig: z.optional(z.looseObject({ CopyCount: atLeast(1) })),
  Tags: tags,
});
const updateRuntimeSchema = z.looseObject({ InferenceComponentName: name, DesiredRuntimeConfig: z.looseObject({ CopyCount: atLeast(0) }) });

type Variant = z.infer<typeof variantSchema>;

/** A resource's `FailureReason` for an error: SageMaker's words for what the emulator recognises. */
const failureReason = (error: unknown) => (error instanceof HostingError ? error.message : `Internal error: ${(error as Error).message}`);

interface ModelRecord {
  readonly input: z.infer<typeof createModelSchema>;
  readonly arn: string;
  readonly created: Date;
}

interface EndpointConfigRecord {
  readonly input: z.infer<typeof createEndpointConfigSchema>;
  readonly arn: string;
  readonly created: Date;
}

/** An endpoint's status, as `DescribeEndpoint` names it. */
export type EndpointStatus = 'Creating' | 'Updating' | 'InService' | 'Failed' | 'Deleting';

/** An endpoint and the containers of its variants. */
export interface EndpointRecord {
  readonly name: string;
  readonly arn: string;
  configName: string;
  status: EndpointStatus;
  failureReason?: string;
  readonly created: Date;
  modified: Date;
  /** Containers by variant name (variants that name a model). */
  hosts: Map<string, HostedModel>;
}

/** An inference component's status. */
export type ComponentStatus = 'Creating' | 'InService' | 'Failed' | 'Deleting';

/** An inference component: a model with copies on an endpoint's variant. */
export interface ComponentRecord {
  readonly name: string;
  readonly arn: string;
  readonly endpointName: string;
  readonly variantName: string;
  readonly modelName: string;
  readonly specification: Readonly<Record<string, unknown>>;
  desiredCopies: number;
  currentCopies: number;
  status: ComponentStatus;
  failureReason?: string;
  readonly created: Date;
  modified: Date;
  host?: HostedModel;
  /** When it was last invoked (or created): scale-in counts idle time from it. */
  lastInvokedAt: number;
}

type Stored<T> = Omit<T, 'created' | 'modified'> & { readonly created: string; readonly modified?: string };

/** The control plane's resources as JSON ({@link ControlPlane.snapshot}). */
export interface ControlPlaneSnapshot {
  readonly models: readonly Stored<ModelRecord>[];
  readonly endpointConfigs: readonly Stored<EndpointConfigRecord>[];
  readonly endpoints: readonly (Stored<Omit<EndpointRecord, 'hosts'>> & { readonly modified: string })[];
  readonly components: readonly (Stored<Omit<ComponentRecord, 'host' | 'currentCopies' | 'lastInvokedAt'>> & { readonly modified: string })[];
}

/** The emulated SageMaker control plane and the resources it holds. */
export class ControlPlane {
  readonly models = new Map<string, ModelRecord>();
  readonly endpointConfigs = new Map<string, EndpointConfigRecord>();
  readonly endpoints = new Map<string, EndpointRecord>();
  readonly components = new Map<string, ComponentRecord>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Components whose copies are starting from zero (one start at a time each). */
  private readonly starting = new Set<ComponentRecord>();

  constructor(
    private readonly arns: Arns,
    private readonly hosting: Hosting,
    private readonly delays: () => EmulatorDelays,
  ) {}

  /** Runs `task` after `ms` (timers end with {@link close}). */
  private later(ms: number, task: () => Promise<void> | void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void task();
    }, ms);
    this.timers.add(timer);
  }

  private notFound(kind: 'model' | 'endpoint configuration' | 'endpoint' | 'inference component', resourceName: string) {
    const arnKind = ({ model: 'model', 'endpoint configuration': 'endpoint-config', endpoint: 'endpoint', 'inference component': 'inference-component' } as const)[kind];
    return validationException(`Could not find ${kind} "${this.arns.sagemaker(arnKind, resourceName)}".`);
  }

  private alreadyExists(kind: 'model' | 'endpoint configuration' | 'endpoint' | 'inference component', arn: string) {
    return validationException(`Cannot create already existing ${kind} "${arn}".`);
  }

  private model(modelName: string): ModelRecord {
    const model = this.models.get(modelName);
    if (model === undefined) throw this.notFound('model', modelName);
    return model;
  }

  /** The endpoint named so (any status); ValidationException "Could not find endpoint" when there is none. */
  endpoint(endpointName: string): EndpointRecord {
    const endpoint = this.endpoints.get(endpointName);
    if (endpoint === undefined) throw this.notFound('endpoint', endpointName);
    return endpoint;
  }

  /** The inference component named so; ValidationException "Could not find inference component" when there is none. */
  component(componentName: string): ComponentRecord {
    const component = this.components.get(componentName);
    if (component === undefined) throw this.notFound('inference component', componentName);
    return component;
  }

  private containerSpec(modelName: string): ContainerSpec {
    const { input } = this.model(modelName);
    const container = input.PrimaryContainer ?? input.Containers?.[0];
    if (container === undefined) throw new HostingError(`The model ${modelName} has no container.`);
    return { modelName, image: container.Image, ...(container.ModelDataUrl === undefined ? {} : { modelDataUrl: container.ModelDataUrl }), environment: container.Environment ?? {} };
  }

  // --- models -------------------------------------------------------------------------------

  createModel(body: unknown): unknown {
    const input = parseInput(createModelSchema, body);
    const arn = this.arns.sagemaker('model', input.ModelName);
    if (this.models.has(input.ModelName)) throw this.alreadyExists('model', arn);
    if (input.PrimaryContainer === undefined && (input.Containers ?? []).length === 0) {
      throw validationException('Either PrimaryContainer or Containers must be specified.');
    }
    this.models.set(input.ModelName, { input, arn, created: new Date() });
    return { ModelArn: arn };
  }

  describeModel(body: unknown): unknown {
    const { ModelName } = parseInput(z.looseObject({ ModelName: name }), body);
    const { input, arn, created } = this.model(ModelName);
    return {
      ModelName,
      ...(input.PrimaryContainer === undefined ? {} : { PrimaryContainer: input.PrimaryContainer }),
      ...(input.Containers === undefined ? {} : { Containers: input.Containers }),
      ExecutionRoleArn: input.ExecutionRoleArn,
      CreationTime: epochSeconds(created),
      ModelArn: arn,
      EnableNetworkIsolation: false,
    };
  }

  deleteModel(body: unknown): unknown {
    const { ModelName } = parseInput(z.looseObject({ ModelName: name }), body);
    this.model(ModelName);
    this.models.delete(ModelName);
    return {};
  }

  // --- endpoint configurations -------------------------------------------------------------

  private checkVariant(config: z.infer<typeof createEndpointConfigSchema>, variant: Variant): void {
    const serverless = variant.ServerlessConfig !== undefined;
    if (serverless && (variant.InstanceType !== undefined || variant.InitialInstanceCount !== undefined)) {
      throw validationException(`Production variant ${variant.VariantName} cannot specify both ServerlessConfig and InstanceType or InitialInstanceCount.`);
    }
    if (!serverless && (variant.InstanceType === undefined || variant.InitialInstanceCount === undefined)) {
      throw validationException(`Production variant ${variant.VariantName} must specify InstanceType and InitialInstanceCount, or ServerlessConfig.`);
    }
    if (variant.ModelName === undefined) {
      if (config.ExecutionRoleArn === undefined) {
        throw validationException(`ModelName is required for production variant ${variant.VariantName} unless the endpoint configuration has an ExecutionRoleArn (inference components).`);
      }
      if (serverless) throw validationException(`Production variant ${variant.VariantName}: inference components cannot be hosted on serverless variants.`);
    } else {
      this.model(variant.ModelName);
    }
  }

  createEndpointConfig(body: unknown): unknown {
    const input = parseInput(createEndpointConfigSchema, body);
    const arn = this.arns.sagemaker('endpoint-config', input.EndpointConfigName);
    if (this.endpointConfigs.has(input.EndpointConfigName)) throw this.alreadyExists('endpoint configuration', arn);
    const names = input.ProductionVariants.map((variant) => variant.VariantName);
    if (new Set(names).size !== names.length) throw validationException('Production variant names must be unique within an endpoint configuration.');
    input.ProductionVariants.forEach((variant) => this.checkVariant(input, variant));
    this.endpointConfigs.set(input.EndpointConfigName, { input, arn, created: new Date() });
    return { EndpointConfigArn: arn };
  }

  private endpointConfig(configName: string): EndpointConfigRecord {
    const config = this.endpointConfigs.get(configName);
    if (config === undefined) throw this.notFound('endpoint configuration', configName);
    return config;
  }

  describeEndpointConfig(body: unknown): unknown {
    const { EndpointConfigName } = parseInput(z.looseObject({ EndpointConfigName: name }), body);
    const { input, arn, created } = this.endpointConfig(EndpointConfigName);
    return {
      EndpointConfigName,
      EndpointConfigArn: arn,
      ProductionVariants: input.ProductionVariants,
      ...(input.ExecutionRoleArn === undefined ? {} : { ExecutionRoleArn: input.ExecutionRoleArn }),
      CreationTime: epochSeconds(created),
      EnableNetworkIsolation: false,
    };
  }

  deleteEndpointConfig(body: unknown): unknown {
    const { EndpointConfigName } = parseInput(z.looseObject({ EndpointConfigName: name }), body);
    this.endpointConfig(EndpointConfigName);
    this.endpointConfigs.delete(EndpointConfigName);
    return {};
  }

  // --- endpoints -------------------------------------------------------------------------------

  /** Starts the containers of a configuration's variants that name a model (all or none). */
  private async hostVariants(endpointName: string, config: EndpointConfigRecord): Promise<Map<string, HostedModel>> {
    const hosts = new Map<string, HostedModel>();
    try {
      for (const variant of config.input.ProductionVariants) {
        if (variant.ModelName === undefined) continue;
        hosts.set(variant.VariantName, await this.hosting.host(this.containerSpec(variant.ModelName), `${endpointName}-${variant.VariantName}`, variant.VariantName));
      }
      return hosts;
    } catch (error) {
      await Promise.all([...hosts.values()].map((host) => host.stop()));
      throw error;
    }
  }

  /** Brings an endpoint to a configuration after the create delay: InService, or `onFailure`. */
  private deploy(endpoint: EndpointRecord, config: EndpointConfigRecord, onFailure: (reason: string) => void): void {
    this.later(this.delays().endpointCreateMs, async () => {
      let hosts: Map<string, HostedModel>;
      try {
        hosts = await this.hostVariants(endpoint.name, config);
      } catch (error) {
        if (this.endpoints.get(endpoint.name) !== endpoint || endpoint.status === 'Deleting') return;
        onFailure(failureReason(error));
        endpoint.modified = new Date();
        return;
      }
      if (this.endpoints.get(endpoint.name) !== endpoint || endpoint.status === 'Deleting') {
        await Promise.all([...hosts.values()].map((host) => host.stop()));
        return;
      }
      const previous = endpoint.hosts;
      endpoint.hosts = hosts;
      endpoint.configName = config.input.EndpointConfigName;
      endpoint.status = 'InService';
      endpoint.modified = new Date();
      await Promise.all([...previous.values()].map((host) => host.stop()));
    });
  }

  createEndpoint(body: unknown): unknown {
    const input = parseInput(createEndpointSchema, body);
    const arn = this.arns.sagemaker('endpoint', input.EndpointName);
    if (this.endpoints.has(input.EndpointName)) throw this.alreadyExists('endpoint', arn);
    const config = this.endpointConfig(input.EndpointConfigName);
    const now = new Date();
    const endpoint: EndpointRecord = { name: input.EndpointName, arn, configName: input.EndpointConfigName, status: 'Creating', created: now, modified: now, hosts: new Map() };
    this.endpoints.set(input.EndpointName, endpoint);
    this.create(endpoint, config);
    return { EndpointArn: arn };
  }

  /** Deploys a new endpoint: InService, or Failed with the reason. */
  private create(endpoint: EndpointRecord, config: EndpointConfigRecord): void {
    this.deploy(endpoint, config, (reason) => {
      endpoint.status = 'Failed';
      endpoint.failureReason = reason;
    });
  }

  updateEndpoint(body: unknown): unknown {
    const input = parseInput(updateEndpointSchema, body);
    const endpoint = this.endpoint(input.EndpointName);
    if (endpoint.status !== 'InService' && endpoint.status !== 'Failed') {
      throw validationException(`Cannot update in-progress endpoint "${endpoint.arn}".`);
    }
    const config = this.endpointConfig(input.EndpointConfigName);
    const wasFailed = endpoint.status === 'Failed';
    endpoint.status = 'Updating';
    delete endpoint.failureReason;
    endpoint.modified = new Date();
    this.deploy(endpoint, config, (reason) => {
      // A failed update rolls back: the endpoint keeps serving its previous configuration.
      endpoint.status = wasFailed ? 'Failed' : 'InService';
      endpoint.failureReason = reason;
    });
    return { EndpointArn: endpoint.arn };
  }

  describeEndpoint(body: unknown): unknown {
    const { EndpointName } = parseInput(z.looseObject({ EndpointName: name }), body);
    const endpoint = this.endpoint(EndpointName);
    const config = this.endpointConfigs.get(endpoint.configName);
    const variants = endpoint.status === 'InService' || endpoint.status === 'Updating' ? (config?.input.ProductionVariants ?? []) : [];
    return {
      EndpointName,
      EndpointArn: endpoint.arn,
      EndpointConfigName: endpoint.configName,
      ...(variants.length === 0 ? {} : { ProductionVariants: variants.map((variant) => this.variantSummary(endpoint, variant)) }),
      EndpointStatus: endpoint.status,
      ...(endpoint.failureReason === undefined ? {} : { FailureReason: endpoint.failureReason }),
      CreationTime: epochSeconds(endpoint.created),
      LastModifiedTime: epochSeconds(endpoint.modified),
    };
  }

  /**
   * A variant's instances: as configured, except on an inference-component variant that may scale
   * to zero (`ManagedInstanceScaling.MinInstanceCount` 0), which has none while no component on it has a copy.
   */
  private instanceCount(endpoint: EndpointRecord, variant: Variant): number | undefined {
    if (variant.ModelName !== undefined || variant.ManagedInstanceScaling?.MinInstanceCount !== 0) return variant.InitialInstanceCount;
    const copies = [...this.components.values()].some((c) => c.endpointName === endpoint.name && c.variantName === variant.VariantName && c.currentCopies > 0);
    return copies ? variant.InitialInstanceCount : 0;
  }

  private variantSummary(endpoint: EndpointRecord, variant: Variant): Record<string, unknown> {
    const image = variant.ModelName === undefined ? undefined : this.models.get(variant.ModelName)?.input.PrimaryContainer?.Image;
    const weight = variant.InitialVariantWeight ?? 1;
    const instances = this.instanceCount(endpoint, variant);
    const deployed = endpoint.created;
    return {
      VariantName: variant.VariantName,
      ...(image === undefined ? {} : { DeployedImages: [{ SpecifiedImage: image, ResolvedImage: image, ResolutionTime: epochSeconds(deployed) }] }),
      CurrentWeight: weight,
      DesiredWeight: weight,
      ...(variant.ServerlessConfig === undefined
        ? { CurrentInstanceCount: instances, DesiredInstanceCount: instances }
        : { CurrentServerlessConfig: variant.ServerlessConfig, DesiredServerlessConfig: variant.ServerlessConfig }),
      ...(variant.ManagedInstanceScaling === undefined ? {} : { ManagedInstanceScaling: variant.ManagedInstanceScaling }),
      ...(variant.RoutingConfig === undefined ? {} : { RoutingConfig: variant.RoutingConfig }),
    };
  }

  deleteEndpoint(body: unknown): unknown {
    const { EndpointName } = parseInput(z.looseObject({ EndpointName: name }), body);
    const endpoint = this.endpoint(EndpointName);
    const hosted = [...this.components.values()].filter((component) => component.endpointName === EndpointName).map((component) => component.name);
    if (hosted.length > 0) {
      throw validationException(`Cannot delete endpoint "${endpoint.arn}" while it hosts inference components (${hosted.join(', ')}): delete them first.`);
    }
    if (endpoint.status === 'Deleting') return {};
    endpoint.status = 'Deleting';
    endpoint.modified = new Date();
    const hosts = [...endpoint.hosts.values()];
    endpoint.hosts = new Map();
    void Promise.all(hosts.map((host) => host.stop()));
    this.later(this.delays().deleteMs, () => {
      if (this.endpoints.get(EndpointName) === endpoint) this.endpoints.delete(EndpointName);
    });
    return {};
  }

  /** The configuration variants of an endpoint. */
  variantsOf(endpoint: EndpointRecord): readonly Variant[] {
    return this.endpointConfigs.get(endpoint.configName)?.input.ProductionVariants ?? [];
  }

  // --- inference components -------------------------------------------------------------------

  createInferenceComponent(body: unknown): unknown {
    const input = parseInput(createComponentSchema, body);
    const arn = this.arns.sagemaker('inference-component', input.InferenceComponentName);
    if (this.components.has(input.InferenceComponentName)) throw this.alreadyExists('inference component', arn);
    if (input.RuntimeConfig === undefined) throw validationException('RuntimeConfig is required: an inference component is created with at least one copy.');
    const endpoint = this.endpoint(input.EndpointName);
    if (endpoint.status !== 'InService') throw validationException(`Endpoint "${endpoint.arn}" is not in service (its status is ${endpoint.status}).`);
    const variants = this.variantsOf(endpoint);
    const variant = input.VariantName === undefined ? variants[0] : variants.find((candidate) => candidate.VariantName === input.VariantName);
    if (variant === undefined) throw validationException(`Could not find variant "${input.VariantName}" on endpoint "${endpoint.arn}".`);
    if (variant.ModelName !== undefined) {
      throw validationException(`Endpoint "${endpoint.arn}" cannot host inference components: its variant ${variant.VariantName} names a model (create it from an endpoint configuration with ExecutionRoleArn and no ModelName).`);
    }
    const modelName = input.Specification.ModelName;
    if (modelName === undefined) throw validationException('Specification.ModelName is required (the emulator hosts inference components of SageMaker models).');
    this.model(modelName);
    const now = new Date();
    const component: ComponentRecord = {
      name: input.InferenceComponentName,
      arn,
      endpointName: endpoint.name,
      variantName: variant.VariantName,
      modelName,
      specification: input.Specification,
      desiredCopies: input.RuntimeConfig.CopyCount,
      currentCopies: 0,
      status: 'Creating',
      created: now,
      modified: now,
      lastInvokedAt: now.getTime(),
    };
    this.components.set(component.name, component);
    this.bringUp(component);
    return { InferenceComponentArn: arn };
  }

  /** Brings a new component's copies up after the create delay: InService, or Failed with the reason. */
  private bringUp(component: ComponentRecord): void {
    this.later(this.delays().componentCreateMs, async () => {
      try {
        await this.startCopies(component);
        component.status = 'InService';
      } catch (error) {
        component.status = 'Failed';
        component.failureReason = failureReason(error);
      }
      component.modified = new Date();
    });
  }

  /** Starts a component's container for its desired copies (when it has none running). */
  private async startCopies(component: ComponentRecord): Promise<void> {
    if (component.host === undefined) {
      const host = await this.hosting.host(this.containerSpec(component.modelName), component.name, component.variantName);
      if (this.components.get(component.name) !== component || component.status === 'Deleting' || component.desiredCopies === 0) {
        await host.stop();
        return;
      }
      component.host = host;
    }
    component.currentCopies = component.desiredCopies;
    delete component.failureReason;
    component.modified = new Date();
    component.lastInvokedAt = Date.now();
  }

  describeInferenceComponent(body: unknown): unknown {
    const { InferenceComponentName } = parseInput(z.looseObject({ InferenceComponentName: name }), body);
    const component = this.component(InferenceComponentName);
    return {
      InferenceComponentName,
      InferenceComponentArn: component.arn,
      EndpointName: component.endpointName,
      EndpointArn: this.arns.sagemaker('endpoint', component.endpointName),
      VariantName: component.variantName,
      ...(component.failureReason === undefined ? {} : { FailureReason: component.failureReason }),
      Specification: component.specification,
      RuntimeConfig: { DesiredCopyCount: component.desiredCopies, CurrentCopyCount: component.currentCopies },
      CreationTime: epochSeconds(component.created),
      LastModifiedTime: epochSeconds(component.modified),
      InferenceComponentStatus: component.status,
    };
  }

  /**
   * Sets a component's copies, as UpdateInferenceComponentRuntimeConfig and Application Auto
   * Scaling do: to zero at once; from zero after the copy start delay; otherwise at once.
   */
  setCopyCount(component: ComponentRecord, copies: number): void {
    component.desiredCopies = copies;
    component.modified = new Date();
    if (copies === 0) {
      component.currentCopies = 0;
      const host = component.host;
      delete component.host;
      void host?.stop();
    } else if (component.currentCopies === 0) {
      this.startCopiesLater(component);
    } else {
      component.currentCopies = copies;
    }
  }

  /**
   * Starts a component's copies from zero after the copy start delay, while it still wants them;
   * a copy that fails to start (its `FailureReason` says why) is started again after the same
   * delay, as SageMaker keeps provisioning toward the desired copies.
   */
  private startCopiesLater(component: ComponentRecord): void {
    if (this.starting.has(component)) return;
    this.starting.add(component);
    this.later(this.delays().copyStartMs, async () => {
      const wanted = () => this.components.get(component.name) === component && component.status === 'InService' && component.desiredCopies > 0;
      let failed = false;
      try {
        if (wanted()) await this.startCopies(component);
      } catch (error) {
        component.failureReason = failureReason(error);
        component.modified = new Date();
        failed = true;
      } finally {
        this.starting.delete(component);
      }
      if (failed && wanted() && component.currentCopies === 0) this.startCopiesLater(component);
    });
  }

  updateInferenceComponentRuntimeConfig(body: unknown): unknown {
    const input = parseInput(updateRuntimeSchema, body);
    const component = this.component(input.InferenceComponentName);
    if (component.status !== 'InService') throw validationException(`Cannot update inference component "${component.arn}" while its status is ${component.status}.`);
    this.setCopyCount(component, input.DesiredRuntimeConfig.CopyCount);
    return { InferenceComponentArn: component.arn };
  }

  deleteInferenceComponent(body: unknown): unknown {
    const { InferenceComponentName } = parseInput(z.looseObject({ InferenceComponentName: name }), body);
    const component = this.component(InferenceComponentName);
    if (component.status === 'Deleting') return {};
    component.status = 'Deleting';
    component.modified = new Date();
    component.currentCopies = 0;
    const host = component.host;
    delete component.host;
    void host?.stop();
    this.later(this.delays().deleteMs, () => {
      if (this.components.get(InferenceComponentName) === component) this.components.delete(InferenceComponentName);
    });
    return {};
  }

  /** The resources, as JSON that {@link restore} takes back (what is being deleted is left out: it is gone once restored). */
  snapshot(): ControlPlaneSnapshot {
    const iso = (date: Date) => date.toISOString();
    const stored = <T extends { readonly created: Date }>(record: T) => ({ ...record, created: iso(record.created) });
    return {
      models: [...this.models.values()].map(stored),
      endpointConfigs: [...this.endpointConfigs.values()].map(stored),
      endpoints: [...this.endpoints.values()]
        .filter((endpoint) => endpoint.status !== 'Deleting')
        .map(({ hosts: _hosts, created, modified, ...endpoint }) => ({ ...endpoint, created: iso(created), modified: iso(modified) })),
      components: [...this.components.values()]
        .filter((component) => component.status !== 'Deleting')
        .map(({ host: _host, currentCopies: _copies, lastInvokedAt: _invoked, created, modified, ...component }) => ({ ...component, created: iso(created), modified: iso(modified) })),
    };
  }

  /**
   * Takes back the resources of a previous run: what was in service is in service again, its
   * containers starting in the background (invocations answer as for a container being replaced
   * until they run); what was being created is created again.
   */
  restore(snapshot: ControlPlaneSnapshot): void {
    for (const model of snapshot.models) this.models.set(model.input.ModelName, { ...model, created: new Date(model.created) });
    for (const config of snapshot.endpointConfigs) this.endpointConfigs.set(config.input.EndpointConfigName, { ...config, created: new Date(config.created) });
    for (const stored of snapshot.endpoints) {
      const endpoint: EndpointRecord = { ...stored, created: new Date(stored.created), modified: new Date(stored.modified), hosts: new Map() };
      this.endpoints.set(endpoint.name, endpoint);
      const config = this.endpointConfigs.get(endpoint.configName);
      if (config === undefined || endpoint.status === 'Failed') continue;
      if (endpoint.status === 'Creating') {
        this.create(endpoint, config);
        continue;
      }
      endpoint.status = 'InService';
      for (const variant of config.input.ProductionVariants) {
        if (variant.ModelName !== undefined && this.models.has(variant.ModelName)) {
          endpoint.hosts.set(variant.VariantName, this.hosting.hostInBackground(this.containerSpec(variant.ModelName), `${endpoint.name}-${variant.VariantName}`, variant.VariantName));
        }
      }
    }
    for (const stored of snapshot.components) {
      const component: ComponentRecord = { ...stored, currentCopies: 0, created: new Date(stored.created), modified: new Date(stored.modified), lastInvokedAt: Date.now() };
      this.components.set(component.name, component);
      if (component.status === 'Creating') this.bringUp(component);
      else if (component.status === 'InService' && component.desiredCopies > 0 && this.models.has(component.modelName)) {
        component.host = this.hosting.hostInBackground(this.containerSpec(component.modelName), component.name, component.variantName);
        component.currentCopies = component.desiredCopies;
      }
    }
  }

  /** Stops every container and timer. */
  async close(): Promise<void> {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
    const hosts = [...[...this.endpoints.values()].flatMap((endpoint) => [...endpoint.hosts.values()]), ...[...this.components.values()].flatMap((component) => (component.host === undefined ? [] : [component.host]))];
    await Promise.all(hosts.map((host) => host.stop()));
  }
}
