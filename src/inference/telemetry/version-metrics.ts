/**
 * Serving counters as CloudWatch metrics, for dashboards and alarms in AWS: each flush of the
 * predict function's counters (`serving-telemetry.ts`) is also published as one embedded-metric
 * log line per model, alias and version (no API call: CloudWatch reads the log). The rollout
 * guards read the DynamoDB counters, which exist locally too; these metrics are for people.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { VersionStats } from './serving-stats.js';

/** The `alias` dimension of requests that named a version number. */
export const NO_ALIAS_DIMENSION = '(version)';

/**
 * Publishes counts as the metrics `VersionRequests`, `VersionFailures` (5xx), `VersionRefusals`
 * (4xx after the version was picked) and `VersionFallbacks` (answered by the alias's fallback), with the dimensions `service`, `model`, `alias` and `version`,
 * in the namespace Powertools is configured with (`POWERTOOLS_METRICS_NAMESPACE`).
 */
export function publishVersionMetrics(serviceName: string, model: string, alias: string | undefined, version: number, stats: VersionStats): void {
  const metrics = new Metrics({ serviceName });
  metrics.addDimensions({ model, alias: alias ?? NO_ALIAS_DIMENSION, version: String(version) });
  metrics.addMetric('VersionRequests', MetricUnit.Count, stats.requests);
  metrics.addMetric('VersionFailures', MetricUnit.Count, stats.failed);
  metrics.addMetric('VersionRefusals', MetricUnit.Count, stats.rejected);
  metrics.addMetric('VersionFallbacks', MetricUnit.Count, stats.fallbacks);
  metrics.publishStoredMetrics();
}
