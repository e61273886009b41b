import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../aws/artifact-store.js';
import { InvalidRequestError } from '../errors.js';
import type { ModelRegistry } from './registry.js';
import { registerVersion } from './register-version.js';

// Answers s3rver does not give: S3 refusing a request as sent, or throttling it.
const s3 = new S3Client({ region: 'us-east-1' });
const mock = mockClient(s3);
const registry = { getModel: async () => ({ name: 'm' }) } as unknown as ModelRegistry;
const deps = { registry, artifacts: new ArtifactStore(s3), lakeBucket: 'lake', inspect: async () => ({ inputs: [], outputs: [] }) };
const register = () => registerVersion(deps, 'm', { artifactUri: 's3://lake/models/m/a.onnx' });
const awsError = (name: string, status: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

beforeEach(() => mock.reset());

describe('registerVersion when S3 refuses the request', () => {
  it.each([
    ['KeyTooLongError', 400],
    ['InvalidArgument', 400],
    ['RequestHeaderSectionTooLarge', 431],
  ])('answers 400 (the request can never succeed), not 503, for %s', async (name, status) => {
    mock.on(GetObjectCommand).rejects(awsError(name, status));
    await expect(register()).rejects.toThrowError(InvalidRequestError);
    await expect(register()).rejects.toThrowError(`the lake refused the request for s3://lake/models/m/a.onnx: ${name}`);
  });

  it('still answers 503 with Retry-After when S3 is throttling or failing', async () => {
    mock.on(GetObjectCommand).rejects(awsError('SlowDown', 503));
    await expect(register()).rejects.toMatchObject({ kind: 'dependency-unavailable', retryAfterSeconds: 1 });
  });
});
