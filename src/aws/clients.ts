import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SQSClient } from '@aws-sdk/client-sqs';
import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * SDK retry attempts. Kept low: a request waiting on a throttled dependency is
 * better answered as a dependency outage (503 + Retry-After) than held until API Gateway's 29 s timeout.
 */
const MAX_ATTEMPTS = 2;

/**
 * How items translate to and from JavaScript. Numbers are doubles both ways: beyond 2^53 (a
 * training loss in squared units, a lake statistic) they are stored as the doubles they are
 * rather than refused, and read back as numbers rather than BigInt (which JSON cannot carry).
 */
export const DOCUMENT_TRANSLATION = {
  // A map whose key is `constructor` (a user's tag, say) has a `constructor` that is a string: without
  // `convertClassInstanceToMap` the marshaller takes it for a class instance and refuses it.
  marshallOptions: { removeUndefinedValues: true, allowImpreciseNumbers: true, convertClassInstanceToMap: true },
  unmarshallOptions: { wrapNumbers: Number },
} as const;

/**
 * AWS SDK clients, created once per container and injected into domain code.
 * Endpoints follow the standard `AWS_ENDPOINT_URL_<SERVICE>` settings, which is
 * how the local cloud points the very same code at its emulators.
 */
export interface AwsClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly s3: S3Client;
}

/** Creates the SDK clients a function uses. */
export function createAwsClients(): AwsClients {
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: MAX_ATTEMPTS }), DOCUMENT_TRANSLATION);
  return { dynamo, s3: new S3Client({ maxAttempts: MAX_ATTEMPTS }) };
}

/**
 * An SQS client, for the functions that send messages (kept out of {@link AwsClients} so
 * the predict function's bundle does not carry it).
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({ maxAttempts: MAX_ATTEMPTS });
}

/**
 * A SageMaker Runtime client, for the functions that invoke the platform's endpoints (predict,
 * shadow). One attempt per call: the circuit breaker decides what happens after a failure (the
 * fallback answers, or the caller gets a 503 with `Retry-After`), and SDK retries inside the
 * per-call timeout would only hold the caller longer.
 */
export function createSageMakerRuntimeClient(): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ maxAttempts: 1 });
}

/**
 * A Kinesis client over HTTP/1.1 (`NodeHttpHandler`): the SDK's default HTTP/2 handler exists for
 * SubscribeToShard only, which the platform does not use, and kinesalite (the local cloud's
 * Kinesis) answers HTTP/1.1 only. `config` adds settings (an endpoint, credentials) for tools.
 */
export function createKinesisClient(config: KinesisClientConfig = {}): KinesisClient {
  return new KinesisClient({ maxAttempts: MAX_ATTEMPTS, ...config, requestHandler: new NodeHttpHandler() });
}
