/**
 * The async routes of the predict function's container: the request store and the lake over its
 * clients, built at module load (small, and shared with the synchronous path), and the SQS client
 * and presigner (`async-transport.ts`) loaded at the first request that needs them.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AwsClients } from '../aws/clients.js';
import { required, type PlatformConfig } from '../config.js';
import { RegistryTable } from '../storage/table.js';
import { ENV } from '../../topology/environment.js';
import { createAsyncApi, type AsyncApi } from './async-routes.js';
import { AsyncRequestStore } from './async-store.js';
import type { AsyncTransport } from './async-transport.js';

/** The async routes over this container's clients and configuration. */
export function createContainerAsyncApi(config: PlatformConfig, clients: AwsClients): AsyncApi {
  const queueUrl = required(config, 'asyncQueueUrl', ENV.asyncQueueUrl);
  let loaded: Promise<AsyncTransport> | undefined;
  const transport = () => (loaded ??= import('./async-transport.js').then((module) => module.createAsyncTransport(queueUrl)));
  return createAsyncApi({
    store: new AsyncRequestStore(new RegistryTable(clients.dynamo, config.registryTable)),
    s3: clients.s3,
    lakeBucket: config.lakeBucket,
    queue: async (requestId) => (await transport()).queue(requestId),
    signPut: async (key, expiresIn) => (await transport()).sign(clients.s3, new PutObjectCommand({ Bucket: config.lakeBucket, Key: key }), expiresIn),
    signGet: async (key, expiresIn) => (await transport()).sign(clients.s3, new GetObjectCommand({ Bucket: config.lakeBucket, Key: key }), expiresIn),
  });
}
