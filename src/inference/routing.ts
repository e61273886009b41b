import { createHash } from 'node:crypto';
import type { AliasRoute } from '../registry/types.js';

/**
 * Picks the version an alias sends a request to. One route: that version.
 * Weighted routes: sticky per routing key (a hash of it picks a bucket in 0..99,
 * so one caller stays on one variant); without a key, `random` decides.
 */
export function pickRoute(routes: readonly AliasRoute[], routingKey: string | undefined, random: () => number = Math.random): number {
  if (routes.length === 0) throw new Error('alias has no routes');
  if (routes.length === 1) return routes[0]!.version;
  const total = routes.reduce((sum, r) => sum + r.weight, 0);
  const point =
    routingKey === undefined
      ? random() * total
      : (createHash('sha256').update(routingKey).digest().readUInt32BE(0) / 0x1_0000_0000) * total;
  let cumulative = 0;
  for (const route of routes) {
    cumulative += route.weight;
    if (point < cumulative) return route.version;
  }
  return routes[routes.length - 1]!.version;
}

/**
 * The primary route of an alias: the version with the largest weight, the lower-numbered one on a
 * tie (during a canary, the baseline while it keeps most of the traffic). Unlike {@link pickRoute},
 * it does not depend on the caller.
 */
export function primaryRoute(routes: readonly AliasRoute[]): number {
  if (routes.length === 0) throw new Error('alias has no routes');
  return routes.reduce((best, route) => (route.weight > best.weight || (route.weight === best.weight && route.version < best.version) ? route : best)).version;
}
