import { describe, expect, it } from 'vitest';
import { pickRoute } from './routing.js';

describe('pickRoute', () => {
  it('returns the only version of a single-route alias', () => {
    expect(pickRoute([{ version: 7, weight: 100 }], undefined)).toBe(7);
  });

  it('keeps one routing key on one variant', () => {
    const routes = [
      { version: 1, weight: 50 },
      { version: 2, weight: 50 },
    ];
    const first = pickRoute(routes, 'user-42');
    for (let i = 0; i < 20; i++) expect(pickRoute(routes, 'user-42')).toBe(first);
  });

  it('splits keys roughly by weight', () => {
    // Prepare
    const routes = [
      { version: 1, weight: 90 },
      { version: 2, weight: 10 },
    ];
    // Act
    const picks = Array.from({ length: 2000 }, (_, i) => pickRoute(routes, `caller-${i}`));
    // Assess
    const share = picks.filter((v) => v === 2).length / picks.length;
    expect(share).toBeGreaterThan(0.06);
    expect(share).toBeLessThan(0.14);
  });

  it('uses the random source when no key is given', () => {
    const routes = [
      { version: 1, weight: 90 },
      { version: 2, weight: 10 },
    ];
    expect(pickRoute(routes, undefined, () => 0.95)).toBe(2);
    expect(pickRoute(routes, undefined, () => 0.1)).toBe(1);
  });
});
