/**
 * The SageMaker names of a version's deployment. SageMaker names (models, endpoint configurations,
 * endpoints, inference components) are at most 63 characters of letters, digits and hyphens,
 * starting and ending with a letter or digit; every name the platform creates starts with its
 * resource prefix (`SAGEMAKER_RESOURCE_PREFIX`, to which IAM scopes the platform's grants).
 */
import { createHash } from 'node:crypto';
import type { DeploymentNames, SageMakerBackend } from '../registry/types.js';

/** Longest SageMaker resource name. */
export const MAX_NAME_CHARS = 63;
/** What SageMaker accepts as a name (up to {@link MAX_NAME_CHARS} characters). */
export const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
/** Longest resource prefix: the rest of a name (model, version, hash) needs the remaining characters. */
export const MAX_PREFIX_CHARS = 24;
/** Hex digits of the hash that keeps names apart when model names differ only in characters SageMaker forbids. */
const HASH_CHARS = 8;

/** Every SageMaker resource of one version's deployment. */
export interface VersionResourceNames {
  /** The model, endpoint configuration, endpoint and (scaling to zero) inference component: one name, as SageMaker keeps each kind apart. */
  readonly base: string;
  readonly model: string;
  readonly endpointConfig: string;
  readonly endpoint: string;
  readonly inferenceComponent: string;
  /** The target-tracking scaling policy (scale out and in with traffic). */
  readonly trackingPolicy: string;
  /** The step-scaling policy that adds a copy when a scaled-to-zero component is called. */
  readonly wakePolicy: string;
  /** The CloudWatch alarm on `NoCapacityInvocationFailures` that triggers the wake policy. */
  readonly wakeAlarm: string;
}

/** Checks a resource prefix once (at start): a valid SageMaker name of at most {@link MAX_PREFIX_CHARS} characters. */
export function assertResourcePrefix(prefix: string): string {
  if (prefix.length > MAX_PREFIX_CHARS || !SAGEMAKER_NAME.test(prefix)) {
    throw new Error(`invalid SageMaker resource prefix '${prefix}': use 1-${MAX_PREFIX_CHARS} letters, digits and hyphens, starting and ending with a letter or digit`);
  }
  return prefix;
}

/**
 * The names of a version's SageMaker resources: `<prefix>-<model>-v<version>-<hash>`, the model
 * name reduced to what SageMaker accepts (runs of other characters become one hyphen) and cut to
 * fit 63 characters; the hash (of the exact model name and version) keeps `a.b` and `a_b` apart.
 */
export function versionResourceNames(prefix: string, model: string, version: number): VersionResourceNames {
  const hash = createHash('sha256').update(`${model}\0${version}`).digest('hex').slice(0, HASH_CHARS);
  const tail = `-v${version}-${hash}`;
  const room = MAX_NAME_CHARS - prefix.length - 1 - tail.length;
  const slug = model
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .slice(0, Math.max(room, 0))
    .replace(/^-+|-+$/g, '');
  return resourceNames(slug === '' ? `${prefix}${tail}` : `${prefix}-${slug}${tail}`);
}

/**
 * Every resource name of a deployment from its base name (the endpoint's, which the version
 * records): what is deployed and what is torn down are always named alike.
 */
export function resourceNames(base: string): VersionResourceNames {
  return {
    base,
    model: base,
    endpointConfig: base,
    endpoint: base,
    inferenceComponent: base,
    trackingPolicy: `${base}-track`,
    wakePolicy: `${base}-wake`,
    wakeAlarm: `${base}-wake`,
  };
}

/** Whether a SageMaker backend scales to zero, which takes an inference component on its endpoint. */
export const scalesToZero = (backend: SageMakerBackend): boolean => backend.serverless === undefined && backend.minInstances === 0;

/** The names a version records in its deployment (`endpointName`, and `inferenceComponentName` when it scales to zero). */
export function deploymentNamer(prefix: string): (model: string, version: number, backend: SageMakerBackend) => DeploymentNames {
  assertResourcePrefix(prefix);
  return (model, version, backend) => {
    const names = versionResourceNames(prefix, model, version);
    return { endpointName: names.endpoint, ...(scalesToZero(backend) ? { inferenceComponentName: names.inferenceComponent } : {}) };
  };
}
