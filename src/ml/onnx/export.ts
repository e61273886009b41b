/**
 * Exports a preprocessor and a trained model as one self-contained ONNX graph
 * that takes the raw features (one `[batch, 1]` input per feature, named like
 * the feature) and returns predictions:
 *
 * - numeric → FLOAT input; IsNaN + Where impute the training mean, Sub/Div standardize;
 * - boolean → BOOL input; Cast to FLOAT;
 * - categorical → STRING input; ai.onnx.ml LabelEncoder maps known categories to
 *   their index and anything else (unseen, "") to K, then OneHot (+ Reshape) or Cast;
 * - Concat in the column order of `transform` (features.ts), then the head:
 *   MatMul + Add (linear), (MatMul, Add, Relu)* (MLP) or ai.onnx.ml
 *   TreeEnsembleRegressor (trees), then the link.
 *
 * Outputs: regression `value` FLOAT `[batch]`; classification `label` STRING
 * `[batch]` (class name of the most probable class) and `probabilities` FLOAT
 * `[batch, classes]`. The metadata declares the inputs whose missing values the graph
 * handles (`missing_values`, see inference/model-metadata.ts). The graph reproduces `predict` of score.ts on
 * `transform`'s matrix; `checkParity` (parity.ts) verifies it in onnxruntime.
 */
import type { onnx as OnnxTypes } from 'onnx-proto';
import { MISSING_VALUES_METADATA_KEY } from './metadata-keys.js';
import { featureNames, featureWidth, type Preprocessor } from '../features.js';
import { scoreColumns, type DenseLayer, type Link, type Task, type TrainedModel, type TreeEnsembleModel } from '../model.js';
import {
  BATCH,
  DataType,
  ML_DOMAIN,
  attr,
  doubleTensor,
  encode,
  floatTensor,
  int64Tensor,
  model as buildModel,
  node,
  stringTensor,
  valueInfo,
} from './writer.js';

/** What to export. */
export interface ExportRequest {
  readonly preprocessor: Preprocessor;
  readonly model: TrainedModel;
  readonly task: Task;
  /** Class names in class-index order (classification); ignored for regression. */
  readonly classNames: readonly string[];
  /** Stored as the model's `metadata_props` (sorted by key). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Name of the ONNX graph. */
  readonly graphName: string;
}

/** Output names of exported graphs. */
export const OUTPUT_NAMES = { label: 'label', probabilities: 'probabilities', value: 'value' } as const;

/** Initializer holding the class names (classification), the lookup table of `label`. */
export const CLASS_NAMES_INITIALIZER = 'post.class_names';

/** Collects nodes and initializers under unique, prefixed internal names. */
class GraphBuilder {
  readonly nodes: OnnxTypes.INodeProto[] = [];
  readonly initializers: OnnxTypes.ITensorProto[] = [];
  /** Names of every internal value (node outputs and initializers). */
  readonly names = new Set<string>();
  /** Declared types of intermediate values. */
  readonly valueInfos: OnnxTypes.IValueInfoProto[] = [];
  private usesMl = false;

  get ml(): boolean {
    return this.usesMl;
  }

  /** @param inputNames - The graph's input names (the features'): internal values never take them. */
  constructor(private readonly inputNames: ReadonlySet<string>) {}

  /** Claims a value name, suffixed with `_` while it is an input's name. Returns the name claimed. */
  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`internal error: ONNX value '${name}' defined twice`);
    let claimed = name;
    while (this.inputNames.has(claimed) || this.names.has(claimed)) claimed += '_';
    this.names.add(claimed);
    return claimed;
  }

  init(tensor: OnnxTypes.ITensorProto): string {
    const name = this.claim(tensor.name!);
    this.initializers.push({ ...tensor, name });
    return name;
  }

  /** Adds a node named `name` with one output, also called `name` unless `output` is given; returns the output's name. */
  op(opType: string, inputs: readonly string[], name: string, attributes: Parameters<typeof node>[4] = {}, output = name, domain = ''): string {
    if (domain === ML_DOMAIN) this.usesMl = true;
    const claimed = this.claim(output);
    this.nodes.push(node(opType, inputs, [claimed], name, attributes, domain));
    return claimed;
  }
}

function checkLayer(layer: DenseLayer, inputs: number, what: string): void {
  if (layer.inputs !== inputs) throw new Error(`${what} expects ${layer.inputs} inputs, got ${inputs}`);
  if (layer.weights.length !== layer.inputs * layer.outputs || layer.bias.length !== layer.outputs) {
    throw new Error(`${what}: weights/bias sizes do not match ${layer.inputs}×${layer.outputs}`);
  }
}

function dense(g: GraphBuilder, input: string, layer: DenseLayer, prefix: string): string {
  const weights = g.init(floatTensor(`${prefix}.weight`, [layer.inputs, layer.outputs], layer.weights));
  const bias = g.init(floatTensor(`${prefix}.bias`, [layer.outputs], layer.bias));
  const product = g.op('MatMul', [input, weights], `${prefix}/matmul`);
  return g.op('Add', [product, bias], `${prefix}/add`);
}

function treeEnsemble(g: GraphBuilder, input: string, model: TreeEnsembleModel, columns: number, targets: number): string {
  if (model.baseScore.length !== targets) throw new Error(`tree ensemble has ${model.baseScore.length} base scores; the link needs ${targets}`);
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const targetTreeIds: number[] = [];
  const targetNodeIds: number[] = [];
  const targetIds: number[] = [];
  const targetWeights: number[] = [];
  model.trees.forEach((tree, t) => {
    const size = tree.feature.length;
    if (size === 0 || tree.threshold.length !== size || tree.left.length !== size || tree.right.length !== size || tree.value.length !== size) {
      throw new Error(`tree ${t}: node arrays are empty or of different lengths`);
    }
    if (!(tree.output >= 0 && tree.output < targets)) throw new Error(`tree ${t}: output ${tree.output} is not a score column (0…${targets - 1})`);
    for (let n = 0; n < size; n++) {
      const feature = tree.feature[n]!;
      treeIds.push(t);
      nodeIds.push(n);
      if (feature < 0) {
        featureIds.push(0);
        modes.push('LEAF');
        values.push(0);
        trueIds.push(0);
        falseIds.push(0);
        targetTreeIds.push(t);
        targetNodeIds.push(n);
        targetIds.push(tree.output);
        targetWeights.push(tree.value[n]!);
      } else {
        const left = tree.left[n]!;
        const right = tree.right[n]!;
        if (feature >= columns) throw new Error(`tree ${t} node ${n}: feature ${feature} is not a matrix column (0…${columns - 1})`);
        if (!(left > 0 && left < size && right > 0 && right < size)) throw new Error(`tree ${t} node ${n}: children ${left}/${right} out of range`);
        featureIds.push(feature);
        modes.push('BRANCH_LEQ');
        values.push(tree.threshold[n]!);
        trueIds.push(left);
        falseIds.push(right);
      }
    }
  });
  // onnxruntime writes 0, not the base value, for a score column no tree adds to
  // (e.g. no trees at all, or a class boosting never split on): give every such
  // column a one-leaf tree adding 0.
  const covered = new Set(targetIds);
  let treeId = model.trees.length;
  for (let target = 0; target < targets; target++) {
    if (covered.has(target)) continue;
    treeIds.push(treeId);
    nodeIds.push(0);
    featureIds.push(0);
    modes.push('LEAF');
    values.push(0);
    trueIds.push(0);
    falseIds.push(0);
    targetTreeIds.push(treeId);
    targetNodeIds.push(0);
    targetIds.push(target);
    targetWeights.push(0);
    treeId++;
  }
  // A DOUBLE input and DOUBLE attributes (TreeEnsembleRegressor-3 `*_as_tensor`):
  // onnxruntime then sums leaf values in double like score.ts, and compares the
  // float32 features (exactly representable in double) with float32 thresholds:
  // the same decisions as in float32.
  const wide = g.op('Cast', [input], 'head/trees/cast', { to: attr.int(DataType.DOUBLE) });
  // onnx's shape inference does not type ai.onnx.ml outputs: declare it.
  g.valueInfos.push(valueInfo('head/scores', DataType.FLOAT, [BATCH, targets]));
  return g.op(
    'TreeEnsembleRegressor',
    [wide],
    'head/trees',
    {
      aggregate_function: attr.string('SUM'),
      post_transform: attr.string('NONE'),
      n_targets: attr.int(targets),
      base_values_as_tensor: attr.tensor(doubleTensor('base_values', [targets], Float32Array.from(model.baseScore))),
      nodes_treeids: attr.ints(treeIds),
      nodes_nodeids: attr.ints(nodeIds),
      nodes_featureids: attr.ints(featureIds),
      nodes_modes: attr.strings(modes),
      nodes_values_as_tensor: attr.tensor(doubleTensor('nodes_values', [values.length], Float32Array.from(values))),
      nodes_truenodeids: attr.ints(trueIds),
      nodes_falsenodeids: attr.ints(falseIds),
      target_treeids: attr.ints(targetTreeIds),
      target_nodeids: attr.ints(targetNodeIds),
      target_ids: attr.ints(targetIds),
      target_weights_as_tensor: attr.tensor(doubleTensor('target_weights', [targetWeights.length], Float32Array.from(targetWeights))),
    },
    'head/scores',
    ML_DOMAIN,
  );
}

function head(g: GraphBuilder, input: string, model: TrainedModel, columns: number, targets: number): string {
  switch (model.kind) {
    case 'linear': {
      checkLayer(model.layer, columns, 'linear layer');
      if (model.layer.outputs !== targets) throw new Error(`linear layer has ${model.layer.outputs} outputs; the link needs ${targets}`);
      return dense(g, input, model.layer, 'head/linear');
    }
    case 'mlp': {
      if (model.layers.length === 0) throw new Error('MLP has no layers');
      let current = input;
      let width = columns;
      model.layers.forEach((layer, i) => {
        checkLayer(layer, width, `MLP layer ${i}`);
        current = dense(g, current, layer, `head/layer${i}`);
        if (i < model.layers.length - 1) current = g.op('Relu', [current], `head/layer${i}/relu`);
        width = layer.outputs;
      });
      if (width !== targets) throw new Error(`MLP has ${width} outputs; the link needs ${targets}`);
      return current;
    }
    case 'trees':
      return treeEnsemble(g, input, model, columns, targets);
  }
}

function checkLink(link: Link, task: Task, classes: number): void {
  if (task === 'regression' && link !== 'identity') throw new Error(`regression needs the identity link, got ${link}`);
  if (task === 'classification') {
    if (link === 'identity') throw new Error('classification needs a sigmoid or softmax link');
    if (link === 'sigmoid' && classes !== 2) throw new Error(`the sigmoid link needs 2 class names, got ${classes}`);
    if (link === 'softmax' && classes < 2) throw new Error(`the softmax link needs at least 2 class names, got ${classes}`);
  }
}

/** Preprocessing subgraph: raw inputs → the `[batch, outputColumns]` FLOAT matrix. */
function preprocess(g: GraphBuilder, pre: Preprocessor): { inputs: OnnxTypes.IValueInfoProto[]; features: string } {
  const inputs: OnnxTypes.IValueInfoProto[] = [];
  const parts: string[] = [];
  pre.features.forEach((feature, i) => {
    const p = `pre/${i}`;
    const x = feature.name;
    switch (feature.kind) {
      case 'numeric': {
        inputs.push(valueInfo(x, DataType.FLOAT, [BATCH, 1], `numeric feature (NaN = missing)`));
        const missing = g.op('IsNaN', [x], `${p}/isnan`);
        const impute = g.init(floatTensor(`${p}.impute`, [1], [feature.impute]));
        let value = g.op('Where', [missing, impute, x], `${p}/impute`);
        if (feature.scaling !== null) {
          const mean = g.init(floatTensor(`${p}.mean`, [1], [feature.scaling.mean]));
          const scale = g.init(floatTensor(`${p}.scale`, [1], [feature.scaling.scale]));
          value = g.op('Sub', [value, mean], `${p}/center`);
          value = g.op('Div', [value, scale], `${p}/scale`);
        }
        parts.push(value);
        break;
      }
      case 'boolean':
        inputs.push(valueInfo(x, DataType.BOOL, [BATCH, 1], 'boolean feature'));
        parts.push(g.op('Cast', [x], `${p}/cast`, { to: attr.int(DataType.FLOAT) }));
        break;
      case 'categorical': {
        inputs.push(valueInfo(x, DataType.STRING, [BATCH, 1], `categorical feature ("" = missing)`));
        const k = feature.categories.length;
        // LabelEncoder needs at least one key: with no known category, map a key to the default too.
        const keys = k === 0 ? [''] : [...feature.categories];
        const codes = g.op(
          'LabelEncoder',
          [x],
          `${p}/encode`,
          {
            keys_strings: attr.strings(keys),
            values_int64s: attr.ints(k === 0 ? [0] : keys.map((_, j) => j)),
            default_int64: attr.int(k),
          },
          `${p}/codes`,
          ML_DOMAIN,
        );
        if (feature.encoding === 'onehot') {
          const depth = g.init(int64Tensor(`${p}.depth`, [1], [k + 1]));
          const onOff = g.init(floatTensor(`${p}.onehot_values`, [2], [0, 1]));
          const shape = g.init(int64Tensor(`${p}.shape`, [2], [-1, k + 1]));
          const hot = g.op('OneHot', [codes, depth, onOff], `${p}/onehot`, { axis: attr.int(-1) });
          parts.push(g.op('Reshape', [hot, shape], `${p}/reshape`));
        } else {
          parts.push(g.op('Cast', [codes], `${p}/cast`, { to: attr.int(DataType.FLOAT) }));
        }
        break;
      }
    }
  });
  const features = g.op('Concat', parts, 'pre/concat', { axis: attr.int(1) }, 'features');
  return { inputs, features };
}

function describe(request: ExportRequest): string {
  const pre = request.preprocessor;
  const kinds = pre.features.map((f) => `${f.name} (${f.kind})`).join(', ');
  const heads = { linear: 'linear model', mlp: 'multilayer perceptron', trees: 'gradient-boosted trees' } as const;
  const outputs =
    request.task === 'classification'
      ? `'label' (class name) and 'probabilities' over [${request.classNames.join(', ')}]`
      : `'value' (regression)`;
  return `${heads[request.model.kind]} on ${pre.outputColumns} preprocessed columns from raw features ${kinds}; outputs ${outputs}.`;
}

/** Builds the ONNX graph of a preprocessor and trained model and returns its protobuf bytes. */
export function exportOnnx(request: ExportRequest): Uint8Array {
  const { preprocessor: pre, model, task } = request;
  const classes = task === 'classification' ? request.classNames.length : 1;
  checkLink(model.link, task, classes);
  if (task === 'classification' && new Set(request.classNames).size !== classes) throw new Error('class names must be unique');
  const columns = pre.features.reduce((total, f) => total + featureWidth(f), 0);
  if (columns !== pre.outputColumns || featureNames(pre).length !== columns) throw new Error('preprocessor is inconsistent: outputColumns');
  const targets = scoreColumns(model.link, classes);

  const taken = pre.features.map((f) => f.name).filter((name) => (Object.values(OUTPUT_NAMES) as string[]).includes(name));
  if (taken.length > 0) throw new Error(`feature names clash with the model's outputs: ${taken.join(', ')}`);
  const g = new GraphBuilder(new Set(pre.features.map((f) => f.name)));
  const { inputs, features } = preprocess(g, pre);
  const scores = head(g, features, model, columns, targets);

  const outputs: OnnxTypes.IValueInfoProto[] = [];
  switch (model.link) {
    case 'identity': {
      const flat = g.init(int64Tensor('post.flat_shape', [1], [-1]));
      g.op('Reshape', [scores, flat], 'post/value', {}, OUTPUT_NAMES.value);
      outputs.push(valueInfo(OUTPUT_NAMES.value, DataType.FLOAT, [BATCH], 'predicted value'));
      break;
    }
    case 'sigmoid': {
      const p = g.op('Sigmoid', [scores], 'post/sigmoid');
      const one = g.init(floatTensor('post.one', [1], [1]));
      const q = g.op('Sub', [one, p], 'post/complement');
      g.op('Concat', [q, p], 'post/probabilities', { axis: attr.int(1) }, OUTPUT_NAMES.probabilities);
      break;
    }
    case 'softmax':
      g.op('Softmax', [scores], 'post/softmax', { axis: attr.int(1) }, OUTPUT_NAMES.probabilities);
      break;
  }
  if (task === 'classification') {
    const names = g.init(stringTensor(CLASS_NAMES_INITIALIZER, [classes], request.classNames));
    const index = g.op('ArgMax', [OUTPUT_NAMES.probabilities], 'post/argmax', { axis: attr.int(1), keepdims: attr.int(0) });
    g.op('Gather', [names, index], 'post/label', { axis: attr.int(0) }, OUTPUT_NAMES.label);
    outputs.push(
      valueInfo(OUTPUT_NAMES.label, DataType.STRING, [BATCH], 'name of the most probable class'),
      valueInfo(OUTPUT_NAMES.probabilities, DataType.FLOAT, [BATCH, classes], `class probabilities, columns in the order of the class names`),
    );
  }


  return encode(
    buildModel({
      graphName: request.graphName,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs,
      outputs,
      valueInfos: g.valueInfos,
      // Numeric and categorical inputs impute missing values (NaN, ""): declare it so serving accepts `null` there.
      metadata: { ...request.metadata, [MISSING_VALUES_METADATA_KEY]: JSON.stringify(pre.features.filter((f) => f.kind !== 'boolean').map((f) => f.name)) },
      docString: describe(request),
      usesMl: g.ml,
    }),
  );
}
