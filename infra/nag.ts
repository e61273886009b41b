/**
 * Helpers for acknowledging cdk-nag findings.
 *
 * cdk-nag 3 runs as a CDK policy-validation plugin; findings are acknowledged with
 * `Validations.of(construct).acknowledge({ id, reason })`, which covers the construct and its
 * children only. Findings that name a specific wildcard use the `RuleId[Finding]` form, for
 * example `AwsSolutions-IAM5[Resource::<LakeBucket1234.Arn>/*]`, so acknowledging one wildcard
 * never hides another.
 */
import { CfnResource, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** Shortest reason accepted: a reason must say why, not just "ok". */
const MIN_REASON_LENGTH = 20;

/**
 * Acknowledges one cdk-nag finding on `scope` (and its children) with a written reason.
 *
 * @param scope - The narrowest construct that carries the finding.
 * @param id - Rule id, optionally with a finding (`AwsSolutions-IAM5[Resource::*]`).
 * @param reason - Why the finding is acceptable here.
 * @throws If the reason is shorter than 20 characters.
 */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  if (reason.trim().length < MIN_REASON_LENGTH) {
    throw new Error(`cdk-nag acknowledgement of ${id} on ${scope.node.path} needs a specific reason, got '${reason}'`);
  }
  Validations.of(scope).acknowledge({ id, reason });
}

/**
 * The id of the `AwsSolutions-IAM5` finding for a wildcard resource built from a resource's
 * `Arn` attribute, e.g. `AwsSolutions-IAM5[Resource::<RegistryTable1234.Arn>/index/*]`.
 *
 * @param element - The CloudFormation resource whose `Arn` the policy statement extends.
 * @param suffix - The wildcard suffix appended to the ARN (`/*`, `/index/*`).
 */
export function iam5ArnWildcardFinding(element: CfnElement, suffix: string): string {
  const logicalId: unknown = Stack.of(element).resolve(element.logicalId);
  if (typeof logicalId !== 'string') {
    throw new Error(`Cannot resolve the logical id of ${element.node.path}`);
  }
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>${suffix}]`;
}

/** The CloudFormation resource behind an L2 construct. */
export function cfnOf(construct: IConstruct): CfnResource {
  const child = construct.node.defaultChild;
  if (child === undefined || !CfnResource.isCfnResource(child)) {
    throw new Error(`${construct.node.path} has no CloudFormation resource`);
  }
  return child;
}
