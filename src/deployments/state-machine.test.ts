import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, UnusableArtifactError } from '../errors.js';
import type { Deployment } from '../registry/types.js';
import { afterDeployStep, afterStepError, afterTeardownStep, DELETING_FAILED, isNews, isTransient } from './state-machine.js';

const AT = '2026-12-03T18:00:00.000Z';
const deploying: Deployment = { state: 'DEPLOYING', endpointName: 'p-m-v1-abc', inferenceComponentName: 'p-m-v1-abc', reason: 'creating the endpoint', updatedAt: '2026-12-03T17:00:00.000Z' };
const deleting: Deployment = { ...deploying, state: 'DELETING', reason: 'archived: superseded' };

describe('how the deployments function moves a deployment', () => {
  it('deploy steps: waiting keeps it DEPLOYING with what it waits for; IN_SERVICE drops the reason; a failure is torn down, SageMaker’s reason kept', () => {
    // Act
    const waiting = afterDeployStep(deploying, { state: 'DEPLOYING', reason: 'the endpoint is Creating' }, AT);
    const inService = afterDeployStep(deploying, { state: 'IN_SERVICE' }, AT);
    const failed = afterDeployStep(deploying, { state: 'FAILED', reason: 'the endpoint failed: CannotStartContainerError' }, AT);

    // Assess
    expect(waiting).toEqual({ ...deploying, reason: 'the endpoint is Creating', updatedAt: AT });
    expect(inService).toEqual({ state: 'IN_SERVICE', endpointName: 'p-m-v1-abc', inferenceComponentName: 'p-m-v1-abc', updatedAt: AT });
    expect(failed).toEqual({ ...deploying, state: 'DELETING', reason: DELETING_FAILED, failure: 'the endpoint failed: CannotStartContainerError', updatedAt: AT });
  });

  it('a failed deployment stays DELETING with its failure while it is torn down, then is FAILED with the reason and that nothing is left', () => {
    // Prepare
    const failing = afterDeployStep(deploying, { state: 'FAILED', reason: 'the inference component failed: bad archive' }, AT);

    // Act
    const waiting = afterTeardownStep(failing, { done: false, reason: 'deleting the endpoint' }, AT);
    const retried = afterStepError(waiting, Object.assign(new Error('denied'), { name: 'AccessDeniedException' }), AT);
    const done = afterTeardownStep(retried, { done: true }, AT);

    // Assess
    expect(waiting).toMatchObject({ state: 'DELETING', reason: 'deleting the endpoint', failure: 'the inference component failed: bad archive' });
    expect(retried).toMatchObject({ state: 'DELETING', failure: 'the inference component failed: bad archive' });
    expect(done).toEqual({
      state: 'FAILED',
      endpointName: 'p-m-v1-abc',
      inferenceComponentName: 'p-m-v1-abc',
      reason: 'the inference component failed: bad archive (its SageMaker resources were deleted)',
      updatedAt: AT,
    });
  });

  it('teardown steps: waiting stays DELETING; done is DELETED, or DEPLOYING again for a redeploy (its mark dropped)', () => {
    // Act
    const waiting = afterTeardownStep({ ...deleting, redeploy: true }, { done: false, reason: 'deleting the endpoint' }, AT);
    const deleted = afterTeardownStep(deleting, { done: true }, AT);
    const redeploying = afterTeardownStep({ ...deleting, redeploy: true }, { done: true }, AT);

    // Assess
    expect(waiting).toEqual({ ...deleting, redeploy: true, reason: 'deleting the endpoint', updatedAt: AT });
    expect(deleted).toEqual({ state: 'DELETED', endpointName: 'p-m-v1-abc', inferenceComponentName: 'p-m-v1-abc', updatedAt: AT });
    expect(redeploying).toEqual({ state: 'DEPLOYING', endpointName: 'p-m-v1-abc', inferenceComponentName: 'p-m-v1-abc', reason: 'deploying again', updatedAt: AT });
  });

  it('errors: a deploy fails with the error (named when it is an AWS one) and is torn down; a teardown stays DELETING and says why', () => {
    // Prepare
    const quota = Object.assign(new Error('The account-level service limit for ml.g5.xlarge for endpoint usage is 0 Instances'), { name: 'ResourceLimitExceeded' });

    // Act
    const failed = afterStepError(deploying, quota, AT);
    const unusable = afterStepError(deploying, new UnusableArtifactError('the artifact is gone from the lake'), AT);
    const retried = afterStepError(deleting, quota, AT);

    // Assess
    expect(failed).toMatchObject({ state: 'DELETING', failure: 'ResourceLimitExceeded: The account-level service limit for ml.g5.xlarge for endpoint usage is 0 Instances' });
    expect(unusable).toMatchObject({ state: 'DELETING', failure: 'the artifact is gone from the lake' });
    expect(retried).toMatchObject({ state: 'DELETING', reason: expect.stringContaining('retrying after: ResourceLimitExceeded') });
  });

  it('treats throttling and outages as transient, and writes only what is news', () => {
    // Act & Assess
    expect(isTransient(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))).toBe(true);
    expect(isTransient(new DependencyUnavailableError('model artifact store', 1))).toBe(true);
    expect(isTransient(Object.assign(new Error('Could not find model'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }))).toBe(false);
    expect(isNews(deploying, { ...deploying, updatedAt: AT })).toBe(false);
    expect(isNews(deploying, { ...deploying, reason: 'the endpoint is Creating' })).toBe(true);
    expect(isNews(deploying, { ...deploying, state: 'IN_SERVICE' })).toBe(true);
  });
});
