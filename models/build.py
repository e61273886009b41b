#!/usr/bin/env python3
"""Build the sample ONNX models shipped in ``models/``.

Run from the repository root:

    /usr/bin/python3 models/build.py

Requirements: numpy, scikit-learn and onnx (Debian packages python3-numpy,
python3-sklearn, python3-onnx). skl2onnx is deliberately not used: every graph
is written by hand with ``onnx.helper`` so the exact operators are visible in
this file, and the weights come from models trained with scikit-learn (except
``sensor_cnn``, which is untrained: its weights are fixed random numbers).

The output is reproducible: every random source is seeded and the protobuf
serialisation is deterministic, so running the script twice produces
byte-identical ``.onnx`` files.

Files written (next to this script):

* ``iris.onnx``   - iris species classifier, one named input per feature,
                    standardisation folded into the graph.
* ``mlp.onnx``    - 256 -> 1024 -> 1024 -> 10 MLP (~5 MB), used by benchmarks.
* ``dtypes.onnx`` - trivial graph exercising FP64/INT32/INT64/BOOL/STRING.
* ``sensor_cnn.onnx`` - untrained 1D CNN over a [1, 1024] sensor window; much
                    compute for a small input, used by the serving benchmark.
"""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import onnx
import sklearn
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

# --------------------------------------------------------------------------
# Common settings
# --------------------------------------------------------------------------

MODELS_DIR = os.path.dirname(os.path.abspath(__file__))

PRODUCER_NAME = "serverless-ai-platform models/build.py"
PRODUCER_VERSION = "1"
# Opset 13 / IR version 8 are supported by every onnxruntime release since
# 1.10, including the onnxruntime-node version used by the platform.
OPSET = 13
IR_VERSION = 8

# Shared split settings so reported metrics are reproducible.
TEST_SIZE = 0.3
SPLIT_SEED = 0

# Name of the symbolic (dynamic) batch dimension used on every input/output.
BATCH = "batch"


def make_model(graph: onnx.GraphProto, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
    """Wrap ``graph`` in a ModelProto with the platform's common header fields."""
    model = helper.make_model(
        graph,
        producer_name=PRODUCER_NAME,
        producer_version=PRODUCER_VERSION,
        doc_string=doc,
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = IR_VERSION
    model.model_version = 1
    # Insert in sorted key order so the file never depends on dict ordering.
    for key in sorted(metadata):
        entry = model.metadata_props.add()
        entry.key = key
        entry.value = metadata[key]
    return model


def save(model: onnx.ModelProto, filename: str) -> str:
    """Validate ``model`` (structure + shape inference) and write it to disk."""
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(MODELS_DIR, filename)
    with open(path, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    # Re-check the file as written, as a consumer would load it.
    onnx.checker.check_model(path, full_check=True)
    print(f"  wrote {os.path.relpath(path)} ({os.path.getsize(path):,} bytes)")
    return path


def initializer(name: str, array: np.ndarray) -> onnx.TensorProto:
    """Turn a numpy array into a graph initializer (constant tensor)."""
    return numpy_helper.from_array(np.ascontiguousarray(array), name=name)


def softmax(z: np.ndarray) -> np.ndarray:
    """Numerically stable row-wise softmax (same definition as ONNX Softmax-13)."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# --------------------------------------------------------------------------
# 1. iris.onnx - tabular classifier with named features
# --------------------------------------------------------------------------

IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def build_iris() -> None:
    print("iris.onnx")
    iris = load_iris()
    class_names = [str(c) for c in iris.target_names]  # setosa, versicolor, virginica
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=TEST_SIZE, random_state=SPLIT_SEED
    )

    # Train StandardScaler + multinomial logistic regression on the training split
    # only, so the reported test accuracy is an honest held-out number.
    scaler = StandardScaler().fit(x_train)
    clf = LogisticRegression(multi_class="multinomial", solver="lbfgs", max_iter=1000, random_state=0)
    clf.fit(scaler.transform(x_train), y_train)
    accuracy = float(clf.score(scaler.transform(x_test), y_test))
    print(f"  held-out accuracy: {accuracy:.4f} ({len(y_test)} test rows)")

    # Parameters in the layout the graph uses (all FP32).
    mean = scaler.mean_.astype(np.float32).reshape(1, 4)
    scale = scaler.scale_.astype(np.float32).reshape(1, 4)
    weights = clf.coef_.T.astype(np.float32)  # (4 features, 3 classes)
    bias = clf.intercept_.astype(np.float32).reshape(1, 3)

    # Verify the graph's arithmetic (done here in float32 with numpy) against
    # sklearn's own predict_proba on the test set.
    x32 = x_test.astype(np.float32)
    probs = softmax(((x32 - mean) / scale) @ weights + bias)
    expected = clf.predict_proba(scaler.transform(x_test))
    max_err = float(np.abs(probs - expected).max())
    print(f"  max |graph - sklearn predict_proba| on test set: {max_err:.2e}")
    assert max_err < 1e-5, "iris graph math does not match sklearn"
    assert (probs.argmax(axis=1) == clf.predict(scaler.transform(x_test))).all()

    # Graph: 4 x [batch,1] -> Concat -> (x - mean) / scale -> xW + b -> Softmax / ArgMax
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [BATCH, 1]) for n in IRIS_FEATURES]
    outputs = [
        helper.make_tensor_value_info("label", TensorProto.INT64, [BATCH]),
        helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [BATCH, 3]),
    ]
    nodes = [
        helper.make_node("Concat", IRIS_FEATURES, ["features"], axis=1, name="concat_features"),
        helper.make_node("Sub", ["features", "scaler_mean"], ["centered"], name="scaler_sub_mean"),
        helper.make_node("Div", ["centered", "scaler_scale"], ["standardized"], name="scaler_div_scale"),
        helper.make_node("MatMul", ["standardized", "coef"], ["linear"], name="logreg_matmul"),
        helper.make_node("Add", ["linear", "intercept"], ["logits"], name="logreg_add_bias"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1, name="softmax"),
        helper.make_node("ArgMax", ["logits"], ["label"], axis=1, keepdims=0, name="argmax"),
    ]
    graph = helper.make_graph(
        nodes,
        "iris_logistic_regression",
        inputs,
        outputs,
        initializer=[
            initializer("scaler_mean", mean),
            initializer("scaler_scale", scale),
            initializer("coef", weights),
            initializer("intercept", bias),
        ],
        doc_string="StandardScaler + multinomial LogisticRegression on the four iris features.",
    )
    model = make_model(
        graph,
        doc=(
            "Iris species classifier (scikit-learn StandardScaler + multinomial LogisticRegression). "
            "Inputs are the four measurements in centimetres, one FP32 [batch,1] tensor each; "
            "outputs are the class index `label` (0=setosa, 1=versicolor, 2=virginica) and "
            "the class `probabilities`."
        ),
        metadata={
            "feature_names": json.dumps(IRIS_FEATURES),
            "class_names": json.dumps(class_names),
            "task": "classification",
            "framework": f"scikit-learn {sklearn.__version__}",
            "training_data": "sklearn.datasets.load_iris, 70% train split (train_test_split random_state=0)",
            "test_accuracy": f"{accuracy:.4f}",
        },
    )
    save(model, "iris.onnx")


# --------------------------------------------------------------------------
# 2. mlp.onnx - larger MLP for benchmarks
# --------------------------------------------------------------------------


def build_mlp() -> None:
    print("mlp.onnx")
    x, y = make_classification(
        n_samples=2000, n_features=256, n_informative=64, n_classes=10, random_state=0
    )
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SPLIT_SEED
    )
    # A few epochs are enough: the model exists to have realistic size and
    # shape for benchmarks, not to be accurate.
    clf = MLPClassifier(hidden_layer_sizes=(1024, 1024), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=ConvergenceWarning)
        clf.fit(x_train, y_train)
    accuracy = float(clf.score(x_test, y_test))
    print(f"  held-out accuracy after {clf.n_iter_} epochs: {accuracy:.4f}")

    weights = [w.astype(np.float32) for w in clf.coefs_]  # (256,1024), (1024,1024), (1024,10)
    biases = [b.astype(np.float32) for b in clf.intercepts_]

    # Check the hand-written forward pass against sklearn (softmax of logits).
    h = x_test.astype(np.float32)
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    max_err = float(np.abs(softmax(h) - clf.predict_proba(x_test)).max())
    print(f"  max |graph - sklearn predict_proba| on test set: {max_err:.2e}")
    assert max_err < 1e-4, "mlp graph math does not match sklearn"

    # Graph: x -> Gemm -> Relu -> Gemm -> Relu -> Gemm -> logits
    nodes, inits = [], []
    current = "x"
    for i, (w, b) in enumerate(zip(weights, biases)):
        inits += [initializer(f"fc{i}.weight", w), initializer(f"fc{i}.bias", b)]
        last = i == len(weights) - 1
        out = "logits" if last else f"fc{i}_out"
        nodes.append(helper.make_node("Gemm", [current, f"fc{i}.weight", f"fc{i}.bias"], [out], name=f"fc{i}"))
        if not last:
            nodes.append(helper.make_node("Relu", [out], [f"relu{i}_out"], name=f"relu{i}"))
            out = f"relu{i}_out"
        current = out

    graph = helper.make_graph(
        nodes,
        "mlp_256_1024_1024_10",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [BATCH, 256])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [BATCH, 10])],
        initializer=inits,
        doc_string="Three fully connected layers (256->1024->1024->10) with ReLU.",
    )
    model = make_model(
        graph,
        doc=(
            "Benchmark MLP 256->1024->1024->10 with ReLU, weights from a briefly trained "
            "scikit-learn MLPClassifier on a synthetic make_classification dataset. "
            "Outputs raw (pre-softmax) class logits."
        ),
        metadata={
            "task": "classification",
            "class_names": json.dumps([str(c) for c in clf.classes_]),
            "framework": f"scikit-learn {sklearn.__version__}",
            "training_data": (
                "sklearn.datasets.make_classification(n_samples=2000, n_features=256, "
                "n_informative=64, n_classes=10, random_state=0), 70% train split"
            ),
            "test_accuracy": f"{accuracy:.4f}",
            "purpose": "benchmark",
        },
    )
    save(model, "mlp.onnx")


# --------------------------------------------------------------------------
# 3. dtypes.onnx - one trivial op per tensor element type
# --------------------------------------------------------------------------


def build_dtypes() -> None:
    print("dtypes.onnx")
    inputs = [
        helper.make_tensor_value_info("f64", TensorProto.DOUBLE, [BATCH, 2]),
        helper.make_tensor_value_info("i32", TensorProto.INT32, [BATCH]),
        helper.make_tensor_value_info("i64", TensorProto.INT64, [BATCH]),
        helper.make_tensor_value_info("flag", TensorProto.BOOL, [BATCH]),
        helper.make_tensor_value_info("text", TensorProto.STRING, [BATCH]),
    ]
    outputs = [
        helper.make_tensor_value_info("f64_doubled", TensorProto.DOUBLE, [BATCH, 2]),
        helper.make_tensor_value_info("i32_plus_one", TensorProto.INT32, [BATCH]),
        helper.make_tensor_value_info("i64_negated", TensorProto.INT64, [BATCH]),
        helper.make_tensor_value_info("flag_not", TensorProto.BOOL, [BATCH]),
        helper.make_tensor_value_info("text_echo", TensorProto.STRING, [BATCH]),
        helper.make_tensor_value_info("f32_sum", TensorProto.FLOAT, [BATCH]),
    ]
    nodes = [
        helper.make_node("Mul", ["f64", "two_f64"], ["f64_doubled"], name="double_f64"),
        helper.make_node("Add", ["i32", "one_i32"], ["i32_plus_one"], name="increment_i32"),
        helper.make_node("Neg", ["i64"], ["i64_negated"], name="negate_i64"),
        helper.make_node("Not", ["flag"], ["flag_not"], name="not_flag"),
        helper.make_node("Identity", ["text"], ["text_echo"], name="echo_text"),
        helper.make_node("Cast", ["f64"], ["f64_as_f32"], to=TensorProto.FLOAT, name="cast_f64_to_f32"),
        # ReduceSum-13 takes the axes as a second (INT64) input.
        helper.make_node("ReduceSum", ["f64_as_f32", "axis_1"], ["f32_sum"], keepdims=0, name="sum_f32"),
    ]
    graph = helper.make_graph(
        nodes,
        "dtypes",
        inputs,
        outputs,
        initializer=[
            initializer("two_f64", np.array(2.0, dtype=np.float64)),
            initializer("one_i32", np.array(1, dtype=np.int32)),
            initializer("axis_1", np.array([1], dtype=np.int64)),
        ],
        doc_string="Element-wise identity-like operations, one per tensor type.",
    )
    model = make_model(
        graph,
        doc=(
            "Test model exercising tensor types FP64, INT32, INT64, BOOL, STRING (BYTES) and FP32: "
            "f64_doubled=f64*2, i32_plus_one=i32+1, i64_negated=-i64, flag_not=!flag, "
            "text_echo=text, f32_sum=sum(float32(f64), axis=1)."
        ),
        metadata={"purpose": "test"},
    )
    save(model, "dtypes.onnx")


# --------------------------------------------------------------------------
# 4. sensor_cnn.onnx - compute-heavy 1D CNN for serving benchmarks
# --------------------------------------------------------------------------

# One sensor window: 1 channel x 1024 samples (4 KB as FP32, ~20 KB as a v2 JSON body).
SENSOR_LENGTH = 1024
SENSOR_CHANNELS = 32  # width of every conv layer; sets the compute per call
SENSOR_KERNEL = 9
SENSOR_PAD = SENSOR_KERNEL // 2  # "same" padding: the length stays 1024
SENSOR_HIDDEN_CONVS = 5  # conv layers after the first (1 -> C) one
SENSOR_CLASSES = 4
SENSOR_SEED = 20240601  # numpy.random.default_rng seed for the weights


def conv1d(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """ONNX ``Conv`` on 3D tensors (stride 1, dilation 1, group 1) in numpy.

    x: (batch, in_channels, length), w: (out_channels, in_channels, kernel),
    b: (out_channels,). Returns (batch, out_channels, length + 2 * pad - kernel + 1).
    """
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    # windows[n, c, t, k] = padded[n, c, t + k] (a view, nothing is copied)
    windows = np.lib.stride_tricks.sliding_window_view(padded, w.shape[2], axis=2)
    return np.einsum("nctk,ock->not", windows, w, optimize=True) + b[None, :, None]


def conv1d_by_shifts(x: np.ndarray, w: np.ndarray, b: np.ndarray, pad: int) -> np.ndarray:
    """Independent formulation of ``conv1d``: one matrix product per kernel tap."""
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
    out_len = padded.shape[2] - w.shape[2] + 1
    out = np.zeros((x.shape[0], w.shape[0], out_len)) + b[None, :, None]
    for k in range(w.shape[2]):
        out += np.einsum("oc,nct->not", w[:, :, k], padded[:, :, k : k + out_len])
    return out


def sensor_cnn_forward(signal: np.ndarray, convs: list, fc: tuple) -> np.ndarray:
    """Reference forward pass of the sensor_cnn graph (computed in float64)."""
    h = signal.astype(np.float64)
    for w, b in convs:
        h = np.maximum(conv1d(h, w.astype(np.float64), b.astype(np.float64), SENSOR_PAD), 0)
    pooled = h.mean(axis=2)  # GlobalAveragePool + Flatten -> (batch, channels)
    w, b = fc
    return pooled @ w.astype(np.float64) + b.astype(np.float64)


def sensor_example_signal(batch: int = 1) -> np.ndarray:
    """Deterministic example input: sin(i / 10), i = 0..1023 (same as the model card's request)."""
    row = np.sin(np.arange(SENSOR_LENGTH) / 10.0)
    return np.tile(row, (batch, 1, 1)).astype(np.float32)


def build_sensor_cnn() -> None:
    print("sensor_cnn.onnx")
    # Untrained: He-normal weights (std = sqrt(2 / fan_in)) keep the activation
    # scale roughly constant through the ReLU stack; biases are small and
    # non-zero so the bias inputs are exercised. The model exists to burn a
    # realistic amount of convolution compute per call, not to predict anything.
    rng = np.random.default_rng(SENSOR_SEED)
    convs = []
    in_channels = 1
    for _ in range(1 + SENSOR_HIDDEN_CONVS):
        fan_in = in_channels * SENSOR_KERNEL
        w = rng.standard_normal((SENSOR_CHANNELS, in_channels, SENSOR_KERNEL)) * np.sqrt(2.0 / fan_in)
        b = rng.standard_normal(SENSOR_CHANNELS) * 0.01
        convs.append((w.astype(np.float32), b.astype(np.float32)))
        in_channels = SENSOR_CHANNELS
    fc_w = (rng.standard_normal((SENSOR_CHANNELS, SENSOR_CLASSES)) * np.sqrt(2.0 / SENSOR_CHANNELS)).astype(np.float32)
    fc_b = (rng.standard_normal(SENSOR_CLASSES) * 0.01).astype(np.float32)
    n_params = sum(w.size + b.size for w, b in convs) + fc_w.size + fc_b.size
    macs = sum(w.size for w, _ in convs) * SENSOR_LENGTH + fc_w.size
    print(f"  {n_params:,} parameters, {macs / 1e6:.1f} M multiply-adds per row")

    # Self-check of the numpy convolution: two independent formulations must agree.
    probe = rng.standard_normal((2, SENSOR_CHANNELS, 64))
    w, b = convs[1]
    max_err = float(np.abs(conv1d(probe, w, b, SENSOR_PAD) - conv1d_by_shifts(probe, w, b, SENSOR_PAD)).max())
    print(f"  max |sliding-window conv - per-tap conv|: {max_err:.2e}")
    assert max_err < 1e-9, "numpy conv1d implementations disagree"
    example = sensor_cnn_forward(sensor_example_signal(), convs, (fc_w, fc_b))[0]
    print(f"  reference logits for sin(i/10): {np.array2string(example, precision=5)}")

    # Graph: signal -> 6 x (Conv -> Relu) -> GlobalAveragePool -> Flatten -> Gemm -> logits
    nodes, inits = [], []
    current = "signal"
    for i, (w, b) in enumerate(convs):
        inits += [initializer(f"conv{i}.weight", w), initializer(f"conv{i}.bias", b)]
        nodes.append(
            helper.make_node(
                "Conv",
                [current, f"conv{i}.weight", f"conv{i}.bias"],
                [f"conv{i}_out"],
                kernel_shape=[SENSOR_KERNEL],
                pads=[SENSOR_PAD, SENSOR_PAD],
                strides=[1],
                dilations=[1],
                group=1,
                name=f"conv{i}",
            )
        )
        nodes.append(helper.make_node("Relu", [f"conv{i}_out"], [f"relu{i}_out"], name=f"relu{i}"))
        current = f"relu{i}_out"
    inits += [initializer("fc.weight", fc_w), initializer("fc.bias", fc_b)]
    nodes += [
        helper.make_node("GlobalAveragePool", [current], ["pooled"], name="global_avg_pool"),
        helper.make_node("Flatten", ["pooled"], ["features"], axis=1, name="flatten"),
        helper.make_node("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], name="fc"),
    ]

    c, k, n = SENSOR_CHANNELS, SENSOR_KERNEL, SENSOR_HIDDEN_CONVS
    graph = helper.make_graph(
        nodes,
        f"sensor_cnn_1x{SENSOR_LENGTH}_c{c}_k{k}",
        [helper.make_tensor_value_info("signal", TensorProto.FLOAT, [BATCH, 1, SENSOR_LENGTH])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [BATCH, SENSOR_CLASSES])],
        initializer=inits,
        doc_string=(
            f"Conv1d(1->{c}, k={k}, pad={SENSOR_PAD}) + ReLU, {n} x [Conv1d({c}->{c}, k={k}, pad={SENSOR_PAD}) + ReLU], "
            f"GlobalAveragePool, Flatten, Gemm({c}->{SENSOR_CLASSES})."
        ),
    )
    model = make_model(
        graph,
        doc=(
            f"Benchmark 1D CNN over one sensor window (FP32 [batch,1,{SENSOR_LENGTH}]): "
            f"{1 + n} Conv1d layers of {c} channels (kernel {k}, same padding) with ReLU, "
            f"global average pooling and a {c}->{SENSOR_CLASSES} Gemm. Outputs raw class logits. "
            "Untrained, fixed random weights; for benchmarking only."
        ),
        metadata={
            "task": "classification",
            "class_names": json.dumps([str(i) for i in range(SENSOR_CLASSES)]),
            "framework": f"numpy {np.__version__} (weights only)",
            "training_data": "none: untrained, fixed random weights; for benchmarking only",
            "weights": f"He-normal, numpy.random.default_rng({SENSOR_SEED}); biases N(0, 0.01^2)",
            "purpose": "benchmark",
        },
    )
    save(model, "sensor_cnn.onnx")


def main() -> None:
    # Global seed for anything not covered by the explicit random_state arguments.
    np.random.seed(0)
    build_iris()
    build_mlp()
    build_dtypes()
    build_sensor_cnn()


if __name__ == "__main__":
    main()
