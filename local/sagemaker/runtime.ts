/**
 * The emulated SageMaker Runtime's `InvokeEndpoint` (`POST /endpoints/{name}/invocations`): body
 * and content type forwarded to the endpoint's container (or the inference component named by
 * `X-Amzn-SageMaker-Inference-Component`), its answer returned with its content type and
 * `X-Amzn-Invoked-Production-Variant`; container errors as `ModelError` (424), a component
 * without copies as `ValidationError` "no capacity" (and a `NoCapacityInvocationFailures`
 * datapoint), injected faults applied first.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from './aws-protocol.js';
import { ACCOUNT, type Arns } from './arns.js';
import type { ControlPlane, EndpointRecord } from './control-plane.js';
import type { Faults } from './faults.js';
import type { HostedModel } from './hosting.js';
import { ContainerGoneError, type ContainerAnswer } from './model-container.js';
import type { Scaling } from './scaling.js';
import type { EmulatorDelays } from './settings.js';

/** What SageMaker answers when an inference component has no copy to serve a request. */
export const NO_CAPACITY_MESSAGE =
  'Inference Component has no capacity to process this request. ApplicationAutoScaling may be in-progress (if configured) or try to increase the capacity by invoking UpdateInferenceComponentRuntimeConfig API.';

/** A successful invocation. */
export interface Invocation {
  readonly body: Buffer;
  readonly contentType: string | undefined;
  readonly variant: string;
}

const validationError = (message: string) => new AwsError(400, 'ValidationError', message);

/** The invocation target chosen for a request: a container and the variant it belongs to. */
interface Target {
  readonly host: HostedModel;
  readonly variant: string;
}

/** `InvokeEndpoint` against the emulated endpoints. */
export class Runtime {
  constructor(
    private readonly arns: Arns,
    private readonly control: ControlPlane,
    private readonly scaling: Scaling,
    private readonly faults: Faults,
    private readonly delays: () => EmulatorDelays,
  ) {}

  private variantTarget(endpoint: EndpointRecord, targetVariant: string | undefined): Target {
    const variants = this.control.variantsOf(endpoint).filter((variant) => endpoint.hosts.has(variant.VariantName));
    if (variants.length === 0) {
      throw validationError(
        'Inference Component Name header is required for endpoints to which you plan to deploy inference components. Please include Inference Component Name header or consider using SageMaker models.',
      );
    }
    if (targetVariant !== undefined) {
      if (!endpoint.hosts.has(targetVariant)) throw validationError(`Variant ${targetVariant} not found for endpoint ${endpoint.name}.`);
      return { host: endpoint.hosts.get(targetVariant)!, variant: targetVariant };
    }
    const weights = variants.map((variant) => variant.InitialVariantWeight ?? 1);
    let pick = Math.random() * weights.reduce((a, b) => a + b, 0);
    const chosen = variants.find((_, i) => (pick -= weights[i]!) < 0) ?? variants[variants.length - 1]!;
    return { host: endpoint.hosts.get(chosen.VariantName)!, variant: chosen.VariantName };
  }

  private componentTarget(endpoint: EndpointRecord, componentName: string): Target {
    const component = this.control.components.get(componentName);
    if (component === undefined || component.endpointName !== endpoint.name || component.status !== 'InService') {
      throw validationError(`Inference Component ${componentName} of account ${ACCOUNT} not found.`);
    }
    component.lastInvokedAt = Date.now();
    if (component.currentCopies === 0 || component.host === undefined) {
      this.scaling.recordNoCapacity(component);
      throw validationError(NO_CAPACITY_MESSAGE);
    }
    return { host: component.host, variant: component.variantName };
  }

  private modelError(endpoint: string, status: number, message: string): AwsError {
    return new AwsError(
      424,
      'ModelError',
      `Received ${status >= 400 && status < 500 ? 'client' : 'server'} error (${status}) from primary with message "${message}". See ${this.arns.logConsoleUrl(endpoint)} in account ${ACCOUNT} for more information.`,
      { OriginalStatusCode: status, OriginalMessage: message, LogStreamArn: this.arns.logGroupArn(endpoint) },
    );
  }

  /** Invokes an endpoint; throws {@link AwsError} as the SageMaker Runtime answers. */
  async invoke(endpointName: string, headers: Readonly<Record<string, string | undefined>>, body: Buffer): Promise<Invocation> {
    const endpoint = this.control.endpoints.get(endpointName);
    if (endpoint === undefined || (endpoint.status !== 'InService' && endpoint.status !== 'Updating')) {
      throw validationError(`Endpoint ${endpointName} of account ${ACCOUNT} not found.`);
    }
    const faults = this.faults.of(endpointName);
    if (faults.throttle === true) throw new AwsError(400, 'ThrottlingException', 'Rate exceeded');
    const componentName = headers['x-amzn-sagemaker-inference-component'];
    const target = componentName === undefined ? this.variantTarget(endpoint, headers['x-amzn-sagemaker-target-variant']) : this.componentTarget(endpoint, componentName);
    const timeout = AbortSignal.timeout(this.delays().invocationTimeoutMs);
    let answer: ContainerAnswer;
    try {
      // Injected latency is the container's: it counts against the invocation timeout.
      if (faults.latencyMs !== undefined) await sleep(faults.latencyMs, undefined, { signal: timeout });
      answer = faults.error !== undefined && faults.error !== null
        ? { status: faults.error.status, contentType: faults.error.contentType, body: Buffer.from(faults.error.body ?? '') }
        : await target.host.invoke(body, headers['content-type'], timeout);
    } catch (error) {
      if (timeout.aborted) {
        throw this.modelError(
          endpointName,
          0,
          'Your invocation timed out while waiting for a response from container primary. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.',
        );
      }
      if (!(error instanceof ContainerGoneError)) throw error;
      throw this.modelError(
        endpointName,
        0,
        `Amazon SageMaker could not get a response from the ${endpointName} endpoint. This can occur when CPU or memory utilization is high. To check your utilization, see Amazon CloudWatch. To fix this problem, use an instance type with more CPU capacity or memory.`,
      );
    }
    if (answer.status >= 400) throw this.modelError(endpointName, answer.status, answer.body.toString('utf8'));
    return { body: answer.body, contentType: answer.contentType, variant: target.variant };
  }
}
