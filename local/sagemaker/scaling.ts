/**
 * Application Auto Scaling and CloudWatch alarms, as far as SageMaker's scale-to-zero uses them:
 * scalable targets (`endpoint/<name>/variant/<variant>`, `inference-component/<name>`), scaling
 * policies, metric alarms. The emulator plays CloudWatch and the policies too: a
 * `NoCapacityInvocationFailures` datapoint that breaches an alarm on that component's metric puts
 * it in ALARM and runs its step-scaling actions, which add copies (from zero, after the copy start
 * delay, with the policy's cooldown); every alarm `Period` the alarm is evaluated again on the
 * datapoints of that period: while they breach it stays in ALARM and runs its actions again (as
 * CloudWatch re-invokes Application Auto Scaling actions each period), otherwise it leaves ALARM
 * as its `TreatMissingData` says. A component idle for the scale-in time, whose copies are not
 * starting, goes to zero copies when a target-tracking policy may scale it in and its target's
 * minimum is 0. Target tracking alone never leaves zero, as in AWS.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod/mini';
import { AwsError, epochSeconds, parseInput, validationException } from './aws-protocol.js';
import type { Arns } from './arns.js';
import type { ComponentRecord, ControlPlane } from './control-plane.js';
import type { EmulatorDelays } from './settings.js';

/** The metric SageMaker emits when an inference component without copies is invoked. */
export const NO_CAPACITY_METRIC = 'NoCapacityInvocationFailures';
const SAGEMAKER_NAMESPACE = 'AWS/SageMaker';
const COPY_COUNT = 'sagemaker:inference-component:DesiredCopyCount';
const INSTANCE_COUNT = 'sagemaker:variant:DesiredInstanceCount';

const targetKey = z.looseObject({ ServiceNamespace: z.literal('sagemaker'), ResourceId: z.string(), ScalableDimension: z.string() });
const registerSchema = z.looseObject({ ...targetKey.shape, MinCapacity: z.optional(z.number()), MaxCapacity: z.optional(z.number()), RoleARN: z.optional(z.string()) });
const stepAdjustment = z.looseObject({ MetricIntervalLowerBound: z.optional(z.number()), MetricIntervalUpperBound: z.optional(z.number()), ScalingAdjustment: z.number() });
const policySchema = z.looseObject({
  ...targetKey.shape,
  PolicyName: z.string().check(z.minLength(1, 'Member must have length greater than or equal to 1')),
  PolicyType: z.enum(['StepScaling', 'TargetTrackingScaling']),
  StepScalingPolicyConfiguration: z.optional(
    z.looseObject({ AdjustmentType: z.enum(['ChangeInCapacity', 'ExactCapacity', 'PercentChangeInCapacity']), StepAdjustments: z.array(stepAdjustment), Cooldown: z.optional(z.number()), MetricAggregationType: z.optional(z.string()) }),
  ),
  TargetTrackingScalingPolicyConfiguration: z.optional(z.looseObject({ TargetValue: z.number(), DisableScaleIn: z.optional(z.boolean()) })),
});
const deletePolicySchema = z.looseObject({ ...targetKey.shape, PolicyName: z.string() });
const describeTargetsSchema = z.looseObject({ ServiceNamespace: z.literal('sagemaker'), ResourceIds: z.optional(z.array(z.string())), ScalableDimension: z.optional(z.string()) });
const alarmSchema = z.looseObject({
  AlarmName: z.string().check(z.minLength(1, 'Member must have length greater than or equal to 1')),
  MetricName: z.optional(z.string()),
  Namespace: z.optional(z.string()),
  Statistic: z.optional(z.string()),
  Dimensions: z.optional(z.array(z.object({ Name: z.string(), Value: z.string() }))),
  Period: z.optional(z.number()),
  EvaluationPeriods: z.number(),
  Threshold: z.optional(z.number()),
  ComparisonOperator: z.enum(['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold']),
  AlarmActions: z.optional(z.array(z.string())),
  ActionsEnabled: z.optional(z.boolean()),
  TreatMissingData: z.optional(z.string()),
  DatapointsToAlarm: z.optional(z.number()),
});

type Alarm = z.infer<typeof alarmSchema> & { arn: string; state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'; stateReason: string; stateUpdated: Date; configured: Date };
type Policy = z.infer<typeof policySchema> & { arn: string; created: Date };
type Target = z.infer<typeof registerSchema> & { arn: string; created: Date; MinCapacity: number; MaxCapacity: number };

/** Scalable targets, policies and alarms as JSON ({@link Scaling.snapshot}). */
export interface ScalingSnapshot {
  readonly targets: readonly AsJson<Target, 'created'>[];
  readonly policies: readonly AsJson<Policy, 'created'>[];
  readonly alarms: readonly AsJson<Alarm, 'stateUpdated' | 'configured'>[];
}

/** A record with its dates as ISO strings. */
type AsJson<T, Dates extends string> = { [K in keyof T]: K extends Dates ? string : T[K] };

const keyOf = (resourceId: string, dimension: string) => `${resourceId}|${dimension}`;
const policyKey = (policy: { readonly ResourceId: string; readonly ScalableDimension: string; readonly PolicyName: string }) => `${keyOf(policy.ResourceId, policy.ScalableDimension)}|${policy.PolicyName}`;
const componentOf = (resourceId: string) => /^inference-component\/(.+)$/.exec(resourceId)?.[1];

/** The inference component whose `NoCapacityInvocationFailures` an alarm watches, if it watches one. */
const watchedComponent = (alarm: Alarm) =>
  alarm.MetricName === NO_CAPACITY_METRIC && alarm.Namespace === SAGEMAKER_NAMESPACE ? alarm.Dimensions?.find((d) => d.Name === 'InferenceComponentName')?.Value : undefined;

/** A step policy's last scaling activity: when, and the capacity it scaled from and to. */
interface Activity {
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

function breaches(alarm: Alarm, value: number): boolean {
  const threshold = alarm.Threshold ?? 0;
  switch (alarm.ComparisonOperator) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

/** Application Auto Scaling, CloudWatch alarms and the scaling they drive. */
export class Scaling {
  private readonly targets = new Map<string, Target>();
  private readonly policies = new Map<string, Policy>();
  private readonly alarms = new Map<string, Alarm>();
  /** When each component's `NoCapacityInvocationFailures` datapoints were emitted (epoch ms, oldest first). */
  private readonly noCapacityDatapoints = new Map<string, number[]>();
  /** When each alarm was last evaluated by its period (or went to ALARM). */
  private readonly evaluatedAt = new Map<string, number>();
  /** Each step policy's last scaling activity, for its cooldown. */
  private readonly activities = new Map<string, Activity>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly arns: Arns,
    private readonly control: ControlPlane,
    private readonly delays: () => EmulatorDelays,
    sweepIntervalMs: number,
  ) {
    this.sweeper = setInterval(() => {
      const now = Date.now();
      this.evaluateAlarms(now);
      this.scaleInIdle(now);
    }, sweepIntervalMs);
    this.sweeper.unref();
  }

  private noTarget(key: z.infer<typeof targetKey>) {
    return new AwsError(400, 'ObjectNotFoundException', `No scalable target registered for service namespace: ${key.ServiceNamespace}, resource ID: ${key.ResourceId}, scalable dimension: ${key.ScalableDimension}`);
  }

  /** Checks that a resource id and dimension name an existing SageMaker resource. */
  private checkResource(resourceId: string, dimension: string): void {
    const component = componentOf(resourceId);
    if (component !== undefined) {
      if (dimension !== COPY_COUNT) throw validationException(`Unsupported scalable dimension '${dimension}' for resource ${resourceId}: expected ${COPY_COUNT}`);
      if (!this.control.components.has(component)) throw validationException(`The inference component ${component} does not exist.`);
      return;
    }
    const variant = /^endpoint\/([^/]+)\/variant\/([^/]+)$/.exec(resourceId);
    if (variant === null) throw validationException(`Unsupported resource ID ${resourceId}: expected endpoint/<name>/variant/<variant> or inference-component/<name>`);
    if (dimension !== INSTANCE_COUNT) throw validationException(`Unsupported scalable dimension '${dimension}' for resource ${resourceId}: expected ${INSTANCE_COUNT}`);
    const endpoint = this.control.endpoints.get(variant[1]!);
    if (endpoint === undefined || !this.control.variantsOf(endpoint).some((v) => v.VariantName === variant[2])) {
      throw validationException(`The endpoint ${variant[1]} has no variant ${variant[2]}.`);
    }
  }

  registerScalableTarget(body: unknown): unknown {
    const input = parseInput(registerSchema, body);
    this.checkResource(input.ResourceId, input.ScalableDimension);
    const key = keyOf(input.ResourceId, input.ScalableDimension);
    const existing = this.targets.get(key);
    const minCapacity = input.MinCapacity ?? existing?.MinCapacity;
    const maxCapacity = input.MaxCapacity ?? existing?.MaxCapacity;
    if (minCapacity === undefined || maxCapacity === undefined) throw validationException('MinCapacity and MaxCapacity are required to register a new scalable target.');
    if (minCapacity > maxCapacity) throw validationException(`Minimum capacity cannot be greater than maximum capacity (${minCapacity} > ${maxCapacity}).`);
    const target: Target = { ...input, MinCapacity: minCapacity, MaxCapacity: maxCapacity, arn: existing?.arn ?? this.arns.scalableTarget(randomUUID().replaceAll('-', '')), created: existing?.created ?? new Date() };
    this.targets.set(key, target);
    return { ScalableTargetARN: target.arn };
  }

  deregisterScalableTarget(body: unknown): unknown {
    const input = parseInput(targetKey, body);
    const key = keyOf(input.ResourceId, input.ScalableDimension);
    if (!this.targets.delete(key)) throw this.noTarget(input);
    for (const [policyKey, policy] of this.policies) {
      if (keyOf(policy.ResourceId, policy.ScalableDimension) !== key) continue;
      this.policies.delete(policyKey);
      this.activities.delete(policyKey);
    }
    return {};
  }

  describeScalableTargets(body: unknown): unknown {
    const input = parseInput(describeTargetsSchema, body);
    const targets = [...this.targets.values()].filter(
      (target) => (input.ResourceIds === undefined || input.ResourceIds.includes(target.ResourceId)) && (input.ScalableDimension === undefined || input.ScalableDimension === target.ScalableDimension),
    );
    return {
      ScalableTargets: targets.map((target) => ({
        ServiceNamespace: target.ServiceNamespace,
        ResourceId: target.ResourceId,
        ScalableDimension: target.ScalableDimension,
        MinCapacity: target.MinCapacity,
        MaxCapacity: target.MaxCapacity,
        RoleARN: target.RoleARN ?? `arn:aws:iam::000000000000:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint`,
        CreationTime: epochSeconds(target.created),
        SuspendedState: { DynamicScalingInSuspended: false, DynamicScalingOutSuspended: false, ScheduledScalingSuspended: false },
        ScalableTargetARN: target.arn,
      })),
    };
  }

  putScalingPolicy(body: unknown): unknown {
    const input = parseInput(policySchema, body);
    if (!this.targets.has(keyOf(input.ResourceId, input.ScalableDimension))) throw this.noTarget(input);
    if (input.PolicyType === 'StepScaling' && input.StepScalingPolicyConfiguration === undefined) throw validationException('StepScalingPolicyConfiguration is required for a StepScaling policy.');
    if (input.PolicyType === 'TargetTrackingScaling' && input.TargetTrackingScalingPolicyConfiguration === undefined) {
      throw validationException('TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling policy.');
    }
    const key = policyKey(input);
    const arn = this.policies.get(key)?.arn ?? this.arns.scalingPolicy(randomUUID(), input.ResourceId, input.PolicyName);
    this.policies.set(key, { ...input, arn, created: new Date() });
    return { PolicyARN: arn, Alarms: [] };
  }

  deleteScalingPolicy(body: unknown): unknown {
    const input = parseInput(deletePolicySchema, body);
    this.activities.delete(policyKey(input));
    if (!this.policies.delete(policyKey(input))) {
      throw new AwsError(
        400,
        'ObjectNotFoundException',
        `No scaling policy found for service namespace: ${input.ServiceNamespace}, resource ID: ${input.ResourceId}, scalable dimension: ${input.ScalableDimension}, policy name: ${input.PolicyName}`,
      );
    }
    return {};
  }

  describeScalingPolicies(body: unknown): unknown {
    const input = parseInput(z.looseObject({ ServiceNamespace: z.literal('sagemaker'), ResourceId: z.optional(z.string()), PolicyNames: z.optional(z.array(z.string())) }), body);
    const policies = [...this.policies.values()].filter((p) => (input.ResourceId === undefined || p.ResourceId === input.ResourceId) && (input.PolicyNames === undefined || input.PolicyNames.includes(p.PolicyName)));
    return {
      ScalingPolicies: policies.map(({ arn, created, ...policy }) => ({ ...policy, PolicyARN: arn, CreationTime: epochSeconds(created), Alarms: [] })),
    };
  }

  // --- CloudWatch ---------------------------------------------------------------------------

  putMetricAlarm(body: unknown): unknown {
    const input = parseInput(alarmSchema, body);
    const existing = this.alarms.get(input.AlarmName);
    const now = new Date();
    this.alarms.set(input.AlarmName, {
      ...input,
      arn: this.arns.alarm(input.AlarmName),
      state: existing?.state ?? 'INSUFFICIENT_DATA',
      stateReason: existing?.stateReason ?? 'Unchecked: Initial alarm creation',
      stateUpdated: existing?.stateUpdated ?? now,
      configured: now,
    });
    return {};
  }

  deleteAlarms(body: unknown): unknown {
    const { AlarmNames } = parseInput(z.looseObject({ AlarmNames: z.array(z.string()) }), body);
    const missing = AlarmNames.filter((alarm) => !this.alarms.has(alarm));
    if (missing.length > 0) throw new AwsError(404, 'ResourceNotFound', `${missing.join(', ')} not found`);
    for (const alarm of AlarmNames) {
      this.alarms.delete(alarm);
      this.evaluatedAt.delete(alarm);
    }
    return {};
  }

  describeAlarms(body: unknown): unknown {
    const input = parseInput(z.looseObject({ AlarmNames: z.optional(z.array(z.string())), AlarmNamePrefix: z.optional(z.string()) }), body);
    const alarms = [...this.alarms.values()].filter((a) => (input.AlarmNames === undefined || input.AlarmNames.includes(a.AlarmName)) && (input.AlarmNamePrefix === undefined || a.AlarmName.startsWith(input.AlarmNamePrefix)));
    return {
      MetricAlarms: alarms.map(({ arn, state, stateReason, stateUpdated, configured, ...alarm }) => ({
        ...alarm,
        AlarmArn: arn,
        ActionsEnabled: alarm.ActionsEnabled ?? true,
        AlarmActions: alarm.AlarmActions ?? [],
        StateValue: state,
        StateReason: stateReason,
        StateUpdatedTimestamp: epochSeconds(stateUpdated),
        AlarmConfigurationUpdatedTimestamp: epochSeconds(configured),
      })),
      CompositeAlarms: [],
    };
  }

  private setState(alarm: Alarm, state: Alarm['state'], reason: string): void {
    if (alarm.state === state) return;
    alarm.state = state;
    alarm.stateReason = reason;
    alarm.stateUpdated = new Date();
  }

  /** The statistic of an alarm's metric over its last period ending `now`; `undefined` when no datapoint fell in it. */
  private statistic(alarm: Alarm, component: string, now: number): number | undefined {
    const since = now - (alarm.Period ?? 60) * 1000;
    const count = (this.noCapacityDatapoints.get(component) ?? []).filter((at) => at > since).length;
    if (count === 0) return undefined;
    // Every datapoint is 1: only the sum and the count grow with them.
    return alarm.Statistic === 'Sum' || alarm.Statistic === 'SampleCount' ? count : 1;
  }

  /**
   * Records a `NoCapacityInvocationFailures` datapoint for a component: an alarm on it that is not
   * in ALARM and whose period's statistic now breaches goes to ALARM and runs its actions.
   */
  recordNoCapacity(component: ComponentRecord): void {
    const now = Date.now();
    this.noCapacityDatapoints.set(component.name, [...(this.noCapacityDatapoints.get(component.name) ?? []), now]);
    for (const alarm of this.alarms.values()) {
      if (watchedComponent(alarm) !== component.name || alarm.state === 'ALARM') continue;
      const value = this.statistic(alarm, component.name, now);
      if (value === undefined || !breaches(alarm, value)) continue;
      this.setState(alarm, 'ALARM', `Threshold Crossed: 1 datapoint [${value}] was ${alarm.ComparisonOperator} the threshold (${alarm.Threshold ?? 0}).`);
      this.runActions(alarm, value, now);
    }
  }

  /**
   * Evaluates each no-capacity alarm in ALARM whose period has passed since it was last evaluated:
   * the period's datapoints still breach it → it runs its actions again; they do not → OK; none
   * came → as its `TreatMissingData` says (`notBreaching` OK, `missing` INSUFFICIENT_DATA,
   * `breaching` ALARM with its actions, `ignore` unchanged). Then forgets datapoints older than
   * every alarm's period.
   */
  private evaluateAlarms(now: number): void {
    let longestPeriodMs = 0;
    for (const alarm of this.alarms.values()) {
      const component = watchedComponent(alarm);
      if (component === undefined) continue;
      const periodMs = (alarm.Period ?? 60) * 1000;
      longestPeriodMs = Math.max(longestPeriodMs, periodMs);
      if (alarm.state !== 'ALARM' || now - (this.evaluatedAt.get(alarm.AlarmName) ?? alarm.stateUpdated.getTime()) < periodMs) continue;
      this.evaluatedAt.set(alarm.AlarmName, now);
      const value = this.statistic(alarm, component, now);
      const missing = alarm.TreatMissingData ?? 'missing';
      if (value !== undefined ? breaches(alarm, value) : missing === 'breaching') {
        this.runActions(alarm, value ?? alarm.Threshold ?? 0, now);
      } else if (value !== undefined) {
        this.setState(alarm, 'OK', `Threshold Crossed: 1 datapoint [${value}] was not ${alarm.ComparisonOperator} the threshold (${alarm.Threshold ?? 0}).`);
      } else if (missing === 'notBreaching') {
        this.setState(alarm, 'OK', 'Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].');
      } else if (missing === 'missing') {
        this.setState(alarm, 'INSUFFICIENT_DATA', 'Insufficient Data: 1 datapoint was unknown.');
      }
    }
    for (const [component, datapoints] of this.noCapacityDatapoints) {
      const kept = datapoints.filter((at) => at > now - longestPeriodMs);
      if (kept.length === 0) this.noCapacityDatapoints.delete(component);
      else this.noCapacityDatapoints.set(component, kept);
    }
  }

  /** Runs an alarm's actions for a metric `value`: each step-scaling policy among them scales its component. */
  private runActions(alarm: Alarm, value: number, now: number): void {
    this.evaluatedAt.set(alarm.AlarmName, now);
    if (alarm.ActionsEnabled === false) return;
    for (const action of alarm.AlarmActions ?? []) {
      const policy = [...this.policies.values()].find((candidate) => candidate.arn === action);
      if (policy?.PolicyType === 'StepScaling') this.applyStep(policy, value - (alarm.Threshold ?? 0), now);
    }
  }

  /**
   * Applies a step-scaling policy to its component for a metric `excess` over the alarm's
   * threshold. Within the policy's cooldown after its last activity, scale-in is blocked and a
   * scale-out counts the capacity that activity added (it scales out again only beyond it).
   */
  private applyStep(policy: Policy, excess: number, now: number): void {
    const component = componentOf(policy.ResourceId);
    const record = component === undefined ? undefined : this.control.components.get(component);
    const target = this.targets.get(keyOf(policy.ResourceId, policy.ScalableDimension));
    const config = policy.StepScalingPolicyConfiguration;
    if (record === undefined || target === undefined || config === undefined || record.status !== 'InService') return;
    const step = config.StepAdjustments.find((s) => (s.MetricIntervalLowerBound ?? -Infinity) <= excess && excess < (s.MetricIntervalUpperBound ?? Infinity));
    if (step === undefined) return;
    const adjusted = (capacity: number) =>
      config.AdjustmentType === 'ExactCapacity' ? step.ScalingAdjustment
      : config.AdjustmentType === 'ChangeInCapacity' ? capacity + step.ScalingAdjustment
      : Math.round(capacity * (1 + step.ScalingAdjustment / 100));
    const bounded = (capacity: number) => Math.min(target.MaxCapacity, Math.max(target.MinCapacity, capacity));
    const current = record.desiredCopies;
    let copies = bounded(adjusted(current));
    const last = this.activities.get(policyKey(policy));
    if (last !== undefined && now - last.at < (config.Cooldown ?? 0) * 1000) {
      if (copies < current) return;
      if (last.to > last.from) copies = bounded(adjusted(last.from));
      if (copies <= current) return;
    }
    if (copies === current) return;
    this.activities.set(policyKey(policy), { at: now, from: current, to: copies });
    this.control.setCopyCount(record, copies);
  }

  /** Scales in to zero the components idle longer than the scale-in time (and not starting copies), where scaling allows it. */
  private scaleInIdle(now: number): void {
    for (const record of this.control.components.values()) {
      const starting = record.desiredCopies > record.currentCopies;
      if (record.status !== 'InService' || record.desiredCopies === 0 || starting || now - record.lastInvokedAt < this.delays().scaleInIdleMs) continue;
      const resourceId = `inference-component/${record.name}`;
      const target = this.targets.get(keyOf(resourceId, COPY_COUNT));
      const canScaleIn = [...this.policies.values()].some(
        (policy) => policy.ResourceId === resourceId && policy.PolicyType === 'TargetTrackingScaling' && policy.TargetTrackingScalingPolicyConfiguration?.DisableScaleIn !== true,
      );
      if (target?.MinCapacity === 0 && canScaleIn) this.control.setCopyCount(record, 0);
    }
  }

  /** The scalable targets, policies and alarms, as JSON that {@link restore} takes back. */
  snapshot(): ScalingSnapshot {
    return {
      targets: [...this.targets.values()].map((target) => ({ ...target, created: target.created.toISOString() })),
      policies: [...this.policies.values()].map((policy) => ({ ...policy, created: policy.created.toISOString() })),
      alarms: [...this.alarms.values()].map((alarm) => ({ ...alarm, stateUpdated: alarm.stateUpdated.toISOString(), configured: alarm.configured.toISOString() })),
    };
  }

  /** Takes back the scalable targets, policies and alarms of a previous run. */
  restore(snapshot: ScalingSnapshot): void {
    for (const target of snapshot.targets) this.targets.set(keyOf(target.ResourceId, target.ScalableDimension), { ...target, created: new Date(target.created) });
    for (const policy of snapshot.policies) this.policies.set(policyKey(policy), { ...policy, created: new Date(policy.created) });
    for (const alarm of snapshot.alarms) this.alarms.set(alarm.AlarmName, { ...alarm, stateUpdated: new Date(alarm.stateUpdated), configured: new Date(alarm.configured) });
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
