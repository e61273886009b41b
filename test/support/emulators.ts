import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Topology } from '../../topology/spec.js';
import { topology } from '../../topology/topology.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type Emulators } from '../../local/emulators.js';
import { provisionResources, type ProvisionedResources } from '../../local/provision.js';
import type { EmulatorDelays } from '../../local/sagemaker/settings.js';
import { DOCUMENT_TRANSLATION } from '../../src/aws/clients.js';

/** Emulators with the platform's resources provisioned, and SDK clients pointed at them. */
export interface TestEmulators {
  readonly emulators: Emulators;
  readonly resources: ProvisionedResources;
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

/** Starts the emulators on free ports with a temporary state folder (`sagemakerDelays`: the SageMaker emulator's timings). */
export async function startTestEmulators(testTopology: Topology = topology, sagemakerDelays?: Partial<EmulatorDelays>): Promise<TestEmulators> {
  const stateDir = await mkdtemp(join(tmpdir(), 'emulators-'));
  const emulators = await startEmulators({
    stateDir,
    ports: { dynamodb: 0, s3: 0, sqs: 0, sagemaker: 0, kinesis: 0 },
    buckets: [testTopology.lake.localName],
    ...(sagemakerDelays === undefined ? {} : { sagemakerDelays }),
  });
  const config = (endpoint: string) => ({ region: LOCAL_REGION, endpoint, credentials: LOCAL_CREDENTIALS });
  const rawDynamo = new DynamoDBClient(config(emulators.endpoints.dynamodb));
  const sqs = new SQSClient(config(emulators.endpoints.sqs));
  const resources = await provisionResources(testTopology, { dynamo: rawDynamo, sqs });
  const dynamo = DynamoDBDocumentClient.from(rawDynamo, DOCUMENT_TRANSLATION);
  // As in the local cloud: s3rver stores aws-chunked uploads (streamed bodies with checksums) verbatim.
  const s3 = new S3Client({ ...config(emulators.endpoints.s3), requestChecksumCalculation: 'WHEN_REQUIRED' });
  return {
    emulators,
    resources,
    dynamo,
    s3,
    sqs,
    stop: async () => {
      dynamo.destroy();
      s3.destroy();
      sqs.destroy();
      await emulators.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
