import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod/mini';
import './validation/zod.js';
import { ENV } from '../topology/environment.js';

const schema = z.object({
  [ENV.registryTable]: z.string().check(z.minLength(1)),
  [ENV.lakeBucket]: z.string().check(z.minLength(1)),
  [ENV.modelCacheDir]: z._default(z.string().check(z.minLength(1)), join(tmpdir(), 'model-cache')),
  [ENV.aliasCacheTtlMs]: z._default(z.coerce.number().check(z.int(), z.nonnegative()), 10_000),
  [ENV.memoryMb]: z._default(z.coerce.number().check(z.int(), z.positive()), 1769),
  [ENV.scratchDir]: z._default(z.string().check(z.minLength(1)), tmpdir()),
  [ENV.codeVersion]: z._default(z.string().check(z.minLength(1)), 'unknown'),
  [ENV.trainingQueueUrl]: z.optional(z.string().check(z.minLength(1))),
  [ENV.registryEventBus]: z.optional(z.string().check(z.minLength(1))),
  [ENV.maxReceiveCount]: z.optional(z.coerce.number().check(z.int(), z.positive())),
  [ENV.asyncQueueUrl]: z.optional(z.string().check(z.minLength(1))),
  [ENV.batchQueueUrl]: z.optional(z.string().check(z.minLength(1))),
  [ENV.scoringQueueUrl]: z.optional(z.string().check(z.minLength(1))),
});

/** Settings every platform function reads from its environment. */
export interface PlatformConfig {
  readonly registryTable: string;
  readonly lakeBucket: string;
  /** Where model artifacts are cached on local disk (Lambda's /tmp). */
  readonly modelCacheDir: string;
  /** How long resolved aliases are cached per container. */
  readonly aliasCacheTtlMs: number;
  /** Function memory: ONNX Runtime threads and the ingest engine's memory follow it. */
  readonly memoryMb: number;
  /** Where large temporary files are staged (Lambda's /tmp). */
  readonly scratchDir: string;
  /** The platform's version (package version and commit), recorded in trained models' lineage. */
  readonly codeVersion: string;
  /** The training queue, for functions that submit jobs. */
  readonly trainingQueueUrl?: string;
  /** The EventBridge bus of registry events, for functions that write the registry. */
  readonly registryEventBus?: string;
  /** Deliveries of a message before it moves to the dead-letter queue, for functions with a queue trigger. */
  readonly maxReceiveCount?: number;
  /** The async inference queue, for the function that submits async requests (predict). */
  readonly asyncQueueUrl?: string;
  /** The batch queue, for the functions that submit batch jobs (control plane). */
  readonly batchQueueUrl?: string;
  /** The scoring queue, for the function that plans batch jobs into chunks. */
  readonly scoringQueueUrl?: string;
}

/** Parses the environment; throws naming every missing or invalid variable. */
function parseEnvironment<S extends z.ZodMiniType>(shape: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const result = shape.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid function configuration: ${problems}`);
  }
  return result.data;
}

/**
 * Reads the settings of a function that only touches the registry (the rollout advancer) once at
 * start; throws naming every missing or invalid variable.
 */
export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): Pick<PlatformConfig, 'registryTable' | 'registryEventBus'> {
  const c = parseEnvironment(z.pick(schema, { [ENV.registryTable]: true, [ENV.registryEventBus]: true }), env);
  return { registryTable: c[ENV.registryTable], ...(c[ENV.registryEventBus] === undefined ? {} : { registryEventBus: c[ENV.registryEventBus] }) };
}

/** Reads the configuration once at start; throws naming every missing or invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): PlatformConfig {
  const c = parseEnvironment(schema, env);
  return {
    registryTable: c[ENV.registryTable],
    lakeBucket: c[ENV.lakeBucket],
    modelCacheDir: c[ENV.modelCacheDir],
    aliasCacheTtlMs: c[ENV.aliasCacheTtlMs],
    memoryMb: c[ENV.memoryMb],
    scratchDir: c[ENV.scratchDir],
    codeVersion: c[ENV.codeVersion],
    ...(c[ENV.trainingQueueUrl] === undefined ? {} : { trainingQueueUrl: c[ENV.trainingQueueUrl] }),
    ...(c[ENV.registryEventBus] === undefined ? {} : { registryEventBus: c[ENV.registryEventBus] }),
    ...(c[ENV.maxReceiveCount] === undefined ? {} : { maxReceiveCount: c[ENV.maxReceiveCount] }),
    ...(c[ENV.asyncQueueUrl] === undefined ? {} : { asyncQueueUrl: c[ENV.asyncQueueUrl] }),
    ...(c[ENV.batchQueueUrl] === undefined ? {} : { batchQueueUrl: c[ENV.batchQueueUrl] }),
    ...(c[ENV.scoringQueueUrl] === undefined ? {} : { scoringQueueUrl: c[ENV.scoringQueueUrl] }),
  };
}

/** A setting a function cannot run without although others may (e.g. a queue consumer's `maxReceiveCount`); throws naming its variable. */
export function required<K extends keyof PlatformConfig>(config: PlatformConfig, key: K, variable: string): NonNullable<PlatformConfig[K]> {
  const value = config[key];
  if (value === undefined || value === null) throw new Error(`invalid function configuration: ${variable} is not set`);
  return value as NonNullable<PlatformConfig[K]>;
}

const sagemakerSchema = z.object({
  [ENV.sagemakerResourcePrefix]: z.string().check(z.minLength(1)),
  [ENV.sagemakerExecutionRoleArn]: z.string().check(z.minLength(1)),
  [ENV.tritonImageUri]: z.string().check(z.minLength(1)),
  [ENV.tritonCpuImageUri]: z.string().check(z.minLength(1)),
});

/** The SageMaker settings of a function that deploys versions (`sagemaker: 'deploy'` access). */
export interface SageMakerDeployConfig {
  /** Prefix of every SageMaker resource name the platform creates. */
  readonly resourcePrefix: string;
  /** The role SageMaker assumes for the platform's models and endpoints. */
  readonly executionRoleArn: string;
  /** Triton Inference Server's image in this region (GPU build: endpoints on instances). */
  readonly tritonImageUri: string;
  /** Triton's CPU image in this region (serverless endpoints). */
  readonly tritonCpuImageUri: string;
}

/**
 * Reads the SageMaker settings of a deploying function once at start: `undefined` on a platform
 * without SageMaker settings (none of them set: no version can be registered on SageMaker there);
 * throws naming every missing variable when only some are set.
 */
export function loadSageMakerDeployConfig(env: NodeJS.ProcessEnv = process.env): SageMakerDeployConfig | undefined {
  if (Object.keys(sagemakerSchema.shape).every((name) => env[name] === undefined)) return undefined;
  const c = parseEnvironment(sagemakerSchema, env);
  return {
    resourcePrefix: c[ENV.sagemakerResourcePrefix],
    executionRoleArn: c[ENV.sagemakerExecutionRoleArn],
    tritonImageUri: c[ENV.tritonImageUri],
    tritonCpuImageUri: c[ENV.tritonCpuImageUri],
  };
}

/** The SageMaker resource prefix, for functions that name SageMaker resources; `undefined` on a platform without SageMaker settings. */
export function sagemakerResourcePrefix(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const prefix = env[ENV.sagemakerResourcePrefix];
  return prefix === undefined || prefix === '' ? undefined : prefix;
}
