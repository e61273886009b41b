/**
 * The AWS Lambda layer that provides `onnxruntime-node` to the inference functions, built by the
 * shared machinery in `layers/layer-builder.ts` (`npm run build:layer -- onnxruntime`).
 *
 * The npm package ships native binaries for darwin, win32 and linux (x64 and arm64), about 288 MB,
 * which is over Lambda's 250 MB unzipped limit for code plus layers. The layer keeps only the
 * `linux/<arch>` binaries and proves them by running a tiny model.
 */
import { rm, readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  buildLayer,
  MEGABYTE,
  subdirectories,
  type LayerArch,
  type LayerBuildOptions,
  type LayerBuildReport,
  type LayerDescription,
} from '../layer-builder.js';

/** Default unzipped size budget for the layer: 80 MB, leaving most of Lambda's 250 MB for function code. */
export const DEFAULT_LAYER_BUDGET_BYTES = 80 * MEGABYTE;

/**
 * A tiny valid ONNX model: `c = Add(a, b)` with `a`, `b`, `c` float32 tensors of shape [3]
 * (IR version 7, opset 13). Produced once with Debian's `/usr/bin/python3` (onnx 1.12):
 *
 * ```python
 * import base64, onnx
 * from onnx import helper, TensorProto
 * a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [3])
 * b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])
 * c = helper.make_tensor_value_info("c", TensorProto.FLOAT, [3])
 * graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["c"])], "add", [a, b], [c])
 * model = helper.make_model(graph, producer_name="layer-proof", opset_imports=[helper.make_opsetid("", 13)])
 * model.ir_version = 7
 * onnx.checker.check_model(model)
 * print(base64.b64encode(model.SerializeToString()).decode())
 * ```
 */
const PROOF_MODEL_BASE64 =
  'CAcSC2xheWVyLXByb29mOkgKDgoBYQoBYhIBYyIDQWRkEgNhZGRaDwoBYRIKCggIARIECgIIA1oPCgFiEgoKCAgBEgQKAggDYg8KAWMSCgoICAESBAoCCANCBAoAEA0=';
const PROOF_INPUT_A = [1, 2, 3];
const PROOF_INPUT_B = [10, 20, 30];
const PROOF_EXPECTED = [11, 22, 33];

const ONNXRUNTIME_PACKAGE = 'onnxruntime-node';

/** The onnxruntime-node layer. */
export const onnxRuntimeLayer: LayerDescription = {
  id: 'onnxruntime',
  packageName: ONNXRUNTIME_PACKAGE,
  defaultBudgetBytes: DEFAULT_LAYER_BUDGET_BYTES,
  // Like the repository's `allowScripts` denial (package.json): nothing tries to download CUDA binaries.
  installEnv: { ONNXRUNTIME_NODE_INSTALL: 'skip' },
  // Only the postinstall script (`script/install.js`) uses them, never `dist/`.
  installOnly: { packages: ['adm-zip', 'global-agent'], checkedDir: 'dist' },
  nonRuntimeDirs: { [ONNXRUNTIME_PACKAGE]: ['script'] },

  /** Deletes every `bin/napi-v*\/<platform>/<arch>` directory except `linux/<arch>`, then empty platform folders. */
  async pruneForeignBinaries(nodeModulesDir: string, arch: LayerArch): Promise<void> {
    const binDir = path.join(nodeModulesDir, ONNXRUNTIME_PACKAGE, 'bin');
    for (const napiDir of await subdirectories(binDir)) {
      for (const platformDir of await subdirectories(napiDir)) {
        for (const archDir of await subdirectories(platformDir)) {
          const keep = path.basename(platformDir) === 'linux' && path.basename(archDir) === arch;
          if (!keep) {
            await rm(archDir, { recursive: true, force: true });
          }
        }
        if ((await readdir(platformDir)).length === 0) {
          await rm(platformDir, { recursive: true, force: true });
        }
      }
    }
  },

  requiredFiles(arch: LayerArch): readonly string[] {
    const bindingDir = `${ONNXRUNTIME_PACKAGE}/bin/napi-v6/linux/${arch}`;
    return [`${bindingDir}/onnxruntime_binding.node`, `${bindingDir}/libonnxruntime.so*`];
  },

  proofSource: `
    const ort = require('onnxruntime-node');
    const session = await ort.InferenceSession.create(Buffer.from(${JSON.stringify(PROOF_MODEL_BASE64)}, 'base64'));
    const a = new ort.Tensor('float32', Float32Array.from(${JSON.stringify(PROOF_INPUT_A)}), [3]);
    const b = new ort.Tensor('float32', Float32Array.from(${JSON.stringify(PROOF_INPUT_B)}), [3]);
    const result = await session.run({ a, b });
    await session.release();
    return Array.from(result.c.data);
  `,

  checkProof(result: unknown): string {
    if (JSON.stringify(result) !== JSON.stringify(PROOF_EXPECTED)) {
      throw new Error(`Proof mismatch: Add model output ${JSON.stringify(result)}, expected ${JSON.stringify(PROOF_EXPECTED)}`);
    }
    return `Add(${JSON.stringify(PROOF_INPUT_A)}, ${JSON.stringify(PROOF_INPUT_B)}) = ${JSON.stringify(result)}`;
  },
};

/**
 * Builds the onnxruntime-node layer for one architecture, proves it runs a model (when the host can
 * load the target binaries), measures it and zips it.
 *
 * @param options - Target architecture, output directory (default `layers/onnxruntime/dist/<arch>`) and unzipped size budget.
 * @throws If npm install fails, the linux binding is missing, the proof fails, or the layer is over budget.
 */
export function buildOnnxRuntimeLayer(options: LayerBuildOptions = {}): Promise<LayerBuildReport> {
  return buildLayer(onnxRuntimeLayer, options);
}
