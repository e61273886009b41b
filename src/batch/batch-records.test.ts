import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createPlanRecordHandler } from './batch-records.js';
import type { PlanDeps } from './plan-job.js';

describe('createPlanRecordHandler', () => {
  it('logs a planning failure it leaves to a retry, with the job and the receive count', async () => {
    // Prepare
    const logger = { info: vi.fn(), warn: vi.fn() };
    const deps = { jobs: { get: () => Promise.reject(new Error('the table is throttled')) }, maxReceives: 3 } as unknown as PlanDeps;
    const record = { body: JSON.stringify({ jobId: '20260101000000000-0000abcd' }), attributes: { ApproximateReceiveCount: '2' } } as unknown as SQSRecord;

    // Act
    const handled = createPlanRecordHandler(deps, logger as unknown as Logger)(record);

    // Assess
    await expect(handled).rejects.toThrow('the table is throttled');
    expect(logger.warn).toHaveBeenCalledWith('batch job planning failed; the message will be retried', { jobId: '20260101000000000-0000abcd', receiveCount: 2, error: 'the table is throttled' });
  });
});
