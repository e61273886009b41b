import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../errors.js';
import { parseWith } from '../validation/strict-parse.js';
import { backendSchema, servingBackendOf } from './backend-spec.js';

const registration = z.strictObject({ backend: z.optional(backendSchema) });
const parse = (backend: unknown) => parseWith(registration, { backend }, 'version');

describe('backend of a version registration', () => {
  it('takes the defaults of a SageMaker backend and a serverless one', () => {
    // Act
    const gpu = servingBackendOf(parse({ kind: 'sagemaker' }).backend!);
    const cpu = servingBackendOf(parse({ kind: 'sagemaker', serverless: { memorySizeMb: 2048, maxConcurrency: 5 } }).backend!);

    // Assess
    expect(gpu).toMatchObject({ kind: 'sagemaker', instanceType: 'ml.g5.xlarge' });
    expect(cpu).toMatchObject({ kind: 'sagemaker', serverless: { memorySizeMb: 2048, maxConcurrency: 5 } });
  });

  it.each([
    ['a field of another kind', { kind: 'lambda', instanceType: 'ml.g5.xlarge' }, "'backend.instanceType' does not apply here: it belongs to another form of 'backend'"],
    ['a serverless memory size SageMaker does not offer', { kind: 'sagemaker', serverless: { memorySizeMb: 1000, maxConcurrency: 1 } }, 'backend.serverless.memorySizeMb: must be one of 1024, 2048, 3072, 4096, 5120, 6144'],
    ['more instances at least than at most', { kind: 'sagemaker', minInstances: 3, maxInstances: 2 }, 'minInstances must be at most maxInstances'],
  ])('refuses %s, saying so once', (_, backend, message) => {
    // Act
    const refusal = (() => {
      try {
        parse(backend);
        return undefined;
      } catch (error) {
        return error;
      }
    })();

    // Assess
    expect(refusal).toBeInstanceOf(InvalidRequestError);
    expect((refusal as Error).message.split(message)).toHaveLength(2);
  });
});
