import { S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';
import { createRequestHandler } from 'local-aws-sqs';
import S3rver from 's3rver';
import { createServer, type Server } from 'node:http';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Event } from 'aws-lambda';
import { HOST, listen } from './ports.js';
import { startSageMakerEmulator } from './sagemaker/server.js';
import type { EmulatorDelays } from './sagemaker/settings.js';

/** Credentials the local cloud uses everywhere: s3rver checks signatures against them. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
/** Region of the local cloud. */
export const LOCAL_REGION = 'us-east-1';

/** Endpoints of the running emulators. */
export interface EmulatorEndpoints {
  readonly dynamodb: string;
  readonly s3: string;
  readonly sqs: string;
  /** SageMaker, SageMaker Runtime, Application Auto Scaling and CloudWatch (one emulator, `local/sagemaker/`). */
  readonly sagemaker: string;
  /** Kinesis Data Streams (kinesalite, in memory; HTTP/1.1 only: clients need `NodeHttpHandler`). */
  readonly kinesis: string;
}

/** Running emulators. */
export interface Emulators {
  readonly endpoints: EmulatorEndpoints;
  /** Subscribes to S3 bucket notifications (the S3 event JSON AWS sends). */
  onS3Event(listener: (event: S3Event) => void): void;
  close(): Promise<void>;
}

/** Where emulators listen and keep state. */
export interface EmulatorOptions {
  /** State folder: DynamoDB and S3 data survive restarts there. */
  readonly stateDir: string;
  /** Ports; 0 picks a free one. */
  readonly ports: { readonly dynamodb: number; readonly s3: number; readonly sqs: number; readonly sagemaker: number; readonly kinesis: number };
  /** Buckets s3rver creates at start. */
  readonly buckets: readonly string[];
  /** The SageMaker emulator's timings. @default DEFAULT_DELAYS of `local/sagemaker/settings.ts` */
  readonly sagemakerDelays?: Partial<EmulatorDelays>;
}

/** S3 notifications carry URL-encoded keys ('+' for a space); s3rver sends them raw. */
function withAwsKeyEncoding(event: S3Event): S3Event {
  const encode = (key: string) => key.split('/').map((part) => encodeURIComponent(part).replace(/%20/g, '+')).join('/');
  return {
    Records: event.Records.map((record) => ({ ...record, s3: { ...record.s3, object: { ...record.s3.object, key: encode(record.s3.object.key) } } })),
  };
}
// An IP endpoint makes the AWS SDK use path-style S3 addressing with no extra setting.
const url = (port: number) => `http://${HOST}:${port}`;

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections?.();
    server.close(() => resolve());
  });
}

/**
 * Starts dynalite (DynamoDB, LevelDB state on disk), s3rver (S3, files on disk,
 * bucket notifications), local-aws-sqs (SQS JSON protocol, in memory) and the SageMaker
 * emulator (endpoints in memory, their model archives read from s3rver) and kinesalite (Kinesis,
 * in memory) on loopback.
 */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  await mkdir(join(options.stateDir, 's3'), { recursive: true });
  await mkdir(join(options.stateDir, 'dynamodb'), { recursive: true });

  const dynamo = dynalite({ path: join(options.stateDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const dynamoPort = await listen(dynamo, options.ports.dynamodb, 'DynamoDB emulator');

  const s3 = new S3rver({
    address: HOST,
    port: options.ports.s3,
    silent: true,
    directory: join(options.stateDir, 's3'),
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const s3Address = await s3.run();

  // local-aws-sqs's own server start throws an unhandled error on a taken port: listen here.
  const { requestHandler, service } = createRequestHandler({ port: options.ports.sqs, hostname: HOST, region: LOCAL_REGION, emulateQueueCreationLifecycle: false });
  const sqs = createServer((request, response) => void requestHandler(request, response));
  const sqsPort = await listen(sqs, options.ports.sqs, 'SQS emulator');
  // Queue URLs carry the port the server took.
  service.PORT = sqsPort;

  const archives = new S3Client({ region: LOCAL_REGION, endpoint: url(s3Address.port), credentials: LOCAL_CREDENTIALS, forcePathStyle: true });
  const sagemaker = await startSageMakerEmulator({
    port: options.ports.sagemaker,
    region: LOCAL_REGION,
    s3: archives,
    stateDir: join(options.stateDir, 'sagemaker'),
    ...(options.sagemakerDelays === undefined ? {} : { delays: options.sagemakerDelays }),
  });

  // Streams live in memory, like the queues: records put before a restart are not scored after it.
  const kinesis = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  const kinesisPort = await listen(kinesis, options.ports.kinesis, 'Kinesis emulator');

  return {
    endpoints: { dynamodb: url(dynamoPort), s3: url(s3Address.port), sqs: url(sqsPort), sagemaker: sagemaker.endpoint, kinesis: url(kinesisPort) },
    onS3Event: (listener) => s3.on('event', (event: S3Event) => listener(withAwsKeyEncoding(event))),
    close: async () => {
      await sagemaker.close();
      archives.destroy();
      await Promise.all([closeServer(dynamo), s3.close(), closeServer(sqs), closeServer(kinesis)]);
    },
  };
}
