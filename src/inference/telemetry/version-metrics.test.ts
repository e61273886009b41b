import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EMPTY_STATS } from './serving-stats.js';
import { NO_ALIAS_DIMENSION, publishVersionMetrics } from './version-metrics.js';

describe('publishVersionMetrics', () => {
  beforeEach(() => {
    // Powertools writes to the global console in dev mode, where a test can read it.
    vi.stubEnv('POWERTOOLS_DEV', 'true');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'TestPlatform');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('writes one embedded-metric line per model, alias and version with its counts', () => {
    // Prepare
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));

    // Act
    publishVersionMetrics('predict', 'iris', 'prod', 2, { ...EMPTY_STATS, requests: 40, failed: 3, rejected: 1, fallbacks: 6 });
    publishVersionMetrics('predict', 'iris', undefined, 1, { ...EMPTY_STATS, requests: 5 });

    // Assess
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] } });
    expect(first).toMatchObject({ model: 'iris', alias: 'prod', version: '2', service: 'predict', VersionRequests: 40, VersionFailures: 3, VersionRefusals: 1, VersionFallbacks: 6 });
    const directive = first!._aws.CloudWatchMetrics[0]!;
    expect(directive.Namespace).toBe('TestPlatform');
    expect(directive.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'model', 'alias', 'version']));
    expect(directive.Metrics.map((m) => m.Name)).toEqual(['VersionRequests', 'VersionFailures', 'VersionRefusals', 'VersionFallbacks']);
    expect(second).toMatchObject({ alias: NO_ALIAS_DIMENSION, version: '1', VersionRequests: 5 });
  });
});
