import { describe, expect, it } from 'vitest';
import { runFailure } from './run-errors.js';

const context = { model: 'm', version: 3, inputShapes: new Map([['x', [1, 3]]]), severalDynamicInputs: false };

// Texts of onnxruntime-node 1.30 errors, as `InferenceSession.run` throws them.
describe('runFailure', () => {
  it.each([
    [
      'a dimension the model fixes',
      'Got invalid dimensions for input: signal for the following indices\n index: 2 Got: 2 Expected: 1024\n Please fix either the inputs/outputs or the model.',
      "input 'signal': dimension 2 is 2; the model expects 1024",
    ],
    ['a rank', 'Invalid rank for input: x Got: 1 Expected: 2 Please fix either the inputs/outputs or the model.', "input 'x': rank 1; the model expects rank 2"],
    ['an element type', 'Unexpected input data type. Actual: (tensor(double)) , expected: (tensor(float))', 'an input is FP64 where the model expects FP32'],
    [
      'an operator that cannot reshape the input',
      "Non-zero status code returned while running Reshape node. Name:'r' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/reshape_helper.h:47 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, onnxruntime::TensorShapeVector&, bool) input_shape_size == size was false. The input tensor cannot be reshaped to the requested shape. Input shape:{3}, requested shape:{2,2}\n",
      "the model cannot run on these inputs: its Reshape operator failed: input_shape_size == size was false. The input tensor cannot be reshaped to the requested shape. Input shape:{3}, requested shape:{2,2} (inputs: 'x' [1, 3])",
    ],
    [
      'an index out of range',
      "Non-zero status code returned while running Gather node. Name:'embed' Status Message: indices element out of data bounds, idx=50000 must be within the inclusive range [-30522,30521]",
      "the model cannot run on these inputs: its Gather operator failed: indices element out of data bounds, idx=50000 must be within the inclusive range [-30522,30521] (inputs: 'x' [1, 3])",
    ],
    [
      'an integer division by zero',
      "Non-zero status code returned while running Div node. Name:'d' Status Message: Integer division by zero",
      "the model cannot run on these inputs: its Div operator failed: Integer division by zero (inputs: 'x' [1, 3])",
    ],
  ])('refuses the request (400) for %s, in the platform words', (_, text, message) => {
    const error = runFailure(new Error(text), context);
    expect(error.kind).toBe('invalid-request');
    expect(error.message).toBe(message);
  });

  it('adds the dynamic-dimension hint only when several inputs have dynamic dimensions', () => {
    const text = "Non-zero status code returned while running Concat node. Name:'c' Status Message: Non concat axis dimensions must match";
    expect(runFailure(new Error(text), { ...context, severalDynamicInputs: true }).message).toMatch(/; check that the inputs agree on their dynamic dimensions \(e\.g\. batch size\)$/);
    expect(runFailure(new Error(text), context).message).not.toMatch(/check that/);
  });

  it('blames the model (500) naming the version for a failure the caller cannot fix', () => {
    const node = runFailure(new Error("Non-zero status code returned while running MyOp node. Name:'n1' Status Message: kernel.cc:12 Compute custom kernel crashed"), context);
    const other = runFailure(new Error('bad_alloc'), context);
    expect([node.kind, node.message]).toEqual(['model-failed', "model 'm' version 3 failed while running: its MyOp operator failed: custom kernel crashed"]);
    expect([other.kind, other.message]).toEqual(['model-failed', "model 'm' version 3 failed while running: onnxruntime: bad_alloc"]);
  });
});
