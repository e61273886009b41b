/**
 * Stream function: scores the records of a Kinesis Data Stream through the configured alias
 * (`STREAM_SCORING`), writes each batch's micro-batch under `predictions/stream/` and announces
 * scores above the threshold on the platform's event bus (src/stream).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig } from '../../src/config.js';
import { createContainerServing } from '../../src/inference/container-serving.js';
import { createServing } from '../../src/inference/serving.js';
import { registryEventSink } from '../../src/registry/event-bridge-sink.js';
import { withHandlerStack } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { loadStreamScoring } from '../../src/stream/scoring-config.js';
import { routedVariant } from '../../src/stream/score-batch.js';
import { handleStreamBatch } from '../../src/stream/stream-batch.js';

const config = loadConfig();
const scoring = loadStreamScoring();
const observability = createObservability('stream');
const clients = createAwsClients();
const servingDeps = createContainerServing('stream', config, clients, observability);
const serving = createServing(servingDeps);
// Records whose keys the alias routes to one version share one model call.
const variantOf = routedVariant(servingDeps.resolver, scoring);
const events = registryEventSink(observability.logger, config.registryEventBus);
const putObject = (key: string, body: string) =>
  clients.s3.send(new PutObjectCommand({ Bucket: config.lakeBucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));

/** Lambda entry point. */
export const handler = withHandlerStack<KinesisStreamEvent, KinesisStreamBatchResponse>(
  (event) => handleStreamBatch(event, { serving, scoring, variantOf, putObject, events }),
  observability,
  (_event, context) => context.awsRequestId,
);
