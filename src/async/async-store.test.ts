import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEmulators, type TestEmulators } from '../../test/support/emulators.js';
import { ConflictError } from '../errors.js';
import { RegistryTable } from '../storage/table.js';
import { expiresAtFor, type AsyncRequest } from './async-request.js';
import { AsyncRequestStore } from './async-store.js';

let env: TestEmulators;
let store: AsyncRequestStore;
let n = 0;

const request = (overrides: Partial<AsyncRequest> = {}): AsyncRequest => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
  status: 'queued',
  model: 'iris',
  routingKey: 'caller-1',
  input: { key: 'predictions/async/inputs/x', sizeBytes: 10 },
  createdAt: '2026-12-04T10:00:00.000Z',
  attempts: 0,
  expiresAt: expiresAtFor(Date.parse('2026-12-04T10:00:00Z')),
  ...overrides,
});

beforeAll(async () => {
  env = await startTestEmulators();
  store = new AsyncRequestStore(new RegistryTable(env.dynamo, env.resources.tableName), () => new Date('2026-12-04T10:00:01Z'));
});
afterAll(async () => env.stop());

describe('AsyncRequestStore on dynalite', () => {
  it('moves a request queued → running → succeeded, counting attempts, and refuses to move a finished one', async () => {
    // Prepare
    const { request: created } = await store.create(request());
    // Act
    const first = await store.claim(created.id);
    const again = await store.claim(created.id);
    const succeeded = await store.succeed(created.id, { version: 1, backend: 'lambda' }, { key: 'predictions/async/results/x', sizeBytes: 5, contentType: 'application/json' });
    const late = await store.claim(created.id);
    const failLate = await store.fail(created.id, 'too late');
    // Assess
    expect([first?.status, first?.attempts, again?.attempts]).toEqual(['running', 1, 2]);
    expect([succeeded, late, failLate]).toEqual([true, undefined, false]);
    expect(await store.get(created.id)).toMatchObject({ status: 'succeeded', answeredBy: { version: 1, backend: 'lambda' }, routingKey: 'caller-1', finishedAt: '2026-12-04T10:00:01.000Z' });
  });

  it('records a retried attempt’s reason, and the final failure’s', async () => {
    const { request: created } = await store.create(request());
    await store.claim(created.id);
    expect(await store.noteAttemptFailure(created.id, 'model store unavailable')).toBe(true);
    expect(await store.get(created.id)).toMatchObject({ status: 'running', lastError: 'model store unavailable' });
    expect(await store.fail(created.id, 'failed 3 times')).toBe(true);
    expect(await store.get(created.id)).toMatchObject({ status: 'failed', error: 'failed 3 times' });
  });

  it('gives the same request for the same idempotency key and fingerprint, and a ConflictError for another fingerprint', async () => {
    // Act
    const first = await store.claimKey({ key: 'k-1', fingerprint: 'a' }, 'id-1', 1);
    await store.create(request({ id: first.id }));
    const replay = await store.claimKey({ key: 'k-1', fingerprint: 'a' }, 'id-2', 1);
    const other = store.claimKey({ key: 'k-1', fingerprint: 'b' }, 'id-3', 1);
    // Assess
    expect(first).toEqual({ id: 'id-1' });
    expect(replay.id).toBe('id-1');
    expect(replay.existing?.id).toBe('id-1');
    await expect(other).rejects.toThrow(ConflictError);
  });

  it('hands a key whose request was never created (a crash in between) the id it claimed', async () => {
    await store.claimKey({ key: 'k-2', fingerprint: 'a' }, 'id-9', 1);
    expect(await store.claimKey({ key: 'k-2', fingerprint: 'a' }, 'id-10', 1)).toEqual({ id: 'id-9' });
  });

  it('keeps the first request when the same id is created twice', async () => {
    const first = request();
    await store.create(first);
    const second = await store.create({ ...first, model: 'other' });
    expect(second.created).toBe(false);
    expect(second.request.model).toBe('iris');
  });
});
