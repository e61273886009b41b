/**
 * The model Triton's SageMaker entry point loads from `/opt/ml/model` (the extracted model
 * archive), chosen and checked as `docker/sagemaker/serve` and Triton's model repository do:
 * `SAGEMAKER_TRITON_DEFAULT_MODEL_NAME`, or the only model folder; its `config.pbtxt` for
 * the ONNX Runtime backend; its highest numbered version folder holding `model.onnx`.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ModelConfigSyntaxError, topLevelFields } from './model-config.js';

/** The environment variable that names the model to serve. */
export const DEFAULT_MODEL_NAME_ENV = 'SAGEMAKER_TRITON_DEFAULT_MODEL_NAME';

/** A model folder Triton would load. */
export interface TritonModel {
  readonly name: string;
  /** The version folder served (the highest number: Triton's default version policy, latest 1). */
  readonly version: string;
  readonly onnxFile: string;
  /** `max_batch_size`: 0 when the model does not batch (shapes include every dimension). */
  readonly maxBatchSize: number;
}

/** The model archive is not a Triton model repository Triton would start with. */
export class InvalidModelRepositoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidModelRepositoryError';
  }
}

const exists = (path: string) => stat(path).then(() => true, () => false);
const isDirectory = (path: string) => stat(path).then((s) => s.isDirectory(), () => false);

async function subdirectories(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
}

/** The model folder the serve script picks, with its messages. */
async function modelName(repository: string, defaultName: string | undefined): Promise<string> {
  if (await exists(join(repository, 'config.pbtxt'))) {
    throw new InvalidModelRepositoryError('Incorrect directory structure. Model directory needs to contain the top level folder');
  }
  if (defaultName !== undefined && defaultName !== '') {
    if (!(await isDirectory(join(repository, defaultName)))) {
      throw new InvalidModelRepositoryError(`Directory with provided ${DEFAULT_MODEL_NAME_ENV} ${defaultName} does not exist`);
    }
    return defaultName;
  }
  const folders = await subdirectories(repository);
  if (folders.length === 0) throw new InvalidModelRepositoryError('No model found in model repository');
  if (folders.length > 1) {
    throw new InvalidModelRepositoryError(
      `More than 1 model directory found in model repository. Either provide a single directory or set ${DEFAULT_MODEL_NAME_ENV} to run the ensemble backend. Directories found in model repository: ${folders.join(' ')}`,
    );
  }
  return folders[0]!;
}

async function readConfig(name: string, file: string): Promise<ReadonlyMap<string, string>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new InvalidModelRepositoryError(`failed to load '${name}': the model has no config.pbtxt (the platform ships an explicit configuration)`);
  }
  try {
    return topLevelFields(text);
  } catch (error) {
    if (error instanceof ModelConfigSyntaxError) throw new InvalidModelRepositoryError(`failed to load '${name}': config.pbtxt is not protobuf text format: ${error.message}`);
    throw error;
  }
}

/** Finds and checks the model to serve in an extracted model archive. */
export async function findTritonModel(repository: string, defaultName: string | undefined): Promise<TritonModel> {
  const name = await modelName(repository, defaultName);
  const folder = join(repository, name);
  const config = await readConfig(name, join(folder, 'config.pbtxt'));
  const configName = config.get('name');
  if (configName !== undefined && configName !== name) {
    throw new InvalidModelRepositoryError(`failed to load '${name}': unexpected name '${configName}' in model configuration, expecting '${name}'`);
  }
  const platform = config.get('platform');
  const backend = config.get('backend');
  if (platform !== 'onnxruntime_onnx' && backend !== 'onnxruntime') {
    throw new InvalidModelRepositoryError(
      `failed to load '${name}': the emulated Triton serves ONNX models only (platform "onnxruntime_onnx" or backend "onnxruntime"); config.pbtxt names ${platform === undefined ? `backend '${backend ?? ''}'` : `platform '${platform}'`}`,
    );
  }
  const maxBatchSize = Number(config.get('max_batch_size') ?? '0');
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 0) {
    throw new InvalidModelRepositoryError(`failed to load '${name}': max_batch_size must be a non-negative integer, got '${config.get('max_batch_size')}'`);
  }
  const versions = (await subdirectories(folder)).filter((entry) => /^\d+$/.test(entry)).sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  if (version === undefined) throw new InvalidModelRepositoryError(`failed to load '${name}': at least one version must be available under the version policy of model '${name}'`);
  const onnxFile = join(folder, version, 'model.onnx');
  if (!(await exists(onnxFile))) {
    throw new InvalidModelRepositoryError(`failed to load '${name}' version ${version}: Not found: unable to find '${onnxFile}' for model instance '${name}'`);
  }
  return { name, version, onnxFile, maxBatchSize };
}
