import { describe, expect, it } from 'vitest';
import { parseWith } from '../validation/strict-parse.js';
import { batchJobRequestSchema, resolveBatchJob } from './job-request.js';

const INPUT = 'input: expected {"key": "raw/…"} (a file under raw/, batch/ or curated/) or {"dataset": "<name>", "version": <n>}';
const origin = { id: '20260101000000000-0000abcd', submittedBy: 't', trigger: 'api' } as const;

describe('batchJobRequestSchema', () => {
  it.each([
    ['a dataset without its version', { model: 'credit', input: { dataset: 'credit' } }, INPUT],
    ['a dataset version given as text', { model: 'credit', input: { dataset: 'credit', version: 'latest' } }, INPUT],
    ['an empty input', { model: 'credit', input: {} }, INPUT],
    ['no input', { model: 'credit' }, INPUT],
    ['a null version', { model: 'credit', version: null, input: { key: 'raw/credit/credit.csv' } }, 'version: expected an alias name or a version number'],
    ['a boolean version', { model: 'credit', version: true, input: { key: 'raw/credit/credit.csv' } }, 'version: expected an alias name or a version number'],
  ])('refuses %s saying what is expected', (_, body, message) => {
    // Act
    const parse = () => parseWith(batchJobRequestSchema, body, 'batch job');

    // Assess
    expect(parse).toThrow(`invalid batch job: ${message}`);
  });
});

describe('resolveBatchJob', () => {
  it('refuses an input key over S3\'s 1,024 UTF-8 bytes, though it has fewer characters', async () => {
    // Prepare: 600 × 'é' is 600 characters and 1,200 bytes.
    const key = `raw/${'é'.repeat(600)}`;

    // Act
    const resolved = resolveBatchJob(undefined, { model: 'credit', input: { key } }, origin);

    // Assess
    await expect(resolved).rejects.toThrow("1204 UTF-8 bytes, over S3's 1024");
  });

  it.each(['raw/./credit/credit.csv', 'raw/../models/credit/1/model.onnx', 'raw//credit.csv', 'raw/credit/..'])('refuses the key %s, whose path segments an emulator or tool would resolve', async (key) => {
    // Act
    const resolved = resolveBatchJob(undefined, { model: 'credit', input: { key } }, origin);

    // Assess
    await expect(resolved).rejects.toThrow("a key has no '.', '..' or empty path segment");
  });

  it('takes a key of exactly 1,024 bytes', async () => {
    // Act
    const job = await resolveBatchJob(undefined, { model: 'credit', input: { key: `raw/${'x'.repeat(1020)}` } }, origin);

    // Assess
    expect(job.input).toEqual({ kind: 'file', key: `raw/${'x'.repeat(1020)}` });
  });
});
