/**
 * Deployments function: runs on a schedule (EventBridge every minute in AWS, a timer in the local
 * cloud) and takes every SageMaker-backed version whose deployment is in progress one step further:
 * package → create → follow → IN_SERVICE (or, when it fails, delete what it created → FAILED, with
 * SageMaker's reason), and DELETING → delete → DELETED (src/deployments).
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import { createAwsClients } from '../../src/aws/clients.js';
import { loadConfig, loadSageMakerDeployConfig } from '../../src/config.js';
import { SageMakerDeployer } from '../../src/deployments/deployer.js';
import { advanceDeployments } from '../../src/deployments/deployment-runner.js';
import { servingPackageOf, writeServingPackage } from '../../src/deployments/triton-package.js';
import { createScheduledHandler } from '../../src/runtime/handler-stack.js';
import { createObservability } from '../../src/runtime/observability.js';
import { registryEventSink } from '../../src/registry/event-bridge-sink.js';
import { ModelRegistry } from '../../src/registry/registry.js';
import type { ModelVersion } from '../../src/registry/types.js';
import { RegistryTable } from '../../src/storage/table.js';

const config = loadConfig();
const sagemakerConfig = loadSageMakerDeployConfig();
const observability = createObservability('deployments');
const { logger } = observability;
const clients = createAwsClients();
const table = new RegistryTable(clients.dynamo, config.registryTable);
const registry = new ModelRegistry(table, undefined, registryEventSink(logger, config.registryEventBus));
// A platform without SageMaker settings registers no SageMaker versions: there is nothing to deploy.
const deployer =
  sagemakerConfig === undefined
    ? undefined
    : new SageMakerDeployer({ sagemaker: new SageMakerClient({}), autoScaling: new ApplicationAutoScalingClient({}), cloudWatch: new CloudWatchClient({}) }, sagemakerConfig);
const packager = { s3: clients.s3, lakeBucket: config.lakeBucket, scratchDir: config.scratchDir };
const servingPackages = { locate: (version: ModelVersion) => servingPackageOf(packager, version), write: (version: ModelVersion) => writeServingPackage(packager, version) };

/** Lambda entry point. */
export const handler = createScheduledHandler(observability, async () => {
  if (deployer === undefined) return { changed: 0 };
  const steps = await advanceDeployments({ registry, deployer, servingPackages }, (version, error) =>
    logger.error('deployment step failed; retried at the next run', { model: version.model, version: version.version, error: error as Error }),
  );
  for (const step of steps) logger.info('deployment changed', { model: step.model, version: step.version, deployment: step.deployment });
  return { changed: steps.length };
});
