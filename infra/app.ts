/**
 * CDK app entry point (`cdk.json`: `npx tsx infra/app.ts`).
 *
 * Context:
 * - `stackName`: name of the platform stack (default `ServerlessAiPlatform`).
 * - `alarmEmail`: an address to subscribe to the alarm topic (default: none; subscribe yourself).
 * - `tritonImageUri`: the Triton image SageMaker-backed versions on instances run (default: AWS's
 *   `sagemaker-tritonserver` GPU image of the region, `infra/triton-image.ts`).
 * - `tritonCpuImageUri`: the Triton image serverless SageMaker versions run (default: AWS's
 *   `sagemaker-tritonserver` CPU image of the region).
 * - `sagemakerResourcePrefix`: prefix of the SageMaker resource names the platform creates
 *   (default: derived from the stack name).
 *
 * cdk-nag's AWS Solutions pack runs as a policy-validation plugin at synth: an unacknowledged
 * error fails `cdk synth`; warnings are printed in the validation report.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PlatformStack } from './platform-stack.js';

const app = new App();

const stackName: unknown = app.node.tryGetContext('stackName') ?? 'ServerlessAiPlatform';
if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
  throw new Error(`context stackName must be a CloudFormation stack name (letter, then letters, digits, dashes), got '${String(stackName)}'`);
}

/** A string context value, or undefined when not given. */
function stringContext(name: string, what: string): string | undefined {
  const value: unknown = app.node.tryGetContext(name);
  if (value !== undefined && typeof value !== 'string') throw new Error(`context ${name} must be ${what}, got '${String(value)}'`);
  return value;
}

new PlatformStack(app, stackName, {
  stackName,
  alarmEmail: stringContext('alarmEmail', 'an email address'),
  tritonImageUri: stringContext('tritonImageUri', 'an ECR image URI'),
  tritonCpuImageUri: stringContext('tritonCpuImageUri', 'an ECR image URI'),
  sagemakerResourcePrefix: stringContext('sagemakerResourcePrefix', 'a SageMaker name prefix'),
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  tags: { project: 'serverless-ai-platform' },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
