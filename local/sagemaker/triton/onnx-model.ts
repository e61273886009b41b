/**
 * The emulated Triton's ONNX Runtime backend: one session per model, requests checked against
 * the model as Triton checks them (input names, datatypes, shapes, batch size), with Triton's
 * messages.
 */
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { datatypeOf, TritonError, type DecodedRequest, type ResponseOutput } from './oip-codec.js';
import type { TritonModel } from './model-repository.js';

interface TensorInfo {
  readonly datatype: string;
  readonly ort: Tensor.Type;
  /** Dimensions; -1 where the model leaves one free. */
  readonly shape: readonly number[];
}

function infoOf(model: string, meta: InferenceSession.ValueMetadata): TensorInfo {
  if (!meta.isTensor) throw new Error(`failed to load '${model}': '${meta.name}' is not a tensor`);
  const datatype = datatypeOf(meta.type);
  if (datatype === undefined) throw new Error(`failed to load '${model}': unsupported ONNX type '${meta.type}' for '${meta.name}'`);
  return { datatype, ort: meta.type, shape: meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)) };
}

const format = (shape: readonly number[]) => `[${shape.join(',')}]`;

/** A loaded ONNX model answering decoded inference requests. */
export class OnnxModel {
  private constructor(
    private readonly model: TritonModel,
    private readonly session: InferenceSession,
    private readonly inputs: ReadonlyMap<string, TensorInfo>,
    private readonly outputs: ReadonlyMap<string, TensorInfo>,
  ) {}

  /** Creates the model's session (one intra-op thread, as a Triton instance on a shared CPU). */
  static async load(model: TritonModel): Promise<OnnxModel> {
    const session = await InferenceSession.create(model.onnxFile, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' });
    const map = (metas: readonly InferenceSession.ValueMetadata[]) => new Map(metas.map((meta) => [meta.name, infoOf(model.name, meta)]));
    return new OnnxModel(model, session, map(session.inputMetadata), map(session.outputMetadata));
  }

  get name(): string {
    return this.model.name;
  }

  get version(): string {
    return this.model.version;
  }

  private checkShape(name: string, info: TensorInfo, shape: readonly number[]): void {
    const { maxBatchSize } = this.model;
    if (maxBatchSize > 0) {
      const batch = shape[0];
      if (batch !== undefined && batch > maxBatchSize) throw new TritonError(400, `inference request batch-size must be <= ${maxBatchSize} for '${this.name}'`);
    }
    const fits = shape.length === info.shape.length && info.shape.every((d, i) => d === -1 || d === shape[i]);
    if (!fits) throw new TritonError(400, `unexpected shape for input '${name}' for model '${this.name}'. Expected ${format(info.shape)}, got ${format(shape)}`);
  }

  /** Runs a request; throws {@link TritonError} for one Triton would refuse, 500 when onnxruntime fails. */
  async infer(request: DecodedRequest): Promise<ResponseOutput[]> {
    if (request.inputs.length !== this.inputs.size) {
      throw new TritonError(400, `expected ${this.inputs.size} inputs but got ${request.inputs.length} inputs for model '${this.name}'`);
    }
    const feeds: Record<string, Tensor> = {};
    for (const input of request.inputs) {
      const info = this.inputs.get(input.name);
      if (info === undefined) throw new TritonError(400, `unexpected inference input '${input.name}' for model '${this.name}'`);
      if (input.datatype !== info.datatype) {
        throw new TritonError(400, `inference input '${input.name}' data-type is '${input.datatype}', but model '${this.name}' expects '${info.datatype}'`);
      }
      this.checkShape(input.name, info, input.shape);
      feeds[input.name] = new Tensor(info.ort, input.values as never, [...input.shape]);
    }
    const requested = request.outputs ?? [...this.outputs.keys()].map((name) => ({ name, binary: request.binaryByDefault }));
    for (const output of requested) {
      if (!this.outputs.has(output.name)) throw new TritonError(400, `unexpected inference output '${output.name}' for model '${this.name}'`);
    }
    let results: InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run(feeds, requested.map((output) => output.name));
    } catch (error) {
      throw new TritonError(500, `onnx runtime error: ${(error as Error).message}`);
    }
    return requested.map((output) => {
      const tensor = results[output.name] as Tensor;
      return { name: output.name, datatype: this.outputs.get(output.name)!.datatype, shape: [...tensor.dims], data: tensor.data, binary: output.binary };
    });
  }
}
