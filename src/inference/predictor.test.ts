import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ArtifactStore, sha256Hex } from '../aws/artifact-store.js';
import { InvalidRequestError, PlatformError } from '../errors.js';
import type { ModelVersion } from '../registry/types.js';
import { attr, DataType, encode, floatTensor, model as onnxModel, node, valueInfo } from '../ml/onnx/writer.js';
import type { ServedModel } from './backend.js';
import { ModelLoader } from './model-loader.js';
import { OnnxBackend } from './onnx-backend.js';
import { servingSessionOptions } from './onnx-session.js';
import { predict } from './v1-protocol.js';
import { infer, parseInferRequest } from './v2-protocol.js';

const s3Client = new S3Client({ region: 'us-east-1' });
const s3 = mockClient(s3Client);
beforeEach(() => s3.reset());

/** Loads model bytes through the real loader and the ONNX backend (artifact fetched from a mocked S3). */
async function served(bytes: Uint8Array, name = 'm'): Promise<ServedModel> {
  s3.on(GetObjectCommand).resolves({ Body: { transformToByteArray: async () => bytes } as never });
  const loader = new ModelLoader(new ArtifactStore(s3Client), await mkdtemp(join(tmpdir(), 'predictor-')), servingSessionOptions(1769));
  const sha256 = sha256Hex(bytes);
  return new OnnxBackend(loader).open({ model: name, version: 1, artifact: { uri: 's3://lake/m.onnx', bucket: 'lake', key: 'm.onnx', sha256, sizeBytes: bytes.length } } as ModelVersion);
}

/** `y = x` with NaN replaced by 0, declaring (or not) that `x` handles missing values. */
function imputingModel(metadata: Record<string, string>): Uint8Array {
  return encode(
    onnxModel({
      graphName: 'impute',
      nodes: [node('IsNaN', ['x'], ['missing'], 'isnan'), node('Where', ['missing', 'zero', 'x'], ['y'], 'where')],
      initializers: [floatTensor('zero', [1], [0])],
      inputs: [valueInfo('x', DataType.FLOAT, ['batch', 1])],
      outputs: [valueInfo('y', DataType.FLOAT, ['batch', 1])],
      metadata,
    }),
  );
}

/** Concatenates `a` and `b` side by side; their batch dimensions have different names, so only the operator can tell they disagree. */
const concatModel = encode(
  onnxModel({
    graphName: 'concat',
    nodes: [node('Concat', ['a', 'b'], ['y'], 'concat', { axis: attr.int(1) })],
    initializers: [],
    inputs: [valueInfo('a', DataType.FLOAT, ['n', 1]), valueInfo('b', DataType.FLOAT, ['m', 1])],
    outputs: [valueInfo('y', DataType.FLOAT, ['n', 2])],
  }),
);

const IRIS_FEATURES = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
const irisInputs = (values: readonly (number | null)[], shapes: readonly number[][] = values.map(() => [1, 1])) =>
  IRIS_FEATURES.map((name, i) => ({ name, datatype: 'FP32', shape: shapes[i]!, data: shapes[i]![0] === 1 ? [values[i]] : Array(shapes[i]![0]).fill(values[i]) }));

async function refusal(run: () => Promise<unknown>): Promise<PlatformError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof PlatformError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('KServe v1 errors', () => {
  it('names a ragged instance and the input in v1 terms, not as v2 data and shape', async () => {
    const mlp = await served(await readFile('models/mlp.onnx'), 'mlp');
    const row = Array.from({ length: 256 }, () => 0.5);
    const error = await refusal(() => predict(mlp, { instances: [row, [1, 2]] }));
    expect(error.kind).toBe('invalid-request');
    expect(error.message).toBe("instance 1 has 2 values; the model's input 'x' takes 256 values per instance");
    const element = await refusal(() => predict(mlp, { instances: [row, row.map((v, i) => (i === 7 ? 'a' : v))] }));
    expect(element.message).toBe("input 'x': instance 1, value 7 is the string 'a'; expected a finite number");
  });
});

describe('missing values', () => {
  it('refuses null features with a 400 naming the input when the model does not declare missing-value handling (v1 and v2)', async () => {
    // Prepare
    const iris = await served(await readFile('models/iris.onnx'), 'iris');
    // Act
    const v1 = await refusal(() => predict(iris, { instances: [{ sepal_length: null, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] }));
    const v2 = await refusal(() => infer(iris, parseInferRequest({ inputs: irisInputs([5.1, null, 1.4, 0.2]) })));
    // Assess
    expect(v1).toBeInstanceOf(InvalidRequestError);
    expect(v1.message).toMatch(/^input 'sepal_length': instance 0 is null, but the model does not declare missing-value handling/);
    expect(v2.kind).toBe('invalid-request');
    expect(v2.message).toMatch(/^input 'sepal_width': element 0 is null/);
  });

  it('passes null on as NaN to inputs the model declares in its missing_values metadata', async () => {
    // Prepare
    const declared = await served(imputingModel({ missing_values: '["x"]' }));
    const undeclared = await served(imputingModel({}));
    const request = parseInferRequest({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 1], data: [[4], [null]] }] });
    // Act
    const response = await infer(declared, request);
    const refused = await refusal(() => infer(undeclared, request));
    // Assess
    expect(response.outputs[0]!.data).toEqual([4, 0]);
    expect(refused.message).toMatch(/^input 'x': element 1 is null/);
  });

  it('serves no version whose missing-value declaration is not a list of input names', async () => {
    const failure = await refusal(() => served(imputingModel({ missing_values: '{"x":true}' })));
    expect(failure.kind).toBe('version-unservable');
    expect(failure.message).toBe("model 'm' version 1 cannot be served: its metadata is invalid");
  });
});

describe('non-finite outputs', () => {
  it('answers NaN and infinities as the strings "NaN", "Infinity" and "-Infinity", never null', async () => {
    // Prepare
    const iris = await served(await readFile('models/iris.onnx'), 'iris');
    const dtypes = await served(await readFile('models/dtypes.onnx'), 'dtypes');
    // Act: FP32 3.4e38 overflows the logits; FP64 1e308 doubled overflows.
    const probabilities = await predict(iris, { instances: [{ sepal_length: 3.4e38, sepal_width: 3.5, petal_length: 1.4, petal_width: 0.2 }] });
    const doubled = await infer(
      dtypes,
      parseInferRequest({
        inputs: [
          { name: 'f64', datatype: 'FP64', shape: [1, 2], data: [1e308, -1e308] },
          { name: 'i32', datatype: 'INT32', shape: [1], data: [1] },
          { name: 'i64', datatype: 'INT64', shape: [1], data: [1] },
          { name: 'flag', datatype: 'BOOL', shape: [1], data: [true] },
          { name: 'text', datatype: 'BYTES', shape: [1], data: ['a'] },
        ],
        outputs: [{ name: 'f64_doubled' }],
      }),
    );
    // Assess
    expect((probabilities.predictions[0] as { probabilities: unknown[] }).probabilities).toEqual(['NaN', 'NaN', 'NaN']);
    expect(doubled.outputs[0]!.data).toEqual(['Infinity', '-Infinity']);
  });
});

describe('what the model refuses', () => {
  it('says that no output was requested for outputs: []', async () => {
    const iris = await served(await readFile('models/iris.onnx'), 'iris');
    const refused = await refusal(() => infer(iris, parseInferRequest({ inputs: irisInputs([5.1, 3.5, 1.4, 0.2]), outputs: [] })));
    expect(refused.kind).toBe('invalid-request');
    expect(refused.message).toBe('no outputs requested; name at least one of label, probabilities, or leave "outputs" out for all');
  });

  it('refuses an output requested twice', async () => {
    const iris = await served(await readFile('models/iris.onnx'), 'iris');
    const refused = await refusal(() => infer(iris, parseInferRequest({ inputs: irisInputs([5.1, 3.5, 1.4, 0.2]), outputs: [{ name: 'label' }, { name: 'label' }] })));
    expect(refused.message).toBe("output 'label' is requested more than once");
  });

  it('names the inputs that disagree on a named dimension of the model before running it', async () => {
    const iris = await served(await readFile('models/iris.onnx'), 'iris');
    const refused = await refusal(() => infer(iris, parseInferRequest({ inputs: irisInputs([5.1, 3.5, 1.4, 0.2], [[2, 1], [1, 1], [1, 1], [1, 1]]) })));
    expect(refused.kind).toBe('invalid-request');
    expect(refused.message).toBe("inputs 'sepal_length' and 'sepal_width' disagree on the model's dimension 'batch': 2 and 1; send the same batch for every input");
  });

  it('explains an operator that fails on the shapes it was given, with a 400 naming the operator and the input shapes', async () => {
    const concat = await served(concatModel);
    const refused = await refusal(() =>
      infer(
        concat,
        parseInferRequest({
          inputs: [
            { name: 'a', datatype: 'FP32', shape: [2, 1], data: [1, 2] },
            { name: 'b', datatype: 'FP32', shape: [1, 1], data: [3] },
          ],
        }),
      ),
    );
    expect(refused.kind).toBe('invalid-request');
    expect(refused.message).toBe(
      "the model cannot run on these inputs: its Concat operator failed: Non concat axis dimensions must match: Axis 0 has mismatched dimensions of 1 and 2 (inputs: 'a' [2, 1], 'b' [1, 1]); " +
        'check that the inputs agree on their dynamic dimensions (e.g. batch size)',
    );
    expect(refused.message).not.toMatch(/concatbase|\.h:\d+|Name:/);
  });

  it('answers an integer division by zero in the model with a 400, the request values being at fault', async () => {
    const div = await served(
      encode(
        onnxModel({
          graphName: 'intdiv',
          nodes: [node('Div', ['a', 'b'], ['c'], 'div')],
          initializers: [],
          inputs: [valueInfo('a', DataType.INT64, ['n']), valueInfo('b', DataType.INT64, ['n'])],
          outputs: [valueInfo('c', DataType.INT64, ['n'])],
        }),
      ),
    );
    const request = (b: number) =>
      parseInferRequest({
        inputs: [
          { name: 'a', datatype: 'INT64', shape: [1], data: [6] },
          { name: 'b', datatype: 'INT64', shape: [1], data: [b] },
        ],
      });
    expect((await infer(div, request(3))).outputs[0]!.data).toEqual([2]);
    const refused = await refusal(() => infer(div, request(0)));
    expect(refused.kind).toBe('invalid-request');
    expect(refused.message).toMatch(/^the model cannot run on these inputs: its Div operator failed: Integer division by zero \(inputs: 'a' \[1\], 'b' \[1\]\)/);
  });

  it('refuses a rank mismatch for a declared scalar input, and takes any rank for an input of unknown rank', async () => {
    const identity = (input: ReturnType<typeof valueInfo>) =>
      served(
        encode(
          onnxModel({
            graphName: 'g',
            nodes: [node('Identity', [input.name!], ['y'], 'id')],
            initializers: [],
            inputs: [input],
            outputs: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
          }),
        ),
      );
    const scalar = await identity(valueInfo('s', DataType.FLOAT, []));
    const anyRank = await identity({ name: 's', type: { tensorType: { elemType: DataType.FLOAT } } });
    const request = (shape: number[], data: number[]) => parseInferRequest({ inputs: [{ name: 's', datatype: 'FP32', shape, data }] });
    const refused = await refusal(() => infer(scalar, request([2], [3, 4])));
    expect(refused.kind).toBe('invalid-request');
    expect(refused.message).toBe("input 's': shape [2] has rank 1; the model expects [] (a scalar)");
    expect((await infer(scalar, request([], [3]))).outputs[0]).toMatchObject({ shape: [], data: [3] });
    expect((await infer(anyRank, request([2, 1], [3, 4]))).outputs[0]).toMatchObject({ shape: [2, 1], data: [3, 4] });
  });

  it('quotes at most a short prefix of an unknown input name', async () => {
    const iris = await served(await readFile('models/iris.onnx'), 'iris');
    const name = 'n'.repeat(5_000_000);
    const refused = await refusal(() => infer(iris, parseInferRequest({ inputs: [{ name, datatype: 'FP32', shape: [1, 1], data: [1] }] })));
    expect(refused.message).toMatch(/^unknown input 'n{64}…' \(5000000 characters\); the model's inputs are sepal_length/);
    expect(refused.message.length).toBeLessThan(200);
  });
});
