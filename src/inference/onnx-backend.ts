import type { ModelVersion } from '../registry/types.js';
import type { Backend, ServedModel } from './backend.js';
import type { LoadedModel, ModelLoader } from './model-loader.js';
import { runModel } from './predictor.js';

/** A model loaded in this container, as the protocols serve it. */
export function servedOnnx(model: LoadedModel): ServedModel {
  return {
    version: model.version,
    backend: 'lambda',
    inputs: model.inputs,
    outputs: model.outputs,
    dimensionNames: model.dimensionNames,
    missingValueInputs: model.missingValueInputs,
    run: (inputs, outputNames) => runModel(model, inputs, outputNames),
  };
}

/** The predict function's own backend: ONNX Runtime in this container, one session per version (`ModelLoader`). */
export class OnnxBackend implements Backend {
  constructor(private readonly loader: ModelLoader) {}

  async open(version: ModelVersion): Promise<ServedModel> {
    return servedOnnx(await this.loader.load(version));
  }
}
