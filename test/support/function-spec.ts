import type { FunctionSpec } from '../../topology/spec.js';

/** A minimal valid function spec for tests of the local cloud; `overrides` set what a test is about. */
export function functionSpec(id: string, overrides: Partial<FunctionSpec> = {}): FunctionSpec {
  return {
    id,
    entry: `functions/${id}/handler.ts`,
    description: id,
    memoryMb: 256,
    timeoutSeconds: 10,
    layers: [],
    access: {},
    routes: [],
    queueTriggers: [],
    ...overrides,
  };
}
