/**
 * Operations: the alarms that tell an operator something needs a human (a message in a
 * dead-letter queue, API 5xx or slow answers, function errors or throttles), the SNS topic they
 * go to, and one CloudWatch dashboard of the platform.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { PlatformApi } from './api.js';
import type { JobQueue } from './job-queue.js';
import { pascalCase } from './names.js';
import type { PlatformFunction } from './platform-function.js';
import { assertIntegerInRange } from './validation.js';

/** Properties of a {@link Monitoring}. */
export interface MonitoringProps {
  /** The API whose stage's 5xx rate and latency are watched. */
  readonly api: PlatformApi;

  /** The functions whose errors and throttles are watched. */
  readonly functions: readonly PlatformFunction[];

  /** The queues whose dead-letter queues are watched (and whose depth the dashboard shows). */
  readonly queues: readonly JobQueue[];

  /**
   * An address to subscribe to the alarm topic (SNS sends a confirmation mail first).
   *
   * @default - no subscription: subscribe to `alarmTopic` yourself
   */
  readonly alarmEmail?: string;

  /**
   * Share of API requests answered with a 5xx (0–1, API Gateway's `5XXError` average) at or
   * above which the API alarm fires.
   *
   * @default 0.05
   */
  readonly api5xxRateThreshold?: number;

  /**
   * p99 of API latency (API Gateway's `Latency`, milliseconds) at or above which the API alarm fires.
   *
   * @default 5000
   */
  readonly apiP99LatencyThresholdMs?: number;

  /**
   * Errors of one function in one period at or above which its alarm fires.
   *
   * @default 1
   */
  readonly functionErrorsThreshold?: number;

  /**
   * Throttled invocations of one function in one period at or above which its alarm fires.
   *
   * @default 1
   */
  readonly functionThrottlesThreshold?: number;

  /**
   * Length of the period every alarm judges, in minutes (dead-letter queues: always one minute).
   *
   * @default 5
   */
  readonly periodMinutes?: number;

  /**
   * Consecutive periods the API alarms must breach before they fire (function and
   * dead-letter-queue alarms fire on the first).
   *
   * @default 2
   */
  readonly apiEvaluationPeriods?: number;
}

/**
 * Alarms routed to one SNS topic, and the platform's dashboard. Every alarm notifies the topic
 * when it fires and when it recovers. The topic is encrypted with its own KMS key (which
 * CloudWatch may use: AWS-managed SNS keys do not admit CloudWatch alarms) and TLS-only.
 */
export class Monitoring extends Construct {
  /** Where every alarm sends its notifications. */
  public readonly alarmTopic: sns.Topic;

  /** The key that encrypts the alarm topic. */
  public readonly alarmTopicKey: kms.Key;

  /** One alarm per dead-letter queue, by queue id: any message visible. */
  public readonly deadLetterAlarms: ReadonlyMap<string, cloudwatch.Alarm>;

  /** The API's 5xx-rate alarm. */
  public readonly api5xxAlarm: cloudwatch.Alarm;

  /** The API's p99-latency alarm. */
  public readonly apiLatencyAlarm: cloudwatch.Alarm;

  /** Errors and throttles alarms, by function id. */
  public readonly functionAlarms: ReadonlyMap<string, { readonly errors: cloudwatch.Alarm; readonly throttles: cloudwatch.Alarm }>;

  /** The platform's dashboard: API, functions, queues and dead-letter queues. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const where = this.node.path;
    const rate5xx = props.api5xxRateThreshold ?? 0.05;
    const latencyMs = props.apiP99LatencyThresholdMs ?? 5000;
    const errors = props.functionErrorsThreshold ?? 1;
    const throttles = props.functionThrottlesThreshold ?? 1;
    const periodMinutes = props.periodMinutes ?? 5;
    const apiEvaluationPeriods = props.apiEvaluationPeriods ?? 2;
    if (!(rate5xx > 0 && rate5xx <= 1)) throw new Error(`${where} api5xxRateThreshold must be in (0, 1], got ${rate5xx}`);
    assertIntegerInRange(`${where} apiP99LatencyThresholdMs`, latencyMs, 1, 60_000);
    assertIntegerInRange(`${where} functionErrorsThreshold`, errors, 1, 1_000_000);
    assertIntegerInRange(`${where} functionThrottlesThreshold`, throttles, 1, 1_000_000);
    assertIntegerInRange(`${where} periodMinutes`, periodMinutes, 1, 1440);
    assertIntegerInRange(`${where} apiEvaluationPeriods`, apiEvaluationPeriods, 1, 100);
    if (props.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(props.alarmEmail)) {
      throw new Error(`${where} alarmEmail must be an email address, got '${props.alarmEmail}'`);
    }
    const period = Duration.minutes(periodMinutes);

    this.alarmTopicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the platform alarm topic',
      enableKeyRotation: true,
    });
    this.alarmTopicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Serverless AI platform alarms',
      masterKey: this.alarmTopicKey,
      enforceSSL: true,
    });
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.alarmTopic);
    const alarm = (alarmId: string, options: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      return created;
    };

    this.deadLetterAlarms = new Map(
      props.queues.map((queue) => [
        queue.queueId,
        alarm(`${pascalCase(queue.queueId)}DeadLetterAlarm`, {
          metric: queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) }),
          alarmDescription: `Messages of the ${queue.queueId} queue failed ${queue.spec.maxReceiveCount} times and wait in its dead-letter queue: inspect and redrive them`,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: 0,
          evaluationPeriods: 1,
        }),
      ]),
    );

    const stage = props.api.stage;
    this.api5xxAlarm = alarm('Api5xxAlarm', {
      metric: stage.metricServerError({ statistic: cloudwatch.Stats.AVERAGE, period }),
      alarmDescription: `At least ${rate5xx * 100} % of API requests answered 5xx for ${apiEvaluationPeriods} × ${periodMinutes} min`,
      threshold: rate5xx,
      evaluationPeriods: apiEvaluationPeriods,
    });
    this.apiLatencyAlarm = alarm('ApiLatencyAlarm', {
      metric: stage.metricLatency({ statistic: cloudwatch.Stats.p(99), period }),
      alarmDescription: `API p99 latency at least ${latencyMs} ms for ${apiEvaluationPeriods} × ${periodMinutes} min`,
      threshold: latencyMs,
      evaluationPeriods: apiEvaluationPeriods,
    });

    this.functionAlarms = new Map(
      props.functions.map((fn) => {
        const name = pascalCase(fn.spec.id);
        return [
          fn.spec.id,
          {
            errors: alarm(`${name}ErrorsAlarm`, {
              metric: fn.function.metricErrors({ statistic: cloudwatch.Stats.SUM, period }),
              alarmDescription: `The ${fn.spec.id} function failed at least ${errors} time(s) in ${periodMinutes} min`,
              threshold: errors,
              evaluationPeriods: 1,
            }),
            throttles: alarm(`${name}ThrottlesAlarm`, {
              metric: fn.function.metricThrottles({ statistic: cloudwatch.Stats.SUM, period }),
              alarmDescription: `The ${fn.spec.id} function was throttled at least ${throttles} time(s) in ${periodMinutes} min`,
              threshold: throttles,
              evaluationPeriods: 1,
            }),
          },
        ] as const;
      }),
    );

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(...apiWidgets(props.api, period));
    this.dashboard.addWidgets(...functionWidgets(props.functions, period));
    this.dashboard.addWidgets(...queueWidgets(props.queues));
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        width: 24,
        alarms: [...this.deadLetterAlarms.values(), this.api5xxAlarm, this.apiLatencyAlarm, ...[...this.functionAlarms.values()].flatMap((pair) => [pair.errors, pair.throttles])],
      }),
    );
  }
}

/** Width of a dashboard graph: four to a row. */
const GRAPH_WIDTH = 6;

function apiWidgets(api: PlatformApi, period: Duration): cloudwatch.IWidget[] {
  const { stage } = api;
  return [
    new cloudwatch.GraphWidget({ title: 'API requests', width: GRAPH_WIDTH, left: [stage.metricCount({ statistic: cloudwatch.Stats.SUM, period, label: 'requests' })] }),
    new cloudwatch.GraphWidget({
      title: 'API errors',
      width: GRAPH_WIDTH,
      left: [
        stage.metricClientError({ statistic: cloudwatch.Stats.SUM, period, label: '4xx' }),
        stage.metricServerError({ statistic: cloudwatch.Stats.SUM, period, label: '5xx' }),
      ],
    }),
    new cloudwatch.GraphWidget({
      title: 'API latency (ms)',
      width: GRAPH_WIDTH,
      left: [cloudwatch.Stats.p(50), cloudwatch.Stats.p(99)].map((statistic) => stage.metricLatency({ statistic, period, label: statistic })),
    }),
    new cloudwatch.GraphWidget({
      title: 'API integration latency p99 (ms)',
      width: GRAPH_WIDTH,
      left: [stage.metricIntegrationLatency({ statistic: cloudwatch.Stats.p(99), period, label: 'p99' })],
    }),
  ];
}

function functionWidgets(functions: readonly PlatformFunction[], period: Duration): cloudwatch.IWidget[] {
  const graph = (title: string, metric: (fn: PlatformFunction) => cloudwatch.IMetric): cloudwatch.GraphWidget =>
    new cloudwatch.GraphWidget({ title, width: GRAPH_WIDTH, left: functions.map(metric) });
  const sum = { statistic: cloudwatch.Stats.SUM, period };
  return [
    graph('Invocations', (fn) => fn.function.metricInvocations({ ...sum, label: fn.spec.id })),
    graph('Errors', (fn) => fn.function.metricErrors({ ...sum, label: fn.spec.id })),
    graph('Throttles', (fn) => fn.function.metricThrottles({ ...sum, label: fn.spec.id })),
    graph('Duration p99 (ms)', (fn) => fn.function.metricDuration({ statistic: cloudwatch.Stats.p(99), period, label: fn.spec.id })),
    graph('Concurrent executions', (fn) => fn.function.metric('ConcurrentExecutions', { statistic: cloudwatch.Stats.MAXIMUM, period, label: fn.spec.id })),
  ];
}

function queueWidgets(queues: readonly JobQueue[]): cloudwatch.IWidget[] {
  const period = Duration.minutes(1);
  const maximum = { statistic: cloudwatch.Stats.MAXIMUM, period };
  return [
    new cloudwatch.GraphWidget({
      title: 'Queue depth',
      width: GRAPH_WIDTH,
      left: queues.map((queue) => queue.queue.metricApproximateNumberOfMessagesVisible({ ...maximum, label: queue.queueId })),
    }),
    new cloudwatch.GraphWidget({
      title: 'Oldest message age (s)',
      width: GRAPH_WIDTH,
      left: queues.map((queue) => queue.queue.metricApproximateAgeOfOldestMessage({ ...maximum, label: queue.queueId })),
    }),
    new cloudwatch.GraphWidget({
      title: 'Dead-letter queues',
      width: GRAPH_WIDTH,
      left: queues.map((queue) => queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...maximum, label: `${queue.queueId} DLQ` })),
    }),
  ];
}
