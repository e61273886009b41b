/**
 * A serving path for batch tests: its one model doubles its input `x` (a `[n, 1]` FP32 input,
 * answered as output `y`) and refuses, naming the element, any value of `x` that is not a number.
 */
import { InvalidRequestError } from '../../src/errors.js';
import type { ServedModel } from '../../src/inference/backend.js';
import type { Serving } from '../../src/inference/serving.js';
import type { V2TensorInput } from '../../src/inference/tensors.js';

/**
 * The doubling serving path. `calls` receives each call's row count; `failFirst` answers that
 * many calls with `failure` (thrown) before serving.
 */
export function doublingServing(options: { readonly calls?: number[]; readonly failFirst?: () => Error | undefined } = {}): Serving {
  const model = {
    inputs: new Map([['x', { name: 'x', datatype: 'FP32', shape: [-1, 1] }]]),
    outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }],
    run: async (inputs: readonly V2TensorInput[]) => {
      const x = inputs[0]!;
      options.calls?.push(x.shape[0]!);
      const bad = x.data.findIndex((value) => typeof value !== 'number');
      if (bad >= 0) throw new InvalidRequestError(`input 'x': ${x.elementName?.(bad) ?? `element ${bad}`} is not a number`);
      return [{ name: 'y', datatype: 'FP32', shape: [...x.shape], data: x.data.map((value) => (value as number) * 2) }];
    },
  } as unknown as ServedModel;
  const serve: Serving['serve'] = async (_target, _protocol, _request, answer) => {
    const failure = options.failFirst?.();
    if (failure !== undefined) throw failure;
    return { model, body: await answer(model) };
  };
  return { serve } as unknown as Serving;
}
