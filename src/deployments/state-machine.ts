/**
 * How a version's deployment moves as the `deployments` function works on it (the moves callers
 * ask for — archive, delete, redeploy — are the registry's: `ModelRegistry.deleteDeployment`,
 * `redeploy`, `setVersionStatus`):
 *
 * ```
 * DEPLOYING ──deploy step──► DEPLOYING (what it waits for) │ IN_SERVICE │ DELETING with `failure` (SageMaker's reason, or the call's error)
 * DELETING  ──teardown step─► DELETING (what it waits for) │ DELETED │ DEPLOYING (a redeploy, once the failed attempt is gone)
 *                                                         │ FAILED (with `failure`, once what the failed attempt created is gone)
 * ```
 * A deployment that fails is torn down before it is FAILED, so a failed attempt leaves nothing
 * in SageMaker that bills (an endpoint in service whose component failed, an endpoint whose
 * scaling was refused). A transient failure (throttling, an outage) changes nothing: the next run
 * tries again. A teardown never gives up (a deployment left behind would keep billing): its errors
 * are recorded as its reason while it stays DELETING.
 */
import { clip, DependencyUnavailableError, PlatformError } from '../errors.js';
import { isTransientAwsError } from '../aws/dependency-errors.js';
import type { Deployment, DeploymentState } from '../registry/types.js';
import type { DeployProgress, TeardownProgress } from './deployer.js';

/** What a FAILED deployment's reason ends with: its teardown is done. */
export const RESOURCES_DELETED = 'its SageMaker resources were deleted';
/** What a failed deployment says while its teardown runs (its `failure` says why it failed). */
export const DELETING_FAILED = 'deleting what the failed deployment created';

/** The deployment in `state`, with `reason` (or none), at `at`; the redeploy and failure marks are kept only while DELETING. */
function moved(current: Deployment, state: DeploymentState, reason: string | undefined, at: string): Deployment {
  const { endpointName, inferenceComponentName, redeploy, failure } = current;
  return {
    state,
    endpointName,
    ...(inferenceComponentName === undefined ? {} : { inferenceComponentName }),
    ...(reason === undefined ? {} : { reason }),
    ...(state === 'DELETING' && redeploy === true ? { redeploy } : {}),
    ...(state === 'DELETING' && failure !== undefined ? { failure } : {}),
    updatedAt: at,
  };
}

/** The deployment that failed for `reason`: DELETING what it created, with the reason kept as its `failure`. */
function failed(current: Deployment, reason: string, at: string): Deployment {
  return { ...moved(current, 'DELETING', DELETING_FAILED, at), failure: reason };
}

/** The deployment after a deploy step reported `progress`: a failure is torn down first (see the module's description). */
export function afterDeployStep(current: Deployment, progress: DeployProgress, at: string): Deployment {
  if (progress.state === 'IN_SERVICE') return moved(current, 'IN_SERVICE', undefined, at);
  return progress.state === 'FAILED' ? failed(current, progress.reason, at) : moved(current, 'DEPLOYING', progress.reason, at);
}

/**
 * The deployment after a teardown step reported `progress`: when done, FAILED for a failed
 * deployment (its reason kept), DEPLOYING again for a redeploy, else DELETED.
 */
export function afterTeardownStep(current: Deployment, progress: TeardownProgress, at: string): Deployment {
  if (!progress.done) return moved(current, 'DELETING', progress.reason, at);
  if (current.failure !== undefined) return moved(current, 'FAILED', `${current.failure} (${RESOURCES_DELETED})`, at);
  return current.redeploy === true ? moved(current, 'DEPLOYING', 'deploying again', at) : moved(current, 'DELETED', undefined, at);
}

/** Longest error message kept as a deployment's reason. */
const MAX_REASON_CHARS = 500;

/** Whether an error is worth only a retry at the next run (throttling, an outage, a timeout). */
export const isTransient = (error: unknown): boolean => error instanceof DependencyUnavailableError || isTransientAwsError(error);

/**
 * The deployment after a step failed with an error that is not transient: a deploy fails with the
 * error's name and message (e.g. SageMaker's `ResourceLimitExceeded` for an instance quota of 0),
 * torn down first like any failure; a teardown stays DELETING with it as its reason.
 */
export function afterStepError(current: Deployment, error: unknown, at: string): Deployment {
  const { name, message } = error as Error;
  // The platform's own errors speak for themselves; SageMaker's are named (`ResourceLimitExceeded: …`).
  // Clipped: a SageMaker validation message can list every instance type (4.5 KB).
  const reason = clip(error instanceof PlatformError || name === undefined || name === 'Error' ? message : `${name}: ${message}`, MAX_REASON_CHARS);
  return current.state === 'DELETING' ? moved(current, 'DELETING', `retrying after: ${reason}`, at) : failed(current, reason, at);
}

/** Whether `next` says something `current` does not (its state or reason): only then is it written. */
export const isNews = (current: Deployment, next: Deployment): boolean => current.state !== next.state || current.reason !== next.reason;
