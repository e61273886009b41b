import { describe, expect, it } from 'vitest';
import { ASYNC_RETENTION_MS, expiresAtFor, isFinished, statusAt } from './async-request.js';
import { inputRefOf, uploadIdOf, uploadKey } from './async-keys.js';
import { prefersAsync } from '../http/prefer.js';

describe('async request rules', () => {
  it('expires a request its retention after creation, whatever state it is in', () => {
    // Prepare
    const created = Date.parse('2026-12-04T10:00:00Z');
    const expiresAt = expiresAtFor(created);
    // Assess
    expect(expiresAt * 1000).toBe(created + ASYNC_RETENTION_MS);
    for (const status of ['queued', 'running', 'succeeded', 'failed'] as const) {
      expect(statusAt({ status, expiresAt }, created + ASYNC_RETENTION_MS - 1)).toBe(status);
      expect(statusAt({ status, expiresAt }, created + ASYNC_RETENTION_MS)).toBe('expired');
    }
  });

  it('counts only succeeded and failed as finished', () => {
    expect(['queued', 'running', 'succeeded', 'failed'].map((status) => isFinished(status as never))).toEqual([false, false, true, true]);
  });
});

describe('async input references', () => {
  it('accepts only a reference to an upload id under the lake upload prefix', () => {
    const id = '0b6a4f4e-5d1c-4f1e-9a55-0d6c1c2f7a10';
    expect(uploadIdOf('lake', inputRefOf('lake', id))).toBe(id);
    expect(uploadKey(id)).toBe(`predictions/async/uploads/${id}`);
    expect(uploadIdOf('other', inputRefOf('lake', id))).toBeUndefined();
    expect(uploadIdOf('lake', `s3://lake/models/iris/${id}`)).toBeUndefined();
    expect(uploadIdOf('lake', `s3://lake/predictions/async/uploads/../inputs/${id}`)).toBeUndefined();
    expect(uploadIdOf('lake', 's3://lake/predictions/async/uploads/x')).toBeUndefined();
  });
});

describe('Prefer: respond-async (RFC 7240)', () => {
  it.each([
    ['respond-async', true],
    ['Respond-Async', true],
    ['return=minimal, respond-async, wait=10', true],
    ['respond-async; foo=bar', true],
    ['return=representation', false],
    ['respond-asynchronously', false],
    ['respond-async=', true],
    ['respond-async = ""', true],
    ['respond-async=false', false],
    [undefined, false],
  ])('%s → %s', (value, expected) => {
    expect(prefersAsync(value)).toBe(expected);
  });
});
