import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, ScheduledEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createScheduledHandler, createSqsHandler } from './handler-stack.js';
import { createObservability } from './observability.js';

const context = {
  awsRequestId: 'req-1',
  functionName: 'fn',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
  memoryLimitInMB: '128',
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

const record = (messageId: string, body: string): SQSRecord =>
  ({ messageId, body, receiptHandle: messageId, attributes: { ApproximateReceiveCount: '1' }, messageAttributes: {}, eventSource: 'aws:sqs' }) as unknown as SQSRecord;

/** Every JSON line the process printed while the test ran (Powertools Logger and Metrics write to stdout). */
let lines: Record<string, unknown>[];

beforeEach(() => {
  vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'StackTest');
  lines = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    for (const line of String(chunk).split('\n')) if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    return true;
  });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe('createSqsHandler', () => {
  it('reports only the failed records, logs each with its messageId and the Lambda context, and flushes metrics', async () => {
    // Prepare
    const observability = createObservability('stack-test');
    const handler = createSqsHandler(observability, () => async (r) => {
      observability.logger.info('handling');
      observability.metrics.addMetric('Handled', MetricUnit.Count, 1);
      if (r.body === 'bad') throw new Error('cannot handle it');
    });
    const event = { Records: [record('m1', 'good'), record('m2', 'bad')] } as SQSEvent;

    // Act
    const response = await handler(event, context);

    // Assess
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    const handled = lines.filter((line) => line['message'] === 'handling');
    expect(handled.map((line) => line['messageId'])).toEqual(['m1', 'm2']);
    expect(handled.every((line) => line['function_request_id'] === 'req-1' && line['correlation_id'] === 'req-1')).toBe(true);
    expect(lines.some((line) => '_aws' in line && line['Handled'] !== undefined)).toBe(true);
    expect(observability.metrics.hasStoredMetrics()).toBe(false);
  });

  it('gives each invocation its own record handler, built from that invocation\'s context', async () => {
    // Prepare
    const seen: string[] = [];
    const observability = createObservability('stack-test');
    const handler = createSqsHandler(observability, (invocation) => async () => {
      seen.push(invocation.awsRequestId);
      observability.metrics.addMetric('Handled', MetricUnit.Count, 1);
    });

    // Act
    await handler({ Records: [record('m1', 'x')] } as SQSEvent, context);
    await handler({ Records: [record('m2', 'x')] } as SQSEvent, { ...context, awsRequestId: 'req-2' });

    // Assess
    expect(seen).toEqual(['req-1', 'req-2']);
  });
});

describe('createScheduledHandler', () => {
  it('runs with the Lambda context on its log lines and flushes metrics, also when the run fails', async () => {
    // Prepare
    const observability = createObservability('stack-test');
    const handler = createScheduledHandler(observability, async () => {
      observability.logger.info('tick');
      observability.metrics.addMetric('Ticks', MetricUnit.Count, 1);
      throw new Error('the run failed');
    });

    // Act
    const run = handler({} as ScheduledEvent, context);

    // Assess
    await expect(run).rejects.toThrow('the run failed');
    expect(lines.find((line) => line['message'] === 'tick')).toMatchObject({ function_request_id: 'req-1', correlation_id: 'req-1', cold_start: expect.any(Boolean) });
    expect(lines.some((line) => '_aws' in line && line['Ticks'] !== undefined)).toBe(true);
  });
});

describe('metrics', () => {
  it('publishes nothing, and warns of nothing, after an invocation that recorded no metrics', async () => {
    // Prepare
    const printed: string[] = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => printed.push(String(chunk)) > 0);
    }
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const handler = createScheduledHandler(createObservability('quiet-test'), async () => {});

    // Act
    await handler({} as ScheduledEvent, context);

    // Assess
    expect(printed.join('')).not.toMatch(/_aws|No application metrics/);
    expect(warned).not.toHaveBeenCalled();
  });
});
