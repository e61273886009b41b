import { describe, expect, it } from 'vitest';
import { pickRoute, primaryRoute } from './routing.js';

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

  it.each([
    ['keyed', (i: number) => `caller-${i}`],
    ['unkeyed', () => undefined],
  ])('lands 10,000 %s requests within 2 points of a 70/20/10 split', (_, key) => {
    // Prepare
    const routes = [
      { version: 1, weight: 70 },
      { version: 2, weight: 20 },
      { version: 3, weight: 10 },
    ];
    // Act
    const picks = Array.from({ length: 10_000 }, (_, i) => pickRoute(routes, key(i)));
    // Assess
    for (const route of routes) {
      const share = (100 * picks.filter((v) => v === route.version).length) / picks.length;
      expect(Math.abs(share - route.weight)).toBeLessThanOrEqual(2);
    }
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

describe('primaryRoute', () => {
  it.each([
    [[{ version: 7, weight: 100 }], 7],
    [[{ version: 1, weight: 90 }, { version: 3, weight: 10 }], 1],
    [[{ version: 3, weight: 10 }, { version: 1, weight: 90 }], 1],
    [[{ version: 2, weight: 40 }, { version: 5, weight: 60 }], 5],
    [[{ version: 4, weight: 50 }, { version: 2, weight: 50 }], 2],
  ])('picks the largest weight, the lower version on a tie: %j → %i', (routes, expected) => {
    expect(primaryRoute(routes)).toBe(expected);
  });
});
