import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { RegistryTable } from '../storage/table.js';
import { minuteOf, RETENTION_DAYS, ShadowComparisons, type ShadowCounters } from './shadow-comparisons.js';

let env: TestEmulators;
let comparisons: ShadowComparisons;

const counters = (overrides: Partial<ShadowCounters> = {}): ShadowCounters => ({
  copies: 2,
  shadowErrors: 0,
  categoricalCompared: 2,
  agreed: 1,
  numericCompared: 6,
  absDiffSum: 0.75,
  ...overrides,
});
const group = (alias: string, at: string, primaryVersion = 1, shadowVersion = 2) => ({ model: 'iris', alias, at: new Date(at), primaryVersion, shadowVersion });

beforeAll(async () => {
  env = await startTestEmulators();
  comparisons = new ShadowComparisons(new RegistryTable(env.dynamo, env.resources.tableName));
});
afterAll(async () => env.stop());

describe('minuteOf', () => {
  it('cuts an instant to its UTC minute', () => {
    expect(minuteOf(new Date('2026-11-24T01:02:59.999Z'))).toBe('2026-11-24T01:02Z');
  });
});

describe('ShadowComparisons on dynalite', () => {
  it('adds the counts of a source once, keyed by alias, minute and version pair, expiring 30 days after the minute', async () => {
    // Act
    const first = await comparisons.add(group('once', '2026-11-24T01:02:30Z'), counters(), 'shadow-requests/iris/a.jsonl');
    const again = await comparisons.add(group('once', '2026-11-24T01:02:45Z'), counters(), 'shadow-requests/iris/a.jsonl');
    const other = await comparisons.add(group('once', '2026-11-24T01:02:50Z'), counters({ shadowErrors: 1 }), 'shadow-requests/iris/b.jsonl');

    // Assess
    expect([first, again, other]).toEqual([true, false, true]);
    const { Item } = await env.dynamo.send(
      new GetCommand({ TableName: env.resources.tableName, Key: { pk: 'SHADOW#iris#once', sk: '2026-11-24T01:02Z#0000000001#0000000002' } }),
    );
    expect(Item).toMatchObject({ copies: 4, shadowErrors: 1, categoricalCompared: 4, agreed: 2, numericCompared: 12, absDiffSum: 1.5 });
    // Two sources, each kept as 16 hex digits of its key's hash.
    expect([...(Item?.['sources'] as Set<string>)].map((id) => /^[0-9a-f]{16}$/.test(id))).toEqual([true, true]);
    expect(Item?.['expiresAt']).toBe(Date.parse('2026-11-24T01:02:00Z') / 1000 + RETENTION_DAYS * 86_400);
  });

  it('sums each version pair over the minutes from since on, with rates and the first and last minutes', async () => {
    // Prepare
    await comparisons.add(group('sum', '2026-11-24T00:59:00Z'), counters({ agreed: 0 }), 'old');
    await comparisons.add(group('sum', '2026-11-24T01:00:10Z'), counters(), 's1');
    await comparisons.add(group('sum', '2026-11-24T01:05:00Z'), counters({ copies: 3, shadowErrors: 1, agreed: 2, absDiffSum: 0.25 }), 's2');
    await comparisons.add(group('sum', '2026-11-24T01:03:00Z', 1, 3), counters({ categoricalCompared: 0, agreed: 0, numericCompared: 0, absDiffSum: 0, shadowErrors: 2 }), 's3');
    await comparisons.add(group('other', '2026-11-24T01:03:00Z'), counters(), 's4');

    // Act
    const summary = await comparisons.summary('iris', 'sum', new Date('2026-11-24T01:00:59Z'));

    // Assess
    expect(summary).toEqual([
      {
        primaryVersion: 1,
        shadowVersion: 2,
        copies: 5,
        shadowErrors: 1,
        agreementRate: 0.75,
        meanAbsDiff: 1 / 12,
        categoricalCompared: 4,
        numericCompared: 12,
        firstMinute: '2026-11-24T01:00Z',
        lastMinute: '2026-11-24T01:05Z',
      },
      {
        primaryVersion: 1,
        shadowVersion: 3,
        copies: 2,
        shadowErrors: 2,
        agreementRate: null,
        meanAbsDiff: null,
        categoricalCompared: 0,
        numericCompared: 0,
        firstMinute: '2026-11-24T01:03Z',
        lastMinute: '2026-11-24T01:03Z',
      },
    ]);
    expect(await comparisons.summary('iris', 'sum', new Date('2026-11-24T01:06:00Z'))).toEqual([]);
  });
});
