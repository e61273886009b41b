/**
 * A version's deployment through its life, on dynalite: registered on the SageMaker backend, taken
 * forward by the deployments runner (a scripted deployer stands in for SageMaker: the deployer's
 * own calls are tested against mocked clients), archived, deleted, redeployed; each state change
 * one conditional write, announced as a `DeploymentChanged` event.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { draftVersion } from '../../test/support/model-versions.js';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ConflictError, InvalidRequestError } from '../errors.js';
import type { RegistryEvent } from '../registry/events.js';
import { aliasSk, modelPk } from '../registry/keys.js';
import { ModelRegistry } from '../registry/registry.js';
import type { ModelVersion, SageMakerBackend } from '../registry/types.js';
import { RegistryTable } from '../storage/table.js';
import type { DeployProgress, DeploymentTarget, TeardownProgress } from './deployer.js';
import { advanceDeployment, advanceDeployments, PACKAGED, PACKAGING, type DeploymentRunnerDeps } from './deployment-runner.js';
import { deploymentNamer } from './names.js';

const TO_ZERO: SageMakerBackend = { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 0, maxInstances: 1 };

let env: TestEmulators;
let registry: ModelRegistry;
const events: RegistryEvent[] = [];
/**
 * What the scripted deployer answers next for the test's model (the table is shared by the file's
 * tests, so a run also meets other tests' versions: they keep waiting), and what it was asked.
 */
let scripted = '';
let deploySteps: (DeployProgress | Error)[] = [];
let teardownSteps: (TeardownProgress | Error)[] = [];
const asked: { what: 'deploy' | 'teardown'; target: DeploymentTarget }[] = [];
let deps: DeploymentRunnerDeps;
/** The SageMaker models the scripted deployer created (a deploy step that does not throw creates it; a finished teardown deletes it). */
const models = new Set<string>();
/** The serving packages written, by `<model>/<version>`, and what holds up the next write. */
const packagesWritten: string[] = [];
let packagingGate: ((version: ModelVersion) => Promise<void>) | undefined;

const next = <T>(target: DeploymentTarget, steps: (T | Error)[], waiting: T): T => {
  if (!target.names.endpoint.startsWith(`sap-${scripted}-`)) return waiting;
  const step = steps.shift();
  if (step === undefined) throw new Error('the test scripted no more steps');
  if (step instanceof Error) throw step;
  return step;
};

beforeAll(async () => {
  env = await startTestEmulators();
  registry = new ModelRegistry(new RegistryTable(env.dynamo, env.resources.tableName), undefined, { publish: async (event) => void events.push(event as RegistryEvent) });
  deps = {
    registry,
    deployer: {
      hasModel: async (target) => models.has(target.names.model),
      deploy: async (target) => {
        asked.push({ what: 'deploy', target });
        const progress = next<DeployProgress>(target, deploySteps, { state: 'DEPLOYING', reason: 'waiting' });
        models.add(target.names.model);
        return progress;
      },
      teardown: async (target) => {
        asked.push({ what: 'teardown', target });
        const progress = next<TeardownProgress>(target, teardownSteps, { done: false, reason: 'waiting' });
        if (progress.done) models.delete(target.names.model);
        return progress;
      },
    },
    servingPackages: {
      locate: (version) => ({ bucket: 'lake', key: `models/${version.model}/serving/v${version.version}/model.tar.gz`, uri: 's3://lake/x', tritonModelName: version.model }),
      write: async (version) => {
        packagesWritten.push(`${version.model}/${version.version}`);
        await packagingGate?.(version);
        return deps.servingPackages.locate(version);
      },
    },
  };
});
afterAll(async () => env?.stop());
beforeEach(() => {
  events.length = 0;
  asked.length = 0;
  deploySteps = [];
  teardownSteps = [];
  packagesWritten.length = 0;
  packagingGate = undefined;
});

/** A model with one version on the SageMaker backend, whose deployment the scripted deployer drives; events start after it. */
async function sagemakerVersion(model: string, backend: SageMakerBackend = TO_ZERO) {
  scripted = model;
  await registry.createModel({ name: model });
  const version = await registry.registerVersion(draftVersion(model, { backend }), deploymentNamer('sap'));
  events.length = 0;
  return version;
}
const inProgress = async () => (await registry.deploymentsInProgress()).map((v) => `${v.model}/${v.version}`);

describe('registering on the SageMaker backend', () => {
  it('records the backend and a DEPLOYING deployment under its SageMaker names, lists it as in progress, and announces it', async () => {
    // Act
    await registry.createModel({ name: 'reg.gpu' });
    const version = await registry.registerVersion(draftVersion('reg.gpu', { backend: TO_ZERO }), deploymentNamer('sap'));

    // Assess
    expect(version.backend).toEqual(TO_ZERO);
    expect(version.deployment).toMatchObject({ state: 'DEPLOYING', endpointName: expect.stringMatching(/^sap-reg-gpu-v1-[0-9a-f]{8}$/) });
    expect(version.deployment?.inferenceComponentName).toBe(version.deployment?.endpointName);
    expect(await registry.getVersion('reg.gpu', 1)).toEqual(version);
    expect(await inProgress()).toContain('reg.gpu/1');
    expect(events.map((e) => e.type)).toEqual(['ModelVersionRegistered', 'DeploymentChanged']);
    expect(events[1]).toMatchObject({ to: 'DEPLOYING', endpointName: version.deployment?.endpointName });
  });

  it('refuses the SageMaker backend on a platform without SageMaker settings, and records nothing for the lambda backend', async () => {
    // Prepare
    await registry.createModel({ name: 'reg-plain' });

    // Act
    const refused = await registry.registerVersion(draftVersion('reg-plain', { backend: TO_ZERO })).catch((error: unknown) => error);
    const plain = await registry.registerVersion(draftVersion('reg-plain'), deploymentNamer('sap'));

    // Assess
    expect(refused).toBeInstanceOf(InvalidRequestError);
    expect(plain.deployment).toBeUndefined();
    expect(await inProgress()).not.toContain('reg-plain/1');
  });
});

describe('the deployments runner', () => {
  it('follows a deployment to IN_SERVICE, recording what it waits for, and takes it out of the work list', async () => {
    // Prepare
    const version = await sagemakerVersion('run-ok');
    deploySteps = [{ state: 'DEPLOYING', reason: 'creating the endpoint' }, { state: 'DEPLOYING', reason: 'creating the endpoint' }, { state: 'IN_SERVICE' }];

    // Act
    const first = await advanceDeployment(deps, 'run-ok', 1);
    const unchanged = await advanceDeployment(deps, 'run-ok', 1);
    const last = await advanceDeployment(deps, 'run-ok', 1);

    // Assess
    expect(first).toMatchObject({ state: 'DEPLOYING', reason: 'creating the endpoint' });
    expect(unchanged).toBeUndefined();
    expect(last).toMatchObject({ state: 'IN_SERVICE', endpointName: version.deployment?.endpointName });
    expect((await registry.getVersion('run-ok', 1)).deployment?.state).toBe('IN_SERVICE');
    expect(await inProgress()).not.toContain('run-ok/1');
    expect(asked[0]!.target).toMatchObject({ backend: TO_ZERO, names: { endpoint: version.deployment?.endpointName, wakeAlarm: `${version.deployment?.endpointName}-wake` } });
    expect(events.filter((e) => e.type === 'DeploymentChanged')).toEqual([
      expect.objectContaining({ from: 'DEPLOYING', to: 'IN_SERVICE', model: 'run-ok', version: 1 }),
    ]);
  });

  it('packages a version once: a run that overlaps the one packaging it leaves it alone', async () => {
    // Prepare
    await sagemakerVersion('run-pack');
    deploySteps = [{ state: 'DEPLOYING', reason: 'creating the endpoint' }];
    let overlapping: Promise<unknown> | undefined;
    let recordedWhilePackaging: string | undefined;
    packagingGate = async () => {
      recordedWhilePackaging = (await registry.getVersion('run-pack', 1)).deployment?.reason;
      overlapping = advanceDeployment(deps, 'run-pack', 1);
      await overlapping;
    };

    // Act
    const first = await advanceDeployment(deps, 'run-pack', 1);

    // Assess
    expect(await overlapping).toBeUndefined();
    expect(packagesWritten).toEqual(['run-pack/1']);
    expect(first).toMatchObject({ state: 'DEPLOYING', reason: 'creating the endpoint' });
    expect(asked.filter((a) => a.what === 'deploy' && a.target.names.endpoint.startsWith('sap-run-pack-'))).toHaveLength(1);
    expect(recordedWhilePackaging).toBe(PACKAGING);
  });

  it('tears a failed deployment down, then records FAILED with the reason; keeps the version registered, and leaves transient failures for the next run', async () => {
    // Prepare
    await sagemakerVersion('run-fail');
    deploySteps = [
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      Object.assign(new Error('The account-level service limit for ml.g5.xlarge for endpoint usage is 0 Instances'), { name: 'ResourceLimitExceeded', $metadata: { httpStatusCode: 400 } }),
    ];
    teardownSteps = [{ done: false, reason: 'deleting the endpoint' }, { done: true }];
    const failures: unknown[] = [];

    // Act
    const onError = (version: { model: string }, error: unknown) => void (version.model === 'run-fail' && failures.push(error));
    const run = async () => (await advanceDeployments(deps, onError)).filter((step) => step.model === 'run-fail').map((step) => step.deployment);
    const throttledRun = await run();
    const afterThrottle = (await registry.getVersion('run-fail', 1)).deployment?.state;
    const failedRun = await run();
    const teardownRuns = [await run(), await run()];

    // Assess
    expect(throttledRun).toEqual([]);
    expect(failures).toEqual([expect.objectContaining({ name: 'ThrottlingException' })]);
    expect(afterThrottle).toBe('DEPLOYING');
    const failure = expect.stringContaining('ResourceLimitExceeded: The account-level service limit');
    expect(failedRun).toEqual([expect.objectContaining({ state: 'DELETING', failure })]);
    expect(teardownRuns).toEqual([[expect.objectContaining({ state: 'DELETING', reason: 'deleting the endpoint', failure })], [expect.objectContaining({ state: 'FAILED' })]]);
    const stored = await registry.getVersion('run-fail', 1);
    expect(stored).toMatchObject({ status: 'PENDING', deployment: { state: 'FAILED', reason: expect.stringMatching(/^ResourceLimitExceeded: The account-level service limit.*\(its SageMaker resources were deleted\)$/) } });
    expect(stored.deployment).not.toHaveProperty('failure');
    expect(asked.filter((a) => a.what === 'teardown' && a.target.names.endpoint.startsWith('sap-run-fail-'))).toHaveLength(2);
    expect(await inProgress()).not.toContain('run-fail/1');
    expect(events.filter((e) => e.type === 'DeploymentChanged' && e.model === 'run-fail').map((e) => e.type === 'DeploymentChanged' && `${e.from}→${e.to}`)).toEqual(['DEPLOYING→DELETING', 'DELETING→FAILED']);
  });

  it('packages the model afresh on every attempt: again for a redeploy, never twice within one', async () => {
    // Prepare
    await sagemakerVersion('run-repack');
    deploySteps = [
      { state: 'FAILED', reason: 'the inference component failed: Failed to extract model data archive' },
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }),
      { state: 'DEPLOYING', reason: 'creating the endpoint' },
      { state: 'IN_SERVICE' },
    ];
    teardownSteps = [{ done: true }, { done: true }];

    // Act
    await advanceDeployment(deps, 'run-repack', 1);
    const failed = await advanceDeployment(deps, 'run-repack', 1);
    await registry.redeploy('run-repack', 1, { by: 'ops', reason: '' });
    await advanceDeployment(deps, 'run-repack', 1);
    const throttled = await advanceDeployment(deps, 'run-repack', 1).catch((error: unknown) => error);
    const packaged = (await registry.getVersion('run-repack', 1)).deployment;
    const afterPackaging = [await advanceDeployment(deps, 'run-repack', 1), await advanceDeployment(deps, 'run-repack', 1)];

    // Assess
    expect(failed).toMatchObject({ state: 'FAILED' });
    expect(throttled).toMatchObject({ name: 'ThrottlingException' });
    expect(packaged).toMatchObject({ state: 'DEPLOYING', reason: PACKAGED });
    expect(afterPackaging).toEqual([expect.objectContaining({ reason: 'creating the endpoint' }), expect.objectContaining({ state: 'IN_SERVICE' })]);
    expect(packagesWritten).toEqual(['run-repack/1', 'run-repack/1']);
  });

  it('loses to an archive that lands while it deploys: the archive’s DELETING stands and the next run tears down', async () => {
    // Prepare
    await sagemakerVersion('run-race');
    deploySteps = [{ state: 'IN_SERVICE' }];
    const slowDeployer: DeploymentRunnerDeps = {
      ...deps,
      deployer: {
        ...deps.deployer,
        deploy: async (target, pkg) => {
          await registry.setVersionStatus('run-race', 1, { status: 'ARCHIVED', by: 'ops', reason: 'superseded' });
          return deps.deployer.deploy(target, pkg);
        },
      },
    };
    teardownSteps = [{ done: false, reason: 'deleting the endpoint' }, { done: true }];

    // Act
    const lost = await advanceDeployment(slowDeployer, 'run-race', 1);
    const deleting = await advanceDeployment(deps, 'run-race', 1);
    const deleted = await advanceDeployment(deps, 'run-race', 1);

    // Assess
    expect(lost).toBeUndefined();
    expect(deleting).toMatchObject({ state: 'DELETING', reason: 'deleting the endpoint' });
    expect(deleted).toMatchObject({ state: 'DELETED' });
    expect(await registry.getVersion('run-race', 1)).toMatchObject({ status: 'ARCHIVED', deployment: { state: 'DELETED' } });
    expect(await inProgress()).not.toContain('run-race/1');
    expect(events.filter((e) => e.type === 'DeploymentChanged').map((e) => e.type === 'DeploymentChanged' && `${e.from}→${e.to}`)).toEqual(['DEPLOYING→DELETING', 'DELETING→DELETED']);
  });

  it('keeps retrying a teardown SageMaker refuses, saying why', async () => {
    // Prepare
    await sagemakerVersion('run-stuck', { kind: 'sagemaker', instanceType: 'ml.g5.xlarge', minInstances: 1, maxInstances: 1 });
    await registry.deleteDeployment('run-stuck', 1, { by: 'ops', reason: '' });
    teardownSteps = [Object.assign(new Error('Cannot delete endpoint in Creating status'), { name: 'ValidationException', $metadata: { httpStatusCode: 400 } })];

    // Act
    const step = await advanceDeployment(deps, 'run-stuck', 1);

    // Assess
    expect(step).toMatchObject({ state: 'DELETING', reason: 'retrying after: ValidationException: Cannot delete endpoint in Creating status' });
    expect(await inProgress()).toContain('run-stuck/1');
  });
});

describe('deleting and redeploying a deployment', () => {
  it('DELETE: DELETING without archiving; refused while an alias routes to the version, shadows it or names it as fallback', async () => {
    // Prepare
    await sagemakerVersion('del');
    await registry.registerVersion(draftVersion('del'));
    await registry.setAlias('del', 'prod', { routes: [{ version: 1, weight: 100 }], updatedBy: 'a', reason: '', expectedRevision: 0 });
    await registry.setAlias('del', 'cpu', { routes: [{ version: 2, weight: 100 }], updatedBy: 'a', reason: '', expectedRevision: 0 });

    // Act
    const routed = await registry.deleteDeployment('del', 1, { by: 'ops', reason: '' }).catch((error: unknown) => error);
    await registry.setAlias('del', 'prod', { routes: [{ version: 2, weight: 100 }], updatedBy: 'a', reason: '', expectedRevision: 1 });
    await env.dynamo.send(
      new UpdateCommand({ TableName: env.resources.tableName, Key: { pk: modelPk('del'), sk: aliasSk('cpu') }, UpdateExpression: 'SET fallback = :f', ExpressionAttributeValues: { ':f': { version: 1 } } }),
    );
    const fallback = await registry.deleteDeployment('del', 1, { by: 'ops', reason: '' }).catch((error: unknown) => error);
    const archiveRefused = await registry.setVersionStatus('del', 1, { status: 'ARCHIVED', by: 'ops', reason: '' }).catch((error: unknown) => error);
    await env.dynamo.send(new UpdateCommand({ TableName: env.resources.tableName, Key: { pk: modelPk('del'), sk: aliasSk('cpu') }, UpdateExpression: 'REMOVE fallback' }));
    const deleted = await registry.deleteDeployment('del', 1, { by: 'ops', reason: 'cost' });
    const again = await registry.deleteDeployment('del', 1, { by: 'ops', reason: '' });

    // Assess
    expect(routed).toEqual(expect.objectContaining({ message: expect.stringContaining("serves (or shadows) alias(es) 'prod'") }));
    expect(fallback).toBeInstanceOf(ConflictError);
    expect((fallback as Error).message).toContain("is the fallback of alias(es) 'cpu'");
    expect((archiveRefused as Error).message).toContain("is the fallback of alias(es) 'cpu'");
    expect(deleted).toMatchObject({ status: 'PENDING', deployment: { state: 'DELETING', reason: 'deleted by ops: cost' } });
    expect(again.deployment?.state).toBe('DELETING');
    expect(await inProgress()).toContain('del/1');
    await expect(registry.deleteDeployment('del', 2, { by: 'ops', reason: '' })).rejects.toThrowError('served by the predict function');
  });

  it('POST: a FAILED deployment is deleted first, then deploys again; a DELETED one deploys again; others are refused', async () => {
    // Prepare
    await sagemakerVersion('redeploy');
    deploySteps = [{ state: 'FAILED', reason: 'the endpoint failed: bad image' }];
    await advanceDeployment(deps, 'redeploy', 1);
    teardownSteps = [{ done: true }];
    await advanceDeployment(deps, 'redeploy', 1);
    teardownSteps = [{ done: true }, { done: true }];

    // Act
    const requested = await registry.redeploy('redeploy', 1, { by: 'ops', reason: 'fixed the image' });
    const refused = await registry.redeploy('redeploy', 1, { by: 'ops', reason: '' }).catch((error: unknown) => error);
    const afterTeardown = await advanceDeployment(deps, 'redeploy', 1);
    deploySteps = [{ state: 'IN_SERVICE' }];
    await advanceDeployment(deps, 'redeploy', 1);
    await registry.deleteDeployment('redeploy', 1, { by: 'ops', reason: '' });
    await advanceDeployment(deps, 'redeploy', 1);
    const fromDeleted = await registry.redeploy('redeploy', 1, { by: 'ops', reason: '' });

    // Assess
    expect(requested.deployment).toMatchObject({ state: 'DELETING', redeploy: true, reason: 'redeployed by ops: fixed the image' });
    expect((refused as Error).message).toContain('is DELETING; only a FAILED or DELETED deployment can be deployed again');
    expect(afterTeardown).toEqual(expect.objectContaining({ state: 'DEPLOYING', reason: 'deploying again' }));
    expect(afterTeardown?.redeploy).toBeUndefined();
    expect(fromDeleted.deployment?.state).toBe('DEPLOYING');
    expect(await inProgress()).toContain('redeploy/1');
  });

  it('a DELETE or an archive calls off a redeploy on its way, and a write based on an older read loses', async () => {
    // Prepare
    await sagemakerVersion('calloff');
    deploySteps = [{ state: 'FAILED', reason: 'the endpoint failed: bad image' }];
    await advanceDeployment(deps, 'calloff', 1);
    teardownSteps = [{ done: true }];
    await advanceDeployment(deps, 'calloff', 1);
    const failed = (await registry.getVersion('calloff', 1)).deployment!;
    await registry.redeploy('calloff', 1, { by: 'ops', reason: '' });

    // Act
    const deleted = await registry.deleteDeployment('calloff', 1, { by: 'ops', reason: 'never mind' });
    const stale = await registry.moveDeployment('calloff', 1, failed, { ...failed, state: 'DELETING', redeploy: true, updatedAt: new Date().toISOString() });
    teardownSteps = [{ done: true }];
    const afterTeardown = await advanceDeployment(deps, 'calloff', 1);

    // Assess
    expect(deleted.deployment).toMatchObject({ state: 'DELETING', reason: 'deleted by ops: never mind' });
    expect(deleted.deployment).not.toHaveProperty('redeploy');
    expect(stale).toBe(false);
    expect(afterTeardown).toMatchObject({ state: 'DELETED' });
  });

  it('archiving a version whose failed deployment is being redeployed calls the redeploy off', async () => {
    // Prepare
    await sagemakerVersion('calloff-archive');
    deploySteps = [{ state: 'FAILED', reason: 'the endpoint failed: bad image' }];
    await advanceDeployment(deps, 'calloff-archive', 1);
    teardownSteps = [{ done: true }];
    await advanceDeployment(deps, 'calloff-archive', 1);
    await registry.redeploy('calloff-archive', 1, { by: 'ops', reason: '' });

    // Act
    const archived = await registry.setVersionStatus('calloff-archive', 1, { status: 'ARCHIVED', by: 'ops', reason: 'gone' });
    teardownSteps = [{ done: true }];
    const afterTeardown = await advanceDeployment(deps, 'calloff-archive', 1);

    // Assess
    expect(archived.deployment).toMatchObject({ state: 'DELETING', reason: 'archived: gone' });
    expect(archived.deployment).not.toHaveProperty('redeploy');
    expect(afterTeardown).toMatchObject({ state: 'DELETED' });
  });

  it('archiving tears down; an archived version is never deployed again', async () => {
    // Prepare
    await sagemakerVersion('arch');

    // Act
    const archived = await registry.setVersionStatus('arch', 1, { status: 'ARCHIVED', by: 'ops', reason: 'old' });
    teardownSteps = [{ done: true }];
    await advanceDeployment(deps, 'arch', 1);

    // Assess
    expect(archived).toMatchObject({ status: 'ARCHIVED', deployment: { state: 'DELETING', reason: 'archived: old' } });
    await expect(registry.redeploy('arch', 1, { by: 'ops', reason: '' })).rejects.toThrowError('is archived');
    expect(events.map((e) => (e.type === 'DeploymentChanged' ? `${e.from}→${e.to}` : e.type))).toEqual(['VersionStatusChanged', 'DEPLOYING→DELETING', 'DELETING→DELETED']);
  });
});
