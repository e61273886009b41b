import { describe, expect, it } from 'vitest';
import { apiEvent } from '../../test/support/api-event.js';
import { asHttpError } from '../http/response.js';
import { autoTrainChecker } from '../training/auto-train.js';
import { createDatasetRoutes, type DatasetRoutesDeps } from './dataset-routes.js';
import type { DatasetStore } from './dataset-store.js';
import type { DatasetDefinition } from './types.js';

/** A store that saves any definition as revision 1. */
const datasets = {
  putDataset: async (dataset: string, definition: Omit<DatasetDefinition, 'dataset' | 'revision' | 'updatedAt'>) => ({ ...definition, dataset, revision: 1, updatedAt: '2026-12-03T00:00:00Z' }),
} as unknown as DatasetStore;
const routes = createDatasetRoutes({ datasets, autoTrain: autoTrainChecker } as unknown as DatasetRoutesDeps);

async function putDefinition(body: unknown): Promise<{ status: number; message: string }> {
  const event = apiEvent({ method: 'PUT', resource: '/datasets/{dataset}', pathParameters: { dataset: 'd1' }, body });
  try {
    const response = await routes['PUT /datasets/{dataset}']!(event);
    return { status: response.statusCode, message: response.body };
  } catch (error) {
    return { status: asHttpError(error).statusCode, message: (error as Error).message };
  }
}

const schema = { columns: [{ name: 'a', type: 'float' }, { name: 'kind', type: 'string' }, { name: 'at', type: 'timestamp' }] };
const autoTrain = { modelName: 'x', target: 'a', task: 'regression' };

describe('PUT /datasets/{dataset}: an auto-train spec is checked against the declared schema', () => {
  it.each([
    ['a target that is not a column', { ...autoTrain, target: 'zzz' }, "autoTrain.target 'zzz' is not a column of the declared schema of dataset 'd1'"],
    ['a text target for regression', { ...autoTrain, target: 'kind' }, "autoTrain.target 'kind' is string; regression needs a numeric target"],
    ['a float target for classification', { ...autoTrain, task: 'classification' }, "autoTrain.target 'a' is float; classification needs integer, boolean or text classes"],
    ['a feature that is not a column', { ...autoTrain, features: ['kind', 'nope'] }, "autoTrain.features entry 'nope' is not a column of the declared schema of dataset 'd1'"],
    ['the target as a feature', { ...autoTrain, features: ['a'] }, "autoTrain.features entry 'a' is the target"],
    ['a timestamp feature', { ...autoTrain, features: ['at'] }, "autoTrain.features entry 'at' is a timestamp column"],
  ])('refuses %s (400 naming the field)', async (_, spec, message) => {
    // Act
    const answer = await putDefinition({ schema, autoTrain: spec });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.message).toContain(message);
  });

  it('saves a spec whose columns fit the declared schema, and one without a declared schema (checked against each version)', async () => {
    // Act
    const declared = await putDefinition({ schema, autoTrain: { ...autoTrain, features: ['kind'] } });
    const inferred = await putDefinition({ autoTrain: { ...autoTrain, target: 'zzz' } });

    // Assess
    expect(declared.status).toBe(201);
    expect(inferred.status).toBe(201);
  });
});

describe('GET /datasets/{dataset}/versions/{version}: the version segment', () => {
  it.each(['0', '01', '-1', '1e0', '99999999999'])("refuses '%s' with the version range and 'latest' (400)", async (segment) => {
    // Prepare
    const event = apiEvent({ method: 'GET', resource: '/datasets/{dataset}/versions/{version}', pathParameters: { dataset: 'd1', version: segment } });

    // Act
    const answer = await routes['GET /datasets/{dataset}/versions/{version}']!(event).then(
      () => ({ status: 200, message: '' }),
      (error: unknown) => ({ status: asHttpError(error).statusCode, message: (error as Error).message }),
    );

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.message).toContain('versions are numbered from 1 to 9999999999');
    expect(answer.message).toContain("or 'latest'");
  });
});

describe('PUT /datasets/{dataset}: declared column names follow the rule ingestion applies to a file', () => {
  it.each([
    ['names that differ only in case', [{ name: 'a', type: 'float' }, { name: 'A', type: 'float' }], "schema.columns.1.name 'A' duplicates 'a' (column names are case-insensitive)"],
    ['equal names', [{ name: 'x', type: 'float' }, { name: 'x', type: 'string' }], "schema.columns.1.name 'x' duplicates 'x'"],
    ['a NUL character', [{ name: 'a\u0000b', type: 'float' }], 'schema.columns.0.name'],
  ])('refuses %s (400 naming the field)', async (_, columns, message) => {
    // Act
    const answer = await putDefinition({ schema: { columns } });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.message).toContain(message);
  });

  it('accepts a name with a line break, as a CSV header may have one', async () => {
    // Act
    const answer = await putDefinition({ schema: { columns: [{ name: 'multi\nline', type: 'float' }] } });

    // Assess
    expect(answer.status).toBe(201);
  });
});

describe('POST /datasets/{dataset}/uploads: fileName follows the object key rules', () => {
  it.each([
    ['a NUL character', 'x\u0000.csv', 'contains a control character'],
    ['a line break', 'a\nb.csv', 'contains a control character'],
    ['a name over 255 bytes', `${'é'.repeat(130)}.csv`, 'path segment of 264 bytes'],
  ])('refuses %s (400 naming fileName)', async (_, fileName, reason) => {
    // Prepare
    const event = apiEvent({ method: 'POST', resource: '/datasets/{dataset}/uploads', pathParameters: { dataset: 'd1' }, body: { fileName } });

    // Act
    const answer = await routes['POST /datasets/{dataset}/uploads']!(event).then(
      () => ({ status: 201, message: '' }),
      (error: unknown) => ({ status: asHttpError(error).statusCode, message: (error as Error).message }),
    );

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.message).toContain('invalid fileName');
    expect(answer.message).toContain(reason);
  });
});

describe('PUT /datasets/{dataset}: numbers the registry cannot store', () => {
  it('refuses a reject threshold below DynamoDB\'s smallest magnitude (400 naming it), before anything is written', async () => {
    // Act
    const answer = await putDefinition({ rejectThreshold: 1e-200 });

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.message).toContain('rejectThreshold');
    expect(answer.message).toContain('1e-130');
  });
});
