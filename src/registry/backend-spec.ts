/**
 * The `backend` of a version registration: what will serve the version. `{"kind":"lambda"}` (the
 * default) is the predict function; `{"kind":"sagemaker", …}` a SageMaker endpoint the platform
 * deploys, on instances (`instanceType`, `minInstances`, `maxInstances`; `minInstances: 0` scales
 * to zero through an inference component) or serverless (`serverless: {memorySizeMb, maxConcurrency}`).
 */
import * as z from 'zod/mini';
import type { ServingBackend } from './types.js';

/** The instance type of a SageMaker version that names none: one NVIDIA A10G GPU. */
export const DEFAULT_INSTANCE_TYPE = 'ml.g5.xlarge';
/** Most instances (or, scaling to zero, copies) a version's endpoint may scale out to. */
export const MAX_INSTANCES = 20;
/** SageMaker instance types: `ml.<family>.<size>` (`ml.g5.xlarge`, `ml.p4d.24xlarge`, `ml.m5.large`). */
const INSTANCE_TYPE = /^ml\.[a-z][a-z0-9-]*\.[a-z0-9]+$/;

const int = (min: number, max: number) => z.number().check(z.int(), z.gte(min), z.lte(max));

const lambdaBackend = z.strictObject({ kind: z.literal('lambda') });
/** The memory sizes SageMaker serverless endpoints offer, in MB. */
const SERVERLESS_MEMORY_SIZES: readonly number[] = [1024, 2048, 3072, 4096, 5120, 6144];
const serverless = z.strictObject({
  memorySizeMb: z.number().check(z.refine((mb) => SERVERLESS_MEMORY_SIZES.includes(mb), `must be one of ${SERVERLESS_MEMORY_SIZES.join(', ')}`)),
  maxConcurrency: int(1, 200),
});
const sagemakerBackend = z
  .strictObject({
    kind: z.literal('sagemaker'),
    instanceType: z.optional(z.string().check(z.regex(INSTANCE_TYPE, 'expected a SageMaker instance type, e.g. ml.g5.xlarge'))),
    minInstances: z.optional(int(0, MAX_INSTANCES)),
    maxInstances: z.optional(int(1, MAX_INSTANCES)),
    serverless: z.optional(serverless),
  })
  .check(
    z.refine(
      (b) => b.serverless === undefined || (b.instanceType === undefined && b.minInstances === undefined && b.maxInstances === undefined),
      'a serverless backend has no instances: give either "serverless" or "instanceType", "minInstances" and "maxInstances"',
    ),
    z.refine((b) => b.minInstances === undefined || b.maxInstances === undefined || b.minInstances <= b.maxInstances, 'minInstances must be at most maxInstances'),
  );

/** The `backend` field of a version registration. */
export const backendSchema = z.discriminatedUnion('kind', [lambdaBackend, sagemakerBackend]);

/**
 * The backend a registration asked for, with the defaults filled in: the instance type
 * {@link DEFAULT_INSTANCE_TYPE}, `minInstances` 0 (scale to zero), `maxInstances` the larger of 1
 * and `minInstances`.
 */
export function servingBackendOf(requested: z.infer<typeof backendSchema>): ServingBackend {
  if (requested.kind === 'lambda') return { kind: 'lambda' };
  if (requested.serverless !== undefined) return { kind: 'sagemaker', serverless: requested.serverless };
  const minInstances = requested.minInstances ?? 0;
  return {
    kind: 'sagemaker',
    instanceType: requested.instanceType ?? DEFAULT_INSTANCE_TYPE,
    minInstances,
    maxInstances: requested.maxInstances ?? Math.max(1, minInstances),
  };
}
