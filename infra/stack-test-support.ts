/**
 * Shared support of the CDK assertion tests: synthesis as `cdk synth` does it (cdk.json's feature
 * flags, cdk-nag registered before synthesis, asset bundling skipped) and template readers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { PlatformStack, type PlatformStackProps } from './platform-stack.js';
import { REPO_ROOT } from '../topology/paths.js';
import type { Topology } from '../topology/spec.js';

/** Feature flags from cdk.json, so tests synthesize exactly what `cdk synth` does. */
export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> })
  .context;

export interface Synthesized {
  readonly app: App;
  readonly stack: PlatformStack;
  readonly template: Template;
  readonly nag: AwsSolutionsChecks;
}

/** Synthesizes a platform stack with cdk-nag registered before synthesis, as in `infra/app.ts`. */
export function synthesize(stackTopology?: Topology, props: PlatformStackProps = {}): Synthesized {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const stack = new PlatformStack(app, 'TestPlatform', stackTopology === undefined ? props : { ...props, topology: stackTopology });
  const nag = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(nag);
  const template = Template.fromStack(stack);
  return { app, stack, template, nag };
}

/**
 * Every cdk-nag acknowledgement in the app that no finding used, as `<construct path> <rule id>`.
 * Wraps the pack's acknowledgement lookup (cdk-nag 3: `isAcknowledged(resource, ruleId)`) to
 * record which construct's acknowledgement answered each finding.
 */
export function unusedNagAcknowledgements(app: App, nag: AwsSolutionsChecks): string[] {
  const key = Validations.ACKNOWLEDGED_RULES_METADATA_KEY;
  const acknowledgedOn = (construct: IConstruct): string[] =>
    construct.node.metadata
      .filter((entry) => entry.type === key)
      .flatMap((entry) => Object.keys(entry.data as Record<string, string>).map((id) => id.replace(/^annotation::/i, '')));
  const lookup = nag as unknown as { isAcknowledged?: (resource: IConstruct, ruleId: string) => boolean };
  const original = lookup.isAcknowledged;
  if (typeof original !== 'function') throw new Error('cdk-nag no longer has isAcknowledged: update unusedNagAcknowledgements');
  const used = new Set<string>();
  lookup.isAcknowledged = (resource, ruleId) => {
    for (let scope: IConstruct | undefined = resource; scope !== undefined; scope = scope.node.scope) {
      if (acknowledgedOn(scope).includes(ruleId)) {
        used.add(`${scope.node.path} ${ruleId}`);
        return true;
      }
    }
    return false;
  };
  try {
    nag.validateScope(app);
  } finally {
    lookup.isAcknowledged = original;
  }
  return app.node.findAll().flatMap((construct) => acknowledgedOn(construct).map((id) => `${construct.node.path} ${id}`)).filter((ack) => !used.has(ack));
}

export function logicalId(element: unknown): string {
  const cfn = element as CfnElement;
  return Stack.of(cfn).resolve(cfn.logicalId) as string;
}

export interface CfnResourceJson {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface PolicyStatementJson {
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}

/** Allow statements of the identity policies attached to a role. */
export function roleStatements(template: Template, roleLogicalId: string): PolicyStatementJson[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  }) as Record<string, { Properties: { PolicyDocument: { Statement: PolicyStatementJson[] } } }>;
  return Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

export function actionsOf(statements: readonly PolicyStatementJson[]): string[] {
  return statements.flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
}
