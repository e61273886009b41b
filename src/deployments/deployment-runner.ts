/**
 * What the `deployments` function does each run: every version whose deployment is in progress
 * (DEPLOYING or DELETING, from the registry's index) is read again and taken one step further —
 * packaged, created and followed until IN_SERVICE (a failed one torn down, then FAILED), or torn
 * down until DELETED — and what changed is recorded with one conditional update (on the
 * deployment as it was read), so a person's archive or delete that lands meanwhile wins and the
 * next run follows it.
 *
 * Every attempt packages the model afresh from the registered artifact: until the version's
 * SageMaker model exists, the serving package is written again (a first deploy, and a redeploy
 * after FAILED or DELETED, whose teardown deleted the model), so a package that is damaged or was
 * written by an older platform is never deployed; once the model exists, it keeps the package it
 * was created from. Packaging a large model can outlast the schedule's minute: the run that
 * packages first records it (a conditional write, so one of overlapping runs wins), and others
 * leave the version alone for {@link PACKAGING_LEASE_MS}; the run records {@link PACKAGED} once the
 * package is written, so a later run carries on with it.
 */
import { isDeploymentInProgress, type ModelRegistry } from '../registry/registry.js';
import type { Deployment, ModelVersion } from '../registry/types.js';
import type { DeployProgress, DeploymentTarget, TeardownProgress } from './deployer.js';
import { resourceNames } from './names.js';
import { afterDeployStep, afterStepError, afterTeardownStep, isNews, isTransient } from './state-machine.js';
import type { ServingPackage } from './triton-package.js';

/** The reason a deployment records while a run packages it. */
export const PACKAGING = 'packaging the model for Triton';
/** The reason a deployment records once this attempt's package is written (before its SageMaker model is created). */
export const PACKAGED = 'packaged the model for Triton';
/** How long a run that started packaging keeps others off it: the deployments function's timeout (15 min). */
export const PACKAGING_LEASE_MS = 15 * 60_000;

/** What the runner needs. */
export interface DeploymentRunnerDeps {
  readonly registry: Pick<ModelRegistry, 'deploymentsInProgress' | 'getVersion' | 'moveDeployment'>;
  readonly deployer: {
    hasModel(target: DeploymentTarget): Promise<boolean>;
    deploy(target: DeploymentTarget, servingPackage: ServingPackage): Promise<DeployProgress>;
    teardown(target: DeploymentTarget): Promise<TeardownProgress>;
  };
  /** Locates and writes versions' serving packages. */
  readonly servingPackages: {
    locate(version: ModelVersion): ServingPackage;
    write(version: ModelVersion): Promise<ServingPackage>;
  };
  readonly now?: () => Date;
}

/** A deployment the run moved. */
export interface DeploymentStep {
  readonly model: string;
  readonly version: number;
  readonly deployment: Deployment;
}

/**
 * Takes one version's deployment a step further; the deployment as recorded, or `undefined` when
 * nothing changed (nothing new, settled meanwhile, or another writer moved it first). A transient
 * failure is thrown (the next run retries); any other becomes the deployment's reason.
 */
export async function advanceDeployment(deps: DeploymentRunnerDeps, model: string, versionNumber: number): Promise<Deployment | undefined> {
  const version = await deps.registry.getVersion(model, versionNumber);
  let current = version.deployment;
  if (current === undefined || version.backend?.kind !== 'sagemaker' || !isDeploymentInProgress(current.state)) return undefined;
  const target: DeploymentTarget = { names: resourceNames(current.endpointName), backend: version.backend, modelBytes: version.artifact.sizeBytes };
  const now = deps.now ?? (() => new Date());
  let next: Deployment;
  try {
    if (current.state === 'DEPLOYING') {
      let servingPackage: ServingPackage;
      if (current.reason === PACKAGED || (await deps.deployer.hasModel(target))) {
        servingPackage = deps.servingPackages.locate(version);
      } else {
        const packaging = current.reason === PACKAGING && now().getTime() - Date.parse(current.updatedAt) < PACKAGING_LEASE_MS;
        const claim: Deployment = { ...current, reason: PACKAGING, updatedAt: now().toISOString() };
        if (packaging || !(await deps.registry.moveDeployment(model, versionNumber, current, claim))) return undefined;
        current = claim;
        servingPackage = await deps.servingPackages.write(version);
        const packaged: Deployment = { ...current, reason: PACKAGED, updatedAt: now().toISOString() };
        if (!(await deps.registry.moveDeployment(model, versionNumber, current, packaged))) return undefined;
        current = packaged;
      }
      next = afterDeployStep(current, await deps.deployer.deploy(target, servingPackage), now().toISOString());
    } else {
      next = afterTeardownStep(current, await deps.deployer.teardown(target), now().toISOString());
    }
  } catch (error) {
    if (isTransient(error)) throw error;
    next = afterStepError(current, error, now().toISOString());
  }
  if (!isNews(current, next)) return undefined;
  return (await deps.registry.moveDeployment(model, versionNumber, current, next)) ? next : undefined;
}

/** Advances every deployment in progress, one after another; a version that fails goes to `onError` and the others carry on. */
export async function advanceDeployments(deps: DeploymentRunnerDeps, onError: (version: ModelVersion, error: unknown) => void): Promise<DeploymentStep[]> {
  const steps: DeploymentStep[] = [];
  for (const version of await deps.registry.deploymentsInProgress()) {
    try {
      const deployment = await advanceDeployment(deps, version.model, version.version);
      if (deployment !== undefined) steps.push({ model: version.model, version: version.version, deployment });
    } catch (error) {
      onError(version, error);
    }
  }
  return steps;
}
