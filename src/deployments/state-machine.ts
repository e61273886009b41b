/**
 * How a version's deployment moves as the `deployments` function works on it (the moves callers
 * ask for — archive, delete, redeploy — are the registry's: `ModelRegistry.deleteDeployment`,
 * `redeploy`, `setVersionStatus`):
 *
 * ```
 * DEPLOYING ──deploy step──► DEPLOYING (what it waits for) │ IN_SERVICE │ FAILED (SageMaker's reason, or the call's error)
 * DELETING  ──teardown step─► DELETING (what it waits for) │ DELETED │ DEPLOYING (a redeploy, once the failed attempt is gone)
 * ```
 * A transient failure (throttling, an outage) changes nothing: the next run tries again. A
 * teardown never gives up (a deployment left behind would keep billing): its errors are recorded
 * as its reason while it stays DELETING.
 */
import { DependencyUnavailableError, PlatformError } from '../errors.js';
import { isTransientAwsError } from '../aws/dependency-errors.js';
import type { Deployment, DeploymentState } from '../registry/types.js';
import type { DeployProgress, TeardownProgress } from './deployer.js';

/** The deployment in `state`, with `reason` (or none), at `at`; the redeploy mark is kept only while DELETING. */
function moved(current: Deployment, state: DeploymentState, reason: string | undefined, at: string): Deployment {
  const { endpointName, inferenceComponentName, redeploy } = current;
  return {
    state,
    endpointName,
    ...(inferenceComponentName === undefined ? {} : { inferenceComponentName }),
    ...(reason === undefined ? {} : { reason }),
    ...(state === 'DELETING' && redeploy === true ? { redeploy } : {}),
    updatedAt: at,
  };
}

/** The deployment after a deploy step reported `progress`. */
export function afterDeployStep(current: Deployment, progress: DeployProgress, at: string): Deployment {
  return progress.state === 'IN_SERVICE' ? moved(current, 'IN_SERVICE', undefined, at) : moved(current, progress.state, progress.reason, at);
}

/** The deployment after a teardown step reported `progress`: DELETED when done (DEPLOYING again for a redeploy). */
export function afterTeardownStep(current: Deployment, progress: TeardownProgress, at: string): Deployment {
  if (!progress.done) return moved(current, 'DELETING', progress.reason, at);
  return current.redeploy === true ? moved(current, 'DEPLOYING', 'deploying again', at) : moved(current, 'DELETED', undefined, at);
}

/** Whether an error is worth only a retry at the next run (throttling, an outage, a timeout). */
export const isTransient = (error: unknown): boolean => error instanceof DependencyUnavailableError || isTransientAwsError(error);

/**
 * The deployment after a step failed with an error that is not transient: a deploy FAILED with the
 * error's name and message (e.g. SageMaker's `ResourceLimitExceeded` for an instance quota of 0); a
 * teardown stays DELETING with it as its reason.
 */
export function afterStepError(current: Deployment, error: unknown, at: string): Deployment {
  const { name, message } = error as Error;
  // The platform's own errors speak for themselves; SageMaker's are named (`ResourceLimitExceeded: …`).
  const reason = error instanceof PlatformError || name === undefined || name === 'Error' ? message : `${name}: ${message}`;
  return current.state === 'DELETING' ? moved(current, 'DELETING', `retrying after: ${reason}`, at) : moved(current, 'FAILED', reason, at);
}

/** Whether `next` says something `current` does not (its state or reason): only then is it written. */
export const isNews = (current: Deployment, next: Deployment): boolean => current.state !== next.state || current.reason !== next.reason;
