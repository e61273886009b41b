import { describe, expect, it } from 'vitest';
import { progressOf } from './progress.js';
import type { BatchJob } from './types.js';

const job = (overrides: Partial<BatchJob>): BatchJob => ({
  id: 'j',
  model: 'm',
  input: { kind: 'file', key: 'raw/d/f.csv' },
  format: 'parquet',
  passThrough: [],
  output: { dataset: 'm-predictions', prefix: 'predictions/m/batch/j/' },
  chunkRows: 100,
  status: 'running',
  trigger: 'api',
  submittedBy: 'me',
  createdAt: '2026-01-01T00:00:00.000Z',
  chunksDone: 0,
  chunksFailed: 0,
  rowsScored: 0,
  rowsRejected: 0,
  failedChunks: [],
  ...overrides,
});

describe('progressOf', () => {
  it('measures rows per second since the start and the time left at that rate, failed chunks counted as done', () => {
    // Prepare
    const running = job({ startedAt: '2026-01-01T00:00:00.000Z', chunksTotal: 10, rowsTotal: 1_000, chunksDone: 3, rowsScored: 290, rowsRejected: 10, chunksFailed: 1, failedChunks: [{ chunk: 4, rows: 100, reason: 'x' }] });

    // Act
    const progress = progressOf(running, Date.parse('2026-01-01T00:00:10.000Z'));

    // Assess
    expect(progress).toEqual({ chunksDone: 3, chunksFailed: 1, chunksTotal: 10, rows: 300, rowsTotal: 1_000, rowsRejected: 10, rowsPerSecond: 30, etaSeconds: 20 });
  });

  it('has no rate nor ETA before the first rows, and no time left once finished', () => {
    // Prepare
    const queued = job({ status: 'queued' });
    const done = job({ status: 'succeeded', startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:00:04.000Z', chunksTotal: 1, rowsTotal: 100, chunksDone: 1, rowsScored: 100 });

    // Act
    const before = progressOf(queued, Date.now());
    const after = progressOf(done, Date.parse('2026-01-02T00:00:00.000Z'));

    // Assess
    expect(before).toMatchObject({ chunksTotal: null, rowsPerSecond: null, etaSeconds: null });
    expect(after).toMatchObject({ rows: 100, rowsPerSecond: 25, etaSeconds: 0 });
  });
});
