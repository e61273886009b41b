import type { NewVersion } from '../../src/registry/registry.js';

/** A valid version to register directly in the registry (tests that do not need a real artifact). */
export function draftVersion(model: string, overrides: Partial<NewVersion> = {}): NewVersion {
  return {
    model,
    framework: 'onnx',
    artifact: { uri: 's3://lake/models/m.onnx', bucket: 'lake', key: 'models/m.onnx', sha256: 'a'.repeat(64), sizeBytes: 10 },
    signature: { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2] }], outputs: [] },
    description: '',
    tags: {},
    metrics: {},
    lineage: {},
    ...overrides,
  };
}
