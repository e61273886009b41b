/**
 * CDK app entry point (`cdk.json`: `npx tsx infra/app.ts`).
 *
 * Context:
 * - `stackName`: name of the platform stack (default `ServerlessAiPlatform`).
 * - `alarmEmail`: an address to subscribe to the alarm topic (default: none; subscribe yourself).
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

const alarmEmail: unknown = app.node.tryGetContext('alarmEmail');
if (alarmEmail !== undefined && typeof alarmEmail !== 'string') {
  throw new Error(`context alarmEmail must be an email address, got '${String(alarmEmail)}'`);
}

new PlatformStack(app, stackName, {
  stackName,
  alarmEmail,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  tags: { project: 'serverless-ai-platform' },
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));

app.synth();
