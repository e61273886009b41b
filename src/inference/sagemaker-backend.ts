/**
 * The SageMaker backend: a version deployed on a SageMaker endpoint (Triton Inference Server)
 * answers through `InvokeEndpoint`, Open Inference Protocol v2 with binary tensor data both ways
 * (`triton-binary.ts`; Triton on SageMaker takes the v2 request on `/invocations` for the model
 * named by `SAGEMAKER_TRITON_DEFAULT_MODEL_NAME`), with `InferenceComponentName` when the
 * deployment has one. Requests are checked against the version's signature before they leave
 * (the same checks, and words, as the ONNX backend) and travel as the tensors those checks made,
 * so the endpoint receives exactly what the ONNX backend would run; answers are checked after they
 * come back (`oip-answer.ts`). Every call goes through its target's circuit breaker (`circuit-breaker.ts`);
 * SageMaker's errors become domain errors (`sagemaker-errors.ts`).
 *
 * A version whose deployment is not `IN_SERVICE`, or whose breaker is open, is not ready: `open`
 * refuses it at once (`BackendUnavailableError`), without calling SageMaker.
 */
import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { randomUUID } from 'node:crypto';
import { PlatformError } from '../errors.js';
import { NO_EVENTS, type EventSink, type PlatformEvent } from '../registry/events.js';
import type { ModelVersion } from '../registry/types.js';
import type { Backend, ServedModel, ServedSignature } from './backend.js';
import { BackendUnavailableError } from './backend-errors.js';
import { BackendCircuit, BREAKER_DEFAULTS, type BreakerSettings, type CircuitTarget } from './circuit-breaker.js';
import { checkedOutputs } from './oip-answer.js';
import { prepareRun } from './predictor.js';
import { sageMakerFailure } from './sagemaker-errors.js';
import type { V2TensorInput, V2TensorOutput } from './tensors.js';
import { encodeTritonRequest } from './triton-binary.js';

/** Seconds a caller is asked to wait for a deployment that is not in service. */
const NOT_IN_SERVICE_RETRY_SECONDS = 30;

/** How the backend behaves. */
export interface SageMakerBackendOptions {
  /** Breaker settings. @default BREAKER_DEFAULTS */
  readonly breaker?: Partial<BreakerSettings>;
  /** Where breaker transitions are announced (`BackendCircuitOpened`, `BackendCircuitClosed`). @default - nowhere */
  readonly events?: EventSink<PlatformEvent>;
}

/** SageMaker-backed versions, one circuit breaker per endpoint (and inference component) in this container. */
export class SageMakerBackend implements Backend {
  private readonly circuits = new Map<string, BackendCircuit>();
  private readonly settings: BreakerSettings;
  private readonly events: EventSink<PlatformEvent>;
  /** This container's id in breaker events. */
  private readonly container = randomUUID().slice(0, 8);

  constructor(
    private readonly runtime: SageMakerRuntimeClient,
    options: SageMakerBackendOptions = {},
  ) {
    this.settings = { ...BREAKER_DEFAULTS, ...options.breaker };
    this.events = options.events ?? NO_EVENTS;
  }

  async open(version: ModelVersion): Promise<ServedModel> {
    const deployment = version.deployment;
    if (deployment?.state !== 'IN_SERVICE') {
      throw new BackendUnavailableError(
        version.model,
        version.version,
        'not-in-service',
        `its SageMaker deployment is ${deployment === undefined ? 'not started' : deployment.state}`,
        NOT_IN_SERVICE_RETRY_SECONDS,
      );
    }
    const target: CircuitTarget = {
      model: version.model,
      version: version.version,
      endpointName: deployment.endpointName,
      ...(deployment.inferenceComponentName === undefined ? {} : { inferenceComponentName: deployment.inferenceComponentName }),
    };
    const circuit = this.circuitOf(target);
    circuit.assertCallable();
    const signature: ServedSignature = {
      inputs: new Map(version.signature.inputs.map((spec) => [spec.name, spec])),
      outputs: version.signature.outputs,
      // Triton checks shared dimensions itself; null elements are never forwarded.
      dimensionNames: new Map(),
      missingValueInputs: new Set(),
    };
    return { version, backend: 'sagemaker', ...signature, run: (inputs, outputNames) => this.forward(version, target, circuit, signature, inputs, outputNames) };
  }

  private circuitOf(target: CircuitTarget): BackendCircuit {
    const key = `${target.endpointName}/${target.inferenceComponentName ?? ''}`;
    let circuit = this.circuits.get(key);
    if (circuit === undefined) {
      circuit = new BackendCircuit(target, this.settings, this.container, (event) => this.events.publish(event));
      this.circuits.set(key, circuit);
    }
    return circuit;
  }

  private async forward(
    version: ModelVersion,
    target: CircuitTarget,
    circuit: BackendCircuit,
    signature: ServedSignature,
    inputs: readonly V2TensorInput[],
    outputNames: readonly string[] | undefined,
  ): Promise<V2TensorOutput[]> {
    // A request the version refuses never reaches the endpoint (nor its breaker).
    const { feeds, fetches } = prepareRun(signature, inputs, outputNames);
    const request = encodeTritonRequest(feeds, fetches);
    return circuit.execute(async (signal) => {
      try {
        const answer = await this.runtime.send(
          new InvokeEndpointCommand({
            EndpointName: target.endpointName,
            ...(target.inferenceComponentName === undefined ? {} : { InferenceComponentName: target.inferenceComponentName }),
            ContentType: request.contentType,
            Body: request.body,
          }),
          { abortSignal: signal },
        );
        return checkedOutputs(version, answer.Body ?? new Uint8Array(), answer.ContentType, fetches);
      } catch (error) {
        if (error instanceof PlatformError) throw error;
        throw sageMakerFailure(error, target);
      }
    });
  }
}
