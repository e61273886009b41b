import { describe, expect, it } from 'vitest';
import type { DatasetVersion } from '../src/lake/types.js';
import { awaitsAutoTrain, dropOutcome, dropReport, snapshotOf } from './lake-drop.js';

const version = (n: number, key: string, eTag: string, extra: Partial<DatasetVersion> = {}): DatasetVersion => ({
  dataset: 'iris',
  version: n,
  status: 'READY',
  source: { bucket: 'lake', key, eTag, sizeBytes: 10 },
  rowsRead: 6,
  rowsAccepted: 6,
  rowsRejected: 0,
  attempts: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...extra,
});
const dropped = { key: 'raw/iris/iris.csv', eTag: 'e1' };

describe('dropOutcome', () => {
  it('does not take the version of an earlier upload of the same bytes and key for the new drop', () => {
    // Prepare: version 1 came from the same key and bytes before this upload
    const before = snapshotOf([version(1, dropped.key, 'e1')]);

    // Act
    const outcome = dropOutcome([version(1, dropped.key, 'e1')], before, dropped);

    // Assess: still waiting
    expect(outcome).toBeUndefined();
  });

  it('finds a version recorded for the drop, once finished', () => {
    // Prepare
    const before = snapshotOf([]);

    // Act
    const ingesting = dropOutcome([version(1, dropped.key, 'e1', { status: 'INGESTING' })], before, dropped);
    const done = dropOutcome([version(1, dropped.key, 'e1')], before, dropped);

    // Assess
    expect(ingesting).toBeUndefined();
    expect(done).toMatchObject({ kind: 'new', version: { version: 1 } });
  });

  it('finds the version that recorded the drop as a duplicate', () => {
    // Prepare
    const v1 = version(1, 'raw/iris/old.csv', 'e1', { duplicateDrops: 1, lastDuplicateDrop: { source: { bucket: 'lake', key: 'raw/iris/x.csv', eTag: 'e1', sizeBytes: 10 }, droppedAt: 't' } });
    const before = snapshotOf([v1]);
    const after = { ...v1, duplicateDrops: 2, lastDuplicateDrop: { source: { bucket: 'lake', key: dropped.key, eTag: 'e1', sizeBytes: 10 }, droppedAt: 't2' } };

    // Act
    const waiting = dropOutcome([v1], before, dropped);
    const outcome = dropOutcome([after], before, dropped);

    // Assess
    expect(waiting).toBeUndefined();
    expect(outcome).toMatchObject({ kind: 'duplicate', version: { version: 1 } });
  });
});

describe('dropReport', () => {
  it('says when a drop was a duplicate, and of which version', () => {
    // Act
    const report = dropReport({ kind: 'duplicate', version: version(3, 'raw/iris/a.csv', 'e1') });

    // Assess
    expect(report.split('\n')[0]).toBe(
      "duplicate of version 3: the file has the same bytes as that version's source (raw/iris/a.csv) under the same dataset definition; no new version was made",
    );
    expect(report).toContain("dataset 'iris' version 3: READY");
  });

  it('names the auto-train job a drop started and how to watch it, or why auto-train refused', () => {
    // Act
    const started = dropReport({ kind: 'new', version: version(2, dropped.key, 'e1', { autoTrain: { jobId: '20260101-abcd' } }) });
    const refused = dropReport({ kind: 'new', version: version(2, dropped.key, 'e1', { autoTrain: { refused: "no column 'label'" } }) });

    // Assess
    expect(started).toContain('  auto-train: started training job 20260101-abcd; watch it: npm run lake -- watch 20260101-abcd  (GET /jobs/20260101-abcd)');
    expect(refused).toContain("  auto-train refused: no column 'label'");
  });

  it('waits for the auto-train outcome of a READY version of an auto-training dataset only', () => {
    // Act + Assess
    expect(awaitsAutoTrain(version(1, 'k', 'e'), true)).toBe(true);
    expect(awaitsAutoTrain(version(1, 'k', 'e', { autoTrain: { jobId: 'j' } }), true)).toBe(false);
    expect(awaitsAutoTrain(version(1, 'k', 'e', { status: 'FAILED' }), true)).toBe(false);
    expect(awaitsAutoTrain(version(1, 'k', 'e'), false)).toBe(false);
  });
});
