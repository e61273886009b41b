/**
 * A serving path for batch tests: its one model doubles its input `x` (a `[n, 1]` FP32 input,
 * answered as output `y`), read from the request tensor as the ONNX backend reads one (so it
 * refuses, naming the element, what the backend refuses).
 */
import type { ServedModel } from '../../src/inference/backend.js';
import type { Serving } from '../../src/inference/serving.js';
import { toOrtTensor, type V2TensorInput } from '../../src/inference/tensors.js';

/**
 * The doubling serving path. `calls` receives each call's row count; `failFirst` answers that
 * many calls with `failure` (thrown) before serving.
 */
export function doublingServing(options: { readonly calls?: number[]; readonly failFirst?: () => Error | undefined } = {}): Serving {
  const x = { name: 'x', datatype: 'FP32', shape: [-1, 1] } as const;
  const model = {
    inputs: new Map([['x', x]]),
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    missingValueInputs: new Set<string>(),
    run: async (inputs: readonly V2TensorInput[]) => {
      const tensor = toOrtTensor(x, inputs[0]!);
      options.calls?.push(tensor.dims[0]!);
      return [{ name: 'y', datatype: 'FP32', shape: [...tensor.dims], data: Array.from(tensor.data as Float32Array, (value) => value * 2) }];
    },
  } as unknown as ServedModel;
  const serve: Serving['serve'] = async (_target, _protocol, _request, answer) => {
    const failure = options.failFirst?.();
    if (failure !== undefined) throw failure;
    return { model, body: await answer(model) };
  };
  return { serve } as unknown as Serving;
}
