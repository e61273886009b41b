import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { encode, model } from '../ml/onnx/writer.js';
import { missingValueInputs, readOnnxMetadata } from './model-metadata.js';

describe('readOnnxMetadata', () => {
  it('reads metadata_props from a model without decoding its graph', async () => {
    const metadata = readOnnxMetadata(await readFile('models/iris.onnx'));
    expect(JSON.parse(metadata.get('feature_names')!)).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
    expect(metadata.get('task')).toBe('classification');
  });

  it('reads what the platform writes, and nothing for a model without metadata', () => {
    const parts = { graphName: 'g', nodes: [], initializers: [], inputs: [], outputs: [] };
    expect([...readOnnxMetadata(encode(model({ ...parts, metadata: { b: 'ü', a: '1' } })))]).toEqual([['a', '1'], ['b', 'ü']]);
    expect(readOnnxMetadata(encode(model(parts))).size).toBe(0);
  });

  it('throws on bytes that are not a protobuf message', () => {
    expect(() => readOnnxMetadata(Uint8Array.of(0x72, 0x10, 0x01))).toThrow('field runs past the end of the message');
    expect(() => readOnnxMetadata(Uint8Array.of(0x0b))).toThrow('unsupported protobuf wire type 3');
  });
});

describe('missingValueInputs', () => {
  it('returns the declared inputs, and none without a declaration', () => {
    expect([...missingValueInputs(new Map([['missing_values', '["a","b"]']]))]).toEqual(['a', 'b']);
    expect(missingValueInputs(new Map()).size).toBe(0);
  });

  it.each(['{"a":1}', 'not json', '[1]'])('refuses the declaration %s', (declared) => {
    expect(() => missingValueInputs(new Map([['missing_values', declared]]))).toThrow("metadata 'missing_values' must be a JSON array of input names");
  });
});
