#!/usr/bin/env python3
"""Build ``models/resnet_mini_fp16.onnx``: ``resnet_mini.onnx`` taking and answering FP16.

Run from the repository root, after ``build_resnet.py``:

    /usr/bin/python3 models/build_fp16.py

Requirements: Debian's python3-onnx.

The image input ``image`` becomes FLOAT16 and is cast to FLOAT before the unchanged network;
the output ``logits`` is cast back to FLOAT16. The weights stay FP32 (ONNX Runtime's CPU kernels
are FP32), so the model answers what ``resnet_mini.onnx`` answers for the same pixels rounded to
halves, rounded to halves: it is the FP16 interface of a real image model, the case the data
plane's FP16 support (JSON numbers and binary halves) is tested with. The output is reproducible.
"""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

SOURCE = "models/resnet_mini.onnx"
TARGET = "models/resnet_mini_fp16.onnx"


def main() -> None:
    model = onnx.load(SOURCE)
    graph = model.graph
    (image,) = graph.input
    (logits,) = graph.output
    # The network reads `image_fp32`; the graph's input `image` is FP16.
    for node in graph.node:
        node.input[:] = ["image_fp32" if name == image.name else name for name in node.input]
        node.output[:] = ["logits_fp32" if name == logits.name else name for name in node.output]
    graph.node.insert(0, helper.make_node("Cast", [image.name], ["image_fp32"], to=TensorProto.FLOAT, name="image_to_fp32"))
    graph.node.append(helper.make_node("Cast", ["logits_fp32"], [logits.name], to=TensorProto.FLOAT16, name="logits_to_fp16"))
    image.type.tensor_type.elem_type = TensorProto.FLOAT16
    logits.type.tensor_type.elem_type = TensorProto.FLOAT16
    onnx.checker.check_model(model)
    onnx.save(model, TARGET)


if __name__ == "__main__":
    main()
