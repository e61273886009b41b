import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topLevelFields } from './model-config.js';
import { findTritonModel } from './model-repository.js';

let repo: string;

async function addModel(name: string, config: string | undefined, versions: readonly string[] = ['1']): Promise<void> {
  await mkdir(join(repo, name), { recursive: true });
  if (config !== undefined) await writeFile(join(repo, name, 'config.pbtxt'), config);
  for (const version of versions) {
    await mkdir(join(repo, name, version), { recursive: true });
    await writeFile(join(repo, name, version, 'model.onnx'), 'onnx');
  }
}

const ONNX_CONFIG = 'platform: "onnxruntime_onnx"\nmax_batch_size: 4';

beforeEach(async () => {
  repo = await mkdtemp(join(tmpdir(), 'triton-repo-'));
});

afterEach(async () => {
  await rm(repo, { recursive: true, force: true });
});

describe('topLevelFields', () => {
  it('reads the top-level scalars of a model configuration and skips nested messages and comments', () => {
    // Act
    const fields = topLevelFields('# a model\nname: "resnet" platform: \'onnxruntime_onnx\'\ninput [ { name: "image" dims: [ 3, 64 ] } ]\nmax_batch_size: 8\ninstance_group { kind: KIND_GPU }');

    // Assess
    expect(Object.fromEntries(fields)).toEqual({ name: 'resnet', platform: 'onnxruntime_onnx', max_batch_size: '8' });
  });
});

describe('findTritonModel', () => {
  it('serves SAGEMAKER_TRITON_DEFAULT_MODEL_NAME, or the only model folder, at its highest version', async () => {
    // Prepare
    await addModel('resnet', ONNX_CONFIG, ['1', '10', '2']);

    // Act
    const named = await findTritonModel(repo, 'resnet');
    const only = await findTritonModel(repo, undefined);

    // Assess
    expect(named).toEqual({ name: 'resnet', version: '10', onnxFile: join(repo, 'resnet', '10', 'model.onnx'), maxBatchSize: 4 });
    expect(only).toEqual(named);
  });

  it.each([
    ['a flat archive', async () => writeFile(join(repo, 'config.pbtxt'), ONNX_CONFIG), undefined, 'Incorrect directory structure. Model directory needs to contain the top level folder'],
    ['an empty archive', async () => undefined, undefined, 'No model found in model repository'],
    ['two models and no default', async () => { await addModel('a', ONNX_CONFIG); await addModel('b', ONNX_CONFIG); }, undefined, /^More than 1 model directory found in model repository\..*: a b$/],
    ['a default that is not there', async () => addModel('a', ONNX_CONFIG), 'b', 'Directory with provided SAGEMAKER_TRITON_DEFAULT_MODEL_NAME b does not exist'],
    ['another backend', async () => addModel('a', 'platform: "tensorrt_plan"'), 'a', /the emulated Triton serves ONNX models only .*platform 'tensorrt_plan'/],
    ['no version folder', async () => addModel('a', ONNX_CONFIG, []), 'a', "failed to load 'a': at least one version must be available under the version policy of model 'a'"],
    ['a configuration naming another model', async () => addModel('a', `name: "b"\n${ONNX_CONFIG}`), 'a', "failed to load 'a': unexpected name 'b' in model configuration, expecting 'a'"],
  ])('refuses %s as Triton or its SageMaker entry point would', async (_, arrange, defaultName, message) => {
    // Prepare
    await arrange();

    // Act
    const error = await findTritonModel(repo, defaultName).catch((e: unknown) => e as Error);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(message);
  });
});
