/**
 * The local SageMaker emulator: one loopback HTTP server that the AWS SDK's SageMaker, SageMaker
 * Runtime, Application Auto Scaling and CloudWatch clients all reach (`AWS_ENDPOINT_URL_SAGEMAKER`,
 * `…_SAGEMAKER_RUNTIME`, `…_APPLICATION_AUTO_SCALING`, `…_CLOUDWATCH`): awsJson 1.1 calls by
 * `X-Amz-Target` (`SageMaker.<Op>`, `AnyScaleFrontendService.<Op>`), CloudWatch's query-compatible
 * awsJson 1.0 (`GraniteServiceVersion20100801.<Op>`), the runtime's REST
 * `POST /endpoints/{name}/invocations`, and the admin API under `/_emulator/`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { listen } from '../ports.js';
import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import { Arns } from './arns.js';
import { AwsError, readBody, sendError, sendResult, type Framing } from './aws-protocol.js';
import { ControlPlane, type ControlPlaneSnapshot } from './control-plane.js';
import { Faults } from './faults.js';
import { Hosting } from './hosting.js';
import { Runtime } from './runtime.js';
import { Scaling, type ScalingSnapshot } from './scaling.js';
import { DEFAULT_DELAYS, type EmulatorDelays } from './settings.js';
import { StateFile } from './state-file.js';

/** What the emulator keeps across restarts. */
interface EmulatorSnapshot {
  readonly control: ControlPlaneSnapshot;
  readonly scaling: ScalingSnapshot;
}

/** How often the resources are saved when they changed. */
const SAVE_INTERVAL_MS = 500;

/** How to start the emulator. */
export interface SageMakerEmulatorOptions {
  /** Loopback port; 0 picks a free one. */
  readonly port: number;
  /** Region of the ARNs it answers with. */
  readonly region: string;
  /** Where model archives are read from (the local S3 emulator). */
  readonly s3: S3Client;
  /** Where the resources are saved (they survive a restart), archives extracted and container logs written. */
  readonly stateDir: string;
  /** @default DEFAULT_DELAYS */
  readonly delays?: Partial<EmulatorDelays>;
  /** How often idle components are checked for scale-in. @default 1000 */
  readonly sweepIntervalMs?: number;
}

/** A running emulator. */
export interface SageMakerEmulator {
  /** Base URL for all four SDK clients. */
  readonly endpoint: string;
  close(): Promise<void>;
}

type Operation = (body: unknown) => unknown;

const JSON_1_1: Framing = { contentType: 'application/x-amz-json-1.1' };
const CLOUDWATCH: Framing = { contentType: 'application/x-amz-json-1.0', queryCompatible: true };
const REST_JSON: Framing = { contentType: 'application/json' };

function operations(control: ControlPlane, scaling: Scaling): Record<string, { readonly framing: Framing; readonly ops: Record<string, Operation> }> {
  return {
    SageMaker: {
      framing: JSON_1_1,
      ops: {
        CreateModel: (b) => control.createModel(b),
        DescribeModel: (b) => control.describeModel(b),
        DeleteModel: (b) => control.deleteModel(b),
        CreateEndpointConfig: (b) => control.createEndpointConfig(b),
        DescribeEndpointConfig: (b) => control.describeEndpointConfig(b),
        DeleteEndpointConfig: (b) => control.deleteEndpointConfig(b),
        CreateEndpoint: (b) => control.createEndpoint(b),
        DescribeEndpoint: (b) => control.describeEndpoint(b),
        UpdateEndpoint: (b) => control.updateEndpoint(b),
        DeleteEndpoint: (b) => control.deleteEndpoint(b),
        CreateInferenceComponent: (b) => control.createInferenceComponent(b),
        DescribeInferenceComponent: (b) => control.describeInferenceComponent(b),
        UpdateInferenceComponentRuntimeConfig: (b) => control.updateInferenceComponentRuntimeConfig(b),
        DeleteInferenceComponent: (b) => control.deleteInferenceComponent(b),
      },
    },
    AnyScaleFrontendService: {
      framing: JSON_1_1,
      ops: {
        RegisterScalableTarget: (b) => scaling.registerScalableTarget(b),
        DeregisterScalableTarget: (b) => scaling.deregisterScalableTarget(b),
        DescribeScalableTargets: (b) => scaling.describeScalableTargets(b),
        PutScalingPolicy: (b) => scaling.putScalingPolicy(b),
        DeleteScalingPolicy: (b) => scaling.deleteScalingPolicy(b),
        DescribeScalingPolicies: (b) => scaling.describeScalingPolicies(b),
      },
    },
    GraniteServiceVersion20100801: {
      framing: CLOUDWATCH,
      ops: {
        PutMetricAlarm: (b) => scaling.putMetricAlarm(b),
        DeleteAlarms: (b) => scaling.deleteAlarms(b),
        DescribeAlarms: (b) => scaling.describeAlarms(b),
      },
    },
  };
}

const header = (request: IncomingMessage, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** Starts the emulator on loopback. */
export async function startSageMakerEmulator(options: SageMakerEmulatorOptions): Promise<SageMakerEmulator> {
  let delays: EmulatorDelays = { ...DEFAULT_DELAYS, ...options.delays };
  const currentDelays = () => delays;
  const arns = new Arns(options.region);
  const control = new ControlPlane(arns, new Hosting(options.s3, options.stateDir), currentDelays);
  const scaling = new Scaling(arns, control, currentDelays, options.sweepIntervalMs ?? 1_000);
  const faults = new Faults();
  const runtime = new Runtime(arns, control, scaling, faults, currentDelays);
  const services = operations(control, scaling);
  const admin = { control, faults, delays: currentDelays, setDelays: (changes: Partial<EmulatorDelays>) => (delays = { ...delays, ...changes }) };

  const invoke = async (request: IncomingMessage, response: ServerResponse, endpointName: string) => {
    try {
      const headers = Object.fromEntries(['content-type', 'x-amzn-sagemaker-inference-component', 'x-amzn-sagemaker-target-variant'].map((name) => [name, header(request, name)]));
      const result = await runtime.invoke(endpointName, headers, await readBody(request));
      response
        .writeHead(200, { ...(result.contentType === undefined ? {} : { 'content-type': result.contentType }), 'x-amzn-invoked-production-variant': result.variant, 'x-amzn-requestid': randomUUID() })
        .end(result.body);
    } catch (error) {
      sendError(response, REST_JSON, error instanceof AwsError ? error : new AwsError(500, 'InternalFailure', (error as Error).message));
    }
  };

  const call = async (request: IncomingMessage, response: ServerResponse) => {
    const [service, operation] = (header(request, 'x-amz-target') ?? '').split('.');
    const api = services[service ?? ''];
    const framing = api?.framing ?? JSON_1_1;
    const handler = api?.ops[operation ?? ''];
    if (handler === undefined) {
      sendError(response, framing, new AwsError(400, 'UnknownOperationException', `The local SageMaker emulator does not implement ${header(request, 'x-amz-target') ?? 'this request'}.`));
      return;
    }
    try {
      const text = (await readBody(request)).toString('utf8');
      sendResult(response, framing, await handler(text === '' ? {} : JSON.parse(text)));
    } catch (error) {
      sendError(response, framing, error instanceof AwsError ? error : error instanceof SyntaxError ? new AwsError(400, 'SerializationException', error.message) : new AwsError(500, 'InternalFailure', (error as Error).message));
    }
  };

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]!;
    if (path.startsWith(ADMIN_PREFIX)) {
      void handleAdmin(admin, request, response);
      return;
    }
    const invocation = /^\/endpoints\/([^/]+)\/invocations$/.exec(path);
    if (invocation !== null && request.method === 'POST') void invoke(request, response, decodeURIComponent(invocation[1]!));
    else if (request.method === 'POST') void call(request, response);
    else response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `no route ${request.method} ${path}` }));
  });
  const port = await listen(server, options.port, 'SageMaker emulator');
  // Restored once the port is taken: a port in use starts no container.
  const stateFile = new StateFile<EmulatorSnapshot>(join(options.stateDir, 'state.json'));
  const saved = await stateFile.load();
  if (saved !== undefined) {
    control.restore(saved.control);
    scaling.restore(saved.scaling);
  }
  const save = () => stateFile.save({ control: control.snapshot(), scaling: scaling.snapshot() });
  const saver = setInterval(() => void save().catch((error: unknown) => console.error(`SageMaker emulator: cannot save its resources: ${(error as Error).message}`)), SAVE_INTERVAL_MS);
  saver.unref();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      clearInterval(saver);
      await save();
      scaling.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await control.close();
    },
  };
}
